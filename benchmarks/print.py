"""How long a label print takes through a real CUPS with the cups-pdf virtual printer, and how
long the ZPL is to make and send to a port-9100 listener.

Prints figures; asserts nothing. Needs root and Debian's cups and printer-driver-cups-pdf (as
the tests: bash scripts/check installs them); starts its own cupsd (tests/printers.py).

    .venv/bin/python benchmarks/print.py --rounds 10

Rows:
  leaflets print   the `leaflets print` command in-process (verify against record and ledger,
                   check the queue, lp, ledger row) until lp has the job
  to PDF out       from the command's start until cups-pdf has written the PDF and CUPS calls the
                   job completed (filters: pdftopdf, pdftops, gs, cups-pdf)
  ZPL              label_zpl at 203 and 300 dpi (raster, threshold, ^GF), and its size
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from leaflets.cli import main  # noqa: E402
from leaflets.printing.zpl import label_zpl  # noqa: E402
from printers import cups_server, missing  # type: ignore[import-not-found]  # noqa: E402


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exit_code != 0:
        raise SystemExit(result.stderr or repr(result.exception))
    return result.stdout


def figures(label: str, values: list[float]) -> None:
    values = sorted(values)
    print(f"{label:<18} median {statistics.median(values) * 1000:7.1f} ms   "
          f"min {values[0] * 1000:7.1f} ms   max {values[-1] * 1000:7.1f} ms")


def main_() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    why = missing()
    if why:
        raise SystemExit(f"cannot run: {why}")
    with tempfile.TemporaryDirectory() as tmp, cups_server() as cups:
        cups.add_pdf_queue("labels")
        out, ledger = Path(tmp) / "out", Path(tmp) / "ledger.sqlite"
        env = {"CUPS_SERVER": str(cups.socket)}
        run(env, "render", str(ROOT / "examples" / "fill.yaml"), "--out", str(out), "--ledger", str(ledger))
        submitted, completed = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            text = run(env, "print", "600123-0", "--out", str(out), "--ledger", str(ledger),
                       "--labels", "labels", "--documents", "labels")
            submitted.append(time.perf_counter() - start)
            job = text.split("job ", 1)[1].split(",", 1)[0]
            for queue_job in (job,):
                cups.wait_completed("labels", queue_job, timeout_s=120)
            completed.append(time.perf_counter() - start)
        print(f"{args.rounds} rounds of `leaflets print 600123-0` (label and leaflet to one "
              "cups-pdf queue)")
        figures("leaflets print", submitted)
        figures("label to PDF out", completed)
        pdf = (out / "600123-0" / "label.pdf").read_bytes()
        for dpi in (203, 300):
            times = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                data = label_zpl(pdf, dpi)
                times.append(time.perf_counter() - start)
            figures(f"ZPL {dpi} dpi", times)
            print(f"{'':<18} {len(data):,} bytes")


if __name__ == "__main__":
    main_()
