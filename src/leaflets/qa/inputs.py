"""QA's inputs: the files of a tree, their bytes, and PDFs opened with pdfium or refused with a
located message."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]

from ..errors import InputError
from ..load import reading

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



def list_files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}


def read_bytes(path: Path) -> bytes:
    with reading(path):
        return path.read_bytes()


def open_pdf(path: Path) -> pypdfium2.PdfDocument:
    """A PDF, or InputError saying why not: missing, not a PDF, truncated, encrypted or damaged."""
    data = read_bytes(path)
    if not data.startswith(b"%PDF-"):
        raise InputError.one(path, "", "not a PDF (it does not start with %PDF-)")
    if b"%%EOF" not in data[-1024:]:
        raise InputError.one(path, "", "truncated PDF (no %%EOF at its end)")
    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        why = "encrypted PDF (it needs a password)" if "password" in str(exc).lower() \
            else "damaged or empty PDF (pdfium cannot open it)"
        raise InputError.one(path, "", why) from None



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
