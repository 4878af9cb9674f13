"""The bundled typefaces: registration once per process, per-character fallback and metrics.

Atkinson Hyperlegible Next is the face for everything; characters it lacks (α, µ, →) fall back,
one character at a time, to DejaVu Sans. Both are vendored in fonts/ (see fonts/README.md).

Each face gives every character the same code in every PDF (ReportLab's own TrueType fonts number
characters in the order a document first uses them). So drawing operators recorded once are valid
in any document: the product's pages of a leaflet are drawn once per batch and replayed into each
fill's PDF and, as one shared form, into the combined sheets; and the embedded font programs are
built and compressed once per process.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, TTFont

from .resources import fonts_dir

PRIMARY = "Atkinson"
FALLBACK = "DejaVu"
FACES: dict[str, str] = {
    "Atkinson": "AtkinsonHyperlegibleNext-Regular.ttf",
    "Atkinson-Bold": "AtkinsonHyperlegibleNext-Bold.ttf",
    "DejaVu": "DejaVuSans.ttf",
    "DejaVu-Bold": "DejaVuSans-Bold.ttf",
}
# Vertical extent of the primary face in em (its hhea ascent and descent), used to keep lines
# inside their boxes.
ASCENT_EM = 0.984
DESCENT_EM = 0.316


@dataclass(frozen=True)
class Segment:
    font: str
    text: str


# Characters that share block 0 with ASCII and Latin-1: typographic punctuation and the symbols
# product texts use, so nearly every document embeds one program per face.
_BLOCK0_FIRST = range(0x2000, 0x2300)


class FixedFont(TTFont):  # type: ignore[misc]
    """A TrueType face whose character codes do not depend on the document.

    The face's characters are dealt into fixed blocks of 256 codes (block 0: ASCII and Latin-1 at
    their own codes, then punctuation and symbols; later blocks: the rest in code-point order;
    code 32 is the space in every block, as PDF word spacing needs). A PDF embeds each block it
    uses, whole, as one simple TrueType font named /LF<n>+<block> (see pdf.py).
    """

    def __init__(self, name: str, path: Path, number: int) -> None:
        super().__init__(name, str(path), asciiReadable=True)
        self.internal = f"LF{number}"
        chars = sorted(self.face.charToGlyph)
        self.blocks: list[list[int]] = [[0] * 256]
        self.codes: dict[int, int] = {}
        block0 = self.blocks[0]
        for c in chars:
            if 32 <= c <= 126 or 0xA1 <= c <= 0xFF:
                block0[c] = c
                self.codes[c] = c
        rest = sorted((c for c in chars if c not in self.codes and c > 32 and c != 0xA0),
                      key=lambda c: (c not in _BLOCK0_FIRST, c))
        free = [n for n in range(1, 256) if block0[n] == 0 and n != 32]
        for c in rest:
            if not free:
                self.blocks.append([0] * 256)
                self.blocks[-1][32] = 32
                free = [n for n in range(1, 256) if n != 32]
            n = free.pop(0)
            self.blocks[-1][n] = c
            self.codes[c] = (len(self.blocks) - 1) * 256 + n
        self.codes[0xA0] = 32             # no-break space prints as a space, as ReportLab does
        # Text wholly in block 0 (nearly all text) is encoded by one translate, not char by char.
        self._block0 = frozenset(chr(c) for c, code in self.codes.items() if code >> 8 == 0 and code)
        self._table0 = {c: code for c, code in self.codes.items() if code >> 8 == 0 and code != c}
        self._objects: dict[int, tuple[bytes, int, bytes, list[float]]] = {}

    def splitString(self, text: str, doc: Any, encoding: str = "utf-8") -> list[tuple[int, bytes]]:
        used = self.state.setdefault(doc, set())
        if self._block0.issuperset(text):
            used.add(0)
            return [(0, text.translate(self._table0).encode("latin-1"))] if text else []
        out: list[tuple[int, bytes]] = []
        block, buf = -1, bytearray()
        for ch in text:
            code = self.codes.get(ord(ch), 0)
            if code >> 8 != block:
                if buf:
                    out.append((block, bytes(buf)))
                block, buf = code >> 8, bytearray()
                used.add(block)
            buf.append(code & 0xFF)
        if buf:
            out.append((block, bytes(buf)))
        return out

    def getSubsetInternalName(self, subset: int, doc: Any) -> str:
        used = self.state.setdefault(doc, set())
        used.add(subset)
        if self.fontName not in doc.fontMapping:
            doc.fontMapping[self.fontName] = "/" + self.internal
            doc.delayedFonts.append(self)
        return f"/{self.internal}+{subset}"

    def used(self, doc: Any) -> frozenset[int]:
        """The blocks a (recording) canvas's document has drawn with."""
        return frozenset(self.state.get(doc, ()))

    def block_objects(self, block: int) -> tuple[bytes, int, bytes, list[float]]:
        """The compressed font program, its length, the compressed ToUnicode map and the widths
        of one block: built once per process (pdf.PdfWriter writes them)."""
        if block not in self._objects:
            chars = self.blocks[block]
            program = self.face.makeSubset(chars)
            self._objects[block] = (zlib.compress(program), len(program),
                                    zlib.compress(to_unicode_cmap(self.base_name(block), chars).encode()),
                                    [self.face.getCharWidth(c) for c in chars])
        return self._objects[block]

    def base_name(self, block: int) -> str:
        return str((SUBSETN(block) + b"+" + self.face.name + self.face.subfontNameX).decode("pdfdoc"))

    def addObjects(self, doc: Any) -> None:
        raise NotImplementedError("ReportLab canvases only record here; pdf.PdfWriter writes files")


def to_unicode_cmap(name: str, chars: list[int]) -> str:
    """The ToUnicode CMap of one block: code n is chars[n]. Each character is written as
    UTF-16BE, as the PDF reference requires (9.10.3), so one above U+FFFF is a surrogate pair
    (<D835DC00> for U+1D400); ReportLab's makeToUnicodeCMap wrote such a character as 5 hex
    digits, which readers take for garbage. For the rest, the text is the same as ReportLab's,
    byte for byte, so no PDF without such a character changes."""
    return "\n".join([
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({name})",
        f"/Ordering ({name})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{name} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(chars) - 1:02X}>",
        "endcodespacerange",
        f"{len(chars)} beginbfchar",
        *(f"<{code:02X}> <{chr(char).encode('utf-16-be').hex().upper()}>"
          for code, char in enumerate(chars)),
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ])


_registered: dict[str, FixedFont] = {}


def fixed_font(name: str) -> FixedFont:
    """The face `name`, parsed and registered with ReportLab the first time it is asked for, so
    a run parses the fallback faces (DejaVu Sans: 16 times the primary face's size, most of the
    time spent on fonts) only when a character needs them. A face's character codes and its
    /LF<n> name come from the face and FACES alone, so the order faces are registered in never
    shows in a PDF."""
    font = _registered.get(name)
    if font is None:
        font = FixedFont(name, fonts_dir() / FACES[name], list(FACES).index(name) + 1)
        pdfmetrics.registerFont(font)
        _registered[name] = font
    return font


def register() -> None:
    """Register the primary faces, the ones every document sets its text in."""
    fixed_font(face(False))
    fixed_font(face(True))


def registered() -> tuple[FixedFont, ...]:
    """The faces this process has registered: the only ones anything can have drawn with."""
    return tuple(_registered.values())


@cache
def coverage(name: str) -> frozenset[int]:
    """The code points face `name` has a glyph for."""
    return frozenset(fixed_font(name).face.charToGlyph)


def font_files() -> dict[str, Path]:
    return {name: fonts_dir() / file for name, file in FACES.items()}


def face(bold: bool, fallback: bool = False) -> str:
    return (FALLBACK if fallback else PRIMARY) + ("-Bold" if bold else "")


def unprintable(text: str) -> list[str]:
    """Characters that neither face can draw in one of the weights. Any text may be set in bold
    (a heading, a label's drug name, large print), and DejaVu Sans Bold lacks some characters
    the regular face has (U+1D5A0-U+1D5D3, for one): segments() would draw them as nothing."""
    if text.isascii() and text.isprintable():    # the primary face has all of printable ASCII
        return []
    bad: set[str] = set()
    for bold in (False, True):
        primary = coverage(face(bold))
        missing = {c for c in text if not c.isspace() and ord(c) not in primary}
        if missing:
            fallback = coverage(face(bold, fallback=True))
            bad |= {c for c in missing if ord(c) not in fallback}
    return sorted(bad)


@lru_cache(maxsize=4096)
def segments(text: str, bold: bool) -> tuple[Segment, ...]:
    """Split text into runs, each drawn by the primary face or, where it lacks a glyph, the
    fallback face. Cached: label fitting measures the same words at several sizes."""
    cov = coverage(PRIMARY)
    out: list[Segment] = []
    current, buf = "", list[str]()
    for ch in text:
        name = face(bold, fallback=not (ch.isspace() or ord(ch) in cov))
        if name != current and buf:
            out.append(Segment(current, "".join(buf)))
            buf = []
        current = name
        buf.append(ch)
    if buf:
        out.append(Segment(current, "".join(buf)))
    for segment in out:
        fixed_font(segment.font)      # a fallback run: its face is registered before it is drawn
    return tuple(out)


@lru_cache(maxsize=4096)
def width_pt(text: str, size_pt: float, bold: bool) -> float:
    return float(sum(pdfmetrics.stringWidth(s.text, s.font, size_pt)
                     for s in segments(text, bold)))


def markup(text: str, bold: bool = False) -> str:
    """ReportLab paragraph markup for literal text: escaped, so input never styles anything,
    with each run in the face that has its glyphs."""
    return "".join(f'<font face="{s.font}">{escape(s.text)}</font>' for s in segments(text, bold))
