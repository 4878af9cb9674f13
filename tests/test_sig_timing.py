"""Timing patterns of issue 12: the structures they read into, what they count for quantities and
maximums, why they print no UMS times of day, and the codes approved text may not hold. The
sentences are in tests/data/sigs-timing.yaml."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from leaflets.errors import SafetyError
from leaflets.models import DoseUnit, Route
from leaflets.rules.sig import (
    Dosage,
    Frequency,
    Meal,
    Period,
    Sig,
    Timing,
    daily_amount,
    most_doses_a_day,
    parse_directions,
    total_amount,
    ums_periods,
)

ORAL, SL = Route.ORAL, Route.SUBLINGUAL


def step(sig: str, route: Route | None = None, unit: DoseUnit | None = None) -> Dosage:
    parsed = parse_directions(sig, route=route, unit=unit)
    assert isinstance(parsed, Sig) and len(parsed.steps) == 1
    return parsed.steps[0]


def test_a_dose_per_time_of_day_is_one_structure_in_the_days_order() -> None:
    dosage = step("1 tab po qam and 2 tabs qhs")
    assert dosage.timing == Timing(Frequency.DAY_PERIODS, periods=(Period.MORNING, Period.BEDTIME))
    assert (dosage.dose, dosage.doses) == (Decimal(1), (Decimal(1), Decimal(2)))
    assert step("2 tabs po qhs and 1 tab qam") == dosage
    assert step("1 tab po in the morning and 2 tablets at bedtime") == dosage


def test_equal_doses_at_each_time_stay_the_ums_count() -> None:
    assert step("1 tab po qam and 1 tab qpm") == step("1 tab po bid")
    assert step("1 tab po qam and 1 tab qpm").doses == ()


def test_named_meals_are_times_of_day() -> None:
    dosage = step("1 tab po with breakfast and supper")
    assert dosage.timing == Timing(Frequency.DAY_PERIODS,
                                   periods=(Period.WITH_BREAKFAST, Period.WITH_DINNER))
    assert dosage.meal is None
    assert step("1 tab po qd before breakfast") == step("1 tab po before breakfast")
    assert step("1 tab po qam before breakfast") == step("1 tab po before breakfast")


def test_a_meal_alone_sets_the_times() -> None:
    dosage = step("1 tab po ac")
    assert (dosage.timing, dosage.meal) == (Timing(Frequency.MEALS), Meal.BEFORE)
    assert most_doses_a_day(dosage.timing) == 3
    assert daily_amount(dosage) is None         # as many as the patient's meals
    # the maximum is checked against three meals a day
    with pytest.raises(SafetyError) as err:
        parse_directions("1 tab po ac prn nausea max 4/day")
    assert err.value.reason == ("the maximum of 4 in 24 hours is more than the schedule can "
                                "ever give (3 doses of 1 tablet): check the sig")


def test_a_minute_interval_keeps_its_dose_count() -> None:
    dosage = step("1 tab sl q5min prn chest pain, may repeat up to 3 doses", SL, DoseUnit.TABLET)
    assert dosage.timing == Timing(Frequency.EVERY_MINUTES, minutes=5, count=3)
    assert most_doses_a_day(dosage.timing) is None
    assert daily_amount(dosage) is None


@pytest.mark.parametrize(("sig", "reason"), [
    ("1 tab po 5 times a day", "more than 4 doses a day"),
    ("1 tab po 6 times daily", "more than 4 doses a day"),
    ("1 tab po ac", "the meals set the times"),
    ("1 tab sl q5min prn chest pain up to 3 doses", "an interval of minutes"),
])
def test_timings_with_no_ums_rendering_say_why(sig: str, reason: str) -> None:
    periods, why = ums_periods(step(sig))
    assert periods == () and why is not None and why.startswith(reason)


@pytest.mark.parametrize(("sig", "days", "total"), [
    ("1 tab po qam and 2 tabs qhs", 30, 90),
    ("1 tab po qam and 1/2 tab qpm", 30, 45),
    ("2 tabs po qam and 1 tab qpm x 7 days then 1 tab po qam x 7 days", 14, 28),
    ("1 tab po 5 times a day", 30, 150),
    ("1 tab po 6 times daily x 5 days", 30, 30),
    ("1 tab po with breakfast and dinner", 30, 60),
    ("1 tab po before breakfast", 30, 30),
    ("1 tab po ac", 30, None),                      # the meals set the count
    ("1 tab po qam and 2 tabs qhs prn pain", 30, None),   # as needed
    ("1 tab sl q5min prn chest pain up to 3 doses", 30, None),
])
def test_the_quantity_the_timing_uses(sig: str, days: int, total: int | None) -> None:
    parsed = parse_directions(sig)
    assert isinstance(parsed, Sig)
    assert total_amount(parsed, days) == total


def test_a_maximum_counts_the_largest_dose_of_the_day() -> None:
    with pytest.raises(SafetyError) as err:
        parse_directions("1 tab po qam and 2 tabs qhs prn pain max 1/day")
    assert err.value.reason == "the maximum of 1 in 24 hours is less than one dose (2)"
    # the day's doses (1 + 2) are the most the schedule gives
    ok = parse_directions("1 tab po qam and 2 tabs qhs prn pain max 3/day")
    assert isinstance(ok, Sig) and ok.steps[0].max_per_day == 3


@pytest.mark.parametrize(("text", "code"), [
    ("Take 1 tablet by mouth b i d at the same time", "b i d"),
    ("Take 1 tablet by mouth q8hr until gone", "q8hr"),
    ("Take 1 tablet by mouth q8 hrs until gone", "q8"),
    ("Place 1 tablet under the tongue q5min until relief", "q5min"),
])
def test_approved_text_holds_no_timing_code(text: str, code: str) -> None:
    with pytest.raises(SafetyError) as err:
        parse_directions(text, verbatim=True)
    assert err.value.reason == (f"'{code}' is a sig code; directions are either all plain words "
                                "or all sig codes")


def test_a_quantity_for_different_doses_is_checked(tmp_path: Path) -> None:
    from leaflets.pipeline import Settings, prepare_fill

    from .conftest import BASE_FILL, write_fill
    fill = BASE_FILL.replace('"1 cap po qd"', '"1 cap po qam and 2 caps qhs"').replace(
        "quantity: 30", "quantity: 60")
    rendered = prepare_fill(write_fill(tmp_path, fill), Settings())
    assert ("quantity 60 capsules does not match the directions: 30 days of them use 90 "
            "capsules" in rendered.warnings)
