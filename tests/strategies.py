"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from hypothesis import strategies as st

from leaflets.models import BudCategory, BudCounting, DoseUnit, Route, TopicalSite
from leaflets.rules.sig import (
    MAX_DOSE,
    SENTENCE_INSTRUCTIONS,
    UMS_PERIODS,
    UNIT_ROUTES,
    Context,
    Dosage,
    Duration,
    DurationUnit,
    Frequency,
    Instruction,
    Meal,
    Method,
    Period,
    Sig,
    Site,
    Timing,
    Weekday,
)
from leaflets.rules.sig.amounts import most_doses_in_24_hours
from leaflets.rules.sig.model import MassUnit

dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))
categories = st.sampled_from(list(BudCategory))
countings = st.sampled_from(list(BudCounting))
expiry_lists = st.lists(dates, min_size=1, max_size=4)


# ---- structured directions (rules/sig/)  -------------------------------------------------------

# As-needed reasons the Spanish catalog translates (msgctxt "as-needed reason").
REASONS = ["pain", "nausea", "headache", "anxiety", "sleep", "shortness of breath", "itching",
           "hot flashes", "muscle spasms", "vaginal dryness", "nausea and vomiting"]
_SITES = {Route.TOPICAL: [Site.SKIN], Route.OPHTHALMIC: [Site.RIGHT_EYE, Site.LEFT_EYE, Site.EACH_EYE],
          Route.OTIC: [Site.RIGHT_EAR, Site.LEFT_EAR, Site.EACH_EAR],
          Route.NASAL: [Site.RIGHT_NOSTRIL, Site.LEFT_NOSTRIL, Site.EACH_NOSTRIL]}


def _amounts(unit: DoseUnit, low: Decimal = Decimal(0)) -> st.SearchStrategy[Decimal]:
    """Doses a unit can take, up to the grammar's MAX_DOSE: halves of tablets, decimals of mL
    and g, whole numbers otherwise."""
    if unit is DoseUnit.TABLET:
        values = st.integers(1, 40).map(lambda n: Decimal(n) / 2)
    elif unit in (DoseUnit.ML, DoseUnit.G):
        values = st.integers(1, int(MAX_DOSE[unit]) * 100).map(lambda n: Decimal(n) / 100)
    else:
        values = st.integers(1, 12).map(Decimal)
    return values.filter(lambda d: d > low)


def _subset(options: list, min_size: int = 1) -> st.SearchStrategy[tuple]:
    return st.lists(st.sampled_from(options), min_size=min_size, unique=True).map(
        lambda picked: tuple(o for o in options if o in picked))


# A named meal and the UMS period of its part of the day may be one dose or two: never together.
_MEAL_PARTS = {"breakfast": Period.MORNING, "lunch": Period.NOON, "dinner": Period.EVENING}


def _one_per_part(periods: tuple[Period, ...]) -> bool:
    """No named meal beside the time of day it falls in, and no meal named twice ("before
    breakfast" and "after breakfast" contradict)."""
    meals = [meal for p in periods for meal in _MEAL_PARTS if p.value.endswith(meal)]
    return len(meals) == len(set(meals)) and not any(
        p.value.endswith(meal) and part in periods
        for p in periods for meal, part in _MEAL_PARTS.items())


timings = st.one_of(
    st.integers(1, 6).map(lambda n: Timing(Frequency.TIMES_DAILY, count=n)),
    st.integers(1, 72).flatmap(lambda h: st.one_of(
        st.just(Timing(Frequency.EVERY_HOURS, hours=h)),
        st.integers(h + 1, 73).filter(lambda m: m <= 72).map(
            lambda m: Timing(Frequency.EVERY_HOURS, hours=h, hours_max=m)))),
    st.just(Timing(Frequency.EVERY_OTHER_DAY)),
    st.integers(3, 366).filter(lambda d: d % 7).map(
        lambda d: Timing(Frequency.EVERY_DAYS, count=d)),
    st.integers(2, 52).map(lambda w: Timing(Frequency.EVERY_WEEKS, count=w)),
    st.integers(1, 3).map(lambda n: Timing(Frequency.TIMES_WEEKLY, count=n)),
    _subset(list(Weekday)).map(lambda days: Timing(Frequency.WEEKDAYS, days=days)),
    # A set of periods that is a UMS day (morning and evening...) is canonically "times daily".
    _subset(list(Period)).filter(lambda p: p not in UMS_PERIODS.values() and _one_per_part(p))
    .map(lambda periods: Timing(Frequency.DAY_PERIODS, periods=periods)),
    st.just(Timing(Frequency.MEALS)),           # ac, pc, with meals alone: needs its meal
)


@st.composite
def dosages(draw: st.DrawFn, *, last: bool = True, timed: bool = False,
            unit: DoseUnit | None = None, route: Route | None = None) -> Dosage:
    """A step of directions; `unit` and `route` fix those of the product (measured_sigs)."""
    unit = unit or draw(st.sampled_from(list(DoseUnit)))
    route = route or draw(st.sampled_from(sorted(UNIT_ROUTES[unit])))
    dose: Decimal | None = draw(_amounts(unit))
    dose_max = draw(st.none() | _amounts(unit, dose))
    thin_layer = small_amount = False
    if route is Route.TOPICAL and draw(st.booleans()):
        dose = dose_max = None
        thin_layer, small_amount = draw(st.sampled_from([(False, False), (True, False),
                                                         (False, True)]))
    site = draw(st.none() | st.sampled_from(_SITES[route])) if route in _SITES else None
    reason = draw(st.none() | st.sampled_from(REASONS))
    purpose = draw(st.none() | st.sampled_from(REASONS)) if reason is None else None
    method = (draw(st.none() | st.sampled_from(list(Method)))
              if unit is DoseUnit.ML and route is Route.ORAL else None)
    timing = draw(timings)
    if route is Route.SUBLINGUAL and reason and not timed and draw(st.booleans()):
        # every N minutes, as needed, up to a number of doses (nitroglycerin)
        timing = Timing(Frequency.EVERY_MINUTES, minutes=draw(st.integers(1, 59)),
                        count=draw(st.integers(2, 10)))
    # Different doses at different times of day: a dose per period.
    per_period: tuple[Decimal, ...] = ()
    periods = (timing.periods if timing.frequency is Frequency.DAY_PERIODS
               else UMS_PERIODS.get(timing.count, ()) if timing.frequency is Frequency.TIMES_DAILY
               else ())
    if dose is not None and dose_max is None and len(periods) > 1 and draw(st.booleans()):
        picked = tuple(draw(_amounts(unit)) for _ in periods)
        if len(set(picked)) > 1:
            timing = Timing(Frequency.DAY_PERIODS, periods=periods)
            per_period, dose = picked, picked[0]
    most = max(per_period, default=dose_max or dose)
    # A maximum caps an as-needed dose (one on a fixed schedule would only repeat it).
    max_per_day = (draw(st.none() | _amounts(unit, most - Decimal("0.01")))
                   if last and most is not None and reason else None)
    doses = most_doses_in_24_hours(timing)
    if max_per_day is not None and most is not None and doses is not None \
            and max_per_day > doses * most:
        max_per_day = None          # a maximum the schedule can never reach is refused
    if max_per_day is not None and per_period and max_per_day > sum(per_period):
        max_per_day = None          # nor one past the day's doses
    if max_per_day is not None and most is not None \
            and timing.frequency is Frequency.EVERY_MINUTES and max_per_day < timing.count * most:
        max_per_day = None          # nor one below the doses the count allows
    # At most one word on food (a meal, with food, on an empty stomach, with or without food:
    # any two contradict), and water with any of them. Named meals are meals: no other meal
    # beside them, and only "before" ones go with an empty stomach.
    named = [p for p in timing.periods if p.value.startswith(("before-", "with-", "after-"))]
    foods: list[Meal | Instruction | None] = [
        None, *Meal, Instruction.WITH_FOOD, Instruction.EMPTY_STOMACH,
        Instruction.WITH_OR_WITHOUT_FOOD]
    if named:
        foods = [None, Instruction.WITH_FOOD] + (
            [Instruction.EMPTY_STOMACH] if all(p.value.startswith("before-") for p in named)
            else [])
    if timing.frequency is Frequency.TIMES_DAILY and timing.count > 4:
        foods = [f for f in foods if not isinstance(f, Meal)]     # 3 meals, 5 doses?
    if Period.BEDTIME in timing.periods:     # "at bedtime before meals" is refused
        foods = [f for f in foods if not isinstance(f, Meal)]
    if timing.frequency is Frequency.MEALS:
        foods = list(Meal)          # the meal is the timing
    food = draw(st.sampled_from(foods))
    water = draw(st.booleans())
    # Sentences of their own ("Swallow whole.") belong to the last step (the grammar moves them).
    sentences = draw(_subset(sorted(SENTENCE_INSTRUCTIONS), min_size=0)) if last else ()
    instructions = tuple(i for i in Instruction
                         if i == food or (water and i is Instruction.WITH_WATER) or i in sentences)
    return Dosage(
        route=route, timing=timing,
        dose=dose, dose_max=dose_max, unit=unit if dose is not None else None,
        thin_layer=thin_layer, site=site, meal=food if isinstance(food, Meal) else None,
        instructions=instructions,
        as_needed_for=reason,
        duration=None if timing.frequency is Frequency.EVERY_MINUTES else draw(
            (st.none() if not timed else st.nothing())
            | st.builds(Duration, st.integers(1, 90), st.just(DurationUnit.DAYS))
            | st.builds(Duration, st.integers(1, 12), st.just(DurationUnit.WEEKS))
            | st.builds(Duration, st.integers(1, 11), st.just(DurationUnit.MONTHS))),
        max_per_day=max_per_day, small_amount=small_amount, method=method, purpose=purpose,
        doses=per_period)


@st.composite
def sigs(draw: st.DrawFn) -> Sig:
    """Directions of one to three steps; every step before the last has a duration."""
    before = draw(st.lists(dosages(last=False, timed=True), max_size=2))
    return Sig((*before, draw(dosages(last=not before))))


# ---- doses by mass, strengths after the unit, clicks (rules/sig/measures.py) --------------------

# Products a measured dose is read for: the dose unit, the strength as a product file writes it,
# and that strength as mass, mass unit and per how many of the unit (written out here, not read
# by the code under test).
MEASURED_PRODUCTS: list[tuple[DoseUnit, str, Decimal, MassUnit, Decimal]] = [
    (DoseUnit.ML, "1 mg/mL", Decimal(1), MassUnit.MG, Decimal(1)),
    (DoseUnit.ML, "2 mg/mL", Decimal(2), MassUnit.MG, Decimal(1)),
    (DoseUnit.ML, "250 mg/5 mL", Decimal(250), MassUnit.MG, Decimal(5)),
    (DoseUnit.ML, "100 mcg/mL", Decimal(100), MassUnit.MCG, Decimal(1)),
    (DoseUnit.ML, "1 g/10 mL", Decimal(1), MassUnit.G, Decimal(10)),
    (DoseUnit.G, "20 mg/g", Decimal(20), MassUnit.MG, Decimal(1)),
    (DoseUnit.G, "0.5 mg/g", Decimal("0.5"), MassUnit.MG, Decimal(1)),
    (DoseUnit.TABLET, "20 mg", Decimal(20), MassUnit.MG, Decimal(1)),
    (DoseUnit.TABLET, "50 mcg", Decimal(50), MassUnit.MCG, Decimal(1)),
    (DoseUnit.CAPSULE, "1 mg", Decimal(1), MassUnit.MG, Decimal(1)),
    (DoseUnit.SUPPOSITORY, "25 mg", Decimal(25), MassUnit.MG, Decimal(1)),
    (DoseUnit.TROCHE, "0.25 mg", Decimal("0.25"), MassUnit.MG, Decimal(1)),
]
GRAMS_PER_CLICK = [Decimal("0.25"), Decimal("0.5"), Decimal(1), Decimal("0.125"), Decimal("1.5")]


def _plain(value: Decimal) -> Decimal:
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


@st.composite
def _measured_step(draw: st.DrawFn, context: Context, mass: Decimal, mass_unit: MassUnit,
                   per: Decimal, *, last: bool, timed: bool) -> Dosage:
    assert context.unit is not None
    topical = context.topical_site is not None
    route = Route.TOPICAL if topical else draw(st.sampled_from(
        sorted(UNIT_ROUTES[context.unit] - {Route.TOPICAL})))
    # Different doses at different times of day are not given by mass or in clicks (refused).
    base = draw(dosages(unit=context.unit, route=route, last=last, timed=timed)
                .filter(lambda d: not d.doses))
    if topical and context.topical_site is TopicalSite.SKIN:
        base = replace(base, site=Site.SKIN)    # a step that names no site goes to the skin
    per_click = context.grams_per_click
    if per_click is not None:
        # The dose counted in whole clicks, and its maximum (as needed only) in the grams of
        # whole clicks the schedule can reach.
        clicks = draw(st.integers(1, 30))
        clicks_max = draw(st.none() | st.integers(clicks + 1, 31).filter(lambda n: n <= 30))
        most = clicks_max or clicks
        doses = most_doses_in_24_hours(base.timing)
        max_per_day = None
        if last and base.as_needed_for and draw(st.booleans()):
            max_per_day = _plain(draw(st.integers(most, most * (doses or 4))) * per_click)
        return replace(base, dose=_plain(clicks * per_click),
                       dose_max=_plain(clicks_max * per_click) if clicks_max else None,
                       unit=DoseUnit.G, thin_layer=False, small_amount=False,
                       max_per_day=max_per_day,
                       clicks=Decimal(clicks), clicks_max=Decimal(clicks_max) if clicks_max else None)
    if base.dose is None:
        return base
    return replace(base, dose_mass=_plain(base.dose * mass / per),
                   dose_mass_max=(_plain(base.dose_max * mass / per)
                                  if base.dose_max is not None else None),
                   mass_unit=mass_unit)


@st.composite
def measured_sigs(draw: st.DrawFn) -> tuple[Context, Sig]:
    """A product with a strength (and, for a cream, maybe a pump), and directions of one to three
    steps whose doses carry their mass, or are counted in clicks."""
    unit, strength, mass, mass_unit, per = draw(st.sampled_from(MEASURED_PRODUCTS))
    topical = unit is DoseUnit.G
    context = Context(
        route=Route.TOPICAL if topical else None, unit=unit, strength=strength,
        topical_site=draw(st.sampled_from(list(TopicalSite))) if topical else None,
        grams_per_click=draw(st.none() | st.sampled_from(GRAMS_PER_CLICK)) if topical else None)
    before = draw(st.lists(_measured_step(context, mass, mass_unit, per, last=False, timed=True),
                           max_size=2))
    last = draw(_measured_step(context, mass, mass_unit, per, last=not before, timed=False))
    return context, Sig((*before, last))


# ---- hostile JSON (records read back by `leaflets qa`) -------------------------------------------

# Any JSON value a hostile or damaged file may hold where a record has one: wrong types, numbers as
# text, NaN and infinities, empty and odd text (lone surrogates, controls), lists of any length.
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                         st.text(max_size=20), st.sampled_from(["8.0", "", "../../etc/passwd", "\ud800"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
