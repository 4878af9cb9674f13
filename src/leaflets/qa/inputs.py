"""QA's inputs: the files of a tree, their bytes, and PDFs opened with pdfium or refused with a
located message."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]

from ..errors import InputError
from ..parse import read_bytes, read_json, reading

RECORD = "fill.json"


@dataclass(frozen=True)
class Limits:
    """How much work one document may ask of QA, checked before any page is rasterised: a page's
    pixels at the chosen dpi (pdfium and Pillow hold each page in memory several times over), and
    a document's page count. The defaults pass any pharmacy document: a 4 × 6 in label or a US
    Letter, A4 or Legal page at 600 dpi (Letter is 33.7 million pixels), and a day's combined
    leaflet sheet of well over a thousand fills; a 200 × 200 in page at 100 dpi (400 million
    pixels, 3 GB) or a 20,000-page file is refused with a message that says how to raise them."""

    max_page_pixels: int = 50_000_000
    max_pages: int = 5_000


DEFAULT_LIMITS = Limits()



def shown(text: str) -> str:
    """A name as it can be printed: bytes of a file name that are not UTF-8 (which Python keeps as
    lone surrogates) and other lone surrogates become backslash escapes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class Entry:
    path: Path
    folder: bool          # a real folder (walked); anything else is read as a file


def list_entries(root: Path) -> dict[str, Entry]:
    """Every entry under `root` by relative name (hidden ones skipped), folders included. Links
    to folders are not followed (a link cycle would never end); a link to a file is read as the
    file. A folder that cannot be listed, or that vanished, is an entry to read, so reading it
    says why. The walk keeps its own stack: no recursion limit, however deep the tree."""
    entries: dict[str, Entry] = {}
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as scan:
                found = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in scan)
        except OSError:
            if prefix:
                entries[prefix.removesuffix("/")] = Entry(folder, False)
                continue
            with reading(root):
                raise
        for name, is_folder in found:
            if name.startswith("."):
                continue
            entries[prefix + name] = Entry(folder / name, is_folder)
            if is_folder:
                stack.append((folder / name, f"{prefix}{name}/"))
    return dict(sorted(entries.items()))


def list_files(root: Path) -> dict[str, Path]:
    """The entries of `list_entries` that are read as files, by relative name."""
    return {name: entry.path for name, entry in list_entries(root).items() if not entry.folder}


def open_pdf(path: Path, data: bytes | None = None) -> pypdfium2.PdfDocument:
    """A PDF (from `data`, its bytes if already read) whose every page pdfium can size, or
    InputError saying why not: missing, not a PDF, truncated, encrypted or damaged."""
    if data is None:
        data = read_bytes(path)
    if not data.startswith(b"%PDF-"):
        raise InputError.one(path, "", "not a PDF (it does not start with %PDF-)")
    if b"%%EOF" not in data[-1024:]:
        raise InputError.one(path, "", "truncated PDF (no %%EOF at its end)")
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        why = "encrypted PDF (it needs a password)" if "password" in str(exc).lower() \
            else "damaged or empty PDF (pdfium cannot open it)"
        raise InputError.one(path, "", why) from None
    # A page tree that counts pages it does not hold opens fine and fails later, on that page.
    for index in range(len(document)):
        try:
            document.get_page_size(index)
        except pypdfium2.PdfiumError:
            raise InputError.one(path, "", f"damaged PDF (pdfium cannot read page {index + 1} "
                                           f"of the {len(document):,} it counts)") from None
    return document


# ---- fill records ---------------------------------------------------------------------------------

class RecordError(Exception):
    """A fill record that is not in the form the renderer writes; the message names the key."""


@dataclass(frozen=True)
class FieldBox:
    field: str
    page: int                                         # 1-based
    box_pt: tuple[float, float, float, float]         # x, top, width, height


def read_record(path: Path) -> dict[str, Any]:
    """A fill.json's data, read through the input boundary (parse.py: size, nesting, numbers,
    repeated keys, text), or RecordError saying why it cannot be read as one."""
    try:
        record = read_json(path)
    except InputError as exc:
        first = exc.problems[0]
        raise RecordError(f"{first.field}: {first.message}" if first.field else first.message) \
            from None
    if not isinstance(record, dict):
        raise RecordError(f"expected an object, got {_kind(record)}")
    return record


def record_fields(record: dict[str, Any], section: str) -> list[FieldBox]:
    """The field boxes a record gives for its label or leaflet, each checked."""
    fields = _key(_key(record, section, dict, section), "fields", list, f"{section}.fields")
    boxes = []
    for index, entry in enumerate(fields):
        where = f"{section}.fields[{index}]"
        if not isinstance(entry, dict):
            raise RecordError(f"{where}: expected an object, got {_kind(entry)}")
        name = _key(entry, "field", str, f"{where}.field")
        if not name or not all(c.isascii() and (c.isalnum() or c == "_") for c in name):
            raise RecordError(f"{where}.field: expected a field name (letters, digits and _), "
                              f"got {shown(repr(name[:40]))}")
        page = entry.get("page", 1)
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise RecordError(f"{where}.page: expected a page number from 1, got {_kind(page)}")
        box = _key(entry, "box_pt", list, f"{where}.box_pt")
        bad = [v for v in box if not (isinstance(v, int | float) and not isinstance(v, bool)
                                      and math.isfinite(v))]
        if len(box) != 4 or bad:
            got = _kind(bad[0]) if len(box) == 4 else _kind(box)
            raise RecordError(f"{where}.box_pt: expected 4 finite numbers (x, top, width and "
                              f"height in points), got {got}")
        x, top, width, height = (float(v) for v in box)
        if width < 0 or height < 0:
            raise RecordError(f"{where}.box_pt: expected a width and height of 0 or more")
        boxes.append(FieldBox(name, page, (x, top, width, height)))
    return boxes


def record_text(record: dict[str, Any], *keys: str) -> str | None:
    """A text value at `keys` (None where the record has none), or RecordError if not text."""
    value: Any = record
    for depth, key in enumerate(keys):
        if not isinstance(value, dict):
            raise RecordError(f"{'.'.join(keys[:depth])}: expected an object, got {_kind(value)}")
        value = value.get(key)
        if value is None:
            return None
    if not isinstance(value, str):
        raise RecordError(f"{'.'.join(keys)}: expected text, got {_kind(value)}")
    return value


def _key(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        expected = "an object" if kind is dict else "a list" if kind is list else "text"
        raise RecordError(f"{where}: expected {expected}, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    """What a JSON value is, shortly (never the whole value)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return f"the number {value:.6g}"
    if isinstance(value, str):
        return f"the text {shown(repr(value[:40]))}" + ("…" if len(value) > 40 else "")
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "an object"


def check_limits(path: Path, document: pypdfium2.PdfDocument, limits: Limits,
                 dpi: int | None) -> None:
    """InputError if `document` has more pages than the limit or, rasterised at `dpi` (None: it is
    only read, not rasterised), a page with more pixels than the limit."""
    if len(document) > limits.max_pages:
        raise InputError.one(path, "", f"{len(document):,} pages, above the limit of "
                                       f"{limits.max_pages:,} (raise it with --max-pages)")
    if dpi is None:
        return
    for index in range(len(document)):
        width_pt, height_pt = document.get_page_size(index)
        # As pdfium sizes its bitmap (pypdfium2's PdfPage.render).
        pixels = math.ceil(width_pt * dpi / 72) * math.ceil(height_pt * dpi / 72)
        if pixels > limits.max_page_pixels:
            raise InputError.one(
                path, "", f"page {index + 1} is {width_pt / 72:.4g} × {height_pt / 72:.4g} in, "
                          f"which at {dpi} dpi is {pixels:,} pixels, above the limit of "
                          f"{limits.max_page_pixels:,} (raise it with --max-page-pixels)")
