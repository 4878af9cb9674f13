"""The directions tables: at least 150 real-world sigs with their sentences in English and
Spanish, and at least 40 that must be refused, each with its message (tests/data/sigs.yaml, and
tests/data/sigs-*.yaml: one table per group of patterns, same format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from leaflets.compose import render_directions
from leaflets.errors import SafetyError
from leaflets.models import DoseUnit, Route
from leaflets.rules.abbreviations import find_banned
from leaflets.rules.sig import Sig, parse_directions

TABLES = [yaml.safe_load(path.read_text(encoding="utf-8"))
          for path in sorted((Path(__file__).parent / "data").glob("sigs*.yaml"))]
ACCEPTED: list[dict[str, Any]] = [e for table in TABLES for e in table.get("accepted") or []]
REFUSED: list[dict[str, Any]] = [e for table in TABLES for e in table.get("refused") or []]


def _parse(entry: dict[str, Any]) -> Any:
    route = Route(entry["route"]) if entry.get("route") else None
    unit = DoseUnit(entry["unit"]) if entry.get("unit") else None
    return parse_directions(entry["sig"], route=route, unit=unit)


def test_the_table_is_big_enough() -> None:
    assert len(ACCEPTED) >= 150 and len(REFUSED) >= 40
    cases = [(e["sig"], e.get("route"), e.get("unit")) for e in ACCEPTED + REFUSED]
    assert len(cases) == len(set(cases)), "a sig is listed twice for the same product"


@pytest.mark.parametrize("entry", ACCEPTED, ids=[e["sig"] for e in ACCEPTED])
def test_sig_reads_as_expected_in_english_and_spanish(entry: dict[str, Any]) -> None:
    sig = _parse(entry)
    assert isinstance(sig, Sig), "read as plain directions, not as a sig"
    english = render_directions(sig)
    assert english == entry["en"]
    assert render_directions(sig, "es") == entry["es"]
    assert parse_directions(english) == sig, "the English does not read back to the same sig"
    assert find_banned(english, symbols=True) == []
    assert find_banned(entry["es"], symbols=True) == []


@pytest.mark.parametrize("entry", REFUSED, ids=[e["sig"] for e in REFUSED])
def test_sig_is_refused_with_its_message(entry: dict[str, Any]) -> None:
    with pytest.raises(SafetyError) as err:
        _parse(entry)
    assert err.value.field == "directions"
    assert err.value.reason == entry["message"]
    assert entry["token"].lower() in err.value.reason.lower()
