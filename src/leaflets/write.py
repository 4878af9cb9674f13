"""Write: outputs reach their final names only whole (temporary file in the same folder, fsync,
rename), so no reader ever sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

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


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `path` whole or not at all (a kill at any moment leaves at most a hidden temporary
    file). `durable` also waits for the disk (fsync) before the rename, so the file survives a
    power cut; a batch instead syncs once at its end, and a resumed batch re-checks every file
    against its recorded hash."""
    fd, tmp = temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_outputs(directory: Path, files: dict[str, bytes], *, durable: bool = True) -> list[Path]:
    """Write each file atomically, in order: the record goes last, so a complete record means
    complete documents."""
    written = []
    for name, data in files.items():
        path = directory / name
        write_atomic(path, data, durable=durable)
        written.append(path)
    return written

