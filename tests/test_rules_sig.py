"""Directions engine: shared/reference/sig-codes.md §6 worked examples and the refusals of
shared/reference/error-prone-abbreviations.md."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from leaflets.compose import render_directions
from leaflets.errors import SafetyError
from leaflets.i18n import languages
from leaflets.models import DoseUnit, Route
from leaflets.rules.abbreviations import find_banned
from leaflets.rules.sig import (
    Dosage,
    Frequency,
    Period,
    PlainDirections,
    Sig,
    Timing,
    Weekday,
    daily_amount,
    parse_directions,
    total_amount,
    ums_periods,
)

from .strategies import sigs
from .test_sig_table import ACCEPTED, REFUSED

ORAL, TOP, EYE, EAR = Route.ORAL, Route.TOPICAL, Route.OPHTHALMIC, Route.OTIC


def expand(sig: str, route: Route | None = None, unit: DoseUnit | None = None) -> str:
    return render_directions(parse_directions(sig, route=route, unit=unit))


# sig-codes.md §6, with the product context each needs; sentences copied from the reference.
@pytest.mark.parametrize(("sig", "route", "unit", "sentence"), [
    ("1 cap po qd", ORAL, DoseUnit.CAPSULE, "Take 1 capsule by mouth once daily."),
    ("1-2 tab po q4-6h prn pain", None, None,
     "Take 1 to 2 tablets by mouth every 4 to 6 hours as needed for pain."),
    ("2 tab po bid", None, None, "Take 2 tablets by mouth in the morning and 2 tablets in the evening."),
    # with a meal instruction the meals set the times; the count stays
    ("1 tab po tid pc", None, None, "Take 1 tablet by mouth 3 times a day after meals."),
    ("10 mL po bid ac", None, DoseUnit.ML, "Take 10 mL by mouth twice daily before meals."),
    ("1 tab po qid", None, None, "Take 1 tablet by mouth in the morning, 1 tablet at noon, 1 tablet "
     "in the evening, and 1 tablet at bedtime."),
    ("1 tab po qhs", None, None, "Take 1 tablet by mouth at bedtime."),
    ("1 tab po qam", None, None, "Take 1 tablet by mouth in the morning."),
    ("1 tab po qod", None, None, "Take 1 tablet by mouth every other day."),
    ("1 tab po qw", None, None, "Take 1 tablet by mouth once a week."),
    ("5 mL po tid x 10 d", None, None, "Take 5 mL by mouth in the morning, 5 mL at noon, and 5 mL "
     "in the evening for 10 days."),
    ("2 gtt ou qid", EYE, DoseUnit.DROP, "Instill 2 drops in each eye in the morning, 2 drops at "
     "noon, 2 drops in the evening, and 2 drops at bedtime."),
    ("3 gtt au bid", EAR, DoseUnit.DROP, "Instill 3 drops in each ear in the morning and 3 drops "
     "in the evening."),
    ("1 supp pr q12h prn nausea", None, None,
     "Insert 1 suppository rectally every 12 hours as needed for nausea."),
    ("1 applicatorful pv qhs x 7 d", None, None,
     "Insert 1 applicatorful vaginally at bedtime for 7 days."),
    ("apply top bid", None, None, "Apply to the affected area in the morning and in the evening."),
    ("2 puffs inh q4h prn sob", None, None,
     "Inhale 2 puffs by mouth every 4 hours as needed for shortness of breath."),
    ("1 troche sl qd", None, None, "Dissolve 1 troche under the tongue once daily."),
    # Beyond the reference table: codes from §3–5 and the error-prone EXPAND list.
    ("1 cap qd", ORAL, DoseUnit.CAPSULE, "Take 1 capsule by mouth once daily."),
    ("1 po q1d", ORAL, DoseUnit.CAPSULE, "Take 1 capsule by mouth once daily."),
    ("1 tab per os qn", None, None, "Take 1 tablet by mouth at bedtime."),
    ("5 cc po BT", None, None, "Take 5 mL by mouth at bedtime."),
    ("0.5 mL po biw", None, None, "Take 0.5 mL by mouth 2 times a week."),
    ("0.5 mL po tiw", None, None, "Take 0.5 mL by mouth 3 times a week."),
    ("1 cap po qam qhs", None, None, "Take 1 capsule by mouth in the morning and 1 capsule at "
     "bedtime."),
    ("1 tab po qam qnoon qpm qhs", None, None,
     "Take 1 tablet by mouth in the morning, 1 tablet at noon, 1 tablet in the evening, and 1 "
     "tablet at bedtime."),
    ("10 mL po qam ac x3d", None, None,
     "Take 10 mL by mouth in the morning before meals for 3 days."),
    ("1 g top qam", TOP, DoseUnit.G, "Apply 1 g to the affected area in the morning."),
    ("Take 1 cap po qd", None, None, "Take 1 capsule by mouth once daily."),
    ("1 tab po q8h x 1 day", None, None, "Take 1 tablet by mouth every 8 hours for 1 day."),
    ("1000 mL po qd", None, None, "Take 1,000 mL by mouth once daily."),
])
def test_sig_expands_to_plain_english(sig: str, route: Route | None, unit: DoseUnit | None,
                                      sentence: str) -> None:
    assert expand(sig, route, unit) == sentence


def test_text_outside_the_grammar_prints_only_when_a_pharmacist_approved_it() -> None:
    text = "Take 1 capsule by mouth once daily at the same time each day."
    with pytest.raises(SafetyError) as err:
        parse_directions(text)
    assert err.value.reason == ("'at the same' is not read; or a pharmacist may approve the text "
                                "as written (directions_verbatim: {approved_by: <initials>})")
    assert parse_directions(text, verbatim=True) == PlainDirections(text)
    assert render_directions(parse_directions(text, verbatim=True)) == text


def _outcome(sig: str) -> str:
    try:
        return render_directions(parse_directions(sig))
    except SafetyError as err:
        return f"refused: {err.reason}"


TABLE_SIGS = sorted({row["sig"] for row in ACCEPTED + REFUSED})


CORPUS_SIGS = sorted({e["sig"] for e in yaml.safe_load(
    (Path(__file__).parent / "data" / "sig-corpus.yaml").read_text(encoding="utf-8"))["sigs"]})


def _spaced(sig: str, gaps: list[str]) -> str:
    words = sig.split()
    return "".join(w + gaps[i % len(gaps)] for i, w in enumerate(words)).strip(" ")


@settings(max_examples=300, deadline=None)
@given(sig=st.sampled_from(TABLE_SIGS + CORPUS_SIGS),
       case=st.sampled_from(["upper", "lower", "title", "first"]),
       gaps=st.lists(st.sampled_from([" ", "  ", "\t", " \n "]), min_size=1, max_size=4),
       stop=st.booleans())
def test_case_spacing_and_a_full_stop_never_change_the_outcome(sig: str, case: str, gaps: list[str],
                                                              stop: bool) -> None:
    """How a sig is typed (capitals, spaces, line breaks, a closing full stop) never changes whether
    it is read or how: only its words do."""
    variant = {"upper": sig.upper(), "lower": sig.lower(), "title": sig.title(),
               "first": sig[:1].upper() + sig[1:]}[case]
    variant = _spaced(variant, gaps)
    if stop and not variant.endswith("."):
        variant += "."
    plain, other = _outcome(sig), _outcome(variant)
    assert other.startswith("refused") == plain.startswith("refused"), (variant, other, plain)
    if not plain.startswith("refused"):
        assert other == plain, variant


@pytest.mark.parametrize("sig", TABLE_SIGS)
def test_capitalisation_never_changes_what_is_accepted(sig: str) -> None:
    """The old escape hatch: a refused sig with a capital first letter was printed as written.
    Whether a sig is read, and how, is the same however its first word is capitalised."""
    plain = _outcome(sig)
    for variant in (sig[:1].upper() + sig[1:], sig[:1].lower() + sig[1:]):
        outcome = _outcome(variant)
        assert outcome.startswith("refused") == plain.startswith("refused"), (variant, outcome)
        if not plain.startswith("refused"):
            assert outcome == plain, variant


def test_plain_sentences_in_the_grammar_are_structured() -> None:
    text = "Take 1 capsule by mouth on Mondays and Thursdays with water."
    assert isinstance(parse_directions(text), Sig)
    assert expand(text) == ("Take 1 capsule by mouth every Monday and Thursday with a full glass "
                            "of water.")


@pytest.mark.parametrize(("sig", "route", "unit", "message"), [
    ("1 tab po od", None, None, "'od' is refused: it is an eye code or 'once daily', and only an "
                                "ophthalmic product may use it (ISMP error-prone)"),
    ("2 gtt os bid", ORAL, DoseUnit.DROP, "'os' is refused: it is an eye code, and only an "
                                          "ophthalmic product may use it (ISMP error-prone)"),
    ("1 tab po hs", None, None, "'hs' is refused: ambiguous: 'hs' (bedtime) and 'HS' "
                                "(half-strength) differ only by case"),
    ("1 tab po HS", None, None, "'HS' is refused: ambiguous: 'hs' (bedtime) and 'HS' "
                                "(half-strength) differ only by case"),
    ("ss tab po qd", None, None, "'ss' is refused: ambiguous: one-half or sliding scale"),
    ("1 tab po D/C", None, None, "'D/C' is refused: ambiguous: discharge or discontinue"),
    ("1 tab po ud", None, None, "'ud' is refused: 'as directed' alone is not a direction "
                                "(USP <17>): write the directions"),
    ("1 cap po qdd", None, None, "unknown abbreviation 'qdd'"),
    ("1 cap po xyz qd", None, None, "unknown abbreviation 'xyz'"),
    ("1 tab po q6h prn ha", None, None, "unknown abbreviation 'ha' in the as-needed reason: "
                                        "write the reason in plain words"),
    (".5 mL po qd", None, None, "'.5' is a decimal without a leading zero (ISMP/TJC): write "
                                "'0.5' (in '.5')"),
    ("1.0 cap po qd", None, None, "'1.0' is a trailing zero (ISMP/TJC): write it without '.0' "
                                  "(in '1.0')"),
    ("1 tab po prn", None, None, "'prn' needs the reason it is taken for (sig-codes.md §1: "
                                 "'as needed for pain')"),
    ("1 tab po", None, None, "directions need a frequency or time of day (for example qd, bid, "
                             "q8h, qhs)"),
    ("1 tab qd", None, None, "directions need a route (for example po, top, pr)"),
    ("1 tab po qd", ORAL, DoseUnit.CAPSULE,
     "the directions dose in tablet but this product is dosed in capsule"),
    ("1 g top bid", ORAL, DoseUnit.CAPSULE, "'top' (topical) does not match this oral product"),
    ("0.5 cap po qd", None, None, "a dose of '0.5' capsule: capsules cannot be divided; part "
                                  "doses need a pharmacist's wording"),
    ("1 tab po qd bid", None, None, "a second frequency 'bid'"),
    ("1 tab po bid qhs", None, None, "'qhs' conflicts with the frequency already given"),
    ("2-1 tab po qd", None, None, "dose range '2-1' must go from low to high"),
    ("1 U sc qd", None, None, "'U' is refused: units are error-prone as 'U' and no product here "
                              "is dosed in units"),
])
def test_refusals_name_the_token(sig: str, route: Route | None, unit: DoseUnit | None,
                                 message: str) -> None:
    with pytest.raises(SafetyError) as err:
        parse_directions(sig, route=route, unit=unit)
    assert err.value.field == "directions"
    assert err.value.reason == message


# Approved text prints as written, so it may hold no banned or sig code either, and must say
# something besides "as directed".
@pytest.mark.parametrize(("text", "message"), [
    ("Take 1 tablet by mouth bid at the same time",
     "'bid' is an error-prone abbreviation or sig code (ISMP/TJC): write it in full words; "
     "directions are either all plain words or all sig codes"),
    ("Take 2 tablets @ bedtime",
     "'@' is an error-prone symbol (ISMP): write 'at'; directions are either all plain words or "
     "all sig codes"),
    ("Take 1 capsule by mouth q6h or so",
     "'q6h' is an hourly sig code; directions are either all plain words or all sig codes"),
    ("Take 1 capsule by mouth qwk until gone",
     "'qwk' is a sig code; directions are either all plain words or all sig codes"),
    ("Take 1 capsule PR nightly, gently",
     "'pr' is a sig code; directions are either all plain words or all sig codes"),
    ("Take 1 tablet q.a.m. gently",
     "'q.a.m.' is a sig code; directions are either all plain words or all sig codes"),
    ("Take 1 tablet by mouth x7 days, gently",
     "'x7' is a sig code; directions are either all plain words or all sig codes"),
    ("Use as directed by your doctor.",
     "'as directed' alone tells the patient nothing to follow: write the directions "
     "(sig-codes.md §5: ud, avoid alone)"),
    ("use as directed", "'as directed' alone tells the patient nothing to follow: write the "
                        "directions (sig-codes.md §5: ud, avoid alone)"),
    ("Take 1 capsule by mouth once a day. Refills 0",
     "'Refills 0' is a note for the pharmacy, not a direction: move it out of the directions "
     "(quantity and refills are fields of the fill)"),
    ("Take 1 capsule by mouth daily, ok to fill early",
     "'ok to fill' is a note for the pharmacy, not a direction: move it out of the directions "
     "(quantity and refills are fields of the fill)"),
    ("Take 1tab by mouth each morning, gently",
     "'1tab' runs sig codes or words together (1 tab); directions are either all plain words or "
     "all sig codes"),
    ("Take 1 tablet by mouth q.h.s, gently",
     "'q.h.s' is a sig code; directions are either all plain words or all sig codes"),
    ("Take 1 tablet by mouth qday, gently",
     "'qday' is a sig code; directions are either all plain words or all sig codes"),
    ("Take 1 tablet by mouth twice dailypc, gently",
     "'dailypc' runs sig codes or words together (daily pc); directions are either all plain "
     "words or all sig codes"),
    ("Take 1 capsule by mouth each morning for ha",
     "unknown abbreviation 'ha': approved directions are plain words"),
    ("Take 1 capsule by mouth each morning for nv",
     "unknown abbreviation 'nv': approved directions are plain words"),
])
def test_approved_text_still_holds_no_code(text: str, message: str) -> None:
    with pytest.raises(SafetyError) as err:
        parse_directions(text, verbatim=True)
    assert err.value.reason == message


def test_daily_count_for_quantity_checks() -> None:
    d = parse_directions("2 cap po bid")
    assert isinstance(d, Sig)
    assert daily_amount(d.steps[0]) == 4
    prn = parse_directions("1 tab po q6h prn pain")
    assert isinstance(prn, Sig) and daily_amount(prn.steps[0]) is None


@settings(max_examples=300)
@given(sigs())
def test_every_accepted_dosage_parses_back_from_its_english(sig: Sig) -> None:
    text = render_directions(sig)
    assert text.endswith(".") and text[0].isupper()
    assert parse_directions(text) == sig, text


@settings(max_examples=200)
@given(sigs(), st.sampled_from(sorted(languages())))
def test_no_language_prints_a_banned_token(sig: Sig, code: str) -> None:
    text = render_directions(sig, code)
    assert find_banned(text, symbols=True) == [], (code, text)


@pytest.mark.parametrize("timing", [
    Timing(Frequency.TIMES_DAILY, count=n) for n in (1, 2, 3, 4, 5, 6)] + [
    Timing(Frequency.MEALS), Timing(Frequency.EVERY_MINUTES, minutes=5, count=3),
    Timing(Frequency.EVERY_HOURS, hours=8), Timing(Frequency.EVERY_HOURS, hours=4, hours_max=6),
    Timing(Frequency.EVERY_OTHER_DAY), Timing(Frequency.TIMES_WEEKLY, count=2),
    Timing(Frequency.WEEKDAYS, days=(Weekday.MONDAY,)),
    Timing(Frequency.EVERY_DAYS, count=3), Timing(Frequency.EVERY_WEEKS, count=2),
    Timing(Frequency.DAY_PERIODS, periods=(Period.MORNING, Period.BEDTIME))])
def test_every_frequency_has_a_ums_rendering_or_a_reason(timing: Timing) -> None:
    assert {t.frequency for t in [timing]} <= set(Frequency)
    dosage = Dosage(route=Route.ORAL, timing=timing, dose=Decimal(1), unit=DoseUnit.TABLET)
    periods, reason = ums_periods(dosage)
    text = render_directions(Sig((dosage,)))
    if periods:
        assert reason is None
        phrases = {"morning": "in the morning", "noon": "at noon", "evening": "in the evening",
                   "bedtime": "at bedtime"}
        assert [p for p in phrases.values() if p in text] == [phrases[p] for p in periods], text
    else:
        assert reason, timing
        assert not any(p in text for p in ("in the morning", "at noon", "in the evening")), text


def test_every_frequency_is_covered_by_the_ums_test() -> None:
    covered = {Frequency.TIMES_DAILY, Frequency.EVERY_HOURS, Frequency.EVERY_OTHER_DAY,
               Frequency.TIMES_WEEKLY, Frequency.WEEKDAYS, Frequency.DAY_PERIODS,
               Frequency.MEALS, Frequency.EVERY_MINUTES, Frequency.EVERY_DAYS,
               Frequency.EVERY_WEEKS}
    assert covered == set(Frequency)


@given(st.text(min_size=1, max_size=40))
def test_any_text_is_expanded_or_refused_never_printed_with_a_banned_token(text: str) -> None:
    try:
        printed = expand(text)
    except SafetyError:
        return
    assert find_banned(printed, symbols=True) == []


@pytest.mark.parametrize(("sig", "days", "total"), [
    ("1 cap po qd", 30, 30),                                  # the issue's own example
    ("2 cap po bid", 30, 120),
    ("2 tab po qd x 3 d then 1 tab po qd x 3 d then 1/2 tab po qd x 3 d", 9, Decimal("10.5")),
    ("1 cap po qod", 30, 15),
    ("1 cap po qod", 29, 15),                                 # day 1, 3, ... 29
    ("1 cap po tiw", 28, 12),
    ("1 cap po q Mon Thu", 14, 4),
    ("5 mL po q8h x 10 d", 30, 150),                          # the duration, not the supply
    ("1 cap po tiw", 30, None),                               # not whole weeks
    ("1 tab po q6h prn pain", 30, None),                      # as needed
    ("1-2 tab po qd", 30, None),                              # a range
    ("1 tab po q4-6h", 30, None),                             # an interval range
])
def test_the_quantity_the_directions_use(sig: str, days: int, total: Decimal | None) -> None:
    parsed = parse_directions(sig)
    assert isinstance(parsed, Sig)
    assert total_amount(parsed, days) == total


def test_a_quantity_that_disagrees_with_the_directions_is_a_warning(tmp_path: Path) -> None:
    from leaflets.pipeline import Settings, prepare_fill

    from .conftest import BASE_FILL, write_fill
    path = write_fill(tmp_path, BASE_FILL.replace("quantity: 30", "quantity: 28"))
    rendered = prepare_fill(path, Settings())
    assert ("quantity 28 capsules does not match the directions: 30 days of them use 30 capsules"
            in rendered.warnings)
