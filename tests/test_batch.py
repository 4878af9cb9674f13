"""`leaflets batch` end to end: real processes, real files, read back with pypdf.

A batch is checked against what it promises: every good row rendered exactly as `leaflets render`
renders it, every bad row reported with its row and column, the combined sheets in input order
with one font program per face, the same bytes for any worker count, and no half-written file
after a kill, with a rerun that resumes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from pypdf.generic import DictionaryObject, IndirectObject

from leaflets.errors import InputError
from leaflets.load import CSV_COLUMNS, read_batch, validate_row

ROOT = Path(__file__).resolve().parents[1]     # as in conftest.py
DAY = ROOT / "examples" / "day.csv"
LEAFLETS = [sys.executable, "-m", "leaflets.cli"]


def batch(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEAFLETS, "batch", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, check=False, timeout=600)


def day_rows() -> tuple[list[str], list[list[str]]]:
    with DAY.open(encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])
    return path


def big_csv(path: Path, n: int) -> Path:
    """n fills: the example day repeated with fresh Rx numbers."""
    header, rows = day_rows()
    rx = header.index("rx_number")
    out = []
    for i in range(n):
        row = list(rows[i % len(rows)])
        row[rx] = str(800000 + i)
        out.append(row)
    return write_csv(path, header, out)


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def batch_dir(out: Path) -> Path:
    [directory] = (out / "batches").iterdir()
    return directory


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def font_programs(path: Path) -> dict[str, set[int]]:
    """Each embedded face (subset tag stripped) and the object numbers of its font programs."""
    reader = pypdf.PdfReader(path)
    found: dict[str, set[int]] = defaultdict(set)
    seen: set[int] = set()

    def visit(resources: Any) -> None:
        resources = resources.get_object() if resources is not None else None
        if not isinstance(resources, DictionaryObject):
            return
        for ref in (resources.get("/Font") or DictionaryObject()).values():
            font = ref.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            program = descriptor.raw_get("/FontFile2")
            assert isinstance(program, IndirectObject)
            face = str(font["/BaseFont"]).split("+", 1)[1]
            found[face].add(program.idnum)
        for ref in (resources.get("/XObject") or DictionaryObject()).values():
            if isinstance(ref, IndirectObject) and ref.idnum not in seen:
                seen.add(ref.idnum)
                visit(ref.get_object().get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    return found


# ---- the example day ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def day_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("day") / "out"
    return batch(DAY, "--out", out, "--workers", "2"), out


def test_the_example_day_renders_every_fill(day_run: tuple[Any, Path]) -> None:
    done, out = day_run
    _, rows = day_rows()
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert [line.split()[-1] for line in lines[:len(rows)]] == ["rendered"] * len(rows)
    assert lines[len(rows)].startswith(f"Batch {batch_dir(out).name}: {len(rows)} of {len(rows)} fills ok")
    for row in rows:
        assert (out / f"{row[0]}-{row[1]}" / "fill.json").is_file()
    summary = list(csv.DictReader(io.StringIO((batch_dir(out) / "summary.csv").read_text())))
    assert [(s["rx_number"], s["status"]) for s in summary] == [(r[0], "ok") for r in rows]
    assert all(s["bud"] for s in summary)
    data = json.loads((batch_dir(out) / "summary.json").read_text())
    assert (data["fills"], data["ok"], data["failed"]) == (len(rows), len(rows), 0)


def test_labels_sheet_is_every_label_in_input_order(day_run: tuple[Any, Path]) -> None:
    _, out = day_run
    _, rows = day_rows()
    texts = page_texts(batch_dir(out) / "labels.pdf")
    page = 0
    for row in rows:      # each fill's label and its continuation labels (auxiliary warnings)
        single = page_texts(out / f"{row[0]}-{row[1]}" / "label.pdf")
        assert texts[page:page + len(single)] == single     # the fill's own PDF's pages
        assert all(f"Rx {row[0]}" in text for text in single)
        page += len(single)
    assert page == len(texts)


def test_leaflets_sheet_starts_each_leaflet_on_an_odd_page(day_run: tuple[Any, Path]) -> None:
    _, out = day_run
    _, rows = day_rows()
    texts = page_texts(batch_dir(out) / "leaflets.pdf")
    page = 0
    for row in rows:
        own = page_texts(out / f"{row[0]}-{row[1]}" / "leaflet.pdf")
        assert page % 2 == 0, f"Rx {row[0]}'s leaflet starts on page {page + 1}"
        assert texts[page:page + len(own)] == own
        page += len(own)
        if len(own) % 2:
            assert texts[page].strip() == ""     # the blank back of the last sheet
            page += 1
    assert page == len(texts)


@pytest.mark.parametrize("sheet", ["labels.pdf", "leaflets.pdf"])
def test_a_sheet_embeds_one_font_program_per_face(day_run: tuple[Any, Path], sheet: str) -> None:
    _, out = day_run
    programs = font_programs(batch_dir(out) / sheet)
    assert programs, "no embedded fonts found"
    assert {face: len(numbers) for face, numbers in programs.items()} == dict.fromkeys(programs, 1)


def test_any_worker_count_gives_the_same_bytes(day_run: tuple[Any, Path], tmp_path: Path) -> None:
    _, two = day_run
    one = tmp_path / "one"
    done = batch(DAY, "--out", one, "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    first, second = files_under(one), files_under(two)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


# ---- each fill exactly as `leaflets render` writes it ------------------------------------------


def test_a_fill_in_a_batch_is_byte_for_byte_the_single_render(tmp_path: Path) -> None:
    examples = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".json"))
    done = batch("examples", "--out", tmp_path / "batch", "--quiet")
    assert done.returncode == 0, done.stderr
    for example in examples:
        single = subprocess.run([*LEAFLETS, "render", f"examples/{example.name}", "--out",
                                 str(tmp_path / "single")], cwd=ROOT, capture_output=True, check=True)
        key = Path(single.stdout.decode().splitlines()[0]).parent.name
        for name in ("label.pdf", "leaflet.pdf", "fill.json"):
            assert (tmp_path / "batch" / key / name).read_bytes() == \
                (tmp_path / "single" / key / name).read_bytes(), f"{key}/{name}"


def _typed(header: list[str], row: list[str]) -> dict[str, Any]:
    """A CSV row as the nested, typed mapping a YAML or JSON fill file holds."""
    fill: dict[str, Any] = {}
    for column, cell in zip(header, row, strict=True):
        if not cell:
            continue
        node = fill
        *parents, leaf = column.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        kind = CSV_COLUMNS[column]
        node[leaf] = cell.split(";") if kind == "list" else int(cell) if kind == "whole" else cell
    return fill


@pytest.mark.parametrize("form", ["yaml", "json", "jsonl", "folder"])
def test_every_input_form_gives_the_csv_pdfs(day_run: tuple[Any, Path], tmp_path: Path,
                                              form: str) -> None:
    _, csv_out = day_run
    header, rows = day_rows()
    fills = [_typed(header, row) for row in rows[:6]]
    if form == "yaml":
        source = tmp_path / "day.yaml"
        source.write_text(yaml.safe_dump(fills, allow_unicode=True), encoding="utf-8")
    elif form == "json":
        source = tmp_path / "day.json"
        source.write_text(json.dumps(fills, ensure_ascii=False, indent=1), encoding="utf-8")
    elif form == "jsonl":
        source = tmp_path / "day.jsonl"
        source.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in fills),
                          encoding="utf-8")
    else:
        source = tmp_path / "fills"
        source.mkdir()
        for i, fill in enumerate(fills):
            (source / f"{i:03d}.json").write_text(json.dumps(fill), encoding="utf-8")
    done = batch(source, "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 0, done.stderr
    for row in rows[:6]:
        key = f"{row[0]}-{row[1]}"
        for name in ("label.pdf", "leaflet.pdf"):
            assert (tmp_path / "out" / key / name).read_bytes() == (csv_out / key / name).read_bytes()
    record = json.loads((tmp_path / "out" / f"{rows[1][0]}-{rows[1][1]}" / "fill.json").read_text())
    where = record["made_with"]["inputs"]["fill"]
    assert where["file"] == str(source / "001.json" if form == "folder" else source)
    if form == "jsonl":
        assert where["line"] == 2
    elif form == "folder":
        assert "line" not in where


# ---- bad input ---------------------------------------------------------------------------------


def test_bad_rows_are_reported_and_good_rows_still_render(tmp_path: Path) -> None:
    header, rows = day_rows()

    def changed(row: list[str], **cells: str) -> list[str]:
        row = list(row)
        for column, value in cells.items():
            row[header.index(column.replace("__", "."))] = value
        return row

    source = write_csv(tmp_path / "mixed.csv", header, [
        rows[0],                                                          # line 2: good
        changed(rows[1], patient__date_of_birth="14/03/1978"),            # 3: not a date
        changed(rows[2], product="no-such-product"),                      # 4: unknown product
        rows[0],                                                          # 5: duplicate of 2
        changed(rows[3], directions="1 U po qd"),                         # 6: refused sig
        rows[4],                                                          # 7: good
        [*rows[5], "surplus"],                                            # 8: one cell too many
    ])
    done = batch(source, "--out", tmp_path / "out", "--workers", "2")
    assert done.returncode == 1
    f = str(source)
    failed = [line for line in done.stderr.splitlines() if line.startswith("Failed: ")]
    assert failed == [
        f"Failed: {f}:3: patient.date_of_birth: expected a date YYYY-MM-DD, got '14/03/1978'",
        f"Failed: {f}:4: product: unknown product 'no-such-product' (known: anastrozole-1mg, "
        "anastrozole-1mg-ml-oil-suspension, omeprazole-2mg-ml-suspension, testosterone-2pct-cream)",
        f"Failed: {f}:5: rx_number: Rx {rows[0][0]} fill {rows[0][1]} is already in this batch "
        f"at {f}:2",
        f"Failed: {f}:6: directions: 'U' is refused: units are error-prone as 'U' and no product "
        "here is dosed in units",
        f"Failed: {f}:8: more cells than the header has columns",
    ]
    assert "2 of 7 fills ok (2 rendered, 0 already complete), 5 failed" in done.stdout
    for good in (rows[0], rows[4]):
        assert (tmp_path / "out" / f"{good[0]}-{good[1]}" / "fill.json").is_file()
    assert not (tmp_path / "out" / f"{rows[3][0]}-{rows[3][1]}").exists()
    summary = list(csv.DictReader(io.StringIO((batch_dir(tmp_path / "out") / "summary.csv").read_text())))
    assert [s["status"] for s in summary] == ["ok", "failed", "failed", "failed", "failed", "ok", "failed"]
    assert summary[1]["error"].endswith("expected a date YYYY-MM-DD, got '14/03/1978'")
    # The two good fills' labels, each with its continuation label of auxiliary warnings.
    labels = page_texts(batch_dir(tmp_path / "out") / "labels.pdf")
    assert [text.startswith("Warnings 2 of 2") for text in labels] == [False, True, False, True]


def test_an_input_that_cannot_be_read_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    header, rows = day_rows()
    source = write_csv(tmp_path / "bad.csv", [*header[:-1], "colour"], [rows[0]])
    done = batch(source, tmp_path / "missing.csv", "--out", tmp_path / "out")
    assert done.returncode == 2
    columns = ", ".join(CSV_COLUMNS)
    assert done.stderr.splitlines() == [
        f"Error: {source}:1: colour: unknown column (expected one of: {columns})",
        f"Error: {tmp_path / 'missing.csv'}: file not found",
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "expected"), [
    # a list column splits on ';', whole numbers become numbers, an empty cell is a missing value
    ("compounding.component_expirations,refills,indication\n2027-03; 2027-01-31 ,2,\n",
     {"compounding": {"component_expirations": ["2027-03", "2027-01-31"]}, "refills": 2}),
    # a byte-order mark from a spreadsheet is not part of the first column's name
    ("\ufeffrefills\n3\n", {"refills": 3}),
    # a number that is not whole stays text, for validation to report
    ("refills\n2.5\n", {"refills": "2.5"}),
])
def test_csv_cells(tmp_path: Path, text: str, expected: dict[str, Any]) -> None:
    path = tmp_path / "cells.csv"
    path.write_text(text, encoding="utf-8")
    [row] = read_batch([path])
    assert row.data == expected
    assert row.source.first_line == 2


def test_csv_rows_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text('refills,indication\n1,"two\nlines"\n\n2,x\n', encoding="utf-8")
    assert [r.source.first_line for r in read_batch([path])] == [2, 5]


def test_a_yaml_list_item_reports_its_own_lines(tmp_path: Path) -> None:
    header, rows = day_rows()
    fills = [_typed(header, rows[0]), {**_typed(header, rows[1]), "quantity": "lots"}]
    path = tmp_path / "fills.yaml"
    path.write_text(yaml.safe_dump(fills, sort_keys=False), encoding="utf-8")
    second = read_batch([path])[1]
    with pytest.raises(Exception) as caught:
        validate_row(second)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "lots" in text)
    assert str(caught.value) == f"{path}:{line}: quantity: expected a number, got 'lots'"


# ---- crash safety ------------------------------------------------------------------------------


def _start(args: list[str | Path]) -> subprocess.Popen[str]:
    return subprocess.Popen([*LEAFLETS, "batch", *map(str, args)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Wait for the batch to end; if it hangs, kill it (closing its pipes) and fail."""
    try:
        return process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("the batch did not stop")


def _wait_for_lines(process: subprocess.Popen[str], n: int) -> None:
    assert process.stdout is not None
    for count, _ in enumerate(process.stdout, start=1):
        if count >= n:
            return
    _finish(process)
    pytest.fail("the batch ended before it could be interrupted")


def _visible_files_are_whole(out: Path) -> dict[str, tuple[int, int]]:
    """Check every visible file is complete (as `leaflets qa` sees a tree: nothing under a
    hidden name, such as a fill's set still being written); return the complete fills' files'
    identities."""
    complete: dict[str, tuple[int, int]] = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(out).parts):
            continue
        data = path.read_bytes()
        if path.suffix == ".pdf":
            assert data.endswith(b"%%EOF\n"), path
            pypdf.PdfReader(path, strict=True)
        elif path.suffix == ".json":
            json.loads(data)
        if path.name == "fill.json":
            record = json.loads(data)
            for name, expected in record["outputs"].items():
                assert hashlib.sha256((path.parent / name).read_bytes()).hexdigest() == expected["sha256"]
            for name in ("label.pdf", "leaflet.pdf", "fill.json"):
                stat = (path.parent / name).stat()
                complete[f"{path.parent.name}/{name}"] = (stat.st_ino, stat.st_mtime_ns)
    return complete


def test_a_killed_batch_leaves_no_half_file_and_a_rerun_resumes(tmp_path: Path) -> None:
    source = big_csv(tmp_path / "fills.csv", 500)
    out = tmp_path / "out"
    process = _start([source, "--out", out, "--workers", "2"])
    _wait_for_lines(process, 150)
    os.killpg(process.pid, signal.SIGKILL)
    _finish(process)
    complete = _visible_files_are_whole(out)
    done_before = {key.split("/")[0] for key in complete}
    assert 100 <= len(done_before) < 500
    assert not (out / "batches" / "fills.csv").exists()

    again = batch(source, "--out", out, "--workers", "2")
    assert again.returncode == 0, again.stderr
    status = {line.split()[2]: line.split()[3] for line in again.stdout.splitlines()
              if line.startswith("[")}
    skipped = {key for key, what in status.items() if what == "skipped"}
    assert skipped <= done_before
    assert len(skipped) >= len(done_before) - 2    # at most a fill per worker lost its part
    assert set(status.values()) == {"skipped", "rendered"}
    for name, identity in complete.items():        # skipped fills were not written again
        if name.split("/")[0] in skipped:
            stat = (out / name).stat()
            assert (stat.st_ino, stat.st_mtime_ns) == identity, name
    assert list(out.rglob(".*.tmp")) == []
    _visible_files_are_whole(out)

    clean = tmp_path / "clean"
    assert batch(source, "--out", clean, "--workers", "2", "--quiet").returncode == 0
    for sheet in ("labels.pdf", "leaflets.pdf", "summary.json", "summary.csv"):
        assert (batch_dir(out) / sheet).read_bytes() == (batch_dir(clean) / sheet).read_bytes(), sheet


def _two_fills(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    """Two fills rendered by a batch: the input, the output folder, the first fill's part file
    and its Rx number."""
    header, rows = day_rows()
    source = write_csv(tmp_path / "two.csv", header, rows[:2])
    out = tmp_path / "out"
    assert batch(source, "--out", out).returncode == 0
    return source, out, batch_dir(out) / "parts" / f"{rows[0][0]}-{rows[0][1]}.json", rows[0][0]


def test_a_part_from_another_version_of_the_record_is_not_trusted(tmp_path: Path) -> None:
    source, out, part, _ = _two_fills(tmp_path)
    data = json.loads(part.read_bytes())
    part.write_text(json.dumps({**data, "record": "0" * 64}))   # as if from an older record
    again = batch(source, "--out", out)
    assert [line.split()[-1] for line in again.stdout.splitlines()[:2]] == ["rendered", "skipped"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path, workers: str) -> None:
    source = big_csv(tmp_path / "fills.csv", 400)
    out = tmp_path / "out"
    process = _start([source, "--out", out, "--workers", workers])
    _wait_for_lines(process, 60)
    os.killpg(process.pid, signal.SIGINT)           # what the terminal does on Ctrl-C
    _, stderr = _finish(process)
    assert process.returncode == 130
    [message] = stderr.splitlines()
    assert message.startswith("Error: interrupted: ")
    assert message.endswith(" of 400 fills are complete and kept. Run the same command again to "
                            "resume (complete fills are skipped); the combined sheets are written "
                            "when a run finishes.")
    kept = int(message.split()[2])
    assert list(out.rglob(".*.tmp")) == []
    fills = {p.parent.name for p in out.glob("*/fill.json")}
    assert len(fills) == kept
    assert {p.name for p in out.iterdir()} - fills == {"batches"}   # nothing half-made
    _visible_files_are_whole(out)


def test_a_terminal_gets_a_progress_bar_with_rate_and_time_left(tmp_path: Path) -> None:
    import pty
    import select

    main, child = pty.openpty()
    process = subprocess.Popen([*LEAFLETS, "batch", str(DAY), "--out", str(tmp_path / "out")],
                               cwd=ROOT, stdin=child, stdout=child, stderr=child,
                               env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(child)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(main, 65536)
        except OSError:           # the terminal closed: the run ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert process.wait(timeout=60) == 0
    shown = b"".join(chunks).decode(errors="replace")
    assert "34/34" in shown
    assert "fills/s" in shown
    assert "[1/34]" not in shown          # no per-fill log lines on a terminal


def test_a_worker_that_dies_ends_the_batch_with_a_message_not_a_hang(tmp_path: Path) -> None:
    source = big_csv(tmp_path / "fills.csv", 400)
    process = _start([source, "--out", tmp_path / "out", "--workers", "2"])
    _wait_for_lines(process, 40)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    os.kill(int(children[0]), signal.SIGKILL)
    _, stderr = _finish(process)
    assert process.returncode == 1
    assert stderr.splitlines()[-1] == ("Error: a worker process stopped unexpectedly (killed?); "
                                       "fills already done are kept: run the same command again "
                                       "to resume")
    _visible_files_are_whole(tmp_path / "out")     # the killed worker's temporary file is hidden


def test_the_batch_is_named_for_the_input_never_for_a_fill_file(tmp_path: Path) -> None:
    folder = tmp_path / "todays-fills"
    folder.mkdir()
    (folder / "jordan-rivera.yaml").write_text((ROOT / "examples" / "fill.yaml").read_text())
    assert batch(folder, "--out", tmp_path / "out", "--quiet").returncode == 0
    assert batch_dir(tmp_path / "out").name.startswith("todays-fills-")


def test_odd_rows_fail_alone(tmp_path: Path) -> None:
    header, rows = day_rows()
    refills = header.index("refills")
    huge = list(rows[1])
    huge[refills] = "99999999999999999999"
    source = write_csv(tmp_path / "odd.csv", header, [rows[0], huge, [*rows[2], "", " "]])
    done = batch(source, "--out", tmp_path / "out")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"Failed: {source}:3: refills: expected a whole number of at most 100,000, "
        "got 99999999999999999999"]
    fills = [{"not": "a fill"}, {date(2026, 1, 1): "a date as a key"}]
    listed = tmp_path / "odd.yaml"
    listed.write_text(yaml.safe_dump(fills))
    done = batch(listed, "--out", tmp_path / "out2")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.startswith("Failed: ")]) >= 2


def test_a_batch_where_every_fill_fails_leaves_no_older_sheet(tmp_path: Path) -> None:
    header, rows = day_rows()
    source = write_csv(tmp_path / "one.csv", header, rows[:1])
    out = tmp_path / "out"
    assert batch(source, "--out", out).returncode == 0
    assert (batch_dir(out) / "labels.pdf").exists()
    empty = tmp_path / "catalog"
    empty.mkdir()                  # the product has gone from the catalog
    done = batch(source, "--out", out, "--catalog", empty)
    assert done.returncode == 1
    assert not (batch_dir(out) / "labels.pdf").exists()
    assert not (batch_dir(out) / "leaflets.pdf").exists()
    assert "failed" in (batch_dir(out) / "summary.csv").read_text()


def test_an_edited_part_is_not_printed(tmp_path: Path) -> None:
    source, out, part, rx = _two_fills(tmp_path)
    part.write_text(part.read_text().replace(f"Rx {rx}", "Rx 999999"))
    again = batch(source, "--out", out)
    assert [line.split()[-1] for line in again.stdout.splitlines()[:2]] == ["rendered", "skipped"]
    assert "999999" not in "".join(page_texts(batch_dir(out) / "labels.pdf"))


def test_an_input_changed_during_the_run_stops_it(tmp_path: Path) -> None:
    from leaflets.batch import _Index, _items, _PartStore, _validate_all
    from leaflets.pipeline import Session, Settings

    header, rows = day_rows()
    source = write_csv(tmp_path / "two.csv", header, rows[:2])
    session = Session(Settings())
    flag = type("Flag", (), {"is_set": staticmethod(lambda: False)})()
    index: _Index = _validate_all([source], session, tmp_path / "out", flag)
    write_csv(source, header, [rows[0], rows[3]])          # saved again mid-run
    with pytest.raises(InputError) as caught:
        list(_items([source], index, session, tmp_path / "out", _PartStore(tmp_path / "parts")))
    assert str(caught.value) == (f"{source}:3: changed while the batch was running; fills already "
                                 "done are kept, run the batch again")


def test_a_sheet_keeps_each_page_its_own_size(tmp_path: Path) -> None:
    """A day mixes standard and large-print labels, in English and Spanish: labels.pdf prints
    each label at its stock's size, and each is the same bytes as `render` gives it."""
    rows = (ROOT / "examples" / "day.csv").read_text(encoding="utf-8").splitlines()[:3]
    header = rows[0] + ",patient.large_print"
    first = rows[1] + ",true"
    second = rows[2].replace(",en,", ",es,", 1) + ",false"
    source = tmp_path / "mixed.csv"
    source.write_text("\n".join([header, first, second]) + "\n", encoding="utf-8")
    result = batch(source, "--out", tmp_path / "out", "--stock", "4x3", "--quiet")
    assert result.returncode == 0, result.stderr
    [sheet] = (tmp_path / "out" / "batches").glob("*/labels.pdf")
    sizes = [(float(p.mediabox.width), float(p.mediabox.height))
             for p in pypdf.PdfReader(sheet).pages]
    records = sorted((tmp_path / "out").glob("*/fill.json"))
    # stocks/large-print.yaml, stocks/4x3.yaml: each label and its continuation labels
    # (auxiliary warnings) on its stock
    pages = {json.loads(r.read_text())["label"]["stock"]: json.loads(r.read_text())["label"]["pages"]
             for r in records}
    assert pages["large-print"] > 1 and pages["4x3"] > 1
    assert sizes == [(288.0, 432.0)] * pages["large-print"] + [(288.0, 216.0)] * pages["4x3"]
    languages = sorted(json.loads(r.read_text())["language"] for r in records)
    assert languages == ["en", "es"]
