"""How well the directions engine reads the sig corpus (tests/data/sig-corpus.yaml), next to the
engine as it was before issue 12, in the same run.

Prints figures; asserts nothing (tests/test_sig_corpus.py holds the lines that must not move).

    .venv/bin/python benchmarks/sigs.py                     # baseline: before issue 12
    .venv/bin/python benchmarks/sigs.py --baseline HEAD~5   # any git revision
    .venv/bin/python benchmarks/sigs.py --misses            # list what is not read right

Each corpus sig is labelled by hand: `en` (what the label must say) or `refuse` with `names` (a
word the refusal must mention, or a list of them when the sig has several problems: naming any
one is naming a problem the prescriber must fix). Rows:
  clear: right      printed exactly the labelled sentence
  clear: wrong      printed something else (the figure that must stay 0)
  clear: refused    not printed (staff retype it; safe, but work)
  refuse: named     refused, and the message names the labelled word
  refuse: unnamed   refused with a message that does not name it
  refuse: printed   printed although it must be refused (must stay 0)
The baseline is the engine's source at a git revision, read in a subprocess from `git archive`.
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "sig-corpus.yaml"
BEFORE_ISSUE_12 = "7dfd7b7"      # main when issue 12's work began


def outcome(entry: dict[str, Any]) -> tuple[str, str]:
    """("printed", text) or ("refused", message) for one corpus entry, with the engine on the
    import path (this revision's, or the baseline's in its subprocess)."""
    from leaflets.compose import render_directions
    from leaflets.errors import SafetyError
    from leaflets.models import DoseUnit, Route
    from leaflets.rules import sig as engine

    context = entry.get("context") or {}
    try:
        route = Route(context["route"]) if context.get("route") else None
        unit = DoseUnit(context["unit"]) if context.get("unit") else None
    except ValueError as exc:       # a product this engine has no unit or route for
        return "refused", f"no such product here: {exc}"
    try:
        if hasattr(engine, "Context"):
            values = {**context, "route": route, "unit": unit}
            directions = engine.parse_directions(entry["sig"], _context(engine.Context, values))
        else:
            directions = engine.parse_directions(entry["sig"], route=route, unit=unit)
        return "printed", render_directions(directions)
    except SafetyError as err:
        return "refused", err.reason


def _context(cls: Any, values: dict[str, Any]) -> Any:
    """A Context from corpus values (text), converting what the constructor types need."""
    from decimal import Decimal

    from leaflets.models import TopicalSite
    converted: dict[str, Any] = {}
    params = inspect.signature(cls).parameters
    for key, value in values.items():
        if key not in params or value is None:
            continue
        if key == "topical_site":
            value = TopicalSite(value)
        elif key == "grams_per_click":
            value = Decimal(str(value))
        converted[key] = value
    return cls(**converted)


def grade(entry: dict[str, Any], result: tuple[str, str]) -> str:
    kind, text = result
    if "en" in entry:
        if kind == "refused":
            return "clear: refused"
        return "clear: right" if text == entry["en"] else "clear: wrong"
    if kind == "printed":
        return "refuse: printed"
    names = entry["names"] if isinstance(entry["names"], list) else [entry["names"]]
    named = any(str(name).lower() in text.lower() for name in names)
    return "refuse: named" if named else "refuse: unnamed"


ROWS = ["clear: right", "clear: wrong", "clear: refused", "refuse: named", "refuse: unnamed",
        "refuse: printed"]


def evaluate(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(grade(e, r), *r) for e in entries for r in [outcome(e)]]


def _baseline(revision: str, entries: list[dict[str, Any]]) -> list[str] | None:
    """The grades of the engine at `revision`, from its source in a temporary folder."""
    try:
        archive = subprocess.run(["git", "archive", revision, "src", "templates"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        print(f"baseline {revision}: not available ({exc})", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
                "sys.path.insert(0, sys.argv[2]); import sigs; "
                "entries = json.load(sys.stdin); "
                "print(json.dumps([g for g, _, _ in sigs.evaluate(entries)]))")
        done = subprocess.run([sys.executable, "-c", code, str(Path(tmp) / "src"),
                               str(ROOT / "benchmarks")], input=json.dumps(entries),
                              capture_output=True, text=True, cwd=tmp,
                              env={"PATH": "/usr/bin:/bin", "HOME": tmp})
    if done.returncode:
        print(f"baseline {revision} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    grades: list[str] = json.loads(done.stdout)
    return grades


def _table(columns: dict[str, list[str]], entries: list[dict[str, Any]]) -> None:
    clear = sum("en" in e for e in entries)
    refuse = len(entries) - clear
    print(f"{'':18}" + "".join(f"{name:>22}" for name in columns))
    for row in ROWS:
        total = clear if row.startswith("clear") else refuse
        cells = []
        for grades in columns.values():
            n = Counter(grades)[row]
            cells.append(f"{n:>5} ({100 * n / total:5.1f} %)" if total else "-")
        print(f"{row:18}" + "".join(f"{c:>22}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BEFORE_ISSUE_12,
                        help="git revision to compare with (default: before issue 12)")
    parser.add_argument("--misses", action="store_true", help="list what is not read right")
    args = parser.parse_args()
    import yaml
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = corpus["sigs"]
    sys.path.insert(0, str(ROOT / "src"))
    now = evaluate(entries)
    real = [i for i, e in enumerate(entries) if e["source"] != "written"]
    print(f"corpus: {len(entries)} sigs ({len(real)} real, {len(entries) - len(real)} written); "
          f"{sum('en' in e for e in entries)} clear, {sum('refuse' in e for e in entries)} "
          "to refuse\n")
    columns = {"now": [g for g, _, _ in now]}
    before = _baseline(args.baseline, entries)
    if before is not None:
        columns = {f"before ({args.baseline})": before, **columns}
    print("all sigs")
    _table(columns, entries)
    print("\nreal sigs only")
    _table({name: [grades[i] for i in real] for name, grades in columns.items()},
           [entries[i] for i in real])
    if args.misses:
        print()
        for entry, (grade_, kind, text) in zip(entries, now, strict=True):
            if grade_ not in ("clear: right", "refuse: named"):
                want = entry.get("en") or f"refuse naming '{entry['names']}' ({entry['refuse']})"
                print(f"[{grade_}] {entry['sig']!r}  ctx={entry.get('context')}\n"
                      f"    want: {want}\n    got:  {kind}: {text}")


if __name__ == "__main__":
    main()
