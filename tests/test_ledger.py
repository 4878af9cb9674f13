"""The dispensing record: `render` and `batch` append hash-chained rows to a real SQLite ledger;
`ledger verify` names the first edited, deleted or reordered row; `history` and `recall` read it.
Tampering is done the way someone with the file would do it: sqlite3 on the file itself."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leaflets.record.ledger import (
    FIELDS,
    GENESIS,
    SCHEMA_VERSION,
    Broken,
    Ledger,
    LedgerError,
    open_ledger,
)

from .conftest import BASE_FILL, EXAMPLES, ROOT, write_fill
from .test_startup import RENDERING, loaded

DATA = Path(__file__).parent / "data"


def leaflets(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaflets.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def render(fill: Path, tmp_path: Path, user: str = "kl") -> subprocess.CompletedProcess[str]:
    done = leaflets("render", str(fill), "--out", str(tmp_path / "out"), "--user", user)
    assert done.returncode == 0, done.stderr
    return done


def tamper(path: Path, *statements: str) -> None:
    """Edit the file directly: drop the append-only triggers, then change rows."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER IF EXISTS events_no_update")
    db.execute("DROP TRIGGER IF EXISTS events_no_delete")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


@pytest.fixture
def three(tmp_path: Path) -> Path:
    """A ledger beside out/ with three renders: two of Rx 600123 by kl, one of 600124 by rt."""
    render(EXAMPLES / "fill.yaml", tmp_path)
    render(write_fill(tmp_path, BASE_FILL.replace("fill_number: 0", "fill_number: 1"), "f1.yaml"),
           tmp_path)
    render(write_fill(tmp_path, BASE_FILL.replace('"600123"', '"600124"').replace(
        "GC-2611-0042", "GC-2611-0099"), "f2.yaml"), tmp_path, user="rt")
    return tmp_path / "ledger.sqlite"


def test_render_appends_a_row_beside_out(three: Path) -> None:
    assert three.is_file()                       # the default: beside out/, not in it
    with Ledger(three) as ledger:
        found = ledger.history("600123")
        assert ledger.count() == 3
    first = found[0]
    assert (first["kind"], first["rx_number"], first["fill_number"]) == ("render", "600123", 0)
    assert (first["patient_name"], first["date_of_birth"]) == ("Jordan A. Rivera", "1978-03-14")
    assert (first["product"], first["lot"], first["bud"]) == ("anastrozole-1mg", "GC-2611-0042",
                                                              "2027-03-31")
    assert first["directions"] == "Take 1 capsule by mouth once daily."
    assert first["user"] == "kl" and str(first["at"]).endswith("Z")
    assert first["prev_hash"] == GENESIS and found[1]["prev_hash"] == first["hash"]
    out = three.parent / "out" / "600123-1"
    import hashlib
    import json
    outputs = json.loads(str(found[1]["outputs"]))
    for name in ("label.pdf", "leaflet.pdf", "fill.json"):
        assert outputs[name] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    record = json.loads((out / "fill.json").read_text())
    made = record["made_with"]
    assert json.loads(str(found[1]["inputs"])) == {
        **{k: v["sha256"] for k, v in made["inputs"].items()},
        **{f"template:{k}": v for k, v in made["templates"].items()},
        **{f"font:{k}": v for k, v in made["fonts"].items()}}
    assert "template:label.xml.j2" in json.loads(str(found[1]["inputs"]))


def test_the_default_user_is_the_os_user(tmp_path: Path) -> None:
    import getpass
    done = leaflets("render", str(EXAMPLES / "fill.yaml"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        assert ledger.history("600123")[0]["user"] == getpass.getuser()


def test_batch_appends_a_row_per_rendered_fill(tmp_path: Path) -> None:
    ledger = tmp_path / "day.sqlite"
    done = leaflets("batch", str(EXAMPLES / "day.csv"), "--out", str(tmp_path / "out"),
                    "--workers", "2", "--quiet", "--ledger", str(ledger), "--user", "rt")
    assert done.returncode in (0, 1), done.stderr
    with open(EXAMPLES / "day.csv", newline="", encoding="utf-8") as f:
        expected = {(r["rx_number"], int(r["fill_number"])) for r in csv.DictReader(f)}
    rendered = {p.name for p in (tmp_path / "out").iterdir() if (p / "fill.json").exists()}
    with Ledger(ledger) as opened:
        assert opened.verify() is None
        found = opened._select("1 = 1")
    assert {f"{r['rx_number']}-{r['fill_number']}" for r in found} == rendered
    assert {(str(r["rx_number"]), int(str(r["fill_number"]))) for r in found} <= expected
    assert len(found) == len(rendered) and {r["user"] for r in found} == {"rt"}
    # Resuming skips complete fills: nothing is rendered, nothing is appended.
    again = leaflets("batch", str(EXAMPLES / "day.csv"), "--out", str(tmp_path / "out"),
                     "--quiet", "--ledger", str(ledger))
    assert again.returncode == done.returncode
    with Ledger(ledger) as opened:
        assert opened.count() == len(found)


def test_verify_says_ok(three: Path) -> None:
    done = leaflets("ledger", "verify", "--ledger", str(three))
    assert done.returncode == 0 and done.stdout.startswith("ledger ok: 3 rows"), done.stderr


@pytest.mark.parametrize(("statements", "bad", "why"), [
    (["UPDATE events SET lot = 'GC-0000-0000' WHERE id = 2"], 2, "edited"),
    (["UPDATE events SET patient_name = 'Someone Else' WHERE id = 1"], 1, "edited"),
    (["DELETE FROM events WHERE id = 2"], 3, "deleted"),
    (["DELETE FROM events WHERE id = 1"], 2, "deleted"),
    # A swapped pair: rows 2 and 3 trade places (ids swapped through a free id).
    (["UPDATE events SET id = 99 WHERE id = 2", "UPDATE events SET id = 2 WHERE id = 3",
      "UPDATE events SET id = 3 WHERE id = 99"], 2, "reordered"),
])
def test_verify_names_the_first_bad_row(three: Path, statements: list[str], bad: int,
                                        why: str) -> None:
    tamper(three, *statements)
    done = leaflets("ledger", "verify", "--ledger", str(three))
    assert done.returncode == 1
    assert f"row {bad} " in done.stderr and why in done.stderr
    assert "Traceback" not in done.stderr
    assert "Rivera" not in done.stderr + done.stdout       # no patient data in the message


def test_the_database_refuses_updates_and_deletes(three: Path) -> None:
    db = sqlite3.connect(three)
    for statement in ("UPDATE events SET lot = 'x'", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.close()


def test_history_lists_an_rx(three: Path) -> None:
    done = leaflets("history", "600123", "--ledger", str(three))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "kind", "rx"]
    assert [line.split()[2] for line in lines[1:]] == ["600123-0", "600123-1"]
    as_csv = list(csv.DictReader(io.StringIO(leaflets("history", "600123", "--ledger",
                                                      str(three), "--csv").stdout)))
    assert [r["rx"] for r in as_csv] == ["600123-0", "600123-1"]
    assert {r["by"] for r in as_csv} == {"kl"}


def test_recall_lists_every_fill_of_a_lot(three: Path) -> None:
    done = leaflets("recall", "GC-2611-0042", "--ledger", str(three), "--csv")
    assert done.returncode == 0, done.stderr
    found = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(found[0]) == ["patient", "date of birth", "rx", "fill date", "bud", "rendered at",
                              "rendered by", "printed at", "printed by", "print jobs"]
    assert [(r["patient"], r["date of birth"], r["rx"], r["fill date"], r["bud"], r["rendered by"],
             r["printed at"], r["printed by"], r["print jobs"]) for r in found] == [
        ("Jordan A. Rivera", "1978-03-14", f"600123-{n}", "2026-11-24", "2027-03-31", "kl",
         "not printed", "", "0") for n in (0, 1)]
    other = leaflets("recall", "GC-2611-0099", "--ledger", str(three))
    assert [("600124-0" in line, "Rivera" in line) for line in other.stdout.splitlines()[1:]] \
        == [(True, True)]


# Each writer waits, its imports done, for the go file, so all four start appending at once.
WAIT = ("import pathlib, sys, time\n"
        "ready, go = map(pathlib.Path, sys.argv[1:3])\n"
        "ready.touch()\n"
        "while not go.exists():\n"
        "    time.sleep(0.002)\n")
# main(standalone_mode=False) returns the exit code of a LeafletsError instead of exiting.
RENDERS = WAIT + ("for f in sys.argv[5:]:\n"
                  "    code = main(['render', f, '--out', sys.argv[3], '--ledger', sys.argv[4], "
                  "'--user', pathlib.Path(f).stem.split('-')[0]], standalone_mode=False)\n"
                  "    if code:\n"
                  "        sys.exit(code)\n")
BATCH = WAIT + ("sys.exit(main(['batch', sys.argv[5], '--out', sys.argv[3], '--ledger', sys.argv[4], "
                "'--workers', '2', '--quiet', '--user', 'batch'], standalone_mode=False))\n")
# The counter (issue 14) will publish through the library, as render does; so does this writer.
COUNTER = WAIT + ("from leaflets.pipeline import Settings, prepare_fill\n"
                  "from leaflets.record.stage import publish\n"
                  "settings = Settings(ledger=pathlib.Path(sys.argv[4]), user='counter')\n"
                  "for f in sys.argv[5:]:\n"
                  "    publish(prepare_fill(pathlib.Path(f), settings), pathlib.Path(sys.argv[3]), "
                  "settings)\n")


def test_renders_a_batch_and_the_counter_at_once_keep_an_unbroken_chain(tmp_path: Path) -> None:
    """Two `leaflets render` processes (six fills each, one after another), a `leaflets batch`
    of 20 fills with two workers, and a process publishing eight fills through the library as
    the counter will, all into one out folder and one ledger, started at the same moment."""
    def fills(writer: str, first: int, n: int) -> list[Path]:
        return [write_fill(tmp_path, BASE_FILL.replace('"600123"', f'"{first + i}"'),
                           f"{writer}-{i}.yaml") for i in range(n)]
    with open(EXAMPLES / "day.csv", newline="", encoding="utf-8") as f:
        day = list(csv.DictReader(f))
    day_csv = tmp_path / "day.csv"
    with day_csv.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(day[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**day[i], "rx_number": str(810000 + i)} for i in range(20))
    ledger, out, go = tmp_path / "shared.sqlite", tmp_path / "out", tmp_path / "go"
    writers = {"render1": (RENDERS, [str(p) for p in fills("render1", 710000, 6)]),
               "render2": (RENDERS, [str(p) for p in fills("render2", 720000, 6)]),
               "batch": (BATCH, [str(day_csv)]),
               "counter": (COUNTER, [str(p) for p in fills("counter", 730000, 8)])}
    procs = {}
    for name, (script, args) in writers.items():
        procs[name] = subprocess.Popen(
            [sys.executable, "-c", "from leaflets.cli import main\n" + script,
             str(tmp_path / f"{name}.ready"), str(go), str(out), str(ledger), *args],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not all((tmp_path / f"{name}.ready").exists() for name in writers):
        assert all(p.poll() is None for p in procs.values()), "a writer ended before the start"
        time.sleep(0.01)
    go.touch()
    for name, p in procs.items():
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"{name}: {err}"
    with Ledger(ledger) as opened:
        assert opened.verify() is None
        found = opened._select("1 = 1")
    expected = {*range(710000, 710006), *range(720000, 720006), *range(810000, 810020),
                *range(730000, 730008)}
    keys = [(str(r["rx_number"]), r["fill_number"], r["kind"]) for r in found]
    fill_numbers = {810000 + i: int(day[i]["fill_number"]) for i in range(20)}
    assert sorted(keys) == sorted((str(n), fill_numbers.get(n, 0), "render")
                                  for n in expected)       # every fill once, nothing else
    assert [r["id"] for r in found] == list(range(1, len(expected) + 1))
    by = [str(r["user"]) for r in found]
    assert {name: by.count(name) for name in writers} == {"render1": 6, "render2": 6, "batch": 20,
                                                           "counter": 8}
    # The collision is made by the start: all four were running, imports done, waiting on the
    # go file. How their rows then interleave is the scheduler's and SQLite's busy handler's
    # (not fair: one writer may take every turn while the others back off), so it is not
    # asserted.


def test_the_schema_version_is_recorded(three: Path) -> None:
    db = sqlite3.connect(three)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_version_1_ledger_is_migrated_and_its_chain_still_verifies(tmp_path: Path) -> None:
    """tests/data/ledger-v1.sqlite was written by leaflets at f1b79ed (schema version 1): two
    renders of Rx 600123 by kl. Opening it migrates it; its rows keep their hashes, and a row
    with a detail appended after them chains on."""
    path = tmp_path / "ledger.sqlite"
    path.write_bytes((DATA / "ledger-v1.sqlite").read_bytes())
    before = sqlite3.connect(path)
    assert before.execute("PRAGMA user_version").fetchone()[0] == 1
    old = before.execute("SELECT id, hash FROM events ORDER BY id").fetchall()
    before.close()
    with open_ledger(path) as ledger:
        assert ledger.version() == SCHEMA_VERSION
        assert ledger.verify() is None
        rows = ledger.history("600123")
        assert [(r["id"], r["hash"]) for r in rows] == old
        assert all(r["detail"] == "{}" for r in rows)
        ledger.append({**{k: rows[-1][k] for k in FIELDS}, "kind": "print",
                       "detail": {"queue": "labels", "job": "labels-7"}})
        assert ledger.verify() is None
    tamper(path, "UPDATE events SET detail = '{\"queue\":\"other\"}' WHERE id = 3")
    with open_ledger(path) as ledger:
        assert ledger.verify() == Broken(3, "was edited (its hash does not match its contents)")
    tamper(path, "UPDATE events SET detail = '{\"queue\":\"x\"}' WHERE id = 1")
    with open_ledger(path) as ledger:              # a version-1 row given a detail is an edit
        assert ledger.verify() == Broken(1, "was edited (its hash does not match its contents)")


def test_a_ledger_newer_than_this_leaflets_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError, match="newer"):
        open_ledger(path)


def test_a_ledger_that_cannot_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-database.sqlite"
    bad.write_bytes(b"this is not SQLite\n" * 100)
    done = leaflets("render", str(EXAMPLES / "fill.yaml"), "--out", str(tmp_path / "out"),
                    "--ledger", str(bad))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("Error: ledger ")
    assert not (tmp_path / "out").exists()       # checked before anything is published
    missing = leaflets("history", "600123", "--ledger", str(tmp_path / "none.sqlite"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()


def test_rows_deleted_from_the_end_are_found_against_an_anchor(three: Path) -> None:
    """The chain cannot show that its newest rows are gone; the head verify printed, kept
    elsewhere, can."""
    done = leaflets("ledger", "verify", "--ledger", str(three))
    assert done.returncode == 0, done.stderr
    head = done.stdout.strip().rpartition("; head ")[2]
    number, _, digest = head.partition(":")
    with Ledger(three) as ledger:
        assert (int(number), digest) == (3, ledger.history("600124")[-1]["hash"])
    assert leaflets("ledger", "verify", "--ledger", str(three), "--anchor", head).returncode == 0
    tamper(three, "DELETE FROM events WHERE id = 3")
    plain = leaflets("ledger", "verify", "--ledger", str(three))
    assert plain.returncode == 0                       # the gap the anchor closes
    found = leaflets("ledger", "verify", "--ledger", str(three), "--anchor", head)
    assert (found.returncode, found.stderr) == (
        1, f"ledger {three}: row 3 is missing: it and the rows after it were deleted\n")
    with Ledger(three) as ledger:                      # deleted, then another row appended
        ledger.append({**{k: ledger.history("600123")[0][k] for k in FIELDS}, "kind": "print"})
    found = leaflets("ledger", "verify", "--ledger", str(three), "--anchor", head)
    assert found.returncode == 1 and "row 3 is not the row the anchor names" in found.stderr
    bad = leaflets("ledger", "verify", "--ledger", str(three), "--anchor", "3:abc")
    assert bad.returncode == 1 and "expected ID:HASH" in bad.stderr


# ---- where the ledger is: --ledger, else the profile's `ledger:`, else beside out/ ---------------

PROFILE = (ROOT / "pharmacy.yaml").read_text(encoding="utf-8")


def profile_with(folder: Path, ledger: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pharmacy.yaml"
    path.write_text(PROFILE + f"ledger: {ledger}\n", encoding="utf-8")
    return path


def rx_numbers(path: Path) -> list[str]:
    with Ledger(path) as opened:
        assert opened.verify() is None
        return [str(r["rx_number"]) for r in opened._select("1 = 1")]


def test_the_profile_names_the_ledger_relative_to_its_own_folder(tmp_path: Path) -> None:
    pharmacy = profile_with(tmp_path / "site", '"records/day.sqlite"')
    (tmp_path / "site" / "records").mkdir()
    done = leaflets("render", str(EXAMPLES / "fill.yaml"), "--out", str(tmp_path / "out"),
                    "--pharmacy", str(pharmacy))
    assert done.returncode == 0, done.stderr
    named = tmp_path / "site" / "records" / "day.sqlite"     # not beside out/, not under cwd
    assert rx_numbers(named) == ["600123"]
    assert not (tmp_path / "ledger.sqlite").exists() and not (ROOT / "records").exists()
    # --ledger comes before the profile.
    other = tmp_path / "other.sqlite"
    done = leaflets("render", str(EXAMPLES / "fill.yaml"), "--out", str(tmp_path / "out"),
                    "--pharmacy", str(pharmacy), "--ledger", str(other))
    assert done.returncode == 0, done.stderr
    assert rx_numbers(other) == ["600123"] and rx_numbers(named) == ["600123"]


def test_batch_workers_write_the_profiles_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "elsewhere" / "record.sqlite"
    ledger.parent.mkdir()
    pharmacy = profile_with(tmp_path / "site", f'"{ledger}"')        # an absolute path
    done = leaflets("batch", str(EXAMPLES / "day.csv"), "--out", str(tmp_path / "out"),
                    "--pharmacy", str(pharmacy), "--workers", "2", "--quiet")
    assert done.returncode in (0, 1), done.stderr
    rendered = sorted(p.name.split("-")[0] for p in (tmp_path / "out").iterdir()
                      if (p / "fill.json").exists())
    assert len(rendered) > 20 and sorted(rx_numbers(ledger)) == rendered
    assert not (tmp_path / "ledger.sqlite").exists()


def test_the_readers_find_the_profiles_ledger(tmp_path: Path) -> None:
    site = tmp_path / "site"
    pharmacy = profile_with(site, "ledger.db")
    render_done = leaflets("render", str(EXAMPLES / "fill.yaml"), "--out", str(tmp_path / "out"),
                           "--pharmacy", str(pharmacy), "--user", "kl")
    assert render_done.returncode == 0, render_done.stderr
    assert (site / "ledger.db").is_file() and not (tmp_path / "ledger.sqlite").exists()
    for args in (["ledger", "verify"], ["history", "600123"], ["recall", "GC-2611-0042"]):
        given = leaflets(*args, "--pharmacy", str(pharmacy))           # from the repository
        found = leaflets(*args, cwd=site)                              # the project's profile
        assert given.returncode == found.returncode == 0, given.stderr + found.stderr
        assert given.stdout == found.stdout
        assert ("ledger ok: 1 row" in given.stdout if args[0] == "ledger"
                else "600123-0" in given.stdout and "kl" in given.stdout)
    # --ledger comes first; a profile naming a ledger that is not there is an error naming it.
    assert leaflets("history", "600123", "--pharmacy", str(pharmacy), "--ledger",
                    str(site / "ledger.db")).returncode == 0
    empty = profile_with(tmp_path / "new", "ledger.db")
    missing = leaflets("history", "600123", "--pharmacy", str(empty))
    assert missing.returncode == 1
    assert missing.stderr == (f"Error: ledger {tmp_path / 'new' / 'ledger.db'}: no such file "
                              "(--ledger or the pharmacy profile's ledger: names it)\n")


@pytest.mark.parametrize(("value", "message"), [
    ("5", "expected a file path, got 5 (quote it in YAML)"),
    ('""', "expected a file path, got an empty string"),
    ('"records/"', "expected a file path, got a folder: 'records/'"),
    ('" ledger.sqlite"', "expected a file path without leading or trailing spaces"),
])
def test_a_bad_ledger_in_the_profile_is_refused_at_its_line(tmp_path: Path, value: str,
                                                            message: str) -> None:
    pharmacy = profile_with(tmp_path / "site", value)
    line = PROFILE.count("\n") + 1
    done = leaflets("render", str(EXAMPLES / "fill.yaml"), "--out", str(tmp_path / "out"),
                    "--pharmacy", str(pharmacy))
    assert done.returncode == 2
    assert done.stderr == f"Error: {pharmacy}:{line}: ledger: {message}\n"
    assert not (tmp_path / "out").exists() and not list(tmp_path.rglob("*.sqlite"))


def test_the_readers_load_no_rendering(tmp_path: Path) -> None:
    """`recall` is a query: it starts without the rendering stack (benchmarks/recall.py times
    it), also when it reads the project's profile to find the ledger."""
    path = tmp_path / "ledger.sqlite"
    open_ledger(path).close()
    pharmacy = profile_with(tmp_path / "site", f'"{path}"')
    for args in (["recall", "GC-2611-0042", "--ledger", str(path)],
                 ["history", "600123", "--pharmacy", str(pharmacy)],
                 ["ledger", "verify", "--pharmacy", str(pharmacy)]):
        modules, _ = loaded(*args)
        assert modules & RENDERING == set(), args
        assert "leaflets.record.ledger" in modules       # the probe ran the command


# ---- a fill is complete only once its row is in the ledger -----------------------------------------


def day_of(tmp_path: Path, n: int) -> Path:
    """The first n rows of examples/day.csv."""
    lines = (EXAMPLES / "day.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "day.csv"
    path.write_text("".join(lines[:n + 1]), encoding="utf-8")
    return path


def renders_per_fill(path: Path) -> dict[str, int]:
    with Ledger(path) as opened:
        assert opened.verify() is None
        keys = [f"{r['rx_number']}-{r['fill_number']}" for r in opened._select("kind = 'render'")]
    return {key: keys.count(key) for key in keys}


def test_a_fill_that_cannot_be_recorded_is_not_published_and_resumes(tmp_path: Path) -> None:
    """Another process holds the ledger's write lock past the busy timeout (shortened to 0.5 s):
    the batch cannot record its first fill, so does not publish it, and stops. Resumed once the
    lock is gone, it records every fill exactly once. (A fill published whose commit then
    failed is the case the next test's check covers: its row is not there.)"""
    day, out, ledger = day_of(tmp_path, 4), tmp_path / "out", tmp_path / "ledger.sqlite"
    open_ledger(ledger).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys\n"
         "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "db.execute('BEGIN IMMEDIATE')\nprint('locked', flush=True)\nsys.stdin.read()\n",
         str(ledger)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        stopped = subprocess.run(
            [sys.executable, "-m", "leaflets.cli", "batch", str(day), "--out", str(out),
             "--ledger", str(ledger), "--workers", "1", "--quiet"], cwd=ROOT, capture_output=True,
            text=True, timeout=300, check=False, env={**os.environ, "LEAFLETS_LEDGER_BUSY_MS": "500"})
    finally:
        holder.communicate("", timeout=60)
    assert stopped.returncode == 1, stopped.stderr
    # The check against the ledger and the publish run inside the append's write transaction
    # (record.stage.publish): a fill that cannot take the lock is not published either.
    assert "cannot append to it: database is locked" in stopped.stderr
    assert not (out / "600200-0").exists()
    assert renders_per_fill(ledger) == {}
    resumed = leaflets("batch", str(day), "--out", str(out), "--ledger", str(ledger), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert renders_per_fill(ledger) == {"600200-0": 1, "600201-1": 1, "600202-0": 1,
                                        "600203-2": 1}


def test_resuming_into_another_ledger_records_every_fill_there(tmp_path: Path) -> None:
    """A batch complete on disk and in one ledger, run again writing another (the profile's
    ledger: changed, or --ledger): its fills are published again and recorded there, once;
    a third run finds them all recorded and appends nothing."""
    day, out = day_of(tmp_path, 3), tmp_path / "out"
    first, second = tmp_path / "first.sqlite", tmp_path / "second.sqlite"

    def batch(ledger: Path) -> str:
        done = leaflets("batch", str(day), "--out", str(out), "--ledger", str(ledger))
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()[-5]                 # the summary line, before 4 paths
    assert batch(first).endswith("3 of 3 fills ok (3 rendered, 0 already complete), 0 failed")
    assert batch(second).endswith("3 of 3 fills ok (3 rendered, 0 already complete), 0 failed")
    assert batch(second).endswith("3 of 3 fills ok (0 rendered, 3 already complete), 0 failed")
    every = {"600200-0": 1, "600201-1": 1, "600202-0": 1}
    assert renders_per_fill(first) == renders_per_fill(second) == every


def test_another_programs_database_is_not_taken_for_a_ledger(tmp_path: Path) -> None:
    """Named by mistake, another program's SQLite file is refused and left as it was; a file
    that says it is a ledger but has no events table is refused too: messages, not tracebacks."""
    other = tmp_path / "inventory.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE stock (item TEXT, count INTEGER)")
    db.commit()
    db.close()
    before = other.read_bytes()
    for args in (["ledger", "verify"], ["history", "600123"], ["recall", "GC-2611-0042"]):
        done = leaflets(*args, "--ledger", str(other))
        assert (done.returncode, done.stderr) == (1, (
            f"Error: ledger {other}: cannot open it: it is not a leaflets ledger (its tables "
            "are another program's); name the ledger's own file\n"))
    assert other.read_bytes() == before
    hollow = tmp_path / "hollow.sqlite"
    db = sqlite3.connect(hollow)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.close()
    done = leaflets("history", "600123", "--ledger", str(hollow))
    assert done.returncode == 1 and "no events table: not a leaflets ledger" in done.stderr


def test_an_anchor_out_of_range_is_a_message(three: Path) -> None:
    for anchor in ("99999999999999999999:" + "a" * 64, "3:" + "g" * 64, "٣:" + "a" * 64):
        done = leaflets("ledger", "verify", "--ledger", str(three), "--anchor", anchor)
        assert done.returncode == 1 and "expected ID:HASH" in done.stderr, done.stderr


OPEN = WAIT.replace("sys.argv[1:3]", "sys.argv[2:4]") + (
    "from leaflets.record.ledger import open_ledger\n"
    "open_ledger(pathlib.Path(sys.argv[1])).close()\n")


def test_writers_opening_a_new_ledger_at_once_all_open_it(tmp_path: Path) -> None:
    """Eight processes open one new ledger at the same moment (a go file), five times over:
    all open it. Two races made some fail before: switching a new file to WAL, for which SQLite
    does not wait ('database is locked' at once), and reading the version and the tables in two
    snapshots while another process migrated ('not a leaflets ledger')."""
    for round_ in range(5):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        go = folder / "go"
        procs = [subprocess.Popen([sys.executable, "-c", OPEN, str(folder / "ledger.sqlite"),
                                   str(folder / f"{n}.ready"), str(go)], cwd=ROOT,
                                  stderr=subprocess.PIPE, text=True) for n in range(8)]
        while not all((folder / f"{n}.ready").exists() for n in range(8)):
            assert all(p.poll() is None for p in procs), "a process ended before the start"
            time.sleep(0.01)
        go.touch()
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 8, errors
        with Ledger(folder / "ledger.sqlite") as ledger:
            assert ledger.version() == SCHEMA_VERSION and ledger.count() == 0
