"""Layout: fits at or above each region's minimum size, or fails naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaflets.errors import FitError, InputError
from leaflets.fonts import ASCENT_EM, DESCENT_EM
from leaflets.layout import layout_label
from leaflets.load import Source, load_stock, validate
from leaflets.models import Stock

STOCK = load_stock("4x2.5").model
URL = "https://genesiscompounding.example/monographs/anastrozole-1mg"
BASE = {"patient": "Jordan A. Rivera", "drug": "Anastrozole 1 mg",
        "directions": "Take 1 capsule by mouth once daily.", "rx": "Rx 600123",
        "pharmacy": "Genesis Compounding"}


def lay(fields: dict[str, str], stock: Stock = STOCK):  # type: ignore[no-untyped-def]
    return layout_label(fields, stock, qr_data=URL, barcode_value="600123")


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFG", min_size=1, max_size=14)
texts = st.lists(words, min_size=1, max_size=40).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(texts, texts, texts)
def test_fits_within_box_at_or_above_minimum_or_names_the_field(name: str, directions: str,
                                                                  details: str) -> None:
    fields = {**BASE, "patient": name, "directions": directions, "prescriber": details}
    try:
        layout = lay(fields)
    except FitError as err:
        assert err.field in fields
        assert err.needed_pt > err.available_pt
        return
    assert {ln.field for ln in layout.lines} == set(fields)
    for ln in layout.lines:
        region = STOCK.regions[STOCK.region_of(ln.field) or ""]
        x, y, w, h = region.box_pt
        assert region.min_size_pt <= ln.size_pt <= region.max_size_pt
        assert ln.x_pt >= x - 1e-6 and ln.x_pt + ln.width_pt <= x + w + 1e-6
        assert ln.baseline_pt - ASCENT_EM * ln.size_pt >= y - 1e-6
        assert ln.baseline_pt + DESCENT_EM * ln.size_pt <= y + h + 1e-6
    # Every word of every field is drawn, in order: nothing is clipped or dropped.
    for field, text in fields.items():
        drawn = " ".join(ln.text for ln in layout.lines if ln.field == field)
        assert drawn.replace(" · ", " ").split() == text.split()


def test_patient_region_is_at_least_12_pt_and_prefers_its_maximum() -> None:
    layout = lay(BASE)
    assert dict(layout.sizes_pt)["patient"] == STOCK.regions["patient"].max_size_pt


def test_longer_text_shrinks_but_never_below_the_minimum() -> None:
    long = ("Take 1 to 2 tablets by mouth every 4 to 6 hours as needed for pain. Do not take "
            "more than 8 tablets in 24 hours.")
    layout = lay({**BASE, "directions": long, "purpose": "Purpose: to lower estrogen levels"})
    size = dict(layout.sizes_pt)["patient"]
    assert 12 <= size < STOCK.regions["patient"].max_size_pt


def test_field_without_a_place_on_the_stock_is_an_error() -> None:
    with pytest.raises(FitError, match="has no place for this field"):
        lay({**BASE, "mystery": "text"})


def test_qr_too_dense_for_its_box_is_an_error() -> None:
    with pytest.raises(FitError) as err:
        layout_label(BASE, STOCK, qr_data="https://x.example/" + "a" * 600, barcode_value="1")
    assert err.value.field == "qr"


def test_barcode_too_wide_is_an_error() -> None:
    with pytest.raises(FitError) as err:
        layout_label(BASE, STOCK, qr_data=URL, barcode_value="ABCDEFGHIJKLMNOPQRST")
    assert err.value.field == "barcode"


def _stock_with(**changes: object) -> dict[str, object]:
    data = STOCK.model_dump(mode="json")
    data.update(changes)
    return data


def test_stock_validation() -> None:
    data = STOCK.model_dump(mode="json")
    data["regions"]["patient"]["box_pt"] = [8, 6, 272, 60]       # < half the label
    data["regions"]["patient"]["min_size_pt"] = 10               # < 12 pt
    data["qr"]["box_pt"] = [200, 150, 100, 100]                  # off the label, overlaps
    with pytest.raises(InputError) as err:
        validate(Stock, data, Source("stock.yaml", ""))
    messages = {(p.field, p.message) for p in err.value.problems}
    assert ("regions", "patient-centred regions cover less than half the label "
                       "(16 CCR 1707.5(a)(1))") in messages
    assert ("regions.patient.min_size_pt",
            "patient-centred text needs at least 12 pt (16 CCR 1707.5(a)(1))") in messages
    assert ("qr.box_pt", "box lies outside the label") in messages
    assert any(f == "qr.box_pt" and m.startswith("box overlaps") for f, m in messages)


@pytest.mark.parametrize("name", ["4x2.5", "4x3"])
def test_shipped_stocks_are_valid(name: str) -> None:
    stock = load_stock(name).model
    assert stock.problems() == []
