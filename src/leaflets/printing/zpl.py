"""A label PDF as ZPL for a Zebra thermal printer: each page rasterised by pdfium at the
printhead's own resolution, thresholded to 1 bit, and sent as one ^GF graphic field, so the
printer lays down exactly the dots of the PDF's raster (no printer fonts, no second layout).
ZPL structure and ^GF: ../shared/reference/printing.md §2."""

from __future__ import annotations

import math

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from PIL import Image

DPIS = (203, 300)        # 8 and 12 dots/mm printheads (printing.md §2, ^JM)
# A dot prints where at least half of it is ink (THRESHOLD on the dot's mean grey). The mean
# comes from pdfium's anti-aliased rendering at SUPERSAMPLE × the printer's resolution, boxed
# down: rendered straight at 203 dpi, pdfium widens every filled rectangle to whole pixels, which
# made a Code 128 bar 1 dot too wide and its 2-dot space 1 dot (measured on the example label).
# A hard threshold, never dithering: text and code edges stay solid.
THRESHOLD = 128
SUPERSAMPLE = 4


def dots(length_pt: float, dpi: int) -> int:
    """A length in points as whole printer dots (half a dot rounds up: 2.5 in at 203 dpi is
    507.5 dots, ^LL508 as in printing.md §2)."""
    return math.floor(length_pt * dpi / 72 + 0.5)


def page_bitmap(page: pdfium.PdfPage, dpi: int) -> Image.Image:
    """One page as a 1-bit image at the printer's resolution, exactly ^PW × ^LL dots."""
    width_pt, height_pt = page.get_size()
    size = (dots(width_pt, dpi), dots(height_pt, dpi))
    grey = page.render(scale=dpi * SUPERSAMPLE / 72, grayscale=True,
                       may_draw_forms=True).to_pil().convert("L")
    # pdfium may round a side down (2.5 in is 507.5 dots): what lies past the page is paper.
    canvas = Image.new("L", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), 255)
    canvas.paste(grey.crop((0, 0, min(canvas.width, grey.width), min(canvas.height, grey.height))))
    mean = canvas.reduce(SUPERSAMPLE)          # each dot's mean grey (a box filter)
    return mean.point(lambda v: 255 if v >= THRESHOLD else 0).convert("1", dither=Image.Dither.NONE)


def graphic_field(bitmap: Image.Image) -> bytes:
    """^GFA (ASCII hex, uncompressed: simple and needs no CRC) of a 1-bit image; a set bit is a
    printed dot, so the image's bits are inverted (PIL's mode 1 has 1 for white). One hex row
    per line (line breaks are allowed inside ^GF ASCII data)."""
    width, height = bitmap.size
    per_row = (width + 7) // 8
    packed = bytes(b ^ 0xFF for b in bitmap.tobytes())     # rows padded to whole bytes
    assert len(packed) == per_row * height
    pad_bits = per_row * 8 - width
    mask = (0xFF << pad_bits) & 0xFF          # the padding bits of each row's last byte: no dot
    rows = []
    for y in range(height):
        row = bytearray(packed[y * per_row:(y + 1) * per_row])
        row[-1] &= mask
        rows.append(row.hex().upper())
    total = per_row * height
    return f"^GFA,{total},{total},{per_row},\n".encode() + "\n".join(rows).encode()


def label_zpl(pdf: bytes, dpi: int, copies: int = 1) -> bytes:
    """Every page of a label PDF as its own ZPL label (^XA…^XZ), the set repeated `copies` times,
    collated: a label and its warnings labels stay together for each container (whole formats
    rather than ^PQ, which not every ZPL interpreter takes). The same PDF, dpi and copies give
    the same bytes."""
    if dpi not in DPIS:
        raise ValueError(f"dpi must be one of {DPIS}, got {dpi}")
    document = pdfium.PdfDocument(pdf)
    labels = []
    try:
        for index in range(len(document)):
            bitmap = page_bitmap(document[index], dpi)
            width, height = bitmap.size
            labels.append(f"^XA\n^PW{width}\n^LL{height}\n^LH0,0\n^FO0,0".encode()
                          + graphic_field(bitmap) + b"^FS\n^XZ\n")
    finally:
        document.close()
    return b"".join(labels) * copies
