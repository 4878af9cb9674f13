"""USP <795> BUD rule: shared/reference/usp-795-bud.md, worked examples of §6 and rules of §3–5."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leaflets.errors import SafetyError
from leaflets.models import BudCategory, BudCounting
from leaflets.rules.bud import MAX_DAYS, TABLE_4_DAYS, check_bud_for_fill, compute_bud

from .strategies import categories, countings, dates, expiry_lists

D = dt.date
DAY1, DAY0 = BudCounting.COMPOUNDING_DAY_IS_DAY_1, BudCounting.ELAPSED_DAYS
NA, NAOL = BudCategory.NONAQUEOUS_OTHER, BudCategory.NONAQUEOUS_ORAL_LIQUID
AQNP, AQP = BudCategory.AQUEOUS_NONPRESERVED, BudCategory.AQUEOUS_PRESERVED
FAR = D(2099, 12, 31)


# usp-795-bud.md §6, examples 1 and 3–8, each in both conventions, copied from the reference.
@pytest.mark.parametrize(("category", "compounded", "day1", "day0"), [
    (NA, D(2025, 3, 10), D(2025, 9, 5), D(2025, 9, 6)),       # 1
    (NAOL, D(2023, 12, 1), D(2024, 2, 28), D(2024, 2, 29)),   # 3, leap day
    (AQNP, D(2024, 2, 20), D(2024, 3, 4), D(2024, 3, 5)),     # 4
    (AQP, D(2025, 1, 31), D(2025, 3, 6), D(2025, 3, 7)),      # 5
    (NA, D(2025, 8, 31), D(2026, 2, 26), D(2026, 2, 27)),     # 6, not "6 months"
    (NA, D(2024, 12, 15), D(2025, 6, 12), D(2025, 6, 13)),    # 7
    (NA, D(2023, 9, 1), D(2024, 2, 27), D(2024, 2, 28)),      # 8
])
def test_worked_examples(category: BudCategory, compounded: dt.date, day1: dt.date,
                         day0: dt.date) -> None:
    assert compute_bud(category, compounded, [FAR], counting=DAY1).date == day1
    assert compute_bud(category, compounded, [FAR], counting=DAY0).date == day0


def test_example_2_month_expiry_caps_the_bud() -> None:
    # "08/2025" means 2025-08-31 (§4 item 7); loading turns "2025-08" into that date.
    from leaflets.models import _expiry
    bud = compute_bud(NA, D(2025, 3, 10), [D(2026, 6, 30), _expiry("2025-08")])
    assert bud.date == D(2025, 8, 31)
    assert bud.capped_by_expiry
    assert bud.reason == ("nonaqueous dosage form, USP <795> default 180 days, compounding day "
                          "counted as day 1, capped by component expiry 2025-08-31")


def test_table_4_defaults() -> None:
    assert TABLE_4_DAYS == {AQNP: 14, AQP: 35, NAOL: 90, NA: 180}


def test_reason_says_which_counting() -> None:
    assert "elapsed days" in compute_bud(NA, D(2026, 1, 1), [FAR], counting=DAY0).reason
    assert "day 1" in compute_bud(NA, D(2026, 1, 1), [FAR], counting=DAY1).reason


def test_stability_days_replace_the_default_with_their_basis() -> None:
    bud = compute_bud(AQNP, D(2026, 1, 1), [FAR], days=30, basis="stability study GC-17")
    assert bud.date == D(2026, 1, 30)
    assert "30 days from stability study GC-17" in bud.reason


@pytest.mark.parametrize(("days", "basis", "field"), [
    (181, "study", "bud.days"), (0, "study", "bud.days"), (30, None, "bud.basis")])
def test_extended_bud_limits(days: int, basis: str | None, field: str) -> None:
    with pytest.raises(SafetyError) as err:
        compute_bud(NA, D(2026, 1, 1), [FAR], days=days, basis=basis)
    assert err.value.field == field


def test_component_expired_before_compounding_is_refused() -> None:
    with pytest.raises(SafetyError, match="expired on 2025-12-31, before"):
        compute_bud(NA, D(2026, 1, 1), [D(2025, 12, 31)])


def test_fill_on_or_after_bud_is_refused() -> None:
    bud = compute_bud(AQNP, D(2026, 1, 1), [FAR])          # BUD 2026-01-14
    with pytest.raises(SafetyError) as err:
        check_bud_for_fill(bud, D(2026, 1, 14), 1)
    assert err.value.field == "compounding.compounded_on"
    assert str(err.value) == (
        "compounding.compounded_on: beyond-use date 2026-01-14 is on or before the fill date "
        "2026-01-14 (aqueous non-preserved preparation, USP <795> default 14 days, compounding "
        "day counted as day 1); this lot cannot be dispensed")
    assert check_bud_for_fill(bud, D(2026, 1, 13), 2) == []


def test_bud_inside_the_days_supply_is_a_warning() -> None:
    bud = compute_bud(AQNP, D(2026, 1, 1), [FAR])          # BUD 2026-01-14
    (warning,) = check_bud_for_fill(bud, D(2026, 1, 10), 30)
    assert "2026-01-14" in warning and "5 days" in warning


@given(categories, dates, expiry_lists, countings, st.integers(1, 120))
def test_bud_properties(category: BudCategory, compounded: dt.date, expiries: list[dt.date],
                        counting: BudCounting, days_supply: int) -> None:
    try:
        bud = compute_bud(category, compounded, expiries, counting=counting)
    except SafetyError:
        assert min(expiries) < compounded
        return
    # Never later than the earliest component expiry, never past the Table 4 limit.
    assert bud.date <= min(expiries)
    assert (bud.date - compounded).days <= TABLE_4_DAYS[category] <= MAX_DAYS
    assert bud.date >= compounded
    # A fill is either refused or has at least one usable day.
    for fill_date in (compounded, bud.date, bud.date - dt.timedelta(days=1)):
        try:
            check_bud_for_fill(bud, fill_date, days_supply)
        except SafetyError:
            assert bud.date <= fill_date
        else:
            assert bud.date > fill_date
