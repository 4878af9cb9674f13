"""Batch throughput, per-fill latency and peak memory, end to end.

Prints figures; asserts nothing (tests never time anything). Compare runs as ratios within one
machine, as shared/notes/performance.md does.

    .venv/bin/python benchmarks/batch.py                   # 1,000 fills; 1 and N workers
    .venv/bin/python benchmarks/batch.py --fills 10000 --workers 2

The input is examples/day.csv repeated with fresh Rx numbers (all four example products). Each
run is a cold `leaflets batch --quiet` process into an empty folder: reading, validating, every
fill's label, leaflet and record written (with fsync), the part files, and both combined sheets.

Rows:
  fills/s     fills / wall time of the whole command (start-up included); median and best
  CPU         user + system seconds of every process of the run, per fill (steadier than wall
              time on a shared machine)
  p50/p90     per fill, in one warm process: Session.prepare + writing the fill's files (as a
              batch writes them: whole, renamed, synced once at the end)
  peak RSS    the parent's and the largest worker's maximum resident set (getrusage)
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from leaflets.load import read_batch, validate_row
from leaflets.pipeline import Session, Settings, write_fill

ROOT = Path(__file__).resolve().parents[1]
DAY = ROOT / "examples" / "day.csv"


def make_input(n: int, path: Path) -> None:
    with DAY.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for i in range(n):
            row = dict(rows[i % len(rows)])
            row["rx_number"] = str(700000 + i)
            writer.writerow(row)


def run(input_: Path, out: Path, workers: int) -> tuple[float, float, float, float]:
    """Wall seconds, parent peak RSS (MB), largest child peak RSS (MB) and CPU seconds (user +
    system, all processes) of one batch run."""
    cmd = [sys.executable, "-c",
           "import resource, sys; from leaflets.cli import main\n"
           "try:\n    main()\nexcept SystemExit as e:\n"
           "    self_ = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
           "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
           "    print(f'RSS {self_} {kids}', file=sys.stderr); raise",
           "batch", str(input_), "--out", str(out), "--workers", str(workers), "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"batch failed ({done.returncode}):\n{done.stderr}")
    rss = next(line for line in done.stderr.splitlines() if line.startswith("RSS "))
    parent_kb, child_kb = (int(v) for v in rss.split()[1:])
    return wall, parent_kb / 1024, child_kb / 1024, cpu


def per_fill(input_: Path, out: Path, n: int) -> list[float]:
    os.chdir(ROOT)
    session = Session(Settings())
    rows = read_batch([input_])[:n]
    times = []
    for row in rows[:20]:                       # warm: bodies laid out, caches filled
        session.prepare(validate_row(row))
    for row in rows:
        start = time.perf_counter()
        rendered = session.prepare(validate_row(row))
        write_fill(rendered, out, durable=False)   # as a batch writes
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="*", default=None,
                        help="worker counts to run (default: 1 and this machine's cores)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per worker count (median)")
    parser.add_argument("--dir", type=Path, default=ROOT / "out" / "benchmarks",
                        help="where to write (default out/benchmarks/, where a real batch writes; "
                             "on this machine /tmp creates files 10x slower than the project disk)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    counts = args.workers or sorted({1, cores})
    print(f"python {sys.version.split()[0]}, {cores} cores, {args.fills} fills, "
          f"median of {args.rounds} runs")
    args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        input_ = Path(tmp) / "fills.csv"
        make_input(args.fills, input_)
        for workers in counts:
            # A fresh folder per run, all removed at the end: ext4 searches past recently
            # deleted inodes when creating files, so deleting a run's 4,000 files just before
            # the next run would slow that run's writes several-fold.
            runs = [run(input_, Path(tmp) / f"out-{workers}-{i}", workers) for i in range(args.rounds)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[3] for r in runs)
            parent, child = max(r[1] for r in runs), max(r[2] for r in runs)
            print(f"workers={workers}: {args.fills / wall:7.1f} fills/s  ({wall:.2f} s wall, "
                  f"best {args.fills / min(r[0] for r in runs):.1f} fills/s; "
                  f"CPU {cpu * 1000 / args.fills:.1f} ms/fill)  "
                  f"peak RSS parent {parent:.0f} MB, largest worker {child:.0f} MB")
        sheet = Path(tmp) / f"out-{counts[-1]}-0" / "batches"
        for pdf in sorted(sheet.glob("*/*.pdf")):
            print(f"{pdf.name}: {pdf.stat().st_size / 1e6:.2f} MB")
        times = per_fill(input_, Path(tmp) / "single", min(args.fills, 500))
        q = statistics.quantiles(times, n=10, method="inclusive")
        print(f"per fill (one warm process, prepare + write): p50 {statistics.median(times):.2f} ms, "
              f"p90 {q[-1]:.2f} ms")
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"(this script's own peak RSS: {self_kb / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
