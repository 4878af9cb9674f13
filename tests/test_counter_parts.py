"""The counter's parts, without a server: the form is read as a CSV row is (the same fill, the
same problems at the same fields), whatever is typed shows on a page as text, exactly as
typed; the session and queue rules; refills. Real SQLite files throughout."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sqlite3
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaflets.counter import form
from leaflets.counter.desk import Desk
from leaflets.counter.pages import Pages
from leaflets.counter.queue import Queue
from leaflets.counter.sessions import Sessions, idle_out
from leaflets.counter.users import User
from leaflets.errors import InputError
from leaflets.load import iter_batch, validate_row
from leaflets.pipeline import Session, Settings

from .conftest import ROOT

FILL = yaml.safe_load((ROOT / "examples" / "fill.yaml").read_text())
CELLS = {
    "product": FILL["product"], "rx_number": FILL["rx_number"], "fill_number": "0",
    "fill_date": "2026-11-24", "patient.name": FILL["patient"]["name"],
    "patient.date_of_birth": "1978-03-14", "patient.language": "en", "patient.large_print": "",
    "prescriber.name": FILL["prescriber"]["name"], "prescriber.npi": FILL["prescriber"]["npi"],
    "directions": FILL["directions"], "indication": FILL["indication"], "quantity": "30",
    "days_supply": "30", "refills": "2", "compounding.lot": FILL["compounding"]["lot"],
    "compounding.compounded_on": "2026-11-20", "compounding.component_expirations": "2027-03-31",
}
TECH = User("tina", "technician", "TT")
KIM = User("kim", "pharmacist", "KL")
PAT = User("pat", "pharmacist", "PB")
# Text a person could type: any printable character, markup and template syntax included.
typed = st.one_of(
    st.sampled_from(["<script>alert(1)</script>", "<b>Ann</b> & Co", "{{ 7*7 }}", "{% raw %}",
                     "O'Brien \"Jr\"", "María José Nuñez", "&amp; &lt;", "</td></tr><tr>"]),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
            min_size=1, max_size=40).filter(lambda t: t.strip() == t and t.strip()))


def via_csv(cells: dict[str, str], tmp_path: Path) -> Any:
    """The same cells as one row of a day's CSV, read by `leaflets batch`'s reader."""
    path = tmp_path / "day.csv"
    with path.open("w", newline="", encoding="utf-8") as sink:
        writer = csv.DictWriter(sink, list(cells))
        writer.writeheader()
        writer.writerow(cells)
    problems: list[Any] = []
    (row,) = list(iter_batch([path], problems))
    assert problems == []
    return validate_row(row).model


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=typed, lot=typed, quantity=st.sampled_from(["30", "2.5", "0", "-1", "abc", ""]))
def test_the_form_reads_as_a_csv_row(tmp_path: Path, name: str, lot: str, quantity: str) -> None:
    cells = {**CELLS, "patient.name": name, "compounding.lot": lot, "quantity": quantity,
             "pharmacist": "KL"}
    try:
        expected = via_csv(cells, tmp_path)
    except InputError as err:
        expected_problems = sorted((p.field, p.message) for p in err.problems)
        with pytest.raises(InputError) as found:
            form.read({k: v for k, v in cells.items() if k != "pharmacist"}, "KL", "the form")
        assert sorted((p.field, p.message) for p in found.value.problems) == expected_problems
        return
    loaded = form.read({k: v for k, v in cells.items() if k != "pharmacist"}, "KL", "the form")
    assert loaded.model == expected
    assert loaded.model.patient.name == name                       # exactly as typed


class _Text(HTMLParser):
    """The text of every table cell, and the tags met."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)
        if tag == "td":
            self._in, self.cells = True, [*self.cells, ""]

    def handle_endtag(self, tag: str) -> None:
        self._in = self._in and tag != "td"

    def handle_data(self, data: str) -> None:
        if self._in:
            self.cells[-1] += data


@settings(max_examples=60, deadline=None)
@given(name=typed)
def test_typed_text_shows_as_text(name: str) -> None:
    """On the pharmacist's page, a patient's name is one cell's text, exactly as typed, and adds
    no element (autoescape: safety rule 7)."""
    from leaflets.counter.queue import Entry
    pages = Pages(dt.timedelta(minutes=15))
    entry = Entry(1, {**CELLS, "patient.name": name}, "waiting", "tina", "now", None, None, None,
                  None, ("tina",), 1)
    html = pages.render("entry.html.j2", user=KIM, csrf="t", path="/entries/1", entry=entry,
                        fields=form.FIELDS, problems={}, checked=None, previews=[])
    plain = pages.render("entry.html.j2", user=KIM, csrf="t", path="/entries/1",
                         entry=Entry(1, CELLS, "waiting", "tina", "now", None, None, None, None,
                                     ("tina",), 1),
                         fields=form.FIELDS, problems={}, checked=None, previews=[])
    found, baseline = _Text(), _Text()
    found.feed(html)
    baseline.feed(plain)
    assert name in found.cells
    assert found.tags == baseline.tags


# ---- sessions ----------------------------------------------------------------------------------


def test_an_idle_session_ends_when_next_used() -> None:
    now = [0.0]
    sessions = Sessions(dt.timedelta(minutes=15), clock=lambda: now[0])
    visit = sessions.sign_in(sessions.start(), TECH)
    now[0] = 15 * 60.0                                   # exactly the limit: still signed in
    assert sessions.find(visit.token) == (visit, False)
    now[0] += 15 * 60.0 + 0.001
    assert sessions.find(visit.token) == (None, True)   # ended, and said so once
    assert sessions.find(visit.token) == (None, False)
    assert not idle_out(0, 900, dt.timedelta(minutes=15)) and idle_out(0, 900.01,
                                                                       dt.timedelta(minutes=15))


def test_sign_in_changes_the_token_and_the_csrf_token() -> None:
    sessions = Sessions()
    before = sessions.start()
    after = sessions.sign_in(before, TECH)
    assert after.token != before.token and after.csrf != before.csrf
    assert sessions.find(before.token) == (None, False)
    assert after.csrf_ok(after.csrf) and not after.csrf_ok(before.csrf) and not after.csrf_ok(None)


def test_idle_sign_out_is_never_longer_than_15_minutes() -> None:
    with pytest.raises(ValueError, match="within 0:15:00"):
        Sessions(dt.timedelta(minutes=16))


# ---- the queue and the desk --------------------------------------------------------------------


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    for name in ("products",):
        shutil.copytree(ROOT / name, tmp_path / name)
    for name in ("pharmacy.yaml", "warnings.yaml"):
        shutil.copy(ROOT / name, tmp_path)
    settings_ = Settings(tmp_path / "products", tmp_path / "pharmacy.yaml",
                         warning_catalog=tmp_path / "warnings.yaml")
    return Desk(settings_, tmp_path / "out")


def approve(desk: Desk, entry_id: int, user: User) -> Any:
    """As the entry page does: approve the revision on screen."""
    return desk.approve(entry_id, desk.queue.get(entry_id).revision, user)


def test_two_pharmacists_cannot_claim_one_entry(desk: Desk) -> None:
    entry_id, checked = desk.enter(dict(CELLS), TECH)
    assert entry_id is not None and checked.ok
    other = Queue(desk.queue.path)                       # a second connection to the file
    desk.queue.claim(entry_id, 1, "kim", "t1")
    with pytest.raises(InputError, match="no longer waiting as you saw it"):
        other.claim(entry_id, 1, "pat", "t2")
    desk.queue.release(entry_id)
    other.claim(entry_id, 1, "pat", "t3")
    other.close()


def test_a_return_and_an_edit_cannot_get_round_the_two_person_check(desk: Desk) -> None:
    """kim enters a fill and returns it herself; tina resends it unchanged. kim typed it, so
    kim still cannot approve it; and the revision kim saw before tina's edit is not approved."""
    entry_id, _ = desk.enter(dict(CELLS), KIM)
    assert entry_id is not None
    desk.queue.give_back(entry_id, "kim", "t1", "fix it")
    assert desk.enter(dict(CELLS), TECH, entry_id)[0] == entry_id
    entry = desk.queue.get(entry_id)
    assert entry.hands == ("kim", "tina") and entry.revision == 2
    with pytest.raises(InputError, match="you entered or edited this fill"):
        approve(desk, entry_id, KIM)
    assert desk.queue.get(entry_id).status == "waiting"
    with pytest.raises(InputError, match="no longer waiting as you saw it"):
        desk.approve(entry_id, 1, PAT)                   # the page pat opened before the edit
    assert approve(desk, entry_id, PAT).record["fill"]["pharmacist"] == "PB"


def test_an_approval_cut_short_is_reconciled_at_start(desk: Desk) -> None:
    first, _ = desk.enter(dict(CELLS), TECH)
    second, _ = desk.enter({**CELLS, "rx_number": "600300"}, TECH)
    assert first is not None and second is not None
    approve(desk, first, KIM)
    # As if the server stopped: one entry claimed and published, its queue row not updated;
    # another claimed and nothing more.
    desk.queue._run("UPDATE entries SET status = 'approving', fill = NULL WHERE id = ?", (first,))
    desk.queue.claim(second, 1, "kim", "t")
    desk.reconcile()
    assert (desk.queue.get(first).status, desk.queue.get(first).fill) == ("approved", "600123-0")
    assert desk.queue.get(second).status == "waiting"


def test_approval_checks_role_and_the_two_persons(desk: Desk) -> None:
    entry_id, _ = desk.enter(dict(CELLS), KIM)
    assert entry_id is not None
    entry = desk.queue.get(entry_id)
    with pytest.raises(InputError, match="only a pharmacist approves"):
        approve(desk, entry_id, TECH)
    with pytest.raises(InputError, match="you entered or edited this fill"):
        approve(desk, entry_id, KIM)
    rendered = approve(desk, entry_id, PAT)
    assert rendered.record["fill"]["pharmacist"] == "PB"
    assert desk.queue.get(entry_id).status == "approved"
    with sqlite3.connect(desk.ledger_path) as db:
        (kind, user, detail), = db.execute("SELECT kind, user, detail FROM events").fetchall()
    assert (kind, user) == ("render", "pat")
    assert json.loads(detail)["checked"] == {
        "entered_by": "kim", "entered_at": entry.entered_at, "hands": ["kim"], "entry": entry_id,
        "revision": 1, "approved_by": "pat"}


def test_a_refused_approval_leaves_the_entry_waiting(desk: Desk) -> None:
    """Rx 600123-0 is rendered from the command line (for another patient) while its entry
    waits: the approval is refused, and the entry waits again."""
    from click.testing import CliRunner

    from leaflets.cli import main
    entry_id, _ = desk.enter(dict(CELLS), TECH)
    assert entry_id is not None
    other = desk.out.parent / "other.yaml"
    other.write_text((ROOT / "examples" / "fill.yaml").read_text().replace(
        "Jordan A. Rivera", "Someone Else"))
    done = CliRunner().invoke(main, [
        "render", str(other), "--out", str(desk.out), "--ledger", str(desk.ledger_path),
        "--catalog", str(desk.settings.catalog), "--pharmacy", str(desk.settings.pharmacy),
        "--warnings", str(desk.settings.warning_catalog)])
    assert done.exit_code == 0, done.output
    with pytest.raises(InputError, match=r"Rx 600123-0 is in the ledger already"):
        approve(desk, entry_id, KIM)
    assert desk.queue.get(entry_id).status == "waiting"


def test_a_fill_is_entered_once(desk: Desk, tmp_path: Path) -> None:
    """The same Rx and fill number again, typed (twice in a row, as a double Enter would) or
    uploaded, is refused at rx_number while it waits and once it is in the ledger."""
    first, _ = desk.enter(dict(CELLS), TECH)
    assert first is not None
    again, checked = desk.enter(dict(CELLS), TECH)
    assert again is None
    assert checked.problems["rx_number"] == [f"Rx 600123-0 is already in the queue as entry "
                                             f"{first}"]
    approve(desk, first, KIM)
    again, checked = desk.enter(dict(CELLS), TECH)
    assert again is None and "Rx 600123-0 is in the ledger already" in \
        checked.problems["rx_number"][0]
    day = tmp_path / "day.csv"
    day.write_text((ROOT / "examples" / "day.csv").read_text())
    rows, problems = desk.read_upload(day, "day.csv")
    entered = [desk.enter_row(row, TECH, day, "day.csv") for row in rows[:3]]
    assert problems == [] and all(queued is not None for queued, _ in entered)
    assert [queued[1] for queued, _ in entered if queued] == ["600200-0", "600201-1", "600202-0"]
    twice = [desk.enter_row(row, TECH, day, "day.csv") for row in rows[:3]]
    assert [entry for entry, _ in twice] == [None, None, None]
    assert [(p.file, p.line, p.field) for _, found in twice for p in found] == [
        ("day.csv", 2, "rx_number"), ("day.csv", 3, "rx_number"), ("day.csv", 4, "rx_number")]


def test_a_bad_component_expiry_is_shown_at_its_field() -> None:
    checked = form.check(Session(Settings()), {**CELLS, "compounding.component_expirations":
                                               "2027-03-31; 2027-13-01"}, "KL", "the form")
    assert checked.problems["compounding.component_expirations"] == [
        "expected a date YYYY-MM-DD, got '2027-13-01', which is not a day of the calendar"]
    assert "" not in checked.problems


def test_printing_without_printers_says_what_to_set(desk: Desk) -> None:
    from leaflets.printing import PrintError
    with pytest.raises(PrintError, match=r"no label printer is set up for the counter: the "
                                         r"pharmacy profile's printers\.labels names its CUPS "
                                         r"queue; nothing printed"):
        desk.print_fill("600123-0", TECH)


def test_refills_follow_the_ledger(desk: Desk) -> None:
    entry_id, _ = desk.enter({**CELLS, "refills": "1"}, TECH)
    assert entry_id is not None
    approve(desk, entry_id, KIM)
    cells = desk.refill("600123-0")
    assert cells["fill_number"] == "1" and cells["patient.name"] == CELLS["patient.name"]
    assert cells["compounding.lot"] == cells["fill_date"] == ""
    refill_id, checked = desk.enter({**cells, "fill_date": "2026-12-20",
                                     "compounding.lot": "GC-2612-0001",
                                     "compounding.compounded_on": "2026-12-19",
                                     "compounding.component_expirations": "2027-03-31"}, TECH)
    assert refill_id is not None, checked.problems
    approve(desk, refill_id, KIM)
    with pytest.raises(InputError, match="allows 1 refill and fill 1 was the last of them"):
        desk.refill("600123-1")
    with pytest.raises(InputError, match="fill 1 is already in the ledger"):
        desk.refill("600123-0")


def test_an_entry_that_does_not_read_is_not_queued(desk: Desk) -> None:
    entry_id, checked = desk.enter({**CELLS, "patient.date_of_birth": "1978-02-30"}, TECH)
    assert entry_id is None and not checked.ok
    assert checked.problems["patient.date_of_birth"] == [
        "expected a date YYYY-MM-DD, got '1978-02-30', which is not a day of the calendar"]
    assert desk.queue.listed("waiting") == []


def test_the_live_check_shows_the_bud_before_the_fill_is_whole() -> None:
    session = Session(Settings())
    partial = {name: "" for name in form.NAMES}
    partial.update({"product": FILL["product"], "compounding.compounded_on": "2026-11-20",
                    "compounding.component_expirations": "2027-03-31; 2027-01"})
    checked = form.check(session, partial, form.PREVIEW_INITIALS, "the form")
    assert checked.bud is not None and checked.bud.date == dt.date(2027, 1, 31)
    assert checked.rendered is None
    assert checked.problems["patient.name"] == ["required field is missing"]
    assert "patient.large_print" not in checked.problems         # optional


def test_an_edited_product_shows_in_the_next_preview(desk: Desk) -> None:
    """The counter keeps a warm session, but not a stale one: a product edited while it runs is
    read again, as the next `leaflets render` would read it."""
    before = desk.check(dict(CELLS), KIM.initials, "the form")
    assert before.rendered is not None
    product = desk.settings.catalog / "anastrozole-1mg.yaml"
    text = product.read_text()
    product.write_text(text.replace('name: "Anastrozole 1mg"', 'name: "Anastrozole 1 mg caps"'))
    after = desk.check(dict(CELLS), KIM.initials, "the form")
    assert after.rendered is not None
    assert after.rendered.files["label.pdf"] != before.rendered.files["label.pdf"]
    assert after.rendered.record["made_with"]["inputs"]["product"]["sha256"] != \
        before.rendered.record["made_with"]["inputs"]["product"]["sha256"]


def test_directions_as_written_need_the_approving_pharmacist(desk: Desk) -> None:
    """A sig the grammar refuses is not queued; asked to print as written, it is, and the
    pharmacist who approves the entry approves the wording: their initials are its approver's.
    An error-prone abbreviation is refused even so (safety rule 2)."""
    words = "Take one capsule by mouth on alternate days after breakfast, then stop"
    refused, checked = desk.enter({**CELLS, "directions": words}, TECH)
    assert refused is None and "pharmacist may approve the text as written" in \
        checked.problems["directions"][0]
    entry_id, checked = desk.enter({**CELLS, "directions": words, form.VERBATIM: "true"}, TECH)
    assert entry_id is not None and checked.printed == words
    rendered = approve(desk, entry_id, KIM)
    assert rendered.record["fill"]["directions_verbatim"] == {"approved_by": "KL"}
    assert rendered.record["directions"]["printed"] == words
    # The refill asks for the approval again.
    assert desk.refill("600123-0")[form.VERBATIM] == "true"
    bad, checked = desk.enter({**CELLS, "directions": "take 1 cap qd on alternate days",
                               form.VERBATIM: "true"}, TECH)
    assert bad is None and "error-prone" in " ".join(checked.problems["directions"])


def test_the_form_offers_approval_as_written_only_for_a_refused_sig() -> None:
    pages = Pages(dt.timedelta(minutes=15))
    session = Session(Settings())
    for words, offered in (("1 cap po qd", False), ("Take 1 capsule by mouth on alternate days",
                                                    True),
                           ("1 cap po on alternate days", False)):   # 'po' is refused anyway
        cells = {**CELLS, "directions": words}
        checked = form.check(session, cells, form.PREVIEW_INITIALS, "the form")
        html = pages.render("_live.html.j2", fields=form.FIELDS, cells=cells, oob=True,
                            problems={}, checked=checked, previews=[])
        assert ('name="verbatim"' in html) is offered, words


def test_a_flood_of_sign_in_pages_signs_no_one_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from leaflets.counter import sessions as module
    monkeypatch.setattr(module, "MAX_SESSIONS", 50)
    sessions = Sessions()
    staff = sessions.sign_in(sessions.start(), TECH)
    for _ in range(500):
        sessions.start()
    assert sessions.find(staff.token)[0] is staff


def test_times_show_in_the_counters_time_zone() -> None:
    from leaflets.counter.pages import local_time
    pacific = dt.timezone(dt.timedelta(hours=-8), "PST")
    assert local_time("2026-11-28T12:39:30.430Z", pacific) == "2026-11-28 04:39 PST"
    assert local_time("2026-11-28T00:05:00Z", pacific) == "2026-11-27 16:05 PST"
    for other in ("not a time", "2026-11-28", 3, None):
        assert local_time(other, pacific) == other
