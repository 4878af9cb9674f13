"""Semantic checks of one tree of rendered fills: codes, sizes, bounds, overlaps, words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import zxingcpp

from ..errors import InputError
from ..load import load_stock
from ..rules.abbreviations import find_banned
from .fields import text_in
from .inputs import DEFAULT_LIMITS, RECORD, Limits, check_limits, open_pdf
from .result import CheckProblem

IDENTITY_FIELDS = ("patient", "prescriber", "lot", "rx", "pharmacist")   # names and numbers as given
CODES_DPI = 300           # the QR code and the barcode are decoded from a raster this fine


def check_tree(tree: Path, only: set[str] | None = None, *, limits: Limits = DEFAULT_LIMITS
               ) -> list[CheckProblem]:
    """Check every fill folder (a fill.json beside label.pdf) on its own, golden or not: the QR
    and barcode decode to what the record says; every text run of a patient-centred field is at
    or above its stock's minimum; nothing is drawn outside the page, and no field box overlaps
    another; no banned abbreviation is printed. `only`: the fill folders to check."""
    if not tree.is_dir():
        raise InputError.one(tree, "", "not a folder of rendered fills")
    problems: list[CheckProblem] = []
    records = sorted(tree.rglob(RECORD))
    if not records and only is None:
        raise InputError.one(tree, "", f"no rendered fills here (no {RECORD} beside a label.pdf)")
    for record_path in records:
        folder = record_path.parent
        rel = folder.relative_to(tree).as_posix()
        if (only is not None and rel not in only) or not (folder / "label.pdf").exists():
            continue
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(CheckProblem(f"{rel}/{RECORD}", "record", f"not JSON: {exc}"))
            continue
        try:
            problems += _check_label(folder, rel, record, limits)
            if (folder / "leaflet.pdf").exists():
                leaflet = open_pdf(folder / "leaflet.pdf")
                check_limits(folder / "leaflet.pdf", leaflet, limits, None)   # read, not rasterised
                problems += _check_words(f"{rel}/leaflet.pdf", leaflet,
                                         str(record["fill"]["patient"]["name"]))
        except (KeyError, TypeError, AttributeError, ValueError):
            problems.append(CheckProblem(f"{rel}/{RECORD}", "record",
                                         "not a fill record (its label, fields or fill are missing "
                                         "or malformed)"))
    return problems


def _check_label(folder: Path, rel: str, record: dict[str, Any], limits: Limits) -> list[CheckProblem]:
    where = f"{rel}/label.pdf"
    problems: list[CheckProblem] = []
    label = record["label"]
    document = open_pdf(folder / "label.pdf")
    check_limits(folder / "label.pdf", document, limits, CODES_DPI)
    page = document[0]
    width, height = page.get_width(), page.get_height()
    found = zxingcpp.read_barcodes(page.render(scale=CODES_DPI / 72).to_pil())
    qr = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    bars = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.Code128]
    if qr != [label.get("qr")]:
        problems.append(CheckProblem(where, "codes", f"the QR code reads {qr}, the record says "
                                                     f"{label.get('qr')!r}"))
    if bars != [label.get("barcode")]:
        problems.append(CheckProblem(where, "codes", f"the barcode reads {bars}, the record says "
                                                     f"{label.get('barcode')!r}"))
    boxes = [(str(f["field"]), [float(v) for v in f["box_pt"]]) for f in label["fields"]]
    page_edges = (round(width * 100), round(height * 100))
    for name, box in boxes:
        if _outside(_hundredths(box), page_edges):
            problems.append(CheckProblem(where, "bounds", f"{name} is drawn outside the page"))
    for i, (a, a_box) in enumerate(boxes):
        for b, b_box in boxes[i + 1:]:
            if a != b and _overlap(_hundredths(a_box), _hundredths(b_box)):
                problems.append(CheckProblem(where, "overlap", f"{a} is drawn over {b}"))
    try:
        stock = load_stock(label.get("stock", "")).model
    except InputError as err:
        return [*problems, CheckProblem(where, "size", str(err))]
    textpage = page.get_textpage()
    for index in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(index)
        if left < -0.01 or bottom < -0.01 or right > width + 0.01 or top > height + 0.01:
            problems.append(CheckProblem(where, "bounds", "text is drawn outside the page"))
            break
    for name, box in boxes:
        region = stock.region_of(name)
        if region is None or not stock.regions[region].patient_centred:
            continue
        minimum = stock.regions[region].min_size_pt
        sizes = _sizes_in(textpage, box, height)
        if sizes and min(sizes) < minimum - 0.01:
            problems.append(CheckProblem(where, "size", f"{name} has text at {min(sizes):g} pt, "
                                                        f"below the stock's {minimum:g} pt"))
    identity = {f["field"] for f in label.get("fields", []) if f["field"] in IDENTITY_FIELDS}
    checked = " ".join(text_in(page, [box]) for name, box in boxes if name not in identity)
    problems += _banned(where, checked)
    return problems


# The record rounds each box's x, top, width and height to 0.01 pt, so an edge computed as x + width
# can be 0.01 pt off: two boxes that touch can seem to share 0.01 pt, and a box that ends at the
# page's edge can seem to pass it by 0.01 pt. Compared in whole hundredths of a point (exact, no
# float tolerance), only more than that rounding is an overlap or an overflow.
ROUNDING = 1              # hundredths of a point


def _hundredths(box: list[float]) -> tuple[int, int, int, int]:
    x, top, width, height = (round(v * 100) for v in box)
    return x, top, width, height


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two boxes share more than the record's rounding in both directions (touching
    boxes share an edge, not an area)."""
    shared_x = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    shared_y = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return shared_x > ROUNDING and shared_y > ROUNDING


def _outside(box: tuple[int, int, int, int], page: tuple[int, int]) -> bool:
    x, top, width, height = box
    return x < 0 or top < 0 or x + width - page[0] > ROUNDING or top + height - page[1] > ROUNDING


def _sizes_in(textpage: Any, box: list[float], height: float) -> list[float]:
    x, top, w, h = box
    sizes = []
    for index in range(textpage.count_chars()):
        left, bottom, right, up = textpage.get_charbox(index)
        cx, cy = (left + right) / 2, height - (bottom + up) / 2
        if x <= cx <= x + w and top <= cy <= top + h and right > left:
            sizes.append(float(pypdfium2.raw.FPDFText_GetFontSize(textpage.raw, index)))
    return sizes


def _check_words(where: str, document: Any, patient: str) -> list[CheckProblem]:
    text = " ".join(p.get_textpage().get_text_range() for p in document)
    return _banned(where, text.replace(patient, " ") if patient else text)


def _banned(where: str, text: str) -> list[CheckProblem]:
    return [CheckProblem(where, "abbreviation", str(hit)) for hit in find_banned(text)]
