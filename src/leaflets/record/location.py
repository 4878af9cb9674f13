"""Where the ledger is: --ledger, else the pharmacy profile's `ledger:`, else ledger.sqlite beside
the out folder. Apart from `stage` so the readers (`ledger verify`, `history`, `recall`) find it
without importing the rendering stack."""

from __future__ import annotations

from pathlib import Path

LEDGER_NAME = "ledger.sqlite"


def default_ledger(out: Path) -> Path:
    """Beside the out folder (not in it: clearing out/ must not clear the record)."""
    return out.parent / LEDGER_NAME


def find_ledger(given: Path | None, pharmacy: Path | None, out: Path) -> Path:
    """--ledger (given), else the profile's `ledger:` (when a profile is read), else
    ledger.sqlite beside the out folder: the one order every command finds the ledger in."""
    return given or (profile_ledger(pharmacy) if pharmacy else None) or default_ledger(out)


def profile_ledger(pharmacy: Path) -> Path | None:
    """The pharmacy profile's `ledger:`, relative to the profile's folder unless absolute; None
    when the profile names none."""
    from ..load import load_pharmacy  # pydantic and YAML, only when a profile is read
    named = load_pharmacy(pharmacy).model.ledger
    return None if named is None else pharmacy.parent / named
