"""Typed, frozen models of the inputs: products, fills, the pharmacy profile and label stocks.

Field-level validation lives here (pydantic collects every problem of a document at once);
cross-field checks that need several fields are `problems()` methods returning (field, message).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from .parse import check_text, quoted
from .resources import language_table


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False, defer_build=True)


# ---- closed vocabularies -----------------------------------------------------------------------


class BudCategory(StrEnum):
    """USP <795> (2023) Table 4 rows; see shared/reference/usp-795-bud.md §3."""

    AQUEOUS_NONPRESERVED = "aqueous-nonpreserved"
    AQUEOUS_PRESERVED = "aqueous-preserved"
    NONAQUEOUS_ORAL_LIQUID = "nonaqueous-oral-liquid"
    NONAQUEOUS_OTHER = "nonaqueous-other"


class StorageCondition(StrEnum):
    CONTROLLED_ROOM_TEMPERATURE = "controlled-room-temperature"
    REFRIGERATED = "refrigerated"
    FROZEN = "frozen"


class DoseUnit(StrEnum):
    """The noun used in directions for one dose ("Take 1 capsule", "Take 5 mL")."""

    CAPSULE = "capsule"
    TABLET = "tablet"
    TROCHE = "troche"
    SUPPOSITORY = "suppository"
    ML = "mL"
    G = "g"
    DROP = "drop"
    APPLICATORFUL = "applicatorful"
    PUFF = "puff"
    SPRAY = "spray"


class Route(StrEnum):
    ORAL = "oral"
    SUBLINGUAL = "sublingual"
    BUCCAL = "buccal"
    TOPICAL = "topical"
    RECTAL = "rectal"
    VAGINAL = "vaginal"
    OPHTHALMIC = "ophthalmic"
    OTIC = "otic"
    NASAL = "nasal"
    INHALATION = "inhalation"


class TopicalSite(StrEnum):
    """Where a topical product goes when the directions do not say: on the skin (a cream that
    acts through it, such as a hormone: it has no 'affected area') or on the affected area
    (a cream for a rash)."""

    SKIN = "skin"
    AFFECTED_AREA = "affected-area"


class Schedule(StrEnum):
    II = "II"
    III = "III"
    IV = "IV"
    V = "V"


class BudCounting(StrEnum):
    """USP <795> day-counting conventions; usp-795-bud.md §5. Day 1 is the conservative one."""

    COMPOUNDING_DAY_IS_DAY_1 = "compounding-day-is-day-1"
    ELAPSED_DAYS = "elapsed-days"


class DateFormat(StrEnum):
    US = "MM/DD/YYYY"
    ISO = "YYYY-MM-DD"

    def render(self, day: dt.date) -> str:
        if self is DateFormat.US:
            return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"
        return day.isoformat()


# ---- reusable field types ----------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Any date a fill, product or expiry can hold: dates of birth from 1900, expiries to 2199. Also
# keeps date arithmetic (a BUD is a date plus up to 180 days) far from year 9999.
YEARS = range(1900, 2200)


def _in_years(year: int, value: Any) -> None:
    if year not in YEARS:
        raise ValueError(f"expected a date in the years {YEARS.start} to {YEARS.stop - 1}, got "
                         f"{_show(value)}")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date YYYY-MM-DD without a time, got '{value.isoformat()}'")
    if isinstance(value, dt.date):
        _in_years(value.year, value)
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        _in_years(int(value.strip()[:4]), value)
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected a date YYYY-MM-DD, got {_show(value)}, which is not a day "
                             "of the calendar") from None
    raise ValueError(f"expected a date YYYY-MM-DD, got {_show(value)}")


def _expiry(value: Any) -> dt.date:
    # A month-year expiry means the last day of that month: USP <7>, usp-795-bud.md §4 item 7.
    if isinstance(value, str) and (m := _ISO_MONTH.match(value.strip())):
        year, month = int(m.group(1)), int(m.group(2))
        _in_years(year, value)
        if 1 <= month <= 12:
            return dt.date(year, month, calendar.monthrange(year, month)[1])
    if not (isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value.strip()))):
        raise ValueError(f"expected a date YYYY-MM-DD or a month YYYY-MM, got {_show(value)}")
    return _date(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_show(value)} (quote it in YAML)")
    if not value.strip():
        raise ValueError("expected text, got an empty string")
    text, why = check_text(value)    # the boundary's rule, for data that did not come through it
    if why:
        raise ValueError(why)
    return " ".join(text.split())


_show = quoted


def _file_path(value: Any) -> str:
    """A file's path as written (not collapsed as printed text is): text, at most 1,024
    characters, naming a file rather than a folder."""
    if not isinstance(value, str):
        raise ValueError(f"expected a file path, got {_show(value)} (quote it in YAML)")
    if not value.strip():
        raise ValueError("expected a file path, got an empty string")
    if value != value.strip():
        raise ValueError("expected a file path without leading or trailing spaces")
    if len(value) > 1024:
        raise ValueError(f"expected a file path of at most 1,024 characters, got {len(value):,}")
    text, why = check_text(value)
    if why:
        raise ValueError(why)
    if text.endswith(("/", "\\", "/.", "/..")) or text in (".", ".."):
        raise ValueError(f"expected a file path, got a folder: {_show(value)}")
    return text


# The readers of a date and of an expiry (a day, or a month meaning its last day), for the CLI.
day, expiry = _date, _expiry
Date = Annotated[dt.date, BeforeValidator(_date)]
ExpiryDate = Annotated[dt.date, BeforeValidator(_expiry)]
Text = Annotated[str, BeforeValidator(_text)]
FilePath = Annotated[str, BeforeValidator(_file_path)]
Initials = Annotated[str, BeforeValidator(_text), StringConstraints(pattern=r"^[A-Za-z][A-Za-z.\- ]{0,9}$")]
# rx_number becomes part of a path (out/<rx>-<fill>/): letters, digits and '-' only.
RxNumber = Annotated[
    str, BeforeValidator(_text), StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
]
SLUG_PATTERN = r"^[a-z0-9][a-z0-9.-]{0,63}$"     # no '/' and no leading '.': a name, never a path
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]


WHOLE_MAX = 100_000     # no count on a prescription comes near it; bigger means a typo
# Bounds against typos (docs/formats.md "Bad input: limits and refusals"), not clinical limits.
# Refills: NCPDP SCRIPT's refills field holds 0 to 99. A quantity of 10,000 is 10 L or 10,000
# capsules, past any compounded fill.
MAX_REFILLS = 99
MAX_QUANTITY = Decimal(10_000)
MAX_DAYS_SUPPLY = 366


def _whole(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {_show(value)}")
    if value > WHOLE_MAX:
        raise ValueError(f"expected a whole number of at most {WHOLE_MAX:,}, got {_show(value)}")
    return value


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"expected a number, got {_show(value)}")
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError(f"expected a number, got {_show(value)}") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"expected a number greater than 0, got {_show(value)}")
    return amount


def _quantity(value: Any) -> Decimal:
    amount = _amount(value)
    if amount > MAX_QUANTITY:
        raise ValueError(f"expected a quantity of at most {MAX_QUANTITY:,}, got {_show(value)}")
    return _three_decimals(amount, "a quantity", value)


def _three_decimals(amount: Decimal, what: str, value: Any) -> Decimal:
    if amount.normalize().as_tuple().exponent < -3:     # type: ignore[operator]
        raise ValueError(f"expected {what} with at most 3 decimals, got {_show(value)}")
    return amount


# A pump dispenser's click: the bound is against a slip in the product file ("50" for "0.50";
# docs/formats.md "Bad input: limits and refusals"), not a device's specification.
MAX_GRAMS_PER_CLICK = Decimal(5)


def _grams_per_click(value: Any) -> Decimal:
    amount = _amount(value)
    if amount > MAX_GRAMS_PER_CLICK:
        raise ValueError(f"expected at most {MAX_GRAMS_PER_CLICK} g a click, got {_show(value)}")
    return _three_decimals(amount, "grams", value)


Whole = Annotated[int, BeforeValidator(_whole)]
Quantity = Annotated[Decimal, BeforeValidator(_quantity)]
GramsPerClick = Annotated[Decimal, BeforeValidator(_grams_per_click)]
# true or false only: not yes/no/on/1, which pydantic's lax mode would read as true.
Flag = StrictBool


# ---- product -----------------------------------------------------------------------------------


class Ingredient(Frozen):
    name: Text
    strength: Text
    role: Text


class BudSpec(Frozen):
    category: BudCategory
    days: Annotated[Whole, Field(ge=1, le=180)] | None = None
    basis: Text | None = None


class Storage(Frozen):
    condition: StorageCondition
    text: Text


class ControlledSubstance(Frozen):
    schedule: Schedule


class Section(Frozen):
    title: Text | None = None
    text: tuple[Text, ...] = ()
    items: tuple[Text, ...] = ()


class Sections(Frozen):
    """Monograph sections; the order of the fields is the order they print in."""

    administration: Section | None = None
    dosing: Section | None = None
    mechanism: Section | None = None
    indications: Section | None = None
    monitoring: Section | None = None
    contraindications: Section | None = None
    warnings: Section | None = None
    interactions: Section | None = None
    side_effects: Section | None = None


class Faq(Frozen):
    question: Text
    answer: Text


# Auxiliary warning codes, as warnings.yaml names them: a slug ("shake-well").
WARNING_CODE_PATTERN = r"^[a-z][a-z0-9-]{0,47}$"
WarningCode = Annotated[str, StringConstraints(pattern=WARNING_CODE_PATTERN)]


class ProductWarning(Frozen):
    """An auxiliary warning a product carries (Product.auxiliary_warnings): a code of
    warnings.yaml and why a pharmacist chose it for this product."""

    code: WarningCode
    reason: Text


class HazardousDrug(Frozen):
    """The product is on the NIOSH List of Hazardous Drugs in Healthcare Settings, so USP <800>
    handling applies and the label carries the caregiver handling warning
    (shared/reference/auxiliary-warnings.md §4). `niosh_table`: 1 (antineoplastic, or with
    manufacturer's special handling information, or a known or probable carcinogen) or 2 (other
    hazardous drugs) of the 2024 list; `basis`: where the listing comes from."""

    niosh_table: Annotated[Whole, Field(ge=1, le=2)]
    basis: Text


class ProductText(Frozen):
    """A product's patient text in another language (Product.translations). A part left out is
    printed in English under a note in the patient's language. `reviewed_by` names the
    pharmacist who checked the translation; until then every fill in it carries a warning."""

    reviewed_by: Text | None = None
    form_description: Text | None = None
    summary: Text | None = None
    description: tuple[Text, ...] | None = None
    storage: Text | None = None
    sections: Sections = Sections()
    faq: tuple[Faq, ...] | None = None


def _language(value: Any) -> str:
    """A language of templates/languages.yaml (the table says how each is printed)."""
    codes = language_table()
    if not isinstance(value, str) or value not in codes:
        raise ValueError(f"expected one of the languages in templates/languages.yaml "
                         f"({', '.join(sorted(codes))}), got {_show(value)}")
    return value


LanguageCode = Annotated[str, BeforeValidator(_language)]


def _other_languages(value: Any) -> Any:
    if isinstance(value, dict) and "en" in value:
        raise ValueError("'en' is the product's own text: translations are for other languages")
    return value


class Product(Frozen):
    slug: Slug
    name: Text
    strength: Text
    dosage_form: DoseUnit
    form_description: Text | None = None
    route: Route
    topical_site: TopicalSite | None = None     # topical products only, and then required
    grams_per_click: GramsPerClick | None = None  # a pump dispenser: topical products in g only
    example: Flag = False
    revised: Date
    summary: Text
    description: tuple[Text, ...] = ()
    active_ingredients: Annotated[tuple[Ingredient, ...], Field(min_length=1)]
    bud: BudSpec
    storage: Storage
    controlled_substance: ControlledSubstance | None = None
    sections: Sections = Sections()
    faq: tuple[Faq, ...] = ()
    references: Section | None = None
    translations: Annotated[dict[LanguageCode, ProductText], BeforeValidator(_other_languages)] = {}
    # Auxiliary warnings (warnings.yaml codes) the pharmacist chose, each with its reason; the
    # rules add more from the product data (rules/warnings.py). Not `warnings`: sections.warnings
    # is the leaflet's Warnings section of the same file.
    auxiliary_warnings: tuple[ProductWarning, ...] = ()
    # A liquid whose solid settles and must be shaken (a suspension, not a solution): the rules
    # add the shake-well warning (auxiliary-warnings.md §3).
    suspension: Flag = False
    hazardous_drug: HazardousDrug | None = None

    @property
    def form_name(self) -> str:
        return self.form_description or self.dosage_form.value

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if (self.bud.days is None) != (self.bud.basis is None):
            found.append(("bud.basis" if self.bud.days else "bud.days",
                          "bud.days and bud.basis go together: a BUD beyond USP <795> Table 4 "
                          "needs the stability study or monograph it comes from"))
        if (self.route is Route.TOPICAL) != (self.topical_site is not None):
            found.append(("topical_site", "a topical product says where it goes when the "
                                          "directions do not (skin: a cream that acts through "
                                          "the skin, such as a hormone; affected-area: a cream "
                                          "for a rash), and no other product does"))
        if self.grams_per_click is not None and not (self.route is Route.TOPICAL
                                                     and self.dosage_form is DoseUnit.G):
            found.append(("grams_per_click", "only a topical product dosed in g comes in a pump "
                                             "whose clicks measure grams (dosage_form: g, "
                                             "route: topical)"))
        if self.suspension and self.dosage_form not in (DoseUnit.ML, DoseUnit.DROP):
            found.append(("suspension", "only a liquid (dosage_form: mL or drop) is a suspension"))
        described = f"{self.name} {self.form_description or ''}".lower()
        if "suspension" in described and not self.suspension:
            found.append(("suspension", "the product's name or form says it is a suspension: "
                                        "set suspension: true, so the label says to shake it"))
        codes = [w.code for w in self.auxiliary_warnings]
        for i, code in enumerate(codes):
            if code in codes[:i]:
                found.append((f"auxiliary_warnings.{i}.code", f"'{code}' is listed twice"))
        # USP <795> (2023) Table 4 storage column; usp-795-bud.md §3.
        cond = self.storage.condition
        if (self.bud.category is BudCategory.AQUEOUS_NONPRESERVED
                and cond is not StorageCondition.REFRIGERATED):
            found.append(("storage.condition",
                          "an aqueous non-preserved preparation must be refrigerated "
                          f"(USP <795> Table 4), got '{cond.value}'"))
        if cond is StorageCondition.FROZEN and self.bud.basis is None:
            # Table 4 lists no frozen storage; the safer reading needs stability data for it.
            found.append(("storage.condition",
                          "USP <795> Table 4 has no frozen storage: a frozen preparation needs "
                          "bud.days and bud.basis from stability data"))
        return found


# ---- auxiliary warnings (warnings.yaml) ----------------------------------------------------------


class AuxiliaryWarning(Frozen):
    """One warning of the pharmacy's catalog: its text in each language, its place in the
    printing order (a lower priority prints first) and the evidence for it (USP <17> asks for
    evidence-based, simple, explicit statements applied consistently; auxiliary-warnings.md §1).
    `reviewed_by`: per language other than English, the pharmacist who checked the text; until
    then every fill in that language carries a warning."""

    priority: Annotated[Whole, Field(ge=1, le=999)]
    text: dict[LanguageCode, Text]
    reviewed_by: dict[LanguageCode, Initials] = {}
    source: Text

    def problems(self) -> list[tuple[str, str]]:
        return [] if "en" in self.text else [("text.en", "every warning needs its English text")]


class WarningCatalog(Frozen):
    warnings: dict[WarningCode, AuxiliaryWarning]

    def problems(self) -> list[tuple[str, str]]:
        found = [(f"warnings.{code}.{field}", message)
                 for code, entry in self.warnings.items() for field, message in entry.problems()]
        for code, entry in self.warnings.items():
            found += [(f"warnings.{code}.reviewed_by.{lang}", f"there is no '{lang}' text to review")
                      for lang in entry.reviewed_by if lang not in entry.text]
        return found


# ---- pharmacy ----------------------------------------------------------------------------------


class Licence(Frozen):
    authority: Text
    number: Text


# A CUPS queue name: printable, no space, '/', '#', quote or backslash (lpadmin(8)), and not
# starting with '-' so that it can never read as an option of lp.
QueueName = Annotated[str, StringConstraints(pattern=r"^[^-\s/#\\'\"][^\s/#\\'\"]{0,126}$")]


class Printers(Frozen):
    """Where `leaflets print` sends documents (its --labels/--documents/--dpi override these)."""

    labels: QueueName | None = None        # the label printer's CUPS queue
    documents: QueueName | None = None     # the document (laser) printer's queue: leaflets, duplex
    # The thermal printhead's resolution for --format zpl: 8 or 12 dots/mm (printing.md §2).
    label_dpi: Literal[203, 300] = 203


class Pharmacy(Frozen):
    name: Text
    address: Annotated[tuple[Text, ...], Field(min_length=1)]
    phone: Text
    licences: tuple[Licence, ...] = ()
    monograph_base_url: Annotated[
        str, StringConstraints(pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$")
    ] = "https://genesiscompounding.example/monographs"
    date_format: DateFormat = DateFormat.US
    default_stock: Slug = "4x2.5"
    large_print_stock: Slug = "large-print"     # for patient.large_print and --large-print
    bud_counting: BudCounting = BudCounting.COMPOUNDING_DAY_IS_DAY_1
    printers: Printers = Printers()
    # The ledger (record/stage.py): relative to the profile's folder unless absolute. --ledger
    # overrides it; without either, ledger.sqlite beside the out folder.
    ledger: FilePath | None = None

    def monograph_url(self, slug: str) -> str:
        # The QR encodes <base>/<slug> and nothing else: no patient data (safety rule 4).
        return f"{self.monograph_base_url.rstrip('/')}/{slug}"


# ---- fill --------------------------------------------------------------------------------------


class Patient(Frozen):
    name: Text
    date_of_birth: Date
    language: LanguageCode = "en"
    # Accessible large print (usp-17-labels.md §6): the leaflet at the large-print style and the
    # label on the large-print stock.
    large_print: Flag = False


def _npi_ok(npi: str) -> bool:
    # NPI check digit: Luhn over "80840" + the first nine digits (CMS NPI standard).
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


def _npi(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{10}", value):
        raise ValueError(f"expected a 10-digit NPI in quotes, got {_show(value)}")
    if not _npi_ok(value):
        raise ValueError(f"expected a valid NPI, got '{value}' (its check digit is wrong)")
    return value


class Prescriber(Frozen):
    name: Text
    npi: Annotated[str, BeforeValidator(_npi)]


class Compounding(Frozen):
    compounded_on: Date
    lot: Annotated[str, BeforeValidator(_text),
                   StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-/]{0,31}$")]
    component_expirations: Annotated[tuple[ExpiryDate, ...], Field(min_length=1)]


class VerbatimApproval(Frozen):
    """A pharmacist's approval to print directions the grammar does not read, as written."""

    approved_by: Initials


class Fill(Frozen):
    rx_number: RxNumber
    fill_number: Annotated[Whole, Field(ge=0, le=MAX_REFILLS)] = 0
    fill_date: Date
    product: Slug
    patient: Patient
    prescriber: Prescriber
    directions: Text
    directions_verbatim: VerbatimApproval | None = None
    indication: Text | None = None
    quantity: Quantity
    days_supply: Annotated[Whole, Field(ge=1, le=MAX_DAYS_SUPPLY)]
    refills: Annotated[Whole, Field(ge=0, le=MAX_REFILLS)]
    compounding: Compounding
    pharmacist: Initials

    @property
    def refills_left(self) -> int:
        return self.refills - self.fill_number

    @property
    def key(self) -> str:
        return f"{self.rx_number}-{self.fill_number}"

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.fill_number > self.refills:
            found.append(("fill_number", f"fill {self.fill_number} exceeds the {self.refills} "
                                         "refills authorised on the prescription"))
        if self.compounding.compounded_on > self.fill_date:
            found.append(("compounding.compounded_on",
                          f"compounded on {self.compounding.compounded_on}, after the fill date "
                          f"{self.fill_date}"))
        if self.patient.date_of_birth > self.fill_date:
            found.append(("patient.date_of_birth", "date of birth is after the fill date"))
        return found


# ---- label stock -------------------------------------------------------------------------------

Box = tuple[float, float, float, float]  # x, y from the top-left corner, width, height; in points


class TextRegion(Frozen):
    """A box of text. Each row starts a new line; the fields of one row flow inline, joined by
    `separator`, wrapping at spaces. Every field in the region is set in one size, the largest
    from max_size_pt down to min_size_pt at which all of it fits."""

    box_pt: Box
    rows: Annotated[tuple[tuple[str, ...], ...], Field(min_length=1)]
    separator: str = "  "
    min_size_pt: Annotated[float, Field(gt=0)]
    max_size_pt: Annotated[float, Field(gt=0)]
    leading: Annotated[float, Field(ge=1.0, le=2.0)] = 1.25
    bold: Flag = False
    bold_fields: tuple[str, ...] = ()
    patient_centred: Flag = False


class WarningStrip(Frozen):
    """Where a label stock prints auxiliary warnings. `box_pt`: the strip on the first label;
    `continuation_box_pt`: the text area of each continuation label (pages 2..n of label.pdf,
    the same stock). Every warning is set at `min_size_pt`, never smaller (its own lines, never
    split across labels); the first label's strip holds those that fit, the rest go on numbered
    continuation labels. `note_size_pt`: the bold line on the first label that says the
    warnings continue, when they do."""

    box_pt: Box
    continuation_box_pt: Box
    min_size_pt: Annotated[float, Field(gt=0)]
    note_size_pt: Annotated[float, Field(gt=0)]
    leading: Annotated[float, Field(ge=1.0, le=2.0)] = 1.25
    bold: Flag = False


class CodeBox(Frozen):
    box_pt: Box


class BarcodeBox(Frozen):
    box_pt: Box
    module_pt: Annotated[float, Field(gt=0)]


class Stock(Frozen):
    name: Slug
    description: Text
    width_in: Annotated[float, Field(gt=0)]
    height_in: Annotated[float, Field(gt=0)]
    regions: dict[str, TextRegion]
    qr: CodeBox
    barcode: BarcodeBox
    warnings: WarningStrip

    @property
    def size_pt(self) -> tuple[float, float]:
        return self.width_in * 72.0, self.height_in * 72.0

    def region_of(self, field: str) -> str | None:
        for key, region in self.regions.items():
            if any(field in row for row in region.rows):
                return key
        return None

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        width, height = self.size_pt
        boxes: dict[str, Box] = {f"regions.{k}": r.box_pt for k, r in self.regions.items()}
        boxes["qr"] = self.qr.box_pt
        boxes["barcode"] = self.barcode.box_pt
        boxes["warnings"] = self.warnings.box_pt
        placed = [(f"{name}.box_pt", box) for name, box in boxes.items()]
        placed.append(("warnings.continuation_box_pt", self.warnings.continuation_box_pt))
        for where, (x, y, w, h) in placed:
            if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > width or y + h > height:
                found.append((where, "box lies outside the label"))
        names = sorted(boxes)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if _overlap(boxes[a], boxes[b]):
                    found.append((f"{b}.box_pt", f"box overlaps {a}"))
        centred = [r for r in self.regions.values() if r.patient_centred]
        # 16 CCR 1707.5(a)(1): the patient-centred items take at least 50 % of the label, in
        # at least 12 pt sans-serif; usp-17-labels.md §5.
        if sum(r.box_pt[2] * r.box_pt[3] for r in centred) < 0.5 * width * height:
            found.append(("regions", "patient-centred regions cover less than half the label "
                                     "(16 CCR 1707.5(a)(1))"))
        for key, r in self.regions.items():
            if r.patient_centred and r.min_size_pt < 12:
                found.append((f"regions.{key}.min_size_pt",
                               "patient-centred text needs at least 12 pt (16 CCR 1707.5(a)(1))"))
            if r.min_size_pt > r.max_size_pt:
                found.append((f"regions.{key}.min_size_pt", "min_size_pt exceeds max_size_pt"))
        # shared/reference/auxiliary-warnings.md §2: <17>'s minimum of 10 pt applies to warnings.
        if self.warnings.min_size_pt < 10:
            found.append(("warnings.min_size_pt", "auxiliary warnings need at least 10 pt "
                                                  "(USP <17>; auxiliary-warnings.md §2)"))
        fields = [f for r in self.regions.values() for row in r.rows for f in row]
        for f in sorted({f for f in fields if fields.count(f) > 1}):
            found.append(("regions", f"field '{f}' is placed in more than one region"))
        return found


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


class DocumentStyle(Frozen):
    """Page geometry and type sizes of a flowing document (leaflet, monograph)."""

    name: Slug
    width_in: Annotated[float, Field(gt=0)]
    height_in: Annotated[float, Field(gt=0)]
    margin_pt: Annotated[float, Field(ge=18)]
    body_size_pt: Annotated[float, Field(gt=0)]
    min_size_pt: Annotated[float, Field(gt=0)]
    heading_sizes_pt: tuple[float, float, float]
    leading: Annotated[float, Field(ge=1.0, le=2.0)] = 1.3
    qr_size_pt: Annotated[float, Field(gt=0)] = 72
    bold: Flag = False          # every text in the bold face (large print, usp-17-labels.md §6)

    def problems(self) -> list[tuple[str, str]]:
        sizes = (self.body_size_pt, *self.heading_sizes_pt)
        if min(sizes) < self.min_size_pt:
            return [("body_size_pt", f"text sizes {sizes} go below min_size_pt {self.min_size_pt}")]
        return []
