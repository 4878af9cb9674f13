"""Batch: a day's fills in one run. Read and validate every row first, render each fill exactly as
`leaflets render` would (in worker processes), then file the combined print sheets and a summary.

    out/<rx>-<fill>/                label.pdf, leaflet.pdf, fill.json      (as `leaflets render`)
    out/batches/<batch-id>/         labels.pdf, leaflets.pdf, summary.json, summary.csv
    out/batches/<batch-id>/parts/   each fill's recorded pages, so a resumed run can rebuild the
                                    combined sheets without rendering complete fills again

Crash safety: a fill's documents and record are published together, as `leaflets render`
publishes them (record.stage.publish: pipeline.write_fill, then the fill's ledger row), and its
part after them; every other file reaches its name only whole (write.AtomicFile). A killed run
leaves at most hidden `.*.tmp` files and folders, which the next run removes; running the same
command again skips every fill whose record, PDFs and part are complete, whose hashes match and
whose ledger row is there, renders the rest and rebuilds the combined sheets.
Ctrl-C, SIGTERM and SIGHUP stop the run between fills; an output that cannot be written (a full
disk) stops it the same way, with the path in the message. Fills are not fsynced one by one
(that was 40% of a batch's time): the run syncs once before writing the sheets and summary, and
because resuming re-checks every hash, a power cut mid-batch costs at most re-rendering what did
not reach the disk.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import datetime as dt
import errno
import hashlib
import multiprocessing
import os
import shutil
import signal
import tempfile
import traceback
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .errors import InputError, Interrupted, LeafletsError, OutputError, Problem, WorkerLost
from .load import Row, iter_batch, validate_row
from .parse import MAX_FILE_BYTES, read_bytes
from .pdf import Info, Ops, PdfWriter
from .pipeline import Session, Settings, sha256
from .record.ledger import LedgerError, json_column, open_ledger
from .record.stage import ledger_path, publish
from .render import Pages, write_pdf
from .write import (
    AtomicFile,
    cannot_write,
    commit_together,
    remove_stale,
    remove_stale_temporaries,
    write_atomic,
)


@dataclass(frozen=True)
class Outcome:
    """What happened to one row of the batch."""

    index: int                  # 1-based position in the batch
    where: str                  # file:line (or file) of the row
    key: str | None             # <rx>-<fill>, when the row got that far
    status: str                 # rendered | skipped (already complete) | failed
    bud: str | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None
    fault: bool = False         # an output could not be written (a full disk): the batch stops

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    directory: Path
    total: int
    rendered: int
    skipped: int                # already complete
    failed: tuple[Outcome, ...]
    written: tuple[Path, ...]   # combined sheets and summaries


Report = Callable[[Outcome, int], None]       # (outcome, total rows)


# ---- parts: a fill's recorded pages, on disk as JSON (never pickle: out/ is not trusted code) ---


def _ops_json(ops: Ops) -> dict[str, Any]:
    return {"shared": ops.key} if ops.key else {"code": ops.code, "fonts": sorted(ops.fonts)}


def _part_json(key: str, record: str, documents: dict[str, tuple[Pages, Info]]) -> bytes:
    return orjson.dumps({"key": key, "record": record, "documents": {
        name: {"info": [info.title, info.subject, info.day.isoformat()],
               "size_pt": [pages.width_pt, pages.height_pt],
               "pages": [[_ops_json(o) for o in page] for page in pages.pages]}
        for name, (pages, info) in documents.items()}})


def _shared_json(ops: Ops) -> bytes:
    return orjson.dumps({"code": ops.code, "fonts": sorted(ops.fonts)})


@dataclass(frozen=True)
class _Sheets:
    """One fill's documents for the combined sheets: label.pdf and leaflet.pdf as recorded
    pages with their document info."""

    documents: dict[str, tuple[Pages, Info]]


class _PartStore:
    """parts/<key>.json for each fill and parts/shared/<key>.json for each shared page."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._shared: dict[str, Ops] = {}
        self._saved: set[str] = set()

    def files(self, key: str, record: str, sheets: _Sheets) -> list[tuple[Path, bytes]]:
        """The files that save a fill's part: shared pages not yet saved, then the part. Parts
        are checked on reading, so they skip fsync."""
        files = []
        for pages, _ in sheets.documents.values():
            for page in pages.pages:
                for ops in page:
                    if ops.key and ops.key not in self._saved:
                        path = self.directory / "shared" / f"{ops.key}.json"
                        if not path.exists():
                            files.append((path, _shared_json(ops)))
                        self._saved.add(ops.key)
        return [*files, (self.directory / f"{key}.json", _part_json(key, record, sheets.documents))]

    def load(self, key: str, record: dict[str, Any], record_sha256: str) -> _Sheets | None:
        """The saved documents, only if they are exactly the fill's own PDFs: each is filed
        again and its hash compared with the record's. None when the part is missing,
        unreadable, edited, or belongs to another version of the record."""
        try:
            data = orjson.loads((self.directory / f"{key}.json").read_bytes())
            if data["key"] != key or data["record"] != record_sha256:
                return None
            documents: dict[str, tuple[Pages, Info]] = {}
            for name, doc in data["documents"].items():
                title, subject, day = doc["info"]
                (width, height), info = doc["size_pt"], Info(title, subject, dt.date.fromisoformat(day))
                pages = Pages(float(width), float(height), self._pages(doc["pages"]))
                if sha256(write_pdf(pages, info)) != record["outputs"][name]["sha256"]:
                    return None
                documents[name] = (pages, info)
            if set(documents) != SHEET_SOURCES:
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return _Sheets(documents)

    def _pages(self, pages: list[list[dict[str, Any]]]) -> tuple[tuple[Ops, ...], ...]:
        return tuple(tuple(self._ops(o) for o in page) for page in pages)

    def _ops(self, data: dict[str, Any]) -> Ops:
        if "shared" in data:
            key = str(data["shared"])
            if key not in self._shared:
                shared = orjson.loads((self.directory / "shared" / f"{key}.json").read_bytes())
                self._shared[key] = Ops(shared["code"], _fonts(shared["fonts"]), key)
            return self._shared[key]
        return Ops(data["code"], _fonts(data["fonts"]))


def _fonts(rows: list[list[Any]]) -> frozenset[tuple[str, int]]:
    return frozenset((str(name), int(block)) for name, block in rows)


SHEET_SOURCES = {"label.pdf", "leaflet.pdf"}


# ---- workers -------------------------------------------------------------------------------------

_session: Session | None = None
_out: Path | None = None
_parts: _PartStore | None = None
_stop: Any = None        # set on Ctrl-C (SIGTERM, SIGHUP): finish the fill in hand, take no more

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Write errors that every next fill would meet too (the disk, not one fill's folder): they stop
# the batch, as Ctrl-C does, rather than fail each remaining fill in turn.
DISK_FAULTS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def _start_worker(session: Session, out: Path, parts: Path, stop: Any) -> None:
    global _session, _out, _parts, _stop
    # Stopping is the parent's to handle, also when a terminal's Ctrl-C or hang-up reaches the
    # whole process group. SIGTERM gets back its default (a fork inherits the parent's handler):
    # it is how the pool ends its workers when one of them dies, and a worker that survived it
    # would hang the batch. Sent to the parent, as `kill` does, it stops the batch like Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # A parent killed outright (SIGKILL) takes its workers with it (Linux), rather than leaving
    # them writing alone; their files are whole either way.
    with contextlib.suppress(AttributeError, OSError, TypeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG
    _session, _out, _parts, _stop = session, out, _PartStore(parts), stop


def _render_chunk(tasks: list[tuple[int, Row]]) -> list[tuple[Outcome, _Sheets | None]]:
    """Render rows and write their files: each fill's set as `render` publishes it, then its
    part. A fill that fails, for any reason, fails alone; an output that cannot be written stops
    the chunk and the batch (the next fills would fail the same way)."""
    assert _session is not None and _out is not None and _parts is not None
    results: list[tuple[Outcome, _Sheets | None]] = []
    for index, row in tasks:
        if _stop is not None and _stop.is_set():
            break
        key = None
        try:
            loaded = validate_row(row)
            key = loaded.model.key
            rendered = _session.prepare(loaded)
            sheets = _Sheets(rendered.documents)
            publish(rendered, _out, _session.settings, durable=False)
            record = sha256(rendered.files["fill.json"])
            for path, data in _parts.files(rendered.key, record, sheets):
                write_atomic(path, data, durable=False)
        except OutputError as err:
            if err.errno not in DISK_FAULTS and _out.is_dir():   # this fill's folder: alone
                results.append((Outcome(index, row.where, key, "failed", error=str(err)), None))
                continue
            results.append((Outcome(index, row.where, key, "failed", error=str(err), fault=True),
                            None))
            if _stop is not None:
                _stop.set()
            break
        except LedgerError as err:     # the next fills would fail the same way: stop
            results.append((Outcome(index, row.where, key, "failed", error=str(err), fault=True),
                            None))
            if _stop is not None:
                _stop.set()
            break
        except LeafletsError as err:
            results.append((Outcome(index, row.where, key, "failed", error=str(err)), None))
            continue
        except Exception as exc:     # a bug: report it with this row, keep the others going
            error = (f"{row.where}: unexpected error, please report it: {type(exc).__name__}: "
                     f"{exc}\n{traceback.format_exc()}")
            results.append((Outcome(index, row.where, key, "failed", error=error), None))
            continue
        results.append((Outcome(index, row.where, rendered.key, "rendered",
                                rendered.record["bud"]["date"], rendered.warnings), sheets))
    return results


# ---- the run -------------------------------------------------------------------------------------


@dataclass
class _Index:
    """What the validation pass keeps: little per row, so memory stays flat for any batch."""

    total: int = 0
    batch_id: str = ""
    rows: array[int] = field(default_factory=lambda: array("Q"))   # a short hash of each row
    failures: dict[int, tuple[str | None, str]] = field(default_factory=dict)   # row: key, error
    maybe_complete: set[int] = field(default_factory=set)   # rows whose fill folder has a record


def _row_hash(row: Row) -> int:
    digest = hashlib.blake2b(f"{row.source.file}\0{row.source.first_line}\0{row.source.text}".encode(),
                             digest_size=8)
    return int.from_bytes(digest.digest(), "big")


def _validate_all(inputs: Sequence[Path], session: Session, out: Path, stop: Any) -> _Index:
    """Pass 1: read and validate every row before anything renders, and find duplicates. An
    input that cannot be read stops the batch (exit 2)."""
    index = _Index()
    problems: list[Problem] = []
    first: dict[str, str] = {}       # <rx>-<fill>: where it first appears (for duplicates)
    digest = hashlib.sha256()
    for number, row in enumerate(iter_batch(inputs, problems), start=1):
        if stop.is_set():
            raise Interrupted("interrupted while checking the input; nothing was rendered",
                              signal_number=stop.signal_number)
        index.total = number
        index.rows.append(_row_hash(row))
        digest.update(f"{Path(row.source.file).name}\0{row.source.first_line}\0".encode())
        digest.update(row.source.text.encode() + b"\0")
        key = None
        try:
            loaded = validate_row(row)
            key = loaded.model.key
            if key in first:
                fill = loaded.model
                index.failures[number] = (key, f"{row.where}: rx_number: Rx {fill.rx_number} fill "
                                               f"{fill.fill_number} is already in this batch at {first[key]}")
                continue
            first[key] = row.where
            session.made_with(loaded)      # the product exists and is sound
        except InputError as err:
            index.failures[number] = (key, str(err))
            continue
        remove_stale(out / key)           # left by a killed run
        if (out / key / "fill.json").exists():
            index.maybe_complete.add(number)
    if problems:
        raise InputError(problems)
    if not index.total:
        raise InputError.one(", ".join(map(str, inputs)), "", "no fills in the input")
    # Named for the first input (a file or folder name staff chose), never for a row's file,
    # which may be named for a patient.
    stem = Path(inputs[0]).resolve().stem if inputs else "batch"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:40] or "batch"
    index.batch_id = f"{safe}-{digest.hexdigest()[:12]}"
    return index


def _complete_record(directory: Path, made_with: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The fill's record and its hash, if its outputs are whole, match their recorded hashes,
    and were made from exactly these inputs, templates, fonts and versions."""
    try:    # a regular file of bounded size (parse.read_bytes); orjson, as a resume reads many
        data = read_bytes(directory / "fill.json", MAX_FILE_BYTES)
        record: dict[str, Any] = orjson.loads(data)
        if record.get("made_with") != made_with:
            return None
        for name, expected in record["outputs"].items():
            if sha256((directory / name).read_bytes()) != expected["sha256"]:
                return None
    except (InputError, OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return record, sha256(data)


def _recorded(ledger: Path, record: dict[str, Any], record_sha256: str) -> bool:
    """Whether the ledger has a row for exactly this fill's documents. A fill published whose
    row was never appended (the append failed, or the run now writes another ledger) is not
    complete: it is published again, and its row appended then. The ledger is opened for each
    check (about a millisecond) and never held open here: the worker processes are forked from
    this one, and SQLite forbids a connection open across a fork."""
    outputs = {name: value["sha256"] for name, value in record["outputs"].items()}
    outputs["fill.json"] = record_sha256
    with open_ledger(ledger) as opened:
        rows = opened.history(record["rx_number"])
    return any(row["fill_number"] == record["fill_number"]
               and json_column(ledger, row, "outputs") == outputs for row in rows)


_Item = tuple[Outcome, _Sheets | None] | tuple[int, Row]    # a known result, or a row to render


def _items(inputs: Sequence[Path], index: _Index, session: Session, out: Path,
           parts: _PartStore) -> Iterator[_Item]:
    """Pass 2: the rows again, in order, checked against pass 1: failures as results; a fill
    whose record, PDFs and part are complete, made from these inputs and in the ledger as
    skipped; the rest as rows to render."""
    ledger = ledger_path(session.settings, out)
    number = 0
    for number, row in enumerate(iter_batch(inputs, []), start=1):
        if number > index.total or _row_hash(row) != index.rows[number - 1]:
            raise InputError.one(row.source.file, "", "changed while the batch was running; fills "
                                 "already done are kept, run the batch again", row.source.first_line)
        if number in index.failures:
            key, error = index.failures[number]
            yield Outcome(number, row.where, key, "failed", error=error), None
            continue
        if number in index.maybe_complete:
            loaded = validate_row(row)
            key = loaded.model.key
            found = _complete_record(out / key, session.made_with(loaded))
            sheets = parts.load(key, *found) if found is not None else None
            if found is not None and sheets is not None and _recorded(ledger, *found):
                yield Outcome(number, row.where, key, "skipped", found[0]["bud"]["date"],
                              tuple(found[0]["warnings"])), sheets
                continue
        yield number, row
    if number != index.total:
        raise InputError.one(inputs[-1], "", "changed while the batch was running; fills already "
                             "done are kept, run the batch again")


class _StopFlag:
    """Ctrl-C (SIGTERM, SIGHUP), asked for in a signal handler, seen between fills. The handler
    only sets plain attributes: a handler that takes a lock (as multiprocessing.Event.set does)
    deadlocks if it interrupts code holding that lock. The workers' shared event is set later,
    from normal code."""

    def __init__(self, shared: Any) -> None:
        self.asked = False
        self.signal_number = signal.SIGINT.value
        self.shared = shared

    def ask(self, signal_number: int = signal.SIGINT.value) -> None:
        self.asked = True
        self.signal_number = signal_number

    def set(self) -> None:
        """From normal code (a fill that cannot be written, with one worker): stop."""
        self.asked = True
        self.shared.set()

    def is_set(self) -> bool:
        if self.asked and not self.shared.is_set():
            self.shared.set()
        return self.asked


def run_batch(inputs: Sequence[Path], settings: Settings, out: Path, *, workers: int,
              report: Report | None = None) -> BatchResult:
    """The whole batch. Ctrl-C, SIGTERM and SIGHUP set a flag that is checked between fills (in
    every worker), so a stop never cuts a fill in half and no worker goes on alone."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    stop = _StopFlag(context.Event())

    def on_stop(number: int, _: Any) -> None:
        if stop.asked:      # a second Ctrl-C: stop now (every file stays whole)
            raise Interrupted("stopped at once: fills already complete are kept; run the same "
                              "command again to resume", signal_number=number)
        stop.ask(number)

    previous = {number: signal.signal(number, on_stop) for number in STOP_SIGNALS}
    try:
        return _run(inputs, settings, out, workers, report, context, stop)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run(inputs: Sequence[Path], settings: Settings, out: Path, workers: int,
         report: Report | None, context: Any, stop: _StopFlag) -> BatchResult:
    session = Session(settings)
    index = _validate_all(inputs, session, out, stop)
    directory = out / "batches" / index.batch_id
    parts = _PartStore(directory / "parts")
    remove_stale_temporaries([directory])
    sheets = _SheetWriter(directory)
    summary = _SummaryWriter(directory, index.batch_id, inputs)
    counts = {"rendered": 0, "skipped": 0, "failed": 0}
    failed: list[Outcome] = []
    fault: Outcome | None = None
    try:
        with _Stream(session, out, parts.directory, workers, context, stop) as stream:
            for outcome, pages in stream.run(_items(inputs, index, session, out, parts)):
                if outcome.fault:
                    fault = fault or outcome
                    stop.set()          # take no more rows; the workers finish the fill in hand
                    continue
                if pages is not None:
                    sheets.add(pages)
                summary.add(outcome)
                counts[outcome.status] += 1
                if not outcome.ok:
                    failed.append(outcome)
                if report:
                    report(outcome, index.total)
        kept = counts["rendered"] + counts["skipped"]
        if fault is not None:
            raise OutputError(f"{fault.error}; the batch stopped: {kept} of {index.total} fills are "
                              "complete and kept. Run the same command again to resume when it "
                              "can write.")
        if stop.is_set():
            raise Interrupted(f"interrupted: {kept} of {index.total} fills are complete and kept. "
                              f"Run the same command again to resume (complete fills are "
                              f"skipped); the combined sheets are written when a run finishes.",
                              signal_number=stop.signal_number)
        os.sync()       # every fill's files reach the disk before the sheets and summary say so
        # The sheets and both summaries appear together or not at all (a full disk fails them
        # all); an old sheet with no page this run goes only once they are in place.
        files = sheets.finish() + summary.finish()
        # A second Ctrl-C waits until the four are renamed: never sheets without summaries.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            written = commit_together(files)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        sheets.remove_empty()
    except BaseException:
        sheets.discard()
        summary.discard()
        raise
    return BatchResult(index.batch_id, directory, index.total, counts["rendered"],
                       counts["skipped"], tuple(failed), tuple(written))


class _Stream:
    """Render rows in order, in this process for one worker, else in a process pool, with a
    bounded number of chunks in flight (so rows are read only as fast as they are rendered)."""

    CHUNK = 16

    def __init__(self, session: Session, out: Path, parts: Path, workers: int, context: Any,
                 stop: _StopFlag) -> None:
        self.session, self.out, self.parts, self.workers = session, out, parts, workers
        self.context, self.stop = context, stop
        self.pool: ProcessPoolExecutor | None = None
        self.window: deque[Any] = deque()          # result lists, or futures pending

    def __enter__(self) -> _Stream:
        if self.workers <= 1:
            global _session, _out, _parts, _stop
            _session, _out, _parts, _stop = self.session, self.out, _PartStore(self.parts), self.stop
        else:
            # With fork the workers share the session loaded and checked in pass 1.
            self.pool = ProcessPoolExecutor(self.workers, mp_context=self.context,
                                            initializer=_start_worker,
                                            initargs=(self.session, self.out, self.parts,
                                                      self.stop.shared))
        return self

    def _submit(self, chunk: list[tuple[int, Row]]) -> None:
        if self.pool is None:
            self.window.append(_render_chunk(chunk))
        else:
            self.window.append(self.pool.submit(_render_chunk, chunk))

    def _take(self) -> list[tuple[Outcome, _Sheets | None]]:
        head = self.window[0]
        self.stop.is_set()          # a stop asked since the last result reaches the workers now
        try:
            while not isinstance(head, list):
                try:    # waking often: a stop asked meanwhile reaches the workers at once
                    results: list[tuple[Outcome, _Sheets | None]] = head.result(timeout=0.1)
                    break
                except FuturesTimeout:
                    self.stop.is_set()
            else:
                results = head
        except BrokenProcessPool:
            raise WorkerLost("a worker process stopped unexpectedly (killed?); fills already "
                             "done are kept: run the same command again to resume") from None
        self.window.popleft()
        return results

    def run(self, items: Iterator[_Item]) -> Iterator[tuple[Outcome, _Sheets | None]]:
        in_flight = 4 * max(self.workers, 1)
        chunk: list[tuple[int, Row]] = []
        for item in items:
            if self.stop.is_set():         # Ctrl-C: take no more rows; finish what is sent
                chunk = []
                break
            if isinstance(item[0], Outcome):
                if chunk:
                    self._submit(chunk)
                    chunk = []
                self.window.append([item])
            else:
                chunk.append(item)
                if len(chunk) >= self.CHUNK:
                    self._submit(chunk)
                    chunk = []
            while self.window and (len(self.window) > in_flight or isinstance(self.window[0], list)
                                   or self.window[0].done()):
                yield from self._take()
        if chunk:
            self._submit(chunk)
        while self.window:
            yield from self._take()

    def __exit__(self, kind: Any, *_: Any) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=kind is not None)


class _SheetWriter:
    """labels.pdf (one label per page, input order) and leaflets.pdf (each leaflet starting on an
    odd page, for duplex), written page by page to hidden temporary files and renamed whole."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, tuple[AtomicFile, PdfWriter]] = {}

    def _writer(self, name: str, pages: Pages, subject: str, day: dt.date) -> PdfWriter:
        """The sheet's writer, opened at its first page; its date is its first fill's date."""
        if name not in self.files:
            file = AtomicFile(self.directory / name)
            writer = PdfWriter(file.handle, pages.width_pt, pages.height_pt,
                               Info(f"{subject}, batch {self.directory.name}", subject, day))
            self.files[name] = (file, writer)
        return self.files[name][1]

    def add(self, sheets: _Sheets) -> None:
        try:
            self._add_label(sheets)
        except OSError as exc:           # a page reaching a full disk
            raise cannot_write(self.directory / "labels.pdf", exc) from exc
        try:
            self._add_leaflet(sheets)
        except OSError as exc:
            raise cannot_write(self.directory / "leaflets.pdf", exc) from exc

    def _add_label(self, sheets: _Sheets) -> None:
        label, info = sheets.documents["label.pdf"]
        labels = self._writer("labels.pdf", label, "Prescription labels", info.day)
        for page in label.pages:        # each page its own size: large print is a larger stock
            labels.add_page(page, (label.width_pt, label.height_pt))

    def _add_leaflet(self, sheets: _Sheets) -> None:
        leaflet, info = sheets.documents["leaflet.pdf"]
        leaflets = self._writer("leaflets.pdf", leaflet, "Patient leaflets", info.day)
        size = (leaflet.width_pt, leaflet.height_pt)
        for page in leaflet.pages:
            leaflets.add_page(page, size)
        if leaflets.page_count % 2:
            leaflets.add_page((), size)  # a blank back, so the next leaflet starts on a front

    def finish(self) -> list[AtomicFile]:
        """The sheets' files, their PDFs ended, to be committed with the summaries."""
        files = []
        for name in sorted(self.files):
            file, writer = self.files[name]
            try:
                writer.close()
            except OSError as exc:
                raise cannot_write(file.path, exc) from exc
            files.append(file)
        return files

    def remove_empty(self) -> None:
        """A sheet with no page this run (every fill failed) is removed, so an older sheet never
        waits by the printer beside a summary that says otherwise."""
        for name in ("labels.pdf", "leaflets.pdf"):
            if name not in self.files:
                (self.directory / name).unlink(missing_ok=True)
        self.files.clear()

    def discard(self) -> None:
        for file, _ in self.files.values():
            file.discard()
        self.files.clear()


SUMMARY_COLUMNS = ("row", "rx_number", "fill_number", "status", "bud", "warnings", "error")


class _SummaryWriter:
    """summary.csv and summary.json, a row per fill, streamed to hidden temporary files. Status
    is `ok` whether this run rendered the fill or found it complete, so the same inputs give the
    same summary bytes."""

    def __init__(self, directory: Path, ident: str, inputs: Sequence[Path]) -> None:
        self.directory, self.ident, self.inputs = directory, ident, inputs
        self.counts = {"fills": 0, "ok": 0, "failed": 0}
        self.files: dict[str, AtomicFile] = {}   # summary.csv, and .rows: summary.json's rows

    def _open(self, name: str) -> Any:
        if name not in self.files:
            self.files[name] = AtomicFile(self.directory / name, "w", encoding="utf-8", newline="")
        return self.files[name].handle

    def add(self, o: Outcome) -> None:
        try:
            self._add(o)
        except OSError as exc:           # a row reaching a full disk
            raise cannot_write(self.directory / "summary.csv", exc) from exc

    def _add(self, o: Outcome) -> None:
        rx, _, fill = (o.key or "").rpartition("-")
        status = "ok" if o.ok else "failed"
        row = {"row": o.where, "rx_number": rx or None, "fill_number": int(fill) if fill else None,
               "status": status, "bud": o.bud, "warnings": list(o.warnings), "error": o.error}
        self.counts["fills"] += 1
        self.counts[status] += 1
        table = self._open("summary.csv")
        if self.counts["fills"] == 1:
            table.write(",".join(SUMMARY_COLUMNS) + "\n")
        csv.writer(table, lineterminator="\n").writerow(
            [o.where, rx, fill, status, o.bud or "", "; ".join(o.warnings),
             " | ".join((o.error or "").splitlines())])
        rows = self._open(".rows")
        rows.write(("    " if self.counts["fills"] == 1 else ",\n    ") + orjson.dumps(row).decode())

    def finish(self) -> list[AtomicFile]:
        """summary.json (the counts first, then the rows, one per line) and summary.csv, to be
        committed together."""
        head = orjson.dumps({"batch": self.ident, "inputs": [p.name for p in self.inputs],
                             **self.counts}, option=orjson.OPT_INDENT_2).decode()
        rows = self.files[".rows"]
        summary = AtomicFile(self.directory / "summary.json", "w", encoding="utf-8")
        self.files["summary.json"] = summary
        try:
            rows.handle.close()
            with rows.tmp.open(encoding="utf-8") as body:
                summary.handle.write(head[:-2] + ',\n  "rows": [\n')
                shutil.copyfileobj(body, summary.handle)
                summary.handle.write("\n  ]\n}\n")
        except OSError as exc:
            raise cannot_write(summary.path, exc) from exc
        self.files.pop(".rows").discard()   # a scratch file: its rows are now in summary.json
        return [self.files["summary.json"], self.files["summary.csv"]]

    def discard(self) -> None:
        for file in self.files.values():
            file.discard()
        self.files.clear()


# ---- the sheets again, for printing --------------------------------------------------------------


def rebuild_sheets(directory: Path, fills: Sequence[tuple[str, dict[str, Any], str]]) -> dict[str, bytes]:
    """The combined sheets of batch folder `directory`, made again in memory from its parts of
    `fills` (key, the fill's record, the SHA-256 of its fill.json), in sheet order; each part
    is checked against its record as a resumed run checks it. `leaflets print` compares these
    bytes with labels.pdf and leaflets.pdf, so a sheet prints only as its fills were recorded.
    A fill without a whole part raises OutputError naming it."""
    parts = _PartStore(directory / "parts")
    with tempfile.TemporaryDirectory(prefix="leaflets-") as scratch:   # 0700, opaque name
        (Path(scratch) / directory.name).mkdir()     # the sheets' titles name the batch folder
        sheets = _SheetWriter(Path(scratch) / directory.name)
        try:
            for key, record, digest in fills:
                found = parts.load(key, record, digest)
                if found is None:
                    raise OutputError(f"{directory / 'parts' / key}.json: missing or does not match "
                                      f"Rx {key}'s record; run the batch again to rebuild its sheets")
                sheets.add(found)
            sheets_read = {}
            for file in sheets.finish():
                file.finish(durable=False)       # flushed and closed: the whole PDF
                sheets_read[file.path.name] = file.tmp.read_bytes()
            return sheets_read
        finally:
            sheets.discard()
