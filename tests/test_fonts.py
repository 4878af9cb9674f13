"""Fonts: every character the inputs can print has a glyph in a bundled face, and every PDF embeds
every font it names (no reliance on a printer's or viewer's Helvetica).

Glyph coverage is checked twice: through leaflets.fonts.unprintable, and independently from the
font files' own cmaps, so a mistake in the code's coverage table cannot hide a missing glyph.
"""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from reportlab.pdfbase.ttfonts import TTFont

from leaflets.fonts import unprintable
from leaflets.load import load_pharmacy, load_product
from leaflets.pipeline import RenderedFill, Settings, render_monograph

ROOT = Path(__file__).resolve().parents[1]      # as in conftest.py
EXAMPLES = ROOT / "examples"
FONTS = ROOT / "fonts"
REGULAR = ("AtkinsonHyperlegibleNext-Regular.ttf", "DejaVuSans.ttf")
BOLD = ("AtkinsonHyperlegibleNext-Bold.ttf", "DejaVuSans-Bold.ttf")
TEXT_FILES = sorted(p for d in ("products", "templates") for p in (ROOT / d).rglob("*")
                    if p.is_file())
PRODUCTS = sorted(p.stem for p in (ROOT / "products").glob("*.yaml"))
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json"))

STANDARD_14 = {
    "Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique",
    "Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique",
    "Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic", "Symbol", "ZapfDingbats",
}


@cache
def cmap(file: str) -> frozenset[int]:
    """Code points the font file maps to a glyph, read from its own cmap table."""
    return frozenset(TTFont(f"test-{Path(file).stem}", str(FONTS / file)).face.charToGlyph)


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ---- glyph coverage of the inputs --------------------------------------------------------------


@pytest.mark.parametrize("path", TEXT_FILES, ids=_id)
def test_every_character_is_drawable(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert unprintable(text) == []
    for faces in (REGULAR, BOLD):     # text may be set in either weight
        missing = sorted({c for c in text if not c.isspace()
                          and not any(ord(c) in cmap(f) for f in faces)})
        assert missing == [], f"no glyph in {faces} for {[f'U+{ord(c):04X}' for c in missing]}"


def test_unprintable_flags_what_no_face_has() -> None:
    """The code's check is not vacuous: a character none of the bundled faces covers is named."""
    absent = next(c for c in map(chr, range(0x1F600, 0x1F650))
                  if not any(ord(c) in cmap(f) for f in REGULAR))
    assert unprintable(f"Take 1 {absent} daily") == [absent]


def test_alpha_needs_the_fallback_face() -> None:
    product = (ROOT / "products" / "anastrozole-1mg.yaml").read_text(encoding="utf-8")
    assert "α" in product
    assert ord("α") not in cmap(REGULAR[0])
    assert ord("α") in cmap(REGULAR[1])


# ---- fonts in the PDFs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def monographs(settings: Settings) -> dict[str, bytes]:
    pharmacy = load_pharmacy(settings.pharmacy).model
    return {slug: render_monograph(load_product(settings.catalog, slug), pharmacy)
            for slug in PRODUCTS}


def _get(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def pdf_fonts(pdf: bytes) -> list[DictionaryObject]:
    """Every font dictionary reachable from the pages' resources, including form XObjects'."""
    fonts: dict[int, DictionaryObject] = {}
    seen: set[int] = set()

    def walk(resources: Any) -> None:
        resources = _get(resources)
        if not isinstance(resources, DictionaryObject) or id(resources) in seen:
            return
        seen.add(id(resources))
        for ref in _get(resources.get("/Font", DictionaryObject())).values():
            font = _get(ref)
            fonts[id(font)] = font
        for ref in _get(resources.get("/XObject", DictionaryObject())).values():
            xobject = _get(ref)
            if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
                walk(xobject["/Resources"])

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        walk(page.get("/Resources"))
    return list(fonts.values())


def _embedded(font: DictionaryObject) -> bool:
    if font.get("/Subtype") == "/Type0":
        descendants = _get(font.get("/DescendantFonts", ArrayObject()))
        return bool(descendants) and all(_embedded(_get(d)) for d in descendants)
    descriptor = _get(font.get("/FontDescriptor"))
    return isinstance(descriptor, DictionaryObject) and any(
        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def _base_name(font: DictionaryObject) -> str:
    return re.sub(r"^[A-Z]{6}\+", "", str(font.get("/BaseFont", "")).lstrip("/"))


def _documents() -> list[Any]:
    params = []
    for name in EXAMPLE_FILES:
        params.append(pytest.param(("label", name), id=f"label:{name}"))
        params.append(pytest.param(("leaflet", name), id=f"leaflet:{name}"))
    for slug in PRODUCTS:
        params.append(pytest.param(("monograph", slug), id=f"monograph:{slug}"))
    return params


@pytest.fixture
def document(request: pytest.FixtureRequest, rendered: dict[str, RenderedFill],
             monographs: dict[str, bytes]) -> bytes:
    kind, name = request.param
    if kind == "monograph":
        return monographs[name]
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    fill = yaml.safe_load(text)             # JSON is YAML too
    return rendered[f"{fill['rx_number']}-{fill.get('fill_number', 0)}"].files[f"{kind}.pdf"]


@pytest.mark.parametrize("document", _documents(), indirect=True)
def test_every_font_is_embedded(document: bytes) -> None:
    fonts = pdf_fonts(document)
    assert fonts, "no fonts found: the walk is broken"
    bare = [_base_name(f) for f in fonts if not _embedded(f)]
    assert bare == [], f"fonts without an embedded program: {bare}"


@pytest.mark.parametrize("document", _documents(), indirect=True)
def test_no_standard_14_font(document: bytes) -> None:
    names = [_base_name(f) for f in pdf_fonts(document)]
    assert not [n for n in names if n in STANDARD_14 or "Helvetica" in n], names


def test_every_embedded_font_is_a_bundled_face(rendered: dict[str, RenderedFill],
                                               monographs: dict[str, bytes]) -> None:
    allowed = {Path(f).stem for f in (*REGULAR, *BOLD)}
    pdfs = [*monographs.values(), *(f for r in rendered.values()
                                    for f in (r.files["label.pdf"], r.files["leaflet.pdf"]))]
    for pdf in pdfs:
        names = {_base_name(f) for f in pdf_fonts(pdf) if _embedded(f)}
        assert names and names <= allowed, names


def test_fallback_face_draws_alpha(monographs: dict[str, bytes]) -> None:
    pdf = monographs["anastrozole-1mg"]
    names = {_base_name(f) for f in pdf_fonts(pdf)}
    assert "DejaVuSans" in names, names
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "16α-hydroxytestosterone" in " ".join(text.split())


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


@pytest.mark.parametrize("slug", PRODUCTS)
def test_fallback_face_whenever_needed(monographs: dict[str, bytes], slug: str) -> None:
    data = yaml.safe_load((ROOT / "products" / f"{slug}.yaml").read_text(encoding="utf-8"))
    needs = {c for s in _strings(data) for c in s
             if not c.isspace() and ord(c) not in cmap(REGULAR[0])}
    names = {_base_name(f) for f in pdf_fonts(monographs[slug])}
    if needs:
        assert "DejaVuSans" in names, f"{sorted(needs)} need DejaVu Sans; fonts: {names}"
