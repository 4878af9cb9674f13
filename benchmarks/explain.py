"""How long `leaflets sig --explain` takes to read one sig, beside plain parsing in the same run.

Prints figures; asserts nothing (tests never time anything). Compare the two columns, not runs:
this machine is shared and its figures move between runs.

    .venv/bin/python benchmarks/explain.py                # every sig of tests/data/sigs*.yaml
    .venv/bin/python benchmarks/explain.py --rounds 50

The counter page explains a sig as a technician types, so every keystroke is a new text: both
columns are timed uncached. Each round times every table sig (read for its product's route and
unit) once with each function, alternating which goes first, after one untimed round.

Columns:
  parse     parse_directions without its cache (the baseline): tokens, grammar, checks
  explain   rules.sig.explain.explain, its parse_directions cache cleared before each call: the
            outcome from parse_directions, the grammar again noting each read, the rows, and for
            a refusal the rewrites tried (each parsed)
Rows: all the table's sigs, then the accepted and the refused ones; median and p99 of every
timed call (sigs × rounds), in wall time and in CPU time (this thread's: on a loaded machine the
wall time's tail is other processes running, which CPU time leaves out); "× parse" compares
the CPU medians. Last, the sig slowest to explain (its own median).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from leaflets.models import DoseUnit, Route
from leaflets.rules.sig import Context, parse_directions
from leaflets.rules.sig.explain import explain

ROOT = Path(__file__).resolve().parents[1]
TABLES = sorted((ROOT / "tests" / "data").glob("sigs*.yaml"))


def table_sigs() -> list[tuple[str, Context, bool]]:
    """Every table sig with its product context, and whether the table accepts it."""
    out = []
    for path in TABLES:
        table: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for kind in ("accepted", "refused"):
            for entry in table.get(kind) or []:
                context = Context(Route(entry["route"]) if entry.get("route") else None,
                                  DoseUnit(entry["unit"]) if entry.get("unit") else None)
                out.append((entry["sig"], context, kind == "accepted"))
    return out


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed calls per sig and column")
    args = parser.parse_args()
    sigs = table_sigs()
    uncached = parse_directions.__wrapped__

    def parse(text: str, context: Context) -> object:
        try:
            return uncached(text, context)
        except Exception as exc:        # a refusal is an outcome here
            return exc

    def explained(text: str, context: Context) -> object:
        parse_directions.cache_clear()
        return explain(text, context)

    columns: dict[str, Callable[[str, Context], object]] = {"parse": parse, "explain": explained}
    # per column, per sig: wall and CPU milliseconds of each timed call
    wall: dict[str, list[list[float]]] = {name: [[] for _ in sigs] for name in columns}
    cpu: dict[str, list[list[float]]] = {name: [[] for _ in sigs] for name in columns}
    for round_ in range(max(args.rounds, 2) + 1):
        order = list(columns) if round_ % 2 else list(reversed(columns))
        for k, (text, context, _) in enumerate(sigs):
            for name in order:
                fn = columns[name]
                if name == "explain":
                    parse_directions.cache_clear()      # outside the timed call
                start, start_cpu = time.perf_counter(), time.thread_time()
                fn(text, context)
                if round_:                              # round 0 warms up, untimed
                    wall[name][k].append((time.perf_counter() - start) * 1000)
                    cpu[name][k].append((time.thread_time() - start_cpu) * 1000)

    accepted = sum(ok for _, _, ok in sigs)
    print(f"python {platform.python_version()} ({platform.python_implementation()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs), load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"sigs: {len(sigs)} from {', '.join(p.name for p in TABLES)} ({accepted} accepted, "
          f"{len(sigs) - accepted} refused); {args.rounds} timed rounds after one untimed")
    print()
    print(f"{'':<20}{'wall ms':>16}{'CPU ms':>16}")
    print(f"{'sigs':<10}{'what':<10}{'median':>8}{'p99':>8}{'median':>8}{'p99':>8}"
          f"{'× parse':>10}")
    for label, keep in (("all", lambda ok: True), ("accepted", lambda ok: ok),
                        ("refused", lambda ok: not ok)):
        chosen = [k for k, (_, _, ok) in enumerate(sigs) if keep(ok)]
        base = statistics.median(t for k in chosen for t in cpu["parse"][k])
        for name in columns:
            w = [t for k in chosen for t in wall[name][k]]
            c = [t for k in chosen for t in cpu[name][k]]
            print(f"{label:<10}{name:<10}{statistics.median(w):>8.3f}{p99(w):>8.3f}"
                  f"{statistics.median(c):>8.3f}{p99(c):>8.3f}"
                  f"{statistics.median(c) / base:>10.1f}")
    slowest = max(range(len(sigs)), key=lambda k: statistics.median(cpu["explain"][k]))
    print()
    print(f"slowest sig to explain: {statistics.median(cpu['explain'][slowest]):.3f} ms CPU "
          f"(median; parse {statistics.median(cpu['parse'][slowest]):.3f} ms): "
          f"{sigs[slowest][0]!r}")

if __name__ == "__main__":
    main()
