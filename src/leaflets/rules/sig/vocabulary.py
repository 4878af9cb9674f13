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
    BODY_SITES,
    MEAL_PERIODS,
    DurationUnit,
    Frequency,
    Instruction,
    Meal,
    Method,
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
    **dict.fromkeys(["ml", "mls", "cc", "millilitre", "millilitres", "milliliter", "milliliters"],
                    DoseUnit.ML),
    **dict.fromkeys(["g", "gram", "grams"], DoseUnit.G),
    **dict.fromkeys(["gtt", "gtts", "drop", "drops"], DoseUnit.DROP),
    **dict.fromkeys(["puff", "puffs"], DoseUnit.PUFF),
    **dict.fromkeys(["spray", "sprays"], DoseUnit.SPRAY),
    **dict.fromkeys(["applicatorful", "applicatorfuls"], DoseUnit.APPLICATORFUL),
}
# The verb as written is read and not printed: the template's verb follows the route
# (docs/rules.md "Directions"); "swish" needs its method ("and spit", "and swallow").
PILL_WORDS = {"pill", "pills"}
VERBS = {"instil", "take", "apply", "insert", "instill", "inhale", "use", "place", "dissolve", "give",
         "administer", "spray", "swish"}

# Multi-word phrases and codes, matched longest first: (words, slot, value).
_Phrase = tuple[tuple[str, ...], str, object]


def _phrases(slot: str, table: dict[str, object]) -> list[_Phrase]:
    return [(tuple(text.split()), slot, value) for text, value in table.items()]


_ROUTE_WORDS: dict[str, object] = {
    "po": Route.ORAL, "pr": Route.RECTAL, "pv": Route.VAGINAL, "sl": Route.SUBLINGUAL,
    "top": Route.TOPICAL, "inh": Route.INHALATION, "buccal": Route.BUCCAL,
    "per os": Route.ORAL,           # ISMP error-prone: EXPAND → "by mouth"
    "by mouth": Route.ORAL, "orally": Route.ORAL, "in the mouth": Route.ORAL,
    "oral": Route.ORAL, "by oral route": Route.ORAL, "per oral route": Route.ORAL,
    "via mouth": Route.ORAL, "per mouth": Route.ORAL, "p.o.": Route.ORAL,
    "sublingual": Route.SUBLINGUAL, "under tongue": Route.SUBLINGUAL,
    "vaginal": Route.VAGINAL, "per vagina": Route.VAGINAL, "rectal": Route.RECTAL,
    "per rectum": Route.RECTAL, "topical": Route.TOPICAL, "by inhalation": Route.INHALATION,
    "via inhalation": Route.INHALATION,
    "under the tongue": Route.SUBLINGUAL, "sublingually": Route.SUBLINGUAL,
    "between the cheek and gum": Route.BUCCAL,
    "topically": Route.TOPICAL,
    "rectally": Route.RECTAL, "vaginally": Route.VAGINAL,
    "in the eye": Route.OPHTHALMIC, "in the ear": Route.OTIC, "in the nose": Route.NASAL,
    # "in" alone is ISMP error-prone (intranasal); "in ear" is English
    "in eye": Route.OPHTHALMIC, "in ear": Route.OTIC, "in nose": Route.NASAL,
    "intranasally": Route.NASAL, "nasally": Route.NASAL,
    "into the vagina": Route.VAGINAL, "in the vagina": Route.VAGINAL,
    "into the rectum": Route.RECTAL, "in the rectum": Route.RECTAL,
    "into the lungs": Route.INHALATION, "in the lungs": Route.INHALATION,
}
ROUTE_CODES = {"po", "pr", "pv", "sl", "top", "inh", "buccal"}
# Adjectives that name a route, and describe an as-needed reason before a plain word ("prn vaginal
# dryness", "prn oral thrush").
ROUTE_ADJECTIVES = {"oral", "sublingual", "vaginal", "rectal", "topical"}
# Eye and ear codes: EXPAND only for an ophthalmic or otic product, otherwise REJECT (§3).
SITE_CODES: dict[str, Site] = {"od": Site.RIGHT_EYE, "os": Site.LEFT_EYE, "ou": Site.EACH_EYE,
                                "ad": Site.RIGHT_EAR, "as": Site.LEFT_EAR, "au": Site.EACH_EAR}
_SITE_WORDS: dict[str, object] = {
    "to the skin": Site.SKIN, "on the skin": Site.SKIN,
    # where the prescriber says: kept even for a product whose default is the skin
    **dict.fromkeys([f"to {the}affected {where}" for the in ("", "the ")
                     for where in ("area", "areas", "area(s)", "skin")], Site.AFFECTED_AREA),
    "in the right eye": Site.RIGHT_EYE, "in the left eye": Site.LEFT_EYE,
    "right eye": Site.RIGHT_EYE, "left eye": Site.LEFT_EYE, "each eye": Site.EACH_EYE,
    "both eyes": Site.EACH_EYE, "right ear": Site.RIGHT_EAR, "left ear": Site.LEFT_EAR,
    "each ear": Site.EACH_EAR, "both ears": Site.EACH_EAR,
    "in each eye": Site.EACH_EYE, "in both eyes": Site.EACH_EYE,
    "in the right ear": Site.RIGHT_EAR, "in the left ear": Site.LEFT_EAR,
    "in each ear": Site.EACH_EAR, "in both ears": Site.EACH_EAR,
    "in the right nostril": Site.RIGHT_NOSTRIL, "in the left nostril": Site.LEFT_NOSTRIL,
    "in each nostril": Site.EACH_NOSTRIL, "in both nostrils": Site.EACH_NOSTRIL,
    "each nostril": Site.EACH_NOSTRIL, "per nostril": Site.EACH_NOSTRIL,
    "in eyes": Site.EACH_EYE, "in ears": Site.EACH_EAR, "in nostrils": Site.EACH_NOSTRIL,
    **dict.fromkeys(["to the face", "to face"], Site.FACE),
    **dict.fromkeys(["to the vaginal area", "to vaginal area"], Site.VAGINAL_AREA),
    **dict.fromkeys(["to the scalp", "to scalp"], Site.SCALP),
    **dict.fromkeys(["to the hands", "to hands"], Site.HANDS),
    **dict.fromkeys(["to the feet", "to feet"], Site.FEET),
    **dict.fromkeys(["to the chest", "to chest"], Site.CHEST),
    **dict.fromkeys(["to the abdomen", "to abdomen"], Site.ABDOMEN),
    **dict.fromkeys(["to the back", "to back"], Site.BACK),
    **dict.fromkeys(["to the neck", "to neck"], Site.NECK),
    **dict.fromkeys(["to the shoulders", "to shoulders"], Site.SHOULDERS),
    **dict.fromkeys(["to the upper arms", "to upper arms"], Site.UPPER_ARMS),
    **dict.fromkeys(["to the inner arms", "to inner arms"], Site.INNER_ARMS),
    **dict.fromkeys(["to the inner thighs", "to inner thighs"], Site.INNER_THIGHS),
    **dict.fromkeys(["to the inner wrists", "to inner wrists"], Site.INNER_WRISTS),
}
# "into the right eye", "into both ears": "into" reads as "in".
_SITE_WORDS.update({"into " + words[3:]: site for words, site in list(_SITE_WORDS.items())
                    if words.startswith("in ")})
SITE_ROUTE = {Site.SKIN: Route.TOPICAL, Site.AFFECTED_AREA: Route.TOPICAL,
              Site.RIGHT_EYE: Route.OPHTHALMIC, Site.LEFT_EYE: Route.OPHTHALMIC,
              Site.EACH_EYE: Route.OPHTHALMIC, Site.RIGHT_EAR: Route.OTIC,
              Site.LEFT_EAR: Route.OTIC, Site.EACH_EAR: Route.OTIC,
              Site.RIGHT_NOSTRIL: Route.NASAL, Site.LEFT_NOSTRIL: Route.NASAL,
              Site.EACH_NOSTRIL: Route.NASAL, **dict.fromkeys(BODY_SITES, Route.TOPICAL)}

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
    **dict.fromkeys(["biw", "2 times a week", "twice a week", "2 times weekly", "twice weekly"],
                    weekly(2)),
    **dict.fromkeys(["tiw", "3 times a week", "3 times weekly"], weekly(3)),
}
# As prescribing systems write them: "1 time daily", "per day", dotted codes without the last dot.
for _n in (1, 2, 3, 4):
    _FREQUENCY_WORDS.update(dict.fromkeys(
        [f"{_n} {times} {per}" for times in ("time", "times") for per in ("daily", "a day", "per day")],
        daily(_n)))
_FREQUENCY_WORDS.update({"per day": daily(1), "q.d": daily(1), "b.i.d": daily(2), "t.i.d": daily(3),
                         "q.i.d": daily(4), "q.o.d": Timing(Frequency.EVERY_OTHER_DAY)})
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
    "swallow whole": Instruction.SWALLOW_WHOLE,
    **dict.fromkeys(["do not crush or chew", "do not chew or crush", "do not crush chew",
                     "do not crush, chew", "don't crush or chew"], Instruction.NO_CRUSH_OR_CHEW),
    **dict.fromkeys(["do not crush", "don't crush"], Instruction.NO_CRUSH),
    **dict.fromkeys(["do not chew", "don't chew"], Instruction.NO_CHEW),
    **dict.fromkeys(["rinse mouth after use", "rinse mouth after each use", "rinse your mouth "
                     "after each use", "rinse mouth with water after use", "rinse mouth after "
                     "inhalation", "rinse mouth"], Instruction.RINSE_MOUTH),
    **dict.fromkeys(["rinse mouth and throat after use", "rinse mouth and throat after each use",
                     "rinse your mouth and throat after each use"],
                    Instruction.RINSE_MOUTH_AND_THROAT),
    **dict.fromkeys(["shake well", "shake well before use", "shake well before each use",
                     "shake before use", "shake before using"], Instruction.SHAKE_WELL),
}
_AMOUNT_WORDS: dict[str, object] = {
    **dict.fromkeys(["a thin layer", "a thin film", "thin layer", "thin film"], "thin-layer"),
    **dict.fromkeys(["a small amount", "small amount", "sparingly"], "small-amount"),
    # "1 application" on a topical: no amount ("Apply to the affected area twice daily")
    **dict.fromkeys(["1 application", "an application", "application"], "application"),
}
_METHOD_WORDS: dict[str, object] = {
    "swish and spit": Method.SWISH_AND_SPIT, "and spit it out": Method.SWISH_AND_SPIT,
    "swish and swallow": Method.SWISH_AND_SWALLOW, "and swallow": Method.SWISH_AND_SWALLOW,
    "swish /spit": Method.SWISH_AND_SPIT, "swish /swallow": Method.SWISH_AND_SWALLOW,
}
# "Take each dose with food.": how the qualifiers of a dose given at several times of day print.
_EACH_WORDS: dict[str, object] = {f"{verb} each dose": "each" for verb in
                                  ("take", "apply", "insert", "instill", "inhale", "use", "place",
                                   "dissolve", "swish")}
# Words that say nothing to read: "1 tablet to be taken daily".
_FILLER_WORDS: dict[str, object] = dict.fromkeys(
    [f"to be {done}" for done in ("taken", "used", "applied", "inserted", "given", "instilled")],
    "filler")
_PRN_WORDS: dict[str, object] = {
    **dict.fromkeys(["prn", "as needed", "as needed for", "prn for", "as required",
                     "as required for", "when required", "when required for", "when needed",
                     "when needed for", "if needed", "if needed for"], "prn")}
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
# Meals named by their time of day: after a preposition only ("with evening meal").
_MEAL_PHRASES = {**{f"{the}{time} meal": meal for the in ("", "the ")
                    for time, meal in (("morning", "breakfast"), ("midday", "lunch"),
                                       ("evening", "dinner"))}}
_NAMED_MEAL_WORDS: dict[str, object] = {
    f"{word} {noun}": MEAL_PERIODS[(relation, meal)]
    for word, relation in _MEAL_PREPOSITIONS.items()
    for noun, meal in {**MEAL_NOUNS, **_MEAL_PHRASES}.items()}
PHRASE_TABLE: list[_Phrase] = sorted(
    _phrases("route", _ROUTE_WORDS) + _phrases("site", _SITE_WORDS)
    + _phrases("frequency", _FREQUENCY_WORDS) + _phrases("period", _PERIOD_WORDS)
    + _phrases("meal", _MEAL_WORDS) + _phrases("instruction", _INSTRUCTION_WORDS)
    + _phrases("amount", _AMOUNT_WORDS) + _phrases("prn", _PRN_WORDS)
    + _phrases("each", _EACH_WORDS) + _phrases("method", _METHOD_WORDS)
    + _phrases("filler", _FILLER_WORDS)
    + _phrases("frequency", _MORE_FREQUENCY_WORDS) + _phrases("period", _MORE_PERIOD_WORDS)
    + _phrases("period", _NAMED_MEAL_WORDS),
    key=lambda p: -len(p[0]))
PHRASES_BY_FIRST_WORD: dict[str, list[_Phrase]] = {}
for _phrase in PHRASE_TABLE:                  # longest first within each first word
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
    **dict.fromkeys(["inject", "injection", "injections", "subcutaneously", "subcut",
                     "intramuscularly", "intravenously"],
                    "no nonsterile preparation is injected"),
    **dict.fromkeys(["units", "unit"], "units are error-prone and no product here is dosed in "
                                      "units"),
    "insulin": "insulin is not a preparation made here, and a drug name is not a direction",
    "sliding": "a sliding scale is not a dose (ISMP: 'SS' and 'SSI' are error-prone)",
    **dict.fromkeys(["spoon", "spoons", "spoonful", "spoonsful", "spoonfuls", "teaspoon",
                     "teaspoons", "teaspoonful", "tablespoon", "tablespoons", "tablespoonful",
                     "tsp.", "tbsp."],
                    "household measures are error-prone for oral liquids: write the dose in mL "
                    "(sig-codes.md §3)"),
    **dict.fromkeys(["bd", "b.d.", "tds", "t.d.s.", "qds", "q.d.s.", "nocte", "mane", "om",
                     "hrly", "o.n."],
                    "a UK or Latin code this pharmacy's labels do not use: write the words "
                    "('twice daily', 'at bedtime', 'every 4 hours')"),
    **dict.fromkeys(["/kg", "/m2", "/m²"], "a dose by body weight or surface area is worked "
                                           "out by a pharmacist, not printed as written"),
    "taper": "a taper is written out step by step ('2 tabs qd x 3 days, then 1 tab qd x 3 "
             "days')",
    **dict.fromkeys(["stat", "statim", "hora", "somni", "diem", "mitte"],
                    "a Latin sig word: write the directions in English words"),
    "ut": "'ut dict' is Latin for 'as directed', which alone is not a direction (USP <17>)",
    "ng": "a feeding tube is not a route these labels give: a pharmacist writes such directions",
    "peg": "a feeding tube is not a route these labels give: a pharmacist writes such directions",
    "ʒ": "apothecary units need a pharmacist's conversion (ISMP)",
    "♏": "apothecary units need a pharmacist's conversion (ISMP)",
}
HOURLY = re.compile(r"^q(\d+)(?:-(\d+))?(?:h|hr|hrs)$")    # q8h, q8hr, q8hrs, q4-6h
CLOCK = re.compile(r"^q\d+(?:am|pm)$")
# x3d is ISMP error-prone: EXPAND → "for 3 days"; "x30days", "x 3d", "30days" are the same glued
_DURATION_UNIT = r"(d|days?|wks?|weeks?|mos?|months?)"
DURATION = re.compile(rf"^x(\d+){_DURATION_UNIT}$")
SHORT_DURATION = re.compile(rf"^(\d+){_DURATION_UNIT}$")
# "every 3 days", "every 2 weeks": the unit of an interval of days
DAY_OR_WEEK_WORDS = {**dict.fromkeys(["day", "days"], "days"),
                     **dict.fromkeys(["week", "weeks", "wk", "wks"], "weeks")}
DURATION_UNITS: dict[str, DurationUnit] = {
    **dict.fromkeys(["d", "day", "days"], DurationUnit.DAYS),
    **dict.fromkeys(["wk", "wks", "week", "weeks"], DurationUnit.WEEKS),
    **dict.fromkeys(["mo", "mos", "month", "months"], DurationUnit.MONTHS),
}
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
    DoseUnit.SPRAY: frozenset({Route.NASAL, Route.ORAL, Route.SUBLINGUAL, Route.BUCCAL}),
    DoseUnit.APPLICATORFUL: frozenset({Route.VAGINAL, Route.RECTAL}),
}
DIVISIBLE = {DoseUnit.TABLET}                 # the only unit a dose may be half of
MEASURED = {DoseUnit.ML, DoseUnit.G}          # decimals are fine

# Upper bounds against typos, not clinical limits: no compounded dose comes near them, and a
# dose past them ("10000 tab") is a slip to send back, never a label (docs/formats.md: "Bad
# input: limits and refusals").
MAX_DOSE = {**dict.fromkeys(DoseUnit, Decimal(30)), DoseUnit.ML: Decimal(1000), DoseUnit.G: Decimal(1000)}
MAX_DURATION_DAYS = 366
# As-needed reasons and approved text are plain words; these short words are English, anything
# else of three letters or fewer is treated as an unknown abbreviation ("ha" for headache).
SHORT_WORDS = {
    "a", "i", "am", "an", "as", "at", "be", "by", "do", "g", "if", "in", "is", "it", "me", "mg",
    "ml", "my", "no", "of", "on", "or", "pm", "so", "to", "up", "we", "add", "ago", "air", "all",
    "and", "any", "are", "arm", "bed", "but", "can", "cup", "cut", "day", "dry", "ear", "eat",
    "end", "eye", "few", "flu", "for", "gas", "get", "gum", "has", "her", "him", "his", "hip",
    "hot", "how", "ice", "its", "jaw", "leg", "let", "lid", "lip", "low", "may", "mcg", "mix",
    "new", "nor", "not", "now", "off", "oil", "one", "our", "out", "own", "per", "put", "red",
    "rib", "rub", "see", "set", "sip", "sit", "six", "sun", "tea", "ten", "the", "tip", "toe", "too",
    "two", "use", "via", "was", "way", "wet", "who", "why", "yet", "you"}
# Words an as-needed reason or a purpose cannot begin with ("prn or as directed").
REASON_CANNOT_BEGIN = {"or", "and", "as", "to", "of", "the", "a", "an", "in", "at", "on", "if",
                       "by", "per", "up", "but", "nor", "so"}
# Medical acronyms longer than three letters: "for GERD" is written out for the patient.
ACRONYMS = {"gerd", "copd", "adhd", "afib", "ptsd", "esrd", "nstemi", "stemi", "hfref", "bphs",
            "uti's", "urti", "lrti", "ibd's"}
# "2x/week", "3x daily": the period after "Nx", and whether it is a week.
TIMES_PERIODS = sorted([(("/day",), False), (("a", "day"), False), (("daily",), False),
                        (("per", "day"), False), (("/d",), False), (("/week",), True),
                        (("a", "week"), True), (("weekly",), True), (("per", "week"), True),
                        (("/wk",), True)], key=lambda p: -len(p[0]))
REASON_CODES = {"sob": "shortness of breath", "n/v": "nausea and vomiting"}
# Words that begin an instruction, never a reason ("as needed for pain swallow whole"): the
# reason ends before them, and what follows is read as the grammar reads it, or refused.
REASON_STOPS = {"swallow", "chew", "crush", "do", "don't", "avoid", "rinse", "shake", "may",
                 "repeat", "with", "without", "before", "after", "until", "if", "while",
                 "every", "each", "daily", "once", "twice", "not", "no", "on"}
# Words of time and frequency: never words of a reason or a purpose ("prn pain hourly", "for
# days"), where they would print as if they were, when the grammar reads them elsewhere.
TIME_WORDS = {"hourly", "nightly", "weekly", "monthly", "today", "tonight", "tomorrow", "now",
              "morning", "mornings", "evening", "evenings", "night", "nights", "noon", "bedtime",
              "am", "pm", "hour", "hours", "hr", "hrs", "day", "days", "week", "weeks", "month",
              "months", "times", "time", "next", "another", "further", "stat", "statim",
              "always", "sometimes", "often"}
# A reason or a purpose ends on a word of its own, never on "and", "or", "the" ...
REASON_CANNOT_END = {"or", "and", "the", "a", "an", "of", "to", "for", "with", "in", "at", "on",
                     "by", "per", "but", "nor", "so", "from", "into", "than"}
# A maximum: the words before the amount, longest first. Those that say "daily" need no
# "per day" after the amount ("mdd 4", "max daily dose 4 tabs").
DAILY_MAX_WORDS = [("maximum", "daily", "dose"), ("max", "daily", "dose"), ("mdd",),
                   ("maximum", "daily"), ("max", "daily")]
MAX_WORDS = sorted([("do", "not", "take", "more", "than"), ("do", "not", "use", "more", "than"),
                    ("do", "not", "exceed"), ("not", "to", "exceed"), ("no", "more", "than"),
                    ("maximum", "of"), ("max", "of"), ("maximum",), ("max",), *DAILY_MAX_WORDS],
                   key=len, reverse=True)
PER_DAY = sorted([("per", "day"), ("a", "day"), ("/day",), ("daily",), ("each", "day"),
                  ("in", "24", "hours"), ("per", "24", "hours"), ("in", "24", "hrs"),
                  ("per", "24", "hrs"), ("in", "24", "hr"), ("in", "24", "h"), ("/24h",),
                  ("/24hrs",), ("/24hr",), ("/24", "hours"), ("/24", "hrs"), ("in", "1", "day")],
                 key=len, reverse=True)

# Notes for the pharmacy, not the patient: a sig holding one is refused, approved or not, with a
# message to move it to the fill's fields ("refills 0", "dispense 30", "#30", "ok to fill").
_NOTE_LEADS = {"refills", "refill", "dispense", "disp", "qty", "quantity"}
_NOTE_PHRASES = [("e-rx",), ("erx",), ("e-script",), ("no", "refills"), ("ok", "to", "fill"),
                 ("okay", "to", "fill"), ("daw",),
                 ("dispense", "as", "written"), ("brand", "medically", "necessary"),
                 ("substitution", "permitted"), ("do", "not", "substitute"), ("generic", "ok"),
                 ("may", "substitute"), ("brand", "only")]
_NOTE_NUMBER = re.compile(r"^#\d+$")
_NOTE_FIRST = _NOTE_LEADS | {phrase[0] for phrase in _NOTE_PHRASES}


def pharmacy_note(words: list[str], at: int) -> int:
    """How many of `words` (lower case) from `at` are a note for the pharmacy; 0: none."""
    word = words[at].rstrip(":")
    if (word[:1].isdigit() and tuple(words[at + 1:at + 3]) in (("day", "supply"),
                                                                ("days", "supply"))):
        return 3                    # "90 day supply"
    if word not in _NOTE_FIRST and not word.startswith("#"):
        return 0
    for phrase in _NOTE_PHRASES:
        if tuple(w.rstrip(":") for w in words[at:at + len(phrase)]) == phrase:
            return len(phrase)
    if _NOTE_NUMBER.match(word):
        return 1
    if word in _NOTE_LEADS:
        nxt = words[at + 1] if at + 1 < len(words) else ""
        if not (nxt[:1].isdigit() or _NOTE_NUMBER.match(nxt)):
            return 1
        after = words[at + 2] if at + 2 < len(words) else ""
        return 3 if after in UNITS else 2        # "dispense 100 mL"
    return 0


def note_message(written: str) -> str:
    return (f"'{written}' is a note for the pharmacy, not a direction: move it out of the "
            "directions (quantity and refills are fields of the fill)")


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
    "stat", "mdd", *(REJECT.keys() - {"in", "taper"})}
DOTTED = re.compile(r"^[a-z](?:\.[a-z])+\.?$")   # q.a.m., b.i.d., p.o., q.h.s (no last dot)
# "q" run into a word of time: qday, qdaily, qweek, qmwf, q6hours (sig-codes.md §5: not read)
Q_WORD = re.compile(r"^q(?:\d+[a-z]*|day|daily|days|week|weekly|wk|month|monthly|night|nightly|"
                    r"am|pm|morning|evening|hours?|hrs?|mwf|mon|tue|wed|thu|fri|sat|sun)$")
X_COUNT = re.compile(r"^x\d+(?:d|wk)?$")          # x7, x7d


def is_code(word: str) -> bool:
    bare = word.rstrip(".") if not DOTTED.match(word) else word
    return (bare in PLAIN_CODES or bool(DOTTED.match(word)) or bool(HOURLY.match(bare))
            or bool(CLOCK.match(bare)) or bool(X_COUNT.match(bare))
            or bool(MINUTELY.match(bare) or Q_NUMBER.match(bare)) or bool(Q_WORD.match(bare)))


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



# Every word the grammar reads, for naming words run together ("dailypc", "mouthdaily").
_KNOWN_WORDS = ({w for words, _, _ in PHRASE_TABLE for w in words if w.isalpha() and len(w) > 1}
                | set(UNITS) | VERBS | set(WEEKDAYS) | set(PLAIN_CODES)) - {"as", "in", "to", "at"}


def run_together(word: str) -> tuple[str, str] | None:
    """The two words the grammar reads that `word` is made of, one of them a code, if it is two
    run together ("dailypc", "bedtimeprn"; never "without", which is English)."""
    for k in range(2, len(word) - 1):
        head, tail = word[:k], word[k:]
        if (head in _KNOWN_WORDS and tail in _KNOWN_WORDS
                and (head in PLAIN_CODES or tail in PLAIN_CODES)):
            return head, tail
    return None
