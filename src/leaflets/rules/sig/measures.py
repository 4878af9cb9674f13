"""Measures: a dose by mass, a strength after the unit, and the clicks of a pump (issue 12).

The product's strength ("1 mg/mL", "20 mg/g", "250 mg/5 mL", "20 mg" for a tablet) is read here
and nowhere else (`read_strength`), and only when a sig needs it: a product whose strength
cannot be read is refused then, naming the product and its strength.

- A dose by mass for a liquid or a cream is measured out in the product's unit: "0.5 mg po qd"
  for a 1 mg/mL product is 0.5 mL, printed "Take 0.5 mL (0.5 mg) by mouth once daily." The
  amount worked out must be exact and a whole number of steps of 0.1 mL or 0.1 g (MEASURE_STEP).
- A strength after the unit ("1 tab (20 mg)", "2 tabs 10 mg", and the printed "0.5 mL (0.5 mg)")
  must agree with the product's strength; with no product strength known it is refused.
- A dose in clicks (or pumps) of a pump dispenser is a whole number of clicks, each giving the
  product's grams_per_click: "2 clicks" at 0.5 g a click prints "Apply 2 clicks (1 g) ...".

The Dosage keeps the amount in the product's unit (its dose and unit: quantities are counted in
it), and the mass or the clicks beside it. The grammar (grammar.py) and the checks (checks.py)
call the hooks at the end of this file."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

from ...models import DoseUnit
from .amounts import amount_text, plural_noun
from .model import Context, Dosage, MassUnit, NotSig, Slots, Strength, err
from .tokens import Token
from .vocabulary import MEASURED, PILL_WORDS, UNITS

if TYPE_CHECKING:
    from .grammar import Parser

MASS_WORDS: dict[str, MassUnit] = {
    **dict.fromkeys(["mg", "milligram", "milligrams"], MassUnit.MG),
    # µg (the micro sign or the Greek mu) and ug: ISMP error-prone, EXPAND → mcg
    # (error-prone-abbreviations.md §3 and §7; sig-codes.md §3)
    **dict.fromkeys(["mcg", "microgram", "micrograms", "µg", "μg", "ug"], MassUnit.MCG),
}
# "g" is the unit of a cream: it is a mass of the active ingredient only for a product dosed in
# another unit whose strength is in g ("1 g/10 mL"), and after clicks the grams they give.
GRAM_WORDS = frozenset(word for word, unit in UNITS.items() if unit is DoseUnit.G)
CLICK_WORDS = frozenset({"click", "clicks", "pump", "pumps"})
# The finest step of an amount worked out from the strength. shared/reference/ is silent on
# what an oral syringe or a dosing card measures; the issue-12 spec makes 0.1 mL / 0.1 g the
# least measurable amount, and the safer reading takes it as the step as well, since the program
# does not know which syringe (1 mL, 3 mL, 10 mL ...) was dispensed: a finer amount (0.25 mL) is
# sent back for the prescriber to write in mL or g. Amounts written in mL or g are not affected.
MEASURE_STEP = Decimal("0.1")
_UNIT_WORDS = UNITS.keys() | PILL_WORDS | CLICK_WORDS   # what a strength after the unit follows
MAX_CLICKS = Decimal(30)       # against typos, as MAX_DOSE for the other counted units
_DIFFERENT = ("different doses at different times of day: write them out in words for a "
              "pharmacist to approve as written (directions_verbatim)")
_NO_PRODUCT = "no product strength is known here (leaflets sig --product <slug>)"

Value = tuple[Decimal, Decimal | None]


# ---- the product's strength --------------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_STRENGTH = re.compile(rf"^({_NUMBER}) ?(mg|mcg|g)(?: ?(?:/|per ) ?({_NUMBER})? ?(ml|g))?$")
_PERCENT = re.compile(rf"^(?:{_NUMBER}) ?%")


@lru_cache(maxsize=256)
def read_strength(text: str, unit: DoseUnit | None) -> Strength | str:
    """The strength a product writes, for a product dosed in `unit` (None: not known), or why
    it cannot be read (to follow "strength '2%' ...")."""
    written = " ".join(text.split()).lower()
    if _PERCENT.match(written):
        # 2% is 20 mg/g for a cream (w/w) but 20 mg/mL for a solution (w/v): not guessed
        return "is a percentage, which does not say whether per g or per mL"
    m = _STRENGTH.match(written)
    if not m:
        return "is not a mass per unit of the product"
    mass, per = Decimal(m.group(1).replace(",", "")), Decimal((m.group(3) or "1").replace(",", ""))
    mass_unit = MassUnit(m.group(2))
    if m.group(4) is None:
        if unit is None or unit in MEASURED:
            return (f"does not say in how many {unit.value if unit else 'units'} of the product "
                    "it is")
        per_unit = unit
    else:
        per_unit = DoseUnit.ML if m.group(4) == "ml" else DoseUnit.G
        if unit is not None and per_unit is not unit:
            return f"is per {per_unit.value}, but the product is dosed in {unit.value}"
    if mass_unit is MassUnit.G and per_unit is DoseUnit.G:
        return "gives grams in grams, which a dose in g could not tell apart"
    if mass <= 0 or per <= 0:
        return "is not more than 0"
    return Strength(mass, mass_unit, per, per_unit)


def strength_of(context: Context, lead: str) -> Strength:
    """The product's strength for a mass in the sig; `lead` says what needs it."""
    if context.strength is None:
        raise err(f"{lead}, and {_NO_PRODUCT}")
    found = read_strength(context.strength, context.unit)
    if isinstance(found, str):
        product = f"product '{context.product}'" if context.product else "the product"
        raise err(f"{lead}, and the strength of {product} ('{context.strength}', its "
                  f"strength: field) {found}: write it as a mass per unit of the product ('1 "
                  "mg/mL', '20 mg/g', or '20 mg' for a tablet)")
    return found


def _grams_are_mass(context: Context) -> bool:
    """"g" is a mass of the active ingredient for this product ("1 g/10 mL")."""
    if context.strength is None or context.unit is DoseUnit.G:
        return False
    found = read_strength(context.strength, context.unit)
    return isinstance(found, Strength) and found.mass_unit is MassUnit.G


# ---- numbers -----------------------------------------------------------------------------------


def _plain(value: Fraction) -> Decimal:
    """An amount whose decimal ends (`_finite`) as that Decimal, exactly (the context's 28
    digits would round a long one), without an exponent or trailing zeros ("1", "0.5")."""
    digits = len(str(value.numerator)) + 4 * len(str(value.denominator)) + 2
    with localcontext() as ctx:
        ctx.prec = digits
        d = (Decimal(value.numerator) / Decimal(value.denominator)).normalize()
        return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


def _finite(value: Fraction) -> bool:
    """A fraction with a decimal that ends (1/4), not one that repeats (1/3)."""
    d = value.denominator
    for prime in (2, 5):
        while d % prime == 0:
            d //= prime
    return d == 1


def _shown(value: Fraction) -> str:
    return amount_text(_plain(value)) if _finite(value) else f"{value.numerator}/{value.denominator}"


def _range_text(low: Decimal, high: Decimal | None) -> str:
    return amount_text(low) if high is None else f"{amount_text(low)} to {amount_text(high)}"


def _values(value: Value) -> list[Decimal]:
    return [v for v in value if v is not None]


# ---- grammar hooks (grammar.Parser._slot and _maximum) -----------------------------------------


def read_measure(p: Parser, s: Slots, tok: Token) -> bool:
    """Read the words at the cursor when they are a click word, a dose by mass ("0.5 mg") or a
    strength after the unit ("(20 mg)"); False when they are none of these (the grammar reads
    them as before)."""
    if tok.low in CLICK_WORDS:
        _click_word(p, s, tok)
        return True
    if tok.kind not in ("number", "range") and tok.low != "one-half":
        return False
    if s.periods and (s.mass is not None or s.clicks is not None):
        _repeated(p, s, tok)
        return True
    start = p.i
    value = p._value()
    word = p.peek()
    before = _word_before(p, start)
    after_clicks = s.clicks is not None and before is not None and before.low in CLICK_WORDS
    if word is not None and word.low in GRAM_WORDS and after_clicks:
        p.i += 1
        if s.click_grams is not None:
            raise NotSig(f"a second amount '{tok.text}'")
        s.click_grams = value
        s.click_grams_text = " ".join(t.text for t in p.t[start:p.i])
        return True
    kind = _mass_unit(p, word)
    if kind is None:
        p.i = start
        return False
    p.i += 1
    written = " ".join(t.text for t in p.t[start:p.i])
    if value[0] <= 0:
        raise err(f"dose '{written}' must be greater than 0")
    if s.mass is not None:
        raise NotSig(f"a second amount '{written}'")
    if before is not None and before.low in _UNIT_WORDS and s.dose is not None:
        if after_clicks:
            raise err(f"'{written}' after '{s.clicks_text}': what follows clicks is the grams "
                      "they give ('2 clicks (1 g)'); a dose by mass is written alone ('10 mg')")
        s.mass, s.mass_unit, s.mass_text = value, kind, f"{s.dose_text} {before.text} {written}"
        return True
    if s.dose is not None or s.thin_layer:
        raise NotSig(f"'{written}' must follow the dose and its unit ('1 tab (20 mg)')")
    if s.timing or s.periods or s.days:
        raise NotSig(f"unexpected number '{tok.text}'")
    s.mass, s.mass_unit, s.mass_text = value, kind, written
    return True


def refuse_mass_maximum(p: Parser, tok: Token, value: Token) -> None:
    """A maximum is read in the unit the dose is measured in, not by mass ("max 2 mg/day") nor
    in clicks ("max 6 clicks/day")."""
    word = p.peek()
    if word is not None and (_mass_unit(p, word) is not None or word.low in CLICK_WORDS):
        raise err(f"'{tok.text} {value.text} {word.text}': a maximum is read in the unit the "
                  "dose is measured in, not by mass or in clicks: write it so ('max 4 mL per "
                  "day', 'max 3 g per day', 'max 4 tabs per day')")


def _mass_unit(p: Parser, word: Token | None) -> MassUnit | None:
    if word is None:
        return None
    if word.low in MASS_WORDS:
        return MASS_WORDS[word.low]
    if word.low in GRAM_WORDS and _grams_are_mass(p.context):
        return MassUnit.G
    return None


def _word_before(p: Parser, at: int) -> Token | None:
    """The token before `at`, brackets and commas skipped: the unit a strength follows."""
    j = at - 1
    while j >= 0 and p.t[j].kind == "punct":
        j -= 1
    return p.t[j] if j >= 0 else None


def _click_word(p: Parser, s: Slots, tok: Token) -> None:
    before = p.t[p.i - 1] if p.i else None
    if (s.dose is None or s.unit is not None or s.clicks is not None or s.mass is not None
            or before is None or before.kind == "punct"
            or not s.dose_text.endswith(before.text)):
        raise NotSig(f"'{tok.text}' must follow the number of clicks ('2 clicks')")
    s.clicks = (s.dose, s.dose_max)
    s.clicks_text = f"{s.dose_text} {tok.text}"
    p.i += 1


def _repeated(p: Parser, s: Slots, tok: Token) -> None:
    """A dose repeated before the next time of day ("... in the morning and 0.5 mL (0.5 mg) in
    the evening"): the same amount, and the same mass or grams when it gives them again."""
    value = p._value()
    word = p.low()
    if s.clicks is not None:
        if word not in CLICK_WORDS or value != s.clicks:
            raise NotSig(_DIFFERENT)
        p.i += 1
        _repeated_second(p, s.click_grams, lambda w: w.low in GRAM_WORDS)
    elif s.dose is not None:
        if word not in UNITS or UNITS[word] is not (s.unit or p.unit) or value != (s.dose,
                                                                                  s.dose_max):
            raise NotSig(_DIFFERENT)
        p.i += 1
        _repeated_second(p, s.mass, lambda w: _mass_unit(p, w) is s.mass_unit)
    else:
        if _mass_unit(p, p.peek()) is not s.mass_unit or value != s.mass:
            raise NotSig(_DIFFERENT)
        p.i += 1
    while p.low() == ")":
        p.i += 1
    found = p.phrase()
    if not found or found[1] != "period":
        raise NotSig(f"a repeated dose '{tok.text}' must be followed by a time of day")


def _repeated_second(p: Parser, first: Value | None, same_unit: Callable[[Token], bool]
                     ) -> None:
    if p.low() != "(":
        return
    p.i += 1
    nxt = p.peek()
    if nxt is None or (nxt.kind not in ("number", "range") and nxt.low != "one-half"):
        raise NotSig(_DIFFERENT)
    value = p._value()
    word = p.peek()
    if word is None or not same_unit(word) or value != first:
        raise NotSig(_DIFFERENT)
    p.i += 1


# ---- checks hooks (checks.build_step) ----------------------------------------------------------


def resolve_measures(s: Slots, context: Context) -> None:
    """A dose counted in clicks or given by mass becomes the amount in the product's unit; a
    strength after the unit must agree with the product's."""
    if s.clicks is not None:
        _resolve_clicks(s, context)
    elif s.mass is not None and s.dose is None:
        _resolve_mass_dose(s, context)
    elif s.mass is not None:
        _check_strength(s, context)


def with_measures(dosage: Dosage, s: Slots) -> Dosage:
    """The Dosage of a step, with the mass and the clicks it was read with."""
    if s.mass is None and s.clicks is None:
        return dosage
    mass, mass_max = s.mass or (None, None)
    clicks, clicks_max = s.clicks or (None, None)
    return replace(dosage, dose_mass=mass, dose_mass_max=mass_max,
                   mass_unit=s.mass_unit if s.mass else None, clicks=clicks,
                   clicks_max=clicks_max)


def _resolve_clicks(s: Slots, context: Context) -> None:
    assert s.clicks is not None
    per_click = context.grams_per_click
    if per_click is None or context.unit is not DoseUnit.G:
        whose = ("no product is known here (leaflets sig --product <slug>)"
                 if context.product is None and context.unit is None
                 else "this product's file gives none" if per_click is None
                 else "this product is not dosed in g")
        raise err(f"'{s.clicks_text}': clicks are measured with the product's grams_per_click "
                  f"(the grams one click of its pump gives), and {whose}")
    values = _values(s.clicks)
    if any(v != v.to_integral_value() for v in values):
        raise err(f"'{s.clicks_text}': a click of a pump cannot be divided; write whole clicks, "
                  "or the dose in g")
    if values[-1] > MAX_CLICKS:
        raise err(f"a dose of {amount_text(values[-1])} clicks is more than "
                  f"{amount_text(MAX_CLICKS)}, the most one dose may be here: check the sig")
    grams = [_plain(Fraction(v) * Fraction(per_click)) for v in values]
    given = (grams[0], grams[1] if len(grams) > 1 else None)
    if s.click_grams is not None and s.click_grams != given:
        raise err(f"'{s.clicks_text} ({s.click_grams_text})' does not agree with this product's "
                  f"pump: {s.clicks_text} give {_range_text(*given)} g (grams_per_click: "
                  f"{amount_text(per_click)})")
    s.dose, s.dose_max = given
    s.unit = s.unit or DoseUnit.G


def _resolve_mass_dose(s: Slots, context: Context) -> None:
    assert s.mass is not None and s.mass_unit is not None
    strength = strength_of(context, f"'{s.mass_text}' is a dose by mass, measured out with the "
                                    "product's strength")
    unit = strength.per_unit
    if unit not in MEASURED:
        raise err(f"'{s.mass_text}' is a dose by mass, and only a liquid (mL) or a cream (g) is "
                  f"measured out by mass: write the number of {plural_noun(unit)}, with the "
                  "strength after it if wanted ('1 tab (20 mg)')")
    _same_mass_unit(s, strength, context)
    amounts = [_measured(v, s.mass_unit, strength, context) for v in _values(s.mass)]
    s.dose, s.dose_max = amounts[0], (amounts[1] if len(amounts) > 1 else None)
    s.dose_text = amount_text(amounts[0])
    s.unit = s.unit or unit


def _measured(mass: Decimal, mass_unit: MassUnit, strength: Strength, context: Context
              ) -> Decimal:
    amount = Fraction(mass) * Fraction(strength.per) / Fraction(strength.mass)
    unit = strength.per_unit.value
    written = f"'{amount_text(mass)} {mass_unit.value}' of this {context.strength} product is"
    if not _finite(amount):
        raise err(f"{written} {_shown(amount)} {unit}, not an exact amount: write the dose in "
                  f"{unit}")
    if (amount / Fraction(MEASURE_STEP)).denominator != 1:
        device = "an oral syringe" if strength.per_unit is DoseUnit.ML else "a dosing card"
        less = f", less than {MEASURE_STEP} {unit}" if amount < MEASURE_STEP else ""
        raise err(f"{written} {_shown(amount)} {unit}{less}: a dose worked out from the "
                  f"strength is printed only in steps of {MEASURE_STEP} {unit}, what {device} "
                  f"measures; write the dose in {unit}")
    return _plain(amount)


def _check_strength(s: Slots, context: Context) -> None:
    assert s.mass is not None and s.dose is not None
    unit = s.unit or context.unit
    if context.unit is not None and unit is not context.unit:
        return                      # build_step refuses the unit that is not the product's
    strength = strength_of(context, f"'{s.mass_text}': the strength after the dose is checked "
                                    "against the product's strength")
    if unit is not strength.per_unit:
        raise err(f"'{s.mass_text}': the product's strength ({context.strength}) is per "
                  f"{strength.per_unit.value}, not per {unit.value if unit else 'dose'}")
    _same_mass_unit(s, strength, context)
    doses = _values((s.dose, s.dose_max))
    expected = [Fraction(d) * Fraction(strength.mass) / Fraction(strength.per) for d in doses]
    if [Fraction(v) for v in _values(s.mass)] != expected or len(_values(s.mass)) != len(doses):
        noun = unit.value if len(doses) == 1 and doses[0] <= 1 else plural_noun(unit)
        verb = "is" if unit in MEASURED or (len(doses) == 1 and doses[0] <= 1) else "are"
        shown = " to ".join(_shown(e) for e in expected)
        raise err(f"'{s.mass_text}' does not agree with the product's strength, "
                  f"{context.strength}: {_range_text(s.dose, s.dose_max)} {noun} {verb} {shown} "
                  f"{strength.mass_unit.value}; check the sig")


def _same_mass_unit(s: Slots, strength: Strength, context: Context) -> None:
    assert s.mass_unit is not None
    if s.mass_unit is not strength.mass_unit:
        raise err(f"'{s.mass_text}' is in {s.mass_unit.value} but the product's strength is in "
                  f"{strength.mass_unit.value} ({context.strength}): write the dose in "
                  f"{strength.mass_unit.value} (a dose is not converted between units: a slip "
                  "between mcg, mg and g is a 1,000-fold dose)")
