"""Doses the way compounded products are measured (issue 12, item 2; rules/sig/measures.py): a
dose by mass for a liquid or a cream, a strength after the unit, and the clicks of a pump. The
sentences are in tests/data/sigs-doses.yaml; here are the strength reader, the arithmetic
(checked against fractions, not against the code's own), the round trip of every structure
with a mass or clicks, the quantities, the product field and a fill rendered end to end."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaflets.compose import render_directions
from leaflets.errors import InputError, SafetyError
from leaflets.i18n import languages
from leaflets.load import load_product
from leaflets.models import DoseUnit, Route, TopicalSite
from leaflets.readback import readback
from leaflets.rules.abbreviations import find_banned
from leaflets.rules.sig import Context, Sig, parse_directions, total_amount
from leaflets.rules.sig.measures import read_strength
from leaflets.rules.sig.model import MassUnit, Strength

from .conftest import BASE_FILL, ROOT, write_fill
from .strategies import measured_sigs
from .test_cli import run

MG, MCG, G = MassUnit.MG, MassUnit.MCG, MassUnit.G
ML, GRAM, TAB = DoseUnit.ML, DoseUnit.G, DoseUnit.TABLET
ORAL_LIQUID = Context(Route.ORAL, ML, strength="1 mg/mL")
CREAM = Context(Route.TOPICAL, GRAM, TopicalSite.SKIN, strength="20 mg/g")


# ---- the product's strength ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "unit", "strength"), [
    ("1 mg/mL", ML, Strength(Decimal(1), MG, Decimal(1), ML)),
    ("2 mg/mL", ML, Strength(Decimal(2), MG, Decimal(1), ML)),
    ("20 mg/g", GRAM, Strength(Decimal(20), MG, Decimal(1), GRAM)),
    ("250 mg/5 mL", ML, Strength(Decimal(250), MG, Decimal(5), ML)),
    ("250 mg / 5 mL", ML, Strength(Decimal(250), MG, Decimal(5), ML)),
    ("250 mg per 5 mL", ML, Strength(Decimal(250), MG, Decimal(5), ML)),
    ("100 mcg/mL", ML, Strength(Decimal(100), MCG, Decimal(1), ML)),
    ("1 g/10 mL", ML, Strength(Decimal(1), G, Decimal(10), ML)),
    ("1,000 mg/5 mL", ML, Strength(Decimal(1000), MG, Decimal(5), ML)),
    ("1 mg", DoseUnit.CAPSULE, Strength(Decimal(1), MG, Decimal(1), DoseUnit.CAPSULE)),
    ("1mg", DoseUnit.CAPSULE, Strength(Decimal(1), MG, Decimal(1), DoseUnit.CAPSULE)),
    ("0.5 mg", TAB, Strength(Decimal("0.5"), MG, Decimal(1), TAB)),
    ("1 mg/mL", None, Strength(Decimal(1), MG, Decimal(1), ML)),
])
def test_a_strength_is_read_as_mass_per_unit(text: str, unit: DoseUnit | None,
                                             strength: Strength) -> None:
    assert read_strength(text, unit) == strength


@pytest.mark.parametrize(("text", "unit", "why"), [
    ("2%", GRAM, "is a percentage, which does not say whether per g or per mL"),
    ("0.1 %", ML, "is a percentage, which does not say whether per g or per mL"),
    ("1 mg", ML, "does not say in how many mL of the product it is"),
    ("20 mg", GRAM, "does not say in how many g of the product it is"),
    ("20 mg", None, "does not say in how many units of the product it is"),
    ("20 mg/g", ML, "is per g, but the product is dosed in mL"),
    ("1 mg/mL", TAB, "is per mL, but the product is dosed in tablet"),
    ("0.1 g/g", GRAM, "gives grams in grams, which a dose in g could not tell apart"),
    ("0 mg/mL", ML, "is not more than 0"),
    ("1 mg/0 mL", ML, "is not more than 0"),
    (".5 mg/mL", ML, "is not a mass per unit of the product"),
    ("5 units/mL", ML, "is not a mass per unit of the product"),
    ("1 mg/mL and 84 mg/mL", ML, "is not a mass per unit of the product"),
])
def test_a_strength_that_cannot_be_read_says_why(text: str, unit: DoseUnit | None,
                                                 why: str) -> None:
    assert read_strength(text, unit) == why


def test_every_bundled_product_strength_is_read() -> None:
    for path in sorted((ROOT / "products").glob("*.yaml")):
        product = load_product(ROOT / "products", path.stem).model
        assert isinstance(read_strength(product.strength, product.dosage_form), Strength), path


# ---- the arithmetic, against fractions ---------------------------------------------------------

_RATIOS = st.sampled_from([(1, 1), (2, 1), (3, 1), (20, 1), (250, 5), (1, 3), (7, 2), (40, 3)])


@settings(max_examples=300)
@given(_RATIOS, st.integers(1, 5000), st.sampled_from([ML, GRAM]))
def test_a_dose_by_mass_is_measured_only_when_exact_and_measurable(
        ratio: tuple[int, int], thousandths: int, unit: DoseUnit) -> None:
    """The amount measured is mass × per ÷ strength, exactly, and a multiple of 0.1 mL or 0.1 g;
    anything else is refused, never rounded."""
    mass, per = ratio
    context = Context(unit=unit, route=Route.ORAL if unit is ML else Route.TOPICAL,
                      topical_site=TopicalSite.AFFECTED_AREA if unit is GRAM else None,
                      strength=f"{mass} mg/{per} {unit.value}")
    dose = Decimal(thousandths) / 1000
    amount = Fraction(dose) * per / mass
    sig = f"{dose} mg po qd" if unit is ML else f"{dose} mg top qd"
    if (amount * 10).denominator == 1 and amount <= 1000:
        parsed = parse_directions(sig, context)
        assert isinstance(parsed, Sig)
        [step] = parsed.steps
        assert Fraction(step.dose) == amount and step.unit is unit          # type: ignore[arg-type]
        assert step.dose_mass == dose and step.mass_unit is MG
        assert Fraction(step.dose) * mass == Fraction(dose) * per           # type: ignore[arg-type]
    else:
        with pytest.raises(SafetyError) as err:
            parse_directions(sig, context)
        assert err.value.reason.startswith(f"'{Decimal(dose).normalize():f} mg' of this") \
            or "more than 1,000" in err.value.reason or "more than 1000" in err.value.reason


@settings(max_examples=200)
@given(st.integers(1, 12).map(lambda n: Decimal(n) / 2), st.integers(1, 400),
       st.integers(1, 400))
def test_a_strength_after_the_unit_must_agree(tablets: Decimal, written: int,
                                              strength: int) -> None:
    context = Context(Route.ORAL, TAB, strength=f"{strength} mg")
    sig = f"{tablets} tab ({written} mg) po qd"
    if tablets * strength == written:
        parsed = parse_directions(sig, context)
        assert isinstance(parsed, Sig)
        assert parsed.steps[0].dose == tablets and parsed.steps[0].dose_mass == written
    else:
        with pytest.raises(SafetyError) as err:
            parse_directions(sig, context)
        assert "does not agree with the product's strength" in err.value.reason


@settings(max_examples=100)
@given(st.integers(1, 30), st.sampled_from(["0.25", "0.5", "1", "0.125", "1.5", "0.333"]))
def test_clicks_give_whole_clicks_of_grams(clicks: int, per_click: str) -> None:
    context = Context(Route.TOPICAL, GRAM, TopicalSite.SKIN, strength="20 mg/g",
                      grams_per_click=Decimal(per_click))
    parsed = parse_directions(f"{clicks} clicks to the skin qam", context)
    assert isinstance(parsed, Sig)
    [step] = parsed.steps
    assert step.dose == clicks * Decimal(per_click) and step.unit is GRAM
    assert step.clicks == clicks and step.dose_mass is None


# ---- every structure prints as English that reads back to it ---------------------------------


@settings(max_examples=300)
@given(measured_sigs())
def test_every_measured_dosage_parses_back_from_its_english(case: tuple[Context, Sig]) -> None:
    context, sig = case
    text = render_directions(sig)
    assert text.endswith(".") and text[0].isupper()
    assert parse_directions(text, context) == sig, text


@settings(max_examples=150)
@given(measured_sigs())
def test_every_measured_dosage_reads_back_from_every_language(case: tuple[Context, Sig]) -> None:
    """As tests/test_readback.py, for the product the sentence cites: "(0.5 mg)", clicks."""
    context, sig = case
    for code in sorted(languages()):
        printed = render_directions(sig, code)
        english = readback(printed, code)
        assert parse_directions(english, context) == sig, (code, printed, english)


@settings(max_examples=100)
@given(measured_sigs(), st.sampled_from(sorted(languages())))
def test_no_language_prints_a_banned_token_for_a_measured_dose(case: tuple[Context, Sig],
                                                                code: str) -> None:
    text = render_directions(case[1], code)
    assert find_banned(text, symbols=True) == [], (code, text)
    assert "µg" not in text and "μg" not in text


# ---- quantities stay in the product's unit -----------------------------------------------------


@pytest.mark.parametrize(("sig", "context", "days", "total"), [
    ("0.5 mg po biw", ORAL_LIQUID, 70, Decimal(10)),          # 20 doses of 0.5 mL
    ("2 mg po bid", ORAL_LIQUID, 30, Decimal(120)),
    ("10 mg to the skin qam", CREAM, 30, Decimal(15)),        # 0.5 g a day
    ("2 clicks to the skin qam", Context(Route.TOPICAL, GRAM, TopicalSite.SKIN,
                                         grams_per_click=Decimal("0.5")), 30, Decimal(30)),
    ("1 tab (20 mg) po qd", Context(Route.ORAL, TAB, strength="20 mg"), 30, Decimal(30)),
])
def test_quantities_are_counted_in_the_products_unit(sig: str, context: Context, days: int,
                                                     total: Decimal) -> None:
    parsed = parse_directions(sig, context)
    assert isinstance(parsed, Sig)
    assert total_amount(parsed, days) == total


def test_one_regimen_one_structure_however_it_is_written() -> None:
    """A dose by mass and the same dose in mL with its mass are the same structure."""
    forms = ["0.5 mg po qd", "0.5 mL (0.5 mg) po qd", "0.5 mL 0.5 mg po qd",
             "Take 0.5 mL (0.5 mg) by mouth once daily."]
    assert len({parse_directions(f, ORAL_LIQUID) for f in forms}) == 1
    pump = Context(Route.TOPICAL, GRAM, TopicalSite.SKIN, grams_per_click=Decimal("0.5"))
    forms = ["2 clicks to the skin qam", "2 pumps to the skin qam", "2 clicks (1 g) top qam",
             "Apply 2 clicks (1 g) to the skin in the morning."]
    assert len({parse_directions(f, pump) for f in forms}) == 1


# ---- the product field -------------------------------------------------------------------------

CREAM_FILE = (ROOT / "products/testosterone-2pct-cream.yaml").read_text(encoding="utf-8")
PUMP_FILE = CREAM_FILE.replace('topical_site: "skin"', 'topical_site: "skin"\ngrams_per_click: 0.5')


def _catalog(tmp_path: Path, **files: str) -> Path:
    catalog = tmp_path / "products"
    catalog.mkdir(parents=True)
    for slug, text in files.items():
        (catalog / f"{slug}.yaml").write_text(text, encoding="utf-8")
    return catalog


@pytest.mark.parametrize(("value", "message"), [
    ("0", "grams_per_click: expected a number greater than 0, got 0"),
    ("6", "grams_per_click: expected at most 5 g a click, got 6"),
    ("0.0001", "grams_per_click: expected grams with at most 3 decimals, got 0.0001"),
    ('"half"', "grams_per_click: expected a number, got 'half'"),
])
def test_grams_per_click_is_checked(tmp_path: Path, value: str, message: str) -> None:
    catalog = _catalog(tmp_path, cream=CREAM_FILE.replace(
        'topical_site: "skin"', f'topical_site: "skin"\ngrams_per_click: {value}'))
    with pytest.raises(InputError) as err:
        load_product(catalog, "cream")
    assert message in str(err.value)


def test_only_a_topical_product_in_grams_has_a_pump(tmp_path: Path) -> None:
    liquid = (ROOT / "products/omeprazole-2mg-ml-suspension.yaml").read_text(encoding="utf-8")
    catalog = _catalog(tmp_path, liquid=liquid.replace('route: "oral"',
                                                       'route: "oral"\ngrams_per_click: 0.5'))
    with pytest.raises(InputError) as err:
        load_product(catalog, "liquid")
    assert ("grams_per_click: only a topical product dosed in g comes in a pump whose clicks "
            "measure grams (dosage_form: g, route: topical)") in str(err.value)
    pump = load_product(_catalog(tmp_path / "2", cream=PUMP_FILE), "cream").model
    assert pump.grams_per_click == Decimal("0.5")
    assert Context.of(pump) == Context(Route.TOPICAL, GRAM, TopicalSite.SKIN, strength="20 mg/g",
                                       grams_per_click=Decimal("0.5"), product="cream")


# ---- end to end --------------------------------------------------------------------------------


def test_a_fill_with_a_dose_by_mass_renders_both_amounts(tmp_path: Path) -> None:
    fill = write_fill(tmp_path, (ROOT / "examples/fill-oil-suspension.yaml").read_text(
        encoding="utf-8").replace('"0.5 mL po biw"', '"0.5 mg po biw"'))
    done = run("render", str(fill), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "does not match" not in done.stderr           # 10 mL is 70 days of 0.5 mL twice weekly
    record = json.loads((tmp_path / "out" / "600126-2" / "fill.json").read_text())
    assert record["directions"]["printed"] == "Take 0.5 mL (0.5 mg) by mouth 2 times a week."
    [step] = record["directions"]["structure"]["steps"]
    assert (step["dose"], step["unit"], step["dose_mass"], step["mass_unit"]) == (
        "0.5", "mL", "0.5", "mg")
    assert record["warnings"] == []


def test_a_fill_in_clicks_renders_the_grams(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, **{"testosterone-2pct-cream": PUMP_FILE})
    fill = write_fill(tmp_path, BASE_FILL.replace("product: anastrozole-1mg",
                                                  "product: testosterone-2pct-cream")
                      .replace('"1 cap po qd"', '"2 pumps top qam"'))
    done = run("render", str(fill), "--catalog", str(catalog), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "out" / "600123-0" / "fill.json").read_text())
    assert record["directions"]["printed"] == "Apply 2 clicks (1 g) to the skin in the morning."
    assert record["warnings"] == []                      # 30 g for 30 days of 1 g


def test_the_sig_command_reads_a_dose_by_mass_for_a_product() -> None:
    done = run("sig", "10 mg to the skin qam", "--product", "testosterone-2pct-cream")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Apply 0.5 g (10 mg) to the skin in the morning."
    refused = run("sig", "2 clicks to the skin qam", "--product", "testosterone-2pct-cream")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "Error: directions: '2 clicks': clicks are measured with the product's grams_per_click "
        "(the grams one click of its pump gives), and this product's file gives none")


def test_a_strength_that_cannot_be_read_is_refused_naming_the_product(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, **{"rash-cream": CREAM_FILE.replace('strength: "20 mg/g"',
                                                                      'strength: "2%"', 1)})
    fill = write_fill(tmp_path, BASE_FILL.replace("product: anastrozole-1mg", "product: rash-cream")
                      .replace('"1 cap po qd"', '"10 mg top qam"'))
    done = run("render", str(fill), "--catalog", str(catalog), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert (f"Error: {fill}:7: directions: '10 mg' is a dose by mass, measured out with the "
            "product's strength, and the strength of product 'rash-cream' ('2%', its strength: "
            "field) is a percentage") in done.stderr
    # the same product, with a dose in g, needs no strength and renders
    ok = write_fill(tmp_path, BASE_FILL.replace("product: anastrozole-1mg", "product: rash-cream")
                    .replace('"1 cap po qd"', '"1 g top qam"'), name="ok.yaml")
    assert run("render", str(ok), "--catalog", str(catalog), "--out",
               str(tmp_path / "out2")).returncode == 0


@pytest.mark.parametrize(("sig", "context"), [
    ("99999999999999999999999999999999999 mL po qd", None),
    ("99999999999999999999999999999999999 mg po qd", ORAL_LIQUID),
    ("1 tab (99999999999999999999999999999999999 mg) po qd", Context(Route.ORAL, TAB,
                                                                     strength="20 mg")),
])
def test_a_number_longer_than_decimals_precision_is_refused_not_a_crash(
        sig: str, context: Context | None) -> None:
    """format_number quantized with the context's 28 digits: a 35-digit dose raised
    decimal.InvalidOperation instead of the refusal naming it."""
    with pytest.raises(SafetyError) as err:
        parse_directions(sig, context)
    assert "99999999999999999999999999999999999" in err.value.reason
