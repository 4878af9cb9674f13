"""Directions: parse a sig into a structured dosage, or accept plain-language text.

The engine is a tokenizer and a slot grammar over phrases, not a string replace. It reads pharmacy
sig codes and the plain-English sentences this program prints, so printed text parses back to the
structure it came from (tests/test_rules_sig.py checks that for every accepted dosage). Within a
step the slots may come in any order, each at most once:

    sig       := step ("then" step)*         every step but the last has a duration; a maximum
                                             only in a sig of one step
    step      := [verb] amount? route|site? timing meal? instruction* as-needed? duration?
                 maximum?  ("Take each dose" may introduce the qualifiers, as printed)
    amount    := dose [unit] | "a thin layer"
    dose      := N | N-M | N "to" M | 1/2 | ½ | 1½ | 1 1/2 | "one-half" | N "and one-half" | 1,000
    timing    := frequency | period ("and"? [amount] period)* | weekday+
                 (qd bid tid qid, q8h, q4-6h, qod, qw biw tiw, q Mon Wed Fri, qam qnoon qpm qhs,
                  and their English: "twice daily", "every 4 to 6 hours", "at bedtime" ...)
    meal      := ac | pc | "before meals" | "after meals" | "with meals"
    instruction := "with food" | "on an empty stomach" | "with a full glass of water" ...
    as-needed := ("prn" | "as needed") ["for"] WORD+   the reason, in plain words, up to
                                                        punctuation or the next phrase
    duration  := "x" N "d" | xNd | "x" Nd | ("for" | "x") N ("days" | "weeks" | "wk")
    maximum   := ("max" | "maximum" | "do not take more than" | "not to exceed" ...) N [unit]
                 ("per day" | "/day" | "in 24 hours" | "/24h" ...)

The structure is close to FHIR Dosage (doseAndRate, route, site, timing.repeat, asNeeded,
additionalInstruction, maxDosePerPeriod; a taper is a sequence of Dosage). It is canonical: two
sigs that mean the same regimen give equal structures ("bid" and "qam qpm" are both twice daily).

Codes and their plain meanings come from shared/reference/sig-codes.md (§3–5); what is refused
and what is expanded comes from the "label action" column of
shared/reference/error-prone-abbreviations.md. Anything unknown, ambiguous or contradictory is
an error naming the token, never a guess. The words printed for a dosage live in
templates/directions.txt.j2 and its catalogs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from ..errors import SafetyError
from ..models import DoseUnit, Route
from .abbreviations import PUNCTUATION, find_banned, format_number

FIELD = "directions"


class Frequency(StrEnum):
    TIMES_DAILY = "times-daily"        # count: 1..4
    EVERY_HOURS = "every-hours"        # hours, hours_max
    EVERY_OTHER_DAY = "every-other-day"
    TIMES_WEEKLY = "times-weekly"      # count: 1..3
    WEEKDAYS = "weekdays"              # days: named days of the week
    DAY_PERIODS = "day-periods"        # periods: morning, noon, evening, bedtime (UMS)


class Period(StrEnum):
    MORNING = "morning"
    NOON = "noon"
    EVENING = "evening"
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
    RIGHT_EYE = "right-eye"
    LEFT_EYE = "left-eye"
    EACH_EYE = "each-eye"
    RIGHT_EAR = "right-ear"
    LEFT_EAR = "left-ear"
    EACH_EAR = "each-ear"


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


class DurationUnit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"


@dataclass(frozen=True)
class Timing:
    frequency: Frequency
    count: int = 0
    hours: int = 0
    hours_max: int = 0
    periods: tuple[Period, ...] = ()
    days: tuple[Weekday, ...] = ()


@dataclass(frozen=True)
class Duration:
    value: int
    unit: DurationUnit = DurationUnit.DAYS

    @property
    def days(self) -> int:
        return self.value * (7 if self.unit is DurationUnit.WEEKS else 1)


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
_UMS_COUNT = {periods: count for count, periods in UMS_PERIODS.items()}   # canonical form
# Why a timing has no UMS rendering (the safer readings of the references).
NO_UMS: dict[Frequency, str] = {
    Frequency.EVERY_HOURS: "an interval: turning it into times of day changes the regimen and is "
                           "the pharmacist's decision (sig-codes.md §1)",
    Frequency.EVERY_OTHER_DAY: "not every day: the UMS maps the doses of one day "
                               "(usp-17-labels.md §3)",
    Frequency.TIMES_WEEKLY: "not every day: the UMS maps the doses of one day (usp-17-labels.md "
                            "§3); name the days when they are known",
    Frequency.WEEKDAYS: "not every day: the days are named instead",
}
ONCE_DAILY_NO_UMS = ("once daily: a time of day only when the prescriber gives one "
                     "(sig-codes.md §6)")
AS_NEEDED_NO_UMS = ("as needed: fixed times of day would turn 'up to 4 times a day' into a "
                    "schedule (sig-codes.md §1)")
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
    if dosage.meal is not None:
        return (), MEAL_NO_UMS
    if dosage.as_needed_for is not None:
        return (), AS_NEEDED_NO_UMS
    return UMS_PERIODS[t.count], None


# ---- tokenizer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    text: str           # as written
    low: str            # lower case, for matching
    kind: str           # number, range, word, punct


_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|\d*½|\d+/\d+)"   # 1,000 as printed
_NUMBER = re.compile(rf"^{_NUM}$")
_RANGE = re.compile(rf"^({_NUM})-({_NUM})$")


_SLASHED = {"d/c", "n/v"}


def _token(raw: str) -> Token:
    kind = "number" if _NUMBER.match(raw) else "range" if _RANGE.match(raw) else "word"
    return Token(raw, raw.lower(), "punct" if raw in ",.;" else kind)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for raw in text.split():
        tail: list[Token] = []
        # a comma or a sentence's full stop after a word; "q.d." and "b.i.d." keep their dots
        while len(raw) > 1 and raw[-1] in ",.;" and (raw[-1] != "." or "." not in raw[:-1]
                                                      or raw[-2] == ")"):
            tail.insert(0, Token(raw[-1], raw[-1], "punct"))
            raw = raw[:-1]
        # "tabs/24h", "4/day": the rate after the slash is a token of its own
        head, slash, rate = raw.partition("/")
        if slash and head and rate and not (_NUMBER.match(raw) or _RANGE.match(raw)
                                            or raw.lower() in _SLASHED):
            tokens.append(_token(head))
            raw = slash + rate
        tokens.append(_token(raw))
        tokens.extend(tail)
    return tokens


# ---- vocabulary (sig-codes.md §2–5; error-prone-abbreviations.md §2–3) -------------------------

_UNITS: dict[str, DoseUnit] = {
    **dict.fromkeys(["cap", "caps", "capsule", "capsules"], DoseUnit.CAPSULE),
    **dict.fromkeys(["tab", "tabs", "tablet", "tablets"], DoseUnit.TABLET),
    **dict.fromkeys(["troche", "troches"], DoseUnit.TROCHE),
    **dict.fromkeys(["supp", "supps", "suppository", "suppositories"], DoseUnit.SUPPOSITORY),
    # "cc" is ISMP error-prone: EXPAND to mL (error-prone-abbreviations.md §3)
    **dict.fromkeys(["ml", "cc"], DoseUnit.ML),
    **dict.fromkeys(["g", "gram", "grams"], DoseUnit.G),
    **dict.fromkeys(["gtt", "gtts", "drop", "drops"], DoseUnit.DROP),
    **dict.fromkeys(["puff", "puffs"], DoseUnit.PUFF),
    **dict.fromkeys(["applicatorful", "applicatorfuls"], DoseUnit.APPLICATORFUL),
}
_VERBS = {"take", "apply", "insert", "instill", "inhale", "use", "place", "dissolve"}

# Multi-word phrases and codes, matched longest first: (words, slot, value).
_Phrase = tuple[tuple[str, ...], str, object]


def _phrases(slot: str, table: dict[str, object]) -> list[_Phrase]:
    return [(tuple(text.split()), slot, value) for text, value in table.items()]


_ROUTE_WORDS: dict[str, object] = {
    "po": Route.ORAL, "pr": Route.RECTAL, "pv": Route.VAGINAL, "sl": Route.SUBLINGUAL,
    "top": Route.TOPICAL, "inh": Route.INHALATION, "buccal": Route.BUCCAL,
    "per os": Route.ORAL,           # ISMP error-prone: EXPAND → "by mouth"
    "by mouth": Route.ORAL, "orally": Route.ORAL, "in the mouth": Route.ORAL,
    "under the tongue": Route.SUBLINGUAL, "sublingually": Route.SUBLINGUAL,
    "between the cheek and gum": Route.BUCCAL,
    "to the affected area": Route.TOPICAL, "topically": Route.TOPICAL,
    "rectally": Route.RECTAL, "vaginally": Route.VAGINAL,
    "in the eye": Route.OPHTHALMIC, "in the ear": Route.OTIC, "in the nose": Route.NASAL,
}
# Eye and ear codes: EXPAND only for an ophthalmic or otic product, otherwise REJECT (§3).
_SITE_CODES: dict[str, Site] = {"od": Site.RIGHT_EYE, "os": Site.LEFT_EYE, "ou": Site.EACH_EYE,
                                "ad": Site.RIGHT_EAR, "as": Site.LEFT_EAR, "au": Site.EACH_EAR}
_SITE_WORDS: dict[str, object] = {
    "to the skin": Site.SKIN, "on the skin": Site.SKIN,
    "in the right eye": Site.RIGHT_EYE, "in the left eye": Site.LEFT_EYE,
    "in each eye": Site.EACH_EYE, "in both eyes": Site.EACH_EYE,
    "in the right ear": Site.RIGHT_EAR, "in the left ear": Site.LEFT_EAR,
    "in each ear": Site.EACH_EAR, "in both ears": Site.EACH_EAR,
}
SITE_ROUTE = {Site.SKIN: Route.TOPICAL, Site.RIGHT_EYE: Route.OPHTHALMIC, Site.LEFT_EYE: Route.OPHTHALMIC,
              Site.EACH_EYE: Route.OPHTHALMIC, Site.RIGHT_EAR: Route.OTIC,
              Site.LEFT_EAR: Route.OTIC, Site.EACH_EAR: Route.OTIC}


def _daily(n: int) -> Timing:
    return Timing(Frequency.TIMES_DAILY, count=n)


def _weekly(n: int) -> Timing:
    return Timing(Frequency.TIMES_WEEKLY, count=n)


_FREQUENCY_WORDS: dict[str, object] = {
    # qd, q1d: TJC/ISMP error-prone, EXPAND → "once daily"
    **dict.fromkeys(["qd", "q.d.", "q1d", "daily", "once daily", "once a day", "every day"],
                    _daily(1)),
    **dict.fromkeys(["bid", "b.i.d.", "twice daily", "twice a day", "2 times a day",
                     "2 times daily"], _daily(2)),
    **dict.fromkeys(["tid", "t.i.d.", "3 times a day", "3 times daily"], _daily(3)),
    **dict.fromkeys(["qid", "q.i.d.", "4 times a day", "4 times daily"], _daily(4)),
    # qod: TJC/ISMP error-prone, EXPAND → "every other day"
    **dict.fromkeys(["qod", "q.o.d.", "every other day"], Timing(Frequency.EVERY_OTHER_DAY)),
    **dict.fromkeys(["qw", "qwk", "q week", "weekly", "once a week", "once weekly"], _weekly(1)),
    # biw, tiw: ISMP error-prone, EXPAND → "2 times a week", "3 times a week"
    **dict.fromkeys(["biw", "2 times a week", "twice a week", "2 times weekly"], _weekly(2)),
    **dict.fromkeys(["tiw", "3 times a week", "3 times weekly"], _weekly(3)),
}
_PERIOD_WORDS: dict[str, object] = {
    "qam": Period.MORNING, "qnoon": Period.NOON, "qpm": Period.EVENING,
    # qhs, qn, BT: ISMP error-prone, EXPAND → "at bedtime"
    "qhs": Period.BEDTIME, "qn": Period.BEDTIME, "bt": Period.BEDTIME,
    "in the morning": Period.MORNING, "every morning": Period.MORNING,
    "at noon": Period.NOON, "in the evening": Period.EVENING, "every evening": Period.EVENING,
    "at bedtime": Period.BEDTIME, "nightly at bedtime": Period.BEDTIME,
}
_MEAL_WORDS: dict[str, object] = {
    "ac": Meal.BEFORE, "pc": Meal.AFTER, "before meals": Meal.BEFORE, "after meals": Meal.AFTER,
    "with meals": Meal.WITH,
}
_INSTRUCTION_WORDS: dict[str, object] = {
    "with food": Instruction.WITH_FOOD,
    "on an empty stomach": Instruction.EMPTY_STOMACH,
    "on empty stomach": Instruction.EMPTY_STOMACH,
    "with water": Instruction.WITH_WATER,
    "with a full glass of water": Instruction.WITH_WATER,
    "with or without food": Instruction.WITH_OR_WITHOUT_FOOD,
}
_AMOUNT_WORDS: dict[str, object] = {"a thin layer": "thin-layer"}
# "Take each dose with food.": how the qualifiers of a dose given at several times of day print.
_EACH_WORDS: dict[str, object] = {f"{verb} each dose": "each" for verb in
                                  ("take", "apply", "insert", "instill", "inhale", "use", "place",
                                   "dissolve")}
_PRN_WORDS: dict[str, object] = {"prn": "prn", "as needed": "prn", "as needed for": "prn",
                                 "prn for": "prn"}
_PHRASE_TABLE: list[_Phrase] = sorted(
    _phrases("route", _ROUTE_WORDS) + _phrases("site", _SITE_WORDS)
    + _phrases("frequency", _FREQUENCY_WORDS) + _phrases("period", _PERIOD_WORDS)
    + _phrases("meal", _MEAL_WORDS) + _phrases("instruction", _INSTRUCTION_WORDS)
    + _phrases("amount", _AMOUNT_WORDS) + _phrases("prn", _PRN_WORDS)
    + _phrases("each", _EACH_WORDS),
    key=lambda p: -len(p[0]))
_PHRASES_BY_FIRST_WORD: dict[str, list[_Phrase]] = {}
for _phrase in _PHRASE_TABLE:                  # longest first within each first word
    _PHRASES_BY_FIRST_WORD.setdefault(_phrase[0][0], []).append(_phrase)

_WEEKDAYS: dict[str, Weekday] = {
    **dict.fromkeys(["mon", "monday", "mondays"], Weekday.MONDAY),
    **dict.fromkeys(["tue", "tues", "tuesday", "tuesdays"], Weekday.TUESDAY),
    **dict.fromkeys(["wed", "wednesday", "wednesdays"], Weekday.WEDNESDAY),
    **dict.fromkeys(["thu", "thur", "thurs", "thursday", "thursdays"], Weekday.THURSDAY),
    **dict.fromkeys(["fri", "friday", "fridays"], Weekday.FRIDAY),
    **dict.fromkeys(["sat", "saturday", "saturdays"], Weekday.SATURDAY),
    **dict.fromkeys(["sun", "sunday", "sundays"], Weekday.SUNDAY),
}

# REJECT: the meaning cannot be known safely (error-prone-abbreviations.md §7).
_REJECT: dict[str, str] = {
    "o.d.": "ambiguous: 'o.d.' is read as 'once daily' or 'right eye'",
    "hs": "ambiguous: 'hs' (bedtime) and 'HS' (half-strength) differ only by case",
    "h.s.": "ambiguous: bedtime or half-strength",
    "d/c": "ambiguous: discharge or discontinue",
    "ss": "ambiguous: one-half or sliding scale",
    "ssi": "ambiguous: sliding scale insulin or a drug class",
    "ud": "'as directed' alone is not a direction (USP <17>): write the directions",
    "u.d.": "'as directed' alone is not a direction (USP <17>): write the directions",
    "u": "units are error-prone as 'U' and no product here is dosed in units",
    "iu": "units are error-prone as 'IU' and no product here is dosed in units",
    "sc": "no nonsterile preparation is given under the skin",
    "sq": "no nonsterile preparation is given under the skin",
    "subq": "no nonsterile preparation is given under the skin",
    "ij": "no nonsterile preparation is injected",
    "im": "no nonsterile preparation is injected",
    "iv": "no nonsterile preparation is injected",
    "in": "'IN' is ISMP error-prone (read as IM or IV): write 'in the nose'",
    "tsp": "household measures are error-prone for oral liquids: write the dose in mL "
           "(sig-codes.md §3)",
    "tbsp": "household measures are error-prone for oral liquids: write the dose in mL "
            "(sig-codes.md §3)",
    "mwf": "day-letter codes are ambiguous: name the days ('Mon Wed Fri')",
    "ʒ": "apothecary units need a pharmacist's conversion (ISMP)",
    "♏": "apothecary units need a pharmacist's conversion (ISMP)",
}
_HOURLY = re.compile(r"^q(\d+)(?:-(\d+))?h$")
_CLOCK = re.compile(r"^q\d+(?:am|pm)$")
_DURATION = re.compile(r"^x(\d+)d$")          # x3d, ISMP error-prone: EXPAND → "for 3 days"
_SHORT_DURATION = re.compile(r"^(\d+)(d|wk)$")  # the "3d" of "x 3d"
# Which routes each dose unit can be given by: anything else is a slip (a troche is not inhaled).
UNIT_ROUTES: dict[DoseUnit, frozenset[Route]] = {
    DoseUnit.CAPSULE: frozenset({Route.ORAL, Route.VAGINAL}),
    DoseUnit.TABLET: frozenset({Route.ORAL, Route.SUBLINGUAL, Route.BUCCAL, Route.VAGINAL}),
    DoseUnit.TROCHE: frozenset({Route.ORAL, Route.SUBLINGUAL, Route.BUCCAL}),
    DoseUnit.SUPPOSITORY: frozenset({Route.RECTAL, Route.VAGINAL}),
    DoseUnit.ML: frozenset({Route.ORAL, Route.TOPICAL, Route.RECTAL, Route.VAGINAL, Route.NASAL,
                            Route.SUBLINGUAL, Route.BUCCAL}),
    DoseUnit.G: frozenset({Route.TOPICAL, Route.RECTAL, Route.VAGINAL}),
    DoseUnit.DROP: frozenset({Route.OPHTHALMIC, Route.OTIC, Route.NASAL, Route.ORAL,
                              Route.SUBLINGUAL}),
    DoseUnit.PUFF: frozenset({Route.INHALATION, Route.NASAL}),
    DoseUnit.APPLICATORFUL: frozenset({Route.VAGINAL, Route.RECTAL}),
}
_DIVISIBLE = {DoseUnit.TABLET}                 # the only unit a dose may be half of
_MEASURED = {DoseUnit.ML, DoseUnit.G}          # decimals are fine

# Upper bounds against typos, not clinical limits: no compounded dose comes near them, and a
# dose past them ("10000 tab") is a slip to send back, never a label. README: "Limits".
MAX_DOSE = {**dict.fromkeys(DoseUnit, Decimal(30)), DoseUnit.ML: Decimal(1000), DoseUnit.G: Decimal(1000)}
MAX_DURATION_DAYS = 366
# As-needed reasons are plain words; these short words are English, anything else of three
# letters or fewer is treated as an unknown abbreviation (e.g. "ha" for headache).
_SHORT_WORDS = {"a", "an", "and", "or", "of", "the", "to", "in", "at", "on", "dry", "eye",
                "ear", "leg", "arm", "hip", "low", "gas", "itch", "back", "skin", "mild", "pain",
                "acid", "cold", "cough", "sore", "hot", "flu"}
_REASON_CODES = {"sob": "shortness of breath", "n/v": "nausea and vomiting"}
# Words that begin an instruction, never a reason ("as needed for pain swallow whole"): the
# reason ends before them, and what follows is read as the grammar reads it, or refused.
_REASON_STOPS = {"swallow", "chew", "crush", "do", "don't", "avoid", "rinse", "shake", "may",
                 "repeat", "with", "without", "before", "after", "until", "if", "while",
                 "every", "each", "daily", "once", "twice", "not"}
_MAX_WORDS = [("do", "not", "take", "more", "than"), ("do", "not", "use", "more", "than"),
              ("do", "not", "exceed"),
              ("not", "to", "exceed"), ("no", "more", "than"), ("maximum",), ("max",)]
_PER_DAY = [("per", "day"), ("a", "day"), ("/day",), ("in", "24", "hours"), ("per", "24", "hours"),
            ("/24h",), ("/24", "hours"), ("in", "1", "day"), ("in", "one", "day")]


def _err(message: str) -> SafetyError:
    return SafetyError(FIELD, message)


class _NotSig(Exception):
    """The text is not in the grammar: plain words may still be accepted as they are."""

    def __init__(self, message: str) -> None:
        self.message = message


VERBATIM_HINT = ("; or a pharmacist may approve the text as written "
                 "(directions_verbatim: {approved_by: <initials>})")


@lru_cache(maxsize=4096)
def parse_directions(text: str, *, route: Route | None = None, unit: DoseUnit | None = None,
                     verbatim: bool = False) -> Directions:
    """Parse `text` for a product given by `route` and `unit` (None: no product context).
    Text outside the grammar prints as written only when a pharmacist approved it as written
    (`verbatim`): how the text is written (a capital letter) never decides what is accepted
    (sig-codes.md §1: directions the program has not understood are not printed unreviewed).
    Pure, so cached: a day's fills repeat a few sigs."""
    text = " ".join(text.split())
    if not text:
        raise _err("directions are empty")
    try:
        return _Parser(tokenize(text), route, unit).sig()
    except _NotSig as exc:
        if not verbatim:    # the way out, where approved text would be printable at all
            try:
                _check_plain(text)
            except SafetyError:
                raise _err(exc.message) from None
            raise _err(exc.message + VERBATIM_HINT) from None
    return _check_plain(text)


def _check_plain(text: str) -> PlainDirections:
    """Plain directions print as written, so they may hold no code at all: not the banned list's
    (find_banned) and not any code this grammar reads (qw, PR, AC, x7, q.a.m., per os ...)."""
    hits = find_banned(text, symbols=True)
    if hits:
        raise _err(f"{hits[0]}; directions are either all plain words or all sig codes")
    if not {w.rstrip(".") for w in _words(text)} - _AS_DIRECTED_WORDS:
        raise _err("'as directed' alone tells the patient nothing to follow: write the "
                   "directions (sig-codes.md §5: ud, avoid alone)")
    words = _words(text)
    for i, word in enumerate(words):
        pair = " ".join(words[i:i + 2])
        code = pair if pair == "per os" else word if _is_code(word) else None
        if code:
            raise _err(f"'{code}' is a sig code; directions are either all plain words or all "
                       "sig codes")
    return PlainDirections(text)


# The words of "use as directed" and its kin: approved text of only these says nothing.
_AS_DIRECTED_WORDS = {"use", "take", "apply", "insert", "instill", "inhale", "place", "dissolve",
                      "give", "as", "directed", "by", "your", "the", "doctor", "prescriber",
                      "physician", "provider"}


def _words(text: str) -> list[str]:
    return [w for w in (w.strip(PUNCTUATION).lower() for w in text.split()) if w]


# Codes the grammar reads that are not English words ("as", "top", "daily" are left out).
_PLAIN_CODES = {
    "po", "pr", "pv", "sl", "inh", "qd", "q1d", "bid", "tid", "qid", "qod", "qw", "qwk", "biw",
    "tiw", "qam", "qnoon", "qpm", "qhs", "qn", "bt", "ac", "pc", "od", "os", "ou", "ad", "au",
    "prn", "cap", "caps", "tab", "tabs", "supp", "supps", "gtt", "gtts", "cc", "q", "qh", "qds",
    "stat", *(_REJECT.keys() - {"in"})}
_DOTTED = re.compile(r"^(?:[a-z]\.){2,}$")        # q.a.m., b.i.d., p.o.
_X_COUNT = re.compile(r"^x\d+(?:d|wk)?$")          # x7, x7d


def _is_code(word: str) -> bool:
    bare = word.rstrip(".") if not _DOTTED.match(word) else word
    return (bare in _PLAIN_CODES or bool(_DOTTED.match(word)) or bool(_HOURLY.match(bare))
            or bool(_CLOCK.match(bare)) or bool(_X_COUNT.match(bare)))


# ---- numbers -----------------------------------------------------------------------------------


def number(text: str) -> Decimal:
    """One dose number as written: 1, 0.5, 1/2, ½, 1½. Error-prone forms are refused."""
    for hit in find_banned(text):
        raise _err(f"{hit} (in '{text}')")
    if "/" in text:
        top, bottom = text.split("/")
        if bottom != "2" or top != "1":
            raise _err(f"'{text}': only halves are accepted as fractions; other part doses need "
                       "a pharmacist's wording")
        return Decimal("0.5")
    if text.endswith("½"):
        return Decimal(text[:-1] or 0) + Decimal("0.5")
    return Decimal(text.replace(",", ""))


# ---- the parser --------------------------------------------------------------------------------


@dataclass
class _Slots:
    dose: Decimal | None = None
    dose_max: Decimal | None = None
    dose_text: str = ""             # the dose as written, for messages
    unit: DoseUnit | None = None
    thin_layer: bool = False
    route: Route | None = None
    route_text: str = ""            # the route as written, for messages
    site: Site | None = None
    verb: str | None = None
    timing: Timing | None = None
    periods: list[Period] = field(default_factory=list)
    once_daily: bool = False        # "once daily in the morning": one time of day only
    days: list[Weekday] = field(default_factory=list)
    meal: Meal | None = None
    instructions: list[Instruction] = field(default_factory=list)
    reason: list[str] | None = None
    reason_open: bool = False       # words are the as-needed reason until a keyword or a stop
    duration: Duration | None = None
    max_per_day: Decimal | None = None


class _Parser:
    def __init__(self, tokens: list[Token], route: Route | None, unit: DoseUnit | None) -> None:
        self.t = tokens
        self.i = 0
        self._last: list[Token] = []      # the phrase matched last
        self.route = route
        self.unit = unit

    # -- helpers --
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def low(self, k: int = 0) -> str:
        tok = self.peek(k)
        return tok.low if tok else ""

    def at(self, words: tuple[str, ...]) -> bool:
        return all(self.low(k) == w for k, w in enumerate(words))

    def phrase(self) -> tuple[int, str, object] | None:
        for words, slot, value in _PHRASES_BY_FIRST_WORD.get(self.low(), ()):
            if self.at(words):
                return len(words), slot, value
        return None

    # -- grammar --
    def sig(self) -> Sig:
        steps = [self.step(first=True)]
        while self.i < len(self.t):
            assert self.low() == "then"
            self.i += 1
            steps.append(self.step(first=False))
        for n, step in enumerate(steps[:-1], 1):
            if step.duration is None:
                raise _err(f"step {n} of {len(steps)} comes before 'then' and needs a duration "
                           "('for 7 days'), or the next step never starts")
            if steps[-1].max_per_day is not None or step.max_per_day is not None:
                raise _err("a maximum in directions with 'then' would read as applying to every "
                           "step: write it out in words for a pharmacist to approve as written "
                           "(directions_verbatim)")
        return Sig(tuple(steps))

    def step(self, *, first: bool) -> Dosage:
        s = _Slots()
        if self.low() in _VERBS:
            s.verb = self.low()
            self.i += 1
        elif not first and not self.peek():
            raise _err("'then' must be followed by the next step")
        while (tok := self.peek()) is not None:
            if tok.low == "then":
                break
            if s.reason_open:
                if not self._ends_reason():
                    self._reason_word(s, tok)
                    continue
                s.reason_open = False
            self._slot(s, tok)
        return self._finish(s)

    def _slot(self, s: _Slots, tok: Token) -> None:
        low = tok.low
        if tok.kind == "punct":
            self.i += 1
            return
        found = self.phrase()
        if found:
            length, slot, value = found
            self._last = self.t[self.i:self.i + length]
            self.i += length
            written = " ".join(t.text for t in self._last)      # messages name the phrase
            self._fill(s, slot, value, Token(written, written.lower(), "word"))
            return
        if self.at(("as", "directed")):     # UD in words: plain text may keep it beside the
            raise _NotSig("'as directed' is not a direction (USP <17>): write the directions")
        if low in _REJECT:
            raise _err(f"'{tok.text}' is refused: {_REJECT[low]}")
        if _CLOCK.match(low):
            raise _err(f"'{tok.text}' is refused: a clock-time code (ISMP error-prone); write "
                       "the time in words")
        if tok.kind in ("number", "range") or low == "one-half":
            self._amount(s)
            return
        if low in _SITE_CODES:
            self._site_code(s, tok)
            return
        if _HOURLY.match(low) or (low == "every" and self.peek(1) is not None
                                  and self.peek(1).kind in ("number", "range")):  # type: ignore[union-attr]
            self._set_timing(s, self._hourly(), tok)
            return
        if low == "every" and self.low(1) == "hour":
            self.i += 2
            self._set_timing(s, Timing(Frequency.EVERY_HOURS, hours=1), tok)
            return
        if (low in ("q", "every", "on") and self.low(1) in _WEEKDAYS) or low in _WEEKDAYS:
            self._weekdays(s, tok)
            return
        if low in _UNITS:
            if s.unit is not None:
                raise _NotSig(f"a second unit '{tok.text}'")
            s.unit = _UNITS[low]
            self.i += 1
            return
        if _DURATION.match(low) or (low in ("x", "for") and (
                (self.peek(1) is not None and self.peek(1).kind == "number")  # type: ignore[union-attr]
                or _SHORT_DURATION.match(self.low(1)))):
            self._duration(s)
            return
        for words in _MAX_WORDS:
            if self.at(words):
                self.i += len(words)
                self._maximum(s, tok)
                return
        if s.reason and (low in _VERBS or low in _REASON_STOPS):
            raise _NotSig(f"'{tok.text}' after the as-needed reason '{' '.join(s.reason)}' is not "
                          "read: put instructions before 'prn' (for example '1 tab po q8h with "
                          "food prn nausea')")
        raise _NotSig(f"unknown abbreviation '{tok.text}'")

    def _fill(self, s: _Slots, slot: str, value: object, tok: Token) -> None:
        if slot == "route":
            assert isinstance(value, Route)
            route = Route.INHALATION if value is Route.ORAL and s.verb == "inhale" else value
            if s.route is not None and not (s.site and SITE_ROUTE[s.site] is route):
                raise _err(f"a second route '{tok.text}'")
            s.route = route
            s.route_text = " ".join(t.text for t in self._last)
        elif slot == "site":
            assert isinstance(value, Site)
            self._set_site(s, value, tok)
        elif slot == "frequency":
            assert isinstance(value, Timing)
            self._set_timing(s, value, tok)
        elif slot == "period":
            assert isinstance(value, Period)
            self._period(s, value, tok)
        elif slot == "meal":
            if s.meal:
                raise _err(f"a second meal instruction '{tok.text}'")
            assert isinstance(value, Meal)
            s.meal = value
        elif slot == "instruction":
            assert isinstance(value, Instruction)
            if value in s.instructions:
                raise _err(f"'{tok.text}' repeats an instruction")
            s.instructions.append(value)
        elif slot == "amount":
            if s.dose is not None or s.thin_layer:
                raise _NotSig(f"a second amount '{tok.text}'")
            s.thin_layer = True
        elif slot == "prn":
            if s.reason is not None:
                raise _err("'as needed' twice")
            s.reason, s.reason_open = [], True
        elif slot == "each":
            pass                        # "Take each dose with food.": the qualifiers follow

    # -- amounts --
    def _value(self) -> tuple[Decimal, Decimal | None]:
        """A dose at the cursor: N, N-M, N to M, N 1/2, one-half, N and one-half."""
        tok = self.peek()
        assert tok is not None
        if tok.kind == "range":
            m = _RANGE.match(tok.low)
            assert m is not None
            self.i += 1
            low, high = number(m.group(1)), number(m.group(2))
            if high <= low:
                raise _err(f"dose range '{tok.text}' must go from low to high")
            return low, high
        low = self._single()
        if self.low() == "to" and self.peek(1) is not None and (
                self.peek(1).kind == "number" or self.low(1) == "one-half"):  # type: ignore[union-attr]
            self.i += 1
            high = self._single()
            if high <= low:
                raise _err(f"dose range '{amount_text(low)} to {amount_text(high)}' must go "
                           "from low to high")
            return low, high
        return low, None

    def _single(self) -> Decimal:
        tok = self.peek()
        assert tok is not None
        self.i += 1
        if tok.low == "one-half":
            return Decimal("0.5")
        value = number(tok.low)
        nxt = self.peek()
        if nxt is not None and "." not in tok.low and "½" not in tok.low and "/" not in tok.low:
            if nxt.low == "1/2" or nxt.low == "½":          # 1 1/2
                self.i += 1
                return value + Decimal("0.5")
            if nxt.low == "and" and self.low(1) == "one-half":
                self.i += 2
                return value + Decimal("0.5")
        return value

    def _amount(self, s: _Slots) -> None:
        tok = self.peek()
        assert tok is not None
        if s.periods and s.dose is not None:
            # a dose repeated before the next period: "2 tablets in the evening"
            low, high = self._value()
            if self.low() in _UNITS:
                if _UNITS[self.low()] is not (s.unit or self.unit):
                    raise _NotSig(f"'{self.peek().text}' differs from the dose's unit")  # type: ignore[union-attr]
                self.i += 1
            if (low, high) != (s.dose, s.dose_max):
                raise _NotSig("different doses at different times of day: write them out in words "
                              "for a pharmacist to approve as written (directions_verbatim)")
            found = self.phrase()
            if not found or found[1] != "period":
                raise _NotSig(f"a repeated dose '{tok.text}' must be followed by a time of day")
            return
        if s.dose is not None or s.thin_layer or s.timing or s.periods or s.days:
            raise _NotSig(f"unexpected number '{tok.text}'")
        start = self.i
        s.dose, s.dose_max = self._value()
        s.dose_text = " ".join(t.text for t in self.t[start:self.i])
        if s.dose <= 0:
            raise _err(f"dose '{tok.text}' must be greater than 0")

    # -- sites, timing --
    def _site_code(self, s: _Slots, tok: Token) -> None:
        site = _SITE_CODES[tok.low]
        wanted = SITE_ROUTE[site]
        if self.route is not wanted:
            kind = "an eye" if wanted is Route.OPHTHALMIC else "an ear"
            also = " or 'once daily'" if tok.low == "od" else ""
            raise _err(f"'{tok.text}' is refused: it is {kind} code{also}, and only an "
                       f"{wanted.value} product may use it (ISMP error-prone)")
        self.i += 1
        self._set_site(s, site, tok)

    def _set_site(self, s: _Slots, site: Site, tok: Token) -> None:
        if s.site is not None or (s.route is not None and s.route is not SITE_ROUTE[site]):
            raise _err(f"a second route '{tok.text}'")
        s.site, s.route, s.route_text = site, SITE_ROUTE[site], tok.text

    def _set_timing(self, s: _Slots, timing: Timing, tok: Token) -> None:
        if s.timing or s.periods or s.days:
            if (timing.frequency is Frequency.TIMES_WEEKLY and s.days
                    and timing.count == len(s.days) and not s.timing):
                s.timing = timing       # "Mon Wed Fri tiw": the count agrees with the days
                return
            raise _err(f"a second frequency '{tok.text}'")
        s.timing = timing

    def _period(self, s: _Slots, period: Period, tok: Token) -> None:
        once = s.timing is not None and s.timing == _daily(1) and not s.periods
        if (s.timing and not once) or (s.once_daily and s.periods):
            raise _err(f"'{tok.text}' conflicts with the frequency already given")
        if s.days:
            raise _err(f"'{tok.text}': a time of day with named days is not in the grammar yet")
        if once:
            s.timing = None             # "once daily in the morning" is "in the morning"
            s.once_daily = True
        if period in s.periods:
            raise _err(f"'{tok.text}' repeats a time of day")
        s.periods.append(period)
        while self.low() in (",", "and"):
            self.i += 1

    def _hourly(self) -> Timing:
        tok = self.peek()
        assert tok is not None
        if m := _HOURLY.match(tok.low):
            self.i += 1
            low, high, text = int(m.group(1)), int(m.group(2) or 0), tok.text
        else:                                           # every 4 hours, every 4 to 6 hours
            self.i += 1
            first = self.peek()
            assert first is not None
            lo_d, hi_d = self._value()
            if self.low() not in ("hours", "hour"):
                raise _NotSig(f"'every {first.text}' must be followed by 'hours'")
            self.i += 1
            if lo_d != lo_d.to_integral_value() or (hi_d is not None and hi_d != hi_d.to_integral_value()):
                raise _err(f"'every {first.text} hours' is not a whole number of hours")
            low, high = int(lo_d), int(hi_d or 0)
            text = f"every {first.text} hours"
        if not 1 <= low <= 72 or (high and not low < high <= 72):
            raise _err(f"'{text}' is not a usable interval")
        return Timing(Frequency.EVERY_HOURS, hours=low, hours_max=high)

    def _weekdays(self, s: _Slots, tok: Token) -> None:
        if self.low() == "on" and not self.low(1).endswith("s"):
            raise _NotSig(f"'on {self.peek(1).text}' may mean one day only: write 'every "  # type: ignore[union-attr]
                          f"{self.peek(1).text}' or 'q {self.peek(1).text}'")  # type: ignore[union-attr]
        if self.low() in ("q", "every", "on"):
            self.i += 1
        days: list[Weekday] = []
        while True:
            j = 0
            while days and self.low(j) in (",", "and"):
                j += 1
            if self.low(j) not in _WEEKDAYS:
                break
            self.i += j
            day = _WEEKDAYS[self.low()]
            if day in days:
                raise _err(f"'{self.peek().text}' names a day twice")  # type: ignore[union-attr]
            days.append(day)
            self.i += 1
        if s.timing and s.timing.frequency is Frequency.TIMES_WEEKLY and s.timing.count != len(days):
            raise _err(f"the {len(days)} days named do not match the {s.timing.count} times a week "
                       "already given")
        if s.periods or (s.timing and s.timing.frequency is not Frequency.TIMES_WEEKLY):
            raise _err(f"'{tok.text}' conflicts with the frequency already given")
        if s.days:
            raise _err(f"'{tok.text}': the days are already given")
        s.days = days
        if s.timing:
            s.timing = None             # "tiw Mon Wed Fri": the days say it all

    # -- as needed, duration, maximum --
    def _ends_reason(self) -> bool:
        """The reason ends at punctuation, 'then', a duration, a maximum, or any phrase of the
        grammar (a frequency, time of day, meal or instruction is parsed, never taken as
        words of the reason)."""
        low = self.low()
        nxt = self.peek(1)
        if low in (".", ";", ",", "then") or _DURATION.match(low) or _HOURLY.match(low):
            return True
        if low in _VERBS or low in _REASON_STOPS:   # "prn nausea take with food": not the reason
            return True
        if low in ("x", "for") and nxt is not None and (nxt.kind == "number"
                                                        or _SHORT_DURATION.match(nxt.low)):
            return True
        if self.phrase() is not None:
            return True
        return any(self.at(words) for words in _MAX_WORDS)

    def _reason_word(self, s: _Slots, tok: Token) -> None:
        assert s.reason is not None
        low = tok.low
        self.i += 1
        if not s.reason and low == "for":
            return
        word = _REASON_CODES.get(low, low)
        short = len(low) <= 3 and low not in _SHORT_WORDS
        if low not in _REASON_CODES and (not low.replace("-", "").isalpha() or short):
            raise _NotSig(f"unknown abbreviation '{tok.text}' in the as-needed reason: "
                          "write the reason in plain words")
        s.reason.append(word)

    def _duration(self, s: _Slots) -> None:
        tok = self.peek()
        assert tok is not None
        if s.duration is not None:
            raise _err("a second duration")
        if m := _DURATION.match(tok.low):
            value, unit = int(m.group(1)), DurationUnit.DAYS
            self.i += 1
        elif m := _SHORT_DURATION.match(self.low(1)):
            value = int(m.group(1))
            unit = DurationUnit.DAYS if m.group(2) == "d" else DurationUnit.WEEKS
            self.i += 2
        else:
            n = self.peek(1)
            assert n is not None
            if not n.text.isdigit():
                raise _err(f"'{tok.text} {n.text}': a duration is a whole number of days")
            value = int(n.text)
            self.i += 2
            word = self.low()
            if word in ("d", "day", "days"):
                unit = DurationUnit.DAYS
            elif word in ("wk", "wks", "week", "weeks"):
                unit = DurationUnit.WEEKS
            else:
                raise _NotSig(f"'{tok.text} {n.text}' must say days or weeks ('x 7 d', "
                              "'for 2 weeks')")
            self.i += 1
        if value < 1:
            raise _err("a duration must be at least 1 day")
        s.duration = Duration(value, unit)

    def _maximum(self, s: _Slots, tok: Token) -> None:
        if s.max_per_day is not None:
            raise _err("a second maximum")
        nxt = self.peek()
        if nxt is None or (nxt.kind != "number" and nxt.low != "one-half"):
            raise _NotSig(f"'{tok.text}' must be followed by the most to use in 24 hours")
        value = self._single()
        if self.low() in _UNITS:
            s_unit = _UNITS[self.low()]
            if s.unit is not None and s_unit is not s.unit:
                raise _err(f"the maximum is in {s_unit.value} but the dose in {s.unit.value}")
            s.unit = s.unit or s_unit
            self.i += 1
        for words in _PER_DAY:
            if self.at(words):
                self.i += len(words)
                break
        else:
            raise _err(f"'{tok.text} {nxt.text}' must say over what time: 'per day' or 'in 24 "
                       "hours'")
        s.max_per_day = value

    # -- the step's structure --
    def _finish(self, s: _Slots) -> Dosage:
        if s.reason is not None and not s.reason:
            raise _err("'prn' needs the reason it is taken for (sig-codes.md §1: "
                       "'as needed for pain')")
        timing = s.timing
        if s.days:
            timing = Timing(Frequency.WEEKDAYS, days=tuple(sorted(s.days, key=list(Weekday).index)))
        elif s.periods:
            periods = tuple(sorted(s.periods, key=list(Period).index))
            timing = (_daily(_UMS_COUNT[periods]) if periods in _UMS_COUNT
                      else Timing(Frequency.DAY_PERIODS, periods=periods))
        if timing is None:
            raise _err("directions need a frequency or time of day (for example qd, bid, q8h, "
                       "qhs)")
        route = s.route or self.route
        if route is None:
            raise _err("directions need a route (for example po, top, pr)")
        if self.route is not None and s.route is not None and s.route is not self.route:
            raise _err(f"'{s.route_text}' ({s.route.value}) does not match this "
                       f"{self.route.value} product")
        unit = s.unit
        if s.dose is not None and unit is None:
            unit = self.unit
            if unit is None:
                raise _err("the dose needs a unit (for example cap, tab, mL, g)")
        if self.unit is not None and s.unit is not None and s.unit is not self.unit:
            raise _err(f"the directions dose in {s.unit.value} but this product is dosed in "
                       f"{self.unit.value}")
        if s.unit is not None and s.dose is None and s.max_per_day is None:
            raise _err(f"'{s.unit.value}' needs a dose before it")
        if s.unit is not None and route not in UNIT_ROUTES[s.unit]:
            written = f"'{s.route_text}' " if s.route_text else ""
            raise _err(f"{written}({route.value}): {_kind(s.unit)} are not given by this route; "
                       "check the unit and the route")
        if s.thin_layer and route is not Route.TOPICAL:
            raise _err("'a thin layer' is for a product applied to the skin")
        if s.dose is None and not s.thin_layer and route is not Route.TOPICAL:
            raise _err("directions need a dose (for example '1 cap')")
        if unit is not None:
            for value in (s.dose, s.dose_max, s.max_per_day):
                if value is not None:
                    _check_part(value, unit, s.dose_text if value is s.dose else amount_text(value))
            largest = max(v for v in (s.dose, s.dose_max, Decimal(0)) if v is not None)
            if largest > MAX_DOSE[unit]:
                raise _err(f"a dose of {amount_text(largest)} {plural_noun(unit)} is more than "
                           f"{amount_text(MAX_DOSE[unit])}, the most one dose may be here: check "
                           "the sig")
            if s.max_per_day is not None and s.max_per_day > 24 * MAX_DOSE[unit]:
                raise _err(f"a maximum of {amount_text(s.max_per_day)} {plural_noun(unit)} a day "
                           f"is more than 24 of the largest dose: check the sig")
        if s.duration is not None and s.duration.days > MAX_DURATION_DAYS:
            raise _err(f"a duration of {s.duration.days} days is more than a year: check the sig")
        dosage = Dosage(route=route, timing=timing, dose=s.dose, dose_max=s.dose_max,
                        unit=unit if (s.dose is not None or s.max_per_day is not None) else None,
                        thin_layer=s.thin_layer, site=s.site, meal=s.meal,
                        instructions=tuple(sorted(s.instructions, key=list(Instruction).index)),
                        as_needed_for=" ".join(s.reason) if s.reason else None,
                        duration=s.duration, max_per_day=s.max_per_day)
        if dosage.max_per_day is not None:
            if dosage.dose is None:
                raise _err("a maximum needs the dose it counts ('1 tab ... max 4 per day')")
            one = dosage.dose_max or dosage.dose
            if dosage.max_per_day < one:
                raise _err(f"the maximum of {amount_text(dosage.max_per_day)} in 24 hours is less "
                           f"than one dose ({amount_text(one)})")
            fixed = daily_amount(dosage)
            if fixed is not None and fixed > dosage.max_per_day:
                raise _err(f"the directions give {amount_text(fixed)} a day, more than their "
                           f"maximum of {amount_text(dosage.max_per_day)} in 24 hours")
            doses = most_doses_a_day(dosage.timing)
            if doses is not None and doses * one < dosage.max_per_day:
                # Both ways: a maximum the schedule can never reach contradicts it (one of the
                # two is wrong), so neither is printed.
                assert dosage.unit is not None      # a dose always has its unit (above)
                unit_words = dosage.unit.value if one == 1 else plural_noun(dosage.unit)
                raise _err(f"the maximum of {amount_text(dosage.max_per_day)} in 24 hours is more "
                           f"than the schedule can ever give ({doses} doses of "
                           f"{amount_text(one)} {unit_words}): check the sig")
        _check_qualifiers(dosage)
        return dosage


def plural_noun(unit: DoseUnit) -> str:
    """The English plural of a dose unit in messages to staff ("capsules", "mL")."""
    if unit in _MEASURED:
        return unit.value
    return "suppositories" if unit is DoseUnit.SUPPOSITORY else f"{unit.value}s"


def _kind(unit: DoseUnit) -> str:
    """What a message says cannot be split or given: "capsules", "doses in mL"."""
    return f"doses in {unit.value}" if unit in _MEASURED else plural_noun(unit)


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


def _check_qualifiers(dosage: Dosage) -> None:
    given = {*dosage.instructions, *([dosage.meal] if dosage.meal else [])}
    for a, b in _CONTRADICTIONS:
        if a in given and b in given:
            raise _err(f"'{_WORDS[a]}' and '{_WORDS[b]}' contradict each other")


def _check_part(value: Decimal, unit: DoseUnit, written: str) -> None:
    if value == value.to_integral_value() or unit in _MEASURED:
        return
    if unit in _DIVISIBLE:
        if value * 2 == (value * 2).to_integral_value():
            return
        raise _err(f"a dose of '{written}' {unit.value}: only half a tablet can be given; other "
                   "part doses need a pharmacist's wording")
    raise _err(f"a dose of '{written}' {unit.value}: {_kind(unit)} cannot be divided; part "
               "doses need a pharmacist's wording")


def amount_text(value: Decimal) -> str:
    """A number in a message: as printed, without a thousands separator."""
    return format_number(value, "")


# ---- quantities --------------------------------------------------------------------------------


def daily_amount(dosage: Dosage) -> Decimal | None:
    """The amount one day of a step uses when the directions fix it: None for as needed, dose
    ranges and schedules that are not daily."""
    t = dosage.timing
    if dosage.dose is None or dosage.as_needed_for is not None or dosage.dose_max is not None:
        return None
    if t.frequency is Frequency.EVERY_HOURS and (t.hours_max or 24 % t.hours):
        return None                 # q5h or q4-6h: the day's count is not fixed
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
    return None


def total_amount(sig: Sig, days_supply: int) -> Decimal | None:
    """The quantity the directions use over the fill: a taper sums its steps; one step with no
    duration runs for the days' supply. None when the directions do not fix it."""
    total = Decimal(0)
    for step in sig.steps:
        days = step.duration.days if step.duration else (days_supply if len(sig.steps) == 1
                                                         else None)
        if days is None:
            return None
        t = step.timing
        if step.dose is None or step.as_needed_for is not None or step.dose_max is not None:
            return None
        if t.frequency is Frequency.EVERY_OTHER_DAY:
            total += step.dose * ((days + 1) // 2)
        elif t.frequency in (Frequency.TIMES_WEEKLY, Frequency.WEEKDAYS) and days % 7 == 0:
            per_week = t.count if t.frequency is Frequency.TIMES_WEEKLY else len(t.days)
            total += step.dose * per_week * (days // 7)
        else:
            per_day = daily_amount(step)
            if per_day is None:
                return None
            total += per_day * days
    return total
