"""The counter's browser sessions, kept on the server: a random token in an HttpOnly cookie names
one, which holds who signed in, the session's CSRF token and when it was last used. Nothing in
the cookie itself means anything, so nothing can be forged into it, and signing out (or being
signed out) ends the session here, not only in the browser.

../shared/reference/hipaa-technical-safeguards.md (access control: unique user identification
and automatic logoff; OWASP Session Management cheat sheet): a session idle longer than `idle`
(15 minutes at most) is ended when it is next used, whatever the browser does; the token is
changed at sign-in (no session fixation); tokens are 256 random bits. A restart signs everyone
out: sessions are never written to disk."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .users import User

IDLE_LIMIT = dt.timedelta(minutes=15)
# A bound on the sessions held at once (a flood of anonymous visits cannot fill memory): the
# least recently used session no one has signed in to goes first, so a flood of sign-in pages
# cannot sign staff out.
MAX_SESSIONS = 10_000
# Previews a session keeps (their PNGs are served to that session only, by a random name).
MAX_PREVIEWS = 16


@dataclass
class Visit:
    """One browser's session."""

    token: str
    csrf: str
    seen: float
    user: User | None = None
    previews: dict[str, bytes] = field(default_factory=dict)
    note: str = ""                   # a one-time message for the next page ("Signed out ...")

    def keep_preview(self, png: bytes) -> str:
        name = secrets.token_urlsafe(16)
        self.previews[name] = png
        while len(self.previews) > MAX_PREVIEWS:
            del self.previews[next(iter(self.previews))]
        return name

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


def idle_out(seen: float, now: float, idle: dt.timedelta) -> bool:
    """Whether a session last used at `seen` has been idle too long at `now` (a pure rule)."""
    return now - seen > idle.total_seconds()


class Sessions:
    """The sessions of one server process. `clock` is monotonic seconds (time.monotonic)."""

    def __init__(self, idle: dt.timedelta = IDLE_LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not dt.timedelta(0) < idle <= IDLE_LIMIT:
            raise ValueError(f"idle sign-out must be within {IDLE_LIMIT}")
        self.idle = idle
        self._clock = clock
        self._held: dict[str, Visit] = {}
        self._lock = threading.Lock()

    def start(self, note: str = "") -> Visit:
        """A new session with no one signed in (the sign-in form's CSRF token is its)."""
        visit = Visit(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self._clock(),
                      note=note)
        with self._lock:
            self._prune(visit.seen)
            self._held[visit.token] = visit
            if len(self._held) > MAX_SESSIONS:
                oldest = next((t for t, v in self._held.items() if v.user is None),
                              next(iter(self._held)))
                del self._held[oldest]
        return visit

    def find(self, token: str | None) -> tuple[Visit | None, bool]:
        """The session a cookie names, used now; and whether one was there but had been idle
        too long (it is ended)."""
        if not token:
            return None, False
        now = self._clock()
        with self._lock:
            visit = self._held.pop(token, None)
            if visit is None:
                return None, False
            if idle_out(visit.seen, now, self.idle):
                return None, visit.user is not None
            visit.seen = now
            self._held[token] = visit        # last used goes last: the bound drops the oldest
            return visit, False

    def _prune(self, now: float) -> None:
        """End the sessions idle too long, oldest first (the held sessions are in the order
        they were last used): a browser closed without signing out leaves nothing behind, its
        previews included, past the idle limit."""
        while self._held:
            oldest = next(iter(self._held.values()))
            if not idle_out(oldest.seen, now, self.idle):
                return
            oldest.previews.clear()
            del self._held[oldest.token]

    def sign_in(self, visit: Visit, user: User) -> Visit:
        """The signed-in session, under a new token and CSRF token."""
        self.end(visit.token)
        fresh = self.start()
        fresh.user = user
        return fresh

    def end(self, token: str) -> None:
        with self._lock:
            self._held.pop(token, None)
