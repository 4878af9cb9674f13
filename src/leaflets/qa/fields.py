"""Fields: each field's boxes from the fill records, and its old and new text and changed pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw

from .inputs import RECORD, RecordError, read_record, record_fields
from .pixels import count_changed
from .result import FieldChange


def field_boxes(actual: Path, expected: Path) -> dict[str, tuple[list[list[float]], list[list[float]]]]:
    """Each field's boxes on page 1 of a label or leaflet, on both sides, from the fill records
    beside them; none where either record is missing or not in the renderer's form (and so no
    tolerance: inputs.read_record says why, and --check reports it)."""
    section = {"label.pdf": "label", "leaflet.pdf": "leaflet"}.get(actual.name)
    if section is None:
        return {}
    boxes: dict[str, tuple[list[list[float]], list[list[float]]]] = {}
    try:
        for side, path in enumerate((actual, expected)):
            for entry in record_fields(read_record(path.parent / RECORD), section):
                if entry.page == 1:
                    pair = boxes.setdefault(entry.field, ([], []))
                    pair[side].append(list(entry.box_pt))
    except RecordError:
        return {}
    return boxes


def field_changes(boxes: dict[str, tuple[list[list[float]], list[list[float]]]], actual: Any,
                   expected: Any, changed: Image.Image, scale: float) -> list[FieldChange]:
    changes = []
    for name, (new_boxes, old_boxes) in boxes.items():
        old, new = text_in(expected, old_boxes), text_in(actual, new_boxes)
        area = Image.new("L", changed.size, 0)          # both sides' boxes, each pixel once
        draw = ImageDraw.Draw(area)
        for box in new_boxes + old_boxes:
            left, top, right, bottom = _pixels(box, scale)
            draw.rectangle((left, top, right - 1, bottom - 1), fill=255)
        pixels = count_changed(ImageChops.multiply(changed, area))
        if old != new or pixels:
            changes.append(FieldChange(name, old, new, pixels))
    return changes


def text_in(page: Any, boxes: list[list[float]]) -> str:
    height = page.get_height()
    textpage = page.get_textpage()
    parts = []
    for x, top, width, box_h in boxes:
        parts.append(textpage.get_text_bounded(left=x, bottom=height - top - box_h, right=x + width,
                                               top=height - top).strip())
    return " ".join(" ".join(p.split()) for p in parts if p)


def _pixels(box: list[float], scale: float) -> tuple[int, int, int, int]:
    x, top, width, height = box
    return (int(x * scale), int(top * scale), int((x + width) * scale) + 1,
            int((top + height) * scale) + 1)

