"""The PDF layer: fixed character codes (fonts.FixedFont) and the page-by-page writer (pdf.py).

Recorded operators are only reusable if a character's code never depends on the document, and the
combined sheets are only right if the writer's files are valid PDFs that readers agree on.
"""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pypdfium2
from hypothesis import given
from hypothesis import strategies as st

from leaflets import render
from leaflets.compose import Document, Heading, PageNumber, Para, Run
from leaflets.fonts import FACES, fixed_font
from leaflets.load import load_document_style
from leaflets.pdf import Info, Ops, PdfWriter
from leaflets.render import render_document, write_pdf


class _Doc:
    """Stands in for a ReportLab document: FixedFont keeps per-document state keyed by it."""


def _reference(name: str, text: str) -> list[tuple[int, bytes]]:
    """Character by character, straight from the face's code table."""
    font = fixed_font(name)
    out: list[tuple[int, bytearray]] = []
    for ch in text:
        code = font.codes.get(ord(ch), 0)
        if not out or out[-1][0] != code >> 8:
            out.append((code >> 8, bytearray()))
        out[-1][1].append(code & 0xFF)
    return [(block, bytes(data)) for block, data in out]


@given(st.sampled_from(sorted(FACES)), st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_encoding_is_the_code_table_in_every_document(name: str, text: str) -> None:
    font = fixed_font(name)
    first, second = _Doc(), _Doc()
    font.splitString("αβγ – “warm” up", first)       # a different history in one document
    assert font.splitString(text, first) == font.splitString(text, second) == _reference(name, text)


def test_codes_are_fixed_and_unique_within_a_face() -> None:
    for name in FACES:
        font = fixed_font(name)
        codes = [code for char, code in font.codes.items() if char != 0xA0]
        assert len(codes) == len(set(codes))
        assert all(font.codes[c] == c for c in range(32, 127))   # ASCII reads as itself
        assert all(block[32] == 32 for block in font.blocks)      # word spacing needs a space


def _page(text: str) -> Ops:
    return Ops(f"BT /LF1+0 12 Tf 72 700 Td ({text}) Tj ET", frozenset({("Atkinson", 0)}))


def test_the_writer_files_pages_fonts_and_shared_forms_once() -> None:
    shared = Ops("0 0 1 rg 72 72 100 100 re f", frozenset(), key="square")
    buf = io.BytesIO()
    writer = PdfWriter(buf, 612, 792, Info("Crème brûlée (test)", "Sheet", dt.date(2026, 11, 24)))
    for n in range(3):
        writer.add_page([shared, _page(f"page {n + 1}")])
    writer.add_page([])
    writer.close()
    data = buf.getvalue()
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert [p.extract_text() for p in reader.pages] == ["page 1", "page 2", "page 3", ""]
    assert reader.metadata is not None
    assert reader.metadata.title == "Crème brûlée (test)"
    assert reader.metadata["/CreationDate"] == "D:20261124000000+00'00'"
    assert data.count(b"/Subtype /Form") == 1
    assert data.count(b"/FontFile2") == 1
    assert len(pypdfium2.PdfDocument(data)) == 4      # a second, independent reader agrees


def test_a_document_is_the_same_bytes_whether_its_body_was_cached_or_not() -> None:
    style = load_document_style("leaflet").model
    body = tuple(Para((Run(f"Paragraph {i} of a body that flows over pages. " * 12),)) for i in range(40))
    footer = ("Page ", PageNumber.PAGE, " of ", PageNumber.PAGES)
    head = Document("T", "S", footer, (Heading(1, "A title"),))
    info = Info("T", "S", dt.date(2026, 11, 24))
    first = write_pdf(render_document(head, style, body=body), info)
    render._body_pages.cache_clear()      # draw everything afresh
    render._drawn.cache_clear()
    again = write_pdf(render_document(head, style, body=body), info)
    assert first == again
    assert len(pypdf.PdfReader(io.BytesIO(first)).pages) >= 2
