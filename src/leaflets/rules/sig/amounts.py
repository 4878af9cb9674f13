"""Amounts: what a step uses in a day and over a fill, and numbers and nouns in messages."""

from __future__ import annotations

from decimal import Decimal

from ...models import DoseUnit
from ..abbreviations import format_number
from .model import MEAL_NAMES, Dosage, DurationUnit, Frequency, Sig, Timing
from .vocabulary import MEASURED


def plural_noun(unit: DoseUnit) -> str:
    """The English plural of a dose unit in messages to staff ("capsules", "mL")."""
    if unit in MEASURED:
        return unit.value
    return "suppositories" if unit is DoseUnit.SUPPOSITORY else f"{unit.value}s"


def kind_of(unit: DoseUnit) -> str:
    """What a message says cannot be split or given: "capsules", "doses in mL"."""
    return f"doses in {unit.value}" if unit in MEASURED else plural_noun(unit)


def amount_text(value: Decimal) -> str:
    """A number in a message: as printed, without a thousands separator."""
    return format_number(value, "")



def daily_amount(dosage: Dosage) -> Decimal | None:
    """The amount one day of a step uses when the directions fix it: None for as needed, dose
    ranges and schedules that are not daily."""
    t = dosage.timing
    if dosage.dose is None or dosage.as_needed_for is not None or dosage.dose_max is not None:
        return None
    if t.frequency is Frequency.EVERY_HOURS and (t.hours_max or 24 % t.hours):
        return None                 # q5h or q4-6h: the day's count is not fixed
    if t.frequency is Frequency.MEALS:
        return None                 # "before meals": as many as the patient's meals
    if dosage.doses:
        return sum(dosage.doses, Decimal(0))    # a dose per time of day
    per_day = most_doses_a_day(t)
    return None if per_day is None else per_day * dosage.dose


def most_doses_a_day(t: Timing) -> int | None:
    """The most doses a daily schedule gives in 24 hours (every N to M hours: at the shortest
    interval); None for a schedule that is not daily (weekly, every other day, named days)."""
    if t.frequency is Frequency.TIMES_DAILY:
        return t.count
    if t.frequency is Frequency.DAY_PERIODS:
        return len(t.periods)
    if t.frequency is Frequency.EVERY_HOURS:
        return -(-24 // t.hours)
    if t.frequency is Frequency.MEALS:
        return len(MEAL_NAMES)      # ac, pc, with meals: breakfast, lunch and dinner
    return None


def most_doses_in_24_hours(t: Timing) -> int | None:
    """The most doses any 24 hours can hold, for checking a maximum against the schedule: a
    daily schedule's count; one for every other day, weekly and named days (at most a dose a
    day); None for minute intervals, whose limit is their own dose count."""
    if t.frequency in (Frequency.EVERY_OTHER_DAY, Frequency.TIMES_WEEKLY, Frequency.WEEKDAYS,
                       Frequency.EVERY_DAYS, Frequency.EVERY_WEEKS):
        return 1
    return most_doses_a_day(t)


def largest_dose(dosage: Dosage) -> Decimal | None:
    """The largest single dose of a step: the top of a range, the largest dose of a time of
    day; what the maximum checks count."""
    return max(dosage.doses, default=dosage.dose_max or dosage.dose)


def total_amount(sig: Sig, days_supply: int) -> Decimal | None:
    """The quantity the directions use over the fill: a taper sums its steps; one step with no
    duration runs for the days' supply. None when the directions do not fix it."""
    total = Decimal(0)
    for step in sig.steps:
        days = step.duration.days if step.duration else (days_supply if len(sig.steps) == 1
                                                         else None)
        if days is None or (step.duration and step.duration.unit is DurationUnit.MONTHS):
            return None
        t = step.timing
        if step.dose is None or step.as_needed_for is not None or step.dose_max is not None:
            return None
        if t.frequency is Frequency.EVERY_OTHER_DAY:
            total += step.dose * ((days + 1) // 2)
        elif t.frequency in (Frequency.EVERY_DAYS, Frequency.EVERY_WEEKS):
            every = t.count * (7 if t.frequency is Frequency.EVERY_WEEKS else 1)
            total += step.dose * (-(-days // every))        # the first dose on day one
        elif t.frequency in (Frequency.TIMES_WEEKLY, Frequency.WEEKDAYS) and days % 7 == 0:
            per_week = t.count if t.frequency is Frequency.TIMES_WEEKLY else len(t.days)
            total += step.dose * per_week * (days // 7)
        else:
            per_day = daily_amount(step)
            if per_day is None:
                return None
            total += per_day * days
    return total
