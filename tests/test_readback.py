"""Every printed sentence in every language reads back to its structure: the sentence printed in
a language, back-translated through that language's catalog alone (src/leaflets/readback.py),
parses to the structure it was printed from, as the English sentence does. A translation two
messages share would make a printed sentence mean either: it is refused, naming both."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from leaflets.compose import render_directions
from leaflets.i18n import Catalog, catalog, language, languages
from leaflets.readback import ReadbackError, back_translate, readback
from leaflets.rules.sig import Sig, parse_directions

from .strategies import sigs
from .test_sig_table import ACCEPTED, _parse

LANGUAGES = sorted(languages())


def _english_read_back(english: str) -> set[str]:
    """What a sentence may read back as: the English printed, or, where the language has no
    serial comma ("lunes, miércoles y viernes"), the English without it."""
    return {english, english.replace(", and ", " and ")}


@pytest.mark.parametrize("code", LANGUAGES)
@pytest.mark.parametrize("entry", ACCEPTED, ids=[e["sig"] for e in ACCEPTED])
def test_every_sig_of_the_table_reads_back_from_every_language(entry: dict[str, Any],
                                                               code: str) -> None:
    sig = _parse(entry)
    assert isinstance(sig, Sig)
    printed = render_directions(sig, code)
    english = readback(printed, code)
    assert english in _english_read_back(entry["en"]), printed
    assert parse_directions(english) == sig, (printed, english)


@settings(max_examples=300)
@given(sigs())
def test_every_accepted_dosage_parses_back_from_every_language(sig: Sig) -> None:
    for code in LANGUAGES:
        printed = render_directions(sig, code)
        english = readback(printed, code)
        assert english in _english_read_back(render_directions(sig)), (code, printed)
        assert parse_directions(english) == sig, (code, printed, english)


def test_numbers_read_back_with_the_english_thousands_separator() -> None:
    sig = parse_directions("1000 mL po qd")
    assert render_directions(sig, "es") == "Tome 1000 mL por la boca una vez al día."
    assert readback("Tome 1000 mL por la boca una vez al día.", "es") == \
        "Take 1,000 mL by mouth once daily."


def test_a_later_step_reads_back_from_its_lower_case_verb() -> None:
    assert readback("Póngase 1 gota en cada ojo cada hora durante 2 días, luego póngase 1 gota en "
                    "cada ojo una vez al día durante 5 días.", "es") == (
        "Instill 1 drop in each eye every hour for 2 days, then instill 1 drop in each eye once "
        "daily for 5 days.")


def _spanish_with(**changed: tuple[str, ...]) -> Catalog:
    """The Spanish catalog with some translations changed (a new object, read afresh)."""
    spanish = catalog("es")
    assert spanish.messages is not None
    messages = dict(spanish.messages)
    messages.update({(None, msgid): forms for msgid, forms in changed.items()})
    return Catalog(language("es"), messages, spanish.plural)


def test_a_translation_two_messages_share_is_refused_naming_both() -> None:
    """The catalog before the native speaker's review: 'Instill' and 'Apply' were both
    'Aplique', so 'Aplique 1 gota en cada ojo' could not say which was printed."""
    with pytest.raises(ReadbackError) as err:
        back_translate("Aplique 1 gota en cada ojo una vez al día.",
                       _spanish_with(Instill=("Aplique",)))
    assert str(err.value) == (
        "templates/locale/es/LC_MESSAGES/leaflets.po: 'Apply' and 'Instill' are both translated "
        "'Aplique': a sentence holding it could have been printed from either, so it cannot be "
        "read back; translate them differently")


def test_a_shared_translation_with_placeholders_is_refused() -> None:
    with pytest.raises(ReadbackError, match="'every %\\(days\\)s' and 'for %\\(num\\)s week'"):
        back_translate("Tome 1 tableta por la boca una vez al día.",
                       _spanish_with(**{"every %(days)s": ("durante %(days)s",),
                                        "for %(num)s week": ("durante %(num)s", "durante %(num)s")}))


def test_english_that_differs_only_in_punctuation_is_one_phrase() -> None:
    """Spanish 'A, B y C' has no serial comma: the two list messages share '%s y %s'."""
    assert readback("Tome 1 tableta por la boca los lunes, miércoles y viernes.", "es") == (
        "Take 1 tablet by mouth every Monday, Wednesday and Friday.")


@pytest.mark.parametrize("printed", [
    "Tome 1 cápsula por la boca una vez al día con jugo.",        # words no message prints
    "Tome 1 cápsula por la boca durante.",                        # a message's words alone
])
def test_words_no_translation_printed_are_refused(printed: str) -> None:
    with pytest.raises(ReadbackError, match="cannot read back"):
        readback(printed, "es")


def test_english_reads_back_as_itself() -> None:
    assert readback("Take 1 capsule by mouth once daily.", "en") == \
        "Take 1 capsule by mouth once daily."
