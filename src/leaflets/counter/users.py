"""The counter's people: a name, a role (technician, pharmacist, admin), initials (a pharmacist's
go on the labels they approve) and a password stored as an Argon2id hash, in their own SQLite
file (users.sqlite beside the ledger: the ledger is append-only, a user's lockout state is not).

Passwords and sign-in follow ../shared/reference/hipaa-technical-safeguards.md §4 (OWASP
Password Storage and Authentication cheat sheets): Argon2id at argon2-cffi's default parameters
(64 MiB, t=3, p=4, above OWASP's 19 MiB/t=2 minimum), kept in PHC form so they can be raised
later; at least 15 characters (no MFA yet), at most 1024; failures counted per account, and
LOCK_AFTER in a row lock the account for LOCK_FOR, whatever is tried meanwhile. The clock is the
caller's (`now`): the rule itself is a pure function."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import InputError, LeafletsError

ROLES = ("technician", "pharmacist", "admin")
MIN_PASSWORD, MAX_PASSWORD = 15, 1024
LOCK_AFTER = 5
LOCK_FOR = dt.timedelta(minutes=15)
USERS_NAME = "users.sqlite"
_HASHER = PasswordHasher()
# Verified when the name is unknown, so an unknown name takes as long as a wrong password.
_DUMMY = _HASHER.hash("not a password of anyone's")

SCHEMA = """CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('technician', 'pharmacist', 'admin')),
    initials TEXT NOT NULL,
    password TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT)"""


class UsersError(LeafletsError):
    """The users file cannot be read or written."""


class Outcome(Enum):
    SIGNED_IN = "signed in"
    WRONG = "wrong name or password"
    LOCKED = "locked"


@dataclass(frozen=True)
class State:
    failures: int
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class User:
    name: str
    role: str
    initials: str


def attempt(state: State, password_ok: bool, now: dt.datetime) -> tuple[Outcome, State]:
    """One sign-in attempt on an account (a pure rule): locked stays locked until its time is
    up, whatever the password; a right password clears the failures; the LOCK_AFTER-th wrong
    one in a row locks the account for LOCK_FOR."""
    if state.locked_until is not None and now < state.locked_until:
        return Outcome.LOCKED, state
    if state.locked_until is not None:                       # the lock has run out
        state = State(0, None)
    if password_ok:
        return Outcome.SIGNED_IN, State(0, None)
    failures = state.failures + 1
    if failures >= LOCK_AFTER:
        return Outcome.LOCKED, State(failures, now + LOCK_FOR)
    return Outcome.WRONG, State(failures, None)


def check_new(name: str, role: str, initials: str, password: str) -> list[tuple[str, str]]:
    """What is wrong with a new user's fields, as (field, message)."""
    found = []
    if not name.strip() or name != name.strip() or len(name) > 64 or not name.isprintable():
        found.append(("name", "expected 1 to 64 printable characters without leading or "
                              "trailing spaces"))
    if role not in ROLES:
        found.append(("role", f"expected one of {', '.join(ROLES)}"))
    if not (initials.isascii() and initials.isalpha() and initials.isupper()
            and 2 <= len(initials) <= 4):
        found.append(("initials", "expected 2 to 4 capital letters, as they print on a label"))
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        found.append(("password", f"expected {MIN_PASSWORD} to {MAX_PASSWORD} characters"))
    return found


class Users:
    """An open users file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute(SCHEMA)
        except sqlite3.Error as exc:
            raise UsersError(f"users {path}: cannot open it: {exc}") from None

    def __enter__(self) -> Users:
        return self

    def __exit__(self, *_: object) -> None:
        self._db.close()

    def add(self, name: str, role: str, initials: str, password: str) -> User:
        problems = check_new(name, role, initials, password)
        if problems:
            raise InputError.one(str(self.path), problems[0][0], problems[0][1])
        try:
            self._db.execute("INSERT INTO users (name, role, initials, password) "
                             "VALUES (?, ?, ?, ?)", (name, role, initials, _HASHER.hash(password)))
        except sqlite3.IntegrityError:
            raise InputError.one(str(self.path), "name", f"there is already a user {name!r}") \
                from None
        except sqlite3.Error as exc:
            raise UsersError(f"users {self.path}: cannot add to it: {exc}") from None
        return User(name, role, initials)

    def unlock(self, name: str) -> None:
        """Clear an account's failed sign-ins and its lock (an administrator, who knows the
        person, lets them try again before the lock runs out)."""
        self._change(name, "failures = 0, locked_until = NULL", ())

    def set_password(self, name: str, password: str) -> None:
        """A new password for an account (forgotten, or to be changed); it also unlocks."""
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InputError.one(str(self.path), "password",
                                 f"expected {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        self._change(name, "password = ?, failures = 0, locked_until = NULL",
                     (_HASHER.hash(password),))

    def _change(self, name: str, sets: str, args: tuple[str, ...]) -> None:
        try:
            cursor = self._db.execute(f"UPDATE users SET {sets} WHERE name = ?", (*args, name))
        except sqlite3.Error as exc:
            raise UsersError(f"users {self.path}: cannot change it: {exc}") from None
        if cursor.rowcount != 1:
            raise InputError.one(str(self.path), "name", f"there is no user {name!r}")

    def list(self) -> list[User]:
        return [User(*row) for row in self._db.execute(
            "SELECT name, role, initials FROM users ORDER BY name")]

    def sign_in(self, name: str, password: str, now: dt.datetime) -> tuple[Outcome, User | None]:
        """Check a name and password at `now`; the account's failures and lock are kept."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._db.execute("SELECT role, initials, password, failures, locked_until "
                                   "FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                _verify(_DUMMY, password)
                self._db.execute("COMMIT")
                return Outcome.WRONG, None
            role, initials, stored, failures, locked = row
            state = State(failures, dt.datetime.fromisoformat(locked) if locked else None)
            outcome, after = attempt(state, _verify(stored, password), now)
            self._db.execute("UPDATE users SET failures = ?, locked_until = ? WHERE name = ?",
                             (after.failures, after.locked_until.isoformat()
                              if after.locked_until else None, name))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return outcome, User(name, role, initials) if outcome is Outcome.SIGNED_IN else None


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def users_path(ledger: Path) -> Path:
    """Beside the ledger."""
    return ledger.parent / USERS_NAME
