"""The facts of one fill: BUD, directions, cautions and staff warnings. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..models import BudCounting, DoseUnit, Fill, Product
from .abbreviations import Hit, find_banned
from .bud import Bud, check_bud_for_fill, product_bud
from .cautions import Caution, cautions_for
from .sig import (
    Context,
    Directions,
    Sig,
    amount_text,
    parse_directions,
    plural_noun,
    total_amount,
)


@dataclass(frozen=True)
class Facts:
    bud: Bud
    directions: Directions
    cautions: tuple[Caution, ...]
    warnings: tuple[str, ...]


def assess_fill(fill: Fill, product: Product, counting: BudCounting) -> Facts:
    c = fill.compounding
    bud = product_bud(product.bud, c.compounded_on, c.component_expirations, counting)
    warnings = check_bud_for_fill(bud, fill.fill_date, fill.days_supply)
    directions = parse_directions(fill.directions, Context.of(product),
                                  verbatim=fill.directions_verbatim is not None)
    if isinstance(directions, Sig):
        warnings.extend(_supply_warnings(directions, fill))
    return Facts(bud, directions, cautions_for(product), tuple(warnings))


def _supply_warnings(sig: Sig, fill: Fill) -> list[str]:
    """The quantity should be what the directions use over the days' supply, when they fix it
    (30 capsules for 1 daily for 30 days; a taper sums its steps). A difference is a warning to
    staff, not a refusal: a pharmacist may dispense extra on purpose."""
    needed = total_amount(sig, fill.days_supply)
    unit = sig.steps[0].unit
    if needed is None or unit is None or any(step.unit is not unit for step in sig.steps):
        return []
    durations = [s.duration.days for s in sig.steps if s.duration is not None]
    days = sum(durations) if len(durations) == len(sig.steps) else fill.days_supply
    if needed != fill.quantity:
        return [f"quantity {amount_text(fill.quantity)} {_noun(unit, fill.quantity)} does not "
                f"match the directions: {days} days of them use {amount_text(needed)} "
                f"{_noun(unit, needed)}"]
    return []


def _noun(unit: DoseUnit, amount: Decimal) -> str:
    return unit.value if amount == 1 else plural_noun(unit)


def product_texts(product: Product) -> Iterator[tuple[str, str]]:
    """Every string of a product with its dotted path, for the abbreviation check."""

    def walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                yield from walk(v, f"{path}.{i}")

    data = product.model_dump(mode="json", exclude={"slug", "revised"})
    yield from walk(data, "")


def product_text_hits(product: Product) -> list[tuple[str, Hit]]:
    return [(path, hit) for path, text in product_texts(product) for hit in find_banned(text)]
