"""Languages: the catalogs are complete, safe and marked for review; a fill in Spanish prints
its label and leaflet in Spanish from the same structured dosage, with the English directions
beneath on the label; large print keeps every fit rule."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from babel.messages.pofile import read_po
from click.testing import CliRunner

from leaflets.cli import main
from leaflets.compose import render_directions
from leaflets.errors import SafetyError
from leaflets.fonts import unprintable
from leaflets.i18n import (
    PURPOSE,
    REASON,
    Catalog,
    MissingTranslation,
    language,
    languages,
    template_messages,
)
from leaflets.pipeline import Settings, prepare_fill
from leaflets.rules.abbreviations import find_banned
from leaflets.rules.sig import parse_directions

from .conftest import BASE_FILL, write_fill
from .test_pdf_label import text_runs

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "templates" / "locale"
REVIEW = "pharmacist review required"
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def _template_messages() -> set[tuple[str | None, str]]:
    return {(context, message if isinstance(message, str) else message[0])
            for message, _comments, context in template_messages()}


def _catalog(code: str) -> Any:
    with (LOCALE / code / "LC_MESSAGES" / "leaflets.po").open("rb") as f:
        return read_po(f, locale=code)


CATALOGUED = [code for code, lang in languages().items() if lang.catalog]


def test_spanish_is_catalogued_and_english_is_the_templates_own() -> None:
    assert "es" in CATALOGUED and "en" not in CATALOGUED


def test_the_template_of_messages_is_up_to_date() -> None:
    """scripts/messages.py was run after the last template change."""
    with (LOCALE / "leaflets.pot").open("rb") as f:
        pot = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(f) if m.id}
    assert pot == _template_messages()


@pytest.mark.parametrize("code", CATALOGUED)
def test_catalog_translates_every_message_and_nothing_else(code: str) -> None:
    catalog = _catalog(code)
    entries = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
    wanted = _template_messages()
    assert sorted(wanted - set(entries), key=str) == [], "messages with no translation"
    stale = {k for k in entries if k not in wanted and k[0] not in (REASON, PURPOSE)}
    assert stale == set(), "translations of messages no template has"
    for key, m in entries.items():
        forms = m.string if isinstance(m.string, tuple | list) else (m.string,)
        assert all(forms), f"{key} is empty"
        assert not m.fuzzy, f"{key} is fuzzy"


@pytest.mark.parametrize("code", CATALOGUED)
def test_translations_keep_every_placeholder(code: str) -> None:
    """A lost %(date)s would silently drop the use-by date from a label."""
    for m in _catalog(code):
        if not m.id:
            continue
        ids = (m.id,) if isinstance(m.id, str) else tuple(m.id)
        forms = (m.string,) if isinstance(m.string, str) else tuple(m.string)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for form in forms:
            got = set(PLACEHOLDER.findall(form))
            # a singular may leave out %(num)s ("cada hora" for "every hour")
            assert got == wanted or (got | {("num", "")} == wanted and len(forms) > 1), (m.id, form)


@pytest.mark.parametrize("code", CATALOGUED)
def test_translations_print_no_banned_token_and_only_printable_characters(code: str) -> None:
    for m in _catalog(code):
        if not m.id:
            continue                      # the catalog's header
        forms = (m.string,) if isinstance(m.string, str) else tuple(m.string)
        for form in forms:
            assert find_banned(PLACEHOLDER.sub("x", form)) == [], form
            assert not unprintable(form), form


@pytest.mark.parametrize("code", CATALOGUED)
def test_every_unreviewed_translation_is_marked_and_warned_about(code: str) -> None:
    entries = [m for m in _catalog(code) if m.id]
    unreviewed = [m.id for m in entries if REVIEW in m.user_comments]
    reviewed = [m.id for m in entries if any(c.startswith("reviewed by ") for c in m.user_comments)]
    assert len(unreviewed) + len(reviewed) == len(entries), "an entry with no review status"
    if unreviewed:
        assert language(code).review, "templates/languages.yaml must warn until review is done"


def test_a_missing_translation_names_the_catalog_and_the_message() -> None:
    catalog = Catalog(language("es"), {}, lambda n: int(n != 1))
    with pytest.raises(MissingTranslation) as err:
        catalog.gettext("once daily")
    assert str(err.value) == ("templates/locale/es/LC_MESSAGES/leaflets.po: no Spanish "
                              "translation of 'once daily'")


def test_spanish_directions_come_from_the_structure() -> None:
    sig = parse_directions("1-2 tab po q4-6h prn pain x 5 d")
    assert render_directions(sig, "es") == ("Tome de 1 a 2 tabletas por la boca cada 4 a 6 horas "
                                            "si lo necesita para el dolor durante 5 días.")


def test_an_untranslated_reason_is_refused_in_spanish_only() -> None:
    sig = parse_directions("1 tab po q6h prn restless legs")
    assert render_directions(sig) == ("Take 1 tablet by mouth every 6 hours as needed for "
                                      "restless legs.")
    with pytest.raises(SafetyError) as err:
        render_directions(sig, "es")
    assert "the as-needed reason 'restless legs' has no Spanish wording" in err.value.reason


def test_plain_directions_are_refused_in_spanish() -> None:
    plain = parse_directions("Take 1 capsule by mouth at the same time each day.", verbatim=True)
    with pytest.raises(SafetyError) as err:
        render_directions(plain, "es")
    assert "plain-language directions cannot be printed in Spanish" in err.value.reason


# ---- a Spanish fill, end to end ----------------------------------------------------------------


def _spanish(tmp_path: Path, extra: str = "", **replace: str) -> Path:
    text = BASE_FILL.replace("language: en}", f"language: es{extra}}}")
    for old, new in replace.items():
        text = text.replace(old, new)
    return write_fill(tmp_path, text)


def _texts(pdf: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_spanish_label_has_the_english_directions_beneath(tmp_path: Path) -> None:
    rendered = prepare_fill(_spanish(tmp_path), Settings())
    label = " ".join(_texts(rendered.files["label.pdf"]))   # with its continuation labels
    spanish = "Tome 1 cápsula por la boca una vez al día."
    english = "En inglés: Take 1 capsule by mouth once daily."
    assert spanish in label and english in label
    assert label.index(spanish) < label.index(english)
    record = rendered.record
    assert record["language"] == "es"
    assert record["directions"]["printed"] == spanish
    assert record["directions"]["english"] == "Take 1 capsule by mouth once daily."


def test_spanish_leaflet_says_which_parts_are_in_english(tmp_path: Path) -> None:
    rendered = prepare_fill(_spanish(tmp_path), Settings())
    leaflet = " ".join(_texts(rendered.files["leaflet.pdf"]))
    assert "Cómo usarlo: Tome 1 cápsula por la boca una vez al día." in leaflet
    assert "Esta parte todavía no está disponible en su idioma. Se imprime en inglés." in leaflet
    assert "Typically taken once daily without regard to meals." in leaflet   # the English part
    warnings = rendered.warnings
    assert any("has not been reviewed by a pharmacist" in w for w in warnings)
    assert any("products/anastrozole-1mg.yaml has no Spanish text for administration" in w
               for w in warnings)


def test_spanish_product_text_replaces_the_english(tmp_path: Path) -> None:
    path = _spanish(tmp_path, **{"anastrozole-1mg": "testosterone-2pct-cream",
                                 '"1 cap po qd"': '"1 g top qam"', "quantity: 30": "quantity: 30"})
    rendered = prepare_fill(path, Settings(stock="4x3"))
    leaflet = " ".join(_texts(rendered.files["leaflet.pdf"]))
    assert "La testosterona es una hormona sexual masculina." in leaflet
    assert "Testosterone is a male sex hormone." not in leaflet
    label = " ".join(_texts(rendered.files["label.pdf"]))   # with its continuation labels
    assert ("Precaucion: La ley Federal prohibe el transferir de esta droga a otra persona que no "
            "sea el paciente para quien fue recetada.") in label   # 21 CFR 290.6
    assert any("translations.es.reviewed_by" in w for w in rendered.warnings)


def test_an_unknown_language_is_a_clear_input_error(tmp_path: Path) -> None:
    path = write_fill(tmp_path, BASE_FILL.replace("language: en}", "language: fr}"))
    result = CliRunner().invoke(main, ["render", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "patient.language" in result.output
    assert "expected one of the languages in templates/languages.yaml (en, es), got 'fr'" \
        in result.output


def test_sig_command_prints_spanish(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sig", "2 tab po bid", "--language", "es"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("Tome 2 tabletas por la boca en la mañana y 2 tabletas en "
                                     "la noche.")


# ---- large print -------------------------------------------------------------------------------


def _stock(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "stocks" / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_large_print_flag_and_fill_field_give_the_same_bytes(tmp_path: Path) -> None:
    flagged = prepare_fill(write_fill(tmp_path, BASE_FILL, "a.yaml"), Settings(large_print=True))
    asked = prepare_fill(write_fill(tmp_path, BASE_FILL.replace(
        "language: en}", "language: en, large_print: true}"), "b.yaml"), Settings())
    assert flagged.files["label.pdf"] == asked.files["label.pdf"]
    assert flagged.files["leaflet.pdf"] == asked.files["leaflet.pdf"]
    assert asked.record["label"]["stock"] == "large-print"
    assert asked.record["leaflet"]["style"] == "leaflet-large-print"


def test_large_print_label_follows_the_access_board_sizes(tmp_path: Path) -> None:
    """US Access Board 2013 (usp-17-labels.md §6): 18-point bold for the patient-centred text."""
    rendered = prepare_fill(write_fill(tmp_path, BASE_FILL), Settings(large_print=True))
    runs, width, height = text_runs(rendered.files["label.pdf"])
    stock = _stock("large-print")
    assert (width, height) == (stock["width_in"] * 72, stock["height_in"] * 72)
    x, y, w, h = stock["regions"]["patient"]["box_pt"]
    inside = [r for r in runs if y <= height - r.baseline <= y + h and x <= r.x < x + w]
    assert {r.text.strip() for r in inside} >= {"Jordan A. Rivera"}
    for run in inside:
        assert run.size_pt >= 18 - 1e-6 and "Bold" in run.font, run


def test_large_print_leaflet_is_18_point_bold_throughout(tmp_path: Path) -> None:
    rendered = prepare_fill(write_fill(tmp_path, BASE_FILL), Settings(large_print=True))
    reader = pypdf.PdfReader(io.BytesIO(rendered.files["leaflet.pdf"]))
    sizes: list[tuple[str, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip() and font is not None:
            scale = abs(float(tm[3]) * float(cm[3])) or 1.0
            sizes.append((text, size * scale, str(font["/BaseFont"])))

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    assert sizes
    small = [(t, s) for t, s, _ in sizes if s < 18 - 1e-6]
    regular = [t for t, _, f in sizes if "Bold" not in f and t.strip() != "•"]
    assert small == [] and regular == []


def test_large_print_never_shrinks_text_that_cannot_fit(tmp_path: Path) -> None:
    long = "Take 1 capsule by mouth once daily " + "and keep taking it as your doctor says " * 6
    path = write_fill(tmp_path, BASE_FILL.replace('"1 cap po qd"', f'"{long.strip()}."')
                      + "directions_verbatim: {approved_by: KL}\n")
    result = CliRunner().invoke(main, ["render", str(path), "--large-print",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "directions: does not fit" in result.output and "minimum size 18 pt" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.pdf"))


def test_an_untranslated_purpose_prints_as_written_and_says_so(tmp_path: Path) -> None:
    path = _spanish(tmp_path, **{'"to lower estrogen"': '"for gynecomastia prevention"'})
    rendered = prepare_fill(path, Settings())
    label = " ".join(_texts(rendered.files["label.pdf"]))   # with its continuation labels
    assert "Propósito (en inglés): for gynecomastia prevention" in label
    assert any("the purpose 'for gynecomastia prevention' has no Spanish wording" in w
               for w in rendered.warnings)


def test_spanish_dates_name_the_month_and_numbers_have_no_thousands_comma(tmp_path: Path) -> None:
    """01/02/2027 reads as 1 February to most Spanish readers, and 1,000 as 1."""
    rendered = prepare_fill(_spanish(tmp_path), Settings())
    label = " ".join(_texts(rendered.files["label.pdf"]))   # with its continuation labels
    assert "Surtido el 24 de noviembre de 2026" in label
    assert "Usar hasta el 31 de marzo de 2027" in label
    sig = parse_directions("1000 mL po qd")
    assert render_directions(sig) == "Take 1,000 mL by mouth once daily."
    assert render_directions(sig, "es") == "Tome 1000 mL por la boca una vez al día."


def test_a_banned_token_in_a_translated_render_names_the_template_and_the_catalog() -> None:
    from leaflets.compose import _Checker

    with pytest.raises(SafetyError) as err:
        _Checker("label.xml.j2", "es")("Tome 1 cápsula qd", "directions")
    assert err.value.field == "directions"
    assert err.value.reason == ("'qd' is an error-prone abbreviation or sig code (ISMP/TJC): write "
                                "it in full words (templates/label.xml.j2 and "
                                "templates/locale/es/LC_MESSAGES/leaflets.po)")


def test_a_third_language_is_a_catalog_and_a_row_not_code(tmp_path: Path) -> None:
    """Add a language the way docs/rules.md says, to a copy of the project, and print with it."""
    import os
    import shutil
    import subprocess
    import sys

    from babel.messages.pofile import write_po

    for name in ("src", "templates", "fonts", "stocks", "products", "scripts", "examples"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pharmacy.yaml", tmp_path / "pharmacy.yaml")
    shutil.copy(ROOT / "warnings.yaml", tmp_path / "warnings.yaml")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, text=True,
                              capture_output=True, timeout=120)

    started = run("scripts/messages.py", "--init", "xx")
    assert started.returncode == 0, started.stderr
    with (tmp_path / "templates" / "languages.yaml").open("a", encoding="utf-8") as f:
        f.write("xx:\n  name: Test\n  english_name: Testish\n  catalog: true\n"
                "  english_directions: true\n  review: unreviewed\n  dates: pharmacy\n"
                "  thousands: \",\"\n")
    sig = ("-m", "leaflets.cli", "sig", "2 tab po bid", "--language", "xx")
    missing = run(*sig)
    assert missing.returncode == 3
    assert "templates/locale/xx/LC_MESSAGES/leaflets.po: no Testish translation of" \
        in missing.stderr
    # The translator's work: here every message is the Spanish one.
    path = tmp_path / "templates" / "locale" / "xx" / "LC_MESSAGES" / "leaflets.po"
    with path.open("rb") as f:
        new = read_po(f, locale="es")
    spanish = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m.string
               for m in _catalog("es") if m.id}
    for m in new:
        if m.id:
            m.string = spanish[(m.context, m.id if isinstance(m.id, str) else m.id[0])]
    with path.open("wb") as f:
        write_po(f, new)
    printed = run(*sig)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.strip() == ("Tome 2 tabletas por la boca en la mañana y 2 tabletas en "
                                      "la noche.")
    fill = tmp_path / "fill.yaml"
    fill.write_text(BASE_FILL.replace("language: en}", "language: xx}"), encoding="utf-8")
    rendered = run("-m", "leaflets.cli", "render", str(fill), "--out", str(tmp_path / "out"))
    # The auxiliary warnings are data, in warnings.yaml: a language needs their text too.
    assert rendered.returncode == 2
    assert "warnings.pregnancy-fetal-harm.text.xx: the auxiliary warning 'pregnancy-fetal-harm' " \
        "has no 'xx' text" in rendered.stderr
    catalog = yaml.safe_load((tmp_path / "warnings.yaml").read_text(encoding="utf-8"))
    for entry in catalog["warnings"].values():
        entry["text"]["xx"] = entry["text"]["es"]
    (tmp_path / "warnings.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True),
                                            encoding="utf-8")
    rendered = run("-m", "leaflets.cli", "render", str(fill), "--out", str(tmp_path / "out"))
    assert rendered.returncode == 0, rendered.stderr
    assert "Testish: unreviewed" in rendered.stderr
    assert "Testish: the auxiliary warnings" in rendered.stderr
    label = " ".join(_texts((tmp_path / "out" / "600123-0" / "label.pdf").read_bytes()))
    assert "Tome 1 cápsula por la boca una vez al día." in label
    assert "En inglés: Take 1 capsule by mouth once daily." in label
    # A translation with an invisible character would print other than it reads in the
    # catalog: the catalog is refused as any input would be.
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('msgstr "Tome', 'msgstr "T\u200bome', 1), encoding="utf-8")
    hidden = run(*sig)
    assert hidden.returncode == 3
    assert "templates/locale/xx/LC_MESSAGES/leaflets.po: the translation of " in hidden.stderr
    assert "is an invisible formatting character (U+200B ZERO WIDTH SPACE)" in hidden.stderr
