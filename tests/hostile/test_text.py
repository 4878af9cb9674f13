"""Text from inputs prints as entered (rule 7): template syntax and brace tokens in data are
printed literally on every document, footers included, and every character the bundled faces
can draw reads back out of the PDF as itself."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from leaflets.load import load_pharmacy, load_product
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
