"""The one place the stage order lives: load → rules → compose → layout → render → write."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import orjson
import reportlab

from . import __version__
from .compose import (
    Block,
    Context,
    Document,
    Mark,
    compose_body,
    compose_document,
    compose_label,
    compose_warnings,
    product_words,
    render_directions,
    template_hashes,
)
from .errors import AlreadyRendered, FitError, InputError, Problem, SafetyError
from .fonts import font_files
from .i18n import PURPOSE, Language, catalog, language
from .layout import LabelLayout, layout_label
from .load import (
    Loaded,
    Source,
    check_warning_codes,
    load_document_style,
    load_fill,
    load_pharmacy,
    load_product,
    load_stock,
    load_warning_catalog,
    product_slugs,
)
from .models import DocumentStyle, Fill, Pharmacy, Product, Stock, WarningCatalog
from .parse import read_json
from .pdf import Info
from .render import Pages, record_label, render_document, write_pdf
from .rules.fill import Facts, assess_fill, product_text_hits
from .rules.sig import Sig
from .rules.warnings import ChosenWarning, choose_warnings, unreviewed, warning_texts
from .write import publish_folder, write_outputs


@dataclass(frozen=True)
class Settings:
    catalog: Path = Path("products")
    pharmacy: Path = Path("pharmacy.yaml")
    stock: str | None = None
    large_print: bool = False        # every fill in large print, as patient.large_print asks
    replace: bool = False            # a fill may replace another patient's (product's...) record
    # The record stage's (record/stage.py): the ledger file (default: the profile's ledger:,
    # else beside the out folder) and who renders (default: the OS user).
    ledger: Path | None = None
    user: str = ""
    # A correction of a fill already in the ledger with another patient, product, lot or
    # directions: its reason (`render --correct`). The documents print CORRECTED.
    correct: str = ""
    # The pharmacy's auxiliary warnings (warnings.yaml), which products name by code.
    warning_catalog: Path = Path("warnings.yaml")


@dataclass(frozen=True)
class RenderedFill:
    key: str
    files: dict[str, bytes]          # label.pdf, leaflet.pdf, fill.json (last)
    warnings: tuple[str, ...]
    record: dict[str, Any]
    # Each PDF as recorded pages and document info (write_pdf of the two gives its bytes), for
    # the combined batch sheets.
    documents: dict[str, tuple[Pages, Info]]
    # The fill as read (its file, line and text): the ledger keeps it, so a reprint re-renders
    # the fill as it was read.
    source: Source | None = None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _font_hashes() -> dict[str, str]:
    return {name: sha256(path.read_bytes()) for name, path in font_files().items()}


# Label fields that print one input field: an error about the label field is reported at the
# input field, so staff see the file, line and key to correct.
_INPUT_OF_FIELD = {"patient": "patient.name", "purpose": "indication", "prescriber":
                   "prescriber.name", "lot": "compounding.lot", "rx": "rx_number",
                   "quantity": "quantity", "pharmacist": "pharmacist", "directions": "directions"}


def _locate(err: SafetyError | FitError, source: Source,
            warnings: Source | None = None) -> SafetyError | FitError:
    if warnings is not None and err.field.startswith("warnings."):
        # A warning too long for any label, or without the fill's language: the catalog's entry.
        return err.located(err.field, warnings.file, warnings.line_of(err.field))
    field = _INPUT_OF_FIELD.get(err.field, err.field)
    return err.located(field, source.file, source.line_of(field))


def check_product(product: Loaded[Product]) -> None:
    """Refuse product text with an error-prone abbreviation, naming file, line and field."""
    hits = product_text_hits(product.model)
    if hits:
        raise InputError([Problem(product.source.file, product.source.line_of(path), path, str(hit))
                          for path, hit in hits])


def load_product_checked(catalog: Path, slug: str, **where: Any) -> Loaded[Product]:
    product = load_product(catalog, slug, **where)
    check_product(product)
    return product


class Session:
    """What every fill of a run shares, loaded and checked once: the pharmacy, the label stock, the
    leaflet style, each product, and each product's leaflet body (its blocks, and through
    render's cache, its laid-out pages). A batch worker keeps one for all its fills; rendering a
    fill gives the same bytes whatever the session has already seen."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pharmacy = load_pharmacy(settings.pharmacy)
        self.warning_catalog = load_warning_catalog(settings.warning_catalog)
        self.stock = load_stock(settings.stock or self.pharmacy.model.default_stock)
        self._stocks: dict[str, Loaded[Stock]] = {self.stock.model.name: self.stock}
        self._styles: dict[str, Loaded[DocumentStyle]] = {}
        self._products: dict[str, Loaded[Product]] = {}
        self._bodies: dict[tuple[str, str, str], tuple[Block, ...]] = {}

    def looks(self, fill: Fill) -> tuple[Loaded[Stock], Loaded[DocumentStyle]]:
        """The label stock and leaflet style of a fill: large print when the patient or the
        run asks for it (usp-17-labels.md §6), the run's own otherwise."""
        large = fill.patient.large_print or self.settings.large_print
        stock = self.pharmacy.model.large_print_stock if large else self.stock.model.name
        style = LARGE_PRINT_STYLE if large else "leaflet"
        if stock not in self._stocks:
            self._stocks[stock] = load_stock(stock)
        if style not in self._styles:
            self._styles[style] = load_document_style(style)
        return self._stocks[stock], self._styles[style]

    def product(self, slug: str, *, fill_file: str = "", line: int | None = None) -> Loaded[Product]:
        if slug not in self._products:   # failures are not kept: each fill reports its own
            product = load_product_checked(self.settings.catalog, slug, fill_file=fill_file,
                                           line=line)
            check_warning_codes(product, self.warning_catalog)
            self._products[slug] = product
        return self._products[slug]

    def leaflet_body(self, product: Loaded[Product], language: str, style: str
                     ) -> tuple[Block, ...]:
        key = (product.model.slug, language, style)
        if key not in self._bodies:
            # The auxiliary warnings are the product's and the session's catalog's only.
            catalog = self.warning_catalog.model
            warnings = warning_texts(choose_warnings(product.model, catalog), catalog, language)
            context = Context(product=product.model, pharmacy=self.pharmacy.model,
                              url=self.pharmacy.model.monograph_url(product.model.slug),
                              language=language, auxiliary_warnings=warnings)
            self._bodies[key] = compose_body("leaflet-body.xml.j2", context)
        return self._bodies[key]

    def made_with(self, loaded: Loaded[Fill]) -> dict[str, Any]:
        """The record's `made_with` for this fill, without rendering it (for resuming)."""
        product = self.product(loaded.model.product, fill_file=loaded.source.file,
                               line=loaded.source.line_of("product"))
        stock, style = self.looks(loaded.model)
        return made_with(loaded.source, product, self.pharmacy, stock, [style.source],
                         self.warning_catalog)

    def prepare(self, loaded: Loaded[Fill], mark: Mark | None = None) -> RenderedFill:
        """Everything for one fill, in memory; nothing is written. A mark (a correction, a
        reprint) prints on the label and leaflet and is in the record."""
        fill = loaded.model
        product = self.product(fill.product, fill_file=loaded.source.file,
                               line=loaded.source.line_of("product"))
        try:
            facts = assess_fill(fill, product.model, self.pharmacy.model.bud_counting)
            if mark is None and self.settings.correct:
                mark = Mark(corrected=True)
            return self._render(loaded, product, facts, mark)
        except (SafetyError, FitError) as err:
            if isinstance(err, FitError) and mark and self._marks_place(fill, err.field):
                err = FitError("mark", err.needed_pt, err.available_pt, (
                    "the label has no room for its mark (CORRECTED, REPRINT n) beside the "
                    f"details at their minimum size ({err.detail}); a larger stock may hold it "
                    "(a correction: render --correct --stock NAME)"))
            raise _locate(err, loaded.source, self.warning_catalog.source) from None

    def _marks_place(self, fill: Fill, field: str) -> bool:
        """Whether a field that does not fit shares its place with the mark: the label region
        the stock puts the mark in, or the leaflet's footer."""
        stock = self.looks(fill)[0].model
        return field == "footer" or stock.region_of(field) == stock.region_of("mark")

    def _render(self, loaded: Loaded[Fill], product: Loaded[Product], facts: Facts,
                mark: Mark | None) -> RenderedFill:
        fill, ph, pr = loaded.model, self.pharmacy.model, product.model
        stock, style = self.looks(fill)
        url = ph.monograph_url(pr.slug)
        lang = language(fill.patient.language)
        printed = render_directions(facts.directions, lang.code)
        english = render_directions(facts.directions) if lang.english_directions else None
        catalog = self.warning_catalog.model
        chosen = choose_warnings(pr, catalog)
        context = Context(product=pr, pharmacy=ph, url=url, fill=fill, bud=facts.bud,
                          directions=printed, cautions=facts.cautions, language=lang.code,
                          directions_english=english, mark=mark or None,
                          auxiliary_warnings=warning_texts(chosen, catalog, lang.code))
        label_text = compose_label(context)
        layout = layout_label(dict(label_text.fields), stock.model, qr_data=url,
                              barcode_value=fill.rx_number, warnings=compose_warnings(context))
        label = record_label(layout)
        head = compose_document("leaflet.xml.j2", context)
        leaflet = render_document(head, style.model,
                                  body=self.leaflet_body(product, lang.code, style.model.name))
        documents = {
            "label.pdf": (label, Info(f"Prescription label, Rx {fill.key}", "Prescription label",
                                      fill.fill_date)),
            "leaflet.pdf": (leaflet, Info(head.title, head.subject, fill.fill_date)),
        }
        outputs = {name: write_pdf(pages, info) for name, (pages, info) in documents.items()}
        warnings = (facts.warnings + language_warnings(fill, product, lang)
                    + _unreviewed_warnings(chosen, self.warning_catalog, lang))
        record = _record(loaded, product, self.pharmacy, stock, facts, warnings,
                         {"printed": printed, "english": english}, layout, outputs,
                         [style.source], self.warning_catalog)
        record["auxiliary_warnings"] = _warnings_record(chosen, layout)
        if mark:
            record["mark"] = dataclasses.asdict(mark)
        record["leaflet"] = {"style": style.model.name,
                             "fields": [{"field": name, "page": page, "box_pt": list(box)}
                                        for name, page, box in leaflet.fields]}
        files = {**outputs,
                 "fill.json": orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n"}
        return RenderedFill(fill.key, files, warnings, record, documents, loaded.source)


LARGE_PRINT_STYLE = "leaflet-large-print"


def _unreviewed_warnings(chosen: tuple[ChosenWarning, ...], catalog: Loaded[WarningCatalog],
                         lang: Language) -> tuple[str, ...]:
    codes = unreviewed(chosen, catalog.model, lang.code)
    if not codes:
        return ()
    return (f"{lang.english_name}: the auxiliary warnings {', '.join(codes)} in "
            f"{catalog.source.file} have not been reviewed by a pharmacist "
            f"(warnings.<code>.reviewed_by.{lang.code})",)


def _warnings_record(chosen: tuple[ChosenWarning, ...], layout: LabelLayout
                     ) -> list[dict[str, Any]]:
    """Each auxiliary warning, why it is there, and the label page it printed on."""
    pages = {b.code: 1 for b in layout.boxes if b.code}
    for number, boxes in enumerate(layout.continuation_boxes, 2):
        pages.update((b.code, number) for b in boxes if b.code)
    return [{"code": w.code, "reason": w.reason, "added_by": "rule" if w.by_rule else "product",
             "label_page": pages[w.code]} for w in chosen]


def language_warnings(fill: Fill, product: Loaded[Product], lang: Language) -> tuple[str, ...]:
    """What staff must check before a fill in another language goes out."""
    if lang.code == "en":
        return ()
    found: list[str] = []
    if lang.review:
        found.append(f"{lang.english_name}: {lang.review}")
    words = product_words(product.model, lang.code)
    if words.english:
        found.append(f"{lang.english_name}: {product.source.file} has no {lang.english_name} text "
                     f"for {', '.join(sorted(words.english))}; the leaflet prints it in English "
                     "under a note")
    text = product.model.translations.get(lang.code)
    if text is not None and text.reviewed_by is None:
        found.append(f"{lang.english_name}: the product text in {product.source.file} has not "
                     f"been reviewed by a pharmacist (translations.{lang.code}.reviewed_by)")
    if fill.indication and catalog(lang.code).lookup(PURPOSE, fill.indication) is None:
        found.append(f"{lang.english_name}: the purpose '{fill.indication}' has no "
                     f"{lang.english_name} wording in {lang.catalog_file}; it is printed in "
                     "English, marked so")
    return tuple(found)


def prepare_fill(fill_path: Path, settings: Settings) -> RenderedFill:
    """One fill file, in memory, in a session of its own."""
    return Session(settings).prepare(load_fill(fill_path))


def _source(source: Source) -> dict[str, Any]:
    where = {"line": source.first_line} if source.first_line else {}
    return {"file": source.file, **where, "sha256": _text_sha256(source.text)}


@lru_cache(maxsize=256)
def _text_sha256(text: str) -> str:
    """The same product, pharmacy and stock texts are hashed for every fill of a batch."""
    return sha256(text.encode())


def _record(loaded: Loaded[Fill], product: Loaded[Product], pharmacy: Loaded[Pharmacy],
            stock: Loaded[Any], facts: Facts, warnings: tuple[str, ...],
            printed: dict[str, str | None], layout: LabelLayout,
            outputs: dict[str, bytes], styles: list[Source],
            warning_catalog: Loaded[WarningCatalog] | None = None) -> dict[str, Any]:
    """The fill record: enough to trace any printed label to exactly what made it."""
    fill = loaded.model
    structure = None
    if isinstance(facts.directions, Sig):
        structure = orjson.loads(orjson.dumps(dataclasses.asdict(facts.directions), default=str))
    return {
        "rx_number": fill.rx_number,
        "fill_number": fill.fill_number,
        "fill": fill.model_dump(mode="json"),
        "bud": {"date": facts.bud.date.isoformat(), "days": facts.bud.days,
                "counting": facts.bud.counting.value, "reason": facts.bud.reason},
        "language": fill.patient.language,
        "directions": {"input": fill.directions, **{k: v for k, v in printed.items() if v},
                       "structure": structure},
        "cautions": [c.value for c in facts.cautions],
        "warnings": list(warnings),
        "label": {
            "stock": stock.model.name,
            "sizes_pt": dict(layout.sizes_pt),
            "fields": [{"field": b.field, "page": 1, "box_pt": list(b.box_pt)} for b in layout.boxes
                       if not b.code and not b.field.startswith("warnings_")]
            + _strip_fields(layout),
            "pages": layout.page_count,
            "qr": layout.qr_data,
            "barcode": layout.barcode_value,
        },
        "outputs": {name: {"sha256": sha256(data), "bytes": len(data)}
                    for name, data in outputs.items()},
        "made_with": made_with(loaded.source, product, pharmacy, stock, styles, warning_catalog),
    }


def _strip_fields(layout: LabelLayout) -> list[dict[str, Any]]:
    """The warning strip's and continuation labels' lines: page, box, the size set, and for a
    warning its code (so QA and tests find each warning, its page and its size)."""
    pages = [(1, [b for b in layout.boxes if b.code or b.field.startswith("warnings_")])]
    pages += list(enumerate((list(p) for p in layout.continuation_boxes), 2))
    return [{"field": b.field, "page": page, "box_pt": list(b.box_pt), "size_pt": b.size_pt,
             **({"code": b.code} if b.code else {})} for page, boxes in pages for b in boxes]


def made_with(fill: Source, product: Loaded[Product], pharmacy: Loaded[Pharmacy],
              stock: Loaded[Any], styles: list[Source],
              warning_catalog: Loaded[WarningCatalog] | None = None) -> dict[str, Any]:
    """Everything a fill's outputs depend on, by hash: if this is unchanged, so are the bytes."""
    return {
        "inputs": {"fill": _source(fill), "product": _source(product.source),
                   "pharmacy": _source(pharmacy.source), "stock": _source(stock.source),
                   **{f"style:{Path(s.file).stem}": _source(s) for s in styles},
                   **({"warnings": _source(warning_catalog.source)} if warning_catalog else {})},
        "templates": template_hashes(),
        "fonts": _font_hashes(),
        "versions": {"leaflets": __version__, "reportlab": reportlab.Version},
    }


# What makes a fill another one, not a re-render of the same, for the out folder's check (here:
# re-rendering over it needs --replace) and the ledger's (record/stage.py: it needs --correct):
# each input field, where a fill's record keeps it, and the ledger column that keeps it. The
# directions are compared as printed: two sigs that read the same are the same directions.
IDENTITY: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("patient.name", ("fill", "patient", "name"), "patient_name"),
    ("patient.date_of_birth", ("fill", "patient", "date_of_birth"), "date_of_birth"),
    ("product", ("fill", "product"), "product"),
    ("directions", ("directions", "printed"), "directions"),
    ("compounding.lot", ("fill", "compounding", "lot"), "lot"),
)


def identity(record: Any) -> dict[str, Any]:
    """A fill record's identity fields (None where the record lacks one)."""
    found: dict[str, Any] = {}
    for field, path, _ in IDENTITY:
        value = record
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        found[field] = value
    return found


def differing(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The identity fields whose values differ (a pure rule)."""
    return [field for field, _, _ in IDENTITY if a[field] != b[field]]


def _refuse_another_fill(rendered: RenderedFill) -> Callable[[Path], None]:
    """A check for write.publish_folder: the published record, if any, is of this patient,
    product, directions and lot. The message names the fields that differ, never their values
    (another patient's name must not reach a log)."""
    def check(directory: Path) -> None:
        record = directory / "fill.json"
        if not os.path.lexists(record):
            return
        rx, number = rendered.record["rx_number"], rendered.record["fill_number"]
        try:
            published = read_json(record)
        except InputError:
            published = None
        if not isinstance(published, dict) or not isinstance(published.get("fill"), dict):
            # Whose documents these are cannot be told: they are not replaced unasked either.
            raise AlreadyRendered(directory, ["fill.json"], (
                f"Rx {rx} fill {number} is already rendered and its record fill.json cannot be "
                "read; use --replace to replace it"))
        differ = differing(identity(published), identity(rendered.record))
        if differ:
            raise AlreadyRendered(directory, differ, (
                f"Rx {rx} fill {number} is already rendered for another patient, product, "
                f"directions or lot: {', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'}"
                "; use --replace to replace it"))
    return check


def write_fill(rendered: RenderedFill, out: Path, *, durable: bool = True,
               replace: bool = False) -> Path:
    """Publish a fill's documents and record as one unit (write.publish_folder): the one way
    `render` and `batch` write a fill. Another fill's record in the folder is kept unless
    `replace`."""
    directory = out / rendered.key
    publish_folder(directory, rendered.files, durable=durable,
                   check=None if replace else _refuse_another_fill(rendered))
    return directory


def render_fill(fill_path: Path, settings: Settings, out: Path) -> tuple[RenderedFill, Path]:
    rendered = prepare_fill(fill_path, settings)
    return rendered, write_fill(rendered, out, replace=settings.replace)


def monograph_document(product: Loaded[Product], pharmacy: Pharmacy) -> Document:
    """A product's full monograph as composed blocks: the PDF and the web page (site/) are both
    drawn from this, so they say the same words."""
    check_product(product)
    context = Context(product=product.model, pharmacy=pharmacy,
                      url=pharmacy.monograph_url(product.model.slug))
    return compose_document("monograph.xml.j2", context)


def render_monograph(product: Loaded[Product], pharmacy: Pharmacy,
                     document: Document | None = None) -> bytes:
    style = load_document_style("monograph").model
    document = document or monograph_document(product, pharmacy)
    pages = render_document(dataclasses.replace(document, blocks=()), style, body=document.blocks)
    return write_pdf(pages, Info(document.title, document.subject, product.model.revised))


def each_product(settings: Settings, out: Path, make: Callable[[str], dict[str, bytes]]
                 ) -> list[Path]:
    """make(slug)'s files for every product, each written under `out` as made; a bad product is
    reported after the good ones are written."""
    written: list[Path] = []
    problems: list[Problem] = []
    for slug in product_slugs(settings.catalog):
        try:
            files = make(slug)
        except InputError as err:
            problems.extend(err.problems)
            continue
        except SafetyError as err:
            problems.append(Problem(str(settings.catalog / f"{slug}.yaml"), None, err.field, err.reason))
            continue
        written.extend(write_outputs(out, files))
    if problems:
        raise InputError(problems)
    return written


def render_monographs(settings: Settings, out: Path) -> list[Path]:
    """Every product's monograph PDF."""
    pharmacy = load_pharmacy(settings.pharmacy).model
    return each_product(settings, out, lambda slug: {
        f"{slug}.pdf": render_monograph(load_product(settings.catalog, slug), pharmacy)})
