"""Read back: the English a sentence of directions printed in another language was printed from,
found through that language's catalog alone, so that the English parser (rules/sig) reads every
printed language. tests/test_readback.py checks that every sentence printed in every catalogued
language reads back to the structure it was printed from.

Every translation the templates can print (each message and each of its plural forms) and every
as-needed reason of the catalog (msgctxt "as-needed reason", what the template's `reason` filter
prints) is a pattern that reads back as its English:

1. Words. A translation without placeholders ("una vez al día"), and each run of words between
   the placeholders of one that has them ("durante" and "días" of "durante %(num)s días"), is
   found in the sentence, longest first and as whole words, and set aside as one piece.
2. Placeholders. A translation with placeholders then matches those pieces in its order, each
   placeholder taking the numbers and pieces already read in its place; longest first, again
   until none matches, each match becoming a piece in its turn ("los lunes y jueves": first
   "lunes y jueves", then "los …").
3. Each piece gives its msgid, placeholders filled with the English of what they took. A letter
   that no translation accounts for is an error, never passed on as English.

A step after the first is printed with a lower-case first letter ("…, luego tome …"), so a
translation that begins with a capital also reads back in lower case, as its msgid in lower case.
Numbers are printed with the language's thousands separator and read back with the English one.

Two messages whose translations are the same words (placeholders aside) cannot be told apart
in a printed sentence: the reader refuses the catalog, naming both ("Aplique" cannot be both
"Apply" and "Instill"). English phrases that differ only in punctuation are one phrase here:
Spanish has no serial comma, so "A, B y C" reads back as "A, B and C", which the parser reads
as it reads "A, B, and C".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from .errors import TemplateError
from .i18n import REASON, Catalog, MissingTranslation, catalog, language, template_messages
from .rules.abbreviations import format_number

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# A piece set aside is one character of a private-use plane, which no catalog or sentence holds
# (i18n refuses private-use characters in translations): a piece read (its English is known) is
# in plane 15, a run of words that only a translation with placeholders may take in plane 16.
_READ, _RUN = 0xF0000, 0x100000
_PIECE = re.compile("([\U000F0000-\U0010FFFD])")
_READ_CLASS = "[\U000F0000-\U000FFFFD]"


class ReadbackError(TemplateError):
    """A printed sentence cannot be read back through its catalog: a translation two messages
    share, or words no translation printed."""


@dataclass(frozen=True)
class _Frame:
    """A translation with placeholders, as a pattern over a sentence whose words are set aside."""

    pattern: re.Pattern[str]
    names: tuple[str, ...]      # its placeholders, in the translation's order
    english: str


@dataclass(frozen=True)
class _Reader:
    words: tuple[tuple[re.Pattern[str], str], ...]   # (words, the piece set aside for them)
    read: dict[str, str]        # piece → its English
    runs: dict[str, str]        # piece → the words of a translation with placeholders
    frames: tuple[_Frame, ...]
    number: re.Pattern[str]
    thousands: str


def readback(text: str, code: str) -> str:
    """The English of directions printed as `text` in language `code`."""
    return back_translate(text, catalog(code))


def back_translate(text: str, translations: Catalog) -> str:
    if translations.messages is None:
        return text                                 # English: the templates' own words
    if _PIECE.search(text):
        raise ReadbackError(f"cannot read back {text!r}: it holds a private-use character")
    reader = _reader(translations)
    for pattern, piece in reader.words:
        text = pattern.sub(piece, text)
    taken: dict[str, tuple[_Frame, tuple[str, ...]]] = {}
    while match := next(((f, m) for f in reader.frames if (m := f.pattern.search(text))), None):
        frame, found = match
        piece = chr(_READ + len(reader.read) + len(taken))
        taken[piece] = (frame, found.groups())
        text = text[:found.start()] + piece + text[found.end():]
    return _english(text, reader, taken, translations.language.catalog_file)


def _english(text: str, reader: _Reader, taken: dict[str, tuple[_Frame, tuple[str, ...]]],
             where: str) -> str:
    """The English of a sentence whose words are pieces read: each piece's msgid, and between
    them the sentence's own spaces, punctuation and numbers (with the English separator)."""
    out = []
    for i, part in enumerate(_PIECE.split(text)):
        if i % 2 == 0:                  # between pieces
            if re.search(r"[^\W\d_]", part):
                raise ReadbackError(f"{where}: cannot read back {part.strip()!r}: no "
                                    "translation prints it there")
            out.append(reader.number.sub(lambda m: _number(m[0], reader.thousands), part))
        elif part in reader.read:
            out.append(reader.read[part])
        elif part in taken:
            frame, groups = taken[part]
            filled = {name: _english(g, reader, taken, where)
                      for name, g in zip(frame.names, groups, strict=True)}
            out.append(frame.english % filled)      # as gettext's newstyle fills it
        else:
            raise ReadbackError(f"{where}: cannot read back {reader.runs[part]!r}: no "
                                "translation prints it there")
    return "".join(out)


def _number(printed: str, thousands: str) -> str:
    value = Decimal(printed.replace(thousands, "") if thousands else printed)
    return format_number(value, language("en").thousands)


def _words(english: str) -> str:
    """An English phrase without its punctuation and with its placeholders unnamed."""
    return " ".join(re.sub(r"[^\w\s%]", " ", _PLACEHOLDER.sub("%s", english)).split())


def _plural_count(translations: Catalog, form: int) -> int:
    """A count that the language prints with its plural form `form` (1 for its singular)."""
    return next((n for n in range(1, 1000) if translations.plural(n) == form), form + 1)


def _translations(translations: Catalog) -> Iterator[tuple[str, str, str]]:
    """(translation, its English, its msgid) for every form the templates can print and every
    as-needed reason; a translation beginning with a capital also in lower case."""
    assert translations.messages is not None
    pairs: list[tuple[str, str, str]] = []
    for message, _comments, context in template_messages():
        ids = (message,) if isinstance(message, str) else tuple(message)
        forms = translations.messages.get((context, ids[0]))
        if forms is None:
            raise MissingTranslation(translations.language, ids[0], context)
        for i, form in enumerate(forms):
            plural = len(ids) > 1 and _plural_count(translations, i) != 1
            pairs.append((form, ids[1] if plural else ids[0], ids[0]))
    pairs += [(forms[0], msgid, msgid) for (context, msgid), forms in translations.messages.items()
              if context == REASON]
    for form, english, msgid in pairs:
        form = re.sub(r"\s+", " ", form)        # printed with its spaces collapsed
        yield form, english, msgid
        if form[:1].isupper():
            yield form[0].lower() + form[1:], english[:1].lower() + english[1:], msgid


@cache
def _reader(translations: Catalog) -> _Reader:
    lang = translations.language
    chosen: dict[str, tuple[str, str, str]] = {}      # the translation's shape → its reading
    for form, english, msgid in sorted(set(_translations(translations))):
        shape = _PLACEHOLDER.sub("%s", form)
        other = chosen.get(shape)
        if other is not None and _words(other[1]) != _words(english):
            raise ReadbackError(
                f"{lang.catalog_file}: '{other[2]}' and '{msgid}' are both translated "
                f"'{shape}': a sentence holding it could have been printed from either, so it "
                "cannot be read back; translate them differently")
        if not set(_PLACEHOLDER.findall(english)) <= set(_PLACEHOLDER.findall(form)):
            raise ReadbackError(f"{lang.catalog_file}: the translation '{form}' of '{msgid}' "
                                "leaves out a placeholder its English needs")
        if other is None or english < other[1]:
            chosen[shape] = (form, english, msgid)
    read: dict[str, str] = {}
    runs: dict[str, str] = {}
    piece: dict[str, str] = {}                          # words → the piece set aside for them
    for form, english, _ in chosen.values():
        if not _PLACEHOLDER.search(form):
            piece[form] = chr(_READ + len(read))
            read[piece[form]] = english
    for form, _, _ in chosen.values():
        for literal in _PLACEHOLDER.split(form)[::2]:
            words = literal.strip()
            if re.search(r"\w", words) and words not in piece:
                piece[words] = chr(_RUN + len(runs))
                runs[piece[words]] = words
    sep = re.escape(lang.thousands)
    number = (rf"\d{{1,3}}(?:{sep}\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?" if lang.thousands
              else r"\d+(?:\.\d+)?")
    atom = f"(?:{_READ_CLASS}|{number})"
    frames: list[tuple[int, str, _Frame]] = []
    for form, english, _ in chosen.values():
        parts = _PLACEHOLDER.split(form)
        literals, names = parts[::2], tuple(parts[1::2])
        if not names or not any(re.search(r"\w", lit) for lit in literals):
            continue        # no words of its own to be found by: nothing to read it back from
        regex = []
        for i, literal in enumerate(literals):
            if i:
                before, after = literals[i - 1], literal
                lead = "[ ,]*" if before and not before[-1].isspace() else ""
                trail = "[ ,]*" if after and not after[0].isspace() else ""
                regex.append(f"({lead}{atom}(?:[ ,]*{atom})*{trail})")
            words = literal.strip()
            if words:
                start = literal[:len(literal) - len(literal.lstrip())]
                end = literal[len(literal.rstrip()):]
                literal = start + piece.get(words, words) + end
            regex.append(re.escape(literal))
        frames.append((sum(map(len, literals)), form, _Frame(re.compile("".join(regex)), names,
                                                              english)))
    return _Reader(
        words=tuple((re.compile(_bounded(words)), p)
                    for words, p in sorted(piece.items(), key=lambda w: (-len(w[0]), w[0]))),
        read=read, runs=runs,
        frames=tuple(f for _, _, f in sorted(frames, key=lambda f: (-f[0], f[1]))),
        number=re.compile(number), thousands=lang.thousands)


def _bounded(words: str) -> str:
    """A pattern finding `words` as whole words only ("g" is not the g of "luego")."""
    start = r"(?<!\w)" if re.match(r"\w", words) else ""
    end = r"(?!\w)" if re.search(r"\w$", words) else ""
    return start + re.escape(words) + end
