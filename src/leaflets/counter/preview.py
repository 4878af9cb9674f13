"""Previews: a page of a rendered PDF (the very bytes that will be written) as a PNG, drawn by
pdfium as QA draws pages. The page shows it at its real size (CSS inches, 96 CSS pixels each).

Drawn in grey levels: the documents print black and greys only (render.py), so nothing is
lost, and a grey PNG is a third of the size and time of a colour one. The label is drawn at
twice the CSS pixel density (sharp on a high-density screen: its small type is what is being
checked); the leaflet page at one (a Letter page at 192 dpi took 70 ms of a preview's 80;
benchmarks/counter.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdfium2 as pdfium  # type: ignore[import-untyped]

LABEL_DPI, PAGE_DPI = 192, 96


def page_png(pdf: bytes, dpi: int, index: int = 0) -> tuple[bytes, float, float]:
    """Page `index` as a PNG, and the page's size in inches (width, height)."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[index]
        width, height = page.get_size()
        image = page.render(scale=dpi / 72, grayscale=True).to_pil()
        page.close()
    finally:
        document.close()
    sink = io.BytesIO()
    image.save(sink, format="PNG", compress_level=1)
    return sink.getvalue(), width / 72, height / 72


def page_count(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


@dataclass(frozen=True)
class Preview:
    png: bytes
    what: str                        # its alt text and caption
    width: int                       # CSS pixels: the page's real size
    height: int


def previews(files: dict[str, bytes]) -> list[Preview]:
    """What the form shows of a rendered fill: every page of the label (its warnings labels
    too) and the leaflet's first page."""
    labels = page_count(files["label.pdf"])
    pages = [("label.pdf", index, "Label" if labels == 1 else f"Label {index + 1} of {labels}",
              LABEL_DPI) for index in range(labels)]
    shown = []
    for name, index, what, dpi in [*pages, ("leaflet.pdf", 0, "Leaflet, page 1", PAGE_DPI)]:
        png, width, height = page_png(files[name], dpi, index)
        shown.append(Preview(png, what, round(width * 96), round(height * 96)))
    return shown
