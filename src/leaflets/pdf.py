"""Assemble PDF files from recorded drawing operators, one page at a time, to any binary stream.

ReportLab draws (render.py records what a canvas emits); this module only files the result. It
exists because ReportLab's document keeps every page in memory until it saves, and formats every
object again for every file: a combined sheet of 10,000 labels would grow with the batch. Here a
page is written as soon as it is added, shared content (a product's leaflet pages) is one form
XObject per file, and fonts (fonts.FixedFont blocks, compressed once per process) are written
once per file, at the end. Output depends only on what was added: same pages, same bytes.
"""

from __future__ import annotations

import datetime as dt
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import BinaryIO

from .fonts import fixed_font


@dataclass(frozen=True, eq=False)
class Ops:
    """Drawing operators recorded from a fresh page, with the font blocks they use. `key` marks
    content shared by many pages (a product's leaflet page): each file holds it once, as a form."""

    code: str
    fonts: frozenset[tuple[str, int]]
    key: str | None = None

    @cached_property
    def deflated(self) -> bytes:
        return zlib.compress(self.code.encode("ascii"))


@dataclass(frozen=True)
class Info:
    title: str
    subject: str
    day: dt.date          # creation and modification date: from the inputs, never the clock


def _text(value: str) -> bytes:
    """A PDF text string: literal when plain ASCII, else UTF-16BE with a byte-order mark."""
    if value.isascii() and value.isprintable():
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped})".encode("ascii")
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _num(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=64)
def _widths(name: str, block: int) -> str:
    return " ".join(_num(w) for w in fixed_font(name).block_objects(block)[3])


@dataclass
class PdfWriter:
    """Write a PDF page by page. Objects 1-4 (catalog, page tree, info, resources) are reserved
    and written last, when every page, form and font is known."""

    out: BinaryIO
    width_pt: float
    height_pt: float
    info: Info
    # Compact arrays: a 10,000-fill leaflet sheet has 100,000 objects.
    _offsets: array[int] = field(default_factory=lambda: array("Q", [0] * 5))
    _next: int = 5
    _start: int = 0
    _pages: array[int] = field(default_factory=lambda: array("Q"))
    _forms: dict[str, tuple[str, int]] = field(default_factory=dict)
    _fonts: set[tuple[str, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._start = self.out.tell()
        self.out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, body: bytes, number: int | None = None) -> int:
        if number is None:
            number, self._next = self._next, self._next + 1
            self._offsets.append(0)
        self._offsets[number] = self.out.tell() - self._start
        self.out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
        return number

    def _stream(self, entries: str, deflated: bytes) -> int:
        head = f"<< {entries} /Filter /FlateDecode /Length {len(deflated)} >>\nstream\n"
        return self._write(head.encode("ascii") + deflated + b"\nendstream")

    def _form(self, ops: Ops, box: str) -> str:
        assert ops.key is not None
        if ops.key not in self._forms:
            name = f"Fm{len(self._forms) + 1}"
            number = self._stream(f"/Type /XObject /Subtype /Form /BBox {box} /Resources 4 0 R",
                                  ops.deflated)
            self._forms[ops.key] = (name, number)
        return self._forms[ops.key][0]

    def add_page(self, parts: Iterable[Ops], size: tuple[float, float] | None = None) -> None:
        """One page: each part drawn in its own saved graphics state, in order. `size` is the
        page's when it is not the writer's (a batch sheet mixes standard and large print)."""
        width, height = size or (self.width_pt, self.height_pt)
        box = f"[0 0 {_num(width)} {_num(height)}]"
        code: list[str] = []
        for ops in parts:
            self._fonts |= ops.fonts
            if ops.key is not None:
                code.append(f"q /{self._form(ops, box)} Do Q")
            elif ops.code:
                code.append(f"q\n{ops.code}\nQ")
        content = self._stream("", zlib.compress("\n".join(code).encode("ascii")))
        page = f"<< /Type /Page /Parent 2 0 R /MediaBox {box} /Resources 4 0 R /Contents {content} 0 R >>"
        self._pages.append(self._write(page.encode("ascii")))

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def close(self) -> None:
        fonts = []
        for name, block in sorted(self._fonts):
            fonts.append(f"/{fixed_font(name).internal}+{block} {self._font(name, block)} 0 R")
        forms = " ".join(f"/{name} {number} 0 R" for name, number in self._forms.values())
        resources = f"<< /ProcSet [/PDF /Text] /Font << {' '.join(fonts)} >> /XObject << {forms} >> >>"
        self._write(resources.encode("ascii"), 4)
        kids = " ".join(f"{n} 0 R" for n in self._pages)
        self._write(f"<< /Type /Pages /Count {len(self._pages)} /Kids [{kids}] >>".encode("ascii"), 2)
        self._write(b"<< /Type /Catalog /Pages 2 0 R >>", 1)
        d = self.info.day
        stamp = _text(f"D:{d.year:04d}{d.month:02d}{d.day:02d}000000+00'00'")
        self._write(b"<< /Title " + _text(self.info.title) + b" /Subject " + _text(self.info.subject)
                    + b" /Author (leaflets) /Creator (leaflets) /Producer (leaflets) /CreationDate "
                    + stamp + b" /ModDate " + stamp + b" >>", 3)
        xref = self.out.tell() - self._start
        size = self._next
        rows = [b"0000000000 65535 f \n"]
        rows += [b"%010d 00000 n \n" % self._offsets[n] for n in range(1, size)]
        self.out.write(b"xref\n0 %d\n" % size + b"".join(rows))
        self.out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                       % (size, xref))

    def _font(self, name: str, block: int) -> int:
        font = fixed_font(name)
        program, length, tounicode, _ = font.block_objects(block)
        base = font.base_name(block)
        face = font.face
        file_ = self._stream(f"/Length1 {length}", program)
        cmap = self._stream("", tounicode)
        bbox = " ".join(str(v) for v in face.bbox)
        flags = (face.flags & ~32) | 4          # symbolic, not nonsymbolic: the codes are ours
        descriptor = self._write(
            (f"<< /Type /FontDescriptor /FontName /{base} /Flags {flags} /FontBBox [{bbox}] "
             f"/ItalicAngle {face.italicAngle} /Ascent {face.ascent} /Descent {face.descent} "
             f"/CapHeight {face.capHeight} /StemV {face.stemV} /MissingWidth {face.defaultWidth} "
             f"/FontFile2 {file_} 0 R >>").encode("ascii"))
        return self._write(
            (f"<< /Type /Font /Subtype /TrueType /BaseFont /{base} /FirstChar 0 /LastChar 255 "
             f"/Widths [{_widths(name, block)}] /FontDescriptor {descriptor} 0 R "
             f"/ToUnicode {cmap} 0 R >>").encode("ascii"))
