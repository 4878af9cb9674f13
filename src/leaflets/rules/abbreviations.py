"""Find error-prone abbreviations, Latin sig codes and dose designations in text to be printed.

Source: shared/reference/error-prone-abbreviations.md (ISMP 2021/2024, TJC "Do Not Use") and
shared/reference/sig-codes.md §4–5. No form listed there may appear on any document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext

# Matched whatever their case: no English word collides with these.
_ANY_CASE = {
    # TJC / ISMP frequencies (error-prone-abbreviations.md §2–3)
    "qd", "q.d.", "q1d", "qod", "q.o.d.", "qhs", "qn", "hs", "h.s.", "tiw", "biw", "o.d.",
    # Latin sig codes never printed (sig-codes.md §1: no sig code is printed on a label)
    "bid", "b.i.d.", "tid", "t.i.d.", "qid", "q.i.d.", "prn", "p.r.n.", "p.o.", "qam", "qpm",
    "gtt", "gtts", "u.d.", "ud", "o.s.", "o.u.", "a.d.", "a.s.", "a.u.", "ou", "au", "od",
    # ISMP units and routes
    "cc", "µg", "μg", "ug", "sq", "subq", "s.c.", "s.q.", "d/c", "ss", "ssi", "i.u.",
    # ISMP drug-name abbreviations (§6)
    "apap", "hctz", "mso4", "mgso4", "mtx", "ptu", "azt", "cpz", "dto", "ara-a", "noac",
}
# Matched only as written: the lower-case form is an English word or a correct form elsewhere.
_EXACT = {
    "U", "IU", "OD", "OS", "OU", "AD", "AS", "AU", "SC", "SQ", "IN", "IJ", "OJ", "BT", "HS",
    "UD", "MS", "HCT", "HCl", "PCA", "TAC", "T3", "PO", "po", "pr", "pv", "sl", "inh", "ac", "pc",
}
_PATTERNS = [
    (re.compile(r"^q\d+(-\d+)?h$", re.I), "an hourly sig code"),
    (re.compile(r"^q\d+(am|pm)$", re.I), "a clock-time sig code (ISMP: write 'daily at 6 PM')"),
    (re.compile(r"^x\d+d$", re.I), "ISMP error-prone ('x3d' is read as '3 doses')"),
    (re.compile(r"^[ʒ♏ΦØ∅]$"), "an ISMP error-prone symbol"),
]
# §4 dose designations: a trailing zero ("1.0") or a naked decimal (".5").
_TRAILING_ZERO = re.compile(r"(?<![\d.])\d+\.0+(?![\d.])")
_NAKED_DECIMAL = re.compile(r"(?<![\w.])\.\d")
# §5 symbols, checked in directions: in clinical prose "<20 pg/mL" is a lab value, not an order.
_SYMBOLS = {"<": "less than", ">": "more than", "@": "at", "&": "and", "+": "and", "°": "hour",
            "/": "per, or 'and' between doses"}

PUNCTUATION = "()[]{},;:!?\"'“”‘’"     # stripped from a word before it is matched


@dataclass(frozen=True)
class Hit:
    token: str
    why: str

    def __str__(self) -> str:
        return f"'{self.token}' is {self.why}"


def _token_hit(token: str) -> str | None:
    bare = token.strip(PUNCTUATION)
    for candidate in {bare, bare.rstrip(".")}:
        if not candidate:
            continue
        if candidate.lower() in _ANY_CASE or candidate in _EXACT:
            return "an error-prone abbreviation or sig code (ISMP/TJC): write it in full words"
        for pattern, why in _PATTERNS:
            if pattern.match(candidate):
                return why
    return None


def find_banned(text: str, *, symbols: bool = False) -> list[Hit]:
    """Every banned token in `text`, in order. `symbols` also checks ISMP's error-prone symbols."""
    hits: list[Hit] = []
    for token in text.split():
        why = _token_hit(token)
        if why:
            hits.append(Hit(token.strip(PUNCTUATION), why))
    for m in _TRAILING_ZERO.finditer(text):
        hits.append(Hit(m.group(), "a trailing zero (ISMP/TJC): write it without '.0'"))
    for m in _NAKED_DECIMAL.finditer(text):
        hits.append(Hit(m.group(), "a decimal without a leading zero (ISMP/TJC): write '0" +
                        m.group() + "'"))
    if symbols:
        for sym, words in _SYMBOLS.items():
            if sym in text:
                hits.append(Hit(sym, f"an error-prone symbol (ISMP): write '{words}'"))
    return hits


def format_number(value: Decimal | int, thousands: str = ",") -> str:
    """A number as ISMP wants it printed (§4, NORMALISE): no trailing zero, a leading zero, and
    `thousands` between groups of three digits (a comma from 1,000 in English)."""
    d = Decimal(value)
    shape = d.as_tuple()
    shift = abs(shape.exponent) if isinstance(shape.exponent, int) else 0
    with localcontext() as ctx:     # every digit, however long: 28 would round it, or fail
        ctx.prec = max(ctx.prec, len(shape.digits) + shift + 1)
        d = d.normalize()
        if d == d.to_integral_value():
            d = d.quantize(Decimal(1))
    return f"{d:,f}".replace(",", thousands)


# Number and unit run together ("1mg"): NORMALISE to "1 mg" (§4, "10mg" → "10 mg").
_RUN_TOGETHER = re.compile(r"(?<![\w./-])(\d+(?:\.\d+)?)(mg|mcg|g|kg|mL|L|units?)\b")


def normalise_units(text: str) -> str:
    return _RUN_TOGETHER.sub(r"\1 \2", text)
