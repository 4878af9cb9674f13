"""The input boundary: every file the program reads becomes data here, or a located message.

    bytes  -> text   at most a file-size limit; UTF-8 (a byte-order mark is dropped)
    text   -> data   YAML in a strict schema, or JSON; the line of every key path
    data   -> data   every string checked and normalised as printable text, every limit held

The YAML schema reads what a pharmacy's files mean and nothing more. A plain scalar is null,
true or false, a decimal integer, a decimal number, or text; YAML 1.1's implicit timestamps,
sexagesimal (`1:30` as 90), hex, octal and yes/no booleans are text, and the models validate
dates and numbers with file and line. Anchors and aliases (a 1 KB "billion laughs" file expands
without end), tags and duplicate keys (the second `directions:` silently won) are refused. JSON
is read by the standard library with duplicate keys, NaN and oversized numbers refused.

Every string is normalised to NFC (an accent typed as e + U+0301 becomes é, the one character the
font draws in place) and refused, naming the field and the character, when it holds something
that would print other than as entered: controls, invisible format characters (bidi controls,
zero-width characters, the soft hyphen), surrogates, private-use and unassigned code points, a
combining mark left over after NFC, or right-to-left letters (not yet shaped and ordered).

A message states the limit it enforces and quotes at most a short excerpt of a value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from .errors import InputError, Problem

# libyaml's C parser when the wheel has it: several times faster, the same events.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]

# ---- limits (docs/formats.md: "Bad input: limits and refusals") ---------------------------------

MAX_FILE_BYTES = 1 << 20          # a fill, product, pharmacy profile, stock or style: 1 MiB
MAX_BATCH_BYTES = 64 << 20        # a batch file read whole (a YAML list or JSON array): 64 MiB
MAX_LINE_BYTES = 1 << 20          # one row of a CSV or JSON Lines file
MAX_DEPTH = 12                    # nesting of mappings and lists (a product needs 6)
MAX_TEXT_CHARS = 5_000            # one string (the longest product paragraph has 625)
MAX_NUMBER_CHARS = 24             # one number as written
EXCERPT_CHARS = 40                # how much of a refused value a message quotes


def excerpt(value: str) -> str:
    """A value as a message quotes it: whole when short, else its start and its length."""
    if len(value) <= EXCERPT_CHARS:
        return repr(value)
    return f"{value[:EXCERPT_CHARS]!r}… ({len(value):,} characters)"


def quoted(value: Any) -> str:
    """A refused value as a message shows it: an excerpt of a text, a number or date as written,
    'a mapping' or 'a list'; never a Python repr, never a whole long value."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return excerpt(value)
    shown = value.isoformat() if isinstance(value, dt.date) else str(value)
    return shown if len(shown) <= EXCERPT_CHARS else excerpt(shown)


def display(path: Path_) -> str:
    """A key path as the field name in messages: patient.name, compounding.component_expirations[0]."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# ---- bytes -> text -----------------------------------------------------------------------------


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """The ways reading a file fails (missing, a folder, unreadable), as InputError naming it."""
    try:
        yield
    except FileNotFoundError:
        raise InputError.one(path, "", "file not found") from None
    except IsADirectoryError:
        raise InputError.one(path, "", "expected a file, found a folder") from None
    except OSError as exc:
        raise InputError.one(path, "", f"cannot read: {exc.strerror or exc}") from None


@contextlib.contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """A regular file open for reading, or InputError saying why not: missing (or vanished), a
    folder, not a regular file (a FIFO would block forever, a device never end), a link loop,
    unreadable. Read failures inside the block are InputError too."""
    with reading(path):
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            kind = os.fstat(fd).st_mode
        except OSError:
            os.close(fd)
            raise
        if not stat.S_ISREG(kind):
            os.close(fd)
            raise InputError.one(path, "", "expected a file, found a folder" if stat.S_ISDIR(kind)
                                 else "not a regular file (a device, FIFO or socket)")
        with os.fdopen(fd, "rb") as handle:
            yield handle


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """A regular file's bytes (`open_regular`), at most `limit` of them."""
    with open_regular(path) as handle:
        data = handle.read(-1 if limit is None else limit + 1)
    if limit is not None and len(data) > limit:
        raise InputError.one(path, "", f"file is larger than {_size(limit)}, the limit for this "
                                       "kind of input")
    return data


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """A whole UTF-8 text file of at most `limit` bytes."""
    return decode(read_bytes(path, limit), path)


def read_parsed(path: Path, *, json_text: bool, name: str | None = None,
                limit: int = MAX_FILE_BYTES) -> tuple[Any, str, dict[Path_, int], Found]:
    """A whole document read and parsed, not yet checked (a batch list checks item by item):
    its data, its text, the line of every key and its repeated YAML keys."""
    text = read_text(path, limit)
    data, lines, found = parse(text, name or str(path), json_text=json_text)
    return data, text, lines, found


def read_checked(path: Path, *, json_text: bool, name: str | None = None,
                 limit: int = MAX_FILE_BYTES) -> tuple[Any, str, dict[Path_, int]]:
    """A whole document through the boundary: its checked data, its text and the line of every
    key; every problem of the file at once as InputError, named `name` (else its path)."""
    file = name or str(path)
    data, text, lines, found = read_parsed(path, json_text=json_text, name=file, limit=limit)
    data, problems = check(data, lines, file)
    if found or problems:
        raise InputError(sorted([p for _, p in found] + problems, key=lambda p: (p.line or 0, p.field)))
    return data, text, lines


def read_json(path: Path) -> Any:
    """A JSON file the program wrote and reads back (a fill record), as any input is read."""
    return read_checked(path, json_text=True)[0]


def decode(data: bytes, path: Path | str, first_line: int = 1) -> str:
    """UTF-8 text; another encoding is a message with the fix."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        hint = ""
        with contextlib.suppress(UnicodeDecodeError):
            data.decode("cp1252")
            hint = ("; it looks like a Windows (cp1252) file: save it as UTF-8 (in a "
                    "spreadsheet, 'CSV UTF-8')")
        raise InputError.one(path, "", f"expected UTF-8 text, found byte 0x{data[exc.start]:02X}"
                                       f"{hint}", line) from None


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


# ---- text -> data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A value the reader refuses, kept in place so `check` reports it at its field (and a batch
    fails only the row that holds it): a number too long to be a count, NaN."""

    why: str


class _Keys(dict[str, Any]):
    """A JSON object, with the keys it repeats (the first value is kept; `check` reports them)."""

    repeated: tuple[str, ...] = ()


Found = list[tuple[Path_, Problem]]     # problems with the key path they are about


def parse(text: str, file: str, *, json_text: bool) -> tuple[Any, dict[Path_, int], Found]:
    """A YAML or JSON document: its data, the line of every key path, and the YAML document's
    repeated keys. A document that cannot be read at all raises InputError. Strings, refused
    values and JSON's repeated keys are reported by `check`, so a batch can fail one row rather
    than the whole file."""
    if not json_text:
        return _yaml(text, file)
    try:   # JSON is nearly YAML: the lines of its keys (tabs and lone surrogates are not)
        _, lines, _ = _yaml(_SURROGATE_ESCAPE.sub(r"\\uFFFD", text.replace("\t", " ")), file)
    except InputError:
        lines = {}
    try:
        data = json_value(text)
    except json.JSONDecodeError as exc:
        raise InputError.one(file, "", f"invalid JSON: {exc.msg} (column {exc.colno})",
                             exc.lineno) from None
    except RecursionError:
        raise InputError.one(file, "", f"nested deeper than {MAX_DEPTH} levels") from None
    return data, lines, []


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def json_value(text: str) -> Any:
    """One JSON value, with repeated keys, NaN and Infinity and oversized numbers kept for
    `check` to report. Raises json.JSONDecodeError, or RecursionError past Python's own depth."""
    return json.loads(text, object_pairs_hook=_pairs, parse_int=_number(int),
                      parse_float=_number(float), parse_constant=_constant)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = _Keys()
    repeated = []
    for key, value in pairs:
        if key in out:
            repeated.append(key)
        else:
            out[key] = value
    out.repeated = tuple(repeated)
    return out


def _number(kind: type[int] | type[float]) -> Any:
    def read(text: str) -> Any:
        return _too_long(text) if len(text) > MAX_NUMBER_CHARS else kind(text)
    return read


def _too_long(text: str) -> Refused:
    return Refused(f"a number of {len(text)} characters is longer than any count or amount (at "
                   f"most {MAX_NUMBER_CHARS})")


def _constant(text: str) -> Refused:
    return Refused(f"{text} is not a number")


# YAML 1.2's core schema for plain scalars, without .inf and .nan: anything else is text.
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")


def _scalar(value: str) -> Any:
    """A plain scalar's value: leading zeros (007), 1:30, 0x1E, 2026-11-24 and yes are text."""
    if value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    integer = _INT.fullmatch(value)
    if integer or _FLOAT.fullmatch(value):
        return _number(int if integer else float)(value)
    return value


class _Open:
    """A mapping or list being read, at its key path; a mapping's key waiting for its value."""

    __slots__ = ("key", "path", "value")

    def __init__(self, value: dict[str, Any] | list[Any], path: Path_) -> None:
        self.value, self.path = value, path
        self.key: str | None = None


def _yaml(text: str, file: str) -> tuple[Any, dict[Path_, int], Found]:
    """Read YAML event by event (no node graph, so nothing can expand), building plain data."""
    lines: dict[Path_, int] = {}
    problems: Found = []
    stack: list[_Open] = []
    root: list[Any] = []
    documents = 0
    line = 1

    def fail(message: str, path: Path_ = ()) -> InputError:
        return InputError.one(file, display(path), message, line)

    def place(value: Any) -> Path_:
        """Put a value where the reader is: the document, a list, or a mapping's pending key."""
        if not stack:
            root.append(value)
            path: Path_ = ()
        else:
            parent = stack[-1]
            if isinstance(parent.value, list):
                path = (*parent.path, len(parent.value))
                parent.value.append(value)
            else:
                assert parent.key is not None
                path = (*parent.path, parent.key)
                parent.value.setdefault(parent.key, value)   # a duplicate keeps the first
                parent.key = None
        lines.setdefault(path, line)
        return path

    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark else line
            if isinstance(event, yaml.StreamStartEvent | yaml.StreamEndEvent | yaml.DocumentEndEvent):
                continue
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise fail("expected one document, found a second (a line '---')")
                continue
            at = _pending(stack[-1] if stack else None)
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise fail("anchors and aliases (&name, *name) are not accepted: write the value "
                           "out in full", at)
            if getattr(event, "tag", None) is not None:
                raise fail(f"tags such as {getattr(event, 'tag', '')} are not accepted: write the "
                           "plain value", at)
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
                continue
            parent = stack[-1] if stack else None
            if parent is not None and isinstance(parent.value, dict) and parent.key is None:
                if not isinstance(event, yaml.ScalarEvent):
                    raise fail("a key must be plain text, not a mapping or a list", at)
                key = event.value
                if len(key) > MAX_TEXT_CHARS:
                    raise fail(f"a key is longer than {MAX_TEXT_CHARS:,} characters", at)
                sub = (*parent.path, key)
                if key in parent.value:
                    problems.append((sub, Problem(file, line, display(sub),
                                                  f"duplicate key (first at line {lines[sub]}): "
                                                  "each key may appear once")))
                else:
                    lines[sub] = line
                parent.key = key
                continue
            if isinstance(event, yaml.ScalarEvent):
                plain = event.implicit[0] and not event.style
                place(_scalar(event.value) if plain else event.value)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise fail(f"nested deeper than {MAX_DEPTH} levels", at)
                container: dict[str, Any] | list[Any] = \
                    {} if isinstance(event, yaml.MappingStartEvent) else []
                stack.append(_Open(container, place(container)))
    except yaml.YAMLError as exc:
        where = _yaml_line(exc, text)
        raise InputError.one(file, "", _yaml_problem(exc, text, where), where) from None
    return (root[0] if root else None), lines, problems


def _pending(parent: _Open | None) -> Path_:
    """The key path of the value about to be read."""
    if parent is None:
        return ()
    if isinstance(parent.value, dict):
        return (*parent.path, parent.key) if parent.key is not None else parent.path
    return (*parent.path, len(parent.value))


def _yaml_line(exc: yaml.YAMLError, text: str) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)      # a ReaderError: a character position
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else None


def _yaml_problem(exc: yaml.YAMLError, text: str, line: int | None) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return (f"invalid YAML: the character U+{exc.character:04X} is not allowed in a YAML file"
                if isinstance(exc.character, int) else "invalid YAML: a character is not allowed")
    problem = str(getattr(exc, "problem", None) or "cannot be read")
    if "nesting depth" in problem:             # libyaml's own bound, far past ours
        return f"nested deeper than {MAX_DEPTH} levels"
    if line is not None:
        here = text.splitlines()[line - 1:line] or [""]
        if "\t" in here[0][:len(here[0]) - len(here[0].lstrip())]:
            return "invalid YAML: tabs are not allowed for indentation; indent with spaces"
    return f"invalid YAML: {problem}"


# ---- data -> checked data ------------------------------------------------------------------------


def check(data: Any, lines: dict[Path_, int], file: str, first_line: int | None = None
          ) -> tuple[Any, list[Problem]]:
    """Every string of a document normalised (NFC) and checked as printable text, every refused
    value and repeated key reported, nesting bounded; walked without recursion. The problems
    name the field and its line."""
    problems: list[Problem] = []

    def problem(path: Path_, why: str) -> None:
        problems.append(Problem(file, _line(lines, path, first_line), display(path), why))

    holder = [data]
    stack: list[tuple[Any, Any, Path_]] = [(holder, 0, ())]
    while stack:
        parent, key, path = stack.pop()
        value = parent[key]
        if isinstance(value, str):
            text, why = check_text(value)
            if why:
                problem(path, why)
            else:
                parent[key] = text
        elif isinstance(value, Refused):
            problem(path, value.why)
        elif isinstance(value, dict | list) and len(path) >= MAX_DEPTH:
            problem(path, f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(value, dict):
            for repeated in getattr(value, "repeated", ()):
                problem((*path, repeated), "duplicate key: each key may appear once")
            stack.extend((value, k, (*path, k)) for k in value)
        elif isinstance(value, list):
            stack.extend((value, i, (*path, i)) for i in range(len(value)))
    problems.sort(key=lambda p: (p.line or 0, p.field))
    return holder[0], problems


def _line(lines: dict[Path_, int], path: Path_, first_line: int | None) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return first_line


_RTL = frozenset({"R", "AL", "AN"})
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def check_text(value: str) -> tuple[str, str | None]:
    """The text as it will be printed (NFC), or why it cannot be printed as entered."""
    # The text itself is not quoted: it may be a patient's name, and messages reach logs.
    if len(value) > MAX_TEXT_CHARS:
        return value, f"text of {len(value):,} characters is longer than the limit of " \
                      f"{MAX_TEXT_CHARS:,}"
    if value.isascii():
        if value.isprintable():
            return value, None
    else:
        value = unicodedata.normalize("NFC", value)
    for index, char in enumerate(value):
        why = _unprintable(char, index)
        if why:
            return value, (f"expected text that prints as entered; character {index + 1} (of "
                           f"{len(value)}) is {why}")
    return value, None


def _unprintable(char: str, index: int) -> str | None:
    if char.isprintable() and char.isascii():
        return None
    code = ord(char)
    kind = unicodedata.category(char)
    name = unicodedata.name(char, "")
    label = f"U+{code:04X}" + (f" {name}" if name else "")
    if kind == "Cc" and char not in _ALLOWED_CONTROLS:
        return f"a control character ({label})"
    if kind == "Cf":
        return f"an invisible formatting character ({label}), which would not print as entered"
    if kind == "Cs":
        return f"a lone surrogate ({label}), not a character"
    if kind == "Co":
        return f"a private-use character ({label}), which no font here draws as intended"
    if kind == "Cn":
        return f"an unassigned code point ({label})"
    if kind in ("Mn", "Mc", "Me"):
        base = " with the character before it" if index else ""
        return (f"a combining mark ({label}) that has no single-character form{base}, so it "
                "cannot be drawn in place")
    if unicodedata.bidirectional(char) in _RTL:
        return (f"a right-to-left letter ({label}): right-to-left scripts are not yet printed in "
                "their right order and shape, so they are refused rather than printed backwards")
    return None
