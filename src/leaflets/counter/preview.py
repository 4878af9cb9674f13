"""Previews: a page of a rendered PDF (the very bytes that will be written) as a PNG, drawn by
pdfium as QA draws pages. The page shows it at its real size (CSS inches), so it is drawn at
twice the CSS pixel density for a sharp label on a high-density screen."""

from __future__ import annotations

import io

import pypdfium2 as pdfium  # type: ignore[import-untyped]

PREVIEW_DPI = 192


def page_png(pdf: bytes, index: int = 0, dpi: int = PREVIEW_DPI) -> tuple[bytes, float, float]:
    """Page `index` as a PNG, and the page's size in inches (width, height)."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[index]
        width, height = page.get_size()
        image = page.render(scale=dpi / 72).to_pil()
        page.close()
    finally:
        document.close()
    sink = io.BytesIO()
    image.save(sink, format="PNG", compress_level=1)
    return sink.getvalue(), width / 72, height / 72
