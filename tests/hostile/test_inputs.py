"""Hostile input, every kind and every field: a located message and exit 2, or a correct
document; never a traceback, never a partial file.

Each fill field, product field and pharmacy field is given each value of a list of the ways real
files go wrong (YAML 1.1 surprises, impossible dates, huge numbers, invisible and right-to-left
characters, markup, aliases, tags, very long text) through the real CLI (click's runner, in
process: an exception that is not a LeafletsError surfaces as one). Whole-file faults (alias
bombs, deep nesting, binary, another encoding, tabs, a folder, /dev/zero) go to every reader.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaflets.cli import main
from leaflets.parse import EXCERPT_CHARS, MAX_FILE_BYTES

from ..conftest import BASE_FILL, ROOT

FILL = yaml.safe_load(BASE_FILL)
PRODUCT = (ROOT / "products" / "anastrozole-1mg.yaml").read_text(encoding="utf-8")
PHARMACY = (ROOT / "pharmacy.yaml").read_text(encoding="utf-8")
MARK = "HOSTILE-VALUE-HERE"

# Values as they are typed into a YAML file (raw YAML text for one value).
HOSTILE_YAML = [
    "1:30", "0x1E", "0o17", "017", "2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31",
    "2026-11", "yes", "no", "on", "~", "''", ".nan", ".inf", "-1", "0", "1.5", "1e400",
    "99999999999999999999999999", "100000000000000000000000000000000000000", "[]", "{}",
    "[1, 2]", "{a: 1}", '"\\u202eevil"', '"a\\u200bb"', '"soft\\u00adhyphen"', '"\\ue000"',
    '"\\U0010FFFD"', '"Jose\\u0301"', '"q\\u0301"', '"\\u05d0\\u05d1"', '"\\u0627\\u0644"',
    '"x{page}y"', '"{{ 7*7 }}"', '"<b>bold</b> & co"', '"%(name)s"', '"\\x07bell"',
    "&anchor value", "!!python/object/apply:os.system [echo hi]", "!!binary aGVsbG8=",
    '"' + "x" * 6000 + '"', '"line one\\nline two"', '"../../etc/passwd"',
]
# The same, as a JSON value.
HOSTILE_JSON = [
    '"1:30"', "1e999", "-1e999", "NaN", "Infinity", "123456789012345678901234567890",
    '"2026-02-30"', "true", "null", "[]", "{}", '"\\ud800"', '"\\u202eevil"', '"\\ud83d\\ude00"',
    '"\\u05d0"', '"x{page}y"', '"' + "y" * 6000 + '"', "0.1", "-0",
]

LOCATED = re.compile(r"^Error: (?P<file>[^:]+):(?P<line>\d+): ")
# A refused value is quoted as an excerpt at most (EXCERPT_CHARS plus a few words around it).
MAX_MESSAGE_CHARS = 600


def leaf_paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field of a document, and every mapping and list as a whole."""
    if prefix:
        yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from leaf_paths(value, (*prefix, i))


def with_value(data: Any, path: tuple[Any, ...], dump: Any, value: str) -> str:
    """The document with the field at `path` replaced by `value`, raw YAML or JSON text."""
    copy = json.loads(json.dumps(data, default=str))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = MARK
    text: str = dump(copy)
    return text.replace(json.dumps(MARK), value).replace(MARK, value)


def _yaml_dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def _json_dump(data: Any) -> str:
    return json.dumps(data, indent=2)


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def assert_refused_or_whole(result: Result, out: Path, file: Path | None, *,
                            located: bool = True) -> None:
    """Exit 2 with every line a located, short message and nothing written; or exit 0 with the
    fill's three documents whole and nothing hidden left behind. Never a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"traceback: {result.exception!r}"
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) if out.exists() else []
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines, "exit 2 without a message"
        for line in lines:
            assert file is None or line.startswith(f"Error: {file}"), line
            if located:
                assert LOCATED.match(line), f"no line number: {line}"
            assert len(line) <= MAX_MESSAGE_CHARS, f"a message echoes too much: {line[:200]}…"
        assert [p for p in written if not p.endswith("/")] == [] or all(
            (out / p).is_dir() for p in written), f"written after a refusal: {written}"
    else:
        files = [p for p in written if (out / p).is_file()]
        assert sorted(Path(p).name for p in files) == ["fill.json", "label.pdf", "leaflet.pdf"], files
        assert not [p for p in written if Path(p).name.startswith(".")], written


# ---- every field of a fill, in YAML and in JSON ------------------------------------------------------

FILL_FIELDS = list(leaf_paths(FILL))


@pytest.mark.parametrize("kind", ["yaml", "json"])
@pytest.mark.parametrize("path", FILL_FIELDS, ids=[".".join(map(str, p)) for p in FILL_FIELDS])
def test_every_fill_field_takes_every_hostile_value(tmp_path: Path, path: tuple[Any, ...],
                                                    kind: str) -> None:
    values, dump = (HOSTILE_YAML, _yaml_dump) if kind == "yaml" else (HOSTILE_JSON, _json_dump)
    for n, value in enumerate(values):
        fill = tmp_path / f"fill{n}.{kind}"
        fill.write_text(with_value(FILL, path, dump, value), encoding="utf-8")
        out = tmp_path / f"out{n}"
        result = cli("render", fill, "--out", out)
        try:
            assert_refused_or_whole(result, out, fill)
        except AssertionError as exc:
            raise AssertionError(f"{'.'.join(map(str, path))} = {value[:60]}: {exc}") from None


# ---- every field of a product and of the pharmacy profile ----------------------------------------


def _catalog_with(tmp_path: Path, text: str) -> Path:
    catalog = tmp_path / "products"
    catalog.mkdir(exist_ok=True)
    (catalog / "anastrozole-1mg.yaml").write_text(text, encoding="utf-8")
    return catalog


PRODUCT_FIELDS = list(leaf_paths(yaml.safe_load(PRODUCT)))
PHARMACY_FIELDS = list(leaf_paths(yaml.safe_load(PHARMACY)))
# Product and pharmacy fields take a shorter list: each value costs a whole render.
SOME_HOSTILE = [*HOSTILE_YAML[::2], '"' + "x" * 6000 + '"', "&anchor value", '"\\u202eevil"',
                '"x{page}y"']


@pytest.mark.parametrize("path", PRODUCT_FIELDS, ids=[".".join(map(str, p)) for p in PRODUCT_FIELDS])
def test_every_product_field_takes_hostile_values(tmp_path: Path, path: tuple[Any, ...]) -> None:
    data = yaml.safe_load(PRODUCT)
    fill = tmp_path / "fill.yaml"
    fill.write_text(BASE_FILL, encoding="utf-8")
    for n, value in enumerate(SOME_HOSTILE):
        catalog = _catalog_with(tmp_path, with_value(data, path, _yaml_dump, value))
        out = tmp_path / f"out{n}"
        result = cli("render", fill, "--catalog", catalog, "--out", out)
        try:
            assert_refused_or_whole(result, out, None, located=False)
            for line in result.stderr.splitlines():      # the product's own file and line
                assert re.match(rf"^Error: ({re.escape(str(catalog))}/anastrozole-1mg\.yaml|"
                                rf"{re.escape(str(fill))}):\d+: ", line), line
        except AssertionError as exc:
            raise AssertionError(f"{'.'.join(map(str, path))} = {value[:60]}: {exc}") from None


@pytest.mark.parametrize("path", PHARMACY_FIELDS, ids=[".".join(map(str, p)) for p in PHARMACY_FIELDS])
def test_every_pharmacy_field_takes_hostile_values(tmp_path: Path, path: tuple[Any, ...]) -> None:
    data = yaml.safe_load(PHARMACY)
    fill = tmp_path / "fill.yaml"
    fill.write_text(BASE_FILL, encoding="utf-8")
    pharmacy = tmp_path / "pharmacy.yaml"
    for n, value in enumerate(SOME_HOSTILE):
        pharmacy.write_text(with_value(data, path, _yaml_dump, value), encoding="utf-8")
        out = tmp_path / f"out{n}"
        result = cli("render", fill, "--pharmacy", pharmacy, "--out", out)
        try:
            assert_refused_or_whole(result, out, None, located=False)
            for line in result.stderr.splitlines():
                assert re.match(rf"^Error: ({re.escape(str(pharmacy))}|{re.escape(str(fill))}|"
                                r"stocks/[a-z0-9.-]+\.yaml):(\d+: )?", line), line
        except AssertionError as exc:
            raise AssertionError(f"{'.'.join(map(str, path))} = {value[:60]}: {exc}") from None


# ---- the text that prints is the text that was entered ---------------------------------------------


def _label_text(out: Path) -> tuple[str, dict[str, Any]]:
    """The label's text layer, read with pypdf (pdfium rewrites ligatures such as 'ﬀ' whatever
    the PDF's ToUnicode map says), and the fill record."""
    record = json.loads(next(out.glob("*/fill.json")).read_text(encoding="utf-8"))
    text = pypdf.PdfReader(next(out.glob("*/label.pdf"))).pages[0].extract_text()
    return " ".join(text.split()), record


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24))
def test_a_name_prints_as_entered_or_is_refused_naming_the_field(tmp_path: Path, name: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    fill = folder / "fill.json"          # JSON holds any string; YAML's escapes are narrower
    fill.write_text(with_value(FILL, ("patient", "name"), _json_dump,
                               json.dumps(name, ensure_ascii=False)), encoding="utf-8")
    result = cli("render", fill, "--out", folder / "out")
    assert_refused_or_whole(result, folder / "out", fill, located=False)
    if result.exit_code == 2:
        assert ": patient.name: " in result.stderr, result.stderr
        return
    printed, record = _label_text(folder / "out")
    entered = " ".join(unicodedata.normalize("NFC", name).split())
    assert record["fill"]["patient"]["name"] == entered         # recorded as printed
    assert entered in printed                                    # printed as entered, in order


@pytest.mark.parametrize(("typed", "why"), [
    ("Jose\u0301 Rivera", None),                        # NFC: é drawn as one character
    ("\u202eJordan", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("Jor\u200bdan", "U+200B ZERO WIDTH SPACE"),
    ("Jor\u00addan", "U+00AD SOFT HYPHEN"),
    ("\u05d3\u05d5\u05d3", "U+05D3 HEBREW LETTER DALET"),
    ("\u0645\u062d\u0645\u062f", "U+0645 ARABIC LETTER MEEM"),
    ("x\u0301", None),                                  # no single character: refused below
])
def test_names_that_would_print_wrong_are_refused_naming_the_character(
        tmp_path: Path, typed: str, why: str | None) -> None:
    fill = tmp_path / "fill.yaml"
    fill.write_text(BASE_FILL.replace('"Jordan A. Rivera"', json.dumps(typed)), encoding="utf-8")
    result = cli("render", fill, "--out", tmp_path / "out")
    if typed.startswith("Jose"):
        assert result.exit_code == 0, result.output
        printed, record = _label_text(tmp_path / "out")
        assert "José Rivera" in printed and record["fill"]["patient"]["name"] == "José Rivera"
        return
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {fill}:5: patient.name: expected text that prints "
                                    "as entered; character ")
    assert (why or "COMBINING ACUTE ACCENT) that has no single-character form with the character "
                   "before it") in result.stderr
    assert typed not in result.stderr and repr(typed)[1:-1] not in result.stderr   # not quoted
    assert not (tmp_path / "out").exists()


# ---- YAML read as it was meant, and whole-file faults in every reader -------------------------------


@pytest.mark.parametrize(("line", "expected"), [
    ("fill_date: 2026-02-30", "{f}:3: fill_date: expected a date YYYY-MM-DD, got '2026-02-30', "
                              "which is not a day of the calendar"),
    ("fill_date: 0000-01-01", "{f}:3: fill_date: expected a date in the years 1900 to 2199, got "
                              "'0000-01-01'"),
    ("fill_date: 9999-12-31", "{f}:3: fill_date: expected a date in the years 1900 to 2199, got "
                              "'9999-12-31'"),
    ("days_supply: 1:30", "{f}:10: days_supply: expected a whole number, got '1:30'"),
    ("days_supply: 0x1E", "{f}:10: days_supply: expected a whole number, got '0x1E'"),
    ("days_supply: 030", "{f}:10: days_supply: expected a whole number, got '030'"),
    ("quantity: 100000", "{f}:9: quantity: expected a quantity of at most 10,000, got 100000"),
    ("quantity: 10000000000000000000000000000", "{f}:9: quantity: a number of 29 characters is "
                                                "longer than any count or amount (at most 24)"),
    ("refills: 100", "{f}:11: refills: expected a number of at most 99, got 100"),
    ("days_supply: 367", "{f}:10: days_supply: expected a number of at most 366, got 367"),
    ("directions: \"2 cap po qd\"", "{f}:14: directions: duplicate key (first at line 7): each key "
                                    "may appear once"),
])
def test_yaml_is_read_as_typed_and_bounded(tmp_path: Path, line: str, expected: str) -> None:
    key = line.split(":")[0]
    text = BASE_FILL + line + "\n" if key == "directions" else re.sub(
        rf"^{key}: .*$", line, BASE_FILL, count=1, flags=re.M)
    fill = tmp_path / "fill.yaml"
    fill.write_text(text, encoding="utf-8")
    result = cli("render", fill, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr == "Error: " + expected.format(f=fill) + "\n"
    assert not (tmp_path / "out").exists()


def _file_faults(tmp_path: Path, suffix: str) -> Iterator[tuple[str, Path, str]]:
    """(case, path, the message after 'Error: <path>') for each way a whole file goes wrong."""
    def file(name: str, data: bytes) -> Path:
        path = tmp_path / f"{name}{suffix}"
        path.write_bytes(data)
        return path

    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(    # 9^10 strings, expanded
        b"%s: &%s [%s]\n" % (bytes([c]), bytes([c]), b", ".join([b"*" + bytes([c - 1])] * 9))
        for c in range(ord("b"), ord("k")))
    yield "alias bomb", file("bomb", bomb), ":1: a: anchors and aliases" if suffix == ".yaml" \
        else ":1: invalid JSON: Expecting value (column 1)"
    deep = b"[" * 100_000 + b"]" * 100_000
    yield "deep nesting", file("deep", deep), ":1: nested deeper than 12 levels" if suffix == ".yaml" \
        else ": nested deeper than 12 levels"
    yield "too large", file("large", b"#" * (MAX_FILE_BYTES + 10)), \
        ": file is larger than 1 MiB, the limit for this kind of input"
    yield "binary", file("binary", bytes(range(256)) * 4), ":2: expected UTF-8 text, found byte 0x80"
    yield "cp1252", file("cp1252", "patient: Zoë\n".encode("cp1252")), \
        ":1: expected UTF-8 text, found byte 0xEB; it looks like a Windows (cp1252) file: save " \
        "it as UTF-8 (in a spreadsheet, 'CSV UTF-8')"
    yield "empty", file("empty", b""), ""
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    yield "a folder", folder, ": expected a file, found a folder"


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_whole_file_faults_in_a_fill_are_located_messages(tmp_path: Path, suffix: str) -> None:
    for case, path, expected in _file_faults(tmp_path, suffix):
        out = tmp_path / "out"
        result = cli("render", path, "--out", out)
        assert result.exit_code == 2, (case, result.output)
        assert result.stderr.startswith(f"Error: {path}{expected}"), (case, result.stderr)
        assert len(result.stderr) < MAX_MESSAGE_CHARS and not out.exists(), case


def test_whole_file_faults_in_a_product_or_the_pharmacy(tmp_path: Path) -> None:
    fill = tmp_path / "fill.yaml"
    fill.write_text(BASE_FILL, encoding="utf-8")
    for case, path, expected in _file_faults(tmp_path, ".yaml"):
        if path.is_dir():
            continue
        catalog = tmp_path / "catalog"
        catalog.mkdir(exist_ok=True)
        shutil.copy(path, catalog / "anastrozole-1mg.yaml")
        product = cli("render", fill, "--catalog", catalog, "--out", tmp_path / "out")
        pharmacy = cli("render", fill, "--pharmacy", path, "--out", tmp_path / "out")
        listing = cli("products", "--catalog", catalog)
        for result, named in ((product, catalog / "anastrozole-1mg.yaml"), (pharmacy, path),
                              (listing, catalog / "anastrozole-1mg.yaml")):
            assert result.exit_code == 2, (case, result.output)
            assert result.stderr.startswith(f"Error: {named}{expected}") or expected == "", \
                (case, result.stderr)
            assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_a_device_or_fifo_is_refused_not_read_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "fill.yaml"
    os.mkfifo(fifo)                       # no writer: reading it would block forever
    for path in ("/dev/zero", fifo):
        result = cli("render", path, "--out", tmp_path / "out")
        assert result.exit_code == 2
        assert result.stderr == f"Error: {path}: not a regular file (a device, FIFO or socket)\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("rx_number: '600123'\n\tfill_number: 0\n", ":2: invalid YAML: tabs are not allowed for "
                                                "indentation; indent with spaces"),
    ("a: b\x00c\n", ":1: invalid YAML: the character U+0000 is not allowed in a YAML file"),
    ("--- {}\n--- {}\n", ":2: expected one document, found a second (a line '---')"),
    ("a: !!python/object/apply:os.system [echo hi]\n", ":1: a: tags such as "
     "tag:yaml.org,2002:python/object/apply:os.system are not accepted: write the plain value"),
    ("{[a]: 1}\n", ":1: a key must be plain text, not a mapping or a list"),
])
def test_yaml_faults_name_the_line_and_the_fix(tmp_path: Path, text: str, expected: str) -> None:
    fill = tmp_path / "fill.yaml"
    fill.write_text(text, encoding="utf-8")
    result = cli("render", fill, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {fill}{expected}\n"


@pytest.mark.parametrize(("given", "expected"), [
    ("day.csv", "a CSV file holds many fills: render it with `leaflets batch {f}`"),
    ("list.yaml", "1: this file holds a list of 2 fills: render it with `leaflets batch {f}`"),
])
def test_render_given_a_day_says_to_use_batch(tmp_path: Path, given: str, expected: str) -> None:
    path = tmp_path / given
    if given.endswith(".csv"):
        shutil.copy(ROOT / "examples" / "day.csv", path)
    else:
        path.write_text(_yaml_dump(json.loads(json.dumps([FILL, FILL], default=str))),
                        encoding="utf-8")
    result = cli("render", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    sep = "" if expected[0].isdigit() else " "
    assert result.stderr == f"Error: {path}:{sep}{expected.format(f=path)}\n".replace(": 1:", ":1:")


# ---- batch inputs: a hostile row fails alone -------------------------------------------------------


def _good_rows() -> list[str]:
    return (ROOT / "examples" / "day.csv").read_text(encoding="utf-8").splitlines()


def test_every_csv_column_takes_hostile_cells_and_each_bad_row_fails_alone(tmp_path: Path) -> None:
    header, good = _good_rows()[0], _good_rows()[1]
    columns = header.split(",")
    cells = ["1:30", "0x1E", "2026-02-30", "yes", "-1", "1e400", "9" * 30, "\u202eevil",
             "a\u200bb", "\u05d0", "x{page}y", "<b>x</b>", "x" * 6000, '"unclosed']
    rows, expected_bad = [header, good], 0
    for column in range(len(columns)):
        for cell in cells:
            parts = next(csv.reader([good]))
            parts[column] = cell
            parts[0] = f"H{len(rows)}"            # every row its own Rx
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow(parts)
            rows.append(buffer.getvalue())
            expected_bad += 1
    source = tmp_path / "hostile.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli("batch", source, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    summary = json.loads(next((tmp_path / "out" / "batches").glob("*/summary.json")).read_text())
    assert summary["fills"] == len(rows) - 1
    assert summary["rows"][0]["status"] == "ok"             # the good row is not cost anything
    for row in summary["rows"]:
        if row["status"] == "failed":
            assert re.match(rf"^{re.escape(str(source))}:\d+: ", row["error"]), row["error"]
            assert len(row["error"]) < MAX_MESSAGE_CHARS, row["error"][:200]
            assert "unexpected error" not in row["error"]
    assert not list((tmp_path / "out").rglob(".*.tmp"))


@pytest.mark.parametrize("kind", [".yaml", ".json", ".jsonl"])
def test_a_hostile_item_of_a_list_or_lines_fails_alone(tmp_path: Path, kind: str) -> None:
    items: list[Any] = [FILL]
    for n, value in enumerate(["\u202eevil", "\u05d0", "x" * 6000, "a\u200bb", 10 ** 30]):
        bad = json.loads(json.dumps(FILL, default=str))
        bad["rx_number"] = f"B{n}"
        bad["patient"]["name"] = value
        items.append(bad)
    source = tmp_path / f"day{kind}"
    if kind == ".yaml":
        text = _yaml_dump(json.loads(json.dumps(items, default=str)))
        text += "- {rx_number: D1, rx_number: D2}\n"                # a duplicate key, one item
    elif kind == ".json":
        text = json.dumps(items, default=str)
    else:
        text = "\n".join(json.dumps(i, default=str) for i in items) + '\n{"a": 1, "a": 2}\n[[[[' \
            + "[" * 50 + "\nnot json\n"
    source.write_text(text, encoding="utf-8")
    result = cli("batch", source, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.exit_code == 1, result.output
    summary = json.loads(next((tmp_path / "out" / "batches").glob("*/summary.json")).read_text())
    assert summary["ok"] == 1 and summary["rows"][0]["status"] == "ok"
    for row in summary["rows"][1:]:
        assert row["status"] == "failed" and row["error"].startswith(f"{source}:"), row
        assert len(row["error"]) < MAX_MESSAGE_CHARS


@pytest.mark.parametrize(("text", "expected"), [
    ("rx_number;fill_number;fill_date\n1;0;2026-11-24\n",
     ":1: the columns are separated by semicolons; expected commas: save or export the file as "
     "CSV (comma-separated)"),
    ("rx_number\tfill_number\tfill_date\n1\t0\t2026-11-24\n",
     ":1: the columns are separated by tabs; expected commas: save or export the file as CSV "
     "(comma-separated)"),
    ("rx_number,patient.name\n1,Zoë\n", None),          # written below in cp1252
])
def test_csv_faults_say_what_to_do(tmp_path: Path, text: str, expected: str | None) -> None:
    source = tmp_path / "day.csv"
    if expected is None:
        source.write_bytes(text.encode("cp1252"))
        expected = (":2: expected UTF-8 text, found byte 0xEB; it looks like a Windows (cp1252) "
                    "file: save it as UTF-8 (in a spreadsheet, 'CSV UTF-8')")
    else:
        source.write_text(text, encoding="utf-8")
    result = cli("batch", source, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {source}{expected}\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["day.csv", "day.jsonl"])
def test_a_batch_input_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    result = cli("batch", fifo, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {fifo}: not a regular file (a device, FIFO or socket)\n"


def test_a_cell_past_the_csv_modules_limit_fails_its_row_alone(tmp_path: Path) -> None:
    header, good = _good_rows()[0], _good_rows()[1]
    cells = next(csv.reader([good]))
    big = list(cells)
    big[header.split(",").index("patient.name")] = "x" * 200_000     # csv's own limit: 131,072
    big[0] = "900001"
    source = tmp_path / "day.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header.split(","), cells, big])
    result = cli("batch", source, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.exit_code == 1
    assert result.stderr == (f"Failed: {source}:3: patient.name: text of 200,000 characters is "
                             "longer than the limit of 5,000\n")


# ---- names resolve inside their folders; a compounding date is a day -------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (["bud", "../pharmacy", "--compounded", "2026-11-20"],
     "Error: products: expected a product name (lower-case letters, digits, '.' and '-', as its "
     "file is named here), got '../pharmacy'"),
    (["sig", "1 cap po qd", "--product", "/etc/passwd"],
     "Error: products: expected a product name (lower-case letters, digits, '.' and '-', as its "
     "file is named here), got '/etc/passwd'"),
    (["render", "examples/fill.yaml", "--stock", "leaflet"],
     "Error: stocks/leaflet.yaml: default_stock: 'leaflet' is a document style, not a label stock "
     "(label stocks: 4x2.5, 4x3, large-print)"),
    (["render", "examples/fill.yaml", "--stock", "../products/anastrozole-1mg"], None),
    (["bud", "anastrozole-1mg", "--compounded", "2026-11"], None),
])
def test_names_stay_in_their_folder_and_a_compounding_date_is_a_day(
        tmp_path: Path, args: list[str], expected: str | None) -> None:
    result = cli(*args, "--out", tmp_path / "out") if args[0] == "render" else cli(*args)
    assert result.exit_code == 2, result.output
    if expected is not None:
        assert result.stderr == expected + "\n"
    elif args[0] == "bud":
        assert "expected a date YYYY-MM-DD, got '2026-11'" in result.stderr
    else:
        assert "expected a label stock name" in result.stderr and "got '../products" in result.stderr
    assert not (tmp_path / "out").exists()


def test_run_from_another_folder_the_project_is_found_or_the_message_says_where_it_looked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "examples")                 # inside the project: found above
    found = cli("bud", "anastrozole-1mg", "--compounded", "2026-11-20", "--component-expiry", "2027-03")
    assert found.exit_code == 0 and found.stdout.startswith("2027-03-31"), found.output
    monkeypatch.chdir(tmp_path)                           # outside any project
    lost = cli("bud", "anastrozole-1mg", "--compounded", "2026-11-20")
    assert lost.exit_code == 2
    assert lost.stderr == (f"Error: products: product catalog folder not found; looked here "
                           f"({tmp_path}) and in the folders above it for a project (a folder with "
                           "pharmacy.yaml and products/): run leaflets in the project folder, or "
                           "give --catalog\n")


def test_a_text_too_long_is_not_quoted_back(tmp_path: Path) -> None:
    fill = tmp_path / "fill.yaml"
    fill.write_text(BASE_FILL.replace("pharmacist: KL", "pharmacist: " + "Z" * 50_000),
                    encoding="utf-8")
    result = cli("render", fill, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {fill}:13: pharmacist: text of 50,000 characters is longer "
                             "than the limit of 5,000\n")


# ---- stocks and document styles (bundled, read through the same boundary) --------------------------

STOCK_FILES = ["4x2.5", "leaflet"]


@pytest.mark.parametrize("name", STOCK_FILES)
def test_every_stock_and_style_field_takes_hostile_values(tmp_path: Path, name: str) -> None:
    from leaflets.errors import InputError
    from leaflets.load import load_document_style, load_stock
    source = ROOT / "stocks" / f"{name}.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    shutil.copy(source, tmp_path / f"{name}.yaml")
    load = load_stock if "regions" in data else load_document_style
    for path in leaf_paths(data):
        for value in SOME_HOSTILE:
            (tmp_path / f"{name}.yaml").write_text(with_value(data, path, _yaml_dump, value),
                                                   encoding="utf-8")
            try:
                load(name, tmp_path)
            except InputError as err:
                for problem in err.problems:
                    assert problem.file == str(tmp_path / f"{name}.yaml"), problem
                    assert problem.line is not None, (path, value[:40], str(problem))
                    assert len(str(problem)) < MAX_MESSAGE_CHARS, str(problem)[:200]


def test_a_bad_file_in_a_folder_of_fills_fails_alone(tmp_path: Path) -> None:
    folder = tmp_path / "day"
    folder.mkdir()
    (folder / "a-good.yaml").write_text(BASE_FILL, encoding="utf-8")
    (folder / "b-alias.yaml").write_text("a: &x 1\nb: *x\n", encoding="utf-8")
    (folder / "c-date.yaml").write_text(BASE_FILL.replace('rx_number: "600123"', 'rx_number: "7"')
                                        .replace("fill_date: 2026-11-24", "fill_date: 2026-02-30"),
                                        encoding="utf-8")
    (folder / "d-cp1252.json").write_bytes('{"patient": "Zoë"}'.encode("cp1252"))
    result = cli("batch", folder, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.exit_code == 1, result.output
    summary = json.loads(next((tmp_path / "out" / "batches").glob("*/summary.json")).read_text())
    assert [r["status"] for r in summary["rows"]] == ["ok", "failed", "failed", "failed"]
    assert [r["error"] for r in summary["rows"][1:]] == [
        f"{folder}/b-alias.yaml:1: a: anchors and aliases (&name, *name) are not accepted: write "
        "the value out in full",
        f"{folder}/c-date.yaml:3: fill_date: expected a date YYYY-MM-DD, got '2026-02-30', which "
        "is not a day of the calendar",
        f"{folder}/d-cp1252.json:1: expected UTF-8 text, found byte 0xEB; it looks like a Windows "
        "(cp1252) file: save it as UTF-8 (in a spreadsheet, 'CSV UTF-8')"]


def test_a_long_unknown_column_is_named_by_its_start(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    source.write_text("rx_number," + "y" * 100 + "\n1,2\n", encoding="utf-8")
    result = cli("batch", source, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {source}:1: {'y' * EXCERPT_CHARS}…: unknown column "
                                    "(expected one of: rx_number, ")
