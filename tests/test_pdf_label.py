"""The printed label, read back from label.pdf the way a scanner and a reader would see it.

Every expectation comes from the example inputs (examples/*, products/*, pharmacy.yaml,
stocks/4x2.5.yaml) or from the rule it checks, never from a previous run of the code:

- the QR code and the Code 128 barcode decode from rasters at 300 dpi and at 203 dpi (a
  thermal printer's resolution, drawn as hard black-and-white dots);
- the label's text holds every required element (FDCA 503(b)(2), 21 CFR 290.5, USP <795>);
- 16 CCR 1707.5(a)(1) (shared/reference/usp-17-labels.md §5): patient, drug, directions and
  purpose are drawn at 12 pt or more, inside a patient-centred region covering half the label;
- fill.json's field boxes agree with what is drawn and lie on the label.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2 as pdfium
import pytest
import yaml
import zxingcpp
from reportlab.pdfbase.ttfonts import TTFont

from leaflets.pipeline import RenderedFill

from .wording import WORDS, date_words

ROOT = Path(__file__).resolve().parents[1]      # as in conftest.py
EXAMPLES = ROOT / "examples"
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json"))

TRANSFER_SCHEDULES = {"II", "III", "IV"}          # not Schedule V (cautions.md §2)

# Product names that ISMP (error-prone-abbreviations.md §4) makes the code print differently:
# number and unit run together ("1mg") is printed with a space.
PRINTED_AS = {"Anastrozole 1mg": "Anastrozole 1 mg"}

# The patient-centred fields of 16 CCR 1707.5(a)(1), in their required order; the directions in
# English follow translated directions (Cal. B&P § 4076.6).
PATIENT_FIELDS = ("patient", "drug", "directions", "directions_english", "purpose")

TOL_PT = 0.02       # fill.json rounds boxes to 0.01 pt


# ---- inputs, read independently of leaflets.load --------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


@dataclass(frozen=True)
class Case:
    fill: dict[str, Any]
    product: dict[str, Any]
    pharmacy: dict[str, Any]
    stock: dict[str, Any]
    rendered: RenderedFill

    @property
    def url(self) -> str:
        return f"{self.pharmacy['monograph_base_url'].rstrip('/')}/{self.fill['product']}"

    @property
    def pdf(self) -> bytes:
        return self.rendered.files["label.pdf"]

    @property
    def language(self) -> str:
        return str(self.fill["patient"].get("language", "en"))

    @property
    def words(self) -> dict[str, Any]:
        return WORDS[self.language]


@pytest.fixture(params=EXAMPLE_FILES)
def case(request: pytest.FixtureRequest, rendered: dict[str, RenderedFill]) -> Case:
    fill = _read(EXAMPLES / request.param)
    pharmacy = _read(ROOT / "pharmacy.yaml")
    product = _read(ROOT / "products" / f"{fill['product']}.yaml")
    stock = _read(ROOT / "stocks" / f"{pharmacy['default_stock']}.yaml")
    key = f"{fill['rx_number']}-{fill.get('fill_number', 0)}"
    assert key in rendered, f"{request.param} was not rendered as {key}"
    return Case(fill, product, pharmacy, stock, rendered[key])


def collapse(text: str) -> str:
    return " ".join(text.split())


def label_text(case: Case) -> str:
    """The text of the fill's labels: the label and its continuation labels (auxiliary warnings
    the first label's strip cannot hold), as the record counts them."""
    reader = pypdf.PdfReader(io.BytesIO(case.pdf))
    assert len(reader.pages) == case.rendered.record["label"]["pages"]
    return collapse(" ".join(page.extract_text() for page in reader.pages))


# ---- codes -----------------------------------------------------------------------------------


def _raster(pdf: bytes, dpi: int, thermal: bool) -> Any:
    page = pdfium.PdfDocument(pdf)[0]
    if not thermal:
        return page.render(scale=dpi / 72).to_pil()
    # A thermal head prints whole dots or nothing: no anti-aliasing, then a hard threshold.
    image = page.render(scale=dpi / 72, grayscale=True, no_smoothpath=True,
                        no_smoothtext=True, no_smoothimage=True).to_pil().convert("L")
    return image.point(lambda v: 255 if v >= 128 else 0)


@pytest.mark.parametrize(("dpi", "thermal"), [(300, False), (203, True)], ids=["300dpi", "203dpi"])
def test_codes_decode(case: Case, dpi: int, thermal: bool) -> None:
    found = zxingcpp.read_barcodes(_raster(case.pdf, dpi, thermal))
    qr = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    bars = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.Code128]
    assert qr == [case.url]
    assert bars == [str(case.fill["rx_number"])]


def test_qr_carries_no_patient_data(case: Case) -> None:
    found = zxingcpp.read_barcodes(_raster(case.pdf, 300, False))
    (qr,) = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    patient = case.fill["patient"]
    dob = patient["date_of_birth"]
    dob = dob if isinstance(dob, dt.date) else dt.date.fromisoformat(dob)
    forbidden = [patient["name"], dob.isoformat(), dob.strftime("%m/%d/%Y"), dob.strftime("%Y%m%d"),
                 *(part for part in re.split(r"[\s.,']+", patient["name"]) if len(part) >= 3)]
    for item in forbidden:
        assert item.lower() not in qr.lower(), f"the QR code holds patient data {item!r}: {qr}"


# ---- required text ---------------------------------------------------------------------------


def _amount(value: Any) -> str:
    d = Decimal(str(value)).normalize()
    return f"{d.quantize(Decimal(1)) if d == d.to_integral_value() else d:,f}"


def test_required_elements(case: Case) -> None:
    text = label_text(case)
    fill, product, pharmacy = case.fill, case.product, case.pharmacy
    record = case.rendered.record

    words = case.words
    refills_left = fill["refills"] - fill.get("fill_number", 0)
    refills = words["refills"].get(refills_left, words["refills"]["n"].format(n=refills_left))
    unit = words["nouns"][product["dosage_form"]]
    required = {
        "patient name": fill["patient"]["name"],
        "directions": record["directions"]["printed"],
        "Rx number": f"Rx {fill['rx_number']}",
        "refills": refills,
        "prescriber": fill["prescriber"]["name"],
        "lot": fill["compounding"]["lot"],
        "fill date": words["filled"].format(date=date_words(case.language, str(fill["fill_date"]))),
        "beyond-use date": words["use_by"].format(date=date_words(case.language,
                                                                  record["bud"]["date"])),
        "pharmacy name": pharmacy["name"],
        "pharmacy phone": pharmacy["phone"],
        "compounded statement": words["compounded"],
        **{f"address line {i}": line for i, line in enumerate(pharmacy["address"], 1)},
    }
    if words["english"]:
        required["English directions"] = words["english"].format(
            directions=record["directions"]["english"])
    for what, expected in required.items():
        assert collapse(expected) in text, f"{what}: {expected!r} is not on the label: {text!r}"
    qty = rf"{re.escape(words['qty'])} {re.escape(_amount(fill['quantity']))} {re.escape(unit)}s?\b"
    assert re.search(qty, text), f"quantity {fill['quantity']} {unit} is not on the label: {text!r}"
    assert re.search(rf"\b{re.escape(fill['pharmacist'])}\b", text), "pharmacist's initials"
    # The drug name and strength (16 CCR 1707.5(a)(1) item 2).
    name = PRINTED_AS.get(product["name"], product["name"])
    assert name in text


def test_storage_caution(case: Case) -> None:
    text = label_text(case).lower()
    refrigerated = case.product["storage"]["condition"] == "refrigerated"
    assert (case.words["refrigerator"] in text) is refrigerated


def test_federal_transfer_caution(case: Case) -> None:
    text = label_text(case)
    schedule = (case.product.get("controlled_substance") or {}).get("schedule")
    if schedule in TRANSFER_SCHEDULES:
        assert case.words["transfer"] in text
    else:
        assert "Federal" not in text


def test_examples_cover_each_caution(example_fills: list[Path]) -> None:
    """The caution tests above are only as good as the examples they run on."""
    products = [_read(ROOT / "products" / f"{_read(p)['product']}.yaml") for p in example_fills]
    assert any(p["storage"]["condition"] == "refrigerated" for p in products)
    assert any((p.get("controlled_substance") or {}).get("schedule") in TRANSFER_SCHEDULES
               for p in products)
    assert any(not p.get("controlled_substance") for p in products)


# ---- geometry of what is drawn ----------------------------------------------------------------


@cache
def _face(base_font: str) -> TTFont:
    """The bundled font file a PDF font was subset from (its name after the subset tag)."""
    name = base_font.lstrip("/").split("+")[-1]
    path = ROOT / "fonts" / f"{name}.ttf"
    assert path.is_file(), f"PDF font {base_font} is not one of the bundled fonts"
    return TTFont(f"test-{name}", str(path))


@dataclass(frozen=True)
class TextRun:
    text: str
    font: str
    size_pt: float
    x: float              # PDF user space: origin bottom-left, y up
    baseline: float
    ascent_pt: float
    descent_pt: float     # negative, below the baseline
    cap_pt: float         # height of the capitals above the baseline
    width_pt: float

    def top_left_box(self, page_h: float) -> tuple[float, float, float, float]:
        top = page_h - (self.baseline + self.ascent_pt)
        return self.x, top, self.width_pt, self.ascent_pt - self.descent_pt


def _multiply(a: list[float], b: list[float]) -> list[float]:
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def text_runs(pdf: bytes, number: int = 1) -> tuple[list[TextRun], float, float]:
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[number - 1]
    runs: list[TextRun] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        text = text.replace("\n", "")
        if not text.strip():
            return
        assert font is not None, f"text {text!r} drawn without a font"
        m = _multiply([float(v) for v in tm], [float(v) for v in cm])
        effective = size * math.hypot(m[2], m[3])
        descriptor = font["/FontDescriptor"].get_object()
        ascent = float(descriptor["/Ascent"]) / 1000 * effective
        descent = float(descriptor["/Descent"]) / 1000 * effective
        cap = float(descriptor["/CapHeight"]) / 1000 * effective
        width = _face(str(font["/BaseFont"])).stringWidth(text, effective)
        runs.append(TextRun(text, str(font["/BaseFont"]), effective, m[4], m[5], ascent, descent,
                            cap, width))

    page.extract_text(visitor_text=visit)
    box = page.mediabox
    return runs, float(box.width), float(box.height)


def _find_field(runs: list[TextRun], expected: str) -> list[TextRun]:
    """The consecutive runs that together print `expected` (wrapped lines join with a space)."""
    want = collapse(expected)
    for i in range(len(runs)):
        joined = ""
        for j in range(i, len(runs)):
            joined = collapse(f"{joined} {runs[j].text}")
            if joined == want:
                return runs[i:j + 1]
            if not want.startswith(joined):
                break
    raise AssertionError(f"{expected!r} is not drawn as its own run(s): {[r.text for r in runs]}")


def _patient_fields(case: Case) -> dict[str, str]:
    fields = {
        "patient": case.fill["patient"]["name"],
        "drug": PRINTED_AS.get(case.product["name"], case.product["name"]),
        "directions": case.rendered.record["directions"]["printed"],
    }
    if case.words["english"]:
        fields["directions_english"] = case.words["english"].format(
            directions=case.rendered.record["directions"]["english"])
    if case.fill.get("indication"):
        purpose = case.fill["indication"]
        fields["purpose"] = case.words["purpose"].format(
            purpose=case.words["purposes"].get(purpose, purpose))
    return fields


def _inside(inner: tuple[float, float, float, float], outer: tuple[float, float, float, float],
            tol: float = TOL_PT) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return x >= ox - tol and y >= oy - tol and x + w <= ox + ow + tol and y + h <= oy + oh + tol


def test_label_is_the_stock_size(case: Case) -> None:
    _, width, height = text_runs(case.pdf)
    assert (width, height) == pytest.approx((case.stock["width_in"] * 72,
                                             case.stock["height_in"] * 72))


def test_patient_region_covers_half_the_label(case: Case) -> None:
    _, width, height = text_runs(case.pdf)
    regions = case.stock["regions"]
    centred = [name for name, r in regions.items() if r.get("patient_centred")]
    assert centred == ["patient"]
    _, _, w, h = regions["patient"]["box_pt"]
    assert w * h >= 0.5 * width * height


def test_patient_centred_text(case: Case) -> None:
    """16 CCR 1707.5(a)(1): the four items, and only these, at >= 12 pt bold sans-serif, in the
    patient-centred region, in order."""
    runs, _, height = text_runs(case.pdf)
    region = tuple(case.stock["regions"]["patient"]["box_pt"])
    tops: list[float] = []
    matched: list[TextRun] = []
    for field, expected in _patient_fields(case).items():
        field_runs = _find_field(runs, expected)
        for run in field_runs:
            assert run.size_pt >= 12 - 1e-6, f"{field} {run.text!r} is drawn at {run.size_pt:g} pt"
            assert "Bold" in run.font, f"{field} {run.text!r} is drawn in {run.font}, not bold"
            box = run.top_left_box(height)
            assert _inside(box, region), f"{field} {run.text!r} at {box} is outside {region}"
        tops.append(min(r.top_left_box(height)[1] for r in field_runs))
        matched.extend(field_runs)
    assert tops == sorted(tops), "patient, drug, directions, purpose are not in that order"
    # Nothing else is drawn in the patient-centred region.
    others = [r.text for r in runs if r not in matched
              and _overlaps(r.top_left_box(height), region)]
    assert others == [], f"other text inside the patient-centred region: {others}"


# ---- fill.json's field boxes --------------------------------------------------------------------


def _overlaps(a: tuple[float, ...], b: tuple[float, ...], tol: float = TOL_PT) -> bool:
    return (a[0] < b[0] + b[2] - tol and b[0] < a[0] + a[2] - tol
            and a[1] < b[1] + b[3] - tol and b[1] < a[1] + a[3] - tol)


def _record_boxes(case: Case, page: int = 1) -> list[tuple[str, tuple[float, float, float, float]]]:
    fields = case.rendered.record["label"]["fields"]
    assert fields, "fill.json records no field boxes"
    assert {f["page"] for f in fields} == set(range(1, case.rendered.record["label"]["pages"] + 1))
    return [(f["field"], tuple(f["box_pt"])) for f in fields if f["page"] == page]


def _label_pages(case: Case) -> range:
    return range(1, case.rendered.record["label"]["pages"] + 1)


def test_record_boxes_lie_on_the_label(case: Case) -> None:
    _, width, height = text_runs(case.pdf)
    for page in _label_pages(case):
        for field, box in _record_boxes(case, page):
            assert box[2] > 0 and box[3] > 0
            assert _inside(box, (0.0, 0.0, width, height)), f"{field} box {box} is off the label"


def test_record_boxes_match_the_drawn_text(case: Case) -> None:
    """Every run of text on the label has a box in fill.json that starts where the run starts,
    is as wide as the run and holds its baseline and capitals; the patient fields' boxes lie in
    the patient-centred region. (A box's height is the record's business: a line's slot may be
    shorter than the face's ascent plus descent, so that the slots of consecutive lines tile.)"""
    for page in _label_pages(case):
        runs, _, height = text_runs(case.pdf, page)
        for run in runs:
            baseline = height - run.baseline          # from the top, as fill.json measures
            assert any(abs(b[0] - run.x) <= TOL_PT and abs(b[2] - run.width_pt) <= TOL_PT
                       and b[1] - TOL_PT <= baseline - run.cap_pt and baseline < b[1] + b[3]
                       for _, b in _record_boxes(case, page)), \
                f"{run.text!r} (x {run.x:.2f}, width {run.width_pt:.2f}, baseline " \
                f"{baseline:.2f}, page {page}) has no matching box in fill.json"
    boxes = _record_boxes(case)
    region = tuple(case.stock["regions"]["patient"]["box_pt"])
    drawn = {field for field, _ in boxes}
    assert set(_patient_fields(case)) <= drawn
    for field, box in boxes:
        assert _inside(box, region) is (field in PATIENT_FIELDS), f"{field} box {box} vs {region}"


def test_record_boxes_of_different_fields_do_not_overlap(case: Case) -> None:
    for page in _label_pages(case):
        boxes = _record_boxes(case, page)
        clashes = [(fa, a, fb, b) for i, (fa, a) in enumerate(boxes) for fb, b in boxes[i + 1:]
                   if fa != fb and _overlaps(a, b)]
        assert clashes == [], f"page {page}"
