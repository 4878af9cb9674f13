"""Languages: the table in templates/languages.yaml and each language's gettext catalog,
templates/locale/<code>/LC_MESSAGES/leaflets.po, read with Babel.

A catalog is strict. A message it lacks (or marks fuzzy) is an error naming the catalog and the
message, never a silent fall back to English: a label must not mix languages without saying so.
English needs no catalog: the templates' messages are English.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from .errors import InputError, TemplateError
from .parse import MAX_FILE_BYTES, check_text, read_bytes
from .resources import language_table, locale_dir, templates_dir

DOMAIN = "leaflets"
REASON = "as-needed reason"     # the msgctxt of an as-needed reason's translation
PURPOSE = "purpose"             # the msgctxt of a purpose's (fill.indication) translation


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    english_name: str
    catalog: bool
    english_directions: bool
    review: str | None
    long_dates: bool          # dates with the month's name, not the pharmacy's numeric format
    thousands: str            # the thousands separator of printed numbers

    @property
    def catalog_file(self) -> str:
        return f"templates/locale/{self.code}/LC_MESSAGES/{DOMAIN}.po"


@cache
def languages() -> dict[str, Language]:
    found: dict[str, Language] = {}
    for code, row in language_table().items():
        try:
            found[str(code)] = Language(
                code=str(code), name=str(row["name"]), english_name=str(row["english_name"]),
                catalog=bool(row["catalog"]), english_directions=bool(row["english_directions"]),
                review=str(row["review"]) if row.get("review") else None,
                long_dates=_choice(code, row, "dates", ("pharmacy", "long")) == "long",
                thousands=_choice(code, row, "thousands", (",", "", " ")))
        except (KeyError, TypeError) as exc:
            raise TemplateError(f"templates/languages.yaml: language '{code}' lacks {exc}") from None
    return found


def _choice(code: object, row: dict[str, object], key: str, allowed: tuple[str, ...]) -> str:
    value = row[key]
    if value not in allowed:
        raise TemplateError(f"templates/languages.yaml: '{code}'.{key} must be one of "
                            f"{', '.join(repr(a) for a in allowed)}, got {value!r}")
    return str(value)


def language(code: str) -> Language:
    try:
        return languages()[code]
    except KeyError:
        raise TemplateError(f"templates/languages.yaml has no language '{code}'") from None


class MissingTranslation(TemplateError):
    def __init__(self, language: Language, message: str, context: str | None = None) -> None:
        where = f" (context '{context}')" if context else ""
        super().__init__(f"{language.catalog_file}: no {language.english_name} translation of "
                         f"'{message}'{where}")
        self.message = message
        self.context = context


Key = tuple[str | None, str]          # (msgctxt, msgid); a plural is keyed by its singular


class Catalog(gettext.NullTranslations):
    """The strict translations of one language (identity for a language without a catalog)."""

    def __init__(self, language: Language, messages: dict[Key, tuple[str, ...]] | None,
                 plural: Callable[[int], int]) -> None:
        super().__init__()
        self.language = language
        self.messages = messages
        self.plural = plural

    def _forms(self, context: str | None, singular: str, plural: str) -> tuple[str, ...]:
        if self.messages is None:
            return singular, plural
        try:
            return self.messages[(context, singular)]
        except KeyError:
            raise MissingTranslation(self.language, singular, context) from None

    def _form(self, forms: tuple[str, ...], n: int) -> str:
        return forms[min(self.plural(int(n)), len(forms) - 1)]

    def lookup(self, context: str, message: str) -> str | None:
        """The translation of data (an as-needed reason, a purpose), or None if it has none."""
        if self.messages is None:
            return message
        found = self.messages.get((context, message))
        return found[0] if found else None

    def gettext(self, message: str) -> str:
        return self._forms(None, message, message)[0]

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self._form(self._forms(None, msgid1, msgid2), n)

    def pgettext(self, context: str, message: str) -> str:
        return self._forms(context, message, message)[0]

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return self._form(self._forms(context, msgid1, msgid2), n)


Message = str | tuple[str, ...]      # a singular, or a singular and its plural


def template_messages() -> Iterator[tuple[Message, list[str], str | None]]:
    """Every message of templates/*.j2, with its comments and context, as Jinja2's extractor
    reads them (scripts/messages.py writes the catalogs from these; a test checks them)."""
    from babel.messages.extract import extract_from_dir  # Babel only where a catalog is read
    found = extract_from_dir(
        str(templates_dir()), method_map=[("**.j2", "jinja2.ext:babel_extract")],
        options_map={"**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                               "lstrip_blocks": "True"}})
    for _file, _line, message, comments, context in found:
        yield message, comments, context


@cache
def catalog(code: str) -> Catalog:
    lang = language(code)
    if not lang.catalog:
        return Catalog(lang, None, lambda n: int(n != 1))
    from babel.messages.pofile import read_po
    path = locale_dir() / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:    # read as every input is (parse.py): a regular file of bounded size
        po = read_po(io.BytesIO(read_bytes(path, MAX_FILE_BYTES)), locale=code, domain=DOMAIN)
    except InputError as exc:
        raise TemplateError(f"{lang.catalog_file}: {exc.problems[0].message}") from None
    except Exception as exc:  # Babel reports a malformed catalog with its own errors
        raise TemplateError(f"{lang.catalog_file}: {exc}") from None
    messages: dict[Key, tuple[str, ...]] = {}
    for m in po:
        if not m.id or m.fuzzy:
            continue
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        forms = tuple(str(f) for f in strings if f)
        if len(forms) != len(strings):
            continue                     # untranslated: missing, not empty
        singular = m.id[0] if isinstance(m.id, tuple | list) else m.id
        for form in forms:        # a translation prints on labels: the same text rule as inputs
            _, why = check_text(form)
            if why:
                raise TemplateError(f"{lang.catalog_file}: the translation of '{singular}': {why}")
        messages[(m.context, singular)] = forms
    return Catalog(lang, messages, gettext.c2py(po.plural_expr))
