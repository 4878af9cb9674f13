"""Faults made real against a fill's outputs: a full disk, a read-only folder, a file in the way,
two processes on one Rx and fill, signals to a running batch, a render killed mid-write, and a
re-render over another patient's record.

Each run is the real `leaflets` command in a subprocess. A full or read-only disk is a small
tmpfs this test mounts (root only; skipped with the reason otherwise); a tmpfs charges whole
4 KiB pages, so filling it to a page count makes a fill fail at a chosen file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..test_batch import _visible_files_are_whole, big_csv, day_rows, write_csv

ROOT = Path(__file__).resolve().parents[2]
LEAFLETS = [sys.executable, "-m", "leaflets.cli"]
FILL = (ROOT / "examples" / "fill.yaml").read_text(encoding="utf-8")
KEY = "600123-0"
SET = {"label.pdf", "leaflet.pdf", "fill.json"}
PAGE = 4096
FULL = "No space left on device"


# These tests are about the out folder's disk: the ledger (which defaults to beside out/, on the
# same disk) is kept on an ordinary one. The ledger's own failures are tests/test_ledger.py's.
_LEDGER: list[Path] = []


@pytest.fixture(autouse=True, scope="module")
def _ledger_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> None:
    _LEDGER[:] = [tmp_path_factory.mktemp("ledger") / "ledger.sqlite"]


@pytest.fixture(autouse=True)
def _ledger_of_each_test(_ledger_elsewhere: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test a ledger of its own (the module's fixtures share the module's): the ledger
    refuses a second patient under one Rx, which tests here render on purpose."""
    _LEDGER[:] = [tmp_path_factory.mktemp("ledger") / "ledger.sqlite"]


def _with_ledger(args: tuple[str | Path, ...]) -> list[str]:
    extra = ["--ledger", str(_LEDGER[0])] if args and args[0] in ("render", "batch") \
        and "--ledger" not in args else []
    return [*LEAFLETS, *map(str, args), *extra]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_with_ledger(args), cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=600)


def start(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(_with_ledger(args), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def variant(path: Path, *edits: tuple[str, str]) -> Path:
    """examples/fill.yaml with text replaced (each edit must apply)."""
    text = FILL
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def pages(size: int) -> int:
    return -(-size // PAGE) * PAGE


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def hidden(root: Path) -> list[str]:
    """Every hidden file or folder under root: temporaries, locks."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(".*"))


def whole_set(folder: Path) -> dict[str, bytes]:
    """The folder holds exactly one fill's set: its record's hashes are the PDFs'."""
    files = tree(folder)
    assert set(files) == SET, sorted(files)
    record = json.loads(files["fill.json"])
    for name in ("label.pdf", "leaflet.pdf"):
        assert hashlib.sha256(files[name]).hexdigest() == record["outputs"][name]["sha256"], name
    return files


def leave_free(disk: Path, free: int) -> None:
    """Fill the tmpfs with a filler file until `free` bytes (whole pages) are left."""
    stat = os.statvfs(disk)
    now = stat.f_bavail * stat.f_frsize
    assert free % PAGE == 0 and now >= free, (now, free)
    with (disk / "filler").open("ab") as handle:
        handle.write(b"\0" * (now - free))
    stat = os.statvfs(disk)
    assert stat.f_bavail * stat.f_frsize == free


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs of a given size under tmp_path; unmounted at teardown."""
    mounted: list[Path] = []
    if os.geteuid() != 0:
        pytest.skip("a full or read-only disk is a tmpfs the test mounts, which needs root "
                    "(CI runs as root)")

    def mount(size: str) -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                               str(where)], capture_output=True, text=True, check=False)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount_read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)


# ---- render on a full disk -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def refill(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A corrected fill of the example (same patient, product, directions and lot; another
    quantity) and its set as rendered on an ordinary disk."""
    folder = tmp_path_factory.mktemp("refill")
    path = variant(folder / "refill.yaml", ("quantity: 30", "quantity: 60"))
    done = run("render", path, "--out", folder / "out")
    assert done.returncode == 0, done.stderr
    return path, whole_set(folder / "out" / KEY)


# Free pages at the start of the re-render: the set fails while writing that file. "enough" is
# the control: exactly the pages the new set needs, and it publishes.
STAGES = {"label": ("label.pdf",), "leaflet": ("label.pdf", "leaflet.pdf"),
          "record": ("label.pdf", "leaflet.pdf", "fill.json")}


@pytest.mark.parametrize("stage", [*STAGES, "enough"])
@pytest.mark.parametrize("previous", [True, False], ids=["over-a-set", "first"])
def test_render_on_a_full_disk(tmpfs: Callable[[str], Path], refill: tuple[Path, dict[str, bytes]],
                               stage: str, previous: bool) -> None:
    path, new = refill
    disk = tmpfs("1m")
    out = disk / "out"
    before: dict[str, bytes] = {}
    if previous:
        assert run("render", "examples/fill.yaml", "--out", out).returncode == 0
        before = whole_set(out / KEY)
    else:
        out.mkdir()
    if stage == "enough":
        leave_free(disk, sum(pages(len(data)) for data in new.values()))
    else:
        leave_free(disk, sum(pages(len(new[name])) for name in STAGES[stage]) - PAGE)
    done = run("render", path, "--out", out)
    if stage == "enough":
        assert done.returncode == 0, done.stderr
        assert whole_set(out / KEY) == new
    else:
        assert (done.returncode, done.stdout, done.stderr) == (
            1, "", f"Error: {out / KEY}: cannot write: {FULL}\n")
        if previous:
            assert whole_set(out / KEY) == before
        else:
            assert list(out.iterdir()) == []
    assert hidden(out) == []


def test_a_read_only_disk_keeps_the_previous_set(tmpfs: Callable[[str], Path],
                                                 refill: tuple[Path, dict[str, bytes]]) -> None:
    path, _ = refill
    disk = tmpfs("1m")
    out = disk / "out"
    assert run("render", "examples/fill.yaml", "--out", out).returncode == 0
    before = whole_set(out / KEY)
    remount_read_only(disk)
    done = run("render", path, "--out", out)
    assert (done.returncode, done.stderr) == (1, f"Error: {out / KEY}: cannot write: "
                                                 "Read-only file system\n")
    assert whole_set(out / KEY) == before
    assert hidden(out) == []


@pytest.mark.parametrize("command", ["render", "batch", "monographs"])
def test_a_file_where_a_folder_is_expected(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    if command == "render":
        done = run("render", "examples/fill.yaml", "--out", blocker)
        expected = f"Error: {blocker / KEY}: cannot write: Not a directory"
    elif command == "batch":
        done = run("batch", "examples/fill.yaml", "--out", blocker)
        expected = (f"Error: {blocker / KEY}: cannot write: Not a directory; the batch stopped: "
                    "0 of 1 fills are complete and kept. Run the same command again to resume "
                    "when it can write.")
    else:
        done = run("monographs", "--out", blocker)
        expected = f"Error: {blocker / 'anastrozole-1mg.pdf'}: cannot write: Not a directory"
    assert (done.returncode, done.stderr.splitlines()) == (1, [expected])
    assert blocker.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_in_place_of_one_fill_folder_fails_that_fill_alone_in_a_batch(tmp_path: Path) -> None:
    header, rows = day_rows()
    out = tmp_path / "out"
    source = write_csv(tmp_path / "three.csv", header, rows[:3])
    row = dict(zip(header, rows[1], strict=True))
    blocked = f"{row['rx_number']}-{row.get('fill_number') or 0}"
    out.mkdir()
    (out / blocked).write_text("someone's notes")
    done = run("batch", source, "--out", out, "--quiet")
    assert done.returncode == 1, done.stderr
    assert done.stderr == (f"Failed: {out / blocked}: cannot write: Not a directory\n")
    assert (out / blocked).read_text() == "someone's notes"
    summary = json.loads(next((out / "batches").glob("*/summary.json")).read_text())
    assert [r["status"] for r in summary["rows"]] == ["ok", "failed", "ok"]
    assert hidden(out) == []


def test_a_file_in_place_of_the_fill_folder_stays(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / KEY).write_text("someone's notes")
    done = run("render", "examples/fill.yaml", "--out", out)
    assert (done.returncode, done.stderr) == (1, f"Error: {out / KEY}: cannot write: Not a "
                                                 "directory\n")
    assert (out / KEY).read_text() == "someone's notes"
    assert hidden(out) == []


# ---- batch and monographs on a full or read-only disk ----------------------------------------


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """Three fills of the example day, and their batch's whole tree from an ordinary disk."""
    folder = tmp_path_factory.mktemp("three")
    header, rows = day_rows()
    source = write_csv(folder / "three.csv", header, rows[:3])
    done = run("batch", source, "--out", folder / "out", "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    return source, tree(folder / "out")


SHEETS = ("labels.pdf", "leaflets.pdf")
SUMMARIES = ("summary.json", "summary.csv")


@pytest.mark.parametrize("stage", ["fills", "sheets", "summary"])
def test_batch_on_a_full_disk(tmpfs: Callable[[str], Path], three: tuple[Path, dict[str, bytes]],
                              stage: str) -> None:
    """One worker renders and writes every fill before the parent files the sheets, then the
    summaries: free pages just short of each stage make that stage fail. Nothing partial is
    left, and once there is room the same command completes to the very bytes of a run that
    never failed."""
    source, reference = three
    batch_files = {name for name in reference if re.fullmatch(r"batches/[^/]+/[^/]+", name)}
    fills = sum(pages(len(data)) for name, data in reference.items() if name not in batch_files)
    sheets = sum(pages(len(reference[name])) for name in batch_files if name.endswith(SHEETS))
    free = {"fills": 20 * PAGE, "sheets": fills + PAGE, "summary": fills + sheets + PAGE}[stage]
    disk = tmpfs("2m")
    out = disk / "out"
    out.mkdir()
    leave_free(disk, free)
    done = run("batch", source, "--out", out, "--workers", "1", "--quiet")
    [line] = done.stderr.splitlines()
    assert done.returncode == 1
    batch_dir = re.escape(str(out / "batches")) + r"/three-[0-9a-f]{12}"
    if stage == "fills":
        assert re.fullmatch(rf"Error: ({re.escape(str(out))}/\d+-\d+|{batch_dir}/parts/\S+): cannot "
                            rf"write: {FULL}; the batch stopped: [0-2] of 3 fills are complete and "
                            r"kept\. Run the same command again to resume when it can write\.",
                            line), line
    else:
        names = "|".join(map(re.escape, SHEETS if stage == "sheets" else SUMMARIES))
        assert re.fullmatch(rf"Error: {batch_dir}/({names}): cannot write: {FULL}", line), line
    assert hidden(out) == []
    for folder in out.iterdir():
        if folder.name != "batches":
            whole_set(folder)
    assert not [p for p in out.rglob("*") if p.name in SHEETS + SUMMARIES]
    _visible_files_are_whole(out)

    (disk / "filler").unlink()
    again = run("batch", source, "--out", out, "--workers", "1", "--quiet")
    assert again.returncode == 0, again.stderr
    assert tree(out) == reference


def test_batch_on_a_read_only_disk(tmpfs: Callable[[str], Path],
                                   three: tuple[Path, dict[str, bytes]]) -> None:
    source, _ = three
    disk = tmpfs("2m")
    (disk / "out").mkdir()
    remount_read_only(disk)
    done = run("batch", source, "--out", disk / "out", "--quiet")
    [line] = done.stderr.splitlines()
    assert done.returncode == 1
    assert line.startswith(f"Error: {disk / 'out'}/")
    assert ": cannot write: Read-only file system; the batch stopped: 0 of 3 fills" in line
    assert list((disk / "out").iterdir()) == []


@pytest.mark.parametrize("free_pages", [0, 10, 40])
def test_monographs_on_a_full_disk(tmpfs: Callable[[str], Path], free_pages: int) -> None:
    disk = tmpfs("1m")
    out = disk / "monographs"
    leave_free(disk, free_pages * PAGE)
    done = run("monographs", "--out", out)
    [line] = done.stderr.splitlines()
    assert done.returncode == 1
    assert re.fullmatch(rf"Error: {re.escape(str(out))}/[a-z0-9-]+\.pdf: cannot write: {FULL}", line)
    written = sorted(out.iterdir()) if out.exists() else []
    assert [p.name for p in written if p.name.startswith(".")] == []
    for pdf in written:                   # the monographs before the failure are whole
        assert pdf.read_bytes().endswith(b"%%EOF\n"), pdf


def test_monographs_on_a_read_only_disk(tmpfs: Callable[[str], Path]) -> None:
    disk = tmpfs("1m")
    remount_read_only(disk)
    done = run("monographs", "--out", disk / "m")
    assert (done.returncode, done.stderr) == (
        1, f"Error: {disk / 'm' / 'anastrozole-1mg.pdf'}: cannot write: Read-only file system\n")


# ---- two processes, one Rx and fill ------------------------------------------------------------


def test_a_render_waits_for_the_fill_lock(tmp_path: Path) -> None:
    """A process holding the fill's lock holds a render back (the render is seen blocked on it
    in /proc/locks) until it lets go."""
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out / f".{KEY}.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    process = start("render", "examples/fill.yaml", "--out", out)
    try:
        deadline = time.monotonic() + 120
        while not any(f" {process.pid} " in line and "->" in line
                      for line in Path("/proc/locks").read_text().splitlines()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the render never waited for the lock"
            time.sleep(0.05)
        assert not (out / KEY).exists()
    finally:
        os.close(fd)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    whole_set(out / KEY)
    assert hidden(out) == []


def test_two_fills_with_one_rx_rendered_at_once_never_mix(tmp_path: Path) -> None:
    other = variant(tmp_path / "other.yaml", ("Jordan A. Rivera", "Ana Other"),
                    ("quantity: 30", "quantity: 60"))
    out = tmp_path / "out"
    # With --replace both publish, one after the other, each with a ledger of its own (one
    # ledger refuses the second patient: tests/test_correct_reprint.py).
    for round_ in range(4):
        processes = [start("render", fill, "--out", out, "--replace",
                           "--ledger", str(tmp_path / f"ledger-{round_}-{n}.sqlite"))
                     for n, fill in enumerate(("examples/fill.yaml", other))]
        for process in processes:
            _, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, stderr
        whole_set(out / KEY)
        assert hidden(out) == []
    for _ in range(3):          # without it, from nothing: the first publishes, the second is refused
        for child in (out / KEY).iterdir():
            child.unlink()
        (out / KEY).rmdir()
        processes = [start("render", fill, "--out", out) for fill in ("examples/fill.yaml", other)]
        codes = sorted(process.wait(timeout=120) for process in processes)
        for process in processes:
            process.communicate()
        assert codes == [0, 2]
        record = json.loads(whole_set(out / KEY)["fill.json"])
        assert record["fill"]["patient"]["name"] in ("Jordan A. Rivera", "Ana Other")
        assert hidden(out) == []


def test_a_set_parked_by_a_killed_two_step_publish_is_put_back(tmp_path: Path) -> None:
    """Where folders cannot be swapped in one step, the previous set waits under a hidden name
    between two renames. A kill there leaves it parked with no folder beside it, as made here;
    the next run on the fill puts it back before anything else, so its record still protects
    the patient: another patient's fill is refused, and the set is where it was."""
    out = tmp_path / "out"
    assert run("render", "examples/fill.yaml", "--out", out).returncode == 0
    before = whole_set(out / KEY)
    (out / KEY).rename(out / f".{KEY}.old.tmp")
    other = variant(tmp_path / "other.yaml", ("Jordan A. Rivera", "Ana Other"))
    # Under another ledger, so that the out folder's own check is the one that refuses.
    done = run("render", other, "--out", out, "--ledger", str(tmp_path / "another.sqlite"))
    assert done.returncode == 2, done.stderr
    assert "patient.name differs; use --replace" in done.stderr
    assert whole_set(out / KEY) == before
    assert hidden(out) == []


# ---- another patient's record --------------------------------------------------------------------


REFUSALS = {
    "patient.name": [("Jordan A. Rivera", "Jordan B. Rivera")],
    "patient.date_of_birth": [("1978-03-14", "1978-03-15")],
    "directions": [('"1 cap po qd"', '"2 cap po qd"')],
    "compounding.lot": [("GC-2611-0042", "GC-2611-0043")],
    "product, directions": [("anastrozole-1mg", "anastrozole-1mg-ml-oil-suspension"),
                            ('"1 cap po qd"', '"1 mL po qd"')],
}


@pytest.mark.parametrize("fields", REFUSALS)
def test_another_patients_record_needs_replace(tmp_path: Path, fields: str) -> None:
    out = tmp_path / "out"
    assert run("render", "examples/fill.yaml", "--out", out).returncode == 0
    before = whole_set(out / KEY)
    other = variant(tmp_path / "other.yaml", *REFUSALS[fields])
    # The out folder's own check, behind the ledger's (tests/test_correct_reprint.py): an out/
    # made under another ledger, which does not know this Rx.
    elsewhere = ("--ledger", str(tmp_path / "another-ledger.sqlite"))
    done = run("render", other, "--out", out, *elsewhere)
    verb = "differs" if "," not in fields else "differ"
    assert (done.returncode, done.stdout, done.stderr) == (2, "", (
        f"Error: {out / KEY}: Rx 600123 fill 0 is already rendered for another patient, "
        f"product, directions or lot: {fields} {verb}; use --replace to replace it\n"))
    assert "Rivera" not in done.stderr and "1978" not in done.stderr
    assert whole_set(out / KEY) == before
    replaced = run("render", other, "--out", out, "--replace", *elsewhere)
    assert replaced.returncode == 0, replaced.stderr
    assert whole_set(out / KEY) != before
    assert hidden(out) == []


@pytest.mark.parametrize("damage", ["not json", "a repeated fill key", "a fifo"])
def test_a_record_that_cannot_be_read_is_not_replaced_unasked(tmp_path: Path, damage: str) -> None:
    out = tmp_path / "out"
    assert run("render", "examples/fill.yaml", "--out", out).returncode == 0
    record = out / KEY / "fill.json"
    if damage == "not json":
        record.write_text("{not json")
    elif damage == "a repeated fill key":     # the first "fill" this patient's, the last another's
        text = record.read_text()
        record.write_text(text.replace('"fill": {', '"fill": {"patient": {"name": "X"}},\n  "fill": {', 1))
    else:
        record.unlink()
        os.mkfifo(record)                     # no writer: reading it would block forever
    before = record.read_text() if damage != "a fifo" else None
    done = run("render", "examples/fill.yaml", "--out", out)
    assert (done.returncode, done.stderr) == (2, (
        f"Error: {out / KEY}: Rx 600123 fill 0 is already rendered and its record fill.json "
        "cannot be read; use --replace to replace it\n"))
    assert damage == "a fifo" or record.read_text() == before
    assert run("render", "examples/fill.yaml", "--out", out, "--replace").returncode == 0
    whole_set(out / KEY)


def test_the_same_fill_again_rewrites_the_same_bytes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("render", "examples/fill.yaml", "--out", out).returncode == 0
    before = whole_set(out / KEY)
    assert run("render", "examples/fill.yaml", "--out", out).returncode == 0
    assert whole_set(out / KEY) == before


def test_a_batch_refuses_another_patients_record_for_that_fill_alone(tmp_path: Path) -> None:
    header, rows = day_rows()
    out = tmp_path / "out"
    source = write_csv(tmp_path / "two.csv", header, rows[:2])
    assert run("batch", source, "--out", out, "--quiet").returncode == 0
    key = f"{rows[0][0]}-{rows[0][1]}"
    before = whole_set(out / key)
    name = header.index("patient.name")
    changed = [list(rows[0]), list(rows[1])]
    changed[0][name] = "Another Patient"
    write_csv(source, header, changed)
    elsewhere = ("--ledger", str(tmp_path / "another-ledger.sqlite"))   # as in the test above
    done = run("batch", source, "--out", out, *elsewhere)
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if line.startswith("Failed: ")]
    assert failed == [f"Failed: {out / key}: Rx {rows[0][0]} fill {rows[0][1]} is already rendered "
                      "for another patient, product, directions or lot: patient.name differs; use "
                      "--replace to replace it"]
    assert "1 of 2 fills ok" in done.stdout
    assert whole_set(out / key) == before
    replaced = run("batch", source, "--out", out, "--replace", *elsewhere)
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads(whole_set(out / key)["fill.json"])["fill"]["patient"]["name"] == "Another Patient"


# ---- signals ---------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _alive_in_group(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies are dead)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _, pgrp = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == group and state != "Z":
            alive.append(int(entry.name))
    return alive


def _gone(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) == "Z"
    except OSError:
        return True


@pytest.fixture(scope="module")
def long_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A batch long enough to signal mid-run, and its tree from a run never interrupted."""
    folder = tmp_path_factory.mktemp("long")
    source = big_csv(folder / "long.csv", 200)
    done = run("batch", source, "--out", folder / "clean", "--workers", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    return source, tree(folder / "clean")


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_stops_a_batch_like_ctrl_c(tmp_path: Path, long_day: tuple[Path, dict[str, bytes]],
                                            name: str, code: int) -> None:
    source, clean = long_day
    out = tmp_path / "out"
    process = start("batch", source, "--out", out, "--workers", "2")
    assert process.stdout is not None
    for count, _ in enumerate(process.stdout, start=1):
        if count >= 30:
            break
    workers = _children(process.pid)
    assert len(workers) == 2
    os.kill(process.pid, getattr(signal, name))       # the parent only, as `kill` does
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    [message] = stderr.splitlines()
    assert re.fullmatch(r"Error: interrupted: \d+ of 200 fills are complete and kept\. Run the same "
                        r"command again to resume \(complete fills are skipped\); the combined "
                        r"sheets are written when a run finishes\.", message), message
    kept = int(message.split()[2])
    assert 30 <= kept < 200
    assert [pid for pid in workers if not _gone(pid)] == []
    assert _alive_in_group(process.pid) == []
    assert hidden(out) == []
    assert len(list(out.glob("*/fill.json"))) == kept
    _visible_files_are_whole(out)

    again = run("batch", source, "--out", out, "--workers", "2", "--quiet")
    assert again.returncode == 0, again.stderr
    assert tree(out) == clean


def test_a_stop_reaches_the_workers_while_the_parent_waits_for_results(tmp_path: Path) -> None:
    """A batch no larger than the fills in flight (4 chunks of 16 per worker): the parent spends
    the run waiting on results, and a stop asked then must still reach the workers, not wait
    until every fill sent to them is rendered."""
    source = big_csv(tmp_path / "day.csv", 120)
    process = subprocess.Popen(       # unbuffered: a progress line is read as it is printed
        [*LEAFLETS, "batch", str(source), "--out", str(tmp_path / "out"), "--workers", "2"],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    for count, _ in enumerate(process.stdout, start=1):
        if count >= 5:
            break
    os.kill(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    kept = int(stderr.split()[2])
    assert 5 <= kept < 120, stderr
    assert len(list((tmp_path / "out").glob("*/fill.json"))) == kept


# ---- a render killed mid-write ---------------------------------------------------------------------


def test_a_render_killed_mid_write_leaves_nothing_for_long(tmp_path: Path,
                                                           refill: tuple[Path, dict[str, bytes]]
                                                           ) -> None:
    """SIGKILL while the new set is being written (its hidden folder seen): the published set is
    whole, one or the other, and the next render removes what the killed one left."""
    path, _ = refill
    out = tmp_path / "out"
    assert run("render", "examples/fill.yaml", "--out", out).returncode == 0
    staged = out / f".{KEY}.new.tmp"
    for _ in range(20):
        process = start("render", path, "--out", out)
        while process.poll() is None and not staged.exists():
            pass
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.communicate()
        if process.returncode == -signal.SIGKILL and hidden(out):
            break
    else:
        pytest.fail("never caught a render mid-write in 20 tries")
    assert f".{KEY}.new.tmp" in hidden(out)
    whole_set(out / KEY)
    done = run("render", "examples/fill.yaml", "--out", out)
    assert done.returncode == 0, done.stderr
    assert hidden(out) == []
    whole_set(out / KEY)
