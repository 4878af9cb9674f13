"""The counter as staff use it: a real `leaflets serve` (uvicorn, started here) over a project of
its own, a real Chromium driven by Playwright (Debian's), a real CUPS with cups-pdf queues
(tests/printers.py). A technician signs in and types a fill from the keyboard alone; a
pharmacist in a second browser approves and prints it; the PDF downloaded from the page is the
one `leaflets render` makes of the same fill. Then what must be refused is: a form without its
CSRF token, a technician approving, one person entering and approving, a locked account, an
idle session. The module ends reading the server's log and every URL and title the browsers
saw, for patient data."""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import expect

from . import serving
from .browser import launch, need_browser, serious_violations
from .conftest import ROOT

sys.path.insert(0, str(Path(__file__).parent))
from printers import Cups, pdf_printers

FILL = yaml.safe_load((ROOT / "examples" / "fill.yaml").read_text())
KEY = f"{FILL['rx_number']}-{FILL['fill_number']}"
PASSWORDS = {"tina": "tina-technician-pass", "kim": "kim-pharmacist-pass",
             "pat": "pat-pharmacist-pass", "lou": "lou-technician-pass",
             "ada": "ada-administrator-pass"}
ROLES = {"tina": ("technician", "TT"), "kim": ("pharmacist", "KL"), "pat": ("pharmacist", "PB"),
         "lou": ("technician", "LM"), "ada": ("admin", "AD")}
# What the technician types, field by field, in the form's tab order (the product is chosen by
# typing its name into the focused picker). The fill is the bundled example's.
TYPED = [
    ("rx_number", FILL["rx_number"]), ("fill_number", "0"), ("fill_date", "2026-11-24"),
    ("patient.name", FILL["patient"]["name"]), ("patient.date_of_birth", "1978-03-14"),
    ("patient.language", ""), ("patient.large_print", ""),
    ("prescriber.name", FILL["prescriber"]["name"]), ("prescriber.npi", FILL["prescriber"]["npi"]),
    ("directions", FILL["directions"]), ("indication", FILL["indication"]),
    ("quantity", "30"), ("days_supply", "30"), ("refills", "2"),
    ("compounding.lot", FILL["compounding"]["lot"]),
    ("compounding.compounded_on", "2026-11-20"),
    ("compounding.component_expirations", "2027-03-31"),
]
PATIENT_DATA = [FILL["patient"]["name"], "Rivera", "Jordan", "1978-03-14", "1978-02-30",
                FILL["prescriber"]["npi"], "Natarajan"]


@dataclass
class Counter:
    root: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes]
    urls: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _leaflets(root: Path, *args: str, env: dict[str, str] | None = None,
              stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaflets.cli", *args], cwd=root, input=stdin,
                          capture_output=True, text=True, timeout=300, check=False, env=env)


def make_project(root: Path, printers: bool) -> None:
    for name in ("products", "examples"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "warnings.yaml", root)
    profile = (ROOT / "pharmacy.yaml").read_text()
    if printers:
        profile += "printers: {labels: labels, documents: documents}\n"
    (root / "pharmacy.yaml").write_text(profile)
    for name, (role, initials) in ROLES.items():
        done = _leaflets(root, "users", "add", name, "--role", role, "--initials", initials,
                         "--password", PASSWORDS[name])
        assert done.returncode == 0, done.stderr


def start(root: Path, env: dict[str, str], *args: str) -> Counter:
    served = serving.start(root, root / f"server-{serving.free_port()}.log", *args, env=env)
    return Counter(root, served.port, served.log, served.process)


def stop(counter: Counter) -> None:
    counter.process.terminate()
    counter.process.wait(timeout=30)


@pytest.fixture(scope="module")
def cups() -> Iterator[Cups]:
    with pdf_printers() as server:
        yield server


@pytest.fixture(scope="module")
def counter(cups: Cups, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter]:
    need_browser()
    root = tmp_path_factory.mktemp("pharmacy")
    make_project(root, printers=True)
    running = start(root, cups.env)
    yield running
    stop(running)


@pytest.fixture(scope="module")
def browser(counter: Counter) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def person(browser: Any, counter: Counter) -> Any:
    """A browser context of its own (its own cookies: one person at one screen) that notes
    every URL it asks for and every page title it shows. axe is added to pages by the tests,
    so the context lets the tests add a script (bypass_csp); the pages' own scripts are
    checked against the policy by test_the_policy_holds_in_the_page."""
    context = browser.new_context(bypass_csp=True, accept_downloads=True)
    context.on("request", lambda request: counter.urls.append(request.url))
    page = context.new_page()
    page.on("load", lambda loaded: counter.titles.append(loaded.title()))
    return page


def sign_in(page: Any, counter: Counter, name: str, password: str | None = None) -> None:
    """From the keyboard: the name field has the focus; Tab to the password; Enter."""
    page.goto(f"{counter.url}/sign-in")
    expect(page.locator("#name")).to_be_focused()        # autofocus, before a key is typed
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(password or PASSWORDS[name])
    with page.expect_navigation():
        page.keyboard.press("Enter")


def message(page: Any, name: str) -> str:
    text: str = page.locator(f"#msg-{name.replace('.', '-').replace('_', '-')}").inner_text()
    return text


def post(page: Any, path: str, data: dict[str, str]) -> tuple[int, str]:
    """A form POST from inside the page (same origin, the session's cookie), as a forged or
    replayed form would come."""
    found: dict[str, Any] = page.evaluate("""async ([path, data]) => {
        const response = await fetch(path, {method: 'POST', body: new URLSearchParams(data)});
        return {status: response.status, text: await response.text()};
    }""", [path, data])
    return found["status"], html.unescape(found["text"])


def csrf(page: Any) -> str:
    token: str = page.locator("input[name=csrf]").first.get_attribute("value")
    return token


def type_fill(page: Any, counter: Counter) -> None:
    """The technician's keyboard: the product picker has the focus on /enter."""
    page.goto(f"{counter.url}/enter")
    expect(page.locator("#f-product")).to_be_focused()
    page.keyboard.type("Anastrozole 1mg")       # the picker finds it as it is typed
    for name, text in TYPED:
        page.keyboard.press("Tab")
        if name == "patient.date_of_birth":
            # A day that is not in the calendar is refused at its field, in the CLI's words.
            page.keyboard.type("1978-02-30")
            page.wait_for_function("document.querySelector('#msg-patient-date-of-birth')"
                                   ".innerText.includes('not a day of the calendar')")
            assert message(page, name) == (
                "patient.date_of_birth: expected a date YYYY-MM-DD, got '1978-02-30', which is "
                "not a day of the calendar")
            page.keyboard.press("Control+A")
        if name == "directions":
            # The reading follows the typing: first a dose and a route, then the frequency.
            page.keyboard.type("1 cap po")
            page.wait_for_function("document.querySelector('#reading').innerText"
                                   ".includes('by mouth')")
            assert "once a day" not in page.locator("#reading").inner_text()
            page.keyboard.type(" qd")
            page.wait_for_function("document.querySelector('#reading').innerText"
                                   ".includes('Prints as')")
            continue
        page.keyboard.type(text)


# ---- the day's work --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def day(counter: Counter, browser: Any, cups: Cups) -> dict[str, Any]:
    """A technician enters the example fill; a pharmacist approves and prints it."""
    tech = person(browser, counter)
    sign_in(tech, counter, "tina")
    assert tech.url == f"{counter.url}/enter"
    type_fill(tech, counter)
    assert message(tech, "patient.date_of_birth") == ""
    reading = tech.locator("#reading").inner_text()
    cli = _leaflets(ROOT, "sig", FILL["directions"], "--product", FILL["product"])
    assert cli.returncode == 0 and f"Prints as: {cli.stdout.strip()}" in reading, reading
    tech.wait_for_function("document.querySelector('#bud').innerText.includes('Beyond-use')")
    bud = json.loads(_leaflets(ROOT, "bud", FILL["product"], "--compounded", "2026-11-20",
                               "--component-expiry", "2027-03-31", "--json").stdout)
    assert tech.locator("#bud").inner_text() == (
        f"Beyond-use date {bud['bud']}: {bud['reason']}.")
    tech.wait_for_selector("#live img[alt^='Label']")
    # Every label page (the example's warnings go on a second label) and the leaflet's first.
    assert [i.get_attribute("alt") for i in tech.locator("#live img").all()] == [
        "Label 1 of 2 as it will print", "Label 2 of 2 as it will print",
        "Leaflet, page 1 as it will print"]
    label_preview = tech.locator("#live img[alt^='Label']").first
    assert tech.evaluate("(img) => img.complete && img.naturalWidth", label_preview
                         .element_handle()) == 4 * 192
    found = {"tech_entry_violations": serious_violations(tech)}
    tech.keyboard.press("Enter")                    # submits the form from its last field
    tech.wait_for_url(re.compile(r"/entries/\d+$"))
    entry = tech.url.rsplit("/", 1)[1]
    found.update(entry=entry, tech=tech)
    # The technician's entry page offers no approval, and a forged one is refused.
    assert tech.locator("form[action$='/approve']").count() == 0
    found["tech_approves"] = post(tech, f"/entries/{entry}/approve", {"csrf": csrf(tech)})

    pharmacist = person(browser, counter)
    sign_in(pharmacist, counter, "kim")
    assert pharmacist.url == f"{counter.url}/queue"
    found["queue_violations"] = serious_violations(pharmacist)
    pharmacist.get_by_role("link", name=f"Entry {entry}").click()
    pharmacist.wait_for_selector("img[alt^='Label 1']")
    found["entry_violations"] = serious_violations(pharmacist)
    pharmacist.get_by_role("button", name=re.compile("^Approve")).click()
    pharmacist.wait_for_load_state()
    assert "approved" in pharmacist.locator("main").inner_text()
    pharmacist.get_by_role("link", name=re.compile(f"Rx {KEY}")).click()
    found["fill_violations"] = serious_violations(pharmacist)
    with pharmacist.expect_download() as label_download:
        pharmacist.get_by_role("link", name=re.compile("Download the label")).click()
    with pharmacist.expect_download() as leaflet_download:
        pharmacist.get_by_role("link", name=re.compile("Download the leaflet")).click()
    found["label"] = Path(label_download.value.path()).read_bytes()
    found["leaflet"] = Path(leaflet_download.value.path()).read_bytes()
    pharmacist.get_by_role("button", name=re.compile("^Print")).click()
    pharmacist.wait_for_load_state()
    found["printed"] = pharmacist.locator("main").inner_text()
    found["printed_violations"] = serious_violations(pharmacist)
    found["pharmacist"] = pharmacist
    return found


def test_the_technician_sees_the_fill_read_as_typed(day: dict[str, Any]) -> None:
    assert day["tech_entry_violations"] == []


def test_a_technician_cannot_approve(day: dict[str, Any]) -> None:
    status, text = day["tech_approves"]
    assert status == 403 and "A technician cannot do this: it needs a pharmacist." in text


def test_the_pages_pass_axe(day: dict[str, Any]) -> None:
    for name in ("queue_violations", "entry_violations", "fill_violations",
                 "printed_violations"):
        assert day[name] == [], name


def test_the_page_gives_the_clis_bytes(day: dict[str, Any], counter: Counter,
                                       tmp_path: Path) -> None:
    """The fill as a YAML file, written here from what was typed (and the approving
    pharmacist's initials), rendered by `leaflets render`: the same label and leaflet bytes."""
    fill = dict(FILL, pharmacist="KL")
    (tmp_path / "fill.yaml").write_text(yaml.safe_dump(fill))
    done = _leaflets(counter.root, "render", str(tmp_path / "fill.yaml"), "--out",
                     str(tmp_path / "out"), "--ledger", str(tmp_path / "ledger.sqlite"))
    assert done.returncode == 0, done.stderr
    assert day["label"] == (tmp_path / "out" / KEY / "label.pdf").read_bytes()
    assert day["leaflet"] == (tmp_path / "out" / KEY / "leaflet.pdf").read_bytes()
    assert day["label"] == (counter.root / "out" / KEY / "label.pdf").read_bytes()


def test_the_approved_fill_printed_to_the_test_queues(day: dict[str, Any], cups: Cups,
                                                      counter: Counter) -> None:
    jobs = dict(re.findall(r"^(\S+) \(pdf\) → \S+: job (\S+),", day["printed"], re.M))
    assert set(jobs) == {"label.pdf", "leaflet.pdf"}, day["printed"]
    cups.wait_completed("labels", jobs["label.pdf"])
    assert cups.output_of(jobs["label.pdf"]).stat().st_size > 0
    with sqlite3.connect(counter.root / "ledger.sqlite") as db:
        rows = db.execute("SELECT kind, user FROM events WHERE rx_number = ? ORDER BY id",
                          (FILL["rx_number"],)).fetchall()
    assert rows == [("render", "kim"), ("print", "kim"), ("print", "kim")]
    # The fill's page shows the two-person check from the ledger.
    kim = day["pharmacist"]
    kim.goto(f"{counter.url}/fills/{KEY}")
    assert f"entered by tina (counter entry {day['entry']})" in kim.locator("table").inner_text()


# ---- the pages under their own policy ------------------------------------------------------


def test_the_policy_holds_in_the_page(counter: Counter, browser: Any) -> None:
    """Without the tests' bypass: htmx and the counter's script run under the strict policy (no
    inline script, no eval, no inline style), and the browser reports no violation of it."""
    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda line: console.append(line.text))
    page.on("pageerror", lambda error: console.append(str(error)))
    sign_in(page, counter, "lou")
    expect(page.locator("#f-product")).to_be_focused()
    page.keyboard.type("Anastrozole 1mg")
    page.locator("#f-directions").fill("1 cap po qd")
    # expect(), never wait_for_function: that evaluates a string, which the policy forbids
    expect(page.locator("#reading")).to_contain_text("Prints as")
    page.locator("#f-prescriber-npi").fill("1234567890")
    page.locator("#f-prescriber-npi").press("Tab")            # checked as the field is left
    expect(page.locator("#msg-prescriber-npi")).to_contain_text("prescriber.npi: ")
    policy = [line for line in console if "Content Security Policy" in line or "CSP" in line]
    assert policy == [] and not [line for line in console if "rror" in line], console
    context.close()


# ---- what is refused -------------------------------------------------------------------------


def test_a_form_without_its_token_is_refused(counter: Counter, browser: Any) -> None:
    page = person(browser, counter)
    sign_in(page, counter, "lou")
    page.goto(f"{counter.url}/enter")
    cells = {name: text for name, text in TYPED}
    for data in (cells, {**cells, "csrf": "not-the-token"}, {**cells, "csrf": ""}):
        status, text = post(page, "/enter", data)
        assert status == 403 and "did not carry this session's security token" in text
    # Nothing was queued; the same form with the session's token is.
    status, text = post(page, "/enter/check", {**cells, "csrf": csrf(page)})
    assert status == 200 and "patient.name" not in text
    # Nor is signing in without the sign-in form's token.
    fresh = person(browser, counter)
    fresh.goto(f"{counter.url}/sign-in")
    status, text = post(fresh, "/sign-in", {"name": "kim", "password": PASSWORDS["kim"]})
    assert status == 403 and "The sign-in form had expired" in text
    fresh.goto(f"{counter.url}/queue")
    assert fresh.url == f"{counter.url}/sign-in"


def test_one_person_cannot_enter_and_approve(day: dict[str, Any], counter: Counter,
                                            browser: Any) -> None:
    pat = person(browser, counter)
    sign_in(pat, counter, "pat")
    pat.goto(f"{counter.url}/enter")
    for name, text in TYPED:
        if text:
            pat.locator(f"#f-{name.replace('.', '-').replace('_', '-')}").fill(text)
    pat.locator("#f-product").select_option(FILL["product"])
    pat.locator("#f-rx-number").fill("600900")          # an Rx of its own (not in day.csv)
    with pat.expect_navigation():
        pat.get_by_role("button", name=re.compile("^Send")).click()
    entry = pat.url.rsplit("/", 1)[1]
    assert "You entered or edited this fill: another pharmacist approves it" in \
        pat.locator("main").inner_text()
    assert pat.locator("form[action$='/approve']").count() == 0
    status, text = post(pat, f"/entries/{entry}/approve", {"csrf": csrf(pat), "revision": "1"})
    assert status == 409 and "you entered or edited this fill: another pharmacist approves" in text
    # kim returns it with a reason; pat corrects it and sends it again; kim approves it.
    kim = day["pharmacist"]
    kim.goto(f"{counter.url}/entries/{entry}")
    kim.locator("#reason").fill("check the quantity")
    with kim.expect_navigation():
        kim.get_by_role("button", name="Return").click()
    pat.goto(f"{counter.url}/queue")
    assert "check the quantity" in pat.locator("main").inner_text()
    pat.get_by_role("link", name=f"Entry {entry}").click()
    assert pat.locator("#f-quantity").input_value() == "30"
    pat.locator("#f-quantity").fill("28")
    with pat.expect_navigation():
        pat.get_by_role("button", name=re.compile("^Send")).click()
    kim.goto(f"{counter.url}/entries/{entry}")
    with kim.expect_navigation():
        kim.get_by_role("button", name=re.compile("^Approve")).click()
    assert "Status: approved" in kim.locator("main").inner_text()
    with sqlite3.connect(counter.root / "ledger.sqlite") as db:
        row = db.execute("SELECT user, detail FROM events WHERE rx_number = '600900'").fetchone()
    assert row[0] == "kim" and json.loads(row[1])["fill"]["quantity"] == "28"


def test_a_locked_account_stays_locked(counter: Counter, browser: Any) -> None:
    page = person(browser, counter)
    for _ in range(5):
        sign_in(page, counter, "lou", "not-lous-password")
    assert "This account is locked" in page.locator("#sign-in-error").inner_text()
    sign_in(page, counter, "lou")                          # the right password, too soon
    assert page.url == f"{counter.url}/sign-in"
    assert "This account is locked" in page.locator("#sign-in-error").inner_text()
    assert serious_violations(page) == []


def test_an_idle_session_is_signed_out(cups: Cups, browser: Any,
                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    """A counter whose idle limit is 3 seconds: the server ends the session (a request after
    it lands on sign-in, saying why), and the page itself goes there without a click."""
    root = tmp_path_factory.mktemp("idle")
    make_project(root, printers=False)
    idle = start(root, cups.env, "--idle-minutes", "0.05")
    try:
        page = person(browser, idle)
        sign_in(page, idle, "tina")
        assert page.url == f"{idle.url}/enter"
        page.goto(f"{idle.url}/queue")                      # used: the clock starts again
        # Without the page's own timer: a request after the limit is signed out by the server.
        page.evaluate("() => { for (let i = setTimeout(() => 0, 0); i > 0; i--) clearTimeout(i) }")
        time.sleep(3.5)
        status, text = post(page, "/enter/check", {"csrf": csrf(page)})
        assert "You were signed out after 3 seconds without use" in text and status == 200
        page.goto(f"{idle.url}/queue")
        assert page.url == f"{idle.url}/sign-in"
        # With it: the page leaves by itself once the limit has passed.
        sign_in(page, idle, "tina")
        page.wait_for_url(f"{idle.url}/sign-in", timeout=15_000)
        assert "You were signed out after 3 seconds" in page.locator("main").inner_text()
    finally:
        stop(idle)


def test_an_admin_sees_no_patient_data(counter: Counter, browser: Any, day: dict[str, Any]
                                       ) -> None:
    page = person(browser, counter)
    sign_in(page, counter, "ada")
    assert "Signed in as an administrator" in page.locator("main").inner_text()
    assert page.locator("nav").count() == 0
    for path in ("/queue", f"/entries/{day['entry']}", f"/fills/{KEY}", f"/fills/{KEY}/label.pdf",
                 f"/find?rx={FILL['rx_number']}", "/recall?lot=GC-2611-0042", "/enter"):
        response = page.goto(f"{counter.url}{path}")
        assert response is not None and response.status == 403, path
        assert FILL["patient"]["name"] not in page.content()
    assert serious_violations(page) == []


def test_a_body_too_large_is_refused_before_it_is_read(counter: Counter, browser: Any) -> None:
    page = person(browser, counter)
    sign_in(page, counter, "tina")
    page.goto(f"{counter.url}/enter")
    status, _ = post(page, "/enter/check", {"csrf": csrf(page), "directions": "x" * 70_000})
    assert status == 413
    status, _ = post(page, "/sign-in", {"name": "tina", "password": "p" * 70_000})
    assert status == 413


# ---- after the fill: reprint, refill, find, recall --------------------------------------------


def test_reprint_refill_find_and_recall(day: dict[str, Any], counter: Counter,
                                        cups: Cups) -> None:
    kim = day["pharmacist"]
    kim.goto(f"{counter.url}/find")
    kim.keyboard.type(FILL["rx_number"])
    with kim.expect_navigation():
        kim.keyboard.press("Enter")
    assert kim.url == f"{counter.url}/find?rx={FILL['rx_number']}"
    assert serious_violations(kim) == []
    kim.get_by_role("link", name=f"Rx {KEY}").click()
    kim.locator("#reason").fill("label smudged")
    with kim.expect_navigation():
        kim.get_by_role("button", name="Reprint").click()
    assert f"Rx {KEY}: reprint 1 sent to print" in kim.locator("h1").inner_text()
    reprinted = (counter.root / "out" / "reprints" / f"{KEY}-r1" / "label.pdf").read_bytes()
    assert reprinted != day["label"]
    # The refill starts from the last fill: the next fill number, the lot and dates to fill in.
    kim.goto(f"{counter.url}/fills/{KEY}")
    kim.get_by_role("link", name="Start the next refill").click()
    assert kim.locator("#f-fill-number").input_value() == "1"
    assert kim.locator("#f-patient-name").input_value() == FILL["patient"]["name"]
    assert kim.locator("#f-compounding-lot").input_value() == ""
    # The recall lists the fill from its lot.
    kim.goto(f"{counter.url}/recall?lot={FILL['compounding']['lot']}")
    text = kim.locator("main").inner_text()
    assert FILL["patient"]["name"] in text and KEY in text
    assert serious_violations(kim) == []


def test_no_refill_past_the_refills_allowed(counter: Counter, day: dict[str, Any]) -> None:
    kim = day["pharmacist"]
    kim.goto(f"{counter.url}/fills/600123-2/refill")
    assert "not in the ledger" in kim.locator("main").inner_text()
    assert serious_violations(kim) == []                        # a message page


def test_a_submitted_form_shows_every_problem_at_its_field(counter: Counter, browser: Any
                                                           ) -> None:
    page = person(browser, counter)
    sign_in(page, counter, "tina")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Send")).click()
    assert "Not sent: correct the fields marked below." in page.locator("main").inner_text()
    assert message(page, "patient.name") == "patient.name: required field is missing"
    assert page.evaluate("document.activeElement.id") == "f-product"
    assert serious_violations(page) == []


def test_a_days_file_uploads_into_the_queue(counter: Counter, browser: Any,
                                          tmp_path: Path) -> None:
    """examples/day.csv with two bad rows appended: every good row joins the queue, each bad
    one is listed at its line in the CLI's words, and the page follows the progress."""
    day_csv = (ROOT / "examples" / "day.csv").read_text()
    good = len(day_csv.strip().splitlines()) - 1
    header = day_csv.splitlines()[0].split(",")
    first = next(csv.reader([day_csv.splitlines()[1]]))
    bad_date = dict(zip(header, first, strict=True), **{"patient.date_of_birth": "1978-02-30"})
    gone = dict(zip(header, first, strict=True), **{"compounding.component_expirations":
                                                    "2026-11-21"})
    with (tmp_path / "today.csv").open("w", newline="") as sink:
        sink.write(day_csv if day_csv.endswith("\n") else day_csv + "\n")
        writer = csv.DictWriter(sink, header)
        writer.writerow(bad_date)
        writer.writerow(gone)
    page = person(browser, counter)
    sign_in(page, counter, "tina")
    page.goto(f"{counter.url}/uploads")
    assert serious_violations(page) == []
    page.set_input_files("#file", tmp_path / "today.csv")
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    expect(page.locator("#progress")).to_contain_text("Done", timeout=120_000)
    text = page.locator("#progress").inner_text()
    assert f"{good} fills joined the verify queue; 2 problems." in text, text
    assert (f"today.csv:{good + 2}: patient.date_of_birth: expected a date YYYY-MM-DD, got "
            "'1978-02-30', which is not a day of the calendar") in text
    assert f"today.csv:{good + 3}: compounding.compounded_on: beyond-use date 2026-11-21" in text
    assert serious_violations(page) == []
    page.goto(f"{counter.url}/queue")
    assert page.locator("tbody tr").count() >= good


# ---- last: what the day left behind -----------------------------------------------------------


def test_no_patient_data_in_a_url_a_title_or_the_log(counter: Counter) -> None:
    """Run last in the module (pytest keeps file order): every URL the browsers asked for and
    every page title they showed, and the server's whole log, carry no patient data."""
    time.sleep(0.5)
    log = counter.log.read_text()
    assert "POST /entries/" in log and "approved by kim: Rx 600123-0" in log   # a day was logged
    for seen in (counter.urls, counter.titles, log.splitlines()):
        for text in seen:
            found = [datum for datum in PATIENT_DATA if datum.lower() in text.lower()]
            assert found == [], text


def test_the_vendored_htmx_is_the_npm_packages() -> None:
    """src/leaflets/counter/static/htmx.min.js is htmx.org's own file, at the version
    tests/js/package.json pins (scripts/check installs it with npm ci), with its licence."""
    package = ROOT / "tests" / "js" / "node_modules" / "htmx.org"
    if not package.is_dir():
        need_browser()                    # the same install: fails in CI, skips elsewhere
        pytest.skip("tests/js is not installed (bash scripts/check runs npm ci)")
    static = ROOT / "src" / "leaflets" / "counter" / "static"
    pinned = json.loads((ROOT / "tests" / "js" / "package.json").read_text())["dependencies"]
    assert json.loads((package / "package.json").read_text())["version"] == pinned["htmx.org"]
    assert (static / "htmx.min.js").read_bytes() == (package / "dist" / "htmx.min.js").read_bytes()
    assert (static / "htmx.LICENSE").read_bytes() == (package / "LICENSE").read_bytes()
