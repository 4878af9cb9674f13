"""Render: draw what layout decided (the label) and flow composed blocks (leaflet, monograph).

ReportLab draws onto canvases that are never saved: each page, or part of a page, is recorded as
operators (pdf.Ops) and pdf.PdfWriter files them. Because every face gives each character a fixed
code (fonts.FixedFont), recorded operators are valid in any file: a product's leaflet pages are
laid out and drawn once per process and shared by every fill of that product, and the combined
batch sheets reuse exactly the operators of each fill's own PDF.

Every PDF date comes from the caller (the fill date, or a product's revision date) and nothing
reads the clock, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable
from reportlab.platypus.doctemplate import LayoutError

from .codes import QR_QUIET_MODULES, code128, qr_matrix
from .compose import QA, Block, Box, Document, Heading, PageNumber, Para, Qr, Table
from .errors import FitError
from .fonts import ASCENT_EM, PRIMARY, face, markup, register, registered, segments, width_pt
from .layout import LabelLayout, PlacedLine
from .models import DocumentStyle
from .pdf import Info, Ops, PdfWriter

FieldBox = tuple[str, int, tuple[float, float, float, float]]   # field, page, x, y from top, w, h


@dataclass(frozen=True)
class Pages:
    """A document's recorded pages, each a sequence of parts drawn in order, and where each
    named field was drawn."""

    width_pt: float
    height_pt: float
    pages: tuple[tuple[Ops, ...], ...]
    fields: tuple[FieldBox, ...] = ()


def write_pdf(pages: Pages, info: Info) -> bytes:
    buf = io.BytesIO()
    writer = PdfWriter(buf, pages.width_pt, pages.height_pt, info)
    for page in pages.pages:
        writer.add_page(page)
    writer.close()
    return buf.getvalue()


class _Recorder(Canvas):  # type: ignore[misc]
    """A canvas that is never saved: `take` returns what was drawn since the last take, as Ops,
    and starts a fresh page (fresh graphics state) for the next part."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        register()
        kwargs.setdefault("initialFontName", PRIMARY)
        kwargs.setdefault("initialFontSize", 10)
        super().__init__(*args, **kwargs)
        self.recorded: list[Ops] = []
        self._placed_fonts: set[tuple[str, int]] = set()

    def place(self, code: str, fonts: frozenset[tuple[str, int]]) -> None:
        """Add operators recorded elsewhere (they are valid anywhere: fonts.FixedFont)."""
        self.addLiteral(code)
        self._placed_fonts |= fonts

    def take(self, *, shared: bool = False) -> Ops:
        code = "\n".join(self._code)
        fonts = frozenset({(font.fontName, block) for font in registered()
                           for block in font.used(self._doc)} | self._placed_fonts)
        key = hashlib.sha256(code.encode("ascii")).hexdigest()[:24] if shared else None
        Canvas.showPage(self)
        return Ops(code, fonts, key)

    def showPage(self) -> None:       # Platypus ends each page here: record it
        self.recorded.append(self.take(shared=True))

    def save(self) -> None:
        """Nothing to save: the recorded pages are the result."""


def _recorder(width_pt: float, height_pt: float) -> _Recorder:
    return _Recorder(io.BytesIO(), pagesize=(width_pt, height_pt))


# ---- the label ---------------------------------------------------------------------------------


def record_label(layout: LabelLayout) -> Pages:
    c = _recorder(layout.width_pt, layout.height_pt)
    draw_label(c, layout)
    pages = [(c.take(),)]
    for lines in layout.continuation:      # continuation labels: auxiliary warnings only
        _draw_lines(c, lines, layout.height_pt)
        pages.append((c.take(),))
    return Pages(layout.width_pt, layout.height_pt, tuple(pages))


def render_label(layout: LabelLayout, *, title: str, day: dt.date) -> bytes:
    return write_pdf(record_label(layout), Info(title, "Prescription label", day))


def _draw_lines(c: Canvas, lines: tuple[PlacedLine, ...], height: float) -> None:
    c.setFillColor(colors.black)
    for line in lines:
        text = c.beginText(line.x_pt, height - line.baseline_pt)
        for seg in line.segments:
            text.setFont(seg.font, line.size_pt)
            text.textOut(seg.text)
        c.drawText(text)


def draw_label(c: Canvas, layout: LabelLayout) -> None:
    height = layout.height_pt
    c.setFillColor(colors.black)
    for line in layout.lines:
        text = c.beginText(line.x_pt, height - line.baseline_pt)
        for seg in line.segments:
            text.setFont(seg.font, line.size_pt)
            text.textOut(seg.text)
        c.drawText(text)
    x, y, w, h = layout.qr_box_pt
    c.addLiteral(_qr_code(layout.qr_data, x, height - y - h, min(w, h)))
    bx, by, _, bh = layout.barcode_box_pt
    code128(layout.barcode_value, layout.barcode_module_pt, bh).drawOn(c, bx, height - by - bh)


@lru_cache(maxsize=256)
def _qr_code(data: str, x: float, y: float, size: float) -> str:
    """The QR as one filled path of run-length rectangles, with its quiet zone inside `size`;
    the same for every fill of a product, so built once per process."""
    matrix = qr_matrix(data)
    n = len(matrix)
    module = size / (n + 2 * QR_QUIET_MODULES)
    left = x + QR_QUIET_MODULES * module
    top = y + size - QR_QUIET_MODULES * module
    rects: list[str] = []
    for r, row in enumerate(matrix):
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                rects.append(f"{fp_str(left + start * module, top - (r + 1) * module)} "
                             f"{fp_str((col - start) * module, module)} re")
            else:
                col += 1
    return "q 0 0 0 rg n\n" + "\n".join(rects) + "\nf Q"


# ---- documents ---------------------------------------------------------------------------------


class _QrFlowable(Flowable):  # type: ignore[misc]
    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.data, self.size = data, size
        self.width = self.height = size

    def draw(self) -> None:
        self.canv.addLiteral(_qr_code(self.data, 0, 0, self.size))


@dataclass(frozen=True)
class _Drawn:
    """One block drawn once, its top-left corner at the origin, growing down."""

    code: str
    fonts: frozenset[tuple[str, int]]
    height: float
    space_before: float
    space_after: float
    fields: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()   # relative boxes

    def at(self, x: float, top: float) -> str:
        return f"q 1 0 0 1 {fp_str(x, top)} cm\n{self.code}\nQ"


@lru_cache(maxsize=1024)
def _drawn(block: Block, style: DocumentStyle, width_pt: float) -> _Drawn:
    """A block's flowables stacked as a frame would stack them, drawn and recorded. Cached:
    most lines of a leaflet's head (its title, a directions line, a use-by date) recur across
    the fills of a batch."""
    flowables = _flowables((block,), _styles(style), style, together=False)
    c = _recorder(width_pt, 1000)
    y = 0.0
    for i, flowable in enumerate(flowables):
        y += flowable.getSpaceBefore() if i else 0
        _, h = flowable.wrap(width_pt, 1e6)
        flowable.drawOn(c, 0, -(y + h))
        y += h + (flowable.getSpaceAfter() if i < len(flowables) - 1 else 0)
    ops = c.take()
    fields: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()
    if isinstance(block, Para | Heading) and block.field:
        fields = ((block.field, (0.0, 0.0, width_pt, round(flowables[0].height, 2))),)
    elif isinstance(flowables[0], _Boxed):
        fields = flowables[0].fields()
    return _Drawn(ops.code, ops.fonts, y, flowables[0].getSpaceBefore(),
                  flowables[-1].getSpaceAfter(), fields)


class _Boxed(Flowable):  # type: ignore[misc]
    """Blocks stacked inside a ruled box, each drawn once (`_drawn`). A one-cell Platypus table
    does the same several times slower. Never split: a box that does not fit moves or fails."""

    BORDER_PT, PAD_X_PT, PAD_TOP_PT, PAD_BOTTOM_PT = 2.0, 10.0, 8.0, 4.0

    def __init__(self, children: tuple[Block, ...], style: DocumentStyle, field: str) -> None:
        super().__init__()
        self.children, self.style, self.field = children, style, field
        self._placed: list[tuple[_Drawn, float]] = []

    def wrap(self, available_w: float, available_h: float) -> tuple[float, float]:
        inner_w = available_w - 2 * self.PAD_X_PT
        y, self._placed = self.PAD_TOP_PT, []
        for i, child in enumerate(self.children):
            drawn = _drawn(child, self.style, inner_w)
            y += drawn.space_before if i else 0
            self._placed.append((drawn, y))
            y += drawn.height + (drawn.space_after if i < len(self.children) - 1 else 0)
        self.width, self.height = available_w, y + self.PAD_BOTTOM_PT
        return self.width, self.height

    def fields(self) -> tuple[tuple[str, tuple[float, float, float, float]], ...]:
        """The named fields inside, relative to the box's top-left corner (after wrap)."""
        return tuple((name, (round(self.PAD_X_PT + x, 2), round(top + y, 2), w, h))
                     for drawn, top in self._placed for name, (x, y, w, h) in drawn.fields)

    def draw(self) -> None:
        c = self.canv
        c.setLineWidth(self.BORDER_PT)
        c.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        for drawn, top in self._placed:
            c.place(drawn.at(self.PAD_X_PT, self.height - top), drawn.fonts)


@lru_cache(maxsize=16)
def _styles(style: DocumentStyle) -> dict[str, ParagraphStyle]:
    body = style.body_size_pt
    lead = style.leading
    h1, h2, h3 = style.heading_sizes_pt
    # bulletFontName defaults to Helvetica, a font no PDF of ours may name without embedding, and
    # bulletFontSize to 10 pt, below a leaflet's minimum: the bullet is set like its text.
    base = ParagraphStyle("body", fontName=PRIMARY, fontSize=body, leading=body * lead,
                          alignment=TA_LEFT, spaceAfter=body * 0.5, bulletFontName=PRIMARY,
                          bulletFontSize=body)
    return {
        "body": base,
        "lead": ParagraphStyle("lead", parent=base, fontSize=h3, leading=h3 * lead),
        "note": ParagraphStyle("note", parent=base, fontSize=style.min_size_pt,
                               leading=style.min_size_pt * lead, textColor=colors.HexColor("#333333")),
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=body * 1.5,
                                 bulletIndent=body * 0.4, spaceAfter=body * 0.3),
        "h1": ParagraphStyle("h1", parent=base, fontName=face(True), fontSize=h1,
                             leading=h1 * 1.2, spaceAfter=h1 * 0.3),
        "h2": ParagraphStyle("h2", parent=base, fontName=face(True), fontSize=h2,
                             leading=h2 * 1.2, spaceBefore=h2 * 0.8, spaceAfter=h2 * 0.35,
                             keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=base, fontName=face(True), fontSize=h3,
                             leading=h3 * 1.2, spaceBefore=h3 * 0.5, keepWithNext=1),
        "question": ParagraphStyle("question", parent=base, fontName=face(True),
                                   spaceAfter=body * 0.2, keepWithNext=1),
    }


# Table cells default to Helvetica even when they hold only paragraphs.
_TABLE_FONT = ("FONTNAME", (0, 0), (-1, -1), PRIMARY)


def _para(runs: Any, style: ParagraphStyle, bullet: bool = False, bold: bool = False) -> Paragraph:
    text = "".join(markup(r.text, r.bold or bold) for r in runs)
    return Paragraph(text, style, bulletText="•" if bullet else None)


def _flowables(blocks: tuple[Block, ...], styles: dict[str, ParagraphStyle],
               style: DocumentStyle, *, together: bool = True) -> list[Flowable]:
    """Platypus flowables for blocks; `together` keeps boxes, QA pairs and the QR whole across
    page breaks (a document's head is on one page by construction, so it needs no keeping)."""
    def keep(flowables: list[Flowable]) -> list[Flowable]:
        return [KeepTogether(flowables)] if together else flowables

    out: list[Flowable] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(Paragraph(markup(block.text, True), styles[f"h{block.level}"]))
        elif isinstance(block, Para):
            out.append(_para(block.runs, styles[block.style if block.style != "bullet" else "bullet"],
                             bullet=block.style == "bullet", bold=style.bold))
        elif isinstance(block, QA):
            # A question and its answer are never split across pages.
            out.extend(keep([Paragraph(markup(block.question, True), styles["question"]),
                             Paragraph(markup(block.answer, style.bold), styles["body"])]))
        elif isinstance(block, Box):
            out.extend([*keep([_Boxed(block.children, style, block.field)]), Spacer(1, 10)])
        elif isinstance(block, Qr):
            caption = Paragraph(markup(block.caption, style.bold), styles["body"])
            table = RLTable([[_QrFlowable(block.url, style.qr_size_pt), caption]],
                            colWidths=[style.qr_size_pt + 12, None])
            table.setStyle(TableStyle([_TABLE_FONT, ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
            out.extend([*keep([table]), Spacer(1, 8)])
        elif isinstance(block, Table):
            rows: list[list[Flowable]] = []
            if block.header:
                rows.append([Paragraph(markup(h, True), styles["body"]) for h in block.header])
            rows.extend([Paragraph(markup(cell, style.bold), styles["body"]) for cell in row]
                        for row in block.rows)
            table = RLTable(rows, colWidths=["30%", "70%"], repeatRows=1 if block.header else 0)
            table.setStyle(TableStyle([
                _TABLE_FONT, ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0 if block.header else -1),
                 colors.HexColor("#EEEEEE") if block.header else colors.white),
            ]))
            out.extend([table, Spacer(1, 10)])
    return out


def render_document(document: Document, style: DocumentStyle, *,
                    body: tuple[Block, ...] = ()) -> Pages:
    """Lay out and draw a document: its own blocks (the head) on page 1, then `body` flowing on.

    The body is laid out and drawn once per process for each room the head leaves on page 1 (a
    product's leaflet text is the same for every fill), so only the head and the footers are
    drawn per call.
    """
    page_w, page_h = style.width_in * 72, style.height_in * 72
    m = style.margin_pt
    top, after = page_h - m, 0.0
    placed: list[str] = []
    heads: list[_Drawn] = []
    top_of: list[float] = []
    fonts: set[tuple[str, int]] = set()
    for block in document.blocks:        # the head, stacked as a frame would stack it
        drawn = _drawn(block, style, page_w - 2 * m)
        top -= (after + drawn.space_before) if placed else 0
        if top - drawn.height < m:
            field = getattr(block, "field", "document")
            raise FitError(field, drawn.height, top - m, f"needs {drawn.height:.0f} pt of height but "
                           f"only {top - m:.0f} pt is left on page 1 at {style.body_size_pt:g} pt")
        placed.append(drawn.at(m, top))
        heads.append(drawn)
        top_of.append(top)
        fonts |= drawn.fonts
        top, after = top - drawn.height, drawn.space_after
    head = Ops("\n".join(placed), frozenset(fonts))
    fields = tuple((name, 1, (round(m + x, 2), round(page_h - top_of[i] + y, 2), w, h))
                   for i, drawn in enumerate(heads) for name, (x, y, w, h) in drawn.fields)
    room = round(top - after - m, 3)
    c = _recorder(page_w, page_h)
    body_pages = _body_pages(body, style, room)
    total = max(len(body_pages), 1)
    pages: list[tuple[Ops, ...]] = []
    for number in range(1, total + 1):
        numbers = {PageNumber.PAGE: str(number), PageNumber.PAGES: str(total)}
        footer = "".join(numbers[part] if isinstance(part, PageNumber) else part
                         for part in document.footer)
        _draw_footer(c, footer, style)
        parts: tuple[Ops, ...] = (head,) if number == 1 else ()
        if number <= len(body_pages):
            parts += (body_pages[number - 1],)
        pages.append((*parts, c.take()))
    return Pages(page_w, page_h, tuple(pages), fields)


def _footer_lines(text: str, size: float, available: float, bold: bool) -> list[str] | None:
    if width_pt(text, size, bold) <= available:
        return [text]
    parts = text.split(" · ")
    for cut in range(len(parts) - 1, 0, -1):
        first, second = " · ".join(parts[:cut]), " · ".join(parts[cut:])
        if width_pt(first, size, bold) <= available:
            return [first, second] if width_pt(second, size, bold) <= available else None
    return None


@lru_cache(maxsize=128)
def _body_pages(blocks: tuple[Block, ...], style: DocumentStyle, room_pt: float) -> tuple[Ops, ...]:
    """The body's pages, laid out with `room_pt` left on page 1 and full frames after."""
    if not blocks:
        return ()
    page_w, page_h = style.width_in * 72, style.height_in * 72
    m = style.margin_pt

    def frame(height: float) -> Frame:
        return Frame(m, m, page_w - 2 * m, height, leftPadding=0, rightPadding=0, topPadding=0,
                     bottomPadding=0)

    templates = [PageTemplate("first", [frame(room_pt)], autoNextPageTemplate="later"),
                 PageTemplate("later", [frame(page_h - 2 * m)])]
    doc = BaseDocTemplate(io.BytesIO(), pagesize=(page_w, page_h), pageTemplates=templates,
                          leftMargin=m, rightMargin=m, topMargin=m, bottomMargin=m)
    try:
        doc.build(_flowables(blocks, _styles(style), style), canvasmaker=_Recorder)
    except LayoutError as exc:
        raise FitError("document", 0, page_h - 2 * m, f"a block is taller than a page ({exc})") from None
    recorded: list[Ops] = doc.canv.recorded
    return tuple(recorded)


def _draw_footer(c: Canvas, text: str, style: DocumentStyle) -> None:
    """The foot of the page, in the note size: one line, or two broken at a " · " when one is
    too wide (large print). A footer that fits neither way is an error, never a smaller size."""
    size, m = style.min_size_pt, style.margin_pt
    available = style.width_in * 72 - 2 * m
    lines = _footer_lines(text, size, available, style.bold)
    step = size * style.leading
    height = len(lines or ()) * step
    if lines is None or height > m - 4:
        needed = width_pt(text, size, style.bold)
        raise FitError("footer", needed, available, f"needs {needed:.0f} pt but the foot of the "
                       f"page is {available:.0f} pt wide at {size:g} pt")
    c.setFillColor(colors.HexColor("#333333"))
    for i, words in enumerate(lines):       # centred in the bottom margin, top line first
        baseline = m / 2 + height / 2 - step * (i + 1) + (step - size * ASCENT_EM) / 2
        line = c.beginText(m, baseline)
        for seg in segments(words, style.bold):
            line.setFont(seg.font, size)
            line.textOut(seg.text)
        c.drawText(line)
