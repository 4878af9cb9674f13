"""`leaflets qa` under hostile input and real faults: a message and an exit code every time, never
a traceback, never unbounded work, never a partial report. Every case runs the real command in a
subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaflets.qa import check_tree

from ..strategies import json_values

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, warnings_as_errors: bool = False) -> subprocess.CompletedProcess[str]:
    """`leaflets qa ARGS` as a user runs it (with `-W error`, as pytest runs the library)."""
    python = [sys.executable, *(["-W", "error"] if warnings_as_errors else [])]
    return subprocess.run([*python, "-m", "leaflets.cli", "qa", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


def refused(done: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert (done.returncode, done.stderr) == (code, f"Error: {message}\n")


# ---- PDFs of any size and page count, written byte by byte ---------------------------------------


def pdf(path: Path, pages: list[tuple[float, float]] | int, *, content: str = "",
        variant: int = 0) -> Path:
    """A valid PDF of blank pages (`pages`: their sizes in points, or a count of US Letter pages),
    each drawing `content`; `variant` changes the bytes and nothing a reader shows."""
    sizes = [(612.0, 792.0)] * pages if isinstance(pages, int) else pages
    stream = content.encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (4 + i) for i in range(len(sizes)))
               + b"] /Count %d >>" % len(sizes),
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents 3 0 R >>" % size
                for size in sizes]
    out = bytearray(b"%%PDF-1.4\n%% variant %d\n" % variant)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def pair(tmp_path: Path, pages: list[tuple[float, float]] | int, content: str = "") -> tuple[Path, Path]:
    """Two PDFs that differ in bytes (so nothing short-cuts the comparison) and in one stripe."""
    return (pdf(tmp_path / "actual.pdf", pages, content=content, variant=1),
            pdf(tmp_path / "expected.pdf", pages))


# ---- bounds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size_in", "dpi"), [((4, 6), 600), ((8.5, 11), 600), ((8.27, 11.69), 600),
                                              ((8.5, 14), 300)])
def test_pharmacy_pages_pass_at_the_highest_dpi(tmp_path: Path, size_in: tuple[float, float],
                                                 dpi: int) -> None:
    """A 4 × 6 in label, US Letter and A4 at 600 dpi, Legal at 300: compared, not refused."""
    actual, expected = pair(tmp_path, [(size_in[0] * 72, size_in[1] * 72)], "0 0 10 10 re f")
    done = run(actual, expected, "--dpi", dpi)
    assert (done.returncode, done.stderr) == (1, "")           # they differ: the stripe
    assert "page 1: " in done.stdout and " pixels changed at x 0, " in done.stdout


@pytest.mark.parametrize(("dpi", "pixels"), [(100, "400,000,000"), (600, "14,400,000,000")])
def test_a_huge_page_is_refused_before_it_is_rasterised(tmp_path: Path, dpi: int, pixels: str) -> None:
    # 200 × 200 in: at 100 dpi 3 GB when it was rasterised; at 600 dpi a MemoryError (or pdfium's
    # "Failed to fill bitmap rectangle" at 200 dpi), a traceback either way.
    actual, expected = pair(tmp_path, [(14400, 14400)])
    refused(run(actual, expected, "--dpi", dpi), 2,
            f"{actual}: page 1 is 200 × 200 in, which at {dpi} dpi is {pixels} pixels, above the "
            "limit of 50,000,000 (raise it with --max-page-pixels)")


def test_the_page_limit_counts_every_page_and_can_be_raised(tmp_path: Path) -> None:
    actual, expected = pair(tmp_path, [(612, 792), (720, 720)])      # page 2: 10 × 10 in
    refused(run(actual, expected, "--max-page-pixels", 999_999), 2,
            f"{actual}: page 2 is 10 × 10 in, which at 100 dpi is 1,000,000 pixels, above the "
            "limit of 999,999 (raise it with --max-page-pixels)")
    done = run(actual, expected, "--max-page-pixels", 1_000_000)
    assert (done.returncode, done.stderr) == (0, "")


def test_twenty_thousand_pages_are_refused_before_any_is_read(tmp_path: Path) -> None:
    actual, expected = pair(tmp_path, 20_000)
    refused(run(actual, expected), 2,
            f"{actual}: 20,000 pages, above the limit of 5,000 (raise it with --max-pages)")
    actual, expected = pair(tmp_path, 4)
    refused(run(actual, expected, "--max-pages", 3), 2,
            f"{actual}: 4 pages, above the limit of 3 (raise it with --max-pages)")
    assert run(actual, expected, "--max-pages", 4).returncode == 0


def test_check_refuses_a_label_too_large_to_decode_its_codes(tmp_path: Path) -> None:
    fill = tmp_path / "tree" / "600123-0"
    fill.mkdir(parents=True)
    pdf(fill / "label.pdf", [(14400, 14400)])
    (fill / "fill.json").write_text('{"label": {"stock": "4x2.5", "fields": []}}')
    refused(run(tmp_path / "tree", "--check"), 2,
            f"{fill / 'label.pdf'}: page 1 is 200 × 200 in, which at 300 dpi is 3,600,000,000 "
            "pixels, above the limit of 50,000,000 (raise it with --max-page-pixels)")


def test_a_page_past_pillows_bomb_size_compares_under_warnings_as_errors(tmp_path: Path) -> None:
    """100 × 100 in at 100 dpi (100 million pixels, above Pillow's decompression-bomb warning at
    89 million), the limit raised: a change down most of the page made a changed band of 98.6
    million pixels, which Image.crop refused with a DecompressionBombWarning, a traceback under
    `-W error` (and a DecompressionBombError at twice the size without it)."""
    actual, expected = pair(tmp_path, [(7200, 7200)], "0 100 144 7100 re f")
    done = run(actual, expected, "--max-page-pixels", 100_000_000, warnings_as_errors=True)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert (done.returncode, done.stderr) == (1, "")
    assert "page 1: 1972400 pixels changed at x 0, y 0 pt from the top (144 × 7100.6 pt)" in done.stdout


# ---- odd trees and records --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fill(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fill folder as `leaflets render` writes it (label.pdf, leaflet.pdf, fill.json)."""
    out = tmp_path_factory.mktemp("rendered")
    subprocess.run([sys.executable, "-m", "leaflets.cli", "render", "examples/fill.yaml", "--out",
                    str(out)], cwd=ROOT, check=True, capture_output=True)
    [folder] = out.iterdir()
    return folder


def _box_pt(value: object) -> Callable[[dict[str, Any]], None]:
    def edit(record: dict[str, Any]) -> None:
        record["label"]["fields"][0]["box_pt"] = value
    return edit


def _write(path: Path, data: bytes | str) -> None:
    path.unlink()
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _loop(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.name)              # a link to itself


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)                          # reading it would wait forever


def _io_error(path: Path) -> None:
    # Root reads any file whatever its mode; /proc/self/mem at offset 0 fails with EIO for anyone.
    path.unlink()
    path.symlink_to("/proc/self/mem")


def _record(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        record = json.loads(path.read_text())
        edit(record)
        path.write_text(json.dumps(record))
    return damage


NOT = "record: not a fill record: "
BOX = "label.fields[0].box_pt: expected 4 finite numbers (x, top, width and height in points), got "
DAMAGE: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "record-folder": ("fill.json", _folder, NOT + "expected a file, found a folder"),
    "record-latin1": ("fill.json", lambda p: _write(p, b'{"label": "caf\xe9"}'),
                      NOT + "expected UTF-8 text, found byte 0xE9; it looks like a Windows (cp1252) "
                      "file: save it as UTF-8 (in a spreadsheet, 'CSV UTF-8')"),
    "record-list": ("fill.json", lambda p: _write(p, "[]"), NOT + "expected an object, got a list of 0"),
    "record-empty": ("fill.json", lambda p: _write(p, ""),
                     NOT + "invalid JSON: Expecting value (column 1)"),
    "record-deep": ("fill.json", lambda p: _write(p, "[" * 100_000 + "]" * 100_000),
                    NOT + "nested deeper than 12 levels"),
    "record-digits": ("fill.json", lambda p: _write(p, '{"label": ' + "9" * 5000 + "}"),
                      NOT + "label: a number of 5000 characters is longer than any count or amount "
                      "(at most 24)"),
    "record-twice": ("fill.json", lambda p: _write(p, '{"label": {"barcode": "1", "barcode": "2"}}'),
                     NOT + "label.barcode: duplicate key: each key may appear once"),
    "record-huge": ("fill.json", lambda p: _write(p, '{"x": "' + "a" * 2_000_000 + '"}'),
                    NOT + "file is larger than 1 MiB, the limit for this kind of input"),
    "record-text-numbers": ("fill.json", _record(_box_pt(["8.0", "6.53", "69.92", "17.5"])),
                            NOT + BOX + "the text '8.0'"),
    "record-short-box": ("fill.json", _record(_box_pt([8.0, 6.53, 69.92])), NOT + BOX + "a list of 3"),
    "record-nan": ("fill.json", _record(_box_pt([8.0, float("nan"), 69.92, 17.5])),
                   NOT + "label.fields[0].box_pt[1]: NaN is not a number"),
    "record-bool": ("fill.json", _record(_box_pt([True, 6.53, 69.92, 17.5])),
                    NOT + BOX + "true or false"),
    "record-fields-text": ("fill.json", _record(lambda r: r["label"].update(fields="patient")),
                           NOT + "label.fields: expected a list, got the text 'patient'"),
    "record-stock-path": ("fill.json", _record(lambda r: r["label"].update(stock="../../etc/passwd")),
                          NOT + "label.stock: expected a label stock's name, got '../../etc/passwd'"),
    "record-patient-number": ("fill.json", _record(lambda r: r["fill"]["patient"].update(name=7)),
                              NOT + "fill.patient.name: expected text, got the number 7"),
    "record-loop": ("fill.json", _loop, NOT + "cannot read: Too many levels of symbolic links"),
    "record-fifo": ("fill.json", _fifo, NOT + "not a regular file (a device, FIFO or socket)"),
    "record-eio": ("fill.json", _io_error, NOT + "cannot read: Input/output error"),
    "label-folder": ("label.pdf", _folder, "unreadable: expected a file, found a folder"),
    "label-empty": ("label.pdf", lambda p: _write(p, b""),
                    "unreadable: not a PDF (it does not start with %PDF-)"),
    "label-loop": ("label.pdf", _loop, "unreadable: cannot read: Too many levels of symbolic links"),
    "leaflet-fifo": ("leaflet.pdf", _fifo, "unreadable: not a regular file (a device, FIFO or socket)"),
}


def test_check_names_every_odd_record_and_document_and_checks_the_rest(fill: Path,
                                                                      tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for case, (name, damage, _) in DAMAGE.items():
        shutil.copytree(fill, tree / case)
        damage(tree / case / name)
    shutil.copytree(fill, tree / "zz-good")
    shutil.copytree(fill, tree / "zz-good-2")
    done = run(tree, "--check")
    assert "Traceback" not in done.stderr, done.stderr
    assert (done.returncode, done.stderr) == (1, "")
    expected = [f"{case}/{name}: {message}" for case, (name, _, message) in sorted(DAMAGE.items())]
    assert done.stdout.splitlines() == [*expected, f"Checks: {len(expected)} problems"]


def test_a_tree_of_only_odd_records_is_still_checked_one_by_one(fill: Path, tmp_path: Path) -> None:
    shutil.copytree(fill, tmp_path / "a")
    _folder(tmp_path / "a" / "label.pdf")
    done = run(tmp_path, "--check")
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "a/label.pdf: unreadable: expected a file, found a folder\nChecks: 1 problem\n", "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_json_anywhere_in_a_record_is_a_problem_or_a_check_never_a_crash(
        fill: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """A hostile value put at any key of a real record: check_tree (what `qa --check` runs) gives
    problems, or none, and never raises."""
    tree = tmp_path_factory.mktemp("hypothesis")
    shutil.copytree(fill, tree / "600123-0")
    record = json.loads((fill / "fill.json").read_text())
    node: Any = record
    path: list[str | int] = []
    while isinstance(node, dict | list) and node and data.draw(st.booleans(), "deeper"):
        key = data.draw(st.sampled_from(list(node.keys()) if isinstance(node, dict)
                                        else list(range(len(node)))), "key")
        path.append(key)
        node = node[key]
    value = data.draw(json_values, "value")
    if path:
        parent: Any = record
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    else:
        record = value
    (tree / "600123-0" / "fill.json").write_text(json.dumps(record), encoding="utf-8",
                                                  errors="surrogatepass")
    problems = check_tree(tree)
    assert all(p.check in ("record", "codes", "size", "bounds", "overlap", "abbreviation")
               for p in problems), problems


def _twin_trees(fill: Path, tmp_path: Path) -> tuple[Path, Path]:
    actual, expected = tmp_path / "actual", tmp_path / "expected"
    for tree in (actual, expected):
        shutil.copytree(fill, tree / "600123-0")
    return actual, expected


def test_comparing_trees_with_loops_fifos_and_a_file_against_a_folder(fill: Path,
                                                                      tmp_path: Path) -> None:
    actual, expected = _twin_trees(fill, tmp_path)
    for tree in (actual, expected):
        (tree / "600123-0" / "cycle").symlink_to("..")          # a link back up: never followed
        (tree / "loop.pdf").symlink_to("loop.pdf")
    os.mkfifo(actual / "queue")
    (expected / "queue").write_text("a file here, a FIFO there")
    (actual / "notes").write_text("a file here")
    (expected / "notes").mkdir()
    (expected / "notes" / "a.txt").write_text("a folder there")
    done = run(actual, expected)
    assert "Traceback" not in done.stderr, done.stderr
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout.splitlines() == [
        "600123-0/cycle: unreadable",
        "  actual: expected a file, found a folder",
        "loop.pdf: unreadable",
        "  actual: cannot read: Too many levels of symbolic links",
        "notes: added",
        "notes/a.txt: missing",
        "queue: unreadable",
        "  actual: not a regular file (a device, FIFO or socket)",
        "QA: 8 documents: 1 added, 3 identical, 1 missing, 3 unreadable",
    ]


def test_a_file_that_vanishes_mid_run_is_that_documents_problem(fill: Path, tmp_path: Path) -> None:
    """The run is watched through its report: once the first document's overlay is written, a
    file further on is deleted while the second (a Letter page at 600 dpi) is being compared."""
    actual, expected = tmp_path / "actual", tmp_path / "expected"
    for tree, variant in ((actual, 1), (expected, 0)):
        (tree / "a").mkdir(parents=True)
        (tree / "b").mkdir()
        (tree / "c").mkdir()
        pdf(tree / "a" / "small.pdf", [(72, 72)], content="0 0 10 10 re f" * variant, variant=variant)
        pdf(tree / "b" / "large.pdf", [(612, 792)], content="0 0 10 10 re f" * variant,
            variant=variant)
        (tree / "c" / "notes.txt").write_text("the same notes")
    report = tmp_path / "report"
    with subprocess.Popen([sys.executable, "-m", "leaflets.cli", "qa", str(actual), str(expected),
                           "--dpi", "600", "--report", str(report)], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        while not (report / "d00001.p1.png").exists() and process.poll() is None:
            time.sleep(0.01)
        (expected / "c" / "notes.txt").unlink()
        stdout, stderr = process.communicate(timeout=300)
    assert "Traceback" not in stderr, stderr
    assert (process.returncode, stderr) == (1, "")
    assert "c/notes.txt: unreadable\n  expected: file not found\n" in stdout
    assert stdout.endswith("QA: 3 documents: 1 unreadable, 2 visual\n")


def _deep(tree: Path, depth: int, data: bytes | None) -> None:
    """d/d/.../d/end.txt `depth` folders down, holding `data` (None: remove them all). Made and
    removed one folder at a time: os.makedirs and shutil.rmtree recurse past Python's limit."""
    fds = [os.open(tree, os.O_RDONLY)]
    try:
        for _ in range(depth):
            if data is not None:
                os.mkdir("d", dir_fd=fds[-1])
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        if data is not None:
            with open("end.txt", "wb", opener=lambda name, flags: os.open(name, flags, 0o644,
                                                                          dir_fd=fds[-1])) as f:
                f.write(data)
            return
        os.unlink("end.txt", dir_fd=fds[-1])
        for parent in reversed(fds[:-1]):
            os.rmdir("d", dir_fd=parent)
    finally:
        for fd in fds:
            os.close(fd)


@pytest.fixture
def deep_trees(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for tree in (tmp_path / "actual", tmp_path / "expected"):
        if (tree / "d").exists():
            _deep(tree, 1200, None)


def test_very_many_files_a_deep_tree_and_names_that_are_not_utf8(fill: Path, deep_trees: Path) -> None:
    actual, expected = _twin_trees(fill, deep_trees)
    for tree in (actual, expected):
        for n in range(10_000):
            folder = tree / "many" / f"{n // 100:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{n:05d}.txt").write_text("same")
        _deep(tree, 1200, tree.name.encode())                 # deeper than Python's recursion limit
        raw = os.fsencode(tree) + b"/caf\xe9-" + tree.name.encode() + b".txt"   # Latin-1, not UTF-8
        with open(raw, "wb") as file:
            file.write(b"one side")
        with open(os.fsencode(tree) + b"/caf\xe9.txt", "wb") as file:
            file.write(tree.name.encode())
    done = run(actual, expected, "--json")
    assert "Traceback" not in done.stderr, done.stderr
    assert (done.returncode, done.stderr) == (1, "")
    result = json.loads(done.stdout)
    status = {d["path"]: d["status"] for d in result["documents"] if d["status"] != "identical"}
    assert status == {"d/" * 1200 + "end.txt": "content", "caf\\xe9.txt": "content",
                      "caf\\xe9-actual.txt": "added", "caf\\xe9-expected.txt": "missing"}
    assert result["counts"]["identical"] == 10_003
    # and a fill folder whose name is not UTF-8 is checked under a printable name
    os.rename(os.fsencode(actual / "600123-0"), os.fsencode(actual) + b"/600\xff")
    done = run(actual, "--check")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Checks: 0 problems\n", "")
    (actual / "x").mkdir()
    os.rename(os.fsencode(actual) + b"/600\xff", os.fsencode(actual) + b"/x/600\xff")
    with open(os.fsencode(actual) + b"/x/600\xff/fill.json", "w") as file:
        file.write("[]")
    done = run(actual, "--check")
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "x/600\\xff/fill.json: record: not a fill record: expected an object, got a list of 0\n"
           "Checks: 1 problem\n", "")


# ---- the report on a full disk and in an unwritable folder ------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs of the test's own, unmounted afterwards (root only: CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("a full disk is a tmpfs the test mounts, which needs root (CI runs as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def _everything(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))     # hidden files too


@pytest.mark.parametrize(("pages", "fails_at"), [
    (30, r"d00001\.p\d+(\.expected|\.actual)?\.png"),     # the overlays fill the disk
    (2, r"report\.html"),                                 # they fit; the page embedding them does not
])
def test_a_full_disk_leaves_no_partial_report(tmp_path: Path, small_disk: Path, pages: int,
                                               fails_at: str) -> None:
    actual, expected = pair(tmp_path, pages, "0 0 300 300 re f")
    report = small_disk / "report"
    done = run(actual, expected, "--report", report)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    assert re.fullmatch(f"Error: {re.escape(str(report))}/{fails_at}: cannot write: No space left "
                        "on device\n", done.stderr), done.stderr
    assert _everything(small_disk) == []             # not even the report folder this run made


def test_a_full_disk_keeps_an_earlier_report_folder_and_its_other_files(tmp_path: Path,
                                                                        small_disk: Path) -> None:
    actual, expected = pair(tmp_path, 30, "0 0 300 300 re f")
    (small_disk / "notes.txt").write_text("kept")
    done = run(actual, expected, "--report", small_disk)
    assert (done.returncode, "Traceback" in done.stderr) == (1, False)
    assert done.stderr.endswith(": cannot write: No space left on device\n")
    assert _everything(small_disk) == ["notes.txt"]


def test_an_unwritable_report_folder_is_a_message(tmp_path: Path, small_disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    actual, expected = pair(tmp_path, 1, "0 0 300 300 re f")
    done = run(actual, expected, "--report", small_disk)
    assert (done.returncode, done.stderr) == (
        1, f"Error: {small_disk}/d00001.p1.png: cannot write: Read-only file system\n")
    done = run(actual, expected, "--report", small_disk / "new")
    assert (done.returncode, done.stderr) == (
        1, f"Error: {small_disk / 'new'}: cannot make the report folder: Read-only file system\n")
    assert _everything(small_disk) == []


def test_a_refused_document_mid_tree_leaves_no_overlays_of_the_earlier_ones(tmp_path: Path) -> None:
    for tree, variant in ((tmp_path / "actual", 1), (tmp_path / "expected", 0)):
        tree.mkdir()
        pdf(tree / "a.pdf", 1, content="0 0 300 300 re f" * variant, variant=variant)
        pdf(tree / "b.pdf", [(14400, 14400)], variant=variant)
    report = tmp_path / "report"
    done = run(tmp_path / "actual", tmp_path / "expected", "--report", report)
    assert done.returncode == 2 and done.stderr.startswith(f"Error: {tmp_path / 'actual' / 'b.pdf'}: ")
    assert not report.exists()


def test_single_files_that_cannot_be_read_at_all_are_exit_2(fill: Path, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "queue.pdf")
    (tmp_path / "loop.pdf").symlink_to("loop.pdf")
    good = fill / "label.pdf"
    refused(run(tmp_path / "queue.pdf", good), 2,
            f"{tmp_path / 'queue.pdf'}: not a regular file (a device, FIFO or socket)")
    refused(run(good, tmp_path / "loop.pdf"), 2, f"{tmp_path / 'loop.pdf'}: not found")
    refused(run(tmp_path, good), 2,
            f"{tmp_path}: compare a folder with a folder, or a PDF with a PDF ({good})")


def test_a_page_tree_that_counts_pages_it_does_not_hold_is_damaged(fill: Path, tmp_path: Path) -> None:
    expected = pdf(tmp_path / "expected.pdf", 1)
    actual = tmp_path / "actual.pdf"
    actual.write_bytes(expected.read_bytes().replace(b"/Count 1", b"/Count 5"))
    refused(run(actual, expected), 2,
            f"{actual}: damaged PDF (pdfium cannot read page 2 of the 5 it counts)")
    trees = _twin_trees(fill, tmp_path)
    shutil.copy(actual, trees[0] / "600123-0" / "leaflet.pdf")
    done = run(*trees)
    assert (done.returncode, done.stderr) == (1, "")
    assert "600123-0/leaflet.pdf: unreadable\n  actual: damaged PDF (pdfium cannot read page 2 of " \
           "the 5 it counts)\n" in done.stdout
    assert "600123-0/leaflet.pdf: unreadable: damaged PDF (pdfium cannot read page 2 of the 5 it " \
           "counts)\n" in done.stdout              # and its check says so too
