"""`leaflets sig --explain`: how each word was read, where reading stopped, and rewrites only
where one is mechanical and keeps the meaning (rules/sig/explain.py). The rows and sentences
below are written by hand; the property tests hold explain to parse_directions' outcome."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from leaflets.cli import main
from leaflets.compose import render_directions
from leaflets.errors import SafetyError
from leaflets.models import DoseUnit, Route, TopicalSite
from leaflets.rules.sig import Context, Directions, PlainDirections, Sig, parse_directions
from leaflets.rules.sig.explain import Explanation, Stop, explain
from leaflets.rules.sig.vocabulary import VERBS

from .strategies import sigs
from .test_sig_table import ACCEPTED, REFUSED, _context

ORAL_TABLET = Context(Route.ORAL, DoseUnit.TABLET)


def rows(found: Explanation) -> list[tuple[str, str, str]]:
    return [(r.words, r.slot, r.value) for r in found.readings]


# ---- readings -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("sig", "context", "expected"), [
    ("1 tab po q8h prn nausea", None, [
        ("1", "dose", "1"), ("tab", "unit", "tablet"), ("po", "route", "oral (by mouth)"),
        ("q8h", "how often", "every 8 hours"), ("prn", "as needed", "yes"),
        ("nausea", "as needed for", "nausea")]),
    ("Take 1-2 tabs by mouth q4-6h as needed for severe pain, max 8 tabs/day", None, [
        ("Take", "verb", "take"), ("1-2", "dose", "1 to 2"), ("tabs", "unit", "tablet"),
        ("by mouth", "route", "oral (by mouth)"), ("q4-6h", "how often", "every 4 to 6 hours"),
        ("as needed for", "as needed", "yes"), ("severe pain", "as needed for", "severe pain"),
        ("max 8 tabs/day", "most in 24 hours", "8 tablets")]),
    ("2 tab po bid x 3 d then 1 tab po qd x 1 wk", None, [
        ("2", "dose", "2"), ("tab", "unit", "tablet"), ("po", "route", "oral (by mouth)"),
        ("bid", "how often", "2 times a day"), ("x 3 d", "for how long", "3 days"),
        ("then", "then", "step 2 begins"),
        ("1", "dose", "1"), ("tab", "unit", "tablet"), ("po", "route", "oral (by mouth)"),
        ("qd", "how often", "once a day"), ("x 1 wk", "for how long", "1 week")]),
    ("1 cap po once daily in the morning with food", None, [
        ("1", "dose", "1"), ("cap", "unit", "capsule"), ("po", "route", "oral (by mouth)"),
        ("once daily", "how often", "once a day"), ("in the morning", "time of day", "morning"),
        ("with food", "instruction", "with food")]),
    # a site names the route too; a product's route and unit are not words of the sig
    ("1 gtt in the right eye bid", Context(Route.OPHTHALMIC, DoseUnit.DROP), [
        ("1", "dose", "1"), ("gtt", "unit", "drop"),
        ("in the right eye", "route", "ophthalmic (eye)"),
        ("in the right eye", "where", "right eye"), ("bid", "how often", "2 times a day")]),
    ("apply a thin layer to the skin q Mon Wed Fri",
     Context(Route.TOPICAL, DoseUnit.G, TopicalSite.SKIN), [
         ("apply", "verb", "apply"), ("a thin layer", "amount", "a thin layer"),
         ("to the skin", "route", "topical (on the skin)"), ("to the skin", "where", "skin"),
         ("q Mon Wed Fri", "days of the week", "Monday, Wednesday, Friday")]),
    # (not "qam, qhs ac": bedtime with ac is refused, tests/data/sigs-timing.yaml)
    ("1 cap po qam, qpm ac", None, [
        ("1", "dose", "1"), ("cap", "unit", "capsule"), ("po", "route", "oral (by mouth)"),
        ("qam,", "time of day", "morning"), ("qpm", "time of day", "evening"),
        ("ac", "meals", "before meals")]),
])
def test_each_group_of_words_shows_its_slot_and_value(
        sig: str, context: Context | None, expected: list[tuple[str, str, str]]) -> None:
    found = explain(sig, context)
    assert rows(found) == expected
    assert isinstance(found.directions, Sig)
    assert found.message is None and found.stop is None and found.suggestion is None


def test_rows_locate_their_words_in_the_text() -> None:
    found = explain("1  tab po  q8h,  prn nausea")          # spaces collapse, as when parsed
    assert found.text == "1 tab po q8h, prn nausea"
    assert found.tokens == ("1", "tab", "po", "q8h", ",", "prn", "nausea")
    assert [(r.start, r.end, r.at, r.step) for r in found.readings] == [
        (0, 1, (0, 1), 1), (1, 2, (2, 5), 1), (2, 3, (6, 8), 1), (3, 4, (9, 12), 1),
        (5, 6, (14, 17), 1), (6, 7, (18, 24), 1)]
    for r in found.readings:
        assert found.text[r.at[0]:r.at[1]] == r.words


# ---- refusals ------------------------------------------------------------------------------------

def test_a_refusal_shows_the_word_where_reading_stopped_and_the_message() -> None:
    found = explain("1 tab po zz qd")
    assert found.directions is None
    assert found.message == "unknown abbreviation 'zz'"
    assert found.stop == Stop("zz", 3, 4, (9, 11), 1)
    assert rows(found) == [("1", "dose", "1"), ("tab", "unit", "tablet"),
                           ("po", "route", "oral (by mouth)")]
    assert found.suggestion is None


def test_a_refused_step_or_taper_is_named_after_all_its_words_were_read() -> None:
    step = explain("1 cap po")
    assert step.message == ("directions need a frequency or time of day (for example qd, bid, "
                            "q8h, qhs)")
    assert step.stop == Stop("", None, None, None, 1)
    taper = explain("2 tab po qd then 1 tab po qd")
    assert taper.message is not None and taper.message.startswith("step 1 of 2 comes before")
    assert taper.stop == Stop("", None, None, None, None)


def test_the_message_is_parse_directions_own() -> None:
    text = "Take 1 capsule by mouth once daily at the same time each day."
    found = explain(text)
    assert found.message == ("'at the same' is not read; or a pharmacist may approve the text "
                             "as written (directions_verbatim: {approved_by: <initials>})")
    assert found.stop is not None and found.stop.words == "at"
    approved = explain(text, verbatim=True)        # approved: printed as written, never read
    assert approved.directions == PlainDirections(text) and approved.message is None
    assert approved.stop == found.stop
    assert explain("   ").message == "directions are empty"


def test_a_product_changes_what_is_refused() -> None:
    found = explain("1 cap po qd", Context(Route.VAGINAL, DoseUnit.CAPSULE))
    assert found.message == "'po' (oral) does not match this vaginal product"
    assert found.stop == Stop("", None, None, None, 1)


# ---- suggested rewrites -------------------------------------------------------------------------

@pytest.mark.parametrize(("sig", "rewrite", "sentence"), [
    # the refusal's own advice: instructions before 'prn', a verb that begins them first
    ("1 tab po q8h prn nausea take with food", "take 1 tab po q8h with food prn nausea",
     "Take 1 tablet by mouth every 8 hours with food as needed for nausea."),
    ("Take 1 tab po q8h prn nausea, take with food.", "Take 1 tab po q8h with food prn nausea.",
     "Take 1 tablet by mouth every 8 hours with food as needed for nausea."),
    ("2 puffs q4h prn sob inhale by mouth", "inhale 2 puffs q4h by mouth prn sob",
     "Inhale 2 puffs by mouth every 4 hours as needed for shortness of breath."),
    # the reason written before the dose
    ("prn pain 1 tab po q6h", "1 tab po q6h prn pain",
     "Take 1 tablet by mouth every 6 hours as needed for pain."),
    # codes with dots the grammar does not read dotted (glued codes are read as they are)
    ("1 cap po q.h.s.", "1 cap po qhs", "Take 1 capsule by mouth at bedtime."),
    ("1 tab po t.i.w.", "1 tab po tiw", "Take 1 tablet by mouth 3 times a week."),
    ("1 CAP P.O.Q.H.S.", "1 CAP PO QHS", "Take 1 capsule by mouth at bedtime."),
])
def test_a_mechanical_rewrite_is_suggested(sig: str, rewrite: str, sentence: str) -> None:
    found = explain(sig)
    assert found.directions is None and found.message is not None
    assert found.suggestion == rewrite
    assert render_directions(parse_directions(rewrite)) == sentence


@pytest.mark.parametrize("sig", [
    # codes refused as ambiguous are never given a meaning, alone, glued or dotted
    "1 tab po hs", "1 tab po qdhs", "1 tab po hsx7d", "5u po qd", "1 tab po h.s",
    "1 tab po o.d", "1 tab po od", "ss tab po qhs", "1 tab po q6PM", "1 tab po qd ud",
    # eye and ear codes are left to the product (never separated or undotted)
    "1 gtt po o.u. bid", "1 gtt ou bid",
    # no rewrite keeps the meaning
    "1 tab po xyz", "1 cap po q6h prn anxiety, insomnia", "1 tab po on Tuesday",
    "1 tab po qd bid", "1 tab po q6h prn ha", "1/4 tab po qd", "1 tab qd",
    "apply 1 g top bid prn itching take with food",        # which verb?
    # a decimal point is never a dot to drop
    ".5tab po qd", "1.0tab po qd",
    # dots alone
    "1 tab po qd ..",
])
def test_no_rewrite_is_suggested_where_none_is_safe(sig: str) -> None:
    found = explain(sig)
    assert found.message is not None
    assert found.suggestion is None


def _table_context(entry: dict[str, str]) -> Context:
    return _context(entry)          # the table's product: its strength and pump too


def _glued_and_dotted(sig: str) -> list[str]:
    """The sig with two neighbouring words glued, or a short word written with dots."""
    words = sig.split()
    out = [" ".join([*words[:k], words[k] + words[k + 1], *words[k + 2:]])
           for k in range(len(words) - 1)]
    out += [" ".join([*words[:k], ".".join(w) + ".", *words[k + 1:]])
            for k, w in enumerate(words) if w.isalpha() and 2 <= len(w) <= 4]
    return out


def _moved(sig: str) -> list[str]:
    """The sig with its as-needed reason first, or an instruction moved after it."""
    found = re.search(r"\b(prn|as needed(?: for)?) ([a-z ]+?)(?=$|[,.;]| x | for | max)", sig)
    if not found or " then " in sig:
        return []
    reason = found.group(0)
    out = [f"{reason} {sig[:found.start()]}{sig[found.end():]}".strip()]
    for instruction in ("with food", "on an empty stomach", "with a full glass of water",
                        "with or without food", "with meals", "before meals", "after meals"):
        if f" {instruction} " in sig[:found.start()]:
            without = sig.replace(f" {instruction}", "", 1)
            at = without.index(reason) + len(reason)
            out.append(f"{without[:at]} take {instruction}{without[at:]}")
    return out


@pytest.mark.parametrize("entry", ACCEPTED, ids=[e["sig"] for e in ACCEPTED])
def test_a_rewrite_reads_as_the_sig_it_was_made_from(entry: dict[str, str]) -> None:
    """Every table sig, glued, dotted or rearranged the ways the rewrites undo: where that is
    refused and a rewrite is suggested, the rewrite reads back to the table sig's structure
    (a rewrite keeps the meaning; the decimal point of '0.5tab' once went with the dots)."""
    context = _table_context(entry)
    sig = parse_directions(entry["sig"], context)
    for variant in _glued_and_dotted(entry["sig"]) + _moved(entry["sig"]):
        found = explain(variant, context)
        if found.suggestion is not None:
            assert parse_directions(found.suggestion, context) == sig, (variant, found.suggestion)


# ---- explain is parse_directions' reading ---------------------------------------------------------

def _outcome(text: str, context: Context | None, verbatim: bool) -> tuple[Directions | None,
                                                                           str | None]:
    try:
        return parse_directions(text, context, verbatim=verbatim), None
    except SafetyError as exc:
        return None, exc.reason


def _letters(text: str) -> str:
    return "".join(sorted(re.sub(r"[\s,;]|(?<!\d)\.(?!\d)", "", text.lower())))


PUNCT = {",", ".", ";", "(", ")", "[", "]", "-", "–", "—", ":"}


def check_consistent(text: str, context: Context | None, verbatim: bool) -> None:
    found = explain(text, context, verbatim)
    assert (found.directions, found.message) == _outcome(text, context, verbatim)
    # the grammar read every word exactly when parse_directions read the text as a sig
    assert isinstance(found.directions, Sig) == (found.stop is None and bool(found.tokens))
    # the rows follow the text, and every word before the stop is in one
    read: set[int] = set()
    last = 0
    for r in found.readings:
        assert r.start >= last and r.end > r.start
        assert found.text[r.at[0]:r.at[1]] == r.words
        last = r.start
        read.update(range(r.start, r.end))
    reached = len(found.tokens)
    stop = found.stop
    if stop is not None and stop.start is not None:
        reached = stop.start
    elif stop is not None and stop.step is not None:        # the end of the step refused
        # (a step ends at "then", or where a taper written without it starts the next)
        reached = max((r.end for r in found.readings if r.step <= stop.step), default=0)
    assert not read & set(range(reached, len(found.tokens)))
    punctuation = {k for k, t in enumerate(found.tokens) if t in PUNCT}
    assert set(range(reached)) - punctuation <= read
    if found.suggestion is not None:
        assert found.directions is None
        assert isinstance(parse_directions(found.suggestion, context), Sig)
        # words only moved, separated or undotted (never a decimal point), and a verb dropped
        # where the step already begins with it
        dropped = _letters(text)
        for verb in ["", *sorted(VERBS)]:
            if _letters(found.suggestion + verb) == dropped:
                break
        else:
            raise AssertionError((text, found.suggestion))


CONTEXTS = [None, ORAL_TABLET, Context(Route.ORAL, DoseUnit.ML),
            Context(Route.OPHTHALMIC, DoseUnit.DROP),
            Context(Route.TOPICAL, DoseUnit.G, TopicalSite.SKIN), Context(Route.RECTAL, None)]


@pytest.mark.parametrize("entry", ACCEPTED + REFUSED, ids=[e["sig"] for e in ACCEPTED + REFUSED])
def test_explain_agrees_with_parse_on_every_table_sig(entry: dict[str, str]) -> None:
    check_consistent(entry["sig"], _table_context(entry), False)
    check_consistent(entry["sig"], _table_context(entry), True)


@settings(max_examples=200)
@given(sigs())
def test_explain_reads_every_printed_sentence_as_parse_does(sig: Sig) -> None:
    text = render_directions(sig)
    found = explain(text)
    assert found.directions == sig and found.stop is None
    check_consistent(text, None, False)


# Words of sigs, codes refused, glued and dotted forms, punctuation: mostly refused soups.
WORDS = ["1", "2", "0.5", "1-2", "1/2", "10", "tab", "tabs", "cap", "mL", "g", "gtt", "puff",
         "po", "sl", "top", "pr", "by", "mouth", "qd", "bid", "tid", "qid", "q8h", "q4-6h", "qam",
         "qhs", "qod", "tiw", "Mon", "Wed", "prn", "as", "needed", "for", "pain", "nausea",
         "severe", "x", "7", "d", "x7d", "days", "then", "take", "apply", "with", "food",
         "max", "4", "/day", "per", "day", ",", ".", "hs", "od", "ou", "ss", "u", "qdx7d", "1tab",
         "p.o.", "q8hprn", "swallow", "whole", "every", "8", "hours", "in", "the", "morning",
         "once", "daily", "a", "thin", "layer", "to", "skin", "right", "eye", "ac", "pc", "meals",
         "do", "not", "crush", "empty", "stomach", "on", "and", "h.s", "b.i.d", "zz"]


@settings(max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.booleans()), max_size=12),
       st.sampled_from(CONTEXTS), st.booleans())
def test_explain_never_accepts_what_parse_refuses_nor_the_reverse(
        words: list[tuple[str, bool]], context: Context | None, verbatim: bool) -> None:
    text = "".join(("" if glued else " ") + word for word, glued in words)
    check_consistent(text, context, verbatim)


# ---- the command ---------------------------------------------------------------------------------

def test_the_command_prints_the_table_then_the_directions() -> None:
    done = CliRunner().invoke(main, ["sig", "--explain", "1 tab po q8h prn nausea"])
    assert done.exit_code == 0, done.output
    assert done.stdout == (
        "words   slot           value\n"
        "1       dose           1\n"
        "tab     unit           tablet\n"
        "po      route          oral (by mouth)\n"
        "q8h     how often      every 8 hours\n"
        "prn     as needed      yes\n"
        "nausea  as needed for  nausea\n"
        "\n"
        "Take 1 tablet by mouth every 8 hours as needed for nausea.\n")


def test_the_command_shows_where_a_refusal_stopped_and_exits_2() -> None:
    done = CliRunner().invoke(main, ["sig", "--explain", "1 tab po q8h prn nausea take with food"])
    assert done.exit_code == 2
    assert done.stdout.endswith(
        "\n"
        "Reading stopped at 'take':\n"
        "  1 tab po q8h prn nausea take with food\n"
        "                          ^^^^\n"
        "Suggested rewrite: take 1 tab po q8h with food prn nausea\n"
        "  which reads: Take 1 tablet by mouth every 8 hours with food as needed for nausea.\n")
    assert done.stderr == ("Error: directions: 'take' after the as-needed reason 'nausea' is not "
                           "read: put instructions before 'prn' (for example '1 tab po q8h with "
                           "food prn nausea')\n")


def test_the_command_reads_for_a_product_in_a_language() -> None:
    done = CliRunner().invoke(main, ["sig", "--explain", "1 po qd", "--product", "anastrozole-1mg",
                                     "--language", "es"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[1:3] == ["1      dose       1",
                                               "po     route      oral (by mouth)"]
    assert done.stdout.splitlines()[-1] == "Tome 1 cápsula por la boca una vez al día."


def test_the_command_gives_the_same_as_json() -> None:
    done = CliRunner().invoke(main, ["sig", "--explain", "--json", "1 cap po q.h.s."])
    assert done.exit_code == 2
    data = json.loads(done.stdout)
    assert data == {
        "input": "1 cap po q.h.s.", "text": "1 cap po q.h.s.", "language": "en",
        "tokens": ["1", "cap", "po", "q.h.s."],
        "readings": [
            {"words": "1", "slot": "dose", "value": "1", "step": 1, "tokens": [0, 1], "at": [0, 1]},
            {"words": "cap", "slot": "unit", "value": "capsule", "step": 1, "tokens": [1, 2],
             "at": [2, 5]},
            {"words": "po", "slot": "route", "value": "oral (by mouth)", "step": 1,
             "tokens": [2, 3], "at": [6, 8]}],
        "accepted": False, "kind": None, "printed": None, "structure": None,
        "message": "unknown abbreviation 'q.h.s.'",
        "stop": {"words": "q.h.s.", "step": 1, "tokens": [3, 4], "at": [9, 15]},
        "suggestion": {"text": "1 cap po qhs", "printed": "Take 1 capsule by mouth at bedtime."}}
    ok = json.loads(CliRunner().invoke(main, ["sig", "--explain", "--json", "2 cap po qhs"]).stdout)
    assert ok["accepted"] and ok["kind"] == "sig" and ok["message"] is None and ok["stop"] is None
    assert ok["printed"] == "Take 2 capsules by mouth at bedtime."
    assert ok["structure"]["steps"][0]["dose"] == str(Decimal(2))
    assert ok["readings"][3] == {"words": "qhs", "slot": "time of day", "value": "bedtime",
                                 "step": 1, "tokens": [3, 4], "at": [9, 12]}
