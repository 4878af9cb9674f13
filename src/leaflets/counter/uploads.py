"""A day's file uploaded at the counter (CSV, JSON Lines, a YAML or JSON list: what `leaflets
batch` reads): each fill that reads and renders becomes an entry in the verify queue, as if
typed at the counter; each that does not is listed at its line, in the CLI's words. Only an
approved fill prints, so an upload prints nothing by itself; the file's `pharmacist` column,
if any, is replaced at approval by the approving pharmacist's initials.

An upload is worked through one row at a time on the desk's thread, so the counter stays
responsive; its progress is kept here, in memory, for the page to show."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from ..errors import Problem

MAX_UPLOADS = 20


@dataclass
class Upload:
    id: str
    name: str                        # the file's name as uploaded (shown in messages)
    user: str
    total: int = 0
    done: int = 0
    queued: list[tuple[int | None, int, str]] = field(default_factory=list)  # line, entry, Rx
    failed: list[Problem] = field(default_factory=list)
    finished: bool = False

    @property
    def percent(self) -> int:
        return 100 if self.finished or not self.total else round(100 * self.done / self.total)


class Uploads:
    """The uploads of this server process, newest first."""

    def __init__(self) -> None:
        self._held: dict[str, Upload] = {}

    def start(self, name: str, user: str) -> Upload:
        """A new upload; past MAX_UPLOADS, the oldest finished ones are forgotten (their
        problems quote rows: patient data is not kept longer than it is useful)."""
        upload = Upload(secrets.token_urlsafe(12), name, user)
        self._held = {upload.id: upload, **self._held}
        for old in list(self._held.values())[MAX_UPLOADS:]:
            if old.finished:
                del self._held[old.id]
        return upload

    def get(self, upload_id: str) -> Upload | None:
        return self._held.get(upload_id)

    def listed(self) -> list[Upload]:
        return list(self._held.values())
