"""Write: outputs reach their final names only whole, so no reader ever sees a half-written file
or a folder mixing two fills.

- One file: `AtomicFile` / `write_atomic` (a hidden temporary file in the same folder, fsync,
  rename).
- A fill's set of files: `publish_folder` (the whole set in a hidden folder beside its own, then
  swapped into place in one step, under a per-fill lock).

Clean-up never raises over the error that caused it: on a full disk, closing a file flushes its
buffer and fails again, and the temporary must still be removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
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
        raise cannot_write(path, exc) from exc
    return fd, tmp


def remove_stale_temporaries(folders: Iterable[Path]) -> None:
    """Remove temporary files a killed run left behind in folders only this run writes (never
    a finished file)."""
    for folder in folders:
        if folder.is_dir():
            for stale in folder.rglob(f".*{TEMPORARY}"):
                if not stale.is_dir():       # a fill's staging folder is publish_folder's
                    stale.unlink(missing_ok=True)


def cannot_write(path: Path, exc: OSError) -> OutputError:
    """The one-line message for an output that cannot be written, naming the path."""
    return OutputError(f"{path}: cannot write: {exc.strerror or exc}", exc.errno)


class AtomicFile:
    """A file written in pieces that reaches its name only whole: it is written to a hidden
    temporary file beside its name (`temporary`); `finish` flushes and closes it (waiting for the
    disk if `durable`), `publish` renames it, `commit` does both; `discard` removes it. A kill at
    any moment leaves at most the hidden temporary file. Files that must appear together (a
    summary's JSON and CSV) are all finished before any is published (`commit_together`), so a
    full disk fails them all."""

    def __init__(self, path: Path, mode: str = "wb", *, encoding: str | None = None,
                 newline: str | None = None) -> None:
        fd, tmp = temporary(path)
        self.path, self.tmp = path, Path(tmp)
        try:
            self.handle: Any = os.fdopen(fd, mode, encoding=encoding, newline=newline)
        except BaseException:
            os.close(fd)
            self.tmp.unlink(missing_ok=True)
            raise

    def write(self, data: Any) -> None:
        """Write through the handle; a write that fails (the buffer reaching a full disk) names
        the file."""
        try:
            self.handle.write(data)
        except OSError as exc:
            raise cannot_write(self.path, exc) from exc

    def finish(self, *, durable: bool = True) -> None:
        try:
            self.handle.flush()
            if durable:
                os.fsync(self.handle.fileno())
            self.handle.close()
        except BaseException as exc:
            self.discard()
            if isinstance(exc, OSError):
                raise cannot_write(self.path, exc) from exc
            raise

    def publish(self) -> None:
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise cannot_write(self.path, exc) from exc

    def commit(self, *, durable: bool = True) -> None:
        self.finish(durable=durable)
        self.publish()

    def discard(self) -> None:
        """Remove the temporary file. Closing flushes what is buffered, which fails again on a
        full disk; the file is closed all the same (io closes the descriptor after a failed
        flush), so that error is dropped and the unlink always runs."""
        with contextlib.suppress(OSError):
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


def commit_together(files: list[AtomicFile], *, durable: bool = True) -> list[Path]:
    """Finish every file, then rename each: a failure while any is being finished (a full disk)
    discards them all, so none appears without the others. Renames need no space."""
    try:
        for file in files:
            file.finish(durable=durable)
    except BaseException:
        for file in files:
            file.discard()
        raise
    for file in files:
        file.publish()
    return [file.path for file in files]


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `path` whole or not at all. `durable` also waits for the disk (fsync) before the
    rename, so the file survives a power cut; a batch instead syncs once at its end, and a
    resumed batch re-checks every file against its recorded hash."""
    file = AtomicFile(path)
    try:
        file.write(data)
    except BaseException:
        file.discard()
        raise
    file.commit(durable=durable)


def write_outputs(directory: Path, files: dict[str, bytes], *, durable: bool = True) -> list[Path]:
    """Write each file atomically, in order (the monographs: each file is whole on its own; a
    fill's set is publish_folder's)."""
    written = []
    for name, data in files.items():
        path = directory / name
        write_atomic(path, data, durable=durable)
        written.append(path)
    return written



# ---- a set of files published as one folder ------------------------------------------------------
#
# out/<key>/                 the published set (label.pdf, leaflet.pdf, fill.json)
# out/.<key>.lock            held (flock) by the one process writing <key>; removed on release
# out/.<key>.new.tmp/        the next set, being written
# out/.<key>.old.tmp/        the previous set, only where the folders cannot be swapped in one step
#
# The temporaries have fixed names: the lock makes them one process's own, and a later run finds
# them with a stat rather than by listing out/ (a batch of 10,000 fills would list it 10,000
# times).


def _beside(directory: Path, what: str) -> Path:
    return directory.parent / f".{directory.name}.{what}{TEMPORARY if what != 'lock' else ''}"


class _Lock:
    """flock on `.<key>.lock` beside the folder: two processes never write one fill at once. The
    lock file is removed on release, so the lock is taken only on a file still at its name (a
    process that waited on a file removed meanwhile takes the new one); a lock file left by a
    killed process is just taken by the next one."""

    def __init__(self, directory: Path) -> None:
        self.path = _beside(directory, "lock")
        self.fd: int | None = None

    def take(self, *, wait: bool = True) -> bool:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = os.fstat(fd)
                now = os.stat(self.path)
            except BlockingIOError:
                os.close(fd)
                return False
            except FileNotFoundError:      # released (and removed) while we waited: again
                os.close(fd)
                continue
            except BaseException:
                os.close(fd)
                raise
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                self.fd = fd
                return True
            os.close(fd)

    def release(self) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)   # before closing: nobody can hold it meanwhile
            os.close(self.fd)
            self.fd = None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _clean(directory: Path) -> None:
    """Under the lock: remove what a killed run on this folder left. A previous set parked
    under its hidden name with no published set beside it goes back to its place."""
    new, old = _beside(directory, "new"), _beside(directory, "old")
    if old.is_dir() and not os.path.lexists(directory):
        os.rename(old, directory)
    _remove(new)
    _remove(old)
    if directory.is_dir():          # temporaries of versions that wrote files one by one
        for stale in directory.glob(f".*{TEMPORARY}"):
            stale.unlink(missing_ok=True)


def _stale(directory: Path) -> bool:
    if any(os.path.lexists(_beside(directory, what)) for what in ("new", "old", "lock")):
        return True
    return directory.is_dir() and any(directory.glob(f".*{TEMPORARY}"))


def remove_stale(directory: Path) -> None:
    """Remove what a killed run left beside or inside a fill's folder, unless a live process
    holds the fill's lock (then they are its own)."""
    if not _stale(directory):
        return
    lock = _Lock(directory)
    try:
        if lock.take(wait=False):
            _clean(directory)
    except OSError:
        pass                        # an unwritable folder: nothing to clean, nothing written
    finally:
        lock.release()


@functools.cache
def _renameat2() -> Any:
    """libc's renameat2, or None where there is none (not Linux, or glibc before 2.28)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2        # <fcntl.h>, <linux/fs.h>


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step; False where the system or file system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stage(staged: Path, files: dict[str, bytes], durable: bool) -> None:
    """Write the set into its hidden folder: plain writes (the folder is what is published
    whole), unbuffered, so a full disk fails the write itself and nothing is left to flush."""
    staged.mkdir()
    for name, data in files.items():
        fd = os.open(staged / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    if durable:
        _sync_folder(staged)


def _swap_in(staged: Path, directory: Path) -> None:
    """Publish the staged set at `directory` in one step. Linux swaps the two folders
    atomically (renameat2 RENAME_EXCHANGE): a reader sees the previous set or the new one, and
    `staged` then holds the previous set, to be removed. Elsewhere two renames: the previous
    set is parked under a hidden name (`.<key>.old.tmp`) until the new one is in place, so a
    kill between them leaves no mixed folder, and the next run puts the parked set back."""
    if not os.path.lexists(directory):
        os.rename(staged, directory)
        return
    if not directory.is_dir() or directory.is_symlink():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
    if _exchange(staged, directory):
        return
    old = _beside(directory, "old")
    os.rename(directory, old)
    try:
        os.rename(staged, directory)
    except BaseException:
        os.rename(old, directory)
        raise
    _remove(old)


def publish_folder(directory: Path, files: dict[str, bytes], *, durable: bool = True,
                   check: Callable[[Path], None] | None = None) -> list[Path]:
    """Replace the folder `directory` with exactly `files`, whole or not at all, under the
    folder's lock: stale temporaries of killed runs are removed first, then `check(directory)`
    may refuse (it sees the published set, and nobody can change it meanwhile), then the set is
    written to a hidden folder beside it and swapped in. Any failure leaves the previous set as
    it was and no temporary behind, and names the folder. `durable` waits for the disk (file,
    folder and parent fsync) so the set survives a power cut."""
    staged = _beside(directory, "new")
    lock = _Lock(directory)
    try:
        if os.path.lexists(directory.parent) and not directory.parent.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        directory.parent.mkdir(parents=True, exist_ok=True)
        lock.take()
        _clean(directory)
        if check is not None:
            check(directory)
        _stage(staged, files, durable)
        _swap_in(staged, directory)
        if durable:
            _sync_folder(directory.parent)
    except OSError as exc:
        raise cannot_write(directory, exc) from exc
    finally:
        if lock.fd is not None:  # never another process's: it is ours only under the lock
            _remove(staged)      # the previous set after a swap; a partial set after a failure
        lock.release()
    return [directory / name for name in files]
