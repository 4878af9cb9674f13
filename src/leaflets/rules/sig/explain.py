"""Explain the reading (`leaflets sig --explain`): how each group of words was read, the slot it
filled and the value in plain words; for a refusal, the words where reading stopped, why, and a
rewrite where a mechanical one keeps the meaning.

The outcome is parse_directions' own (explain never accepts what it refuses, nor the reverse);
the rows come from the same grammar reading the same tokens again and noting each read through
its one hook, Parser._read. Rules do not print: the CLI renders the directions.

Suggested rewrites only move or separate words the grammar already reads, and a rewrite is
offered only when parse_directions accepts it:
  - words glued together, each a code the grammar reads on its own ("qdx7d" → "qd x7d", "1tab"
    → "1 tab"), or a code written with dots ("p.o." → "po"): never a code refused as ambiguous
    (error-prone-abbreviations.md §7: hs, od, ss, u ... are never given a meaning), never an eye
    or ear code, never a clock code;
  - words after an as-needed reason that the grammar stops at, moved before 'prn', as the
    refusal itself says; a verb that begins them goes to the start of the step, where the
    grammar reads a verb ("1 tab po q8h prn nausea take with food" → "take 1 tab po q8h with
    food prn nausea"), or is dropped when the step begins with the same verb (never a second,
    different verb: which one gives the step is not known);
  - an as-needed reason written before the dose, moved to the end of its step: "prn pain 1 tab
    po q6h" → "1 tab po q6h prn pain".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from ...errors import SafetyError
from ...models import DoseUnit, Route
from . import parse_directions
from .amounts import amount_text, plural_noun
from .grammar import Parser
from .model import (
    Context,
    Directions,
    Dosage,
    Duration,
    DurationUnit,
    Frequency,
    Instruction,
    NotSig,
    Slots,
    Timing,
    Weekday,
)
from .tokens import NUMBER, RANGE, Token, tokenize
from .vocabulary import (
    DURATION,
    HOURLY,
    PHRASES_BY_FIRST_WORD,
    REASON_STOPS,
    REJECT,
    SITE_CODES,
    UNITS,
    VERBS,
)


@dataclass(frozen=True)
class Reading:
    """One row: words as written, the slot of step `step` (from 1) they filled and its value,
    in plain words (slot "" for words that set nothing). The words are tokens start to end and
    characters at[0] to at[1] of the text (0-based, ends excluded)."""

    words: str
    slot: str
    value: str
    start: int
    end: int
    at: tuple[int, int]
    step: int


@dataclass(frozen=True)
class Stop:
    """Where reading stopped: in the words being read (tokens start to end, characters at), or,
    when every word of step `step` was read and the step as a whole was refused, after them
    (start, end and at None); step None: every step was read and they were refused together."""

    words: str
    start: int | None
    end: int | None
    at: tuple[int, int] | None
    step: int | None


@dataclass(frozen=True)
class Explanation:
    text: str                           # the text read (spaces collapsed, as parse_directions)
    tokens: tuple[str, ...]
    readings: tuple[Reading, ...]
    directions: Directions | None       # accepted: what parse_directions returns
    message: str | None                 # refused: parse_directions' message
    stop: Stop | None                   # where the grammar stopped (also for approved plain text)
    suggestion: str | None              # a rewrite parse_directions accepts, for a refusal


def explain(text: str, context: Context | None = None, verbatim: bool = False) -> Explanation:
    """How `text` is read for the product of `context`, and what parse_directions makes of it."""
    text = " ".join(text.split())
    directions: Directions | None = None
    message = None
    try:
        directions = parse_directions(text, context, verbatim=verbatim)
    except SafetyError as exc:
        message = exc.reason
    context = context or Context()
    try:
        tokens = tokenize(text)
    except SafetyError:             # refused as it is split ("two (3)"): no word is read
        tokens = []
    if not tokens:
        return Explanation(text, (), (), directions, message, None, None)
    noting = _note(tokens, context, text)
    stop = noting.stop()
    suggestion = None
    if message is not None and noting.reading is not None:
        suggestion = _suggest(text, context, noting)
    return Explanation(text, tuple(t.text for t in tokens), tuple(noting.rows()), directions,
                       message, stop, suggestion)


# ---- reading, noting each read ------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    start: int
    end: int
    step: int
    before: dict[str, Any]
    after: dict[str, Any]
    reason: bool                    # a word of the as-needed reason


def _slots(s: Slots) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, list) else v for k, v in vars(s).items()}


class _Notes:
    """What one reading of the tokens did: each read with the slots before and after it, where
    each step began, and the read under way when the grammar refused."""

    def __init__(self, tokens: list[Token], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.spans = _spans(tokens, text)
        self.reads: list[_Read] = []
        self.steps: list[int] = []          # the token each step begins at
        self.done = 0                       # steps read whole
        self.reading: tuple[int, dict[str, Any]] | None = None    # the read under way
        self.cursor = 0                     # the grammar's cursor when it stopped
        self.failed = False

    def stop(self) -> Stop | None:
        if not self.failed:
            return None
        if self.reading is not None:
            start = self.reading[0]
            end = min(max(self.cursor, start + 1), len(self.tokens))
            return Stop(self.words(start, end), start, end, self.at(start, end), len(self.steps))
        if self.done == len(self.steps):
            return Stop("", None, None, None, None)        # the steps together
        return Stop("", None, None, None, len(self.steps))

    def at(self, start: int, end: int) -> tuple[int, int]:
        return self.spans[start][0], self.spans[end - 1][1]

    def words(self, start: int, end: int) -> str:
        begin, stop = self.at(start, end)
        return self.text[begin:stop]

    def row(self, start: int, end: int, slot: str, value: str, step: int) -> Reading:
        return Reading(self.words(start, end), slot, value, start, end, self.at(start, end), step)

    def rows(self) -> list[Reading]:
        rows: list[Reading] = []
        t = self.tokens
        for n, begin in enumerate(self.steps, 1):
            if n > 1 and t[begin - 1].low == "then":
                rows.append(self.row(begin - 1, begin, "then", f"step {n} begins", n))
            group = [r for r in self.reads if r.step == n]
            k = 0
            while k < len(group):
                if group[k].reason:             # the reason's words, one row
                    j = k
                    while j + 1 < len(group) and group[j + 1].reason:
                        j += 1
                    rows.extend(self._reason_row(group[k], group[j]))
                    k = j + 1
                    continue
                rows.extend(self._read_rows(group[k]))
                k += 1
        return rows

    def _reason_row(self, first: _Read, last: _Read) -> list[Reading]:
        key = "reason" if first.before["reason_open"] else "purpose"
        said = first.before[key] or []
        added = (last.after[key] or [])[len(said):]
        slot = "as needed for" if key == "reason" else "what it is for"
        return [self.row(first.start, last.end, slot, " ".join(added), first.step)]

    def _read_rows(self, read: _Read) -> list[Reading]:
        changes = _changes(read.before, read.after)
        if not changes:
            first = self.tokens[read.start]
            if first.kind == "punct" and read.end == read.start + 1:
                return []
            repeated = first.kind in ("number", "range")        # "1 tab qam and 1 tab qhs"
            changes = [("dose", "the same dose again") if repeated else ("", "")]
        return [self.row(read.start, read.end, slot, value, read.step) for slot, value in changes]


class _Noting(Parser):
    """The grammar as it is, noting in `_explain_notes` what each read set."""

    def __init__(self, tokens: list[Token], context: Context, notes: _Notes) -> None:
        super().__init__(tokens, context)
        self._explain_notes = notes

    def step(self, *, first: bool) -> Dosage:
        notes = self._explain_notes
        notes.steps.append(self.i)
        dosage = super().step(first=first)
        notes.done += 1
        return dosage

    def _read(self, s: Slots, read: Callable[[Slots, Token], None], tok: Token) -> None:
        notes = self._explain_notes
        start, before = self.i, _slots(s)
        notes.reading = (start, before)
        read(s, tok)
        notes.reading = None
        notes.reads.append(_Read(start, self.i, len(notes.steps), before, _slots(s),
                                 read == self._reason_word))


def _note(tokens: list[Token], context: Context, text: str) -> _Notes:
    """Read the tokens as parse_directions does, noting each read."""
    notes = _Notes(tokens, text)
    parser = _Noting(tokens, context, notes)
    try:
        parser.sig()
    except (NotSig, SafetyError):
        notes.failed = True
    notes.cursor = parser.i
    return notes


def _spans(tokens: list[Token], text: str) -> list[tuple[int, int]]:
    """Where each token is in the text it was read from (tokens keep its order)."""
    spans: list[tuple[int, int]] = []
    at = 0
    for tok in tokens:
        at = text.find(tok.text, at)
        spans.append((at, at + len(tok.text)))
        at += len(tok.text)
    return spans


# ---- slots and values in plain words ----------------------------------------------------------

_SLOT_NAMES = {"dose": "dose", "unit": "unit", "thin_layer": "amount", "route": "route",
               "site": "where", "verb": "verb", "timing": "how often", "periods": "time of day",
               "days": "days of the week", "meal": "meals", "instructions": "instruction",
               "reason": "as needed for", "duration": "for how long",
               "max_per_day": "most in 24 hours", "click_grams": "grams of the clicks",
               "next_dose": "dose at the next time of day", "dose_count": "most doses"}
# The parser's own notes, not slots of the directions.
_NOTES = {"once_daily", "dose_max", "period_words", "period_doses", "meal_glued"}
_ROUTE_WORDS = {Route.ORAL: "oral (by mouth)", Route.SUBLINGUAL: "sublingual (under the tongue)",
                Route.BUCCAL: "buccal (between the cheek and gum)",
                Route.TOPICAL: "topical (on the skin)", Route.OPHTHALMIC: "ophthalmic (eye)",
                Route.OTIC: "otic (ear)", Route.NASAL: "nasal (nose)"}
_INSTRUCTION_WORDS = {Instruction.EMPTY_STOMACH: "on an empty stomach"}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str]]:
    """The slots a read set, in the order of Slots, with their values in plain words. A slot a
    read cleared is not shown ("once daily in the morning": the time of day says it all)."""
    out: list[tuple[str, str]] = []
    for key, value in after.items():
        old = before.get(key)
        if value == old or key in _NOTES or key.endswith(("_text", "_open")):
            continue                    # most slots, most reads: first, as it is the cheapest
        if key == "dose" and value is not None:       # a dose and its range are set together
            high = after.get("dose_max")
            out.append(("dose", amount_text(value) + (f" to {amount_text(high)}" if high else "")))
            continue
        if value is None or value is False or (value == [] and key not in ("reason", "purpose")):
            continue
        if key == "reason":
            if old is None:
                out.append(("as needed", "yes"))
            else:
                out.append(("as needed for", " ".join(value[len(old):])))
            continue
        if key == "purpose":
            if old is None:
                out.append(("what it is for", "(the words that follow)"))
            continue
        if isinstance(value, list):
            added = value[len(old):] if isinstance(old, list) and value[:len(old)] == old else value
            out.append((_slot_name(key), ", ".join(_plain(v) for v in added)))
            continue
        if key in ("thin_layer", "small_amount", "application"):
            out.append(("amount", {"thin_layer": "a thin layer", "small_amount": "a small amount",
                                   "application": "none (applied as it comes)"}[key]))
        elif key == "max_per_day" and isinstance(value, Decimal):
            unit = after.get("unit")
            noun = "" if not isinstance(unit, DoseUnit) else \
                " " + (unit.value if value == 1 else plural_noun(unit))
            out.append((_slot_name(key), amount_text(value) + noun))
        else:
            out.append((_slot_name(key), _plain(value)))
    return out


def _slot_name(key: str) -> str:
    return _SLOT_NAMES.get(key, key.replace("_", " "))


def _plain(value: object) -> str:
    if isinstance(value, Route):
        return _ROUTE_WORDS.get(value, value.value)
    if isinstance(value, Weekday):
        return value.value.capitalize()
    if isinstance(value, Instruction) and value in _INSTRUCTION_WORDS:
        return _INSTRUCTION_WORDS[value]
    if isinstance(value, Enum):
        return str(value.value).replace("-", " ")
    if isinstance(value, Timing):
        return _timing(value)
    if isinstance(value, Duration):
        unit = {DurationUnit.DAYS: "day", DurationUnit.WEEKS: "week",
                DurationUnit.MONTHS: "month"}[value.unit]
        return f"{value.value} {unit}{'' if value.value == 1 else 's'}"
    if isinstance(value, Decimal):
        return amount_text(value)
    if isinstance(value, tuple) and value and isinstance(value[0], Decimal):
        low, high = value                       # measures.py: a mass or clicks, low to high
        return amount_text(low) + (f" to {amount_text(high)}" if high is not None else "")
    if value is True:
        return "yes"
    return str(value)


def _timing(t: Timing) -> str:
    f = t.frequency
    if f is Frequency.TIMES_DAILY:
        return "once a day" if t.count == 1 else f"{t.count} times a day"
    if f is Frequency.TIMES_WEEKLY:
        return "once a week" if t.count == 1 else f"{t.count} times a week"
    if f is Frequency.EVERY_HOURS:
        if t.hours_max:
            return f"every {t.hours} to {t.hours_max} hours"
        return "every hour" if t.hours == 1 else f"every {t.hours} hours"
    if f is Frequency.EVERY_OTHER_DAY:
        return "every other day"
    if f is Frequency.EVERY_DAYS:
        return f"every {t.count} days"
    if f is Frequency.EVERY_WEEKS:
        return f"every {t.count} weeks"
    if f is Frequency.WEEKDAYS:
        return "every " + ", ".join(_plain(d) for d in t.days)
    if f is Frequency.DAY_PERIODS:
        return ", ".join(_plain(p) for p in t.periods)
    if f is Frequency.EVERY_MINUTES:
        return "every minute" if t.minutes == 1 else f"every {t.minutes} minutes"
    details = [f"{x.name} {_plain(getattr(t, x.name))}" for x in fields(t)
               if x.name != "frequency" and getattr(t, x.name)]
    return " ".join([_plain(f), *details])


# ---- suggested rewrites -----------------------------------------------------------------------

# Words the grammar reads on their own: a glued word is separated only into these (and a number
# before a unit). Never a code refused as ambiguous, nor an eye or ear code (read only for an
# eye or ear product, and "o.d." is ambiguous), nor a clock code (not read at all).
_CODES = frozenset(
    {words[0] for phrases in PHRASES_BY_FIRST_WORD.values() for words, _, _ in phrases
     if len(words) == 1} | set(UNITS)) - set(REJECT) - set(SITE_CODES)
_MAX_REWRITES = 3
_DOTS = re.compile(r"(?<!\d)\.(?!\d)")      # the dots of "p.o.", not those beside a digit
_LONGEST_GLUED = 24                     # characters: a longer word is not taken apart


def _code(word: str) -> bool:
    return word in _CODES or bool(HOURLY.match(word)) or bool(DURATION.match(word))


def _suggest(text: str, context: Context, noting: _Notes) -> str | None:
    """A rewrite of `text` that parse_directions accepts, made only of the rewrites above (each
    applied where the reading stopped, up to _MAX_REWRITES of them), or None."""
    for _ in range(_MAX_REWRITES):
        if noting.reading is None:
            return None
        words = _rewrite(noting, _as_written(noting))
        if words is None:
            return None
        text = _join(words)
        try:
            parse_directions(text, context)
        except SafetyError:
            noting = _note(tokenize(text), context, text)
            continue
        return text
    return None


# A rewrite works on the tokens as written, each with whether it was glued to the one before.
_Word = tuple[str, bool]


def _as_written(noting: _Notes) -> list[_Word]:
    spans = noting.spans
    return [(tok.text, n > 0 and spans[n][0] == spans[n - 1][1]) for n, tok in enumerate(noting.tokens)]


def _join(words: list[_Word]) -> str:
    return "".join(("" if glued or not n else " ") + word for n, (word, glued) in enumerate(words))


def _rewrite(noting: _Notes, written: list[_Word]) -> list[_Word] | None:
    """The words rewritten where the reading stopped (noting.reading), or None."""
    assert noting.reading is not None
    start, before = noting.reading
    tokens = noting.tokens
    tok = tokens[start]
    in_reason = bool(before.get("reason_open"))
    if tok.kind == "word" and noting.cursor <= start + 1:
        parts = _separate(tok.text)
        if parts is not None:
            return [*written[:start], (parts[0], written[start][1]),
                    *((p, False) for p in parts[1:]), *written[start + 1:]]
    prn = _prn_start(noting)
    if not before.get("reason") or prn is None:
        return None
    end = _step_end(tokens, start)
    while end > start and tokens[end - 1].kind == "punct":
        end -= 1                        # punctuation ending the step stays where it is
    if not in_reason and noting.cursor == start and (tok.low in VERBS or tok.low in REASON_STOPS):
        # words after the reason: before 'prn'; a verb that begins them is the step's verb
        begin = noting.steps[-1]
        verb: list[_Word] = []
        tail = start
        if tok.low in VERBS:
            if tokens[begin].low not in VERBS:
                verb = [(tok.text, False)]
            elif tokens[begin].low != tok.low:
                return None             # two verbs: which one gives the step is not known
            tail += 1
        return _tidy([*written[:begin], *verb, *_unglued(written[begin:prn]),
                      *_unglued(written[tail:end]), *_unglued(written[prn:start]),
                      *written[end:]])
    if in_reason and tok.kind in ("number", "range"):
        # the reason before the dose: to the end of its step
        return _tidy([*written[:prn], *_unglued(written[start:end]),
                      *_unglued(written[prn:start]), *written[end:]])
    return None


def _separate(word: str) -> list[str] | None:
    """A glued or dotted word as the codes it is made of, when there is exactly one way:
    "qdx7d" → qd x7d, "1tab" → 1 tab, "p.o." → po, "P.O.Q.D." → PO QD. A number is separated
    only before a unit, and stays as written (".5tab" → .5 tab, which is refused)."""
    bare = _DOTS.sub("", word)          # never a decimal point: "0.5tab" is 0.5 tab, ".5" stays
    if not bare or len(bare) > _LONGEST_GLUED or word.lower() in REJECT:
        return None                     # "..": nothing to read

    @cache
    def ways(at: int) -> tuple[tuple[str, ...], ...]:
        """Up to two ways to read bare[at:] as codes."""
        if at == len(bare):
            return ((),)
        found: list[tuple[str, ...]] = []
        for cut in range(at + 1, len(bare) + 1):
            part = bare[at:cut]
            heads: list[tuple[tuple[str, ...], int]] = []
            if _code(part.lower()):
                heads.append(((part,), cut))
            if NUMBER.match(part) or RANGE.match(part):
                heads += [((part, bare[cut:end]), end) for end in range(cut + 1, len(bare) + 1)
                          if bare[cut:end].lower() in UNITS]
            for head, after in heads:
                for rest in ways(after):
                    found.append(head + rest)
                    if len(found) > 1:
                        return tuple(found)
        return tuple(found)

    found = ways(0)
    if len(found) != 1 or found[0] == (word,):
        return None
    return list(found[0])


def _prn_start(noting: _Notes) -> int | None:
    """The token where the as-needed phrase of the step being read begins."""
    for read in reversed(noting.reads):
        if read.step != len(noting.steps):
            return None
        if read.before.get("reason") is None and read.after.get("reason") is not None:
            return read.start
    return None


def _step_end(tokens: list[Token], at: int) -> int:
    return next((k for k in range(at, len(tokens)) if tokens[k].low == "then"), len(tokens))


def _unglued(words: list[_Word]) -> list[_Word]:
    return [(word, glued and n > 0) for n, (word, glued) in enumerate(words)]


def _tidy(words: list[_Word]) -> list[_Word]:
    """Without a comma or semicolon left before the end of a step or other punctuation (the
    grammar reads punctuation only as the end of an as-needed reason)."""
    out: list[_Word] = []
    for n, (word, glued) in enumerate(words):
        following = words[n + 1][0].lower() if n + 1 < len(words) else ""
        if word in (",", ";") and (following in ("", "then", ",", ";", ".") or not out):
            continue
        out.append((word, glued and bool(out)))
    return out
