"""Directions: read a sig into a structured dosage, or accept text a pharmacist approved.

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
    timing    := frequency | period ("and"? [amount] period)* | weekday+ | meal
                 | minutes "up to" N "doses"
                 (qd bid tid qid, q8h, q4-6h, qod, qw biw tiw, q Mon Wed Fri, qam qnoon qpm qhs,
                  and their English: "twice daily", "every 4 to 6 hours", "at bedtime" ...;
                  "5 times a day"; "q 8 h", "q8 hrs"; named meals "before breakfast" ... as
                  periods; a dose before a later period is that period's own; q5min, as needed
                  and sublingual only; a code and its own English read once: "qam every
                  morning")
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

The package's modules are the stages, each with one job: tokens.py (words and numbers),
vocabulary.py (the words and codes read, and those refused), grammar.py (phrases into the slots
of each step), model.py (the structure), checks.py (slots into a consistent Dosage, and the
checks on approved text), amounts.py (what a regimen uses).
"""

from __future__ import annotations

from functools import lru_cache

from ...errors import SafetyError
from ...models import DoseUnit, Route
from .amounts import amount_text, daily_amount, most_doses_a_day, plural_noun, total_amount
from .checks import check_plain
from .grammar import Parser
from .model import (
    AS_NEEDED_NO_UMS,
    FIELD,
    MEAL_NO_UMS,
    NO_UMS,
    ONCE_DAILY_NO_UMS,
    SENTENCE_INSTRUCTIONS,
    UMS_PERIODS,
    Context,
    Directions,
    Dosage,
    Duration,
    DurationUnit,
    Frequency,
    Instruction,
    Meal,
    Method,
    NotSig,
    Period,
    PlainDirections,
    Sig,
    Site,
    Timing,
    Weekday,
    err,
    ums_periods,
)
from .tokens import Token, number, tokenize
from .vocabulary import MAX_DOSE, MAX_DURATION_DAYS, SITE_ROUTE, UNIT_ROUTES

__all__ = [
    "AS_NEEDED_NO_UMS",
    "FIELD",
    "MAX_DOSE",
    "MAX_DURATION_DAYS",
    "MEAL_NO_UMS",
    "NO_UMS",
    "ONCE_DAILY_NO_UMS",
    "SENTENCE_INSTRUCTIONS",
    "SITE_ROUTE",
    "UMS_PERIODS",
    "UNIT_ROUTES",
    "VERBATIM_HINT",
    "Context",
    "Directions",
    "Dosage",
    "Duration",
    "DurationUnit",
    "Frequency",
    "Instruction",
    "Meal",
    "Method",
    "Period",
    "PlainDirections",
    "Sig",
    "Site",
    "Timing",
    "Token",
    "Weekday",
    "amount_text",
    "daily_amount",
    "most_doses_a_day",
    "number",
    "parse_directions",
    "plural_noun",
    "tokenize",
    "total_amount",
    "ums_periods",
]

VERBATIM_HINT = ("; or a pharmacist may approve the text as written "
                 "(directions_verbatim: {approved_by: <initials>})")


@lru_cache(maxsize=4096)
def parse_directions(text: str, context: Context | None = None, *, route: Route | None = None,
                     unit: DoseUnit | None = None, verbatim: bool = False) -> Directions:
    """Parse `text` for the product of `context` (`Context.of(product)`; `route` and `unit` are
    a shorthand for a context of only those; neither: no product).
    Text outside the grammar prints as written only when a pharmacist approved it as written
    (`verbatim`): how the text is written (a capital letter) never decides what is accepted
    (sig-codes.md §1: directions the program has not understood are not printed unreviewed).
    Pure, so cached: a day's fills repeat a few sigs."""
    text = " ".join(text.split())
    if not text:
        raise err("directions are empty")
    try:
        return Parser(tokenize(text), context or Context(route, unit)).sig()
    except NotSig as exc:
        if not verbatim:    # the way out, where approved text would be printable at all
            try:
                check_plain(text)
            except SafetyError:
                raise err(exc.message) from None
            raise err(exc.message + VERBATIM_HINT) from None
    return check_plain(text)


