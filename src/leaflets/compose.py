"""Compose: every human-readable word comes from a Jinja2 template in templates/.

Templates emit a small XML vocabulary with autoescaping on, so text from inputs is data: a name
such as `A & B <b>` arrives here as literal characters. The XML is parsed into typed blocks, and
every text on its way out passes the abbreviation checker exactly once, here.

    document: <document title subject> <footer>? blocks </document>
    footer:   <footer>text <page/> text <pages/></footer>: the page numbers are elements, so text
              from inputs (escaped) can never become one; "{page}" in a name is just text
    blocks:   <h1> <h2> <p> <ul><li> <box field> <qr url caption> <qa><q><a></qa>
              (a field="name" on a heading or paragraph names it for the fill record and QA)
              <table><row header?><cell>  <note>;  inline <b> in p, li, cell, note
    label:    <label><field name verbatim?>text</field>...</label>
    verbatim="true" marks identity data (names, addresses, lot) the checker leaves alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import stat
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import Enum
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket

from .errors import SafetyError, TemplateError
from .i18n import PURPOSE, REASON, Catalog, catalog, language
from .models import Faq, Fill, Pharmacy, Product, ProductText, Section
from .resources import templates_dir
from .rules.abbreviations import find_banned, format_number, normalise_units
from .rules.bud import Bud
from .rules.cautions import Caution
from .rules.sig import (
    SENTENCE_INSTRUCTIONS,
    Directions,
    Dosage,
    PlainDirections,
    ums_periods,
)

# ---- blocks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    field: str | None = None  # a named field: the renderer records where it was drawn


@dataclass(frozen=True)
class Para:
    runs: tuple[Run, ...]
    style: str = "body"       # body, bullet, note, lead
    field: str | None = None  # a named field: the renderer records where it was drawn


@dataclass(frozen=True)
class Box:
    field: str
    children: tuple[Block, ...]


@dataclass(frozen=True)
class Qr:
    url: str
    caption: str


@dataclass(frozen=True)
class QA:
    question: str
    answer: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Heading | Para | Box | Qr | QA | Table


class PageNumber(Enum):
    """A number the renderer writes into a footer once it knows the pages: <page/> or <pages/>
    in the template."""

    PAGE = "page"
    PAGES = "pages"


@dataclass(frozen=True)
class Document:
    title: str
    subject: str
    footer: tuple[str | PageNumber, ...]   # text, and where the page numbers go
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class LabelText:
    fields: tuple[tuple[str, str], ...]   # (field name, text) in template order


@dataclass(frozen=True)
class WarningText:
    """A label's auxiliary warnings and the words around them, for layout to place: the
    warnings in print order, the first label's note that they continue, each continuation
    label's heading, and the line that ties a continuation label to its fill (Rx and patient).
    The note and heading hold PageNumber.PAGE and .PAGES where layout writes the numbers."""

    warnings: tuple[tuple[str, str], ...]            # (code, text)
    continues: tuple[str | PageNumber, ...]
    heading: tuple[str | PageNumber, ...]
    owner: str


# ---- the environment ---------------------------------------------------------------------------


def amount(value: Decimal | int, thousands: str = ",") -> str:
    """A printed number (shared/reference/error-prone-abbreviations.md §4); `thousands` is the
    language's separator (templates/languages.yaml)."""
    return format_number(value, thousands)


def _half(value: object) -> bool:
    """A dose that is a whole number and a half: printed in words (ISMP 2024, no fractions)."""
    return isinstance(value, Decimal) and value % 1 == Decimal("0.5")


def _whole(value: Decimal) -> int:
    return int(value)


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates kept between runs in a folder, so a run does not compile each template
    it uses from source (directions.txt.j2 alone takes about 50 ms, more than `sig` itself).

    Never stale: a compiled template is filed under a key naming everything its code depends on
    besides its source (Jinja's and Python's versions, the template's name and file, and the
    environment's syntax, compile options, extensions, filters and tests), and Jinja's bucket
    compares a hash of the source itself, so an edited template or a changed environment is
    compiled afresh. Never fatal: a folder that cannot be read or written, or a damaged file
    (each file carries a hash of its contents), only means compiling from source.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(source.encode("utf-8")).hexdigest()

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None,
                   source: str) -> Bucket:
        key = hashlib.sha256(repr(_compiled_by(environment, name, filename)).encode()).hexdigest()
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def _file(self, bucket: Bucket) -> Path:
        return self.directory / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            data = self._file(bucket).read_bytes()
        except OSError:
            return
        digest, payload = data[:32], data[32:]
        if hashlib.sha256(payload).digest() != digest:
            return                         # damaged or cut short: compile from source
        bucket.bytecode_from_string(payload)

    def dump_bytecode(self, bucket: Bucket) -> None:
        payload = bucket.bytecode_to_string()
        target = self._file(bucket)
        try:
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        except OSError:
            return                         # unwritable: this run compiled from source anyway
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(hashlib.sha256(payload).digest() + payload)
            os.replace(temporary, target)  # readers see a whole file or none
        except OSError:
            with contextlib.suppress(OSError):
                os.remove(temporary)


def _compiled_by(env: jinja2.Environment, name: str, filename: str | None) -> tuple[Any, ...]:
    """What a template's compiled code depends on, other than its source."""
    def kinds(functions: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted((n, str(getattr(f, "jinja_pass_arg", ""))) for n, f in functions.items())
    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    return (jinja2.__version__, sys.version, sys.implementation.cache_tag, name, filename,
            autoescape, env.block_start_string, env.block_end_string, env.variable_start_string,
            env.variable_end_string, env.comment_start_string, env.comment_end_string,
            env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks,
            env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline, env.optimized,
            env.is_async, env.finalize is not None, sorted(env.extensions),
            getattr(env, "newstyle_gettext", None), kinds(env.filters), kinds(env.tests))


@cache
def template_cache() -> TemplateCache | None:
    """The per-user folder of compiled templates ($XDG_CACHE_HOME/leaflets/templates, else
    ~/.cache/leaflets/templates), or None when it cannot be made or is not safely ours: its files
    are code this program runs, so the folder must belong to this user and be writable by no
    one else. Where the system has no user ids to check (Windows), there is no cache."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return None
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME", ""))
        if not base.is_absolute():          # unset, or relative: the XDG spec says ignore it
            base = Path.home() / ".cache"
        directory = base / "leaflets" / "templates"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except (OSError, RuntimeError):        # RuntimeError: no home folder to be found
        return None
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != getuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        return None
    return TemplateCache(directory)


@cache
def environment(language: str = "en") -> jinja2.Environment:
    """The templates with `language`'s catalog installed: `_()` and `ngettext()` give its words."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        bytecode_cache=template_cache(),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".xml.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=["jinja2.ext.i18n"],
    )
    translations = catalog(language)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    separator = translations.language.thousands
    env.filters["amount"] = lambda value: amount(value, separator)
    env.filters["whole"] = _whole
    env.filters["reason"] = lambda text: _reason(translations, text)
    env.filters["purpose_words"] = lambda text: _reason(translations, text, "purpose")
    env.filters["purpose"] = lambda text: translations.lookup(PURPOSE, text)
    env.tests["half"] = _half
    return env


def _reason(translations: Catalog, text: str, what: str = "as-needed reason") -> str:
    """An as-needed reason is free words from the prescription: a language with a catalog prints
    only a reason its catalog translates (msgctxt "as-needed reason"), never the English."""
    found = translations.lookup(REASON, text)
    if found is None:
        raise SafetyError("directions", f"the {what} '{text}' has no "
                          f"{translations.language.english_name} wording in "
                          f"{translations.language.catalog_file}: add it there (a pharmacist "
                          "reviews it), or print this fill in English")
    return found


def template_files() -> dict[str, bytes]:
    """Every file the printed words come from: templates, the language table and catalogs."""
    root = templates_dir()
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.suffix in (".j2", ".po", ".yaml")}


@cache
def template_hashes() -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in template_files().items()}


def _render(name: str, language: str = "en", **context: Any) -> str:
    try:
        return environment(language).get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"templates/{name}: {exc}") from exc


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,])")

# ---- directions --------------------------------------------------------------------------------


def step_context(dosage: Dosage) -> dict[str, Any]:
    data = asdict(dosage)
    data["periods"] = ums_periods(dosage)[0]
    data["inline"] = [i for i in dosage.instructions if i not in SENTENCE_INSTRUCTIONS]
    data["sentences"] = [i for i in dosage.instructions if i in SENTENCE_INSTRUCTIONS]
    data["each_dose"] = len(data["periods"]) > 1 and bool(
        dosage.meal or data["inline"] or dosage.as_needed_for or dosage.purpose)
    data["plural"] = 2 if (dosage.dose_max or dosage.dose or 0) > 1 else 1
    data["max_plural"] = 2 if (dosage.max_per_day or 0) > 1 else 1
    return data


@lru_cache(maxsize=1024)
def render_directions(directions: Directions, language: str = "en") -> str:
    """The printed sentence of structured directions, in `language` (its catalog's words).
    Plain directions are printed as written, in English only."""
    if isinstance(directions, PlainDirections):
        if language != "en":
            raise SafetyError("directions", "plain-language directions cannot be printed in "
                              f"{catalog(language).language.english_name}: write them as a sig "
                              "(for example '1 cap po qd') so they are given from their structure")
        return directions.text
    steps = [step_context(step) for step in directions.steps]
    text = " ".join(_render("directions.txt.j2", language, steps=steps).split())
    return _SPACE_BEFORE_PUNCT.sub(r"\1", text)  # template line breaks leave "daily ."


# ---- documents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductWords:
    """A product's patient text in one language; `english` names the parts that language lacks,
    printed in English under a note (leaflet-body.xml.j2)."""

    form_name: str | None     # None: the language's noun of the dose unit (the label's template)
    summary: str
    description: tuple[str, ...]
    storage: str
    sections: dict[str, Section]
    faq: tuple[Faq, ...]
    english: frozenset[str]


# The monograph sections a leaflet prints (leaflet-body.xml.j2).
LEAFLET_SECTIONS = ("administration", "contraindications", "warnings", "interactions",
                    "side_effects")


def product_words(product: Product, language: str) -> ProductWords:
    sections = {k: v for k, v in _sections(product).items() if k in LEAFLET_SECTIONS}
    if language == "en":
        return ProductWords(product.form_name, product.summary, product.description,
                            product.storage.text, sections, product.faq, frozenset())
    t = product.translations.get(language, ProductText())
    english: set[str] = set()

    def pick(part: str, translated: Any, original: Any) -> Any:
        if translated is None:
            english.add(part)
            return original
        return translated

    summary = pick("summary", t.summary, product.summary)
    description = pick("description", t.description, product.description) \
        if product.description else ()
    local = {name: pick(name, getattr(t.sections, name), section)
             for name, section in sections.items()}
    faq = pick("faq", t.faq, product.faq) if product.faq else ()
    return ProductWords(t.form_description, summary, description,
                        pick("storage", t.storage, product.storage.text), local, faq,
                        frozenset(english))


@dataclass(frozen=True)
class Mark:
    """What a label and leaflet say about how they were made, when not a first render: a
    correction of an earlier render (CORRECTED) and the number of a reprint (REPRINT n)."""

    corrected: bool = False
    reprint: int = 0

    def __bool__(self) -> bool:
        return self.corrected or self.reprint > 0


@dataclass(frozen=True)
class Context:
    """What every document template sees: inputs, facts, and display forms of dates."""

    product: Product
    pharmacy: Pharmacy
    url: str
    fill: Fill | None = None
    bud: Bud | None = None
    directions: str | None = None
    cautions: tuple[Caution, ...] = ()
    language: str = "en"
    directions_english: str | None = None   # beneath translated directions, for the pharmacist
    mark: Mark | None = None                # a correction's or reprint's visible mark
    auxiliary_warnings: tuple[tuple[str, str], ...] = ()   # (code, text), in print order

    def variables(self) -> dict[str, Any]:
        """Template variables. Without a fill, the fill's variables are absent, so a template
        that must not depend on a fill (a leaflet body, a monograph) fails if it names one."""
        fmt = _date_format(self.pharmacy, self.language)
        product = {
            "product": self.product,
            "pharmacy": self.pharmacy,
            "url": self.url,
            "revised": fmt(self.product.revised),
            "sections": _sections(self.product),
            "text": product_words(self.product, self.language),
            "auxiliary_warnings": [{"code": c, "text": t} for c, t in self.auxiliary_warnings],
        }
        if self.fill is None:
            return product
        return {
            **product,
            "fill": self.fill,
            "bud": self.bud,
            "bud_date": fmt(self.bud.date) if self.bud else None,
            "fill_date": fmt(self.fill.fill_date),
            "directions": self.directions,
            "directions_english": self.directions_english,
            "cautions": [c.value for c in self.cautions],
            "mark": self.mark,
        }


def _date_format(pharmacy: Pharmacy, code: str) -> Callable[[dt.date], str]:
    if language(code).long_dates:
        from babel.dates import format_date  # Babel's locale data only for a language using it
        return lambda day: format_date(day, "long", locale=code)
    return pharmacy.date_format.render


def _sections(product: Product) -> dict[str, Section]:
    return {k: v for k, v in product.sections if v is not None}


def compose_document(template: str, context: Context) -> Document:
    root = _parse(template, _render(template, context.language, **context.variables()))
    if root.tag != "document":
        raise TemplateError(f"templates/{template}: the root element must be <document>")
    checked = _Checker(template, context.language)
    footer = root.find("footer")
    if footer is not None:
        root.remove(footer)
    return Document(
        title=checked(root.get("title", ""), "title"),
        subject=checked(root.get("subject", ""), "subject"),
        footer=_footer(footer, checked) if footer is not None else (),
        blocks=tuple(_blocks(root, checked)),
    )


# Stand-ins for <page/> and <pages/> while a footer is checked and its spaces tidied as one
# text: XML cannot carry U+0001 or U+0002, so no text parsed from the template's output holds them.
_MARKS = {"\x01": PageNumber.PAGE, "\x02": PageNumber.PAGES}


def _footer(el: ET.Element, checked: _Checker) -> tuple[str | PageNumber, ...]:
    marked = el.text or ""
    for child in el:
        mark = next((m for m, number in _MARKS.items() if number.value == child.tag), None)
        if mark is None or len(child) or child.text:
            raise TemplateError(f"templates/{checked.template}: only <page/> and <pages/> may sit "
                                f"inside <footer>, got <{child.tag}>")
        marked += mark + (child.tail or "")
    # Checked with numbers in place, as it prints; then tidied as _check tidies a checked text
    # (spaces collapsed, units normalised) and split at the marks.
    checked(re.sub("[\x01\x02]", "1", marked), "footer")
    tidied = normalise_units(" ".join(marked.split()))
    return tuple(_MARKS.get(part, part) for part in re.split("([\x01\x02])", tidied) if part)


def compose_body(template: str, context: Context) -> tuple[Block, ...]:
    """The blocks of a <body> template: text that depends on the product and pharmacy only."""
    root = _parse(template, _render(template, context.language, **context.variables()))
    if root.tag != "body":
        raise TemplateError(f"templates/{template}: the root element must be <body>")
    return tuple(_blocks(root, _Checker(template, context.language)))


def compose_label(context: Context) -> LabelText:
    template = "label.xml.j2"
    root = _parse(template, _render(template, context.language, **context.variables()))
    checked = _Checker(template, context.language)
    fields: list[tuple[str, str]] = []
    for el in root:
        if el.tag != "field" or not el.get("name"):
            raise TemplateError(f"templates/{template}: expected <field name=...>, got <{el.tag}>")
        name = el.get("name", "")
        text = checked(_text(el), name, verbatim=el.get("verbatim") == "true")
        if text:
            fields.append((name, text))
    return LabelText(tuple(fields))


def compose_warnings(context: Context) -> WarningText:
    """The label's auxiliary warnings (templates/label-warnings.xml.j2), each checked as every
    printed text is."""
    template = "label-warnings.xml.j2"
    root = _parse(template, _render(template, context.language, **context.variables()))
    checked = _Checker(template, context.language)
    parts: dict[str, ET.Element] = {}
    warnings: list[tuple[str, str]] = []
    for el in root:
        if el.tag == "warning":
            code = el.get("code", "")
            warnings.append((code, checked(_text(el), f"warnings.{code}")))
        elif el.tag in ("continues", "heading", "owner"):
            parts[el.tag] = el
        else:
            raise TemplateError(f"templates/{template}: unknown element <{el.tag}>")
    missing = [t for t in ("continues", "heading", "owner") if t not in parts]
    if root.tag != "warnings" or missing:
        raise TemplateError(f"templates/{template}: expected <warnings> with <continues>, "
                            "<heading> and <owner>")
    owner = checked(_text(parts["owner"]), "warnings_owner", verbatim=True)
    return WarningText(tuple(warnings), _footer(parts["continues"], checked),
                       _footer(parts["heading"], checked), owner)


def _parse(template: str, xml: str) -> ET.Element:
    try:
        return ET.fromstring(xml)
    except ET.ParseError as exc:
        raise TemplateError(f"templates/{template}: rendered XML is malformed: {exc}") from exc


class _Checker:
    """Normalise and check one text: the single place every printed string passes. A hit names
    the field, the token, and the template (with the catalog, in a translated render)."""

    def __init__(self, template: str, language: str = "en") -> None:
        self.template = template
        lang = catalog(language).language
        self.source = f"templates/{template}" + (f" and {lang.catalog_file}" if lang.catalog else "")

    def __call__(self, text: str, where: str, *, verbatim: bool = False) -> str:
        text, problem = _check(text, verbatim)
        if problem:
            raise SafetyError(where, f"{problem} ({self.source})")
        return text


@lru_cache(maxsize=4096)
def _check(text: str, verbatim: bool) -> tuple[str, str | None]:
    """The checked form of a text, or what is wrong with it. Pure, so cached: most strings of
    a label or leaflet recur across the fills of a batch."""
    from .fonts import unprintable  # ReportLab's font files: not for `sig`, which checks none
    text = " ".join(text.split())
    bad = unprintable(text)
    if bad:
        return text, f"character {bad[0]!r} (U+{ord(bad[0]):04X}) cannot be printed by the bundled fonts"
    if verbatim:
        return text, None
    text = normalise_units(text)
    hits = find_banned(text)
    return text, (str(hits[0]) if hits else None)


def _text(el: ET.Element) -> str:
    return "".join(el.itertext())


def _runs(el: ET.Element, checked: _Checker, where: str) -> tuple[Run, ...]:
    verbatim = el.get("verbatim") == "true"
    runs: list[Run] = []

    def add(text: str | None, bold: bool) -> None:
        if text:
            runs.append(Run(text, bold))

    add(el.text, False)
    for child in el:
        if child.tag != "b":
            raise TemplateError(f"templates/{checked.template}: only <b> may sit inside <{el.tag}>")
        add(_text(child), True)
        add(child.tail, False)
    # Check the joined text once (a token split across runs is still a token), then keep the
    # runs' boundaries; whitespace is collapsed per run.
    checked("".join(r.text for r in runs), where, verbatim=verbatim)
    out: list[Run] = []
    for r in runs:
        text = " ".join(r.text.split())
        if not verbatim:
            text = normalise_units(text)
        if text:
            lead = " " if r.text[:1].isspace() and out else ""
            trail = " " if r.text[-1:].isspace() else ""
            out.append(Run(lead + text + trail, r.bold))
    return tuple(out)


def _blocks(parent: ET.Element, checked: _Checker) -> list[Block]:
    blocks: list[Block] = []
    for el in parent:
        tag = el.tag
        where = el.get("field") or tag
        if tag in ("h1", "h2", "h3"):
            blocks.append(Heading(int(tag[1]), checked(_text(el), where), el.get("field")))
        elif tag in ("p", "note", "lead"):
            style = {"p": "body"}.get(tag, tag)
            blocks.append(Para(_runs(el, checked, where), style, el.get("field")))
        elif tag == "ul":
            for li in el:
                blocks.append(Para(_runs(li, checked, where), "bullet"))
        elif tag == "box":
            blocks.append(Box(el.get("field", "box"), tuple(_blocks(el, checked))))
        elif tag == "qr":
            blocks.append(Qr(el.get("url", ""), checked(el.get("caption", ""), "qr")))
        elif tag == "qa":
            q, a = el.find("q"), el.find("a")
            if q is None or a is None:
                raise TemplateError(f"templates/{checked.template}: <qa> needs <q> and <a>")
            blocks.append(QA(checked(_text(q), "faq"), checked(_text(a), "faq")))
        elif tag == "table":
            rows = [tuple(checked(_text(c), "table") for c in row) for row in el.findall("row")]
            header = rows.pop(0) if rows and el.find("row[@header='true']") is not None else ()
            blocks.append(Table(tuple(header), tuple(rows)))
        else:
            raise TemplateError(f"templates/{checked.template}: unknown element <{tag}>")
    return blocks

