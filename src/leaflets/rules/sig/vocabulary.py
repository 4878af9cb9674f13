"""The vocabulary the grammar reads: units, verbs, routes, sites, frequencies, times of day,
meals, instructions, the codes refused, and the limits against slips.

Codes and their plain meanings come from shared/reference/sig-codes.md (§2–5); what is refused
and what is expanded comes from the "label action" column of
shared/reference/error-prone-abbreviations.md (§2–3, §7)."""

from __future__ import annotations

import re
from decimal import Decimal

from ...models import DoseUnit, Route
from ..abbreviations import PUNCTUATION
from .model import (
    MEAL_PERIODS,
    Frequency,
    Instruction,
    Meal,
    Period,
    Site,
    Timing,
    Weekday,
    daily,
    weekly,
)

UNITS: dict[str, DoseUnit] = {
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
VERBS = {"take", "apply", "insert", "instill", "inhale", "use", "place", "dissolve"}

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
SITE_CODES: dict[str, Site] = {"od": Site.RIGHT_EYE, "os": Site.LEFT_EYE, "ou": Site.EACH_EYE,
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

_FREQUENCY_WORDS: dict[str, object] = {
    # qd, q1d: TJC/ISMP error-prone, EXPAND → "once daily"
    **dict.fromkeys(["qd", "q.d.", "q1d", "daily", "once daily", "once a day", "every day"],
                    daily(1)),
    **dict.fromkeys(["bid", "b.i.d.", "twice daily", "twice a day", "2 times a day",
                     "2 times daily"], daily(2)),
    **dict.fromkeys(["tid", "t.i.d.", "3 times a day", "3 times daily"], daily(3)),
    **dict.fromkeys(["qid", "q.i.d.", "4 times a day", "4 times daily"], daily(4)),
    # qod: TJC/ISMP error-prone, EXPAND → "every other day"
    **dict.fromkeys(["qod", "q.o.d.", "every other day"], Timing(Frequency.EVERY_OTHER_DAY)),
    **dict.fromkeys(["qw", "qwk", "q week", "weekly", "once a week", "once weekly"], weekly(1)),
    # biw, tiw: ISMP error-prone, EXPAND → "2 times a week", "3 times a week"
    **dict.fromkeys(["biw", "2 times a week", "twice a week", "2 times weekly"], weekly(2)),
    **dict.fromkeys(["tiw", "3 times a week", "3 times weekly"], weekly(3)),
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
# Issue 12, timing: more ways to write a frequency or a time of day, and the named meals.
_MORE_FREQUENCY_WORDS: dict[str, object] = {
    "every week": weekly(1),
    # a code split by spaces reads as the code (sig-codes.md §5)
    "b i d": daily(2), "t i d": daily(3), "q i d": daily(4),
    # no code: 5 or 6 doses a day have no UMS rendering (model.MANY_DOSES_NO_UMS)
    "5 times a day": daily(5), "5 times daily": daily(5),
    "6 times a day": daily(6), "6 times daily": daily(6),
}
_MORE_PERIOD_WORDS: dict[str, object] = {
    # qn is "nightly" (sig-codes.md §5) and prints "at bedtime", as qhs does
    **dict.fromkeys(["every night", "nightly", "at night", "each night"], Period.BEDTIME),
    **dict.fromkeys(["each morning", "in the am"], Period.MORNING),
    "each evening": Period.EVENING,
}
# A meal by name; supper is dinner (it prints "dinner").
MEAL_NOUNS = {"breakfast": "breakfast", "lunch": "lunch", "dinner": "dinner", "supper": "dinner"}
_MEAL_PREPOSITIONS = {"before": Meal.BEFORE, "with": Meal.WITH, "after": Meal.AFTER}
_NAMED_MEAL_WORDS: dict[str, object] = {
    f"{word} {noun}": MEAL_PERIODS[(relation, meal)]
    for word, relation in _MEAL_PREPOSITIONS.items() for noun, meal in MEAL_NOUNS.items()}
_PHRASE_TABLE: list[_Phrase] = sorted(
    _phrases("route", _ROUTE_WORDS) + _phrases("site", _SITE_WORDS)
    + _phrases("frequency", _FREQUENCY_WORDS) + _phrases("period", _PERIOD_WORDS)
    + _phrases("meal", _MEAL_WORDS) + _phrases("instruction", _INSTRUCTION_WORDS)
    + _phrases("amount", _AMOUNT_WORDS) + _phrases("prn", _PRN_WORDS)
    + _phrases("each", _EACH_WORDS)
    + _phrases("frequency", _MORE_FREQUENCY_WORDS) + _phrases("period", _MORE_PERIOD_WORDS)
    + _phrases("period", _NAMED_MEAL_WORDS),
    key=lambda p: -len(p[0]))
PHRASES_BY_FIRST_WORD: dict[str, list[_Phrase]] = {}
for _phrase in _PHRASE_TABLE:                  # longest first within each first word
    PHRASES_BY_FIRST_WORD.setdefault(_phrase[0][0], []).append(_phrase)

WEEKDAYS: dict[str, Weekday] = {
    **dict.fromkeys(["mon", "monday", "mondays"], Weekday.MONDAY),
    **dict.fromkeys(["tue", "tues", "tuesday", "tuesdays"], Weekday.TUESDAY),
    **dict.fromkeys(["wed", "wednesday", "wednesdays"], Weekday.WEDNESDAY),
    **dict.fromkeys(["thu", "thur", "thurs", "thursday", "thursdays"], Weekday.THURSDAY),
    **dict.fromkeys(["fri", "friday", "fridays"], Weekday.FRIDAY),
    **dict.fromkeys(["sat", "saturday", "saturdays"], Weekday.SATURDAY),
    **dict.fromkeys(["sun", "sunday", "sundays"], Weekday.SUNDAY),
}

# REJECT: the meaning cannot be known safely (error-prone-abbreviations.md §7).
REJECT: dict[str, str] = {
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
HOURLY = re.compile(r"^q(\d+)(?:-(\d+))?(?:h|hr|hrs)$")    # q8h, q8hr, q8hrs, q4-6h
CLOCK = re.compile(r"^q\d+(?:am|pm)$")
DURATION = re.compile(r"^x(\d+)d$")          # x3d, ISMP error-prone: EXPAND → "for 3 days"
SHORT_DURATION = re.compile(r"^(\d+)(d|wk)$")  # the "3d" of "x 3d"
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
DIVISIBLE = {DoseUnit.TABLET}                 # the only unit a dose may be half of
MEASURED = {DoseUnit.ML, DoseUnit.G}          # decimals are fine

# Upper bounds against typos, not clinical limits: no compounded dose comes near them, and a
# dose past them ("10000 tab") is a slip to send back, never a label. README: "Limits".
MAX_DOSE = {**dict.fromkeys(DoseUnit, Decimal(30)), DoseUnit.ML: Decimal(1000), DoseUnit.G: Decimal(1000)}
MAX_DURATION_DAYS = 366
# As-needed reasons are plain words; these short words are English, anything else of three
# letters or fewer is treated as an unknown abbreviation (e.g. "ha" for headache).
SHORT_WORDS = {"a", "an", "and", "or", "of", "the", "to", "in", "at", "on", "dry", "eye",
                "ear", "leg", "arm", "hip", "low", "gas", "itch", "back", "skin", "mild", "pain",
                "acid", "cold", "cough", "sore", "hot", "flu"}
REASON_CODES = {"sob": "shortness of breath", "n/v": "nausea and vomiting"}
# Words that begin an instruction, never a reason ("as needed for pain swallow whole"): the
# reason ends before them, and what follows is read as the grammar reads it, or refused.
REASON_STOPS = {"swallow", "chew", "crush", "do", "don't", "avoid", "rinse", "shake", "may",
                 "repeat", "with", "without", "before", "after", "until", "if", "while",
                 "every", "each", "daily", "once", "twice", "not"}
MAX_WORDS = [("do", "not", "take", "more", "than"), ("do", "not", "use", "more", "than"),
              ("do", "not", "exceed"),
              ("not", "to", "exceed"), ("no", "more", "than"), ("maximum",), ("max",)]
PER_DAY = [("per", "day"), ("a", "day"), ("/day",), ("in", "24", "hours"), ("per", "24", "hours"),
            ("/24h",), ("/24", "hours"), ("in", "1", "day"), ("in", "one", "day")]

# The words of "use as directed" and its kin: approved text of only these says nothing.
AS_DIRECTED_WORDS = {"use", "take", "apply", "insert", "instill", "inhale", "place", "dissolve",
                      "give", "as", "directed", "by", "your", "the", "doctor", "prescriber",
                      "physician", "provider"}


def plain_words(text: str) -> list[str]:
    return [w for w in (w.strip(PUNCTUATION).lower() for w in text.split()) if w]


# Codes the grammar reads that are not English words ("as", "top", "daily" are left out).
PLAIN_CODES = {
    "po", "pr", "pv", "sl", "inh", "qd", "q1d", "bid", "tid", "qid", "qod", "qw", "qwk", "biw",
    "tiw", "qam", "qnoon", "qpm", "qhs", "qn", "bt", "ac", "pc", "od", "os", "ou", "ad", "au",
    "prn", "cap", "caps", "tab", "tabs", "supp", "supps", "gtt", "gtts", "cc", "q", "qh", "qds",
    "stat", *(REJECT.keys() - {"in"})}
DOTTED = re.compile(r"^(?:[a-z]\.){2,}$")        # q.a.m., b.i.d., p.o.
X_COUNT = re.compile(r"^x\d+(?:d|wk)?$")          # x7, x7d


def is_code(word: str) -> bool:
    bare = word.rstrip(".") if not DOTTED.match(word) else word
    return (bare in PLAIN_CODES or bool(DOTTED.match(word)) or bool(HOURLY.match(bare))
            or bool(CLOCK.match(bare)) or bool(X_COUNT.match(bare))
            or bool(MINUTELY.match(bare) or Q_NUMBER.match(bare)))


# ---- intervals written apart or in minutes (issue 12, timing) ----------------------------------

MINUTELY = re.compile(r"^q(\d+)(?:min|mins)$")                       # q5min
Q_NUMBER = re.compile(r"^q(\d+)(?:-(\d+))?$")                       # the "q8" of "q8 hrs"
GLUED_INTERVAL = re.compile(r"^(\d+)(?:-(\d+))?(h|hr|hrs|min|mins)$")  # the "8h" of "q 8h"
HOUR_WORDS = {"h", "hr", "hrs", "hour", "hours"}
MINUTE_WORDS = {"min", "mins", "minute", "minutes"}
MAX_MINUTES = 59              # an hour or more is written in hours: one regimen, one structure
DOSE_COUNTS = range(2, 11)    # "up to 3 doses": a repeat needs two; more than 10 is a slip
# "up to 3 doses" ends an as-needed reason ("prn chest pain up to 3 doses")
REASON_STOPS |= {"up"}
# Codes split by spaces: approved text may not hold them either (check_plain).
SPLIT_CODES = {("b", "i", "d"), ("t", "i", "d"), ("q", "i", "d")}


def split_code(words: list[str], i: int) -> str | None:
    """The split code ("b i d") that starts at words[i], if any."""
    found = tuple(w.rstrip(".") for w in words[i:i + 3])
    return " ".join(found) if found in SPLIT_CODES else None

