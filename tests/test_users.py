"""The counter's people (counter/users.py): added through the real CLI with the password typed
twice, stored only as an Argon2id hash in a real SQLite file; sign-in counts failures per account
and locks it, and a locked account stays locked whatever is tried."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from leaflets.counter.users import LOCK_AFTER, LOCK_FOR, Outcome, State, Users, attempt

from .conftest import ROOT

PASSWORD = "correct horse battery staple"
T0 = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def add(tmp_path: Path, *args: str, typed: str = f"{PASSWORD}\n{PASSWORD}\n"
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaflets.cli", "users", "add", *args,
                           "--users", str(tmp_path / "users.sqlite")], cwd=ROOT, input=typed,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_user_is_added_with_a_hash_and_never_the_password(tmp_path: Path) -> None:
    done = add(tmp_path, "Kim Lee", "--role", "pharmacist", "--initials", "KL")
    assert (done.returncode, done.stdout) == (0, "added Kim Lee (pharmacist, KL)\n"), done.stderr
    db = sqlite3.connect(tmp_path / "users.sqlite")
    (stored,) = db.execute("SELECT password FROM users WHERE name = 'Kim Lee'").fetchone()
    db.close()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD.encode() not in (tmp_path / "users.sqlite").read_bytes()
    listed = subprocess.run([sys.executable, "-m", "leaflets.cli", "users", "list", "--users",
                             str(tmp_path / "users.sqlite")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert listed.stdout == "Kim Lee  pharmacist  KL\n" and "argon2" not in listed.stdout


def test_bad_users_are_refused_at_their_field(tmp_path: Path) -> None:
    assert add(tmp_path, "Kim Lee", "--role", "pharmacist", "--initials", "KL").returncode == 0
    cases = [(["Kim Lee", "--role", "technician", "--initials", "KL"], PASSWORD,
              "name: there is already a user 'Kim Lee'"),
             (["Rae Tan", "--role", "technician", "--initials", "rt"], PASSWORD,
              "initials: expected 2 to 4 capital letters"),
             (["Rae Tan", "--role", "technician", "--initials", "RT"], "fourteen chars",
              "password: expected 15 to 1024 characters"),
             ([" Rae", "--role", "technician", "--initials", "RT"], PASSWORD,
              "name: expected 1 to 64 printable characters")]
    for args, password, message in cases:
        done = add(tmp_path, *args, typed=f"{password}\n{password}\n")
        assert done.returncode == 2 and message in done.stderr, done.stderr
    role = add(tmp_path, "Rae Tan", "--role", "owner", "--initials", "RT")
    assert role.returncode == 2 and "'owner' is not one of" in role.stderr
    mistyped = add(tmp_path, "Rae Tan", "--role", "technician", "--initials", "RT",
                   typed=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n")
    assert mistyped.returncode == 0 and "do not match" in (mistyped.stdout + mistyped.stderr)


def test_sign_in_locks_after_repeated_failures_and_stays_locked(tmp_path: Path) -> None:
    with Users(tmp_path / "users.sqlite") as users:
        users.add("Kim Lee", "pharmacist", "KL", PASSWORD)
        outcome, user = users.sign_in("Kim Lee", PASSWORD, T0)
        assert outcome is Outcome.SIGNED_IN and user is not None and user.initials == "KL"
        assert users.sign_in("Nobody", PASSWORD, T0) == (Outcome.WRONG, None)
        for n in range(1, LOCK_AFTER):
            assert users.sign_in("Kim Lee", "wrong password!!", T0)[0] is Outcome.WRONG, n
        assert users.sign_in("Kim Lee", "wrong password!!", T0)[0] is Outcome.LOCKED
        # Locked: the right password does not open it, before the time is up.
        for later in (dt.timedelta(0), dt.timedelta(minutes=14, seconds=59)):
            assert users.sign_in("Kim Lee", PASSWORD, T0 + later)[0] is Outcome.LOCKED
        assert users.sign_in("Kim Lee", PASSWORD, T0 + LOCK_FOR)[0] is Outcome.SIGNED_IN
        # A success clears the count: the next failures start again from one.
        for _ in range(LOCK_AFTER - 1):
            assert users.sign_in("Kim Lee", "wrong password!!", T0 + LOCK_FOR)[0] is Outcome.WRONG
    with Users(tmp_path / "users.sqlite") as again:            # kept in the file
        assert again.sign_in("Kim Lee", "wrong password!!", T0 + LOCK_FOR)[0] is Outcome.LOCKED


@given(st.lists(st.booleans(), max_size=30), st.integers(0, 3600))
def test_a_locked_account_opens_only_when_its_time_is_up(attempts: list[bool], step_s: int) -> None:
    state, now = State(0, None), T0
    for ok in attempts:
        was_locked = state.locked_until is not None and now < state.locked_until
        outcome, state = attempt(state, ok, now)
        if was_locked:
            assert outcome is Outcome.LOCKED
        elif ok:
            assert outcome is Outcome.SIGNED_IN and state == State(0, None)
        now += dt.timedelta(seconds=step_s)


def users_cli(tmp_path: Path, *args: str, typed: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaflets.cli", "users", *args, "--users",
                           str(tmp_path / "users.sqlite")], cwd=ROOT, input=typed,
                          capture_output=True, text=True, timeout=120, check=False)


def test_an_administrator_unlocks_an_account_or_sets_a_new_password(tmp_path: Path) -> None:
    assert add(tmp_path, "Kim Lee", "--role", "pharmacist", "--initials", "KL").returncode == 0
    with Users(tmp_path / "users.sqlite") as users:
        for _ in range(LOCK_AFTER):
            users.sign_in("Kim Lee", "wrong password!!", T0)
        assert users.sign_in("Kim Lee", PASSWORD, T0)[0] is Outcome.LOCKED
    done = users_cli(tmp_path, "unlock", "Kim Lee")
    assert (done.returncode, done.stdout) == (0, "unlocked Kim Lee\n"), done.stderr
    with Users(tmp_path / "users.sqlite") as users:
        assert users.sign_in("Kim Lee", PASSWORD, T0)[0] is Outcome.SIGNED_IN
        for _ in range(LOCK_AFTER):
            users.sign_in("Kim Lee", "wrong password!!", T0)
    fresh = "a brand new counter password"
    done = users_cli(tmp_path, "password", "Kim Lee", typed=f"{fresh}\n{fresh}\n")
    assert done.returncode == 0 and "new password set for Kim Lee" in done.stdout, done.stderr
    with Users(tmp_path / "users.sqlite") as users:
        assert users.sign_in("Kim Lee", PASSWORD, T0)[0] is Outcome.WRONG       # the old one
        assert users.sign_in("Kim Lee", fresh, T0)[0] is Outcome.SIGNED_IN     # and unlocked
    for args, typed, message in ((["unlock", "Nobody"], "", "name: there is no user 'Nobody'"),
                                 (["password", "Kim Lee"], "too short\ntoo short\n",
                                  "password: expected 15 to 1024 characters")):
        done = users_cli(tmp_path, *args, typed=typed)
        assert done.returncode == 2 and message in done.stderr, done.stderr
