"""QR and Code 128 geometry: the QR module matrix (cached per URL) and the barcode's width."""

from __future__ import annotations

from functools import lru_cache

import qrcode
import qrcode.constants
from reportlab.graphics.barcode.code128 import Code128Auto

QR_QUIET_MODULES = 4        # ISO/IEC 18004 quiet zone
CODE128_QUIET_MODULES = 10  # ISO/IEC 15417 quiet zone


@lru_cache(maxsize=256)
def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The QR modules for `data`, without the quiet zone. Scoring masks is most of a QR's cost,
    and the URL is the same for every fill of a product, so it is computed once per URL."""
    qr = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    return tuple(tuple(bool(m) for m in row) for row in qr.get_matrix())


def code128(value: str, module_pt: float, height_pt: float) -> Code128Auto:
    return Code128Auto(value, barWidth=module_pt, barHeight=height_pt, quiet=True,
                       lquiet=CODE128_QUIET_MODULES * module_pt,
                       rquiet=CODE128_QUIET_MODULES * module_pt, humanReadable=False)
