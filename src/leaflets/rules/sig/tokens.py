"""Tokens: a sig split into words, numbers, ranges and punctuation, and the dose numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ..abbreviations import find_banned
from .model import err


@dataclass(frozen=True)
class Token:
    text: str           # as written
    low: str            # lower case, for matching
    kind: str           # number, range, word, punct


_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|\d*½|\d+/\d+)"   # 1,000 as printed
NUMBER = re.compile(rf"^{_NUM}$")
RANGE = re.compile(rf"^({_NUM})-({_NUM})$")


_SLASHED = {"d/c", "n/v"}


def _token(raw: str) -> Token:
    kind = "number" if NUMBER.match(raw) else "range" if RANGE.match(raw) else "word"
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
        if slash and head and rate and not (NUMBER.match(raw) or RANGE.match(raw)
                                            or raw.lower() in _SLASHED):
            tokens.append(_token(head))
            raw = slash + rate
        tokens.append(_token(raw))
        tokens.extend(tail)
    return tokens


# ---- numbers -----------------------------------------------------------------------------------


def number(text: str) -> Decimal:
    """One dose number as written: 1, 0.5, 1/2, ½, 1½. Error-prone forms are refused."""
    for hit in find_banned(text):
        raise err(f"{hit} (in '{text}')")
    if "/" in text:
        top, bottom = text.split("/")
        if bottom != "2" or top != "1":
            raise err(f"'{text}': only halves are accepted as fractions; other part doses need "
                       "a pharmacist's wording")
        return Decimal("0.5")
    if text.endswith("½"):
        return Decimal(text[:-1] or 0) + Decimal("0.5")
    return Decimal(text.replace(",", ""))
