"""Text from inputs prints as entered (rule 7): template syntax and brace tokens in data are
printed literally on every document, footers included, and every character the bundled faces
can draw reads back out of the PDF as itself."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import unicodedata
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from leaflets.errors import SafetyError
from leaflets.fonts import FACES, FALLBACK, fixed_font, unprintable
from leaflets.load import load_pharmacy, load_product
from leaflets.pdf import Info, Ops, PdfWriter
from leaflets.pipeline import Settings, prepare_fill, render_monograph

ROOT = Path(__file__).resolve().parents[2]
FILL = ROOT / "examples" / "fill.yaml"            # Anastrozole 1mg, Genesis Compounding
PHONE = "(510) 555-0142"                          # pharmacy.yaml

# Each is template syntax somewhere in the program: a footer's page numbers, Jinja2's
# expressions and statements, and gettext's %-placeholders.
TOKENS = ["{page}", "{pages}", "{{ x }}", "{% raw %}", "%(name)s", "{page} of {pages}"]


def pypdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def pdfium_text(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    return [page.get_textpage().get_text_range() for page in document]


EXTRACTORS = {"pypdf": pypdf_text, "pdfium": pdfium_text}


def words(text: str) -> str:
    return " ".join(text.split())


def _inputs(tmp_path: Path, token: str) -> tuple[Settings, str, str]:
    """A copy of the catalog and pharmacy profile whose product and pharmacy names hold `token`."""
    product_name = f"Anastrozole {token} Capsules"
    pharmacy_name = f"Genesis {token} Compounding"
    catalog = tmp_path / "products"
    shutil.copytree(ROOT / "products", catalog)
    product = catalog / "anastrozole-1mg.yaml"
    text = product.read_text(encoding="utf-8")
    assert 'name: "Anastrozole 1mg"\n' in text
    product.write_text(text.replace('name: "Anastrozole 1mg"\n',
                                    f"name: {_quoted(product_name)}\n", 1), encoding="utf-8")
    pharmacy = tmp_path / "pharmacy.yaml"
    text = (ROOT / "pharmacy.yaml").read_text(encoding="utf-8")
    assert 'name: "Genesis Compounding"\n' in text
    pharmacy.write_text(text.replace('name: "Genesis Compounding"\n',
                                     f"name: {_quoted(pharmacy_name)}\n", 1), encoding="utf-8")
    return Settings(catalog, pharmacy), product_name, pharmacy_name


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("extractor", sorted(EXTRACTORS))
@pytest.mark.parametrize("token", TOKENS)
def test_template_syntax_in_names_prints_literally(tmp_path: Path, token: str,
                                                   extractor: str) -> None:
    settings, product_name, pharmacy_name = _inputs(tmp_path, token)
    rendered = prepare_fill(FILL, settings)
    extract = EXTRACTORS[extractor]
    label = words(" ".join(extract(rendered.files["label.pdf"])))
    assert product_name in label
    assert pharmacy_name in label

    leaflet = [words(page) for page in extract(rendered.files["leaflet.pdf"])]
    assert product_name in leaflet[0]
    for number, page in enumerate(leaflet, 1):
        footer = f"{pharmacy_name} · {PHONE} · Rx 600123 · Page {number} of {len(leaflet)}"
        assert footer in page, f"page {number}: {page[-200:]!r}"

    pharmacy = load_pharmacy(settings.pharmacy).model
    product = load_product(settings.catalog, "anastrozole-1mg")
    monograph = [words(page) for page in extract(render_monograph(product, pharmacy))]
    assert product_name in monograph[0]
    for number, page in enumerate(monograph, 1):
        footer = (f"{pharmacy_name} · {product_name} · Revised 11/24/2026 · "
                  f"Page {number} of {len(monograph)}")
        assert footer in page, f"page {number}: {page[-200:]!r}"


def test_the_page_numbers_are_not_read_from_the_text(tmp_path: Path) -> None:
    """The control case: the tokens did not print merely because nothing replaces them; a
    footer's own page numbers are filled in on every page."""
    settings, _, pharmacy_name = _inputs(tmp_path, "{page}")
    pages = pypdf_text(prepare_fill(FILL, settings).files["leaflet.pdf"])
    assert len(pages) >= 2
    found = [re.findall(r"Rx 600123 · Page (\S+) of (\S+)", words(p)) for p in pages]
    assert found == [[(str(n), str(len(pages)))] for n in range(1, len(pages) + 1)]
    assert all(f"Genesis {{page}} Compounding · {PHONE}" in words(p) for p in pages)
    assert pharmacy_name == "Genesis {page} Compounding"


# ---- every character the faces draw reads back as itself ----------------------------------------

# Not compared: whitespace (drawn as spacing; extractors rewrite it), and the categories the
# input boundary refuses or that are not characters of text: controls (Cc), invisible format
# characters (Cf: soft hyphen, zero-width and bidi controls), private use (Co), surrogates (Cs)
# and unassigned code points (Cn).
NOT_TEXT = {"Cc", "Cf", "Co", "Cs", "Cn"}


# pdfium's text extraction rewrites these whatever the ToUnicode map says (it returns the
# compatibility decomposition of presentation forms: "ﬁ" as "fi", an Arabic or Hebrew
# presentation form as its base letters; it drops variation selectors and the combining
# grapheme joiner, and reads the blank braille pattern and the object replacement character as
# nothing). pypdf reads them back exactly, which proves their map entries; pdfium is given the rest.
PDFIUM_REWRITES = [range(0xFB00, 0xFE00), range(0xFE00, 0xFE10), range(0xFE70, 0xFF00),
                   range(0x034F, 0x0350), range(0x2800, 0x2801), range(0xFFFC, 0xFFFD)]


def drawable(name: str, extractor: str = "pypdf") -> list[str]:
    """The characters face `name` draws that an input can hold, in code order (for pdfium,
    without the ones it rewrites)."""
    rewritten = PDFIUM_REWRITES if extractor == "pdfium" else []
    return [chr(c) for c in sorted(fixed_font(name).codes)
            if not chr(c).isspace() and unicodedata.category(chr(c)) not in NOT_TEXT
            and not any(c in r for r in rewritten)]


class _Doc:
    """A document's identity for FixedFont's per-document state (as in tests/test_pdf.py)."""


def sheet(name: str, chars: list[str]) -> bytes:
    """A PDF with every character of `chars` drawn by face `name` in its own text object, in
    cells of a 16-column grid, 256 cells a page, encoded as the renderer encodes text."""
    font, doc = fixed_font(name), _Doc()
    buf = io.BytesIO()
    writer = PdfWriter(buf, 612, 792, Info("Characters", name, dt.date(2026, 11, 24)))
    for start in range(0, len(chars), 256):
        ops, fonts = [], set()
        for i, ch in enumerate(chars[start:start + 256]):
            [(block, code)] = font.splitString(ch, doc)
            fonts.add((name, block))
            x, y = 40 + (i % 16) * 34, 760 - (i // 16) * 46
            ops.append(f"BT /{font.internal}+{block} 14 Tf {x} {y} Td <{code.hex()}> Tj ET")
        writer.add_page([Ops("\n".join(ops), frozenset(fonts))])
    writer.close()
    return buf.getvalue()


@pytest.mark.parametrize("extractor", sorted(EXTRACTORS))
@pytest.mark.parametrize("name", sorted(FACES))
def test_every_drawable_character_reads_back_as_itself(name: str, extractor: str) -> None:
    chars = drawable(name, extractor)
    if name.startswith(FALLBACK):
        assert any(ord(c) > 0xFFFF for c in chars)     # the case that was wrong is covered
    pages = EXTRACTORS[extractor](sheet(name, chars))
    assert len(pages) == -(-len(chars) // 256)
    wrong = []
    for number, (text, start) in enumerate(zip(pages, range(0, len(chars), 256), strict=True), 1):
        drawn = chars[start:start + 256]
        read = [c for c in text if not c.isspace()]
        if sorted(read) != sorted(drawn):
            missing = sorted(set(drawn) - set(read))
            extra = sorted(set(read) - set(drawn))
            wrong.append(f"page {number}: not read back {[f'U+{ord(c):04X}' for c in missing]}, "
                         f"read instead {[f'U+{ord(c):04X}' for c in extra]}")
    assert wrong == []


# Double-struck letters and digits (U+1D538…, U+1D7D8…) and Old Italic (U+10300…): both weights
# of DejaVu Sans draw them.
MATHEMATICAL = "𝔸𝔹ℂ 𝕒𝕓𝕔 𝟘𝟙𝟚 𐌀𐌁𐌂"


@pytest.mark.parametrize("extractor", sorted(EXTRACTORS))
def test_characters_above_u_ffff_in_a_name_read_back_as_entered(tmp_path: Path,
                                                                extractor: str) -> None:
    """Through the whole pipeline: a product name with mathematical letters, on the label, the
    leaflet and the monograph."""
    assert any(ord(c) > 0xFFFF for c in MATHEMATICAL)
    settings, product_name, _ = _inputs(tmp_path, MATHEMATICAL)
    rendered = prepare_fill(FILL, settings)
    extract = EXTRACTORS[extractor]
    pharmacy = load_pharmacy(settings.pharmacy).model
    monograph = render_monograph(load_product(settings.catalog, "anastrozole-1mg"), pharmacy)
    for pdf in (rendered.files["label.pdf"], rendered.files["leaflet.pdf"], monograph):
        assert product_name in words(" ".join(extract(pdf)))


def test_a_character_one_weight_lacks_is_refused_not_drawn_as_nothing(tmp_path: Path) -> None:
    """DejaVu Sans draws U+1D5A0 (sans-serif capital A) but its bold does not: in a bold field
    it would print as nothing, so it is refused, named, before anything is drawn."""
    one_weight = set(fixed_font("DejaVu").codes) ^ set(fixed_font("DejaVu-Bold").codes)
    assert 0x1D5A0 in one_weight
    for c in sorted(one_weight):
        assert unprintable(chr(c)) == [chr(c)], f"U+{c:04X}"
    settings, _, _ = _inputs(tmp_path, "\U0001D5A0")
    with pytest.raises(SafetyError) as caught:
        prepare_fill(FILL, settings)
    assert "character '\U0001D5A0' (U+1D5A0) cannot be printed by the bundled fonts" in str(caught.value)
