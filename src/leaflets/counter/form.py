"""The fill form: its fields are a day's CSV columns (load.CSV_COLUMNS), so a form is read
exactly as a CSV row is (load.cells_row), validated by the same model, and its problems are the
CLI's, at the same dotted field names. What the form shows as it is typed is the library's:
the sig's reading (rules.sig.explain, as `leaflets sig --explain`), the BUD and its reason
(rules.bud, as `leaflets bud`) and, once the whole fill is read, the documents themselves
(pipeline.Session.prepare, as `leaflets render`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..compose import render_directions
from ..errors import FitError, InputError, Problem, SafetyError
from ..i18n import languages
from ..load import CSV_COLUMNS, Loaded, Source, cells_row, read_cell, validate_row
from ..models import Fill, Product, day, expiry
from ..pipeline import RenderedFill, Session
from ..rules.bud import Bud, check_bud_for_fill, product_bud
from ..rules.sig import Context
from ..rules.sig.explain import Explanation, explain


@dataclass(frozen=True)
class Field:
    name: str                        # the CSV column
    label: str
    kind: str = "text"               # text | date | number | select | flag | list
    hint: str = ""
    required: bool = True


# In the order a technician reads a prescription: what, who for, who wrote it, what it says,
# how much, then the lot on the shelf. `pharmacist` is not here: it is the approving
# pharmacist's initials, set at approval (the two-person check).
FIELDS = (
    Field("product", "Product", "select"),
    Field("rx_number", "Rx number", hint="as on the prescription, e.g. 600123"),
    Field("fill_number", "Fill number", "number", "0 for the first fill, 1 for the first refill"),
    Field("fill_date", "Fill date", "date", "YYYY-MM-DD"),
    Field("patient.name", "Patient name"),
    Field("patient.date_of_birth", "Date of birth", "date", "YYYY-MM-DD"),
    Field("patient.language", "Language", "select"),
    Field("patient.large_print", "Large print", "flag", required=False),
    Field("prescriber.name", "Prescriber"),
    Field("prescriber.npi", "Prescriber NPI", hint="10 digits"),
    Field("directions", "Directions", hint="the sig as written, e.g. 1 cap po qd"),
    Field("indication", "Purpose", hint="what it is for, in plain words (optional)",
          required=False),
    Field("quantity", "Quantity", "number"),
    Field("days_supply", "Days' supply", "number"),
    Field("refills", "Refills", "number", "refills authorised"),
    Field("compounding.lot", "Lot"),
    Field("compounding.compounded_on", "Compounded on", "date", "YYYY-MM-DD"),
    Field("compounding.component_expirations", "Component expiries", "list",
          "YYYY-MM-DD or YYYY-MM, separated by ;"),
)
NAMES = tuple(f.name for f in FIELDS)
assert set(NAMES) | {"pharmacist", "directions_verbatim.approved_by"} == set(CSV_COLUMNS)
# Initials that fill the required `pharmacist` while a technician enters a fill: the preview
# shows them where the approving pharmacist's will print. Two letters, as most initials are: a
# pharmacist's own preview (the entry page) is made with their own initials, and approving
# renders with them, so initials too wide for a label are refused there, at the field.
PREVIEW_INITIALS = "RP"


# Not a CSV column: the entry asks a pharmacist to approve its directions as written (the way
# out the sig grammar's refusal names: rules/sig, directions_verbatim). Whoever approves the
# entry approves the wording, and their initials become `directions_verbatim.approved_by`
# (safety rule 2: directions the program has not read print only with a pharmacist's approval).
VERBATIM = "verbatim"


def cells_of(form: Mapping[str, str]) -> dict[str, str]:
    """The form's fields, and nothing else it was sent (a flag is "true" when ticked)."""
    cells = {name: str(form.get(name, "")) for name in NAMES}
    for flag in ("patient.large_print", VERBATIM):
        cells[flag] = "true" if form.get(flag) else ""
    return cells


def source_of(cells: Mapping[str, str], where: str) -> Source:
    """The fill as read, for its record and the ledger (a reprint re-reads the fill it keeps):
    the cells as JSON, as a CSV row's are kept."""
    return Source(where, json.dumps(dict(cells), ensure_ascii=False))


def read(cells: Mapping[str, str], pharmacist: str, where: str) -> Loaded[Fill]:
    """The fill the cells hold, with the approving pharmacist's initials (and, for directions
    to print as written, as their approver's); InputError lists every problem, each at its
    field."""
    columns = {name: cells.get(name, "") for name in NAMES}
    columns["pharmacist"] = pharmacist
    if cells.get(VERBATIM):
        columns["directions_verbatim.approved_by"] = pharmacist
    source = source_of(columns, where)
    return validate_row(cells_row(columns.items(), source))


@dataclass(frozen=True)
class Checked:
    """What the form shows now."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    reading: Explanation | None = None
    printed: str | None = None           # the directions as they will print
    bud: Bud | None = None
    bud_problem: str | None = None
    rendered: RenderedFill | None = None
    # Refused as read, but printable as written once a pharmacist approves the words.
    as_written: bool = False

    @property
    def ok(self) -> bool:
        return self.rendered is not None and not self.problems


# What reading, the rules and the layout refuse a fill with (the CLI's exit 2).
REFUSALS = (InputError, SafetyError, FitError)


def problems_of(err: InputError | SafetyError | FitError) -> list[Problem]:
    """A refusal as the problems it names, each at its field (and file and line)."""
    if isinstance(err, InputError):
        return list(err.problems)
    message = err.reason if isinstance(err, SafetyError) else err.detail
    return [Problem(err.file or "", err.line, err.field, message)]


def _add(problems: dict[str, list[str]], name: str, message: str,
         cells: Mapping[str, str]) -> None:
    """A problem at its field. A whole group missing ("patient": none of its fields given) is
    a problem of each of its required fields left empty, where the form shows them."""
    children = [f.name for f in FIELDS if f.name.startswith(f"{name}.") and f.required
                and not cells.get(f.name, "").strip()]
    # A problem inside a field (the 2nd of its component expiries) is the field's.
    owner = next((n for n in NAMES if name.startswith((f"{n}.", f"{n}["))), name)
    for field_name in children if owner not in NAMES and children else [owner]:
        listed = problems.setdefault(field_name if field_name in NAMES else "", [])
        if message not in listed:
            listed.append(message)


def check(session: Session, cells: Mapping[str, str], pharmacist: str, where: str) -> Checked:
    """Read the form as the CLI reads a fill; then, if it is whole, render it in memory."""
    problems: dict[str, list[str]] = {}
    product = _product(session, cells.get("product", ""))
    reading = printed = None
    as_written = False
    if cells.get("directions", "").strip():
        context = Context.of(product) if product else None
        reading = explain(cells["directions"], context, verbatim=bool(cells.get(VERBATIM)))
        if reading.directions is not None:
            printed = render_directions(reading.directions, _language(cells))
        else:       # would a pharmacist's approval of the words as written let them print?
            as_written = explain(cells["directions"], context, verbatim=True).directions \
                is not None
    bud, bud_problem = _bud(session, product, cells)
    rendered = None
    try:
        loaded = read(cells, pharmacist, where)
        rendered = session.prepare(loaded)
    except REFUSALS as err:
        for problem in problems_of(err):
            _add(problems, problem.field, problem.message, cells)
    return Checked(problems, reading, printed, bud, bud_problem, rendered, as_written)


def _product(session: Session, slug: str) -> Product | None:
    try:
        return session.product(slug.strip()).model if slug.strip() else None
    except InputError:
        return None


def _language(cells: Mapping[str, str]) -> str:
    code = cells.get("patient.language", "").strip() or "en"
    return code if code in languages() else "en"


def _bud(session: Session, product: Product | None, cells: Mapping[str, str]
         ) -> tuple[Bud | None, str | None]:
    """The BUD as soon as its inputs are read (the product, the compounding date, the
    expiries), as `leaflets bud` computes it; and, with the fill date, whether it may be
    dispensed."""
    if product is None:
        return None, None
    try:
        compounded = day(cells.get("compounding.compounded_on", ""))
        column = "compounding.component_expirations"
        expiries = [expiry(v) for v in read_cell(column, cells.get(column, ""))]
        if not expiries:
            return None, None
        bud = product_bud(product.bud, compounded, expiries,
                          session.pharmacy.model.bud_counting)
    except (ValueError, SafetyError):
        return None, None            # the field itself says what is wrong with it
    try:
        fill_date = day(cells.get("fill_date", ""))
        days = int(cells.get("days_supply", "").strip())
    except ValueError:
        return bud, None
    try:
        check_bud_for_fill(bud, fill_date, max(days, 1))
    except SafetyError as err:
        return bud, err.reason
    return bud, None
