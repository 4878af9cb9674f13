"""How long a label, a leaflet and a whole fill take to render, in memory, warm and cold.

Prints figures; asserts nothing (tests never time anything). Compare runs as ratios within one
machine, as shared/notes/performance.md does.

    .venv/bin/python benchmarks/render.py            # N = 200
    .venv/bin/python benchmarks/render.py --n 50

Rows:
  label    layout_label + render_label of examples/fill.yaml (inputs loaded and composed once)
  leaflet  compose_document + render_document + write_pdf of the leaflet (the product's body is
           laid out once per process, as in every run)
  pair     Session.prepare of the loaded fill: rules, compose, layout, render of label, leaflet
           and fill.json, in memory (no file writes), in a session that has seen the product
  fresh    prepare_fill(examples/fill.yaml): the same in a new session (loads and checks the
           pharmacy, stock, style and product files)

Start-up: cold processes, median of --cli-runs, taken in turn so the machine's noise falls on all
of them alike; wall time and CPU time (user + system, steadier on a loaded machine), each also
as a multiple of `python -c pass` in the same run:
  python -c pass                              the interpreter alone (the baseline)
  leaflets --help                             click and the command table only
  leaflets sig "1 cap po qd"                  the sig rules and the directions template
  leaflets render examples/fill.yaml --out    one fill: label, leaflet and record written
The processes write and read bytecode (__pycache__) as a default Python does, even when this
shell sets PYTHONDONTWRITEBYTECODE; one untimed round goes first to fill the caches.

    .venv/bin/python benchmarks/render.py --startup-only --cli-runs 11
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import reportlab

from leaflets.compose import Context, compose_document, compose_label, render_directions
from leaflets.layout import layout_label
from leaflets.load import load_document_style, load_fill, load_pharmacy, load_stock
from leaflets.pdf import Info
from leaflets.pipeline import Session, Settings, load_product_checked, prepare_fill
from leaflets.render import render_document, render_label, write_pdf
from leaflets.rules.fill import assess_fill

ROOT = Path(__file__).resolve().parents[1]
FILL = Path("examples/fill.yaml")


def measure(fn: Callable[[], object], n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="timed iterations per row")
    parser.add_argument("--warmup", type=int, default=None, help="untimed iterations first "
                        "(default: n // 10, at least 5)")
    parser.add_argument("--cli-runs", type=int, default=7, help="cold processes per command")
    parser.add_argument("--startup-only", action="store_true",
                        help="only the start-up rows (cold processes)")
    args = parser.parse_args()
    n = max(args.n, 2)
    args.cli_runs = max(args.cli_runs, 2)
    warmup = args.warmup if args.warmup is not None else max(5, n // 10)
    os.chdir(ROOT)      # the CLI's defaults (products/, pharmacy.yaml) are relative to the root
    startup = measure_startup(args.cli_runs)
    print("environment")
    print(f"  python     {platform.python_version()} ({platform.python_implementation()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs)")
    print(f"  reportlab  {reportlab.Version}")
    print(f"  rl_accel   {'importable' if importlib.util.find_spec('_rl_accel') else 'MISSING'}")
    if not args.startup_only:
        in_memory(n, warmup)
    print()
    print(f"start-up: cold processes, median of {args.cli_runs} (after one untimed round)")
    print(f"{'command':<48}{'median s':>10}{'p90 s':>8}{'× pass':>8}{'cpu s':>8}{'× pass':>8}")
    wall0, cpu0 = (statistics.median(t) for t in startup[STARTUP[0][0]])
    for name, _ in STARTUP:
        wall, cpu = startup[name]
        print(f"{name:<48}{statistics.median(wall):>10.3f}{p90(wall):>8.3f}"
              f"{statistics.median(wall) / wall0:>8.1f}{statistics.median(cpu):>8.3f}"
              f"{statistics.median(cpu) / cpu0:>8.1f}")


# The commands timed cold, in the order they are run in each round.
STARTUP: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("python -c pass", ("{python}", "-c", "pass")),
    ("leaflets --help", ("{leaflets}", "--help")),
    ('leaflets sig "1 cap po qd"', ("{leaflets}", "sig", "1 cap po qd")),
    ("leaflets render examples/fill.yaml --out <tmp>",
     ("{leaflets}", "render", str(FILL), "--out", "{out}")),
)


def measure_startup(runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds (user + system) per cold process of each STARTUP command, `runs`
    rounds after one untimed round. CPU time moves less than wall time when others load the
    machine."""
    exe = Path(sys.executable).with_name("leaflets")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _ in STARTUP}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(runs + 1):
            for name, argv in STARTUP:
                command = [a.format(python=sys.executable, leaflets=exe, out=f"{tmp}/{round_}")
                           for a in argv]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
                wall = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if round_:
                    times[name][0].append(wall)
                    times[name][1].append(after.ru_utime + after.ru_stime
                                          - before.ru_utime - before.ru_stime)
    return times


def in_memory(n: int, warmup: int) -> None:
    settings = Settings()
    loaded = load_fill(FILL)
    fill = loaded.model
    pharmacy = load_pharmacy(settings.pharmacy).model
    product = load_product_checked(settings.catalog, fill.product).model
    stock = load_stock(settings.stock or pharmacy.default_stock).model
    facts = assess_fill(fill, product, pharmacy.bud_counting)
    url = pharmacy.monograph_url(product.slug)
    context = Context(product=product, pharmacy=pharmacy, url=url, fill=fill, bud=facts.bud,
                      directions=render_directions(facts.directions), cautions=facts.cautions)
    fields = dict(compose_label(context).fields)
    style = load_document_style("leaflet").model

    def label() -> bytes:
        layout = layout_label(fields, stock, qr_data=url, barcode_value=fill.rx_number)
        return render_label(layout, title=f"Prescription label, Rx {fill.key}", day=fill.fill_date)

    session = Session(settings)
    body = session.leaflet_body(session.product(fill.product), fill.patient.language, style.name)

    def leaflet() -> bytes:
        head = compose_document("leaflet.xml.j2", context)
        return write_pdf(render_document(head, style, body=body),
                         Info(head.title, head.subject, fill.fill_date))

    def pair() -> object:
        return session.prepare(loaded)

    def fresh() -> object:
        return prepare_fill(FILL, settings)

    rows = {name: measure(fn, n, warmup) for name, fn in
            (("label", label), ("leaflet", leaflet), ("pair", pair), ("fresh", fresh))}

    sizes = prepare_fill(FILL, settings).files
    print(f"  fill       {FILL}; label {len(sizes['label.pdf']):,} B, "
          f"leaflet {len(sizes['leaflet.pdf']):,} B")
    print(f"  runs       N={n} timed after {warmup} warm-up")
    print()
    print(f"{'what':<10}{'median ms':>11}{'p90 ms':>10}{'per s':>9}")
    for name, times in rows.items():
        median = statistics.median(times)
        print(f"{name:<10}{median:>11.2f}{p90(times):>10.2f}{1000 / median:>9.1f}")


if __name__ == "__main__":
    main()
