"""A composed monograph (compose.Document, the blocks its PDF is drawn from) as one accessible,
phone-friendly HTML page. Every word comes from the blocks or from templates/site/; Jinja2
escapes all of it (autoescape), so product text prints as entered and never runs or styles
anything (safety rule 7)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from ..compose import QA, Block, Box, Document, Heading, Para, Qr, Run, Table
from ..resources import templates_dir

TEMPLATE = "site/monograph.html.j2"
STYLESHEET = "site/site.css"


@dataclass(frozen=True)
class Page:
    """What the page template is given: the document's title, its blocks as HTML-shaped items,
    and the words around them (the pharmacy, the revision date, the PDF's file name)."""

    title: str
    items: tuple[dict[str, Any], ...]
    pharmacy: str
    revised: str
    pdf: str
    stylesheet: str


def _runs(runs: tuple[Run, ...]) -> list[dict[str, Any]]:
    return [{"text": r.text, "bold": r.bold} for r in runs]


def items(blocks: tuple[Block, ...]) -> tuple[dict[str, Any], ...]:
    """Blocks as template items (a pure function): consecutive bullets become one list; a
    heading's level is its HTML level (h1 is the page's title)."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, Para) and block.style == "bullet":
            if found and found[-1]["kind"] == "list":
                found[-1]["entries"].append(_runs(block.runs))
            else:
                found.append({"kind": "list", "entries": [_runs(block.runs)]})
        elif isinstance(block, Para):
            found.append({"kind": "para", "style": block.style, "runs": _runs(block.runs)})
        elif isinstance(block, Heading):
            found.append({"kind": "heading", "level": min(max(block.level, 1), 6),
                          "text": block.text})
        elif isinstance(block, Table):
            found.append({"kind": "table", "header": block.header, "rows": block.rows})
        elif isinstance(block, QA):
            found.append({"kind": "qa", "question": block.question, "answer": block.answer})
        elif isinstance(block, Box):
            found.append({"kind": "box", "items": items(block.children)})
        elif isinstance(block, Qr):
            found.append({"kind": "link", "url": block.url, "text": block.caption})
    return tuple(found)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir()), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def monograph_page(document: Document, *, pharmacy: str, revised: str, pdf: str,
                   stylesheet: str) -> bytes:
    """The page's bytes (UTF-8): the same inputs give the same bytes."""
    page = Page(document.title, items(document.blocks), pharmacy, revised, pdf, stylesheet)
    return _environment().get_template(TEMPLATE).render(page=page).encode()


def stylesheet() -> bytes:
    return (templates_dir() / STYLESHEET).read_bytes()
