"""The dosage model: the structure directions are read into, close to FHIR Dosage, and the
Universal Medication Schedule periods a structure prints as. No parsing and no printing here."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ...errors import SafetyError
from ...models import DoseUnit, Product, Route, TopicalSite

FIELD = "directions"


def err(message: str) -> SafetyError:
    """A refusal of the directions: the message names the word and why."""
    return SafetyError(FIELD, message)


class NotSig(Exception):
    """The text is not in the grammar: a pharmacist may still approve it as written."""

    def __init__(self, message: str) -> None:
        self.message = message


class Frequency(StrEnum):
    TIMES_DAILY = "times-daily"        # count: 1..6 (5 and 6 have no UMS rendering)
    EVERY_HOURS = "every-hours"        # hours, hours_max
    EVERY_OTHER_DAY = "every-other-day"
    TIMES_WEEKLY = "times-weekly"      # count: 1..3
    WEEKDAYS = "weekdays"              # days: named days of the week
    DAY_PERIODS = "day-periods"        # periods: morning, noon, evening, bedtime (UMS), meals
    MEALS = "meals"                    # ac, pc, "with meals" alone: the meals set the times
                                       # (FHIR Timing.repeat.when AC/PC/C, no frequency); the
                                       # Dosage's meal says which
    EVERY_DAYS = "every-days"          # count: every 3 to 366 days, not a whole number of weeks
    EVERY_WEEKS = "every-weeks"        # count: every 2 to 52 weeks
    EVERY_MINUTES = "every-minutes"    # minutes, count: "every 5 minutes, up to 3 doses" (FHIR
                                       # repeat.period 5 min + repeat.count 3); as needed only


class Period(StrEnum):
    """A time of day: the four UMS periods, and the named meals (FHIR Timing.when: ACM, CM,
    PCM before, with and after breakfast; ACD, CD, PCD lunch; ACV, CV, PCV dinner). The order
    is the day's, and the canonical order of a step's periods."""

    MORNING = "morning"
    BEFORE_BREAKFAST = "before-breakfast"
    WITH_BREAKFAST = "with-breakfast"
    AFTER_BREAKFAST = "after-breakfast"
    NOON = "noon"
    BEFORE_LUNCH = "before-lunch"
    WITH_LUNCH = "with-lunch"
    AFTER_LUNCH = "after-lunch"
    EVENING = "evening"
    BEFORE_DINNER = "before-dinner"
    WITH_DINNER = "with-dinner"
    AFTER_DINNER = "after-dinner"
    BEDTIME = "bedtime"


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


class Site(StrEnum):
    SKIN = "skin"                      # "to the skin": not necessarily an affected area
    AFFECTED_AREA = "affected-area"    # "to the affected area", as the prescriber wrote it
    RIGHT_EYE = "right-eye"
    LEFT_EYE = "left-eye"
    EACH_EYE = "each-eye"
    RIGHT_EAR = "right-ear"
    LEFT_EAR = "left-ear"
    EACH_EAR = "each-ear"
    RIGHT_NOSTRIL = "right-nostril"
    LEFT_NOSTRIL = "left-nostril"
    EACH_NOSTRIL = "each-nostril"
    # Where on the skin, as the prescriber names it ("apply to the inner thighs")
    FACE = "face"
    SCALP = "scalp"
    HANDS = "hands"
    FEET = "feet"
    CHEST = "chest"
    ABDOMEN = "abdomen"
    BACK = "back"
    NECK = "neck"
    SHOULDERS = "shoulders"
    UPPER_ARMS = "upper-arms"
    INNER_ARMS = "inner-arms"
    INNER_THIGHS = "inner-thighs"
    INNER_WRISTS = "inner-wrists"
    VAGINAL_AREA = "vaginal-area"


BODY_SITES = frozenset({
    Site.FACE, Site.SCALP, Site.HANDS, Site.FEET, Site.CHEST, Site.ABDOMEN, Site.BACK, Site.NECK,
    Site.SHOULDERS, Site.UPPER_ARMS, Site.INNER_ARMS, Site.INNER_THIGHS, Site.INNER_WRISTS,
    Site.VAGINAL_AREA})


class Meal(StrEnum):
    BEFORE = "before-meals"
    AFTER = "after-meals"
    WITH = "with-meals"


class Instruction(StrEnum):
    """Additional instructions (FHIR Dosage.additionalInstruction), printed after the timing."""

    WITH_FOOD = "with-food"
    EMPTY_STOMACH = "empty-stomach"
    WITH_WATER = "with-water"
    WITH_OR_WITHOUT_FOOD = "with-or-without-food"
    # Sentences of their own, printed after the directions (SENTENCE_INSTRUCTIONS).
    SWALLOW_WHOLE = "swallow-whole"
    NO_CRUSH_OR_CHEW = "do-not-crush-or-chew"
    NO_CRUSH = "do-not-crush"
    NO_CHEW = "do-not-chew"
    RINSE_MOUTH = "rinse-mouth"
    RINSE_MOUTH_AND_THROAT = "rinse-mouth-and-throat"
    SHAKE_WELL = "shake-well"


# Instructions that are sentences of their own ("Swallow whole."), printed after all the steps;
# a taper keeps them on its last step, where the printed sentences read back.
SENTENCE_INSTRUCTIONS = frozenset({
    Instruction.SWALLOW_WHOLE, Instruction.NO_CRUSH_OR_CHEW, Instruction.NO_CRUSH,
    Instruction.NO_CHEW, Instruction.RINSE_MOUTH, Instruction.RINSE_MOUTH_AND_THROAT,
    Instruction.SHAKE_WELL})


class Method(StrEnum):
    """How a liquid is used in the mouth (FHIR Dosage.method)."""

    SWISH_AND_SPIT = "swish-and-spit"
    SWISH_AND_SWALLOW = "swish-and-swallow"


class MassUnit(StrEnum):
    """A mass of the active ingredient: a dose by mass ("0.5 mg"), or the strength after the
    unit ("1 tab (20 mg)"). µg and ug are read as mcg and never printed
    (shared/reference/error-prone-abbreviations.md §3, §7: µg/ug EXPAND → mcg)."""

    MCG = "mcg"
    MG = "mg"
    G = "g"


@dataclass(frozen=True)
class Strength:
    """A product's strength as a ratio (rules/sig/measures.py reads it from the product's
    `strength`): `mass` `mass_unit` in `per` `per_unit` of the product. "20 mg/g" is 20 mg in
    1 g; "250 mg/5 mL" is 250 mg in 5 mL; "20 mg" for a tablet is 20 mg in 1 tablet."""

    mass: Decimal
    mass_unit: MassUnit
    per: Decimal
    per_unit: DoseUnit


class DurationUnit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


@dataclass(frozen=True)
class Timing:
    frequency: Frequency
    count: int = 0
    hours: int = 0
    hours_max: int = 0
    periods: tuple[Period, ...] = ()
    days: tuple[Weekday, ...] = ()
    minutes: int = 0                   # EVERY_MINUTES: the interval; count: the most doses


@dataclass(frozen=True)
class Duration:
    value: int
    unit: DurationUnit = DurationUnit.DAYS

    @property
    def days(self) -> int:
        """The days it lasts; a month counts 31, its longest, for the limits (a quantity over
        months is not fixed: amounts.total_amount)."""
        return self.value * {DurationUnit.DAYS: 1, DurationUnit.WEEKS: 7,
                             DurationUnit.MONTHS: 31}[self.unit]


@dataclass(frozen=True)
class Dosage:
    """One step of directions, close to FHIR Dosage: dose range and unit (or a thin layer),
    route and site, timing, meal, additional instructions, as-needed reason, duration, and the
    most to use in 24 hours."""

    route: Route
    timing: Timing
    dose: Decimal | None = None
    dose_max: Decimal | None = None
    unit: DoseUnit | None = None
    thin_layer: bool = False
    site: Site | None = None
    meal: Meal | None = None
    instructions: tuple[Instruction, ...] = ()
    as_needed_for: str | None = None
    duration: Duration | None = None
    max_per_day: Decimal | None = None
    small_amount: bool = False          # "a small amount" ("apply sparingly")
    method: Method | None = None        # swish and spit, swish and swallow
    purpose: str | None = None          # "for reflux": what it is for, when not as needed
    # The dose as a mass of the active ingredient, printed after the amount measured ("Take
    # 0.5 mL (0.5 mg)"): FHIR's doseQuantity stays the amount in the product's unit (above), so
    # quantities are counted in it, and the mass is the second quantity, the one ordered.
    dose_mass: Decimal | None = None
    dose_mass_max: Decimal | None = None
    mass_unit: MassUnit | None = None
    # A dose counted in pump clicks: the dose (above) is the grams they give ("Apply 2 clicks
    # (1 g)"), from the product's grams_per_click.
    clicks: Decimal | None = None
    clicks_max: Decimal | None = None
    # Different doses at different times of day ("1 tab qam and 2 tabs qhs"): one dose per
    # period of a DAY_PERIODS timing, in its order, and `dose` is the first (FHIR: one Dosage
    # per time, all with the same sequence). Empty when every period takes `dose`.
    doses: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class Sig:
    """Structured directions: one step, or the steps of a taper in order ("then")."""

    steps: tuple[Dosage, ...]


@dataclass(frozen=True)
class PlainDirections:
    text: str


Directions = Sig | PlainDirections


# ---- Universal Medication Schedule -------------------------------------------------------------

# USP <17> (shared/reference/usp-17-labels.md §3) and sig-codes.md §5, §7: 2, 3 or 4 doses a day
# print as the four UMS periods, the dose repeated for each.
UMS_PERIODS: dict[int, tuple[Period, ...]] = {
    2: (Period.MORNING, Period.EVENING),
    3: (Period.MORNING, Period.NOON, Period.EVENING),
    4: (Period.MORNING, Period.NOON, Period.EVENING, Period.BEDTIME),
}
UMS_COUNT = {periods: count for count, periods in UMS_PERIODS.items()}   # canonical form
# Why a timing has no UMS rendering (the safer readings of the references).
NO_UMS: dict[Frequency, str] = {
    Frequency.EVERY_HOURS: "an interval: turning it into times of day changes the regimen and is "
                           "the pharmacist's decision (sig-codes.md §1)",
    Frequency.EVERY_OTHER_DAY: "not every day: the UMS maps the doses of one day "
                               "(usp-17-labels.md §3)",
    Frequency.TIMES_WEEKLY: "not every day: the UMS maps the doses of one day (usp-17-labels.md "
                            "§3); name the days when they are known",
    Frequency.WEEKDAYS: "not every day: the days are named instead",
    Frequency.MEALS: "the meals set the times (sig-codes.md §5: ac, pc)",
    Frequency.EVERY_MINUTES: "an interval of minutes, as needed, up to a number of doses",
    Frequency.EVERY_DAYS: "not every day: the UMS maps the doses of one day (usp-17-labels.md §3)",
    Frequency.EVERY_WEEKS: "not every day: the UMS maps the doses of one day (usp-17-labels.md "
                           "§3)",
}
ONCE_DAILY_NO_UMS = ("once daily: a time of day only when the prescriber gives one "
                     "(sig-codes.md §6)")
AS_NEEDED_NO_UMS = ("as needed: fixed times of day would turn 'up to 4 times a day' into a "
                    "schedule (sig-codes.md §1)")
MANY_DOSES_NO_UMS = ("more than 4 doses a day: the UMS has four periods (usp-17-labels.md §3), "
                     "and no UMS rendering maps 5 or 6")
PURPOSE_NO_UMS = ("a purpose after the last time of day would read as that dose's only: "
                  "'twice daily for reflux'")
METHOD_NO_UMS = ("'swish ... and spit it out in the evening' would read as the evening dose only")
MEAL_NO_UMS = ("the meals set the times, and 'in the evening after meals' would read as the "
               "evening dose only")


def ums_periods(dosage: Dosage) -> tuple[tuple[Period, ...], str | None]:
    """The UMS periods a step prints, or () and the reason it prints none."""
    t = dosage.timing
    if t.frequency is Frequency.DAY_PERIODS:
        return t.periods, None
    if t.frequency is not Frequency.TIMES_DAILY:
        return (), NO_UMS[t.frequency]
    if t.count == 1:
        return (), ONCE_DAILY_NO_UMS
    if t.count not in UMS_PERIODS:
        return (), MANY_DOSES_NO_UMS
    if dosage.meal is not None:
        return (), MEAL_NO_UMS
    if dosage.as_needed_for is not None:
        return (), AS_NEEDED_NO_UMS
    if dosage.purpose is not None:
        return (), PURPOSE_NO_UMS
    if dosage.method is not None:
        return (), METHOD_NO_UMS
    return UMS_PERIODS[t.count], None

# The named meals (FHIR Timing.when): each one's relation to the meal, and the UMS period of the
# part of the day it falls in. "In the morning" and "before breakfast" in one step may be one
# dose or two, so a step never names both (`clash`).
MEAL_PERIODS: dict[tuple[Meal, str], Period] = {
    (Meal.BEFORE, "breakfast"): Period.BEFORE_BREAKFAST,
    (Meal.WITH, "breakfast"): Period.WITH_BREAKFAST,
    (Meal.AFTER, "breakfast"): Period.AFTER_BREAKFAST,
    (Meal.BEFORE, "lunch"): Period.BEFORE_LUNCH,
    (Meal.WITH, "lunch"): Period.WITH_LUNCH,
    (Meal.AFTER, "lunch"): Period.AFTER_LUNCH,
    (Meal.BEFORE, "dinner"): Period.BEFORE_DINNER,
    (Meal.WITH, "dinner"): Period.WITH_DINNER,
    (Meal.AFTER, "dinner"): Period.AFTER_DINNER,
}
MEAL_RELATION: dict[Period, Meal] = {period: meal for (meal, _), period in MEAL_PERIODS.items()}
_PART = {"breakfast": Period.MORNING, "lunch": Period.NOON, "dinner": Period.EVENING}
MEAL_PART: dict[Period, Period] = {period: _PART[name] for (_, name), period in MEAL_PERIODS.items()}
MEAL_NAME: dict[Period, str] = {period: name for (_, name), period in MEAL_PERIODS.items()}
MEAL_NAMES = tuple(_PART)       # breakfast, lunch, dinner: what "ac" and "pc" count


def clash(periods: tuple[Period, ...] | list[Period]) -> tuple[Period, Period] | None:
    """A named meal and the UMS period of its part of the day, both in `periods`, if any."""
    for period in periods:
        if period in MEAL_PART and MEAL_PART[period] in periods:
            return MEAL_PART[period], period
    return None


def daily(n: int) -> Timing:
    return Timing(Frequency.TIMES_DAILY, count=n)


def weekly(n: int) -> Timing:
    return Timing(Frequency.TIMES_WEEKLY, count=n)


# ---- what directions are read against --------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """The product directions are read for: its route and dose unit (a sig that contradicts
    them is refused) and, for a topical, where it goes when the directions do not say. All
    None: no product (`leaflets sig` without --product)."""

    route: Route | None = None
    unit: DoseUnit | None = None
    topical_site: TopicalSite | None = None
    # What a dose by mass, a strength after the unit and pump clicks are read against: the
    # strength as the product writes it ("1 mg/mL": rules/sig/measures.py reads it, and refuses
    # it only when a sig needs it), the grams one click of its pump gives, and its slug (for
    # messages).
    strength: str | None = None
    grams_per_click: Decimal | None = None
    product: str | None = None

    @classmethod
    def of(cls, product: Product) -> Context:
        return cls(route=product.route, unit=product.dosage_form,
                   topical_site=product.topical_site, strength=product.strength,
                   grams_per_click=product.grams_per_click, product=product.slug)


# ---- what a step has read so far ---------------------------------------------------------------


@dataclass
class Slots:
    """The slots of one step as the grammar fills them; rules/sig/checks.py makes the Dosage."""

    dose: Decimal | None = None
    dose_max: Decimal | None = None
    dose_text: str = ""             # the dose as written, for messages
    unit: DoseUnit | None = None
    thin_layer: bool = False
    small_amount: bool = False
    application: bool = False       # "1 application": applied, no amount
    method: Method | None = None
    route: Route | None = None
    route_text: str = ""            # the route as written, for messages
    site: Site | None = None
    verb: str | None = None
    timing: Timing | None = None
    periods: list[Period] = field(default_factory=list)
    period_words: list[str] = field(default_factory=list)     # each period as written
    period_doses: list[Decimal | None] = field(default_factory=list)   # None: the step's dose
    next_dose: Decimal | None = None    # a dose read for the next period ("and 2 tabs qhs")
    dose_count: int | None = None   # "up to 3 doses", with a minute interval
    meal_text: str = ""             # the meal as written ("pc"), for messages
    meal_glued: str = ""            # the word it was cut from ("poac"), if any
    dose_count_text: str = ""       # as written, for messages
    interval_text: str = ""         # a minute interval as written, for messages
    once_daily: bool = False        # "once daily in the morning": one time of day only
    days: list[Weekday] = field(default_factory=list)
    meal: Meal | None = None
    instructions: list[Instruction] = field(default_factory=list)
    reason: list[str] | None = None
    reason_text: str = ""           # the as-needed words as written ("prn", "when required")
    reason_open: bool = False       # words are the as-needed reason until a keyword or a stop
    purpose: list[str] | None = None
    purpose_open: bool = False      # words are the purpose ("for reflux") until the same
    duration: Duration | None = None
    max_per_day: Decimal | None = None
    # rules/sig/measures.py: a mass ("0.5 mg", or "(20 mg)" after the unit) and pump clicks
    mass: tuple[Decimal, Decimal | None] | None = None
    mass_unit: MassUnit | None = None
    mass_text: str = ""             # the mass as written, for messages
    clicks: tuple[Decimal, Decimal | None] | None = None   # the dose was counted in clicks
    clicks_text: str = ""
    click_grams: tuple[Decimal, Decimal | None] | None = None   # the "(1 g)" after them
    click_grams_text: str = ""

