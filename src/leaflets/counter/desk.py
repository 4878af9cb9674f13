"""What the counter does, as library calls, the same ones the CLI makes: reading a fill
(counter.form, as a CSV row), rendering and publishing it with its ledger row
(pipeline.Session.prepare, record.stage.publish: `leaflets render`), printing
(printing.send.print_target: `leaflets print`), reprinting (record.reprint: `leaflets
reprint`), and reading the ledger (`leaflets history`, `leaflets recall`).

Every call runs on the desk's one thread (counter.app hands them over): the pipeline's session
caches, the ledger's and the queue's SQLite connections are used from that thread only, and
two approvals cannot interleave."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..load import Row, iter_batch, product_slugs, row_cells, validate_row
from ..models import Pharmacy
from ..pipeline import RenderedFill, Session, Settings
from ..printing import PrintError
from ..printing.documents import fill_target
from ..printing.send import Job, Request, check_queues, print_target
from ..record.ledger import Ledger, json_column, open_ledger
from ..record.location import find_ledger
from ..record.reprint import Reprinted, kept_fill, reprint, split_key
from ..record.stage import now, publish
from ..record.table import per_fill
from . import form
from .queue import Entry, Queue, queue_path
from .users import User


@dataclass(frozen=True)
class Choice:
    value: str
    text: str


class Desk:
    def __init__(self, settings: Settings, out: Path) -> None:
        self.out = out
        self.ledger_path = find_ledger(settings.ledger, settings.pharmacy, out)
        self.settings = dataclasses.replace(settings, ledger=self.ledger_path)
        self._session = Session(self.settings)
        self._seen = self._inputs()
        self._ledger: Ledger | None = None
        self._queue: Queue | None = None

    # ---- the pharmacy's files, read again when they change -----------------------------------
    def _inputs(self) -> tuple[tuple[str, int, int], ...]:
        """Each input file a session keeps, with its size and modification time: the catalog's
        products, the pharmacy profile and the warnings catalog."""
        paths = [self.settings.pharmacy, self.settings.warning_catalog]
        if self.settings.catalog.is_dir():
            paths += sorted(self.settings.catalog.iterdir())
        found = []
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                found.append((str(path), -1, -1))
                continue
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    @property
    def session(self) -> Session:
        """The warm session (products, stocks, leaflet bodies kept), made again when a product,
        the profile or the warnings catalog has changed: a pharmacist's edit shows in the next
        preview and prints with the next approval, as the next `leaflets render` would."""
        seen = self._inputs()
        if seen != self._seen:
            self._session = Session(self.settings)
            self._seen = seen
        return self._session

    @property
    def pharmacy(self) -> Pharmacy:
        """The profile as the session read it (printers, the monograph URL)."""
        return self.session.pharmacy.model

    # ---- the files beside the ledger, opened on the desk's thread -----------------------------
    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = open_ledger(self.ledger_path)
        return self._ledger

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(queue_path(self.ledger_path))
        return self._queue

    # ---- the form ---------------------------------------------------------------------------
    def products(self) -> list[Choice]:
        """The catalog, as the product picker lists it: name, strength, form."""
        found, session = [], self.session
        for slug in product_slugs(self.settings.catalog):
            try:
                p = session.product(slug).model
            except InputError:
                continue                  # a broken product file: `leaflets products` says why
            found.append(Choice(slug, f"{p.name} · {p.strength} · "
                                      f"{p.form_description or p.dosage_form.value}"))
        return sorted(found, key=lambda c: c.text.lower())

    def check(self, cells: dict[str, str], initials: str, entry_id: int | None = None
              ) -> form.Checked:
        """The form as the CLI reads it (form.check), and whether its Rx and fill number are
        taken already (by the ledger, or by an entry other than `entry_id`)."""
        checked = form.check(self.session, cells, initials, "the form")
        again = self.duplicate(cells.get("rx_number", ""), cells.get("fill_number", ""),
                               entry_id)
        if again:
            checked.problems.setdefault("rx_number", []).append(again)
        return checked

    def enter(self, cells: dict[str, str], user: User, entry_id: int | None = None
              ) -> tuple[int | None, form.Checked]:
        """A technician's (or pharmacist's) entry: queued only when it reads and renders."""
        checked = self.check(cells, form.PREVIEW_INITIALS, entry_id)
        if not checked.ok:
            return None, checked
        if entry_id is None:
            return self.queue.add(cells, user.name, now()), checked
        self.queue.resubmit(entry_id, cells, user.name, now())
        return entry_id, checked

    def duplicate(self, rx: str, number: str, entry_id: int | None = None) -> str | None:
        """Why a fill may not be entered or approved again: its Rx and fill number are in the
        ledger already, or wait in the queue as another entry. (A fill is printed again by a
        reprint, with a reason; a wrong one is corrected, with a reason, by `leaflets render
        --correct`: neither by entering it twice.)"""
        rx, number = rx.strip(), number.strip()
        if not rx or not number:
            return None
        key = f"{rx}-{number}"
        if number.isdigit() and self.ledger.last_render(rx, int(number)) is not None:
            return (f"Rx {key} is in the ledger already: print it again from its page (a "
                    "reprint), or start the next refill there")
        other = self.queue.holding(rx, number, entry_id)
        return None if other is None else f"Rx {key} is already in the queue as entry {other}"

    def read_upload(self, path: Path, shown: str) -> tuple[list[Row], list[Problem]]:
        """A day's file as `leaflets batch` reads it: its rows, or why it cannot be read (its
        messages name the file as it was uploaded, `shown`)."""
        problems: list[Problem] = []
        rows = list(iter_batch([path], problems))
        return rows, [_named(p, path, shown) for p in problems]

    def enter_row(self, row: Row, user: User, path: Path, shown: str
                  ) -> tuple[tuple[int, str] | None, list[Problem]]:
        """One fill of an uploaded file, entered as the form enters one: queued if it reads
        and renders (its pharmacist set at approval; its entry and RX-FILL are returned), else
        its problems at its line."""
        try:
            if isinstance(row.data, dict):      # the approver's initials, at approval
                data = {**row.data, "pharmacist": form.PREVIEW_INITIALS}
                if isinstance(data.get("directions_verbatim"), dict):
                    data["directions_verbatim"] = {"approved_by": form.PREVIEW_INITIALS}
                row = dataclasses.replace(row, data=data)
            loaded = validate_row(row)
            self.session.prepare(loaded)
        except form.REFUSALS as err:
            return None, [_named(p, path, shown) for p in form.problems_of(err)]
        fill = loaded.model
        again = self.duplicate(fill.rx_number, str(fill.fill_number))
        if again:
            return None, [Problem(shown, row.source.first_line, "rx_number", again)]
        cells = _cells_of_fill(fill.model_dump(mode="json"))
        return (self.queue.add(cells, user.name, now()), fill.key), []

    # ---- verification -----------------------------------------------------------------------
    def approve(self, entry_id: int, revision: int, pharmacist: User) -> RenderedFill:
        """The two-person check: a pharmacist who did not type into the entry approves the
        revision they saw. The entry as claimed is rendered with their initials and published
        with its ledger row (their name as its user; who typed it in its detail), exactly as
        `leaflets render` does."""
        if pharmacist.role != "pharmacist":
            raise InputError.one(f"entry {entry_id}", "", "only a pharmacist approves a fill")
        entry = self.queue.claim(entry_id, revision, pharmacist.name, now())
        try:
            if pharmacist.name in entry.hands:
                raise InputError.one(f"entry {entry.id}", "", (
                    "you entered or edited this fill: another pharmacist approves it (the "
                    "two-person check)"))
            again = self.duplicate(entry.cells.get("rx_number", ""),
                                   entry.cells.get("fill_number", ""), entry.id)
            if again:
                raise InputError.one(f"entry {entry.id}", "rx_number", again)
            loaded = form.read(entry.cells, pharmacist.initials, _where(entry))
            rendered = self.session.prepare(loaded)
            settings = dataclasses.replace(self.settings, user=pharmacist.name)
            publish(rendered, self.out, settings, checked={
                "entered_by": entry.entered_by, "entered_at": entry.entered_at,
                "hands": list(entry.hands), "entry": entry.id, "revision": entry.revision,
                "approved_by": pharmacist.name})
        except BaseException:
            self.queue.release(entry.id)
            raise
        self.queue.approved(entry.id, rendered.key)
        return rendered

    def reconcile(self) -> None:
        """At start: an entry left "being approved" (the server stopped between the claim and
        the queue's update) is approved if the ledger has its render row, else waits again."""
        for entry in self.queue.listed("approving"):
            rx, number = entry.cells.get("rx_number", ""), entry.cells.get("fill_number", "")
            row = self.ledger.last_render(rx, int(number)) if number.isdigit() else None
            checked = json_column(self.ledger, row).get("checked") if row is not None else None
            if isinstance(checked, dict) and checked.get("entry") == entry.id:
                self.queue.approved(entry.id, f"{rx}-{int(number)}")
            else:
                self.queue.release(entry.id)

    # ---- printing and after -----------------------------------------------------------------
    def request(self, target: str, user: User) -> Request:
        """What `leaflets print` is asked, with the profile's queues (the counter has no
        options to name others: a missing one is a message for whoever sets it up)."""
        printers = self.pharmacy.printers
        for queue, what, key in ((printers.labels, "label", "labels"),
                                 (printers.documents, "document", "documents")):
            if not queue:
                raise PrintError(f"no {what} printer is set up for the counter: the pharmacy "
                                 f"profile's printers.{key} names its CUPS queue; nothing "
                                 "printed")
        return Request(target, self.out, printers.labels, printers.documents,
                       dpi=printers.label_dpi, user=user.name, at=now)

    def print_fill(self, key: str, user: User) -> list[Job]:
        """A fill (RX-FILL): its label and leaflet. (`leaflets print` also takes a batch or a
        reprint's folder; the counter prints fills, and reprints through reprint.)"""
        split_key(key)
        return print_target(self.request(key, user), self.ledger)

    def reprint(self, key: str, reason: str, user: User) -> tuple[Reprinted, list[Job]]:
        request = self.request(key, user)
        check_queues(request)             # a reprint that cannot print is not made
        settings = dataclasses.replace(self.settings, user=user.name)
        done = reprint(self.ledger, key, reason, settings, self.out)
        jobs = print_target(dataclasses.replace(request, target=done.directory.name),
                            self.ledger)
        return done, jobs

    def fill_rows(self, key: str) -> list[dict[str, Any]]:
        """A fill's ledger rows (RX-FILL): its renders, prints and reprints."""
        rx, number = split_key(key)
        rows = [r for r in self.ledger.history(rx) if r["fill_number"] == number]
        if not rows:
            raise InputError.one(key, "", "not in the ledger")
        return rows

    def document(self, key: str, name: str) -> bytes:
        """A fill's published label.pdf or leaflet.pdf, checked against its record and the
        ledger as `leaflets print` checks what it sends."""
        for document in fill_target(self.out, key, self.ledger).documents:
            if document.name == name:
                return document.data
        raise InputError.one(key, "", f"no {name}")

    def history(self, rx: str) -> list[dict[str, Any]]:
        return self.ledger.history(rx)

    def recall(self, lot: str) -> list[dict[str, Any]]:
        return per_fill(self.ledger.recall(lot))

    def refill(self, key: str) -> dict[str, str]:
        """A new entry from the last fill of an Rx: its fields as they were read, the next fill
        number, and the dates and lot left empty (today's, and the shelf's); no refills left
        is an error."""
        rx, number = split_key(key)
        row = self.ledger.last_render(rx, number)
        if row is None:
            raise InputError.one(key, "", f"Rx {rx} fill {number} is not in the ledger")
        last = kept_fill(self.ledger, row, key)[0].model
        if last.refills_left <= 0:
            raise InputError.one(key, "refills", (
                f"Rx {rx} allows {last.refills} refill{'' if last.refills == 1 else 's'} and "
                f"fill {number} was the last of them: a new prescription is needed"))
        later = self.ledger.last_render(rx, number + 1)
        if later is not None:
            raise InputError.one(key, "fill_number", (
                f"Rx {rx} fill {number + 1} is already in the ledger: refill from it"))
        cells = _cells_of_fill(last.model_dump(mode="json"))
        cells.update({"fill_number": str(number + 1), "fill_date": "", "compounding.lot": "",
                      "compounding.compounded_on": "", "compounding.component_expirations": ""})
        return cells


def _named(problem: Problem, path: Path, shown: str) -> Problem:
    """A problem of an uploaded file, naming it as uploaded rather than where it was kept."""
    file = shown if problem.file == str(path) else problem.file
    return dataclasses.replace(problem, file=file)


def _where(entry: Entry) -> str:
    return f"counter entry {entry.id}"


def _cells_of_fill(fill: dict[str, Any]) -> dict[str, str]:
    """A fill as the record keeps it back into form cells. Directions a pharmacist approved as
    written ask for approval again: whoever approves this entry does."""
    cells = {name: value for name, value in row_cells(fill).items() if name in form.NAMES}
    cells[form.VERBATIM] = "true" if fill.get("directions_verbatim") else ""
    return cells
