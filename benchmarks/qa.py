"""How long `leaflets qa` takes on two output trees: identical, and with a few changed documents.

Prints figures; asserts nothing (tests never time anything).

    .venv/bin/python benchmarks/qa.py                  # 1,000 fills
    .venv/bin/python benchmarks/qa.py --fills 200 --changed 10

Rows:
  identical   compare two copies of a batch's output tree (every file matched, bytes compared)
  changed     the same with N fills rendered again with other directions: their label, leaflet
              and record differ, and only those are opened and rasterised
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from leaflets.batch import run_batch
from leaflets.pipeline import Settings
from leaflets.qa import compare

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from batch import make_input  # noqa: E402  (the batch benchmark's input maker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--dir", type=Path, default=ROOT / "out" / "benchmarks")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(ROOT / "products", ROOT / "pharmacy.yaml")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        source = base / "fills.csv"
        make_input(args.fills, source)
        run_batch([source], settings, base / "expected", workers=2)
        shutil.copytree(base / "expected", base / "actual")
        start = time.perf_counter()
        same = compare(base / "actual", base / "expected")
        identical = time.perf_counter() - start
        files = len(same.documents)

        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        changed = base / "changed.csv"
        rows = [line for line in lines[1:] if ",1 cap po qd," in line][:args.changed]
        changed.write_text(lines[0] + "".join(r.replace(",1 cap po qd,", ",1 cap po qam,") for r in rows),
                           encoding="utf-8")
        fresh = base / "fresh"
        run_batch([changed], settings, fresh, workers=1)
        for fill in fresh.iterdir():
            if fill.name != "batches":
                shutil.rmtree(base / "actual" / fill.name)
                shutil.copytree(fill, base / "actual" / fill.name)
        start = time.perf_counter()
        result = compare(base / "actual", base / "expected")
        with_changes = time.perf_counter() - start
        differing = [d for d in result.documents if not d.ok]
    print(f"{args.fills} fills, {files} files per tree")
    print(f"identical trees: {identical:.3f} s ({identical / args.fills * 100:.3f} s per 100 fills)")
    print(f"{len(rows)} fills changed ({len(differing)} differing files): {with_changes:.3f} s "
          f"(hashing the rest accounts for about {identical:.3f} s of it)")


if __name__ == "__main__":
    main()
