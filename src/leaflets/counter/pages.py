"""The counter's pages: templates/counter/*.html.j2, through Jinja2 with autoescape (whatever
was typed prints as text, exactly as entered, and never runs: safety rule 7), and the few static
files the pages load (htmx, vendored from its npm package, and the counter's own script and
stylesheet)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import jinja2

from ..i18n import languages
from ..record.table import HISTORY, RECALL
from ..resources import templates_dir
from .users import LOCK_AFTER, LOCK_FOR

_HERE = Path(__file__).parent / "static"
STATIC = {name: _HERE / name for name in ("htmx.min.js", "counter.js", "counter.css")}


_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def local_time(text: object, zone: dt.tzinfo | None = None) -> object:
    """A ledger or queue time (UTC, ISO 8601 with Z) as staff read a clock: in the counter
    computer's time zone (or `zone`), to the minute, with the zone's name. Anything else is
    shown as it is."""
    if not isinstance(text, str) or not _STAMP.fullmatch(text):
        return text
    at = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(zone)
    return at.strftime("%Y-%m-%d %H:%M %Z")


class Pages:
    def __init__(self, idle: dt.timedelta) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir() / "counter"), autoescape=True,
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters["local"] = local_time
        minutes = idle.total_seconds() / 60
        self.idle_words = (f"{minutes:g} minute{'' if minutes == 1 else 's'}" if minutes >= 1
                           else f"{idle.total_seconds():g} seconds")
        self.idle_ms = int(idle.total_seconds() * 1000)
        self.languages = [(code, f"{lang.english_name} ({lang.name})" if lang.name !=
                           lang.english_name else lang.name)
                          for code, lang in languages().items()]
        self.history_columns = HISTORY
        self.recall_columns = RECALL

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(
            idle_ms=self.idle_ms, idle_words=self.idle_words, lock_after=LOCK_AFTER,
            lock_minutes=f"{LOCK_FOR.total_seconds() / 60:g}", **context)
