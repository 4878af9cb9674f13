"""Entered fills waiting for a pharmacist: the counter's work queue, in its own SQLite file
beside the ledger (counter.sqlite). The ledger records what was rendered and printed; this
file holds what is not yet a fill: the form as entered, who entered it, and a pharmacist's
return with its reason or approval.

An entry is waiting, returned (to its technician, with a reason; edited, it waits again),
being approved (claimed by one pharmacist: two cannot approve one entry) or approved (then
`fill` names the published fill, RX-FILL).

The two-person check needs two facts kept here: everyone who typed into the entry (`hands`:
whoever entered it and whoever edited it after a return; none of them may approve it), and its
revision (each edit adds one; an approval names the revision the pharmacist saw, so an entry
edited meanwhile is not approved unseen)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, LeafletsError

QUEUE_NAME = "counter.sqlite"

SCHEMA = """CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    cells TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'returned', 'approving', 'approved')),
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    checked_by TEXT,
    checked_at TEXT,
    reason TEXT,
    fill TEXT,
    hands TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1)"""


COLUMNS = ("id, cells, status, entered_by, entered_at, checked_by, checked_at, reason, fill, "
           "hands, revision")


class NoEntry(InputError):
    """No entry has that number."""


class QueueError(LeafletsError):
    """The counter's queue file cannot be read or written."""


@dataclass(frozen=True)
class Entry:
    id: int
    cells: dict[str, str]
    status: str
    entered_by: str
    entered_at: str
    checked_by: str | None
    checked_at: str | None
    reason: str | None
    fill: str | None
    hands: tuple[str, ...]
    revision: int

    @property
    def rx(self) -> str:
        return f"{self.cells.get('rx_number', '')}-{self.cells.get('fill_number', '')}"


def queue_path(ledger: Path) -> Path:
    return ledger.parent / QUEUE_NAME


class Queue:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)
        except sqlite3.Error as exc:
            raise QueueError(f"counter queue {path}: cannot open it: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise QueueError(f"counter queue {self.path}: {exc}") from None

    def add(self, cells: dict[str, str], user: str, at: str) -> int:
        cursor = self._run("INSERT INTO entries (cells, status, entered_by, entered_at, hands) "
                           "VALUES (?, 'waiting', ?, ?, ?)",
                           (json.dumps(cells), user, at, json.dumps([user])))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get(self, entry_id: int) -> Entry:
        row = self._run(f"SELECT {COLUMNS} FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise NoEntry.one(f"entry {entry_id}", "", "no such entry")
        return _entry(row)

    def listed(self, *statuses: str) -> list[Entry]:
        marks = ", ".join("?" * len(statuses))
        return [_entry(row) for row in self._run(
            f"SELECT {COLUMNS} FROM entries WHERE status IN ({marks}) ORDER BY id", statuses)]

    def holding(self, rx: str, number: str, other_than: int | None = None) -> int | None:
        """The entry not yet approved (waiting, returned or being approved) that holds this Rx
        and fill number, other than `other_than`."""
        row = self._run(
            "SELECT id FROM entries WHERE status IN ('waiting', 'returned', 'approving') "
            "AND trim(json_extract(cells, '$.rx_number')) = ? "
            "AND trim(json_extract(cells, '$.fill_number')) = ? AND id IS NOT ? "
            "ORDER BY id LIMIT 1", (rx, number, other_than)).fetchone()
        return None if row is None else int(row[0])

    def resubmit(self, entry_id: int, cells: dict[str, str], user: str, at: str) -> None:
        """A returned entry, edited, waits again as a new revision; whoever edited it joins
        its hands."""
        hands = list(self.get(entry_id).hands)
        self._change(entry_id, "returned", "status = 'waiting', cells = ?, hands = ?, "
                     "revision = revision + 1, checked_by = NULL, checked_at = NULL",
                     (json.dumps(cells), json.dumps(sorted({*hands, user}))))

    def give_back(self, entry_id: int, user: str, at: str, reason: str) -> None:
        self._change(entry_id, "waiting", "status = 'returned', checked_by = ?, checked_at = ?, "
                     "reason = ?", (user, at, reason))

    def claim(self, entry_id: int, revision: int, user: str, at: str) -> Entry:
        """One pharmacist takes a waiting entry, at the revision they saw, to approve it; a
        second at once, or an entry edited since, is refused. The entry as claimed."""
        cursor = self._run("UPDATE entries SET status = 'approving', checked_by = ?, "
                           "checked_at = ? WHERE id = ? AND status = 'waiting' AND revision = ?",
                           (user, at, entry_id, revision))
        if cursor.rowcount != 1:
            raise InputError.one(f"entry {entry_id}", "", (
                "it is no longer waiting as you saw it (someone else has just approved, "
                "returned or changed it); open it again"))
        return self.get(entry_id)

    def release(self, entry_id: int) -> None:
        """An approval that failed (the render was refused, the ledger could not be written):
        the entry waits again."""
        self._change(entry_id, "approving", "status = 'waiting', checked_by = NULL, "
                     "checked_at = NULL", ())

    def approved(self, entry_id: int, fill: str) -> None:
        self._change(entry_id, "approving", "status = 'approved', fill = ?", (fill,))

    def _change(self, entry_id: int, was: str, sets: str, args: tuple[Any, ...]) -> None:
        cursor = self._run(f"UPDATE entries SET {sets} WHERE id = ? AND status = ?",
                           (*args, entry_id, was))
        if cursor.rowcount != 1:
            raise InputError.one(f"entry {entry_id}", "", f"it is no longer {was} (someone else "
                                                          "has just acted on it); reload the queue")


def _entry(row: tuple[Any, ...]) -> Entry:
    (entry_id, cells, status, entered_by, entered_at, checked_by, checked_at, reason, fill,
     hands, revision) = row
    return Entry(entry_id, json.loads(cells), status, entered_by, entered_at, checked_by,
                 checked_at, reason, fill, tuple(json.loads(hands)), revision)
