"""The directions tables: at least 150 real-world sigs with their sentences in English and
Spanish, and at least 40 that must be refused, each with its message (tests/data/sigs.yaml, and
tests/data/sigs-*.yaml: one table per group of patterns, same format)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from leaflets.compose import render_directions
from leaflets.errors import SafetyError
from leaflets.models import DoseUnit, Route, TopicalSite
from leaflets.rules.abbreviations import find_banned
from leaflets.rules.sig import Context, Sig, parse_directions

TABLES = [yaml.safe_load(path.read_text(encoding="utf-8"))
          for path in sorted((Path(__file__).parent / "data").glob("sigs*.yaml"))]
ACCEPTED: list[dict[str, Any]] = [e for table in TABLES for e in table.get("accepted") or []]
REFUSED: list[dict[str, Any]] = [e for table in TABLES for e in table.get("refused") or []]


def _context(entry: dict[str, Any]) -> Context:
    """The product a sig is read for: route and unit, and for doses by mass or in clicks the
    product's strength, grams_per_click and topical_site (tests/data/sigs-doses.yaml)."""
    return Context(route=Route(entry["route"]) if entry.get("route") else None,
                   unit=DoseUnit(entry["unit"]) if entry.get("unit") else None,
                   topical_site=TopicalSite(entry["topical_site"]) if entry.get("topical_site")
                   else None, strength=entry.get("strength"),
                   grams_per_click=(Decimal(str(entry["grams_per_click"]))
                                    if entry.get("grams_per_click") else None),
                   product=entry.get("product"))


def _parse(entry: dict[str, Any]) -> Any:
    return parse_directions(entry["sig"], _context(entry))


def test_the_table_is_big_enough() -> None:
    assert len(ACCEPTED) >= 150 and len(REFUSED) >= 40
    cases = [(e["sig"], e.get("route"), e.get("unit"), e.get("strength"), e.get("grams_per_click"))
             for e in ACCEPTED + REFUSED]
    assert len(cases) == len(set(cases)), "a sig is listed twice for the same product"


@pytest.mark.parametrize("entry", ACCEPTED, ids=[e["sig"] for e in ACCEPTED])
def test_sig_reads_as_expected_in_english_and_spanish(entry: dict[str, Any]) -> None:
    sig = _parse(entry)
    assert isinstance(sig, Sig), "read as plain directions, not as a sig"
    english = render_directions(sig)
    assert english == entry["en"]
    assert render_directions(sig, "es") == entry["es"]
    # read back with no product, or with the product whose strength or pump the English cites
    back = _context(entry) if entry.get("strength") or entry.get("grams_per_click") else None
    assert parse_directions(english, back) == sig, "the English does not read back to the same sig"
    assert find_banned(english, symbols=True) == []
    assert find_banned(entry["es"], symbols=True) == []


@pytest.mark.parametrize("entry", REFUSED, ids=[e["sig"] for e in REFUSED])
def test_sig_is_refused_with_its_message(entry: dict[str, Any]) -> None:
    with pytest.raises(SafetyError) as err:
        _parse(entry)
    assert err.value.field == "directions"
    assert err.value.reason == entry["message"]
    assert entry["token"].lower() in err.value.reason.lower()
