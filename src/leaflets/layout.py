"""Layout: place the label's text in its stock's regions, at or above each region's minimum size.

Works on plain data and font metrics, so it is testable without making a PDF. A region's text
is set in one size, the largest from max_size_pt down to min_size_pt (half-point steps) at which
everything fits; below the minimum it is a FitError naming the field, never smaller or clipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .codes import CODE128_QUIET_MODULES, QR_QUIET_MODULES, code128, qr_matrix
from .compose import PageNumber, WarningText
from .errors import FitError
from .fonts import ASCENT_EM, DESCENT_EM, Segment, segments, width_pt
from .models import Box, Stock, TextRegion, WarningStrip

# The smallest QR module a 203 dpi thermal printer draws as at least two dots (2 / 203 in).
MIN_QR_MODULE_PT = 0.70


@dataclass(frozen=True)
class PlacedLine:
    field: str
    x_pt: float
    baseline_pt: float          # from the top edge
    size_pt: float
    bold: bool
    text: str
    segments: tuple[Segment, ...]
    width_pt: float
    code: str = ""              # an auxiliary warning's line: the warning's code
    leading: float = 0.0        # a warning strip's line: its line pitch over its size


@dataclass(frozen=True)
class FieldBox:
    field: str
    box_pt: Box                 # x, y from the top-left corner, width, height
    code: str = ""              # an auxiliary warning's box: the warning's code
    size_pt: float = 0.0        # the size its text is set at (warning strips)


@dataclass(frozen=True)
class LabelLayout:
    width_pt: float
    height_pt: float
    lines: tuple[PlacedLine, ...]
    boxes: tuple[FieldBox, ...]
    sizes_pt: tuple[tuple[str, float], ...]    # region -> chosen size
    qr_data: str
    qr_box_pt: Box
    qr_module_pt: float
    barcode_value: str
    barcode_box_pt: Box
    barcode_module_pt: float
    # Continuation labels (pages 2..n of label.pdf): the auxiliary warnings the first label's
    # strip cannot hold, with their heading and owner lines; their boxes, page by page.
    continuation: tuple[tuple[PlacedLine, ...], ...] = ()
    continuation_boxes: tuple[tuple[FieldBox, ...], ...] = ()

    @property
    def page_count(self) -> int:
        return 1 + len(self.continuation)


@dataclass(frozen=True)
class _Word:
    field: str
    text: str
    bold: bool
    sep_before: bool            # the first word of a field after another field on its row


def layout_label(fields: Mapping[str, str], stock: Stock, *, qr_data: str,
                 barcode_value: str, warnings: WarningText | None = None) -> LabelLayout:
    for name in fields:
        if stock.region_of(name) is None:
            raise FitError(name, 0, 0, f"label stock '{stock.name}' has no place for this field")
    lines: list[PlacedLine] = []
    sizes: list[tuple[str, float]] = []
    leading: dict[float, float] = {}
    for key, region in stock.regions.items():
        size, placed = _fit_region(region, fields)
        lines.extend(placed)
        sizes.append((key, size))
        leading.update((ln.baseline_pt, region.leading) for ln in placed)
    width, height = stock.size_pt
    qr_module, barcode_module = _check_codes(stock, qr_data, barcode_value)
    strip: list[PlacedLine] = []
    pages: list[list[PlacedLine]] = []
    if warnings is not None and warnings.warnings:
        strip, pages = layout_warnings(warnings, stock.warnings)
        sizes.append(("warnings", stock.warnings.min_size_pt))
    return LabelLayout(
        width_pt=width, height_pt=height, lines=tuple(lines + strip),
        boxes=_field_boxes(lines, leading) + _strip_boxes(strip),
        sizes_pt=tuple(sizes), qr_data=qr_data, qr_box_pt=stock.qr.box_pt,
        qr_module_pt=qr_module, barcode_value=barcode_value,
        barcode_box_pt=stock.barcode.box_pt, barcode_module_pt=barcode_module,
        continuation=tuple(tuple(page) for page in pages),
        continuation_boxes=tuple(_strip_boxes(page) for page in pages))


def _sizes(region: TextRegion) -> list[float]:
    out, size = [], region.max_size_pt
    while size >= region.min_size_pt - 1e-9:
        out.append(round(size, 2))
        size -= 0.5
    if out[-1] != region.min_size_pt:
        out.append(region.min_size_pt)
    return out


def _fit_region(region: TextRegion, fields: Mapping[str, str]
                ) -> tuple[float, list[PlacedLine]]:
    _, y0, _, box_h = region.box_pt
    rows = [[f for f in row if fields.get(f)] for row in region.rows]
    rows = [row for row in rows if row]
    failure: FitError | None = None
    for size in _sizes(region):
        try:
            placed = _place(region, rows, fields, size)
        except FitError as exc:
            failure = exc
            continue
        needed = _height(len({ln.baseline_pt for ln in placed}), size, region.leading)
        if needed <= box_h + 1e-6:
            return size, placed
        # Name the first field that runs past the bottom of the box.
        bottom = y0 + box_h
        over = next(ln for ln in placed if ln.baseline_pt + DESCENT_EM * size > bottom + 1e-6)
        failure = FitError(over.field, needed, box_h,
                           f"does not fit: the text needs {needed:.1f} pt of height at "
                           f"{size:g} pt but the region has {box_h:g} pt "
                           f"(minimum size {region.min_size_pt:g} pt); a larger label stock "
                           "(--stock) may hold it")
    assert failure is not None
    raise failure


def _height(n_lines: int, size: float, leading: float) -> float:
    return (ASCENT_EM + DESCENT_EM) * size + (n_lines - 1) * leading * size if n_lines else 0.0


def _place(region: TextRegion, rows: list[list[str]], fields: Mapping[str, str],
           size: float) -> list[PlacedLine]:
    x0, y0, box_w, _ = region.box_pt
    # Gaps are drawn in the weight of the word that follows them, so measure them that way.
    sep_w = {b: width_pt(region.separator, size, b) for b in (False, True)}
    space_w = {b: width_pt(" ", size, b) for b in (False, True)}
    placed: list[PlacedLine] = []
    line_no = 0
    for row in rows:
        words = [
            _Word(f, w, region.bold or f in region.bold_fields, i == 0 and j > 0)
            for j, f in enumerate(row) for i, w in enumerate(fields[f].split())
        ]
        # Greedy fill: a line holds words while they fit; a separator at a break is dropped.
        cursor = 0.0
        current: list[tuple[_Word, float, float]] = []   # word, x offset, width
        field_w = {f: width_pt(fields[f], size, region.bold or f in region.bold_fields)
                   for f in row}
        for k, word in enumerate(words):
            w = width_pt(word.text, size, word.bold)
            starts_field = k == 0 or words[k - 1].field != word.field
            if w > box_w + 1e-6:
                raise FitError(word.field, w, box_w,
                               f"the word '{word.text}' is {w:.1f} pt wide at {size:g} pt; the "
                               f"region is {box_w:g} pt wide")
            gap = (sep_w if word.sep_before else space_w)[word.bold] if current else 0.0
            # A field that fits on a line of its own is never split across two.
            whole = field_w[word.field] if starts_field and field_w[word.field] <= box_w else w
            if current and cursor + gap + whole > box_w + 1e-6:
                placed.extend(_emit(current, region, x0, y0, size, line_no))
                line_no += 1
                current, cursor, gap = [], 0.0, 0.0
            current.append((word, cursor + gap, w))
            cursor += gap + w
        if current:
            placed.extend(_emit(current, region, x0, y0, size, line_no))
            line_no += 1
    return placed


def _emit(words: list[tuple[_Word, float, float]], region: TextRegion, x0: float, y0: float,
          size: float, line_no: int) -> list[PlacedLine]:
    """One visual line as runs: consecutive words of one field become one PlacedLine; the
    separator before a field is drawn as part of that field's run."""
    baseline = y0 + ASCENT_EM * size + line_no * region.leading * size
    out: list[PlacedLine] = []
    group: list[tuple[_Word, float, float]] = []

    def flush() -> None:
        if not group:
            return
        first = group[0]
        text = " ".join(w.text for w, _, _ in group)
        x = x0 + first[1]
        prefix = ""
        if first[0].sep_before and out:
            prefix = region.separator
            x -= width_pt(prefix, size, first[0].bold)
        full = prefix + text
        out.append(PlacedLine(first[0].field, x, baseline, size, first[0].bold,
                              full, segments(full, first[0].bold),
                              width_pt(full, size, first[0].bold)))

    for item in words:
        if group and item[0].field != group[0][0].field:
            flush()
            group = []
        group.append(item)
    flush()
    return out


def _field_boxes(lines: list[PlacedLine], leading: dict[float, float]) -> tuple[FieldBox, ...]:
    """Each line's slot: one line pitch tall, split around the baseline in the proportion of the
    face's ascent to descent, so slots of consecutive lines tile without overlapping."""
    boxes = []
    for ln in lines:
        pitch = leading[ln.baseline_pt] * ln.size_pt
        above = pitch * ASCENT_EM / (ASCENT_EM + DESCENT_EM)
        boxes.append(FieldBox(ln.field, (round(ln.x_pt, 2), round(ln.baseline_pt - above, 2),
                                         round(ln.width_pt, 2), round(pitch, 2))))
    return tuple(boxes)


def _check_codes(stock: Stock, qr_data: str, barcode_value: str) -> tuple[float, float]:
    _, _, qw, qh = stock.qr.box_pt
    n = len(qr_matrix(qr_data)) + 2 * QR_QUIET_MODULES
    module = min(qw, qh) / n
    if module < MIN_QR_MODULE_PT:
        raise FitError("qr", MIN_QR_MODULE_PT * n, min(qw, qh),
                       f"the QR code needs {MIN_QR_MODULE_PT * n:.1f} pt to print its {n} modules "
                       f"scannably; the stock gives {min(qw, qh):g} pt")
    _, _, bw, bh = stock.barcode.box_pt
    bar = code128(barcode_value, stock.barcode.module_pt, bh)
    if bar.width > bw + 1e-6:
        raise FitError("barcode", bar.width, bw,
                       f"the Code 128 barcode of '{barcode_value}' is {bar.width:.1f} pt wide with "
                       f"its {CODE128_QUIET_MODULES}-module quiet zones; the stock gives {bw:g} pt")
    return module, stock.barcode.module_pt


# ---- auxiliary warnings: the first label's strip and the continuation labels -------------------


@dataclass(frozen=True)
class _Item:
    """A text set as its own lines in a warning strip: a warning, or a heading, note or owner."""

    field: str                  # warning, warnings_note, warnings_heading, warnings_owner
    code: str
    text: str
    size: float
    bold: bool
    gap_before: float           # extra space above it, in points


# Space between two warnings, over the size: each starts its own line and reads as its own.
WARNING_GAP = 0.25


def layout_warnings(text: WarningText, strip: WarningStrip
                    ) -> tuple[list[PlacedLine], list[list[PlacedLine]]]:
    """The first label's strip and each continuation label's lines. Every warning is set at the
    strip's min_size_pt, on lines of its own, never split across labels. The first label holds
    every warning if they all fit; else it says they continue and holds those that fit after
    that note, and the rest fill continuation labels in order, each with its heading ("Warnings
    2 of 3") and owner (Rx and patient). A warning that does not fit an empty continuation label
    is a FitError naming its code."""
    size = strip.min_size_pt
    items = [_Item("warning", code, words, size, strip.bold, WARNING_GAP * size if i else 0.0)
             for i, (code, words) in enumerate(text.warnings)]
    placed = _stack(items, strip.box_pt, strip.leading)
    if placed is not None:
        return placed, []
    total = 2
    for _ in range(8):          # the page count changes the note's words; settle it
        first, pages = _paginate(items, text, strip, total)
        if 1 + len(pages) == total:
            return first, pages
        total = 1 + len(pages)
    raise AssertionError("the number of continuation labels did not settle")  # pragma: no cover


def _numbered(parts: tuple[str | PageNumber, ...], page: int, total: int) -> str:
    out = "".join(p if isinstance(p, str) else str(page if p is PageNumber.PAGE else total)
                  for p in parts)
    return " ".join(out.split())


def _paginate(items: list[_Item], text: WarningText, strip: WarningStrip, total: int
              ) -> tuple[list[PlacedLine], list[list[PlacedLine]]]:
    size = strip.min_size_pt
    note = _Item("warnings_note", "", _numbered(text.continues, 1, total), strip.note_size_pt,
                 True, 0.0)
    if _stack([note], strip.box_pt, strip.leading) is None:
        raise FitError("warnings", 0, strip.box_pt[3],
                       f"the note '{note.text}' does not fit the label's warning strip at "
                       f"{strip.note_size_pt:g} pt (the stock's warnings.box_pt is too small)")
    rest = list(items)
    first = _fill([note], rest, strip.box_pt, strip.leading, size) \
        or _stack([note], strip.box_pt, strip.leading) or []
    pages: list[list[PlacedLine]] = []
    while rest:
        number = len(pages) + 2
        head = [_Item("warnings_heading", "", _numbered(text.heading, number, total), size,
                      True, 0.0),
                _Item("warnings_owner", "", text.owner, size, True, 0.0)]
        page = _fill(head, rest, strip.continuation_box_pt, strip.leading, size)
        if page is None:
            code = rest[0].code
            raise FitError(f"warnings.{code}", 0, strip.continuation_box_pt[3],
                           f"the auxiliary warning '{code}' does not fit even an empty "
                           f"continuation label at {size:g} pt: shorten its text in the warning "
                           "catalog, or use a larger label stock (--stock)")
        pages.append(page)
    return first, pages


def _fill(held: list[_Item], rest: list[_Item], box: Box, leading: float, size: float
          ) -> list[PlacedLine] | None:
    """After `held`, as many of `rest`'s warnings as fit the box, in order, taken from `rest`:
    the lines of all, or None when not even the next one fits."""
    placed = None
    on_box = list(held)
    while rest:
        trial = _stack([*on_box, _spaced(rest[0], on_box, size)], box, leading)
        if trial is None:
            break
        on_box.append(_spaced(rest.pop(0), on_box, size))
        placed = trial
    return placed


def _spaced(item: _Item, before: list[_Item], size: float) -> _Item:
    """A warning after a heading, note or other warning gets the gap between warnings."""
    gap = WARNING_GAP * size if before else 0.0
    return _Item(item.field, item.code, item.text, item.size, item.bold, gap)


def _stack(items: list[_Item], box: Box, leading: float) -> list[PlacedLine] | None:
    """The items' lines, one under another from the box's top, or None if they run past its
    bottom or a word is wider than the box."""
    x0, y0, box_w, box_h = box
    placed: list[PlacedLine] = []
    baseline = y0
    for item in items:
        lines = _wrap(item, box_w)
        if lines is None:
            return None
        for j, line in enumerate(lines):
            if not placed:
                baseline = y0 + ASCENT_EM * item.size
            else:
                baseline += leading * item.size + (item.gap_before if j == 0 else 0.0)
            width = width_pt(line, item.size, item.bold)
            placed.append(PlacedLine(item.field, x0, baseline, item.size, item.bold, line,
                                     segments(line, item.bold), width, item.code, leading))
    if placed and placed[-1].baseline_pt + DESCENT_EM * placed[-1].size_pt > y0 + box_h + 1e-6:
        return None
    return placed


def _wrap(item: _Item, box_w: float) -> list[str] | None:
    """The item's lines (greedy, at spaces), or None if a word is wider than the box."""
    lines: list[str] = []
    current = ""
    for word in item.text.split():
        if width_pt(word, item.size, item.bold) > box_w + 1e-6:
            return None
        trial = f"{current} {word}" if current else word
        if current and width_pt(trial, item.size, item.bold) > box_w + 1e-6:
            lines.append(current)
            trial = word
        current = trial
    if current:
        lines.append(current)
    return lines


def _strip_boxes(lines: list[PlacedLine]) -> tuple[FieldBox, ...]:
    """Each strip line's slot, as _field_boxes makes them: one line pitch tall, split around the
    baseline in the proportion of ascent to descent."""
    boxes = []
    for ln in lines:
        pitch = ln.leading * ln.size_pt
        above = pitch * ASCENT_EM / (ASCENT_EM + DESCENT_EM)
        boxes.append(FieldBox(ln.field, (round(ln.x_pt, 2), round(ln.baseline_pt - above, 2),
                                         round(ln.width_pt, 2), round(pitch, 2)), ln.code,
                              ln.size_pt))
    return tuple(boxes)
