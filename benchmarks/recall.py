"""Lot recall on a million-fill ledger: the library call and the whole command, beside the same
query without the lot index, in the same run.

Prints figures; asserts nothing (tests never time anything). The issue's target: `leaflets recall
LOT` in under a second on a million-fill ledger.

    .venv/bin/python benchmarks/recall.py                      # 1,000,000 fills, 5,000 lots
    .venv/bin/python benchmarks/recall.py --fills 100000 --lots 500

The ledger is built once and kept in benchmarks/.cache/ (git-ignored; --rebuild builds it again):
fills of prescriptions refilled over three years (about 4 fills per Rx, 2 Rxs per patient), each
product's lots following one another in time, every row with its outputs' and inputs' hashes and
the real hash chain (ledger.row_hash), written with executemany in one transaction, so `leaflets
ledger verify` passes on it. The baseline is a copy with the lot index dropped.

Rows:
  Ledger.recall     the library call, in one open ledger (warm page cache): median and p95 over
                    --samples lots (the baseline over --baseline-samples, each a full scan)
  leaflets recall   the command as a user runs it (`leaflets recall LOT --ledger FILE`, its output
                    to a pipe): Python start-up, imports, opening the ledger, the query, the table
  leaflets --version  start-up alone, for scale
  ledger verify     `leaflets ledger verify` over every row, once (for information)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from leaflets.record.ledger import COLUMNS, GENESIS, SCHEMA_VERSION, Ledger, open_ledger, row_hash

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache"
BUILD = 1        # bump when the generated rows change, so a cached ledger is rebuilt

FIRST = ("Jordan", "María", "Ingrid", "Samuel", "Priya", "Wei", "Amara", "Lukas", "Fatima",
         "Noah", "Aiko", "Olu", "Chloé", "Mateo", "Sofia", "Kwame", "Hannah", "Ravi", "Elena",
         "Tomasz", "Grace", "Yusuf", "Leila", "Diego", "Anneke", "Oscar", "Mei", "Ibrahim")
LAST = ("Rivera", "Nuñez", "Johansson", "Okafor", "Natarajan", "Zhang", "Mensah", "Becker",
        "Haddad", "Smith", "Tanaka", "Adeyemi", "Dubois", "García", "Rossi", "Boateng", "Cohen",
        "Patel", "Popescu", "Kowalski", "O'Brien", "Demir", "Karimi", "Lopez", "de Vries",
        "Lindqvist", "Chen", "Hassan", "Nguyen", "Murphy", "Kim", "Ivanova")
PRODUCTS = ("anastrozole-1mg", "omeprazole-2mg-ml-suspension", "hydrocortisone-1pct-cream",
            "progesterone-100mg", "testosterone-cream-10pct", "naltrexone-4.5mg",
            "metronidazole-50mg-ml", "baclofen-10mg-ml", "ketoprofen-10pct-gel",
            "tacrolimus-0.1pct-ointment", "gabapentin-100mg-ml", "estradiol-1mg")
DIRECTIONS = ("Take 1 capsule by mouth once daily.", "Take 5 mL by mouth twice daily before "
              "meals.", "Apply a thin film to the affected area twice daily.",
              "Take 1 capsule by mouth at bedtime.", "Apply 2 clicks (1 g) to the inner thighs "
              "once daily.", "Take 2.5 mL by mouth every 8 hours as needed for pain.")
USERS = ("kl", "rt", "ab", "mj", "counter:sofia", "counter:dev", "pn", "batch")
INPUT_NAMES = ("product", "pharmacy", "stock", "style", "templates/label.txt.j2",
               "templates/leaflet.html.j2", "templates/directions.j2", "fonts/regular.ttf",
               "fonts/bold.ttf", "fonts/italic.ttf", "fonts/cjk.ttf")


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fills(n: int, lots: int, seed: int = 13) -> Iterator[dict[str, Any]]:
    """n fills in the order they were made, with ~n/4 prescriptions of ~n/8 patients, each
    product's lots (lots in all) following one another over three years."""
    rng = random.Random(seed)
    days = 3 * 365
    start = dt.date(2024, 1, 1)
    patients = [(f"{rng.choice(FIRST)} {chr(65 + rng.randrange(26))}. {rng.choice(LAST)}",
                 (dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000))).isoformat())
                for _ in range(max(1, n // 8))]
    # Each Rx: a patient, a product, its directions, a first day, and up to six refills a month
    # apart (within the three years), until there are n fills.
    rx_meta: list[tuple[int, int, str]] = []
    events: list[tuple[int, int, int]] = []          # (day, rx, fill number)
    while len(events) < n:
        rx = len(rx_meta)
        rx_meta.append((rng.randrange(len(patients)), rng.randrange(len(PRODUCTS)),
                        rng.choice(DIRECTIONS)))
        first = rng.randrange(days)
        for k in range(rng.randint(1, 7)):
            if first + 30 * k < days and len(events) < n:
                events.append((first + 30 * k, rx, k))
    events.sort()
    period = days * len(PRODUCTS) / lots          # days each lot of a product lasts
    inputs_tail = {name: _hex(name) for name in INPUT_NAMES}
    names: dict[tuple[int, int], str] = {}
    serials: dict[str, int] = {}
    for i, (day, rx, fill_number) in enumerate(events):
        patient, product, directions = rx_meta[rx]
        lot_key = (product, int(day / period))
        if lot_key not in names:
            made = start + dt.timedelta(days=int(lot_key[1] * period))
            month = made.strftime("%y%m")
            serials[month] = serials.get(month, 0) + 1
            names[lot_key] = f"GC-{month}-{serials[month]:04d}"
        when = start + dt.timedelta(days=day)
        name, birth = patients[patient]
        yield {"kind": "render", "rx_number": str(600000 + rx), "fill_number": fill_number,
               "fill_date": when.isoformat(), "patient_name": name, "date_of_birth": birth,
               "product": PRODUCTS[product], "lot": names[lot_key],
               "bud": (when + dt.timedelta(days=30 + 15 * (product % 10))).isoformat(),
               "directions": directions,
               "outputs": json.dumps({f: _hex(f"{i}{f}") for f in
                                      ("fill.json", "label.pdf", "leaflet.pdf")},
                                     sort_keys=True, separators=(",", ":")),
               "inputs": json.dumps({"fill": _hex(str(i)), **inputs_tail}, sort_keys=True,
                                    separators=(",", ":")),
               "user": USERS[i % len(USERS)],
               "at": f"{when.isoformat()}T{9 + i % 9:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.000Z"}


def build(path: Path, n: int, lots: int) -> None:
    """The ledger at path, with its real hash chain; written whole under a temporary name."""
    tmp = path.with_name(f".{path.name}.tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
        leftover.unlink(missing_ok=True)
    open_ledger(tmp).close()                      # the schema, at this version, and WAL

    def rows() -> Iterator[list[Any]]:
        prev = GENESIS
        for number, row in enumerate(fills(n, lots), start=1):
            row.update(id=number, detail="{}", prev_hash=prev)
            row["hash"] = prev = row_hash(prev, row)
            yield [row[name] for name in COLUMNS]
    db = sqlite3.connect(tmp, isolation_level=None)
    # Built alone: a rollback journal (not a 2 GB write-ahead log), no syncs, a 1 GB page cache
    # for the indexes; the ledger goes back to WAL, as open_ledger left it, at the end.
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("BEGIN")
    db.executemany(f"INSERT INTO events ({', '.join(COLUMNS)}) "
                   f"VALUES ({', '.join('?' * len(COLUMNS))})", rows())
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    os.replace(tmp, path)


def without_lot_index(path: Path) -> Path:
    copy = path.with_name(path.stem + "-no-lot-index.sqlite")
    if not copy.exists():
        tmp = copy.with_name(f".{copy.name}.tmp")
        shutil.copyfile(path, tmp)
        db = sqlite3.connect(tmp, isolation_level=None)
        db.execute("DROP INDEX events_lot")
        db.close()
        os.replace(tmp, copy)
    return copy


def quantiles(seconds: Sequence[float]) -> tuple[float, float]:
    """Median and p95 (the nearest-rank p95 for a handful of samples: their largest)."""
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered), p95


def time_library(path: Path, lots: Sequence[str]) -> tuple[list[float], list[int]]:
    seconds, counts = [], []
    with Ledger(path) as ledger:
        for lot in lots:
            started = time.perf_counter()
            rows = ledger.recall(lot)
            seconds.append(time.perf_counter() - started)
            counts.append(len(rows))
    return seconds, counts


def command() -> list[str]:
    script = Path(sys.executable).with_name("leaflets")      # the console script a user runs
    return [str(script)] if script.exists() else [sys.executable, "-m", "leaflets.cli"]


def time_command(args: Sequence[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([*command(), *args], cwd=ROOT, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"leaflets {' '.join(args)} exited {done.returncode}: "
                         f"{done.stderr.decode(errors='replace')}")
    return seconds


def shown(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--lots", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=50, help="lots timed with the index")
    parser.add_argument("--baseline-samples", type=int, default=5,
                        help="lots timed without it (each a full scan)")
    parser.add_argument("--commands", type=int, default=10, help="whole-command runs with the index")
    parser.add_argument("--rebuild", action="store_true", help="build the ledger again")
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"recall-{args.fills}-{args.lots}-v{SCHEMA_VERSION}-b{BUILD}.sqlite"
    if args.rebuild:
        for old in (path, path.with_name(path.stem + "-no-lot-index.sqlite")):
            old.unlink(missing_ok=True)
    if not path.exists():
        print(f"building {args.fills:,} fills into {path} ...", flush=True)
        started = time.perf_counter()
        build(path, args.fills, args.lots)
        print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
    baseline = without_lot_index(path)

    with Ledger(path) as ledger:
        fills_n = ledger.count()
        every_lot = [str(r[0]) for r in ledger._db.execute("SELECT DISTINCT lot FROM events")]
    rng = random.Random(7)
    lots = rng.sample(every_lot, min(args.samples, len(every_lot)))
    print(f"ledger: {fills_n:,} fills, {len(every_lot):,} lots, "
          f"{path.stat().st_size / 1e9:.2f} GB ({path.relative_to(ROOT)}); warm page cache")

    results: list[tuple[str, list[float], str]] = []
    seconds, counts = time_library(path, lots)
    results.append(("Ledger.recall(lot)", seconds,
                    f"{len(lots)} lots, {min(counts)}-{max(counts)} fills each"))
    few = lots[:args.baseline_samples]
    seconds, _ = time_library(baseline, few)
    results.append(("Ledger.recall(lot), no lot index", seconds, f"{len(few)} lots"))
    some = lots[:args.commands]
    results.append(("leaflets recall LOT", [time_command(["recall", lot, "--ledger", str(path)])
                                            for lot in some], f"{len(some)} lots"))
    results.append(("leaflets recall LOT, no lot index",
                    [time_command(["recall", lot, "--ledger", str(baseline)]) for lot in few],
                    f"{len(few)} lots"))
    results.append(("leaflets --version (start-up)",
                    [time_command(["--version"]) for _ in some], f"{len(some)} runs"))

    width = max(len(name) for name, _, _ in results)
    print(f"{'':{width}}  {'median':>9}  {'p95':>9}  samples")
    for name, seconds, note in results:
        median, p95 = quantiles(seconds)
        print(f"{name:{width}}  {shown(median):>9}  {shown(p95):>9}  {note}")
    started = time.perf_counter()
    done = subprocess.run([*command(), "ledger", "verify", "--ledger", str(path)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    print(f"leaflets ledger verify: {shown(took)} over {fills_n:,} rows, exit {done.returncode}: "
          f"{(done.stdout or done.stderr).strip()}")


if __name__ == "__main__":
    main()
