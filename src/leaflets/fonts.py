"""The bundled typefaces: registration once per process, per-character fallback and metrics.

Atkinson Hyperlegible Next is the face for everything; characters it lacks (α, µ, →) fall back,
one character at a time, to DejaVu Sans. Both are vendored in fonts/ (see fonts/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

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


@cache
def register() -> dict[str, frozenset[int]]:
    """Register every face once per process; return each face's character coverage."""
    coverage: dict[str, frozenset[int]] = {}
    for name, file in FACES.items():
        font = TTFont(name, str(fonts_dir() / file))
        pdfmetrics.registerFont(font)
        coverage[name] = frozenset(font.face.charToGlyph)
    return coverage


def font_files() -> dict[str, Path]:
    return {name: fonts_dir() / file for name, file in FACES.items()}


def face(bold: bool, fallback: bool = False) -> str:
    return (FALLBACK if fallback else PRIMARY) + ("-Bold" if bold else "")


def unprintable(text: str) -> list[str]:
    """Characters neither face can draw."""
    cov = register()
    return sorted({c for c in text if not c.isspace() and ord(c) not in cov[PRIMARY]
                   and ord(c) not in cov[FALLBACK]})


def segments(text: str, bold: bool) -> tuple[Segment, ...]:
    """Split text into runs, each drawn by the primary face or, where it lacks a glyph, the
    fallback face."""
    cov = register()[PRIMARY]
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
    return tuple(out)


def width_pt(text: str, size_pt: float, bold: bool) -> float:
    return float(sum(pdfmetrics.stringWidth(s.text, s.font, size_pt)
                     for s in segments(text, bold)))


def markup(text: str, bold: bool = False) -> str:
    """ReportLab paragraph markup for literal text: escaped, so input never styles anything,
    with each run in the face that has its glyphs."""
    return "".join(f'<font face="{s.font}">{escape(s.text)}</font>' for s in segments(text, bold))
