"""Batch: a day's fills in one run. Read and validate every row first, render each fill exactly as
`leaflets render` would (in worker processes), then file the combined print sheets and a summary.

    out/<rx>-<fill>/                label.pdf, leaflet.pdf, fill.json      (as `leaflets render`)
    out/batches/<batch-id>/         labels.pdf, leaflets.pdf, summary.json, summary.csv
    out/batches/<batch-id>/parts/   each fill's recorded pages, so a resumed run can rebuild the
                                    combined sheets without rendering complete fills again

Crash safety: every file reaches its name only whole (write.write_atomic), a fill's record is
written after its PDFs, and its part after its record. A killed run leaves at most hidden
`.*.tmp` files, which the next run removes; running the same command again skips every fill whose
record, PDFs and part are complete and whose hashes match, renders the rest and rebuilds the
combined sheets. Fills are not fsynced one by one (that was 40% of a batch's time): the run
syncs once before writing the sheets and summary, and because resuming re-checks every hash, a
power cut mid-batch costs at most re-rendering what did not reach the disk.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import multiprocessing
import os
import shutil
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .errors import InputError, LeafletsError, OutputError, Problem
from .load import Row, iter_batch, validate_row
from .pdf import Info, Ops, PdfWriter
from .pipeline import Session, Settings, sha256
from .render import Pages
from .write import remove_stale_temporaries, temporary, write_atomic, write_outputs


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


class Interrupted(LeafletsError):
    """Ctrl-C: the run stopped cleanly; what is complete stays, and a rerun resumes."""

    exit_code = 130


Report = Callable[[Outcome, int], None]       # (outcome, total rows)


# ---- parts: a fill's recorded pages, on disk as JSON (never pickle: out/ is not trusted code) ---


def _ops_json(ops: Ops) -> dict[str, Any]:
    return {"shared": ops.key} if ops.key else {"code": ops.code, "fonts": sorted(ops.fonts)}


def _part_json(key: str, record: str, day: dt.date, label: Pages, leaflet: Pages) -> bytes:
    part = {"key": key, "record": record, "fill_date": day.isoformat(),
            "label": [[_ops_json(o) for o in page] for page in label.pages],
            "label_size_pt": [label.width_pt, label.height_pt],
            "leaflet": [[_ops_json(o) for o in page] for page in leaflet.pages],
            "leaflet_size_pt": [leaflet.width_pt, leaflet.height_pt]}
    return orjson.dumps(part)


def _shared_json(ops: Ops) -> bytes:
    return orjson.dumps({"code": ops.code, "fonts": sorted(ops.fonts)})


@dataclass(frozen=True)
class _Sheets:
    """One fill's pages for the combined sheets."""

    record: str                 # SHA-256 of the fill.json these pages belong to
    day: dt.date                # the fill date
    label: Pages
    leaflet: Pages


class _PartStore:
    """parts/<key>.json for each fill and parts/shared/<key>.json for each shared page."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._shared: dict[str, Ops] = {}
        self._saved: set[str] = set()

    def files(self, key: str, sheets: _Sheets) -> list[tuple[Path, bytes]]:
        """The files that save a fill's part: shared pages not yet saved, then the part. Parts
        are a cache checked on reading, so they skip fsync."""
        files = []
        for page in sheets.leaflet.pages:
            for ops in page:
                if ops.key and ops.key not in self._saved:
                    path = self.directory / "shared" / f"{ops.key}.json"
                    if not path.exists():
                        files.append((path, _shared_json(ops)))
                    self._saved.add(ops.key)
        part = _part_json(key, sheets.record, sheets.day, sheets.label, sheets.leaflet)
        return [*files, (self.directory / f"{key}.json", part)]

    def load(self, key: str, record: str) -> _Sheets | None:
        """The saved pages, or None when the part is missing, unreadable, or belongs to another
        version of the fill's record (a run killed after the record, before the part)."""
        try:
            data = orjson.loads((self.directory / f"{key}.json").read_bytes())
            if data["key"] != key or data["record"] != record:
                return None
            (lw, lh), (dw, dh) = data["label_size_pt"], data["leaflet_size_pt"]
            label = Pages(float(lw), float(lh), self._pages(data["label"]))
            leaflet = Pages(float(dw), float(dh), self._pages(data["leaflet"]))
            day = dt.date.fromisoformat(data["fill_date"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return _Sheets(record, day, label, leaflet)

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


# ---- workers -------------------------------------------------------------------------------------

_session: Session | None = None
_out: Path | None = None
_parts: _PartStore | None = None


_stop: Any = None        # set by the parent on Ctrl-C: finish the current fill, take no more
_completed = 0          # fills this process has written whole (for Ctrl-C's count)


def _start_worker(settings: Settings, out: Path, parts: Path, stop: Any = None,
                  session: Session | None = None) -> None:
    global _session, _out, _parts, _stop, _completed
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    _session = session or Session(settings)
    _out, _parts, _stop, _completed = out, _PartStore(parts), stop, 0


def _render_chunk(tasks: list[tuple[int, Row]]) -> list[tuple[Outcome, _Sheets | None]]:
    """Render rows and write their files: each fill's outputs (record last), then its part."""
    global _completed
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
        except LeafletsError as err:
            results.append((Outcome(index, row.where, key, "failed", error=str(err)), None))
            continue
        sheets = _Sheets(sha256(rendered.files["fill.json"]), loaded.model.fill_date,
                         rendered.label, rendered.leaflet)
        try:
            write_outputs(_out / rendered.key, rendered.files, durable=False)
            for path, data in _parts.files(rendered.key, sheets):
                write_atomic(path, data, durable=False)
        except OutputError as err:
            results.append((Outcome(index, row.where, key, "failed", error=str(err)), None))
            continue
        _completed += 1
        results.append((Outcome(index, row.where, rendered.key, "rendered",
                                rendered.record["bud"]["date"], rendered.warnings), sheets))
    return results


# ---- the run -------------------------------------------------------------------------------------


@dataclass
class _Index:
    """What the validation pass keeps: little per row, so memory stays flat for any batch."""

    total: int = 0
    batch_id: str = ""
    failures: dict[int, tuple[str | None, str]] = field(default_factory=dict)   # row: key, error
    complete: dict[int, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    # row: its record's hash, BUD and warnings


def _validate_all(inputs: Sequence[Path], session: Session, out: Path, parts: Callable[[str], _PartStore]
                  ) -> _Index:
    """Pass 1: read and validate every row before anything renders; find duplicates and fills
    that are already complete. An input that cannot be read stops the batch (exit 2)."""
    index = _Index()
    problems: list[Problem] = []
    first: dict[str, str] = {}       # <rx>-<fill>: where it first appears (for duplicates)
    digest = hashlib.sha256()
    stem = ""
    completes: list[tuple[int, str, dict[str, Any]]] = []
    for number, row in enumerate(iter_batch(inputs, problems), start=1):
        index.total = number
        stem = stem or Path(row.source.file).stem
        digest.update(f"{Path(row.source.file).name}\0{row.source.first_line}\0".encode())
        digest.update(row.source.text.encode() + b"\0")
        try:
            loaded = validate_row(row)
            key = loaded.model.key
            if key in first:
                fill = loaded.model
                index.failures[number] = (key, f"{row.where}: rx_number: Rx {fill.rx_number} fill "
                                               f"{fill.fill_number} is already in this batch at {first[key]}")
                continue
            first[key] = row.where
            made_with = session.made_with(loaded)      # also: the product exists and is sound
        except InputError as err:
            index.failures[number] = (None, str(err))
            continue
        if (out / key).is_dir():
            remove_stale_temporaries([out / key])
            found = _complete_record(out / key, made_with)
            if found is not None:
                completes.append((number, key, {"record": found[1], "bud": found[0]["bud"]["date"],
                                                "warnings": tuple(found[0]["warnings"])}))
    if problems:
        raise InputError(problems)
    if not index.total:
        raise InputError.one(", ".join(map(str, inputs)), "", "no fills in the input")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:40] or "batch"
    index.batch_id = f"{safe}-{digest.hexdigest()[:12]}"
    store = parts(index.batch_id)
    for number, key, info in completes:
        if store.load(key, info["record"]) is not None:
            index.complete[number] = (info["record"], info["bud"], info["warnings"])
    return index


def _complete_record(directory: Path, made_with: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The fill's record and its hash, if its outputs are whole, match their recorded hashes,
    and were made from exactly these inputs, templates, fonts and versions."""
    try:
        data = (directory / "fill.json").read_bytes()
        record: dict[str, Any] = orjson.loads(data)
        if record.get("made_with") != made_with:
            return None
        for name, expected in record["outputs"].items():
            if sha256((directory / name).read_bytes()) != expected["sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return record, sha256(data)


_Item = tuple[Outcome, _Sheets | None] | tuple[int, Row]    # a known result, or a row to render


def _items(inputs: Sequence[Path], index: _Index, parts: _PartStore) -> Iterator[_Item]:
    """Pass 2: the rows again, in order: failures and complete fills as results, the rest as
    rows to render."""
    for number, row in enumerate(iter_batch(inputs, []), start=1):
        if number in index.failures:
            key, error = index.failures[number]
            yield Outcome(number, row.where, key, "failed", error=error), None
        elif number in index.complete:
            record, bud, warnings = index.complete[number]
            key = validate_row(row).model.key
            pages = parts.load(key, record)
            if pages is None:           # checked in pass 1; changed since by someone else
                raise OutputError(f"{parts.directory / key}.json changed during the run; run the "
                                  "same command again")
            yield Outcome(number, row.where, key, "skipped", bud, warnings), pages
        else:
            yield number, row


def run_batch(inputs: Sequence[Path], settings: Settings, out: Path, *, workers: int,
              report: Report | None = None) -> BatchResult:
    session = Session(settings)
    index = _validate_all(inputs, session, out, lambda ident: _PartStore(out / "batches" / ident / "parts"))
    directory = out / "batches" / index.batch_id
    parts = _PartStore(directory / "parts")
    remove_stale_temporaries([directory])
    sheets = _SheetWriter(directory)
    summary = _SummaryWriter(directory, index.batch_id, inputs)
    counts = {"rendered": 0, "skipped": 0, "failed": 0}
    failed: list[Outcome] = []
    stream = _Stream(settings, out, parts.directory, workers, session)
    try:
        with stream:
            for outcome, pages in stream.run(_items(inputs, index, parts)):
                if pages is not None:
                    sheets.add(pages)
                summary.add(outcome)
                counts[outcome.status] += 1
                if not outcome.ok:
                    failed.append(outcome)
                if report:
                    report(outcome, index.total)
    except KeyboardInterrupt:
        sheets.discard()
        summary.discard()
        kept = max(stream.rendered, _completed) + len(index.complete)
        raise Interrupted(f"interrupted: {kept} of {index.total} fills are complete and kept. Run "
                          f"the same command again to resume (complete fills are skipped); the "
                          f"combined sheets are written when a run finishes.") from None
    except BaseException:
        sheets.discard()
        summary.discard()
        raise
    os.sync()       # every fill's files reach the disk before the sheets and summary say so
    written = sheets.close() + summary.close()
    return BatchResult(index.batch_id, directory, index.total, counts["rendered"],
                       counts["skipped"], tuple(failed), tuple(written))


class _Stream:
    """Render rows in order, in this process for one worker, else in a pool, with a bounded
    number of chunks in flight (so rows are read only as fast as they are rendered)."""

    CHUNK = 16

    def __init__(self, settings: Settings, out: Path, parts: Path, workers: int,
                 session: Session) -> None:
        self.settings, self.out, self.parts = settings, out, parts
        self.workers, self.session = workers, session
        self.pool: Any = None
        self.stop: Any = None
        self.window: deque[Any] = deque()          # result lists, or pool results pending
        self.rendered = 0                          # fills reported rendered, drained ones too

    def __enter__(self) -> _Stream:
        if self.workers <= 1:
            previous = signal.getsignal(signal.SIGINT)
            _start_worker(self.settings, self.out, self.parts, session=self.session)
            signal.signal(signal.SIGINT, previous)
            return self
        # fork shares the parent's loaded session; elsewhere, each worker loads its own.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        self.stop = context.Event()
        self.pool = context.Pool(self.workers, initializer=_start_worker,
                                 initargs=(self.settings, self.out, self.parts, self.stop))
        return self

    def _submit(self, chunk: list[tuple[int, Row]]) -> None:
        if self.pool is None:
            self.window.append(_render_chunk(chunk))
        else:
            self.window.append(self.pool.apply_async(_render_chunk, (chunk,)))

    def _take(self) -> list[tuple[Outcome, _Sheets | None]]:
        head = self.window.popleft()
        results: list[tuple[Outcome, _Sheets | None]] = head if isinstance(head, list) else head.get()
        return results

    def run(self, items: Iterator[_Item]) -> Iterator[tuple[Outcome, _Sheets | None]]:
        in_flight = 4 * max(self.workers, 1)
        chunk: list[tuple[int, Row]] = []
        for item in items:
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
                                   or self.window[0].ready()):
                yield from self._track(self._take())
        if chunk:
            self._submit(chunk)
        while self.window:
            yield from self._track(self._take())

    def _track(self, results: list[tuple[Outcome, _Sheets | None]]) -> list[tuple[Outcome, _Sheets | None]]:
        self.rendered += sum(o.status == "rendered" for o, _ in results)
        return results

    def __exit__(self, kind: Any, *_: Any) -> None:
        if self.pool is None:
            return
        if kind is KeyboardInterrupt:
            # Workers finish the fill in hand and return; nothing is cut off mid-write.
            self.stop.set()
            while self.window:
                head = self.window.popleft()
                if not isinstance(head, list):
                    self._track(head.get())
            self.pool.close()
        elif kind is None:
            self.pool.close()
        else:
            self.pool.terminate()
        self.pool.join()


class _SheetWriter:
    """labels.pdf (one label per page, input order) and leaflets.pdf (each leaflet starting on an
    odd page, for duplex), written page by page to hidden temporary files and renamed whole."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, tuple[Path, Any, PdfWriter]] = {}

    def _writer(self, name: str, pages: Pages, subject: str, day: dt.date) -> PdfWriter:
        """The sheet's writer, opened at its first page; its date is its first fill's date."""
        if name not in self.files:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = temporary(self.directory / name)
            handle = os.fdopen(fd, "wb")
            writer = PdfWriter(handle, pages.width_pt, pages.height_pt,
                               Info(f"{subject}, batch {self.directory.name}", subject, day))
            self.files[name] = (Path(tmp), handle, writer)
        return self.files[name][2]

    def add(self, sheets: _Sheets) -> None:
        labels = self._writer("labels.pdf", sheets.label, "Prescription labels", sheets.day)
        for page in sheets.label.pages:
            labels.add_page(page)
        leaflets = self._writer("leaflets.pdf", sheets.leaflet, "Patient leaflets", sheets.day)
        for page in sheets.leaflet.pages:
            leaflets.add_page(page)
        if leaflets.page_count % 2:
            leaflets.add_page(())        # a blank back, so the next leaflet starts on a front

    def close(self) -> list[Path]:
        written = []
        for name, (tmp, handle, writer) in sorted(self.files.items()):
            try:
                writer.close()
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
                os.replace(tmp, self.directory / name)
            except OSError as exc:
                self.discard()
                raise OutputError(f"{self.directory / name}: cannot write: {exc.strerror}") from exc
            written.append(self.directory / name)
        self.files.clear()
        return written

    def discard(self) -> None:
        for tmp, handle, _ in self.files.values():
            handle.close()
            tmp.unlink(missing_ok=True)
        self.files.clear()


SUMMARY_COLUMNS = ("row", "rx_number", "fill_number", "status", "bud", "warnings", "error")


class _SummaryWriter:
    """summary.csv and summary.json, a row per fill, streamed to hidden temporary files. Status
    is `ok` whether this run rendered the fill or found it complete, so the same inputs give the
    same summary bytes."""

    def __init__(self, directory: Path, ident: str, inputs: Sequence[Path]) -> None:
        self.directory, self.ident, self.inputs = directory, ident, inputs
        self.counts = {"fills": 0, "ok": 0, "failed": 0}
        self.handles: dict[str, tuple[Path, Any]] = {}

    def _open(self, name: str) -> Any:
        if name not in self.handles:
            fd, tmp = temporary(self.directory / name)
            self.handles[name] = (Path(tmp), os.fdopen(fd, "w", encoding="utf-8", newline=""))
        return self.handles[name][1]

    def add(self, o: Outcome) -> None:
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

    def close(self) -> list[Path]:
        """summary.json: the counts first, then the rows, one per line."""
        head = orjson.dumps({"batch": self.ident, "inputs": [p.name for p in self.inputs],
                             **self.counts}, option=orjson.OPT_INDENT_2).decode()
        rows_tmp, rows = self.handles.pop(".rows")
        rows.close()
        fd, tmp = temporary(self.directory / "summary.json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle, rows_tmp.open(encoding="utf-8") as body:
            handle.write(head[:-2] + ',\n  "rows": [\n')
            shutil.copyfileobj(body, handle)
            handle.write("\n  ]\n}\n")
            handle.flush()
            os.fsync(handle.fileno())
        rows_tmp.unlink()
        os.replace(tmp, self.directory / "summary.json")
        table_tmp, table = self.handles.pop("summary.csv")
        table.flush()
        os.fsync(table.fileno())
        table.close()
        os.replace(table_tmp, self.directory / "summary.csv")
        return [self.directory / "summary.json", self.directory / "summary.csv"]

    def discard(self) -> None:
        for tmp, handle in self.handles.values():
            handle.close()
            tmp.unlink(missing_ok=True)
        self.handles.clear()
