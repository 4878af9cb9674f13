"""Checks: a step's slots become a Dosage only when they make one consistent regimen, and
text a pharmacist approved as written may still hold no code. Every refusal names the word
and why (shared/reference/sig-codes.md, error-prone-abbreviations.md)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ...models import DoseUnit, Route, TopicalSite
from ..abbreviations import find_banned
from .amounts import (
    amount_text,
    daily_amount,
    kind_of,
    largest_dose,
    most_doses_in_24_hours,
    plural_noun,
)
from .measures import resolve_measures, with_measures
from .model import (
    MEAL_NAMES,
    MEAL_RELATION,
    UMS_COUNT,
    UMS_PERIODS,
    Context,
    Dosage,
    Frequency,
    Instruction,
    Meal,
    Period,
    PlainDirections,
    Site,
    Slots,
    Timing,
    Weekday,
    clash,
    daily,
    err,
)
from .tokens import glued
from .vocabulary import (
    AS_DIRECTED_WORDS,
    DIVISIBLE,
    MAX_DOSE,
    MAX_DURATION_DAYS,
    MEASURED,
    REASON_CANNOT_END,
    SHORT_WORDS,
    UNIT_ROUTES,
    is_code,
    note_message,
    pharmacy_note,
    plain_words,
    run_together,
    split_code,
)


def check_steps(steps: list[Dosage]) -> None:
    """A taper: every step before 'then' ends, and a maximum would read as every step's."""
    for n, step in enumerate(steps[:-1], 1):
        if step.duration is None:
            raise err(f"step {n} of {len(steps)} comes before 'then' and needs a duration "
                      "('for 7 days'), or the next step never starts")
        if steps[-1].max_per_day is not None or step.max_per_day is not None:
            raise err("a maximum in directions with 'then' would read as applying to every "
                      "step: write it out in words for a pharmacist to approve as written "
                      "(directions_verbatim)")


def build_step(s: Slots, context: Context) -> Dosage:
    """The Dosage of one step's slots, read for the product of `context`."""
    product_route, product_unit = context.route, context.unit
    if s.reason is not None and not s.reason:
        raise err(f"'{s.reason_text}' needs the reason it is taken for (sig-codes.md §1: "
                  "'as needed for pain')")
    timing = s.timing
    if s.days:
        timing = Timing(Frequency.WEEKDAYS, days=tuple(sorted(s.days, key=list(Weekday).index)))
    elif s.periods:
        periods = tuple(sorted(s.periods, key=list(Period).index))
        timing = (daily(UMS_COUNT[periods]) if periods in UMS_COUNT
                  else Timing(Frequency.DAY_PERIODS, periods=periods))
    timing, per_period = timing_of(s, timing)
    if timing is None:
        raise err("directions need a frequency or time of day (for example qd, bid, q8h, "
                  "qhs)")
    route = s.route or product_route
    if route is None:
        raise err("directions need a route (for example po, top, pr)")
    if product_route is not None and s.route is not None and s.route is not product_route:
        raise err(f"'{s.route_text}' ({s.route.value}) does not match this "
                  f"{product_route.value} product")
    resolve_measures(s, context)    # measures.py: a dose in clicks or by mass, a strength
    unit = s.unit
    if s.dose is not None and unit is None:
        unit = product_unit
        if unit is None:
            raise err("the dose needs a unit (for example cap, tab, mL, g)")
    if product_unit is not None and s.unit is not None and s.unit is not product_unit:
        raise err(f"the directions dose in {s.unit.value} but this product is dosed in "
                  f"{product_unit.value}")
    if s.unit is not None and s.dose is None and s.max_per_day is None:
        raise err(f"'{s.unit.value}' needs a dose before it")
    if s.unit is not None and route not in UNIT_ROUTES[s.unit]:
        written = f"'{s.route_text}' " if s.route_text else ""
        raise err(f"{written}({route.value}): {kind_of(s.unit)} are not given by this route; "
                  "check the unit and the route")
    if s.thin_layer and route is not Route.TOPICAL:
        raise err("'a thin layer' is for a product applied to the skin")
    if s.small_amount and route is not Route.TOPICAL:
        raise err("'a small amount' is for a product applied to the skin")
    if s.verb == "swish" and s.method is None:
        raise err("'swish' must say what follows: 'swish and spit' or 'swish and swallow'")
    if s.method is not None and (route is not Route.ORAL or unit is not DoseUnit.ML):
        raise err(f"'{s.method.value.replace('-', ' ')}' is for a liquid measured in mL and "
                  "used in the mouth")
    if s.purpose is not None and not s.purpose:
        raise err("'for' must be followed by what the medicine is for, or a duration")
    for which, words in (("as-needed reason", s.reason), ("purpose", s.purpose)):
        if words and words[-1] in REASON_CANNOT_END:
            raise err(f"the {which} '{' '.join(words)}' ends with '{words[-1]}': write the "
                      f"{which.removeprefix('as-needed ')} in plain words")
    if (s.dose is None and not (s.thin_layer or s.small_amount) and route is Route.TOPICAL
            and s.verb is None and s.route is None and s.site is None and not s.application):
        raise err("directions need a dose or what to do (for example 'apply to the affected "
                  "area')")
    if s.dose is None and not s.thin_layer and not s.small_amount and route is not Route.TOPICAL:
        raise err("directions need a dose (for example '1 cap')")
    if unit is not None:
        for value in (s.dose, s.dose_max, s.max_per_day):
            if value is not None:
                check_part(value, unit, s.dose_text if value is s.dose else amount_text(value))
        largest = max(v for v in (s.dose, s.dose_max, Decimal(0)) if v is not None)
        if largest > MAX_DOSE[unit]:
            raise err(f"a dose of {amount_text(largest)} {plural_noun(unit)} is more than "
                      f"{amount_text(MAX_DOSE[unit])}, the most one dose may be here: check "
                      "the sig")
        if s.max_per_day is not None and s.max_per_day > 24 * MAX_DOSE[unit]:
            raise err(f"a maximum of {amount_text(s.max_per_day)} {plural_noun(unit)} a day "
                      f"is more than 24 of the largest dose: check the sig")
    if s.duration is not None and s.duration.days > MAX_DURATION_DAYS:
        raise err(f"a duration of {s.duration.days} days is more than a year: check the sig")
    site = s.site
    if site is Site.AFFECTED_AREA and context.topical_site is not TopicalSite.SKIN:
        site = None                     # the topical default: one structure, one sentence
    if site is None and route is Route.TOPICAL and context.topical_site is TopicalSite.SKIN:
        # A topical step that names no site goes where the product goes: "to the skin" for a
        # cream that acts through the skin (a testosterone cream has no affected area).
        site = Site.SKIN
    dosage = Dosage(route=route, timing=timing, dose=s.dose, dose_max=s.dose_max,
                    unit=unit if (s.dose is not None or s.max_per_day is not None) else None,
                    thin_layer=s.thin_layer, site=site, meal=s.meal,
                    instructions=tuple(sorted(s.instructions, key=list(Instruction).index)),
                    as_needed_for=" ".join(s.reason) if s.reason else None,
                    duration=s.duration, max_per_day=s.max_per_day,
                    small_amount=s.small_amount, method=s.method,
                    purpose=" ".join(s.purpose) if s.purpose else None, doses=per_period)
    dosage = with_measures(dosage, s)
    check_timing(dosage, s)
    if dosage.max_per_day is not None:
        if dosage.dose is None:
            raise err("a maximum needs the dose it counts ('1 tab ... max 4 per day')")
        one = largest_dose(dosage)
        assert one is not None
        if dosage.max_per_day < one:
            raise err(f"the maximum of {amount_text(dosage.max_per_day)} in 24 hours is less "
                      f"than one dose ({amount_text(one)})")
        fixed = daily_amount(dosage)
        if fixed is not None and fixed > dosage.max_per_day:
            raise err(f"the directions give {amount_text(fixed)} a day, more than their "
                      f"maximum of {amount_text(dosage.max_per_day)} in 24 hours")
        doses = most_doses_in_24_hours(dosage.timing)
        if doses is not None and doses * one < dosage.max_per_day:
            # Both ways: a maximum the schedule can never reach contradicts it (one of the
            # two is wrong), so neither is printed.
            assert dosage.unit is not None      # a dose always has its unit (above)
            unit_words = dosage.unit.value if one == 1 else plural_noun(dosage.unit)
            raise err(f"the maximum of {amount_text(dosage.max_per_day)} in 24 hours is more "
                      f"than the schedule can ever give ({doses} {'dose' if doses == 1 else 'doses'} of "
                      f"{amount_text(one)} {unit_words}): check the sig")
    check_qualifiers(dosage)
    return dosage


# ---- timing (issue 12): doses per time of day, the meals, minute intervals ---------------------


def timing_of(s: Slots, timing: Timing | None) -> tuple[Timing | None, tuple[Decimal, ...]]:
    """The timing of what the earlier rules did not settle, and the dose of each time of day:
    different doses at different times ("1 tab qam and 2 tabs qhs") are times of day in the
    day's order, each with its dose, the step's dose the first; the meals alone ("1 tab po ac")
    set the times; a minute interval takes its dose count."""
    doses: tuple[Decimal, ...] = ()
    if s.dose is not None and any(d is not None and d != s.dose for d in s.period_doses):
        for word, dose in zip(s.period_words[1:], s.period_doses[1:], strict=True):
            if dose is None:
                raise err(f"'{word}' has no dose of its own, and the doses differ by time of "
                          "day: write the dose before each time ('1 tab qam and 2 tabs qhs')")
        given = [s.dose, *(d for d in s.period_doses[1:] if d is not None)]
        order = sorted(zip(s.periods, given, strict=True), key=lambda pd: list(Period).index(pd[0]))
        timing = Timing(Frequency.DAY_PERIODS, periods=tuple(p for p, _ in order))
        doses = tuple(d for _, d in order)
        s.dose = doses[0]               # the first time's dose is the step's dose
    if timing is None and s.meal is not None:
        if s.meal_glued:
            # "1 poac": a meal code alone is the timing only written as a word of its own
            raise err(f"'{s.meal_glued}' runs codes together, and '{s.meal_text}' alone would "
                      "be the timing: write them apart")
        timing = Timing(Frequency.MEALS)
    if (timing is not None and s.meal is not None and timing.frequency is Frequency.TIMES_DAILY
            and timing.count > max(UMS_PERIODS)):     # 5 or 6 (qid ac is read as written)
        raise err(f"'{s.meal_text}' with {timing.count} times a day: there are "
                  f"{len(MEAL_NAMES)} meals a day")
    if timing is not None and timing.frequency is Frequency.EVERY_MINUTES:
        if s.dose_count is None:
            raise err(f"'{s.interval_text}' needs the most doses it may be repeated to "
                      "('may repeat up to 3 doses')")
        timing = replace(timing, count=s.dose_count)
    elif s.dose_count is not None:
        raise err(f"'{s.dose_count_text}' goes with an interval of minutes ('every 5 minutes')")
    return timing, doses


_MEAL_WORDS = {Period.BEFORE_BREAKFAST: "before breakfast", Period.WITH_BREAKFAST: "with breakfast",
               Period.AFTER_BREAKFAST: "after breakfast", Period.BEFORE_LUNCH: "before lunch",
               Period.WITH_LUNCH: "with lunch", Period.AFTER_LUNCH: "after lunch",
               Period.BEFORE_DINNER: "before dinner", Period.WITH_DINNER: "with dinner",
               Period.AFTER_DINNER: "after dinner"}


def check_timing(dosage: Dosage, s: Slots) -> None:
    """A minute interval only as needed, under the tongue, up to a number of doses; named meals
    not beside a general meal nor a qualifier they contradict; a dose for each time of day."""
    t = dosage.timing
    if t.frequency is Frequency.EVERY_MINUTES:
        if dosage.as_needed_for is None:
            raise err(f"'{s.interval_text}': a dose every few minutes is read only as needed, "
                      "with its reason ('prn chest pain')")
        if dosage.route is not Route.SUBLINGUAL:
            raise err(f"'{s.interval_text}': an interval of minutes is read for a sublingual "
                      "product only (by another route it may be a slip for hours)")
        if dosage.duration is not None:
            raise err(f"'{s.interval_text}' with a duration: the dose count ends the repeats")
        one = largest_dose(dosage)
        if dosage.max_per_day is not None and one is not None \
                and dosage.max_per_day < t.count * one:
            raise err(f"the maximum of {amount_text(dosage.max_per_day)} in 24 hours is less "
                      f"than the {t.count} doses of '{s.dose_count_text}'")
    if dosage.meal is not None and Period.BEDTIME in t.periods:
        # "ac hs" is before meals AND at bedtime; read as one bedtime dose "before meals" it
        # would drop three doses
        word = s.period_words[s.periods.index(Period.BEDTIME)]
        raise err(f"'{s.meal_text}' with '{word}': bedtime is not a meal; for a dose "
                  "at each meal and at bedtime name each time ('before breakfast, lunch, and "
                  "dinner and at bedtime')")
    named = [p for p in t.periods if p in MEAL_RELATION]
    if named and dosage.meal is not None:
        word = s.period_words[s.periods.index(named[0])]
        raise err(f"'{s.meal_text}' with '{word}': name the meals once ('before breakfast and "
                  "dinner')")
    for period in named:                # as "with meals" would: "with breakfast" is a meal
        relation = MEAL_RELATION[period]
        for a, b in _CONTRADICTIONS:
            other = b if a is relation else a if b is relation else None
            if other is not None and other in dosage.instructions:
                raise err(f"'{_WORDS[other]}' and '{_MEAL_WORDS[period]}' contradict each other")
    both = clash(t.periods)
    if both:                            # the grammar refuses it first; a structure never has it
        raise err(f"'{_MEAL_WORDS[both[1]]}' and the {both[0].value} dose may be one dose or two")
    if dosage.doses:
        assert dosage.unit is not None
        for dose in dosage.doses:
            if dose <= 0:
                raise err(f"dose '{amount_text(dose)}' must be greater than 0")
            check_part(dose, dosage.unit, amount_text(dose))
            if dose > MAX_DOSE[dosage.unit]:
                raise err(f"a dose of {amount_text(dose)} {plural_noun(dosage.unit)} is more "
                          f"than {amount_text(MAX_DOSE[dosage.unit])}, the most one dose may "
                          "be here: check the sig")
        day = sum(dosage.doses, Decimal(0))
        if dosage.max_per_day is not None and day < dosage.max_per_day:
            raise err(f"the maximum of {amount_text(dosage.max_per_day)} in 24 hours is more "
                      f"than the schedule can ever give ({amount_text(day)} "
                      f"{plural_noun(dosage.unit)} a day): check the sig")


# Qualifiers that cannot both hold for one dose.
_CONTRADICTIONS: list[tuple[Meal | Instruction, Meal | Instruction]] = [
    (Instruction.EMPTY_STOMACH, Instruction.WITH_FOOD),
    (Instruction.EMPTY_STOMACH, Meal.WITH), (Instruction.EMPTY_STOMACH, Meal.AFTER),
    (Instruction.EMPTY_STOMACH, Instruction.WITH_OR_WITHOUT_FOOD),
    (Instruction.WITH_FOOD, Instruction.WITH_OR_WITHOUT_FOOD),
    (Instruction.WITH_OR_WITHOUT_FOOD, Meal.WITH), (Instruction.WITH_OR_WITHOUT_FOOD, Meal.AFTER),
    (Instruction.WITH_OR_WITHOUT_FOOD, Meal.BEFORE),
]
_WORDS = {Instruction.EMPTY_STOMACH: "on an empty stomach", Instruction.WITH_FOOD: "with food",
          Instruction.WITH_OR_WITHOUT_FOOD: "with or without food", Meal.WITH: "with meals",
          Meal.AFTER: "after meals", Meal.BEFORE: "before meals"}


def check_qualifiers(dosage: Dosage) -> None:
    given = {*dosage.instructions, *([dosage.meal] if dosage.meal else [])}
    for a, b in _CONTRADICTIONS:
        if a in given and b in given:
            raise err(f"'{_WORDS[a]}' and '{_WORDS[b]}' contradict each other")


def check_part(value: Decimal, unit: DoseUnit, written: str) -> None:
    if value == value.to_integral_value() or unit in MEASURED:
        return
    if unit in DIVISIBLE:
        if value * 2 == (value * 2).to_integral_value():
            return
        raise err(f"a dose of '{written}' {unit.value}: only half a tablet can be given; other "
                  "part doses need a pharmacist's wording")
    raise err(f"a dose of '{written}' {unit.value}: {kind_of(unit)} cannot be divided; part "
              "doses need a pharmacist's wording")



def check_plain(text: str) -> PlainDirections:
    """Plain directions print as written, so they may hold no code at all: not the banned list's
    (find_banned) and not any code this grammar reads (qw, PR, AC, x7, q.a.m., per os ...)."""
    hits = find_banned(text, symbols=True)
    if hits:
        raise err(f"{hits[0]}; directions are either all plain words or all sig codes")
    if not {w.rstrip(".") for w in plain_words(text)} - AS_DIRECTED_WORDS:
        raise err("'as directed' alone tells the patient nothing to follow: write the "
                  "directions (sig-codes.md §5: ud, avoid alone)")
    words = plain_words(text)
    for i, word in enumerate(words):
        pair = " ".join(words[i:i + 2])
        code = pair if pair == "per os" else word if is_code(word) else None
        code = code or split_code(words, i)
        if code:
            raise err(f"'{code}' is a sig code; directions are either all plain words or all "
                      "sig codes")
        if note := pharmacy_note(words, i):
            raise err(note_message(" ".join(words[i:i + note])))
        pieces = glued(word) or run_together(word)
        if pieces and any(is_code(piece) for piece in pieces):
            raise err(f"'{word}' runs sig codes or words together ({' '.join(pieces)}); "
                      "directions are either all plain words or all sig codes")
        bare = word.rstrip(".")
        if len(bare) <= 3 and any(ch.isalpha() for ch in bare) and bare not in SHORT_WORDS:
            raise err(f"unknown abbreviation '{bare}': approved directions are plain words")
    return PlainDirections(text)
