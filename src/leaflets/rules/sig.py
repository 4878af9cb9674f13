"""Directions: parse a pharmacy sig into a structured dosage, or accept plain-language text.

The engine is a tokenizer and a slot grammar, not a string replace:

    sig       := [verb] [dose [unit]] [route] timing+ [meal] [as-needed reason] [duration]
    dose      := NUMBER | NUMBER "-" NUMBER
    timing    := frequency | day-period+                 (qd, bid, q8h, qod, tiw | qam qhs ...)
    as-needed := "prn" WORD+                             the reason, in plain words
    duration  := "x" N "d" | "x" N "days" | "for" N "days"

Codes and their plain meanings come from shared/reference/sig-codes.md (§3–5); what is refused
and what is expanded comes from the "label action" column of
shared/reference/error-prone-abbreviations.md. Anything unknown or ambiguous is an error naming
the token, never a guess. The words printed for a dosage live in templates/directions.*.j2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ..errors import SafetyError
from ..models import DoseUnit, Route
from .abbreviations import find_banned

FIELD = "directions"


class Frequency(StrEnum):
    TIMES_DAILY = "times-daily"        # count: 1..4
    EVERY_HOURS = "every-hours"        # hours, hours_max
    EVERY_OTHER_DAY = "every-other-day"
    TIMES_WEEKLY = "times-weekly"      # count: 1..3
    DAY_PERIODS = "day-periods"        # periods: morning, noon, evening, bedtime (UMS)


class Period(StrEnum):
    MORNING = "morning"
    NOON = "noon"
    EVENING = "evening"
    BEDTIME = "bedtime"


class Site(StrEnum):
    RIGHT_EYE = "right-eye"
    LEFT_EYE = "left-eye"
    EACH_EYE = "each-eye"
    RIGHT_EAR = "right-ear"
    LEFT_EAR = "left-ear"
    EACH_EAR = "each-ear"


class Meal(StrEnum):
    BEFORE = "before-meals"
    AFTER = "after-meals"


@dataclass(frozen=True)
class Timing:
    frequency: Frequency
    count: int = 0
    hours: int = 0
    hours_max: int = 0
    periods: tuple[Period, ...] = ()


@dataclass(frozen=True)
class Dosage:
    """A structured dose, close to FHIR Dosage: dose range, unit, route, timing, as-needed."""

    route: Route
    timing: Timing
    dose: Decimal | None = None
    dose_max: Decimal | None = None
    unit: DoseUnit | None = None
    site: Site | None = None
    meal: Meal | None = None
    as_needed_for: str | None = None
    duration_days: int | None = None


@dataclass(frozen=True)
class PlainDirections:
    text: str


Directions = Dosage | PlainDirections


@dataclass(frozen=True)
class Token:
    text: str
    kind: str           # number, range, word
    start: int


# ---- tokenizer ---------------------------------------------------------------------------------

_LEXER = re.compile(
    r"""
    (?P<range>\d+(?:\.\d+)?-\d+(?:\.\d+)?(?![\w.]))      # 1-2
  | (?P<number>\d*\.\d+|\d+(?:\.\d+)?)(?![\w./])         # 1, 0.5, .5 (refused later), 1.0
  | (?P<word>[^\s]+)
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.lastgroup or "word", m.start()) for m in _LEXER.finditer(text)]


# ---- vocabulary (sig-codes.md §3–5; error-prone-abbreviations.md §2–3) -------------------------

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
_ROUTES: dict[str, Route] = {
    "po": Route.ORAL, "pr": Route.RECTAL, "pv": Route.VAGINAL, "sl": Route.SUBLINGUAL,
    "top": Route.TOPICAL, "inh": Route.INHALATION, "buccal": Route.BUCCAL,
}
# Eye and ear codes: EXPAND only for an ophthalmic or otic product, otherwise REJECT (§3).
_SITES: dict[str, tuple[Site, Route]] = {
    "od": (Site.RIGHT_EYE, Route.OPHTHALMIC), "os": (Site.LEFT_EYE, Route.OPHTHALMIC),
    "ou": (Site.EACH_EYE, Route.OPHTHALMIC), "ad": (Site.RIGHT_EAR, Route.OTIC),
    "as": (Site.LEFT_EAR, Route.OTIC), "au": (Site.EACH_EAR, Route.OTIC),
}
_FREQUENCIES: dict[str, Timing] = {
    # qd, q1d: TJC/ISMP error-prone, EXPAND → "once daily"
    **dict.fromkeys(["qd", "q.d.", "q1d", "daily"], Timing(Frequency.TIMES_DAILY, count=1)),
    **dict.fromkeys(["bid", "b.i.d."], Timing(Frequency.TIMES_DAILY, count=2)),
    **dict.fromkeys(["tid", "t.i.d."], Timing(Frequency.TIMES_DAILY, count=3)),
    **dict.fromkeys(["qid", "q.i.d."], Timing(Frequency.TIMES_DAILY, count=4)),
    **dict.fromkeys(["qod", "q.o.d."], Timing(Frequency.EVERY_OTHER_DAY)),
    **dict.fromkeys(["qw", "qwk"], Timing(Frequency.TIMES_WEEKLY, count=1)),
    "biw": Timing(Frequency.TIMES_WEEKLY, count=2),     # ISMP: EXPAND → "2 times a week"
    "tiw": Timing(Frequency.TIMES_WEEKLY, count=3),     # ISMP: EXPAND → "3 times a week"
}
_PERIODS: dict[str, Period] = {
    "qam": Period.MORNING, "qnoon": Period.NOON, "qpm": Period.EVENING,
    # qhs, qn, BT: ISMP error-prone, EXPAND → "at bedtime"
    "qhs": Period.BEDTIME, "qn": Period.BEDTIME, "bt": Period.BEDTIME,
}
_MEALS = {"ac": Meal.BEFORE, "pc": Meal.AFTER}
_VERBS = {"take", "apply", "insert", "instill", "inhale", "use", "place", "dissolve"}
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
}
_HOURLY = re.compile(r"^q(\d+)(?:-(\d+))?h$")
_DURATION = re.compile(r"^x(\d+)d$")          # x3d, ISMP error-prone: EXPAND → "for 3 days"
_COUNTABLE = {DoseUnit.CAPSULE, DoseUnit.TABLET, DoseUnit.TROCHE, DoseUnit.SUPPOSITORY,
              DoseUnit.DROP, DoseUnit.PUFF, DoseUnit.APPLICATORFUL}
# As-needed reasons are plain words; these short words are English, anything else of three
# letters or fewer is treated as an unknown abbreviation (e.g. "ha" for headache).
_SHORT_WORDS = {"a", "an", "and", "or", "of", "for", "the", "to", "in", "at", "on", "dry", "eye",
                "ear", "leg", "arm", "hip", "low", "gas", "itch", "back", "skin", "mild", "pain",
                "acid", "cold", "cough", "sore"}
_REASON_CODES = {"sob": "shortness of breath"}


def _err(message: str) -> SafetyError:
    return SafetyError(FIELD, message)


def _number(token: Token) -> Decimal:
    text = token.text
    for hit in find_banned(text):
        raise _err(f"{hit} (in '{text}')")
    return Decimal(text)


def _looks_plain(tokens: list[Token]) -> bool:
    return bool(tokens) and tokens[0].text[:1].isupper() and tokens[0].text.isalpha()


def parse_directions(text: str, *, route: Route | None = None, unit: DoseUnit | None = None
                     ) -> Directions:
    """Parse `text` for a product given by `route` and `unit` (None: no product context)."""
    text = " ".join(text.split())
    if not text:
        raise _err("directions are empty")
    tokens = tokenize(text)
    try:
        return _parse_sig(tokens, route=route, unit=unit)
    except _NotSig as exc:
        if not _looks_plain(tokens):
            raise _err(exc.message) from None
    return _check_plain(text)


def _check_plain(text: str) -> PlainDirections:
    hits = find_banned(text, symbols=True)
    if hits:
        raise _err(f"{hits[0]}; directions are either all plain words or all sig codes")
    return PlainDirections(text)


class _NotSig(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


@dataclass
class _Slots:
    dose: Decimal | None = None
    dose_max: Decimal | None = None
    unit: DoseUnit | None = None
    route: Route | None = None
    site: Site | None = None
    timing: Timing | None = None
    periods: list[Period] = field(default_factory=list)
    meal: Meal | None = None
    reason: list[str] | None = None
    duration: int | None = None


def _parse_sig(tokens: list[Token], *, route: Route | None, unit: DoseUnit | None) -> Dosage:
    s = _Slots()
    i = 0
    if tokens and tokens[0].text.lower() in _VERBS:
        i = 1  # an optional leading verb ("apply top bid"); the verb printed follows the route
    while i < len(tokens):
        tok = tokens[i]
        low = tok.text.lower()
        if s.reason is not None and not _is_keyword(tokens, i):
            word = _REASON_CODES.get(low, low)
            short = len(low) <= 3 and low not in _SHORT_WORDS
            if low not in _REASON_CODES and (not low.isalpha() or short):
                raise _NotSig(f"unknown abbreviation '{tok.text}' in the as-needed reason: "
                              "write the reason in plain words")
            s.reason.append(word)
            i += 1
            continue
        if low in _REJECT:
            raise _err(f"'{tok.text}' is refused: {_REJECT[low]}")
        if tok.kind in ("number", "range"):
            if s.dose is not None or s.timing or s.periods:
                raise _NotSig(f"unexpected number '{tok.text}'")
            if tok.kind == "range":
                lo, hi = tok.text.split("-")
                s.dose, s.dose_max = _number(Token(lo, "number", 0)), _number(Token(hi, "number", 0))
                if s.dose_max <= s.dose:
                    raise _err(f"dose range '{tok.text}' must go from low to high")
            else:
                s.dose = _number(tok)
            if s.dose <= 0:
                raise _err(f"dose '{tok.text}' must be greater than 0")
        elif low in _UNITS:
            if s.unit is not None:
                raise _NotSig(f"a second unit '{tok.text}'")
            s.unit = _UNITS[low]
        elif low in _ROUTES or low in _SITES or (low == "per" and _next(tokens, i) == "os"):
            if low in _SITES and route is not _SITES[low][1]:
                kind = "an eye" if _SITES[low][1] is Route.OPHTHALMIC else "an ear"
                also = " or 'once daily'" if low == "od" else ""
                raise _err(f"'{tok.text}' is refused: it is {kind} code{also}, and only an "
                           f"{_SITES[low][1].value} product may use it (ISMP error-prone)")
            if s.route is not None:
                raise _err(f"a second route '{tok.text}'")
            if low == "per":     # "per os" is ISMP error-prone: EXPAND → "by mouth"
                s.route = Route.ORAL
                i += 1
            elif low in _SITES:
                s.route, s.site = _SITES[low][1], _SITES[low][0]
            else:
                s.route = _ROUTES[low]
        elif low in _FREQUENCIES or _HOURLY.match(low):
            if s.timing or s.periods:
                raise _err(f"a second frequency '{tok.text}'")
            s.timing = _FREQUENCIES.get(low) or _hourly(tok)
        elif low in _PERIODS:
            if s.timing:
                raise _err(f"'{tok.text}' conflicts with the frequency already given")
            period = _PERIODS[low]
            if period in s.periods:
                raise _err(f"'{tok.text}' repeats a time of day")
            s.periods.append(period)
        elif low in _MEALS:
            if s.meal:
                raise _err(f"a second meal instruction '{tok.text}'")
            s.meal = _MEALS[low]
        elif low == "prn":
            if s.reason is not None:
                raise _err("'prn' twice")
            s.reason = []
        elif _DURATION.match(low) or low in ("x", "for"):
            i = _duration(tokens, i, s)
            continue
        else:
            raise _NotSig(f"unknown abbreviation '{tok.text}'")
        i += 1
    return _finish(s, route=route, unit=unit)


def _next(tokens: list[Token], i: int) -> str:
    return tokens[i + 1].text.lower() if i + 1 < len(tokens) else ""


def _is_keyword(tokens: list[Token], i: int) -> bool:
    low = tokens[i].text.lower()
    if _DURATION.match(low):
        return True
    return low in ("x", "for") and i + 1 < len(tokens) and tokens[i + 1].kind == "number"


def _hourly(tok: Token) -> Timing:
    m = _HOURLY.match(tok.text.lower())
    assert m is not None
    low, high = int(m.group(1)), int(m.group(2) or 0)
    if not 1 <= low <= 72 or (high and not low < high <= 72):
        raise _err(f"'{tok.text}' is not a usable interval")
    return Timing(Frequency.EVERY_HOURS, hours=low, hours_max=high)


def _duration(tokens: list[Token], i: int, s: _Slots) -> int:
    if s.duration is not None:
        raise _err("a second duration")
    low = tokens[i].text.lower()
    if m := _DURATION.match(low):
        s.duration = int(m.group(1))
        i += 1
    else:
        if i + 1 >= len(tokens) or not tokens[i + 1].text.isdigit():
            raise _NotSig(f"'{tokens[i].text}' must be followed by a number of days")
        s.duration = int(tokens[i + 1].text)
        i += 2
        if i < len(tokens) and tokens[i].text.lower() in ("d", "day", "days"):
            i += 1
        elif low == "x":
            raise _NotSig("'x N' must say days ('x 7 d')")
    if s.duration < 1:
        raise _err("a duration must be at least 1 day")
    return i


def _finish(s: _Slots, *, route: Route | None, unit: DoseUnit | None) -> Dosage:
    if s.reason is not None and not s.reason:
        raise _err("'prn' needs the reason it is taken for (sig-codes.md §1: 'as needed for pain')")
    if s.timing is None and not s.periods:
        raise _err("directions need a frequency or time of day (for example qd, bid, q8h, qhs)")
    final_route = s.route or route
    if final_route is None:
        raise _err("directions need a route (for example po, top, pr)")
    if route is not None and s.route is not None and s.route is not route:
        raise _err(f"the route '{s.route.value}' does not match this {route.value} product")
    final_unit = s.unit
    if s.dose is not None and final_unit is None:
        final_unit = unit
        if final_unit is None:
            raise _err("the dose needs a unit (for example cap, tab, mL, g)")
    if unit is not None and s.unit is not None and s.unit is not unit:
        raise _err(f"the directions dose in {s.unit.value} but this product is dosed in {unit.value}")
    if s.unit is not None and s.dose is None:
        raise _err(f"'{s.unit.value}' needs a dose before it")
    if s.dose is None and final_route is not Route.TOPICAL:
        raise _err("directions need a dose (for example '1 cap')")
    if final_unit in _COUNTABLE:
        for amount in (s.dose, s.dose_max):
            if amount is not None and amount != amount.to_integral_value():
                raise _err(f"a dose of {amount} {final_unit.value if final_unit else ''} is not a "
                           "whole number; part doses need a pharmacist's wording")
    timing = s.timing or Timing(Frequency.DAY_PERIODS, periods=tuple(sorted(
        s.periods, key=list(Period).index)))
    return Dosage(route=final_route, timing=timing, dose=s.dose, dose_max=s.dose_max,
                  unit=final_unit, site=s.site, meal=s.meal,
                  as_needed_for=" ".join(s.reason) if s.reason else None,
                  duration_days=s.duration)


def daily_dose_count(dosage: Dosage) -> Decimal | None:
    """Doses per day when the directions fix it (used to check quantity against days' supply)."""
    t = dosage.timing
    if dosage.as_needed_for is not None or dosage.dose is None or dosage.dose_max is not None:
        return None
    per_day: Decimal | None = None
    if t.frequency is Frequency.TIMES_DAILY:
        per_day = Decimal(t.count)
    elif t.frequency is Frequency.DAY_PERIODS:
        per_day = Decimal(len(t.periods))
    elif t.frequency is Frequency.EVERY_HOURS and not t.hours_max and 24 % t.hours == 0:
        per_day = Decimal(24 // t.hours)
    return None if per_day is None else per_day * dosage.dose
