"""Where the bundled templates, fonts and label stocks live (a checkout, or an installed wheel)."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_dir() -> Path:
    packaged = Path(__file__).parent / "_data"
    if (packaged / "templates").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


def templates_dir() -> Path:
    return data_dir() / "templates"


def fonts_dir() -> Path:
    return data_dir() / "fonts"


def stocks_dir() -> Path:
    return data_dir() / "stocks"
