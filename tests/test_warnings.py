"""Auxiliary warnings: the catalog, the rules that add them, and that every one prints, once, at
its size, on the label (strip or continuation labels) and in the leaflet."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pypdf
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from leaflets.compose import PageNumber, WarningText
from leaflets.errors import FitError, InputError, SafetyError
from leaflets.layout import layout_warnings
from leaflets.load import load_product, load_stock, load_warning_catalog
from leaflets.models import WarningCatalog
from leaflets.pipeline import Settings, prepare_fill
from leaflets.rules.warnings import choose_warnings, rule_warnings

from .conftest import BASE_FILL, ROOT, write_fill

CATALOG = yaml.safe_load((ROOT / "warnings.yaml").read_text(encoding="utf-8"))["warnings"]


def _pages(pdf: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _project(tmp_path: Path, product: str, edit: dict[str, object]) -> Settings:
    """A copy of the products with one product's top-level keys replaced."""
    products = tmp_path / "products"
    shutil.copytree(ROOT / "products", products)
    path = products / f"{product}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(edit)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Settings(catalog=products, pharmacy=ROOT / "pharmacy.yaml",
                    warning_catalog=ROOT / "warnings.yaml")


EIGHT = ["pregnancy-fetal-harm", "swallow-whole", "return-unused", "poison-control",
         "keep-out-of-reach", "shake-well", "external-use-only", "refrigerate-do-not-freeze"]


def test_eight_warnings_all_print_on_the_label_and_in_the_leaflet(tmp_path: Path) -> None:
    # anastrozole-1mg also carries hazardous-drug-handling from its hazardous_drug data: nine.
    listed = [{"code": code, "reason": "test"} for code in EIGHT]
    settings_ = _project(tmp_path, "anastrozole-1mg", {"auxiliary_warnings": listed})
    rendered = prepare_fill(write_fill(tmp_path, BASE_FILL), settings_)
    label = _pages(rendered.files["label.pdf"])
    leaflet = " ".join(_pages(rendered.files["leaflet.pdf"]))
    assert len(label) >= 2
    whole = " ".join(label)
    for code in [*EIGHT, "hazardous-drug-handling"]:
        text = CATALOG[code]["text"]["en"]
        assert whole.count(text) == 1, f"{code}: {text!r} is not on the label once: {label}"
        assert text in leaflet, f"{code} is not in the leaflet"
    # Each continuation label says which it is, and whose.
    total = len(label)
    assert f"Warnings 1 of {total} — more on the next label" in label[0]
    for number, page in enumerate(label[1:], 2):
        assert page.startswith(f"Warnings {number} of {total} Rx 600123 · Jordan A. Rivera")
    assert "Warnings for this medicine" in leaflet
    # The record says where each printed.
    pages = {w["code"]: w["label_page"] for w in rendered.record["auxiliary_warnings"]}
    assert sorted(pages) == sorted([*EIGHT, "hazardous-drug-handling"])
    assert rendered.record["label"]["pages"] == total


def test_priority_order_on_the_label(tmp_path: Path) -> None:
    rendered = prepare_fill(write_fill(tmp_path, BASE_FILL), Settings())
    whole = " ".join(_pages(rendered.files["label.pdf"]))
    # warnings.yaml priorities: pregnancy 40, hazardous 50, swallow-whole 60, keep-out 100.
    order = ["pregnancy-fetal-harm", "hazardous-drug-handling", "swallow-whole",
             "keep-out-of-reach"]
    positions = [whole.index(CATALOG[c]["text"]["en"]) for c in order]
    assert positions == sorted(positions)


def test_refrigerated_storage_is_on_the_label_and_whole_in_the_warnings(tmp_path: Path) -> None:
    """The label itself says to refrigerate, beside the BUD that depends on it (usp-795-bud.md
    §8); the whole statement, with the range and 'do not freeze', is the warning, once."""
    rendered = prepare_fill(ROOT / "examples" / "fill-omeprazole.json", Settings())
    pages = _pages(rendered.files["label.pdf"])
    assert "Use by 12/06/2026 · Keep in the refrigerator Compounded by" in pages[0]
    whole = " ".join(pages)
    assert whole.count("Keep in the refrigerator (2 °C to 8 °C). Do not freeze.") == 1


def test_an_unknown_code_is_an_input_error_at_its_line(tmp_path: Path) -> None:
    listed = [{"code": "keep-out-of-reach", "reason": "all"},
              {"code": "shake-wel", "reason": "typo"}]
    settings_ = _project(tmp_path, "anastrozole-1mg", {"auxiliary_warnings": listed})
    with pytest.raises(InputError) as caught:
        prepare_fill(write_fill(tmp_path, BASE_FILL), settings_)
    [problem] = caught.value.problems
    path = settings_.catalog / "anastrozole-1mg.yaml"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "shake-wel" in text)
    assert (problem.file, problem.line, problem.field) == (str(path), line,
                                                           "auxiliary_warnings.1.code")
    assert problem.message.startswith("unknown auxiliary warning 'shake-wel' (not in ")


def test_a_bad_catalog_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "warnings.yaml"
    bad.write_text("warnings:\n  shake-well:\n    priority: 0\n    text:\n      es: \"Agítelo\"\n"
                   "    source: \"x\"\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_warning_catalog(bad)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field, problem.message) == (
        str(bad), 3, "warnings.shake-well.priority", "expected a number of at least 1, got 0")
    bad.write_text(bad.read_text(encoding="utf-8").replace("priority: 0", "priority: 1"),
                   encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_warning_catalog(bad)
    [problem] = caught.value.problems
    assert (problem.line, problem.field, problem.message) == (
        4, "warnings.shake-well.text.en", "every warning needs its English text")


@pytest.mark.parametrize(("slug", "expected"), [
    ("omeprazole-2mg-ml-suspension", ["refrigerate-do-not-freeze", "shake-well"]),
    ("anastrozole-1mg-ml-oil-suspension", ["shake-well", "hazardous-drug-handling"]),
    ("anastrozole-1mg", ["hazardous-drug-handling"]),
    ("testosterone-2pct-cream", ["external-use-only", "testosterone-secondary-exposure",
                                 "hazardous-drug-handling"]),
])
def test_rules_add_warnings_from_product_data(slug: str, expected: list[str]) -> None:
    product = load_product(ROOT / "products", slug).model
    assert [code for code, _ in rule_warnings(product)] == expected


def test_chosen_warnings_are_deduplicated_and_sorted() -> None:
    product = load_product(ROOT / "products", "omeprazole-2mg-ml-suspension").model
    listed = product.model_copy(update={"auxiliary_warnings": (
        *product.auxiliary_warnings,
        type(product.auxiliary_warnings[0])(code="shake-well", reason="listed too"))})
    catalog = load_warning_catalog(ROOT / "warnings.yaml").model
    chosen = choose_warnings(listed, catalog)
    assert [w.code for w in chosen] == ["refrigerate-do-not-freeze", "shake-well",
                                        "keep-out-of-reach"]
    assert [w.reason for w in chosen if w.code == "shake-well"] == ["listed too"]


def test_a_rule_warning_missing_from_the_catalog_is_refused() -> None:
    product = load_product(ROOT / "products", "omeprazole-2mg-ml-suspension").model
    catalog = WarningCatalog.model_validate({"warnings": {
        "keep-out-of-reach": {"priority": 1, "text": {"en": "Keep out of reach of children."},
                              "source": "x"}}})
    with pytest.raises(SafetyError, match="the rules add the warning 'refrigerate-do-not-freeze'"):
        choose_warnings(product, catalog)


def test_every_example_product_carries_warnings_with_reasons() -> None:
    for path in sorted((ROOT / "products").glob("*.yaml")):
        product = load_product(ROOT / "products", path.stem).model
        assert any(w.code == "keep-out-of-reach" for w in product.auxiliary_warnings), path
        assert all(w.reason for w in product.auxiliary_warnings)


def test_spanish_warnings_are_printed_in_spanish_and_flagged_for_review(tmp_path: Path) -> None:
    fill = BASE_FILL.replace("language: en", "language: es")
    rendered = prepare_fill(write_fill(tmp_path, fill), Settings())
    label = _pages(rendered.files["label.pdf"])
    assert label[0].endswith(f"Advertencias 1 de {len(label)} — más en la siguiente etiqueta")
    assert label[1].startswith(f"Advertencias 2 de {len(label)} Rx 600123")
    assert CATALOG["keep-out-of-reach"]["text"]["es"] in " ".join(label)
    assert any("auxiliary warnings" in w and "reviewed_by.es" in w for w in rendered.warnings)


def test_a_warning_too_long_for_any_label_names_its_code(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "warnings.yaml").read_text(encoding="utf-8"))
    data["warnings"]["swallow-whole"]["text"]["en"] = "Swallow whole. " * 200
    catalog = tmp_path / "warnings.yaml"
    catalog.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FitError) as caught:
        prepare_fill(write_fill(tmp_path, BASE_FILL), Settings(warning_catalog=catalog))
    assert caught.value.field == "warnings.swallow-whole"
    assert caught.value.file == str(catalog)
    assert "does not fit even an empty continuation label" in str(caught.value)


# ---- the layout, as a property over warning sets and lengths -------------------------------

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
TEXTS = st.lists(WORDS, min_size=1, max_size=40).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(TEXTS, min_size=1, max_size=14),
       stock=st.sampled_from(["4x2.5", "4x3", "large-print"]))
def test_each_warning_is_placed_once_whole_and_at_its_size(texts: list[str], stock: str) -> None:
    strip = load_stock(stock).model.warnings
    warnings = tuple((f"w{i}", text) for i, text in enumerate(texts))
    text = WarningText(warnings, ("Warnings ", PageNumber.PAGE, " of ", PageNumber.PAGES,
                                  " — more on the next label"),
                       ("Warnings ", PageNumber.PAGE, " of ", PageNumber.PAGES), "Rx 1 · A B")
    first, pages = layout_warnings(text, strip)
    total = 1 + len(pages)
    found: dict[str, list[tuple[int, str]]] = {}
    for number, lines in enumerate([first, *pages], 1):
        x, top, width, height = strip.box_pt if number == 1 else strip.continuation_box_pt
        for line in lines:
            assert x - 1e-6 <= line.x_pt and line.x_pt + line.width_pt <= x + width + 1e-6
            assert top <= line.baseline_pt <= top + height
            if line.code:
                assert line.size_pt >= strip.min_size_pt
                found.setdefault(line.code, []).append((number, line.text))
        if number > 1:
            assert lines[0].text == f"Warnings {number} of {total}"
            assert lines[1].text == "Rx 1 · A B"
    for code, words in warnings:
        placed = found.pop(code)
        assert len({page for page, _ in placed}) == 1, f"{code} is split across labels"
        assert " ".join(t for _, t in placed) == words
    assert not found
    if pages:
        assert first[0].text == f"Warnings 1 of {total} — more on the next label"
    # In print order: page by page, the warnings come in the order given.
    order = [ln.code for lines in [first, *pages] for ln in lines if ln.code]
    assert list(dict.fromkeys(order)) == [code for code, _ in warnings]


def test_sizes_in_the_pdf_match_the_record(tmp_path: Path) -> None:
    """Decoded from the PDF: every warning's characters are at 10 pt or more, on the page the
    record names."""
    import pypdfium2
    rendered = prepare_fill(write_fill(tmp_path, BASE_FILL), Settings())
    document = pypdfium2.PdfDocument(rendered.files["label.pdf"])
    entries = [f for f in rendered.record["label"]["fields"] if f["field"] == "warning"]
    assert entries
    for entry in entries:
        page = document[entry["page"] - 1]
        textpage = page.get_textpage()
        x, top, width, height = entry["box_pt"]
        page_h = page.get_height()
        sizes = []
        for index in range(textpage.count_chars()):
            left, bottom, right, up = textpage.get_charbox(index)
            cx, cy = (left + right) / 2, page_h - (bottom + up) / 2
            if x <= cx <= x + width and top <= cy <= top + height and right > left:
                sizes.append(pypdfium2.raw.FPDFText_GetFontSize(textpage.raw, index))
        assert sizes and min(sizes) >= 10 - 0.01, entry
    assert re.search(r"Keep out of reach of children\.", " ".join(_pages(rendered.files["label.pdf"])))
