"""Monographs and leaflets, read back from the PDFs.

The anastrozole 1 mg monograph must print every word of its seed text
(shared/seeds/000_940fe5aacdb97f59.txt, kept as tests/data/seed-anastrozole-1mg.txt so a clone
with nothing beside it tests it), checked sentence by sentence, with only the ISMP number-unit
spacing (shared/reference/error-prone-abbreviations.md §4) printed differently. Every
monograph renders; leaflets and monographs number their pages "Page i of N"; a FAQ question is
never separated from its answer by a page break.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml

from leaflets.load import load_pharmacy, load_product
from leaflets.pipeline import RenderedFill, Settings, render_monograph

from .wording import WORDS

ROOT = Path(__file__).resolve().parents[1]      # as in conftest.py
EXAMPLES = ROOT / "examples"
# A copy of shared/seeds/000_940fe5aacdb97f59.txt: a user's clone has nothing beside it.
SEED = ROOT / "tests" / "data" / "seed-anastrozole-1mg.txt"
PRODUCTS = sorted(p.stem for p in (ROOT / "products").glob("*.yaml"))
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json"))

# "Title: rest" lines of the seed: the title is a heading, the rest is body text.
SEED_TITLES = ("Monitoring", "Contraindications", "Warnings & Precautions", "Drug Interactions",
               "Common Side Effects")

# Seed strings the monograph prints differently, and only these: ISMP §4 puts a space between
# a number and its unit ("1mg" -> "1 mg").
PRINTED_AS = {
    "Anastrozole 1mg": "Anastrozole 1 mg",
    "Anastrozole 1mg is part of a prescriber-directed hormone or endocrine protocol.":
        "Anastrozole 1 mg is part of a prescriber-directed hormone or endocrine protocol.",
}

_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9(])")


def collapse(text: str) -> str:
    return " ".join(text.split())


def sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(collapse(paragraph)) if s]


def seed_units(text: str) -> list[str]:
    """Every sentence, list item, table cell, title and FAQ line of the seed, in order."""
    units: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", line):
            continue
        if line.startswith("|"):
            units.extend(collapse(c) for c in line.strip("|").split("|") if c.strip())
        elif line.startswith("- "):
            units.append(collapse(line[2:]))
        elif (m := re.match(rf"^({'|'.join(map(re.escape, SEED_TITLES))}):\s*(.*)$", line)):
            units.append(m.group(1))
            units.extend(sentences(m.group(2)))
        else:
            units.extend(sentences(line))
    return units


def page_texts(pdf: bytes) -> list[str]:
    return [collapse(p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def body_text(pdf: bytes) -> str:
    """All pages' text without their running footers, so a sentence broken by a page break
    reads as one."""
    bodies = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        lines = page.extract_text().splitlines()
        assert lines and re.search(r"Page \d+ of \d+$", lines[-1]), "no footer on the last line"
        bodies.append(" ".join(lines[:-1]))
    return collapse(" ".join(bodies))


@pytest.fixture(scope="module")
def monographs(settings: Settings) -> dict[str, bytes]:
    pharmacy = load_pharmacy(settings.pharmacy).model
    return {slug: render_monograph(load_product(settings.catalog, slug), pharmacy)
            for slug in PRODUCTS}


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


# ---- the seed monograph ------------------------------------------------------------------------


def test_seed_parses_into_units() -> None:
    units = seed_units(SEED.read_text(encoding="utf-8"))
    # The parser found the parts the check relies on.
    assert units[0] == "Anastrozole 1mg"
    assert {"Active Ingredient", "Pharmacologic Role", "Anastrozole 1 mg", *SEED_TITLES} <= set(units)
    assert "Hot flushes, joint pain/stiffness (arthralgia), mood changes, fatigue, headache, bone " \
           "loss with prolonged use, and adverse lipid profile changes." in units
    assert not any(u.startswith(("- ", "|")) or u.endswith("|") for u in units)
    assert set(PRINTED_AS) <= set(units), "PRINTED_AS names a string the seed does not have"


def test_anastrozole_monograph_prints_every_seed_sentence(monographs: dict[str, bytes]) -> None:
    text = body_text(monographs["anastrozole-1mg"])
    units = seed_units(SEED.read_text(encoding="utf-8"))
    missing = [u for u in units if PRINTED_AS.get(u, u) not in text]
    assert missing == [], f"{len(missing)} of {len(units)} seed sentences are not printed"
    # ...and the error-prone forms themselves never are.
    for original in PRINTED_AS:
        assert original not in text
    assert not re.search(r"\d(mg|mcg|mL)\b", text)


# ---- every monograph, every leaflet -----------------------------------------------------------


@pytest.mark.parametrize("slug", PRODUCTS)
def test_monograph_renders(monographs: dict[str, bytes], slug: str) -> None:
    pdf = monographs[slug]
    assert pdf.startswith(b"%PDF-")
    pages = page_texts(pdf)
    assert len(pages) >= 1
    product = _read(ROOT / "products" / f"{slug}.yaml")
    name = PRINTED_AS.get(product["name"], product["name"])
    assert pages[0].startswith(name), "the monograph opens with the product's name"


def _check_page_footers(pages: list[str], language: str = "en") -> None:
    total = len(pages)
    footer = WORDS[language]["page"]
    for number, text in enumerate(pages, start=1):
        expected = footer.format(n=number, total=total)
        assert expected in text, f"page {number} has no {expected!r}"
        pattern = re.escape(footer).replace(r"\{n\}", r"(\d+)").replace(r"\{total\}", r"(\d+)")
        others = set(re.findall(pattern, text)) - {(str(number), str(total))}
        assert not others, f"page {number} also says {others}"


def _check_faq_on_one_page(pages: list[str], faq: list[dict[str, str]]) -> None:
    assert faq
    for pair in faq:
        q = PRINTED_AS.get(pair["question"], collapse(pair["question"]))
        a = PRINTED_AS.get(pair["answer"], collapse(pair["answer"]))
        on = [i + 1 for i, text in enumerate(pages) if q in text]
        assert on, f"question {q!r} is not printed"
        assert any(a in pages[i - 1] for i in on), \
            f"the answer to {q!r} is not on its page(s) {on}"


@pytest.mark.parametrize("slug", PRODUCTS)
def test_monograph_pages_and_faq(monographs: dict[str, bytes], slug: str) -> None:
    pages = page_texts(monographs[slug])
    _check_page_footers(pages)
    _check_faq_on_one_page(pages, _read(ROOT / "products" / f"{slug}.yaml").get("faq") or [])


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_leaflet_pages_and_faq(rendered: dict[str, RenderedFill], name: str) -> None:
    fill = _read(EXAMPLES / name)
    key = f"{fill['rx_number']}-{fill.get('fill_number', 0)}"
    pages = page_texts(rendered[key].files["leaflet.pdf"])
    assert len(pages) >= 1
    _check_page_footers(pages, fill["patient"].get("language", "en"))
    product = _read(ROOT / "products" / f"{fill['product']}.yaml")
    language = fill["patient"].get("language", "en")
    translated = (product.get("translations") or {}).get(language, {})
    _check_faq_on_one_page(pages, translated.get("faq") or product["faq"])


def test_a_leaflet_spans_pages(rendered: dict[str, RenderedFill]) -> None:
    """The footer and FAQ checks need at least one leaflet of several pages to mean much."""
    counts = [len(pypdf.PdfReader(io.BytesIO(r.files["leaflet.pdf"])).pages)
              for r in rendered.values()]
    assert max(counts) >= 2
