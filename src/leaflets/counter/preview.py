"""Previews: a page of a rendered PDF (the very bytes that will be written) as a PNG, drawn by
pdfium as QA draws pages. The page shows it at its real size (CSS inches, 96 CSS pixels each).

Drawn in grey levels: the documents print black and greys only (render.py), so nothing is
lost, and a grey PNG is a third of the size and time of a colour one. The label is drawn at
twice the CSS pixel density (sharp on a high-density screen: its small type is what is being
checked); the leaflet page at one (a Letter page at 192 dpi took 70 ms of a preview's 80;
benchmarks/counter.py)."""

from __future__ import annotations

import io

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
