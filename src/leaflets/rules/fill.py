"""The facts of one fill: BUD, directions, cautions and staff warnings. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..models import BudCounting, DoseUnit, Fill, Product
from .abbreviations import Hit, find_banned
from .bud import Bud, check_bud_for_fill, compute_bud
from .cautions import Caution, cautions_for
from .sig import Directions, Dosage, daily_dose_count, parse_directions


@dataclass(frozen=True)
class Facts:
    bud: Bud
    directions: Directions
    cautions: tuple[Caution, ...]
    warnings: tuple[str, ...]


def assess_fill(fill: Fill, product: Product, counting: BudCounting) -> Facts:
    c = fill.compounding
    bud = compute_bud(product.bud.category, c.compounded_on, c.component_expirations,
                      days=product.bud.days, basis=product.bud.basis, counting=counting)
    warnings = check_bud_for_fill(bud, fill.fill_date, fill.days_supply)
    directions = parse_directions(fill.directions, route=product.route, unit=product.dosage_form)
    if isinstance(directions, Dosage):
        warnings.extend(_supply_warnings(directions, fill))
    return Facts(bud, directions, cautions_for(product), tuple(warnings))


def _supply_warnings(dosage: Dosage, fill: Fill) -> list[str]:
    # The quantity should cover the days' supply when the directions fix a daily amount.
    per_day = daily_dose_count(dosage)
    if per_day is None or dosage.unit is None or dosage.duration_days is not None:
        return []
    expected = per_day * fill.days_supply
    if expected != fill.quantity:
        unit = dosage.unit.value if dosage.unit is not DoseUnit.ML else "mL"
        return [f"quantity {fill.quantity} {unit} does not match the directions: {per_day} per "
                f"day for {fill.days_supply} days is {expected}"]
    return []


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
