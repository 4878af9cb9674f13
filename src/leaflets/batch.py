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
import io
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .errors import InputError, LeafletsError, OutputError
from .load import Row, read_batch, validate_row
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
    outcomes: tuple[Outcome, ...]
    written: tuple[Path, ...]   # combined sheets and summaries

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)


class Interrupted(LeafletsError):
    """Ctrl-C: the run stopped cleanly; what is complete stays, and a rerun resumes."""

    exit_code = 130


Report = Callable[[Outcome, int], None]       # (outcome, total rows)


def batch_id(rows: Sequence[Row]) -> str:
    """Derived from the inputs only: each row's file name and content."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(f"{Path(row.source.file).name}\0{row.source.first_line}\0".encode())
        digest.update(row.source.text.encode())
        digest.update(b"\0")
    stem = Path(rows[0].source.file).stem if rows else "batch"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:40] or "batch"
    return f"{safe}-{digest.hexdigest()[:12]}"


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


def _start_worker(settings: Settings, out: Path, parts: Path, stop: Any = None,
                  session: Session | None = None) -> None:
    global _session, _out, _parts, _stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    _session = session or Session(settings)
    _out, _parts, _stop = out, _PartStore(parts), stop


def _render_chunk(tasks: list[tuple[int, Row]]) -> list[tuple[Outcome, _Sheets | None]]:
    """Render rows and write their files: each fill's outputs (record last), then its part."""
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
        results.append((Outcome(index, row.where, rendered.key, "rendered",
                                rendered.record["bud"]["date"], rendered.warnings), sheets))
    return results


# ---- the run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    index: int
    row: Row
    key: str | None
    bud: str | None = None
    warnings: tuple[str, ...] = ()
    failure: str | None = None        # a validation failure: nothing to render
    complete: bool = False            # already rendered, hashes match: skip
    record: str = ""                  # then: the SHA-256 of its fill.json


def _plan(rows: Sequence[Row], session: Session, out: Path, parts: _PartStore) -> list[_Plan]:
    """Validate every row before anything renders; find duplicates and complete fills."""
    plans: list[_Plan] = []
    first: dict[str, str] = {}
    for index, row in enumerate(rows, start=1):
        try:
            loaded = validate_row(row)
            key = loaded.model.key
            if key in first:
                fill = loaded.model
                plans.append(_Plan(index, row, key, failure=(
                    f"{row.where}: rx_number: Rx {fill.rx_number} fill {fill.fill_number} is "
                    f"already in this batch at {first[key]}")))
                continue
            first[key] = row.where
            made_with = session.made_with(loaded)      # also: the product exists and is sound
        except InputError as err:
            plans.append(_Plan(index, row, None, failure=str(err)))
            continue
        found = _complete_record(out / key, made_with)
        if found is not None and parts.load(key, found[1]) is not None:
            record, digest = found
            plans.append(_Plan(index, row, key, record["bud"]["date"], tuple(record["warnings"]),
                               complete=True, record=digest))
        else:
            plans.append(_Plan(index, row, key))
    return plans


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


def run_batch(inputs: Sequence[Path], settings: Settings, out: Path, *, workers: int,
              report: Report | None = None) -> BatchResult:
    rows = read_batch(inputs)
    if not rows:
        raise InputError.one(", ".join(map(str, inputs)), "", "no fills in the input")
    session = Session(settings)
    ident = batch_id(rows)
    directory = out / "batches" / ident
    parts = _PartStore(directory / "parts")
    plans = _plan(rows, session, out, parts)
    remove_stale_temporaries([directory, *(out / p.key for p in plans if p.key)])

    todo = [(p.index, p.row) for p in plans if p.failure is None and not p.complete]
    outcomes: list[Outcome] = []
    sheets = _SheetWriter(directory)
    try:
        with _Results(todo, settings, out, parts.directory, workers, session) as results:
            for plan in plans:
                if plan.failure is not None:
                    outcome, pages = Outcome(plan.index, plan.row.where, plan.key, "failed",
                                             error=plan.failure), None
                elif plan.complete:
                    assert plan.key is not None
                    outcome = Outcome(plan.index, plan.row.where, plan.key, "skipped", plan.bud,
                                      plan.warnings)
                    pages = parts.load(plan.key, plan.record)
                    if pages is None:       # checked in _plan; changed since by someone else
                        raise OutputError(f"{parts.directory / plan.key}.json changed during "
                                          "the run; run the same command again")
                else:
                    outcome, pages = next(results)
                if pages is not None:
                    sheets.add(pages)
                outcomes.append(outcome)
                if report:
                    report(outcome, len(plans))
    except KeyboardInterrupt:
        sheets.discard()
        kept = sum((out / p.key / "fill.json").exists() for p in plans if p.key and not p.failure)
        raise Interrupted(f"interrupted: {kept} of {len(plans)} fills are complete and kept. Run "
                          f"the same command again to resume (complete fills are skipped); the "
                          f"combined sheets are written when a run finishes.") from None
    except BaseException:
        sheets.discard()
        raise
    os.sync()       # every fill's files reach the disk before the sheets and summary say so
    written = sheets.close()
    written += _write_summary(directory, ident, inputs, outcomes)
    return BatchResult(ident, directory, tuple(outcomes), tuple(written))


class _Results:
    """Render the rows to do, in order: in this process for one worker, else in a pool."""

    def __init__(self, todo: list[tuple[int, Row]], settings: Settings, out: Path, parts: Path,
                 workers: int, session: Session) -> None:
        self.todo, self.settings, self.out, self.parts = todo, settings, out, parts
        self.workers, self.session = min(workers, max(len(todo), 1)), session
        self.pool: Any = None
        self.stop: Any = None
        self.results: Iterator[tuple[Outcome, _Sheets | None]] = iter(())

    def __enter__(self) -> Iterator[tuple[Outcome, _Sheets | None]]:
        if self.workers <= 1:
            previous = signal.getsignal(signal.SIGINT)
            _start_worker(self.settings, self.out, self.parts, session=self.session)
            signal.signal(signal.SIGINT, previous)
            return self._flat(map(_render_chunk, self._chunks(16)))
        # fork shares the parent's loaded session; elsewhere, each worker loads its own.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        self.stop = context.Event()
        self.pool = context.Pool(self.workers, initializer=_start_worker,
                                 initargs=(self.settings, self.out, self.parts, self.stop))
        size = max(1, min(16, len(self.todo) // (self.workers * 4)))
        self.results = self._flat(self.pool.imap(_render_chunk, self._chunks(size)))
        return self.results

    def _chunks(self, size: int) -> list[list[tuple[int, Row]]]:
        return [self.todo[i:i + size] for i in range(0, len(self.todo), size)]

    @staticmethod
    def _flat(chunks: Iterator[list[tuple[Outcome, _Sheets | None]]]
              ) -> Iterator[tuple[Outcome, _Sheets | None]]:
        for chunk in chunks:
            yield from chunk

    def __exit__(self, kind: Any, *_: Any) -> None:
        if self.pool is None:
            return
        if kind is KeyboardInterrupt:
            # Workers finish the fill in hand and return; nothing is cut off mid-write.
            self.stop.set()
            for _ in self.results:
                pass
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


def _write_summary(directory: Path, ident: str, inputs: Sequence[Path],
                   outcomes: list[Outcome]) -> list[Path]:
    """summary.json and summary.csv. Status is `ok` whether this run rendered the fill or found
    it complete, so the same inputs give the same summary bytes."""
    rows: list[dict[str, Any]] = []
    for o in outcomes:
        rx, _, fill = (o.key or "").rpartition("-")
        rows.append({"row": o.where, "rx_number": rx or None, "fill_number": int(fill) if fill else None,
                     "status": "ok" if o.ok else "failed", "bud": o.bud,
                     "warnings": list(o.warnings), "error": o.error})
    summary = {"batch": ident, "inputs": [p.name for p in inputs],
               "fills": len(rows), "ok": sum(r["status"] == "ok" for r in rows),
               "failed": sum(r["status"] == "failed" for r in rows), "rows": rows}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for r in rows:
        writer.writerow([r["row"], r["rx_number"] or "", "" if r["fill_number"] is None else r["fill_number"],
                         r["status"], r["bud"] or "", "; ".join(r["warnings"]),
                         " | ".join((r["error"] or "").splitlines())])
    files = {"summary.json": orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n",
             "summary.csv": buf.getvalue().encode()}
    return write_outputs(directory, files)
