"""The ledger: one SQLite file (standard library sqlite3, WAL), one append-only table of events,
each row hash-chained to the one before, so an edited, deleted or reordered row is found by
`verify` and named by its id.

Writers wait for each other (a busy timeout) instead of failing, and each append reads the
chain's head and writes the new row in one BEGIN IMMEDIATE transaction, so two processes
appending at once never fork the chain. The schema version is `PRAGMA user_version`; MIGRATIONS
takes any older ledger forward, one version at a time."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LeafletsError

GENESIS = "0" * 64
# How long a writer waits for another's lock before its append fails. LEAFLETS_LEDGER_BUSY_MS
# shortens it: a test makes a lock held by another process fail an append in a second.
_BUSY = os.environ.get("LEAFLETS_LEDGER_BUSY_MS", "")
BUSY_TIMEOUT_MS = int(_BUSY) if _BUSY.isdigit() else 60_000

# MIGRATIONS[n] takes a ledger from version n to n + 1; the schema version is len(MIGRATIONS).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (   # 1: the events table
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            rx_number TEXT NOT NULL,
            fill_number INTEGER NOT NULL,
            fill_date TEXT NOT NULL,
            patient_name TEXT NOT NULL,
            date_of_birth TEXT NOT NULL,
            product TEXT NOT NULL,
            lot TEXT NOT NULL,
            bud TEXT NOT NULL,
            directions TEXT NOT NULL,
            outputs TEXT NOT NULL,
            inputs TEXT NOT NULL,
            user TEXT NOT NULL,
            at TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE)""",
        "CREATE INDEX events_rx ON events (rx_number, fill_number)",
        "CREATE INDEX events_lot ON events (lot)",
        # Append-only in the database itself; the hash chain finds what is done around it.
        """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
        """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
    ),
    (   # 2: what an event adds to its fill, as a JSON object: a print's queue, job id, copies
        # and format; a correction's reason; a reprint's reason and count. Version 1 rows get
        # '{}', which the hash leaves out (canonical), so their chain still verifies.
        "ALTER TABLE events ADD COLUMN detail TEXT NOT NULL DEFAULT '{}'",
        "CREATE INDEX events_kind ON events (rx_number, fill_number, kind)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

# The columns an event gives (id, prev_hash and hash are the ledger's own). outputs and inputs
# are JSON objects of file name to SHA-256; detail is a JSON object, optional (default {}).
FIELDS = ("kind", "rx_number", "fill_number", "fill_date", "patient_name", "date_of_birth",
          "product", "lot", "bud", "directions", "outputs", "inputs", "user", "at")
JSON_FIELDS = ("outputs", "inputs", "detail")
NO_DETAIL = "{}"
COLUMNS = ("id", *FIELDS, "detail", "prev_hash", "hash")


class LedgerError(LeafletsError):
    """The ledger cannot be opened, migrated or written. The message names the file, never a
    patient."""


@dataclass(frozen=True)
class Broken:
    """The first row of a ledger that fails verification."""

    id: int
    reason: str


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash covers: its id and fields as sorted, compact JSON, and its detail
    unless empty (so rows written before schema version 2 hash as they did)."""
    body = {name: row[name] for name in ("id", *FIELDS)}
    if row.get("detail", NO_DETAIL) != NO_DETAIL:
        body["detail"] = row["detail"]
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(row)).hexdigest()


def _while_locked(step: Callable[[], None]) -> None:
    """Run a step of opening, again while the file is locked, up to the busy timeout: switching
    a new file to WAL takes an exclusive lock for which SQLite does not wait (its busy handler is
    not called there), so writers that open a new ledger at the same moment would otherwise
    fail at once (seen: four writers starting together)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) \
                    or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _row(event: Mapping[str, Any] | None) -> dict[str, Any]:
    """An event as the columns it is stored in (its JSON fields as compact, sorted JSON)."""
    if event is None:
        raise ValueError("no event to append")
    missing = [name for name in FIELDS if name not in event]
    if missing:
        raise ValueError(f"event lacks {', '.join(missing)}")
    row: dict[str, Any] = {name: event[name] for name in FIELDS}
    row["detail"] = event.get("detail") or NO_DETAIL
    for name in JSON_FIELDS:
        if not isinstance(row[name], str):
            row[name] = json.dumps(row[name], sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False)
    return row


def _fail(path: Path, what: str, exc: BaseException) -> LedgerError:
    return LedgerError(f"ledger {path}: cannot {what}: {exc}")


class Ledger:
    """An open ledger. Use as a context manager, or call close()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000,
                                       isolation_level=None)
        except sqlite3.Error as exc:
            raise _fail(path, "open it", exc) from None
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _while_locked(self._setup)
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            raise _fail(path, "open it", exc) from None

    def _setup(self) -> None:
        self._check_ours()             # before anything is written to the file
        mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"journal mode is {mode}, not wal")
        self._db.execute("PRAGMA synchronous = FULL")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, begun with the write lock held (other writers wait)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def version(self) -> int:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    def _tables(self) -> set[str]:
        return {r[0] for r in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}

    def _check_ours(self) -> None:
        """Refuse another program's database (tables but no version), one that says it is a
        ledger but has no events table, and one newer than this leaflets, unchanged."""
        if self._db.in_transaction:
            version, tables = self.version(), self._tables()
        else:                       # one snapshot: another process may be migrating the file
            self._db.execute("BEGIN")
            try:
                version, tables = self.version(), self._tables()
            finally:
                self._db.execute("COMMIT")
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"its schema version {version} is newer than this leaflets knows "
                f"({SCHEMA_VERSION}); upgrade leaflets")
        if version == 0 and tables:
            raise sqlite3.DatabaseError("it is not a leaflets ledger (its tables are another "
                                        "program's); name the ledger's own file")
        if version > 0 and "events" not in tables:
            raise sqlite3.DatabaseError("it has no events table: not a leaflets ledger")

    def _migrate(self) -> None:
        """Take the ledger to SCHEMA_VERSION, one migration at a time."""
        if self.version() == SCHEMA_VERSION:
            return
        with self._immediate() as db:          # another process may be migrating: re-read
            self._check_ours()
            version = self.version()
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")

    def append(self, event: Mapping[str, Any] | None = None,
               before: Callable[[], Mapping[str, Any] | None] | None = None) -> dict[str, Any]:
        """Append one event (a value for each of FIELDS) at the head of the chain; the row as
        stored, with its id, prev_hash and hash. `before` runs first inside the same write
        transaction (other writers wait): what it checks in the ledger stays true until the row
        is in, and if it raises, nothing is appended. It may return the event itself, when the
        event depends on what it read (a reprint's number)."""
        try:
            with self._immediate() as db:
                made = before() if before is not None else None
                row = _row(made if made is not None else event)
                head = db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
                row["id"] = 1 if head is None else head["id"] + 1
                row["prev_hash"] = GENESIS if head is None else head["hash"]
                row["hash"] = row_hash(row["prev_hash"], row)
                db.execute(f"INSERT INTO events ({', '.join(COLUMNS)}) "
                           f"VALUES ({', '.join('?' * len(COLUMNS))})",
                           [row[name] for name in COLUMNS])
        except sqlite3.Error as exc:
            raise _fail(self.path, "append to it", exc) from None
        return row

    def count(self) -> int:
        n: int = self._db.execute("SELECT count(*) FROM events").fetchone()[0]
        return n

    def verify(self) -> Broken | None:
        """The first row, in id order, that was edited (its hash does not cover it), or follows a
        deleted or reordered row (it does not chain to the row before it); None if whole."""
        expected = GENESIS
        last_id = 0
        for found in self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY id"):
            row = dict(found)
            if row["prev_hash"] != expected:
                gap = row["id"] != last_id + 1
                return Broken(row["id"], "does not chain to the row before it (a row before it "
                              + ("was deleted)" if gap else "was deleted, edited or reordered)"))
            if row_hash(row["prev_hash"], row) != row["hash"]:
                return Broken(row["id"], "was edited (its hash does not match its contents)")
            expected, last_id = row["hash"], row["id"]
        return None

    def head(self) -> tuple[int, str] | None:
        """The newest row's id and hash: written down elsewhere (a day's report, a notebook),
        it lets a later check_anchor find rows deleted from the end, which the chain cannot."""
        found = self._db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        return None if found is None else (found["id"], found["hash"])

    def check_anchor(self, anchor: str) -> Broken | None:
        """None if row ID of anchor 'ID:HASH' is still there with that hash (a verified chain
        then holds every row up to it, unchanged)."""
        number, _, digest = anchor.partition(":")
        if not (number.isascii() and number.isdigit() and len(number) <= 18) \
                or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise LedgerError(f"ledger {self.path}: --anchor {anchor!r}: expected ID:HASH as "
                              "`ledger verify` prints the head")
        found = self._db.execute("SELECT hash FROM events WHERE id = ?", (int(number),)).fetchone()
        if found is None:
            return Broken(int(number), "is missing: it and the rows after it were deleted")
        if found["hash"] != digest:
            return Broken(int(number), "is not the row the anchor names (rows were deleted and "
                                       "others appended, or the ledger was replaced)")
        return None

    def _select(self, where: str, *args: Any) -> list[dict[str, Any]]:
        query = f"SELECT {', '.join(COLUMNS)} FROM events WHERE {where} ORDER BY id"
        return [dict(r) for r in self._db.execute(query, args)]

    def history(self, rx_number: str) -> list[dict[str, Any]]:
        """Every event of an Rx, oldest first."""
        return self._select("rx_number = ?", rx_number)

    def last_render(self, rx_number: str, fill_number: int) -> dict[str, Any] | None:
        """The latest 'render' row of an Rx and fill number (a correction is one), or None."""
        found = self._db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM events WHERE rx_number = ? AND fill_number = ? "
            "AND kind = 'render' ORDER BY id DESC LIMIT 1", (rx_number, fill_number)).fetchone()
        return None if found is None else dict(found)

    def count_kind(self, rx_number: str, fill_number: int, kind: str) -> int:
        """How many rows of one kind an Rx and fill number has (a fill's reprints)."""
        n: int = self._db.execute(
            "SELECT count(*) FROM events WHERE rx_number = ? AND fill_number = ? AND kind = ?",
            (rx_number, fill_number, kind)).fetchone()[0]
        return n

    def recall(self, lot: str) -> list[dict[str, Any]]:
        """Every event of a compounded lot, oldest first."""
        return self._select("lot = ?", lot)


def json_column(ledger: Ledger | Path, row: Mapping[str, Any], column: str = "detail"
                ) -> dict[str, Any]:
    """A row's JSON column (detail, outputs, inputs) as an object; anything else (a row written
    by hand, chained and all) is an error naming the ledger and the row, never a traceback."""
    try:
        found = json.loads(row[column])
    except (TypeError, ValueError):
        found = None
    if not isinstance(found, dict):
        path = ledger.path if isinstance(ledger, Ledger) else ledger
        raise LedgerError(f"ledger {path}: row {row['id']}: its {column} is not a JSON object")
    return found


def open_ledger(path: Path) -> Ledger:
    """Open (creating and migrating as needed) the ledger at path; its folder must exist."""
    if not path.parent.is_dir():
        raise LedgerError(f"ledger {path}: cannot open it: folder {path.parent} does not exist")
    return Ledger(path)
