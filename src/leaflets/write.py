"""Write: outputs reach their final names only whole (temporary file in the same folder, fsync,
rename), so no reader ever sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import OutputError

TEMPORARY = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temporary(path: Path) -> tuple[int, str]:
    """A hidden temporary file beside `path` (same folder, so the final rename is atomic), with
    the usual file mode: mkstemp makes files private (0600), and a print spooler running as
    another user must read ours."""
    try:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY, dir=path.parent)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY, dir=path.parent)
        os.fchmod(fd, 0o666 & ~_umask())
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
    return fd, tmp


def remove_stale_temporaries(folders: Iterable[Path]) -> None:
    """Remove temporary files a killed run left behind (never a finished file)."""
    for folder in folders:
        if folder.is_dir():
            for stale in folder.rglob(f".*{TEMPORARY}"):
                stale.unlink(missing_ok=True)


class AtomicFile:
    """A file written in pieces that reaches its name only whole: it is written to a hidden
    temporary file beside its name (`temporary`), and `commit` flushes it, waits for the disk if
    `durable`, and renames it; `discard` removes it. A kill at any moment leaves at most the
    hidden temporary file."""

    def __init__(self, path: Path, mode: str = "wb", *, encoding: str | None = None,
                 newline: str | None = None) -> None:
        fd, tmp = temporary(path)
        self.path, self.tmp = path, Path(tmp)
        self.handle: Any = os.fdopen(fd, mode, encoding=encoding, newline=newline)

    def commit(self, *, durable: bool = True) -> None:
        try:
            self.handle.flush()
            if durable:
                os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.tmp, self.path)
        except BaseException as exc:
            self.discard()
            if isinstance(exc, OSError):
                raise OutputError(f"{self.path}: cannot write: {exc.strerror}") from exc
            raise

    def discard(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `path` whole or not at all. `durable` also waits for the disk (fsync) before the
    rename, so the file survives a power cut; a batch instead syncs once at its end, and a
    resumed batch re-checks every file against its recorded hash."""
    file = AtomicFile(path)
    try:
        file.handle.write(data)
    except BaseException as exc:
        file.discard()
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
        raise
    file.commit(durable=durable)


def write_outputs(directory: Path, files: dict[str, bytes], *, durable: bool = True) -> list[Path]:
    """Write each file atomically, in order: the record goes last, so a complete record means
    complete documents."""
    written = []
    for name, data in files.items():
        path = directory / name
        write_atomic(path, data, durable=durable)
        written.append(path)
    return written

