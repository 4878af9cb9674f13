"""Where the bundled templates, fonts and label stocks live (a checkout, or an installed wheel)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml


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


def locale_dir() -> Path:
    return templates_dir() / "locale"


@cache
def language_table() -> dict[str, dict[str, object]]:
    """templates/languages.yaml: the languages a fill may ask for, and how each is printed."""
    data = yaml.safe_load((templates_dir() / "languages.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), "templates/languages.yaml must map codes to languages"
    return data
