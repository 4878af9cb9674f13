"""Semantic checks of one tree of rendered fills: codes, sizes, bounds, overlaps, words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import zxingcpp

from ..errors import InputError
from ..load import load_stock
from ..models import SLUG_PATTERN
from ..rules.abbreviations import find_banned
from .fields import text_in
from .inputs import (
    DEFAULT_LIMITS,
    RECORD,
    FieldBox,
    Limits,
    RecordError,
    check_limits,
    list_entries,
    open_pdf,
    read_record,
    record_fields,
    record_text,
    shown,
)
from .result import CheckProblem

# names and numbers as given (warnings_owner: a continuation label's Rx number and patient)
IDENTITY_FIELDS = ("patient", "prescriber", "lot", "rx", "pharmacist", "warnings_owner")
CODES_DPI = 300           # the QR code and the barcode are decoded from a raster this fine


def check_tree(tree: Path, only: set[str] | None = None, *, limits: Limits = DEFAULT_LIMITS
               ) -> list[CheckProblem]:
    """Check every fill folder (a fill.json beside label.pdf) on its own, golden or not: the QR
    and barcode decode to what the record says; every text run of a patient-centred field is at
    or above its stock's minimum; nothing is drawn outside the page, and no field box overlaps
    another; no banned abbreviation is printed. `only`: the fill folders to check (as named in
    the results). A record or document that cannot be read is a problem of its fill, never the
    end of the run; only a tree that cannot be read at all, or a document beyond `limits`, is an
    InputError."""
    if not tree.is_dir():
        raise InputError.one(tree, "", "not a folder of rendered fills")
    entries = list_entries(tree)
    records = [name for name in entries if name.rpartition("/")[2] == RECORD]
    if not records and only is None:
        raise InputError.one(tree, "", f"no rendered fills here (no {RECORD} beside a label.pdf)")
    problems: list[CheckProblem] = []
    for name in records:
        prefix = name.removesuffix(RECORD)
        rel = shown(prefix.removesuffix("/") or ".")
        if (only is not None and rel not in only) or f"{prefix}label.pdf" not in entries:
            continue
        try:
            record = read_record(entries[name].path)
            fill = _Fill(record_fields(record, "label"), record_text(record, "label", "qr"),
                         record_text(record, "label", "barcode"), _stock_name(record),
                         record_text(record, "fill", "patient", "name"))
        except RecordError as exc:
            problems.append(CheckProblem(f"{rel}/{RECORD}", "record", f"not a fill record: {exc}"))
            continue
        for document in ("label.pdf", "leaflet.pdf"):
            entry = entries.get(prefix + document)
            if entry is None:
                continue
            where = f"{rel}/{document}"
            try:
                pdf = open_pdf(entry.path)
            except InputError as exc:
                problems.append(CheckProblem(where, "unreadable", exc.problems[0].message))
                continue
            if document == "label.pdf":
                check_limits(entry.path, pdf, limits, CODES_DPI)
                problems += _check_label(where, pdf, fill)
            else:
                check_limits(entry.path, pdf, limits, None)       # read, not rasterised
                problems += _check_words(where, pdf, fill.patient or "")
    return problems


@dataclass(frozen=True)
class _Fill:
    """What the checks need of a fill record, each part checked (inputs.record_fields)."""

    fields: list[FieldBox]
    qr: str | None
    barcode: str | None
    stock: str
    patient: str | None


def _stock_name(record: dict[str, Any]) -> str:
    name = record_text(record, "label", "stock") or ""
    # A name, never a path: a record must not make the check read a file outside stocks/ (the
    # pattern every stock name is validated with; load.named refuses the rest).
    if not re.fullmatch(SLUG_PATTERN, name):
        raise RecordError(f"label.stock: expected a label stock's name, got {shown(repr(name[:40]))}")
    return name


def _check_label(where: str, document: Any, fill: _Fill) -> list[CheckProblem]:
    """The first label, then each continuation label (auxiliary warnings), each against the
    record's boxes of its page."""
    problems = _check_first_label(where, document[0], [f for f in fill.fields if f.page == 1],
                                  fill)
    try:
        strip = load_stock(fill.stock).model.warnings
    except InputError:
        return problems           # reported by the first label's check
    for index in range(1, len(document)):
        boxes = [f for f in fill.fields if f.page == index + 1]
        problems += _check_page(f"{where} (label {index + 1})", document[index], boxes,
                                {"warning": strip.min_size_pt})
    return problems


def _check_page(where: str, page: Any, fields: list[FieldBox], minimum: dict[str, float]
                ) -> list[CheckProblem]:
    """Bounds, overlaps, sizes (of the fields named in `minimum`) and words of one page."""
    problems: list[CheckProblem] = []
    width, height = page.get_width(), page.get_height()
    boxes = [(f.field, list(f.box_pt)) for f in fields]
    page_edges = (round(width * 100), round(height * 100))
    for name, box in boxes:
        if _outside(_hundredths(box), page_edges):
            problems.append(CheckProblem(where, "bounds", f"{name} is drawn outside the page"))
    for i, (a, a_box) in enumerate(boxes):
        for b, b_box in boxes[i + 1:]:
            if a != b and _overlap(_hundredths(a_box), _hundredths(b_box)):
                problems.append(CheckProblem(where, "overlap", f"{a} is drawn over {b}"))
    textpage = page.get_textpage()
    for index in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(index)
        if left < -0.01 or bottom < -0.01 or right > width + 0.01 or top > height + 0.01:
            problems.append(CheckProblem(where, "bounds", "text is drawn outside the page"))
            break
    for name, box in boxes:
        if name in minimum:
            sizes = _sizes_in(textpage, box, height)
            if sizes and min(sizes) < minimum[name] - 0.01:
                problems.append(CheckProblem(where, "size", f"{name} has text at "
                                                            f"{min(sizes):g} pt, below the "
                                                            f"stock's {minimum[name]:g} pt"))
    checked = " ".join(text_in(page, [box]) for name, box in boxes if name not in IDENTITY_FIELDS)
    return problems + _banned(where, checked)


def _check_first_label(where: str, page: Any, fields: list[FieldBox], fill: _Fill
                       ) -> list[CheckProblem]:
    """The first label: its codes, then the checks of every page (`_check_page`) with each
    patient-centred field's minimum from its stock region, and its warnings at their strip's."""
    problems: list[CheckProblem] = []
    found = zxingcpp.read_barcodes(page.render(scale=CODES_DPI / 72).to_pil())
    qr = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    bars = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.Code128]
    if qr != [fill.qr]:
        problems.append(CheckProblem(where, "codes", f"the QR code reads {qr}, the record says "
                                                     f"{fill.qr!r}"))
    if bars != [fill.barcode]:
        problems.append(CheckProblem(where, "codes", f"the barcode reads {bars}, the record says "
                                                     f"{fill.barcode!r}"))
    try:
        stock = load_stock(fill.stock).model
    except InputError as err:
        # No minimum sizes without the stock; the page's other checks still run.
        return [*problems, *_check_page(where, page, fields, {}),
                CheckProblem(where, "size", str(err))]
    minimum: dict[str, float] = {}
    for field in fields:
        if field.field == "warning":      # auxiliary warnings: at their strip's size
            minimum[field.field] = stock.warnings.min_size_pt
            continue
        region = stock.region_of(field.field)
        if region is not None and stock.regions[region].patient_centred:
            minimum[field.field] = stock.regions[region].min_size_pt
    return problems + _check_page(where, page, fields, minimum)


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
