"""Render: draw what layout decided (the label) and flow composed blocks (leaflet, monograph).

ReportLab runs in invariant mode, every PDF date comes from the caller (the fill date, or a
product's revision date), and the canvas starts in an embedded face, so the same inputs give the
same bytes and no PDF names a font it does not embed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable

from .codes import QR_QUIET_MODULES, code128, qr_matrix
from .compose import QA, Block, Box, Document, Heading, Para, Qr, Table
from .fonts import PRIMARY, face, markup, register
from .layout import LabelLayout
from .models import DocumentStyle

rl_config.invariant = 1       # no clock, no random /ID
rl_config.useA85 = 0          # binary streams: smaller and faster (shared/notes/performance.md)


def _date_formatter(day: dt.date) -> Callable[..., str]:
    stamp = f"D:{day.year:04d}{day.month:02d}{day.day:02d}000000+00'00'"
    return lambda *_: stamp


def _metadata(c: Canvas, title: str, subject: str, day: dt.date) -> None:
    c.setDateFormatter(_date_formatter(day))
    c.setTitle(title)
    c.setSubject(subject)
    c.setAuthor("leaflets")
    c.setCreator("leaflets")
    c.setProducer("leaflets")


# ---- the label ---------------------------------------------------------------------------------


def render_label(layout: LabelLayout, *, title: str, day: dt.date) -> bytes:
    register()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(layout.width_pt, layout.height_pt), initialFontName=PRIMARY,
               initialFontSize=10, pageCompression=1)
    _metadata(c, title, "Prescription label", day)
    draw_label(c, layout)
    c.showPage()
    c.save()
    return buf.getvalue()


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
    _draw_qr(c, layout.qr_data, x, height - y - h, min(w, h))
    bx, by, _, bh = layout.barcode_box_pt
    code128(layout.barcode_value, layout.barcode_module_pt, bh).drawOn(c, bx, height - by - bh)


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR as one path of run-length rectangles, with its quiet zone inside `size`."""
    matrix = qr_matrix(data)
    n = len(matrix)
    module = size / (n + 2 * QR_QUIET_MODULES)
    left = x + QR_QUIET_MODULES * module
    top = y + size - QR_QUIET_MODULES * module
    path = c.beginPath()
    for r, row in enumerate(matrix):
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(left + start * module, top - (r + 1) * module,
                          (col - start) * module, module)
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)


# ---- documents ---------------------------------------------------------------------------------


class _QrFlowable(Flowable):  # type: ignore[misc]
    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.data, self.size = data, size
        self.width = self.height = size

    def draw(self) -> None:
        _draw_qr(self.canv, self.data, 0, 0, self.size)


def _styles(style: DocumentStyle) -> dict[str, ParagraphStyle]:
    body = style.body_size_pt
    lead = style.leading
    h1, h2, h3 = style.heading_sizes_pt
    # bulletFontName defaults to Helvetica, a font no PDF of ours may name without embedding.
    base = ParagraphStyle("body", fontName=PRIMARY, fontSize=body, leading=body * lead,
                          alignment=TA_LEFT, spaceAfter=body * 0.5, bulletFontName=PRIMARY)
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


def _para(runs: Any, style: ParagraphStyle, bullet: bool = False) -> Paragraph:
    text = "".join(markup(r.text, r.bold) for r in runs)
    return Paragraph(text, style, bulletText="•" if bullet else None)


def _flowables(blocks: tuple[Block, ...], styles: dict[str, ParagraphStyle],
               style: DocumentStyle) -> list[Flowable]:
    out: list[Flowable] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(Paragraph(markup(block.text, True), styles[f"h{block.level}"]))
        elif isinstance(block, Para):
            out.append(_para(block.runs, styles[block.style if block.style != "bullet" else "bullet"],
                             bullet=block.style == "bullet"))
        elif isinstance(block, QA):
            # A question and its answer are never split across pages.
            out.append(KeepTogether([Paragraph(markup(block.question, True), styles["question"]),
                                     Paragraph(markup(block.answer), styles["body"])]))
        elif isinstance(block, Box):
            inner = _flowables(block.children, styles, style)
            table = RLTable([[inner]], colWidths=["100%"])
            table.setStyle(TableStyle([
                _TABLE_FONT, ("BOX", (0, 0), (-1, -1), 2, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 10), ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]))
            out.extend([KeepTogether([table]), Spacer(1, 10)])
        elif isinstance(block, Qr):
            caption = Paragraph(markup(block.caption), styles["body"])
            table = RLTable([[_QrFlowable(block.url, style.qr_size_pt), caption]],
                            colWidths=[style.qr_size_pt + 12, None])
            table.setStyle(TableStyle([_TABLE_FONT, ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
            out.extend([KeepTogether([table]), Spacer(1, 8)])
        elif isinstance(block, Table):
            rows: list[list[Flowable]] = []
            if block.header:
                rows.append([Paragraph(markup(h, True), styles["body"]) for h in block.header])
            rows.extend([Paragraph(markup(cell), styles["body"]) for cell in row] for row in block.rows)
            table = RLTable(rows, colWidths=["30%", "70%"], repeatRows=1 if block.header else 0)
            table.setStyle(TableStyle([
                _TABLE_FONT, ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0 if block.header else -1),
                 colors.HexColor("#EEEEEE") if block.header else colors.white),
            ]))
            out.extend([table, Spacer(1, 10)])
    return out


def render_document(document: Document, style: DocumentStyle, *, day: dt.date) -> bytes:
    register()
    styles = _styles(style)
    buf = io.BytesIO()
    page_w, page_h = style.width_in * 72, style.height_in * 72
    m = style.margin_pt
    footer_style = styles["note"]

    class _NumberedCanvas(Canvas):  # type: ignore[misc]
        """Defers each page so the footer can say 'Page N of M'."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            _metadata(self, document.title, document.subject, day)

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                text = document.footer.replace("{page}", str(number)).replace("{pages}", str(total))
                footer = Paragraph(markup(text), footer_style)
                _, fh = footer.wrap(page_w - 2 * m, m)
                footer.drawOn(self, m, m / 2 - fh / 2)
                super().showPage()
            super().save()

    doc = SimpleDocTemplate(buf, pagesize=(page_w, page_h), leftMargin=m, rightMargin=m,
                            topMargin=m, bottomMargin=m, title=document.title,
                            subject=document.subject, author="leaflets", creator="leaflets",
                            producer="leaflets", initialFontName=PRIMARY, initialFontSize=10,
                            pageCompression=1)
    doc.build(_flowables(document.blocks, styles, style), canvasmaker=_NumberedCanvas)
    return buf.getvalue()
