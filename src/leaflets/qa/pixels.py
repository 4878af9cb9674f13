"""Pixels: a page rasterised, the mask of changed pixels, its regions, and the overlay image."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageChops, ImageDraw


def raster(page: Any, scale: float) -> Image.Image:
    """The page in grey at `scale` pixels a point. Its size was checked against the limits
    (inputs.check_limits) before this is called."""
    image: Image.Image = page.render(scale=scale).to_pil().convert("L")
    return image


def changed_mask(before: Image.Image, after: Image.Image) -> Image.Image:
    """A mask of changed pixels (255), on a canvas as large as either page."""
    size = (max(before.width, after.width), max(before.height, after.height))
    a, b = Image.new("L", size, 255), Image.new("L", size, 255)
    a.paste(before, (0, 0))
    b.paste(after, (0, 0))
    return ImageChops.difference(a, b).point(lambda v: 255 if v > 8 else 0)


def count_changed(mask: Image.Image) -> int:
    return int(mask.histogram()[255])


def points(box: tuple[int, int, int, int], scale: float) -> list[float]:
    return [round(box[0] / scale, 1), round(box[1] / scale, 1), round((box[2] - box[0]) / scale, 1),
            round((box[3] - box[1]) / scale, 1)]


def regions(mask: Image.Image, gap_px: int = 6) -> list[tuple[int, int, int, int]]:
    """The changed regions: bands of changed rows (closer than `gap_px` joined), each cut to
    its changed columns."""
    # Not Image.crop: it applies Pillow's decompression-bomb check (a warning above 89 million
    # pixels, an error at twice that), meant for image files, to our own masks, and so failed
    # on a large page at a high --dpi. getprojection marks every row with a changed pixel.
    _, rows = mask.getprojection()
    bands: list[list[int]] = []
    for y, value in enumerate(rows):
        if value:
            if bands and y - bands[-1][1] <= gap_px:
                bands[-1][1] = y
            else:
                bands.append([y, y])
    boxes = []
    for top, bottom in bands:
        band = Image.new("L", (mask.width, bottom + 1 - top), 0)
        band.paste(mask, (0, -top))
        box = band.getbbox()
        if box:
            boxes.append((box[0], top, box[2], bottom + 1))
    return boxes


def overlay(before: Image.Image, after: Image.Image, regions: list[tuple[int, int, int, int]]
            ) -> Image.Image:
    """The expected page faded, removed ink in red, added ink in green, each change boxed."""
    size = (max(before.width, after.width), max(before.height, after.height))
    e, a = Image.new("L", size, 255), Image.new("L", size, 255)
    e.paste(before, (0, 0))
    a.paste(after, (0, 0))
    dark_e, dark_a = e.point(lambda v: 255 if v < 128 else 0), a.point(lambda v: 255 if v < 128 else 0)
    removed = ImageChops.subtract(dark_e, dark_a)
    added = ImageChops.subtract(dark_a, dark_e)
    overlay = Image.merge("RGB", [e.point(lambda v: 160 + v * 95 // 255)] * 3)
    overlay.paste((220, 0, 0), mask=removed)
    overlay.paste((0, 160, 0), mask=added)
    draw = ImageDraw.Draw(overlay)
    for box in regions:
        draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), outline=(0, 90, 220), width=2)
    return overlay
