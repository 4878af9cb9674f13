"""The grammar: tokens are read into the slots of each step, phrase by phrase (longest match
first), and each step's slots are handed to checks.build_step. Anything unknown, ambiguous or
contradictory is an error naming the token, never a guess."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from ...errors import SafetyError
from ...models import DoseUnit, Route
from .amounts import amount_text
from .checks import build_step, check_steps
from .measures import read_measure, refuse_mass_maximum
from .model import (
    MEAL_NAME,
    MEAL_PART,
    MEAL_PERIODS,
    MEAL_RELATION,
    SENTENCE_INSTRUCTIONS,
    Context,
    Dosage,
    Duration,
    Frequency,
    Instruction,
    Meal,
    Method,
    NotSig,
    Period,
    Sig,
    Site,
    Slots,
    Timing,
    Weekday,
    clash,
    daily,
    err,
    weekly,
)
from .tokens import RANGE, Token, number
from .vocabulary import (
    ACRONYMS,
    CLOCK,
    DAILY_MAX_WORDS,
    DAY_OR_WEEK_WORDS,
    DOSE_COUNTS,
    DURATION,
    DURATION_UNITS,
    GLUED_INTERVAL,
    HOUR_WORDS,
    HOURLY,
    MAX_DURATION_DAYS,
    MAX_MINUTES,
    MAX_WORDS,
    MEAL_NOUNS,
    MINUTE_WORDS,
    MINUTELY,
    PER_DAY,
    PHRASES_BY_FIRST_WORD,
    PILL_WORDS,
    Q_NUMBER,
    REASON_CANNOT_BEGIN,
    REASON_CODES,
    REASON_STOPS,
    REJECT,
    ROUTE_ADJECTIVES,
    ROUTE_CODES,
    SHORT_DURATION,
    SHORT_WORDS,
    SITE_CODES,
    SITE_ROUTE,
    TIME_WORDS,
    TIMES_PERIODS,
    UNITS,
    VERBS,
    WEEKDAYS,
    is_code,
    note_message,
    pharmacy_note,
    run_together,
)


class Parser:
    """Reads tokens into the slots of each step (the grammar in rules/sig/__init__.py)."""

    def __init__(self, tokens: list[Token], context: Context) -> None:
        self.t = tokens
        self.lows = [t.low for t in tokens]
        self.i = 0
        self._last: list[Token] = []      # the phrase matched last
        self.context = context
        self.route = context.route
        self.unit = context.unit
        self._code_period_ends = -1     # where a time-of-day code ("qam") ended
        self._route_before: Route | None = None     # the route of the step before

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
        for words, slot, value in PHRASES_BY_FIRST_WORD.get(self.low(), ()):
            if self.at(words):
                return len(words), slot, value
        return None

    # -- grammar --
    def sig(self) -> Sig:
        try:
            return self._sig()
        except (NotSig, SafetyError):
            self._refused_later()
            raise

    def _sig(self) -> Sig:
        steps = [self.step(first=True)]
        while self.i < len(self.t):
            if self.low() == "then":
                self.i += 1
            steps.append(self.step(first=False))
        check_steps(steps)
        if len(steps) > 1:          # "Swallow whole." prints after every step: the last's
            said = {i for step in steps for i in step.instructions if i in SENTENCE_INSTRUCTIONS}
            steps = [replace(step, instructions=tuple(
                i for i in step.instructions if i not in SENTENCE_INSTRUCTIONS)) for step in steps]
            steps[-1] = replace(steps[-1], instructions=tuple(
                sorted({*steps[-1].instructions, *said}, key=list(Instruction).index)))
        return Sig(tuple(steps))

    def step(self, *, first: bool) -> Dosage:
        s = Slots()
        if self.low() in VERBS and not self.phrase():      # "swish and spit" is a phrase
            self._read(s, self._verb, self.t[self.i])
        elif not first and not self.peek():
            raise err("'then' must be followed by the next step")
        while (tok := self.peek()) is not None:
            if tok.low == "then" or self._next_step(s):
                break
            if s.reason_open or s.purpose_open:
                if not self._ends_reason():
                    self._read(s, self._reason_word, tok)
                    continue
                s.reason_open = s.purpose_open = False
            self._read(s, self._slot, tok)
        if not first and s.route is None and s.site is None and self.route is None:
            s.route = self._route_before    # "2 tabs po bid x 3 days then 1 tab bid x 3 days"
        dosage = build_step(s, self.context)
        self._route_before = dosage.route
        return dosage

    def _verb(self, s: Slots, tok: Token) -> None:
        s.verb = tok.low
        self.i += 1

    def _read(self, s: Slots, read: Callable[[Slots, Token], None], tok: Token) -> None:
        """Read the words at the cursor into `s`: every read of a step passes here, so
        rules/sig/explain.py notes what each read sets by overriding this."""
        read(s, tok)

    def _slot(self, s: Slots, tok: Token) -> None:
        low = tok.low
        if tok.kind == "punct":
            self.i += 1
            return
        if note := self._note():
            raise err(note_message(" ".join(t.text for t in self.t[self.i:self.i + note])))
        if low in ROUTE_CODES and self.low(1)[:1] == "/" and self.low(1)[1:] in ROUTE_CODES:
            raise err(f"'{tok.text}{self.peek(1).text}' gives two routes: write the one this "  # type: ignore[union-attr]
                      "product is given by")
        found = self.phrase()
        if found:
            length, slot, value = found
            self._last = self.t[self.i:self.i + length]
            self.i += length
            written = " ".join(t.text for t in self._last)      # messages name the phrase
            self._fill(s, slot, value, Token(written, written.lower(), "word"))
            return
        if self.at(("as", "directed")):     # UD in words: plain text may keep it beside the
            raise NotSig("'as directed' is not a direction (USP <17>): write the directions")
        if low in REJECT:
            raise err(f"'{tok.text}' is refused: {REJECT[low]}")
        if self._affected_organ():
            return
        if CLOCK.match(low):
            raise err(f"'{tok.text}' is refused: a clock-time code (ISMP error-prone); write "
                      "the time in words")
        if (low == "once" and self.low(1) == "every") or (
                low == "1" and self.low(1) == "time" and self.low(2) == "every"):
            self.i += 1 if low == "once" else 2         # "once every 6 hours": every 6 hours
            return
        if self._dose_count_ahead(s):            # "may repeat up to 3 doses", "q5min x3"
            self._dose_count(s)
            return
        if tok.kind == "number" and self.low(1).rstrip(".") in MINUTE_WORDS | HOUR_WORDS:
            raise NotSig(self._offset(tok))      # "30 min before breakfast"
        if low in ("a", "an") and self.low(1) in UNITS and s.dose is None and not s.timing:
            s.dose, s.dose_text = Decimal(1), tok.text      # "take a tablet": one tablet
            self.i += 1
            return
        if self._at_duration():
            self._duration(s)
            return
        if tok.kind == "number" and self.low(1) == "x" and (times := self._times(2)):
            self._set_timing(s, times, tok)
            return
        if read_measure(self, s, tok):  # measures.py: "0.5 mg", "1 tab (20 mg)", "2 clicks"
            return
        if tok.kind in ("number", "range") or low == "one-half":
            self._amount(s)
            return
        if low in SITE_CODES:
            self._site_code(s, tok)
            return
        if self._interval_ahead():              # q 8 h, q8 hrs, every 8 hr, q5min
            self._read_interval(s)
            return
        if HOURLY.match(low) or (low == "every" and self.peek(1) is not None
                                  and self.peek(1).kind in ("number", "range")):  # type: ignore[union-attr]
            start = self.i
            timing = self._hourly()
            written = " ".join(t.text for t in self.t[start:self.i])
            self._set_timing(s, timing, Token(written, written.lower(), "word"))
            return
        if low == "every" and self.low(1) == "hour":
            self.i += 2
            self._set_timing(s, Timing(Frequency.EVERY_HOURS, hours=1), tok)
            return
        if (low in ("q", "every", "on") and self.low(1) in WEEKDAYS) or low in WEEKDAYS:
            self._weekdays(s, tok)
            return
        if low in UNITS or low in PILL_WORDS:
            if s.unit is not None:
                raise NotSig(f"a second unit '{tok.text}'")
            s.unit = UNITS[low] if low in UNITS else self._pill(tok)
            self.i += 1
            return
        if low == "for" and (self._plain_word(1) or (
                self.low(1) in ROUTE_ADJECTIVES and self._plain_word(2))):
            if s.reason == [] and s.purpose is None:
                # "prn q6h for pain": the reason of a prn whose timing came between
                self.i += 1
                s.reason_open = True
                return
            if s.purpose is not None or s.reason is not None:
                raise NotSig(f"'for {self.peek(1).text}' after a reason already given")  # type: ignore[union-attr]
            self.i += 1
            s.purpose, s.purpose_open = [], True
            return
        for words in MAX_WORDS:
            if self.at(words):
                self.i += len(words)
                self._maximum(s, tok, daily=words in DAILY_MAX_WORDS)
                return
        if s.reason and (low in VERBS or low in REASON_STOPS):
            raise NotSig(f"'{tok.text}' after the as-needed reason '{' '.join(s.reason)}' is not "
                         "read: put instructions before 'prn' (for example '1 tab po q8h with "
                         "food prn nausea')")
        raise NotSig(self._unread(tok))

    def _refused_later(self) -> None:
        """When reading stops, a refused code or a pharmacy note at or after the stop (hs, IV,
        units, "refills 0" ...) is named instead: it is the problem to fix, whatever else was
        not read before it. The cursor moves to it, so --explain marks the words up to it."""
        for k in range(self.i, len(self.t)):
            low = self.t[k].low
            if "\\" in low:
                self.i = k + 1
                raise err(f"'{self.t[k].text}' holds a backslash (a line break written out as "
                          "'\\n'?): fix the text")
            if low == "as" and k + 1 < len(self.t) and self.t[k + 1].low == "directed":
                self.i = k + 2
                raise NotSig("'as directed' is not a direction (USP <17>): write the directions")
            if low in REJECT and not (low == "in" or low in SITE_CODES):
                self.i = k + 1
                raise err(f"'{self.t[k].text}' is refused: {REJECT[low]}")
            if note := pharmacy_note(self.lows, k):
                self.i = k + note
                raise err(note_message(" ".join(t.text for t in self.t[k:k + note])))

    def _unread(self, tok: Token) -> str:
        """Why `tok` stops the reading: an unknown abbreviation, or English words the grammar
        does not read here (shown up to the first word that is not a short English word)."""
        for ahead in self.t[self.i:self.i + 3]:
            if ahead.kind == "word" and (pair := run_together(ahead.low)):
                return f"'{ahead.text}' runs '{pair[0]}' and '{pair[1]}' together"
        if not (tok.low.isalpha() and (tok.low in SHORT_WORDS or len(tok.low) > 3)):
            return f"unknown abbreviation '{tok.text}'"
        shown = [tok]               # up to three words, to a word the grammar reads
        for nxt in self.t[self.i + 1:self.i + 5]:
            if len(shown) == 3:
                break
            if nxt.kind == "punct" and nxt.low in "()[]":
                continue                # "of (Bendaryl)": the word inside the brackets
            if (nxt.kind != "word" or nxt.low in PHRASES_BY_FIRST_WORD or nxt.low in UNITS
                    or nxt.low in VERBS):
                break
            shown.append(nxt)
        return f"'{' '.join(t.text for t in shown)}' is not read"

    def _fill(self, s: Slots, slot: str, value: object, tok: Token) -> None:
        if slot == "route":
            assert isinstance(value, Route)
            route = Route.INHALATION if value is Route.ORAL and s.verb == "inhale" else value
            if s.route is route and not s.site:
                return                  # "po by mouth": a code followed by its own English
            if s.route is not None and not (s.site and SITE_ROUTE[s.site] is route):
                raise err(f"a second route '{tok.text}'")
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
            self._time_of_day(s, value, tok)
        elif slot == "meal":
            if s.meal:
                raise err(f"a second meal instruction '{tok.text}'")
            assert isinstance(value, Meal)
            s.meal = value
            s.meal_text, s.meal_glued = tok.text, self._last[0].word    # for messages
        elif slot == "instruction":
            assert isinstance(value, Instruction)
            if value in s.instructions:
                raise err(f"'{tok.text}' repeats an instruction")
            s.instructions.append(value)
        elif slot == "amount":
            if s.dose is not None or s.thin_layer or s.small_amount:
                raise NotSig(f"a second amount '{tok.text}'")
            s.thin_layer = value == "thin-layer"
            s.small_amount = value == "small-amount"
            s.application = value == "application"
            if value == "application" and (self.route or s.route) is not Route.TOPICAL:
                raise err(f"'{tok.text}' is for a product applied to the skin")
        elif slot == "method":
            assert isinstance(value, Method)
            if s.method is not None and s.method is not value:
                raise err(f"'{tok.text}' conflicts with '{s.method.value.replace('-', ' ')}'")
            s.method = value
        elif slot == "prn":
            if s.reason is not None:
                raise err("'as needed' twice")
            s.reason, s.reason_open, s.reason_text = [], True, tok.text
        elif slot in ("each", "filler"):
            pass                        # "Take each dose with food.": the qualifiers follow

    # -- amounts --
    def _value(self) -> tuple[Decimal, Decimal | None]:
        """A dose at the cursor: N, N-M, N to M, N 1/2, one-half, N and one-half."""
        tok = self.peek()
        assert tok is not None
        if tok.kind == "range":
            m = RANGE.match(tok.low)
            assert m is not None
            self.i += 1
            low, high = number(m.group(1)), number(m.group(2))
            if high <= low:
                raise err(f"dose range '{tok.text}' must go from low to high")
            return low, high
        low = self._single()
        if self.low() in ("to", "or") and self.peek(1) is not None and (
                self.peek(1).kind == "number" or self.low(1) == "one-half"):  # type: ignore[union-attr]
            self.i += 1
            high = self._single()
            if high <= low:
                raise err(f"dose range '{amount_text(low)} to {amount_text(high)}' must go "
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
            if nxt.low == "and" and self.low(1) == "a" and self.low(2) == "half":
                self.i += 3
                return value + Decimal("0.5")
        return value

    def _amount(self, s: Slots) -> None:
        tok = self.peek()
        assert tok is not None
        if s.periods and s.dose is not None:
            # a dose repeated before the next period: "2 tablets in the evening"
            low, high = self._value()
            if self.low() in UNITS:
                if UNITS[self.low()] is not (s.unit or self.unit):
                    raise NotSig(f"'{self.peek().text}' differs from the dose's unit")  # type: ignore[union-attr]
                self.i += 1
            self._same_route(s)                 # "and 1 cap po qpm": the step's route again
            if (low, high) != (s.dose, s.dose_max) and (high or s.dose_max) is not None:
                raise NotSig("a dose range with different doses at different times of day: write "
                              "them out in words for a pharmacist to approve as written "
                              "(directions_verbatim)")
            found = self.phrase()
            if not found or found[1] != "period":
                written = " ".join(t.text for t in self.t[self.t.index(tok):self.i])
                raise NotSig(f"a repeated dose '{written}' must be followed by a time of day")
            s.next_dose = low               # that time's dose ("1 tab qam and 2 tabs qhs")
            return
        if s.dose is not None or s.thin_layer or s.timing or s.periods or s.days:
            # (a refused word just after, "5ml 3 hrly", is named instead: _refused_later)
            if s.timing or s.periods or s.days:
                raise NotSig(f"unexpected number '{tok.text}' after a whole step: each step of a "
                             "taper needs its duration ('for 3 days') before the next")
            raise NotSig(f"unexpected number '{tok.text}'")
        start = self.i
        s.dose, s.dose_max = self._value()
        s.dose_text = " ".join(t.text for t in self.t[start:self.i])
        if s.dose <= 0:
            raise err(f"dose '{tok.text}' must be greater than 0")

    # -- sites, timing --
    def _site_code(self, s: Slots, tok: Token) -> None:
        site = SITE_CODES[tok.low]
        wanted = SITE_ROUTE[site]
        if self.route is not wanted:
            kind = "an eye" if wanted is Route.OPHTHALMIC else "an ear"
            also = " or 'once daily'" if tok.low == "od" else ""
            raise err(f"'{tok.text}' is refused: it is {kind} code{also}, and only an "
                      f"{wanted.value} product may use it (ISMP error-prone)")
        self.i += 1
        self._set_site(s, site, tok)

    def _set_site(self, s: Slots, site: Site, tok: Token) -> None:
        if s.site is not None or (s.route is not None and s.route is not SITE_ROUTE[site]):
            raise err(f"a second route '{tok.text}'")
        s.site, s.route, s.route_text = site, SITE_ROUTE[site], tok.text

    def _set_timing(self, s: Slots, timing: Timing, tok: Token) -> None:
        if s.timing == timing:
            return                      # a code and its own English: "bid twice daily"
        if s.timing or s.periods or s.days:
            if (timing.frequency is Frequency.TIMES_WEEKLY and s.days
                    and timing.count == len(s.days) and not s.timing):
                s.timing = timing       # "Mon Wed Fri tiw": the count agrees with the days
                return
            raise err(f"a second frequency '{tok.text}'")
        s.timing = timing

    def _period(self, s: Slots, period: Period, tok: Token) -> None:
        once = s.timing is not None and s.timing == daily(1) and not s.periods
        if (s.timing and not once) or (s.once_daily and s.periods):
            raise err(f"'{tok.text}' conflicts with the frequency already given")
        if s.days:
            raise err(f"'{tok.text}': a time of day with named days is not in the grammar yet")
        if once:
            s.timing = None             # "once daily in the morning" is "in the morning"
            s.once_daily = True
        if period in s.periods:
            raise err(f"'{tok.text}' repeats a time of day")
        words = len(self._last)
        start = self.i - words
        if (s.periods and words > 1 and self._code_period_ends == start
                and s.periods[-1] is not period):
            # "qam every evening": a code, then words for another time. Read as a code and its
            # own English gone wrong, never as two times of day.
            raise err(f"'{tok.text}' right after '{self.t[start - 1].text}' names another time "
                      "of day: write both times the same way ('qam qpm')")
        s.periods.append(period)
        self._code_period_ends = self.i if words == 1 else -1
        while self.low() in (",", "and"):
            self.i += 1

    def _hourly(self) -> Timing:
        tok = self.peek()
        assert tok is not None
        if m := HOURLY.match(tok.low):
            self.i += 1
            low, high, text = int(m.group(1)), int(m.group(2) or 0), tok.text
        else:                                           # every 4 hours, every 4 to 6 hours
            self.i += 1
            first = self.peek()
            assert first is not None
            lo_d, hi_d = self._value()
            if self.low() in DAY_OR_WEEK_WORDS:
                return self._every_days(first, lo_d, hi_d)
            if self.low() not in ("hours", "hour"):
                raise NotSig(f"'every {first.text}' must be followed by 'hours'")
            self.i += 1
            if lo_d != lo_d.to_integral_value() or (hi_d is not None and hi_d != hi_d.to_integral_value()):
                raise err(f"'every {first.text} hours' is not a whole number of hours")
            low, high = int(lo_d), int(hi_d or 0)
            text = f"every {first.text} hours"
        if not 1 <= low <= 72 or (high and not low < high <= 72):
            raise err(f"'{text}' is not a usable interval")
        return Timing(Frequency.EVERY_HOURS, hours=low, hours_max=high)

    def _every_days(self, first: Token, low: Decimal, high: Decimal | None) -> Timing:
        """"every 3 days", "every 2 weeks": a whole number, no range; one day is daily, two
        every other day, a whole number of weeks is weeks (one structure, one sentence)."""
        unit = self.peek()
        assert unit is not None
        self.i += 1
        text = f"every {first.text} {unit.text}"
        if high is not None or low != low.to_integral_value() or low < 1:
            raise err(f"'{text}' is not a usable interval: write one whole number")
        days = int(low) * (7 if DAY_OR_WEEK_WORDS[unit.low] == "weeks" else 1)
        if days > MAX_DURATION_DAYS:
            raise err(f"'{text}' is not a usable interval")
        if days == 1:
            return daily(1)
        if days == 2:
            return Timing(Frequency.EVERY_OTHER_DAY)
        if days == 7:
            return weekly(1)
        if days % 7 == 0:
            return Timing(Frequency.EVERY_WEEKS, count=days // 7)
        return Timing(Frequency.EVERY_DAYS, count=days)

    def _weekdays(self, s: Slots, tok: Token) -> None:
        if self.low() == "on" and not self.low(1).endswith("s"):
            raise NotSig(f"'on {self.peek(1).text}' may mean one day only: write 'every "  # type: ignore[union-attr]
                         f"{self.peek(1).text}' or 'q {self.peek(1).text}'")  # type: ignore[union-attr]
        if self.low() in ("q", "every", "on"):
            self.i += 1
        days: list[Weekday] = []
        while True:
            j = 0
            while days and self.low(j) in (",", "and"):
                j += 1
            if self.low(j) not in WEEKDAYS:
                break
            self.i += j
            day = WEEKDAYS[self.low()]
            if day in days:
                raise err(f"'{self.peek().text}' names a day twice")  # type: ignore[union-attr]
            days.append(day)
            self.i += 1
        if s.timing and s.timing.frequency is Frequency.TIMES_WEEKLY and s.timing.count != len(days):
            raise err(f"the {len(days)} days named do not match the {s.timing.count} times a week "
                      "already given")
        if s.periods or (s.timing and s.timing.frequency is not Frequency.TIMES_WEEKLY):
            raise err(f"'{tok.text}' conflicts with the frequency already given")
        if s.days:
            raise err(f"'{tok.text}': the days are already given")
        s.days = days
        if s.timing:
            s.timing = None             # "tiw Mon Wed Fri": the days say it all

    # -- times of day, intervals and dose counts (issue 12, timing) --
    _time_end = -1                      # where the last time of day read ended

    def _time_of_day(self, s: Slots, period: Period, tok: Token) -> None:
        """A time of day (a UMS period or a named meal) and the meals named after it with the
        same word: "with breakfast and dinner", "before breakfast, lunch, and dinner"."""
        self._one_time(s, period, tok, self.i - len(self._last))
        relation = MEAL_RELATION.get(period)
        while (relation is not None and self.t[self.i - 1].low in (",", "and")
               and self.low() in MEAL_NOUNS):
            noun = self.peek()
            assert noun is not None
            self.i += 1
            self._one_time(s, MEAL_PERIODS[(relation, MEAL_NOUNS[noun.low])], noun, self.i - 1)

    def _one_time(self, s: Slots, period: Period, tok: Token, start: int) -> None:
        end = self.i
        if s.periods and start == self._time_end and s.next_dose is None:
            if s.periods[-1] is period:
                # a code followed by its own English ("qam every morning"): read once
                self._time_end = end
                while self.low() in (",", "and"):
                    self.i += 1
                return
            if MEAL_PART.get(period) is s.periods[-1]:
                # "qam before breakfast": the morning's dose, before breakfast
                s.periods[-1] = period
                s.period_words[-1] += f" {tok.text}"
                self._time_end = end
                while self.low() in (",", "and"):
                    self.i += 1
                return
            if (period in MEAL_PART) != (s.periods[-1] in MEAL_PART):
                # "qhs after dinner": the bedtime dose, after dinner, or two doses?
                raise err(f"'{tok.text}' right after '{s.period_words[-1]}' may be one dose or "
                          "two: write 'and' between two times of day")
        both = clash([*s.periods, period])
        if both:
            other = next(p for p in both if p is not period)
            raise err(f"'{tok.text}' and '{s.period_words[s.periods.index(other)]}' may be one "
                      f"dose or two: name one time of day for each dose")
        for other, word in zip(s.periods, s.period_words, strict=True):
            if other is not period and MEAL_NAME.get(other, "") == MEAL_NAME.get(period):
                # "before breakfast after breakfast": one meal, two times
                raise err(f"'{tok.text}' and '{word}' name one meal twice: one dose or two?")
        self._period(s, period, tok)
        s.period_words.append(tok.text)
        s.period_doses.append(s.next_dose)
        s.next_dose = None
        self._time_end = end

    def _interval_ahead(self) -> bool:
        """An interval written apart, with hr/hrs, or in minutes: q 8 h, q 8h, q8 hrs, q 8 hours,
        every 8 hrs, q8hr (HOURLY), q5min, q 5 min, every 5 minutes."""
        low, nxt = self.low(), self.peek(1)
        if MINUTELY.match(low) or (low == "every" and self.low(1) == "minute"):
            return True
        if Q_NUMBER.match(low):
            return self.low(1) in HOUR_WORDS | MINUTE_WORDS
        if nxt is None or low not in ("q", "every"):
            return False
        if GLUED_INTERVAL.match(nxt.low):
            return True
        j = 4 if self.low(2) == "to" else 2          # the unit of "every 4 to 6 hrs"
        if low == "q":                  # "q 8" with no unit is refused naming it (_interval)
            return nxt.kind in ("number", "range")
        units = (HOUR_WORDS - {"hour", "hours"}) | MINUTE_WORDS
        return nxt.kind in ("number", "range") and self.low(j) in units

    def _same_route(self, s: Slots) -> None:
        found = self.phrase()
        if found is not None and found[1] == "route" and found[2] is s.route:
            self.i += found[0]

    def _offset(self, tok: Token) -> str:
        """Why "30 min before breakfast" is not read: a time before or after a meal."""
        written = f"{tok.text} {self.peek(1).text}"       # type: ignore[union-attr]
        return f"'{written}' before or after a meal or a dose is not read"

    def _read_interval(self, s: Slots) -> None:
        start = self.i
        timing = self._interval(s)
        written = " ".join(t.text for t in self.t[start:self.i])     # messages name it
        self._set_timing(s, timing, Token(written, written.lower(), "word"))

    def _interval(self, s: Slots) -> Timing:
        start = self.i
        tok = self.peek()
        assert tok is not None
        if m := MINUTELY.match(tok.low):
            self.i += 1
            low, high, minutes = m.group(1), None, True
        elif self.low(1) == "minute":                  # "every minute", as printed
            self.i += 2
            low, high, minutes = "1", None, True
        elif m := Q_NUMBER.match(tok.low):
            self.i += 2
            low, high, minutes = m.group(1), m.group(2), self.low(-1) in MINUTE_WORDS
        elif m := GLUED_INTERVAL.match(self.low(1)):
            self.i += 2
            low, high, minutes = m.group(1), m.group(2), m.group(3).startswith("min")
        else:
            self.i += 1
            first = self.peek()
            assert first is not None
            lo_d, hi_d = self._value()
            if self.low() not in HOUR_WORDS | MINUTE_WORDS:
                raise NotSig(f"'{tok.text} {first.text}' must be followed by hours or minutes")
            minutes = self.low() in MINUTE_WORDS
            self.i += 1
            if lo_d != lo_d.to_integral_value() or (hi_d is not None
                                                     and hi_d != hi_d.to_integral_value()):
                written = " ".join(t.text for t in self.t[start:self.i])
                raise err(f"'{written}' is not a whole number of "
                          f"{'minutes' if minutes else 'hours'}")
            low, high = str(int(lo_d)), (str(int(hi_d)) if hi_d is not None else None)
        written = " ".join(t.text for t in self.t[start:self.i])
        if not minutes:
            hours, hours_max = int(low), int(high or 0)
            if not 1 <= hours <= 72 or (hours_max and not hours < hours_max <= 72):
                raise err(f"'{written}' is not a usable interval")
            return Timing(Frequency.EVERY_HOURS, hours=hours, hours_max=hours_max)
        if high is not None:
            raise err(f"'{written}': a minute interval is one number of minutes")
        if not 1 <= int(low) <= MAX_MINUTES:
            raise err(f"'{written}' is not a usable interval: write an hour or more in hours")
        s.interval_text = written
        return Timing(Frequency.EVERY_MINUTES, minutes=int(low))

    def _dose_count_ahead(self, s: Slots) -> bool:
        if self.at(("up", "to")) or self.at(("may", "repeat")):
            return True
        # after a minute interval, "x3" and "max 3 doses" count its doses (nitroglycerin)
        minutes = s.timing is not None and s.timing.frequency is Frequency.EVERY_MINUTES
        nxt = self.peek(1)
        return minutes and nxt is not None and nxt.kind == "number" and (
            (self.low() == "x" and self.low(2) not in DURATION_UNITS)   # not "x 7 days"
            or (self.low() in ("max", "maximum") and self.low(2) in ("dose", "doses")))

    def _dose_count(self, s: Slots) -> None:
        """The most doses of a minute interval: "up to 3 doses", "may repeat up to 3 doses", and
        right after it "x3", "x 3 doses", "max 3 doses"."""
        start = self.i
        if self.low() in ("x", "max", "maximum"):
            count = self.peek(1)
            self.i += 2
        else:
            if self.at(("may", "repeat")):
                self.i += 2
            count = self.peek(2)
            if (not self.at(("up", "to")) or count is None or not count.text.isdigit()
                    or self.low(3) not in ("dose", "doses")):
                written = " ".join(t.text for t in self.t[start:self.i + 4])
                raise NotSig(f"'{written}' must say the most doses: 'up to 3 doses'")
            self.i += 3
        if self.low() in ("dose", "doses"):
            self.i += 1
        assert count is not None
        if not count.text.isdigit():
            written = " ".join(t.text for t in self.t[start:self.i])
            raise err(f"'{written}': a dose count is a whole number of doses")
        written = " ".join(t.text for t in self.t[start:self.i])
        if s.dose_count is not None:
            raise err(f"'{written}': a second dose count")
        if int(count.text) not in DOSE_COUNTS:
            raise err(f"'{written}' is not a usable count (2 to {DOSE_COUNTS[-1]} doses)")
        s.dose_count, s.dose_count_text = int(count.text), written

    # -- as needed, duration, maximum --
    def _ends_reason(self) -> bool:
        """The reason ends at punctuation, 'then', a duration, a maximum, or any phrase of the
        grammar (a frequency, time of day, meal or instruction is parsed, never taken as
        words of the reason)."""
        low = self.low()
        if low in (".", ";", ",", "(", ")", "then") or HOURLY.match(low) or self._at_duration():
            return True
        if low in VERBS or low in REASON_STOPS:   # "prn nausea take with food": not the reason
            return True
        if self._note() or self.at(("as", "directed")):
            return True
        if (found := self.phrase()) is not None:
            # "prn vaginal dryness": a route adjective before a plain word describes the reason
            return not (found[0] == 1 and low in ROUTE_ADJECTIVES and self._plain_word(1))

        return any(self.at(words) for words in MAX_WORDS)

    def _plain_word(self, k: int) -> bool:
        """The token k ahead is a word of no phrase of the grammar."""
        tok = self.peek(k)
        if tok is None or tok.kind != "word":
            return False
        self.i += k
        try:
            return self.phrase() is None and not self._note() and not self._at_duration()
        finally:
            self.i -= k

    def _affected_organ(self) -> bool:
        """"into the affected eye": which eye (or ear) is for the prescriber to say."""
        j = 1 if self.low() in ("in", "into", "to") else 0
        j += 1 if self.low(j) == "the" else 0
        if self.low(j) == "affected" and self.low(j + 1).rstrip("(s)") in ("eye", "eyes", "ear",
                                                                          "ears"):
            organ = self.low(j + 1)[:3]
            words = " ".join(t.text for t in self.t[self.i:self.i + j + 2])
            raise err(f"'{words}': which {organ}? write the right {organ}, the left {organ} or "
                      f"each {organ}")
        return False

    def _times(self, k: int) -> Timing | None:
        """"2x/week", "3x daily", "2x a day": N times a period, the period k tokens ahead."""
        count = self.peek()
        assert count is not None
        for words, in_a_week in TIMES_PERIODS:
            if all(self.low(k + j) == w for j, w in enumerate(words)):
                n = int(number(count.low))
                if n != number(count.low) or not 1 <= n <= (3 if in_a_week else 4):
                    raise err(f"'{count.text} x {' '.join(words)}' is not a schedule read here")
                self.i += k + len(words)
                return Timing(Frequency.TIMES_WEEKLY if in_a_week else Frequency.TIMES_DAILY,
                              count=n)
        return None

    def _pill(self, tok: Token) -> DoseUnit:
        """"pill" is the product's tablet or capsule; anything else it would be a guess."""
        if self.unit in (DoseUnit.TABLET, DoseUnit.CAPSULE):
            return self.unit
        raise err(f"'{tok.text}' may be a tablet or a capsule: write which"
                  + (f" (this product is dosed in {self.unit.value})" if self.unit else ""))

    def _note(self) -> int:
        return pharmacy_note(self.lows, self.i) if self.i < len(self.t) else 0

    def _next_step(self, s: Slots) -> bool:
        """A taper written without 'then' ("2 tabs bid x 3 days 1 tab bid x 3 days"): once a
        step has its duration, a new dose or verb starts the next step."""
        if s.duration is None or (s.reason_open and not self._ends_reason()):
            return False
        j = 0
        while self.low(j) in (",", ";", "."):
            j += 1
        nxt, after = self.peek(j), self.peek(j + 1)
        dose = ("number", "range")
        if nxt is None or not (nxt.kind in dose or (nxt.low in VERBS and after is not None
                                                    and after.kind in dose)):
            return False
        self.i += j
        found = self.phrase()
        if found is not None and found[1] == "each":     # "Take each dose ...": this step's
            self.i -= j
            return False
        return True

    def _reason_word(self, s: Slots, tok: Token) -> None:
        words = s.reason if s.reason_open else s.purpose
        assert words is not None
        low = tok.low
        self.i += 1
        if not words and low == "for" and s.reason_open:
            return
        if not words and low in REASON_CANNOT_BEGIN:
            raise NotSig(f"'{tok.text}' cannot begin the "
                         f"{'as-needed reason' if s.reason_open else 'purpose'}: write what it "
                         "is for ('prn pain')")
        if words and low.startswith("/"):     # "pain/fever": a slash between reasons is "or"
            words.append("or")
            low = low[1:]
            if not low:
                return
        which = "as-needed reason" if s.reason_open else "purpose"
        if (low not in REASON_CODES and (low in TIME_WORDS or low in WEEKDAYS or low in UNITS
                                         or low in REJECT or is_code(low))):
            said = f" '{' '.join(words)}'" if words else ""
            raise NotSig(f"'{tok.text}' in the {which}{said}: a code or a word of "
                         f"time is not part of it; write the {which.removeprefix('as-needed ')} "
                         "in plain words, and times and codes before 'prn'")
        word = REASON_CODES.get(low, low)
        short = len(low) <= 3 and low not in SHORT_WORDS
        if low not in REASON_CODES and (not low.replace("-", "").isalpha() or short
                                        or low in ACRONYMS):
            if tok.kind in ("number", "range") and words:   # "for fever to a maximim of 3"
                raise NotSig(f"'{' '.join(words)} {tok.text}': a number in the {which} is not "
                             f"read; write the {which.removeprefix('as-needed ')} in plain words")
            raise NotSig(f"unknown abbreviation '{tok.text}' in the {which}: write the "
                         f"{which.removeprefix('as-needed ')} in plain words")
        words.append(word)

    def _duration(self, s: Slots) -> None:
        """x7d, x 7 d, x30days, for 2 weeks, 90 days, for 1 month."""
        start = self.peek()
        assert start is not None
        if s.duration is not None:
            raise err("a second duration")
        if start.low in ("x", "for"):
            self.i += 1
        tok = self.peek()
        assert tok is not None
        if m := DURATION.match(tok.low) or SHORT_DURATION.match(tok.low):
            value, word = int(m.group(1)), m.group(2)
            self.i += 1
        else:
            written = f"{start.text} {tok.text}" if start is not tok else tok.text
            if not tok.low.isdigit():
                raise err(f"'{written}': a duration is a whole number of days")
            value = int(tok.low)
            self.i += 1
            word = self.low()
            if word not in DURATION_UNITS:
                raise NotSig(f"'{written}' must say days, weeks or months ('x 7 d', "
                             "'for 2 weeks')")
            self.i += 1
        if value < 1:
            raise err("a duration must be at least 1 day")
        s.duration = Duration(value, DURATION_UNITS[word])

    def _at_duration(self) -> bool:
        """A duration starts here: x7d, 30days, "x 7 d", "for 2 weeks", "90 days"."""
        low, nxt = self.low(), self.peek(1)
        if DURATION.match(low) or SHORT_DURATION.match(low):
            return True
        if low in ("x", "for") and nxt is not None:
            return nxt.kind == "number" or bool(SHORT_DURATION.match(nxt.low))
        tok = self.peek()
        return tok is not None and tok.kind == "number" and self.low(1) in DURATION_UNITS

    def _maximum(self, s: Slots, tok: Token, *, daily: bool) -> None:
        if s.max_per_day is not None:
            raise err("a second maximum")
        nxt = self.peek()
        if nxt is None or (nxt.kind != "number" and nxt.low != "one-half"):
            raise NotSig(f"'{tok.text}' must be followed by the most to use in 24 hours")
        value = self._single()
        refuse_mass_maximum(self, tok, nxt)
        if self.low() in UNITS:
            s_unit = UNITS[self.low()]
            if s.unit is not None and s_unit is not s.unit:
                raise err(f"the maximum is in {s_unit.value} but the dose in {s.unit.value}")
            s.unit = s.unit or s_unit
            self.i += 1
        for words in PER_DAY:
            if self.at(words):
                self.i += len(words)
                break
        else:
            if not daily:
                raise err(f"'{tok.text} {nxt.text}' must say over what time: 'per day' or 'in 24 "
                          "hours'")
        s.max_per_day = value

