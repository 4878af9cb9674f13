"""Write: outputs reach their final names only whole (temporary file in the same folder, fsync,
rename), so no reader ever sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
    try:
        # mkstemp makes the file private (0600); outputs get the usual mode so a print spooler
        # running as another user can read them.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_outputs(directory: Path, files: dict[str, bytes]) -> list[Path]:
    """Write each file atomically, in order: the record goes last, so a complete record means
    complete documents."""
    written = []
    for name, data in files.items():
        path = directory / name
        write_atomic(path, data)
        written.append(path)
    return written
