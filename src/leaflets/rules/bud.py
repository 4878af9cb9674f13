"""USP <795> (2023) beyond-use dates for compounded nonsterile preparations.

Source: shared/reference/usp-795-bud.md. Section numbers below refer to that file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import SafetyError
from ..models import BudCategory, BudCounting, BudSpec

# §3, USP <795> (2023) Table 4: maximum BUD in days by category, when there is no USP-NF
# compounded monograph and no CNSP-specific stability information.
TABLE_4_DAYS: dict[BudCategory, int] = {
    BudCategory.AQUEOUS_NONPRESERVED: 14,
    BudCategory.AQUEOUS_PRESERVED: 35,
    BudCategory.NONAQUEOUS_ORAL_LIQUID: 90,
    BudCategory.NONAQUEOUS_OTHER: 180,
}

# §4 item 3: even with stability data a <795> BUD may not exceed 180 days. The reference marks
# this UNVERIFIED; we take the safer reading and enforce it.
MAX_DAYS = 180

CATEGORY_WORDS: dict[BudCategory, str] = {
    BudCategory.AQUEOUS_NONPRESERVED: "aqueous non-preserved preparation",
    BudCategory.AQUEOUS_PRESERVED: "aqueous preserved preparation",
    BudCategory.NONAQUEOUS_ORAL_LIQUID: "nonaqueous oral liquid",
    BudCategory.NONAQUEOUS_OTHER: "nonaqueous dosage form",
}


@dataclass(frozen=True)
class Bud:
    date: dt.date
    days: int
    counting: BudCounting
    capped_by_expiry: bool
    reason: str


def compute_bud(
    category: BudCategory,
    compounded_on: dt.date,
    component_expirations: Sequence[dt.date],
    *,
    days: int | None = None,
    basis: str | None = None,
    counting: BudCounting = BudCounting.COMPOUNDING_DAY_IS_DAY_1,
) -> Bud:
    """The BUD of one compounded lot, with the reason it is that date."""
    if not component_expirations:
        raise SafetyError("compounding.component_expirations",
                          "at least one component expiration date is needed to cap the BUD")
    if days is not None:
        if basis is None:
            raise SafetyError("bud.basis", "a BUD beyond Table 4 needs its basis (§4 item 2)")
        if not 1 <= days <= MAX_DAYS:
            raise SafetyError("bud.days", f"expected 1 to {MAX_DAYS} days, got {days} (§4 item 3)")
        limit, source = days, f"{days} days from {basis}"
    else:
        limit = TABLE_4_DAYS[category]
        source = f"USP <795> default {limit} days"

    # §5: with the compounding day as day 1 the last day of use is compounded_on + N - 1 (the
    # conservative reading); elapsed-day counting gives compounded_on + N.
    if counting is BudCounting.COMPOUNDING_DAY_IS_DAY_1:
        by_days = compounded_on + dt.timedelta(days=limit - 1)
        how = "compounding day counted as day 1"
    else:
        by_days = compounded_on + dt.timedelta(days=limit)
        how = "counted in elapsed days"

    earliest = min(component_expirations)
    if earliest < compounded_on:
        raise SafetyError("compounding.component_expirations",
                          f"a component expired on {earliest}, before the preparation was "
                          f"compounded on {compounded_on}")
    # §4 item 6: never later than the earliest expiration date of any component.
    capped = earliest < by_days
    date = earliest if capped else by_days
    reason = f"{CATEGORY_WORDS[category]}, {source}, {how}"
    if capped:
        reason += f", capped by component expiry {earliest.isoformat()}"
    return Bud(date=date, days=limit, counting=counting, capped_by_expiry=capped, reason=reason)


def product_bud(spec: BudSpec, compounded_on: dt.date, component_expirations: Sequence[dt.date],
                counting: BudCounting) -> Bud:
    """The BUD of a lot of a product, by the product's BUD spec (its category, and days beyond
    Table 4 with their basis): what a fill, `leaflets bud` and the counter's form all ask."""
    return compute_bud(spec.category, compounded_on, component_expirations, days=spec.days,
                       basis=spec.basis, counting=counting)


def check_bud_for_fill(bud: Bud, fill_date: dt.date, days_supply: int) -> list[str]:
    """Refuse a fill with no usable time; return warnings for staff.

    §5: a preparation whose BUD is on or before the fill date gives the patient no usable time.
    How much time must remain is SOP, so a BUD inside the days' supply is a warning, not an error.
    """
    if bud.date <= fill_date:
        raise SafetyError("compounding.compounded_on",
                          f"beyond-use date {bud.date.isoformat()} is on or before the fill date "
                          f"{fill_date.isoformat()} ({bud.reason}); this lot cannot be dispensed")
    warnings: list[str] = []
    # The supply's last dose is taken on fill_date + days_supply - 1.
    last_dose = fill_date + dt.timedelta(days=days_supply - 1)
    if bud.date < last_dose:
        usable = (bud.date - fill_date).days + 1
        warnings.append(f"beyond-use date {bud.date.isoformat()} comes before the end of the "
                        f"{days_supply}-day supply ({last_dose.isoformat()}): the patient can use "
                        f"this fill for {usable} days")
    return warnings
