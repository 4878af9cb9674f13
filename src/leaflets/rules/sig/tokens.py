"""Tokens: a sig split into words, numbers, ranges and punctuation, and the dose numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

from ..abbreviations import find_banned
from .model import err


@dataclass(frozen=True)
class Token:
    text: str           # as written
    low: str            # lower case, for matching
    kind: str           # number, range, word, punct
    word: str = ""      # the word it was cut from, when codes ran together ("poac")


_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|\d*½|\d+/\d+)"   # 1,000 as printed
NUMBER = re.compile(rf"^{_NUM}$")
RANGE = re.compile(rf"^({_NUM})-({_NUM})$")


_SLASHED = {"d/c", "n/v", "h/a"}
_PUNCT = {",", ".", ";", "(", ")", "[", "]", "-", "--", "–", "—", ":"}
# Numbers written as words read as numerals ("one (1) tablet"); "one half" is "one-half".
NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                "seven": "7", "eight": "8", "nine": "9", "ten": "10", "twelve": "12",
                "fourteen": "14", "fifteen": "15", "twenty": "20", "thirty": "30"}
_TENS = {"twenty", "thirty"}


def _token(raw: str) -> Token:
    low = raw.lower()
    if raw in _PUNCT:
        return Token(raw, raw, "punct")
    if low in NUMBER_WORDS:
        return Token(raw, NUMBER_WORDS[low], "number")
    kind = "number" if NUMBER.match(raw) else "range" if RANGE.match(raw) else "word"
    return Token(raw, low, kind)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for raw in text.split():
        lead: list[Token] = []
        while len(raw) > 1 and raw[0] in "([":       # brackets are punctuation: "(1)", "(20 mg)"
            lead.append(Token(raw[0], raw[0], "punct"))
            raw = raw[1:]
        tail: list[Token] = []
        # a comma, bracket or a sentence's full stop after a word; "q.d." and "b.i.d." keep
        # their dots
        while len(raw) > 1 and not raw.lower().endswith("(s)") and (raw[-1] in ",;:)]" or (
                raw[-1] == "." and ("." not in raw[:-1] or raw[-2] in ")]"))):
            tail.insert(0, Token(raw[-1], raw[-1], "punct"))
            raw = raw[:-1]
        tokens.extend(lead)
        # "tabs/24h", "4/day": the rate after the slash is a token of its own
        head, slash, rate = raw.partition("/")
        if slash and head and rate and not (NUMBER.match(raw) or RANGE.match(raw)
                                            or raw.lower() in _SLASHED):
            tokens.extend(_unglued(head))
            raw = slash + rate
        tokens.extend(_unglued(raw))
        tokens.extend(tail)
    return _one_half(_without_repeated_numerals(tokens))


def _unglued(raw: str) -> list[Token]:
    """The tokens of one word: its pieces when it is fields run together ("qd30days")."""
    pieces = glued(raw.lower())
    if not pieces:
        return [_token(raw)]
    tokens, start = [], 0
    for piece in pieces:
        tokens.append(replace(_token(raw[start:start + len(piece)]), word=raw))
        start += len(piece)
    return tokens


def _without_repeated_numerals(tokens: list[Token]) -> list[Token]:
    """"one (1) tablet", "1 (one) tab": a number repeated in brackets is read once; a repeat
    that differs ("two (3)") is refused, since either could be the slip."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if (out and out[-1].kind == "number" and tok.low == "(" and i + 2 < len(tokens)
                and tokens[i + 1].kind == "number" and tokens[i + 2].low == ")"):
            again = tokens[i + 1]
            if number(again.low) != number(out[-1].low):
                raise err(f"'{out[-1].text} ({again.text})': the number and the number in "
                          "brackets differ")
            i += 3
            continue
        out.append(tok)
        i += 1
    return out


def _one_half(tokens: list[Token]) -> list[Token]:
    """"one half" is "one-half" (never 1 and a half); "twenty four" is 24."""
    out: list[Token] = []
    for i, tok in enumerate(tokens):
        if tok.low == "half" and out and out[-1].text.lower() == "one":
            out[-1] = Token(f"{out[-1].text} {tok.text}", "one-half", "word")
            continue
        if tok.low == "a" and out and out[-1].low == "half":      # "half a tablet"
            out[-1] = Token(f"{out[-1].text} {tok.text}", "one-half", "word")
            continue
        if tok.low == "half" and i + 1 < len(tokens) and tokens[i + 1].low == "a":
            out.append(tok)
            continue
        before = out[-1] if out else None
        if (before is not None and before.text.lower() in _TENS and tok.text.lower() in NUMBER_WORDS
                and int(tok.low) < 10):
            out[-1] = Token(f"{before.text} {tok.text}", str(int(before.low) + int(tok.low)),
                            "number")
            continue
        out.append(tok)
    return out


# ---- fields run together -----------------------------------------------------------------------

# What a prescribing system glues together: numbers, units, codes and durations. A word splits
# only when every piece is one of these, so no English word is ever split ("pain", "acid").
_GLUE_CODES = {"po", "pr", "pv", "sl", "qd", "bid", "tid", "qid", "qod", "qw", "qam", "qpm", "qhs",
               "prn", "ac", "pc", "tab", "tabs", "cap", "caps", "ml", "mls", "gtt", "gtts"}
_GLUE_AFTER_NUMBER = {"d", "day", "days", "wk", "wks", "week", "weeks",
                      "mg", "mcg"}       # "20mg" is "20 mg" (ISMP: NORMALISE)
_GLUE_PIECE = re.compile(r"q\d+(?:-\d+)?h|x\d+d|\d+-\d+|\d+(?:\.\d+)?|[a-z]+")


@lru_cache(maxsize=4096)
def glued(word: str) -> tuple[str, ...] | None:
    """The pieces of a word that is codes run together ("qd30days" → qd 30 days, "bidprn" →
    bid prn, "1tab" → 1 tab), or None: a word that is one piece, or holds anything else."""
    if NUMBER.match(word) or RANGE.match(word) or (word.isalpha() and word in _GLUE_CODES):
        return None
    best = _split(word, 0, "")
    return best if best and len(best) > 1 else None


def _split(word: str, at: int, before: str) -> tuple[str, ...] | None:
    """The split of word[at:] into the fewest pieces, each allowed after `before`'s kind."""
    if at == len(word):
        return ()
    found: tuple[str, ...] | None = None
    for end in range(len(word), at, -1):
        piece = word[at:end]
        kind = _piece_kind(piece, before)
        if kind is None:
            continue
        rest = _split(word, end, kind)
        if rest is not None and (found is None or len(rest) + 1 < len(found)):
            found = (piece, *rest)
    return found


def _piece_kind(piece: str, before: str) -> str | None:
    if not _GLUE_PIECE.fullmatch(piece):
        return None
    if piece[0].isdigit():
        return "number"
    if piece in _GLUE_CODES or (piece[0] in "qx" and piece[1:2].isdigit()):
        return "code"
    if piece == "x":
        return "x"
    if piece in _GLUE_AFTER_NUMBER and before == "number":
        return "unit"
    return None


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
