"""`leaflets print`: a fill's label to the label printer and its leaflet to the document printer
(a batch: its combined sheets), each checked against its record first; every queue is checked
before any job is sent, and each job sent appends a "print" row to the ledger with its queue
and job id, the fill's own fields copied from its latest render row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]

from ..record.ledger import FIELDS, Ledger, LedgerError
from . import PrintError
from .cups import check_queue, check_scheduler, submit
from .documents import Document, Target, find_target
from .socket9100 import send_raw
from .zpl import label_zpl

# Job options (../shared/reference/printing.md §1). A label prints at 100 % on its own stock:
# a scaled label breaks the barcode, the QR and the minimum type size, so every way CUPS or a
# printer default could scale is turned off; the leaflet likewise (its type has a minimum too).
NO_SCALING = {"print-scaling": "none", "fit-to-page": "false", "scaling": "100"}
# Copies of a label with warnings labels, or of a leaflet, come out as whole sets (printing.md
# §1: collate=true for multi-page copies), so each container's labels stay together.
COLLATE = {"collate": "true"}
# Named sizes for the document printer (PWG self-describing names, which CUPS maps to a PPD's
# PageSize and an IPP printer's media); a label's stock is a custom size in points.
NAMED_MEDIA = {(612.0, 792.0): "na_letter_8.5x11in", (595.0, 842.0): "iso_a4_210x297mm"}


@dataclass(frozen=True)
class Request:
    target: str                      # RX-FILL or BATCH-ID
    out: Path
    labels: str | None               # CUPS queues
    documents: str | None
    copies: int = 1
    format: str = "pdf"              # pdf | zpl (the label only)
    zpl_to: tuple[str, int] | None = None
    dpi: int = 203
    user: str = ""
    at: Callable[[], str] = str      # the wall clock (record.stage.now)


@dataclass(frozen=True)
class Job:
    document: str
    destination: str                 # the queue, or tcp host:port
    job: str                         # CUPS job id, or tcp host:port
    copies: int
    format: str


def media_of(data: bytes, name: str) -> str:
    """The media option for a PDF whose pages all share one size (its stock's, or Letter)."""
    document = pdfium.PdfDocument(data)
    try:
        sizes = {tuple(round(v, 2) for v in document[i].get_size()) for i in range(len(document))}
    finally:
        document.close()
    if len(sizes) != 1:
        shown = ", ".join(f"{w:g} × {h:g} pt" for w, h in sorted(sizes))
        raise PrintError(f"{name}: its pages are of different sizes ({shown}), which one job cannot "
                         "print at 100 %; print its fills one by one; nothing printed")
    ((width, height),) = sizes
    return NAMED_MEDIA.get((width, height), f"Custom.{width:g}x{height:g}")


@dataclass(frozen=True)
class _Plan:
    document: Document
    queue: str | None                # None: straight to request.zpl_to
    data: bytes
    options: dict[str, str]
    lp_copies: int
    format: str


def _plan(target: Target, request: Request) -> list[_Plan]:
    plans = []
    for doc in target.documents:
        queue = _queue(request, doc.label)
        if doc.label and request.format == "zpl":
            # ZPL carries its own size (^PW, ^LL) and copies (^PQ): a raw job, sent unchanged.
            data = label_zpl(doc.data, request.dpi, request.copies)
            plans.append(_Plan(doc, queue, data, {"raw": ""}, 1, "zpl"))
            continue
        options = {"media": media_of(doc.data, doc.name), **NO_SCALING, **COLLATE,
                   "sides": "one-sided" if doc.label else "two-sided-long-edge"}
        plans.append(_Plan(doc, queue, doc.data, options, request.copies, "pdf"))
    return plans


def _queue(request: Request, label: bool) -> str | None:
    """The queue a label or a document goes to; None for a ZPL label sent straight to a
    printer (--zpl-to)."""
    if label and request.format == "zpl" and request.zpl_to:
        return None
    which = "labels" if label else "documents"
    queue = request.labels if label else request.documents
    if not queue:
        raise PrintError(f"no {which} printer: give --{which} QUEUE or set printers.{which} in "
                         "the pharmacy profile; nothing printed")
    return queue


def _check(queues: Iterable[str | None]) -> None:
    """The scheduler once, then each queue once, before any job is sent."""
    named = [queue for queue in dict.fromkeys(queues) if queue]
    if named:
        check_scheduler()
    for queue in named:
        check_queue(queue)


def _event(row: dict[str, Any], detail: dict[str, Any], request: Request) -> dict[str, Any]:
    event = {name: row[name] for name in FIELDS}
    event.update(kind="print", user=request.user, at=request.at(), detail=detail)
    return event


def check_queues(request: Request) -> None:
    """Every queue a fill's print would use (its label's, unless ZPL goes straight to a
    printer, and its leaflet's) is named, there, started and accepting jobs; else a PrintError
    naming it (for a reprint, before anything is made)."""
    _check(_queue(request, label) for label in (True, False))


def print_target(request: Request, ledger: Ledger) -> list[Job]:
    """Check, then send each document, then record it; the jobs sent, in order."""
    target = find_target(request.out, request.target, ledger)
    plans = _plan(target, request)
    _check(p.queue for p in plans)
    jobs: list[Job] = []
    for plan in plans:
        doc = plan.document
        try:
            if plan.queue is None:
                assert request.zpl_to is not None
                host, port = request.zpl_to
                send_raw(host, port, plan.data)
                destination = job = f"tcp {host}:{port}"
            else:
                destination = plan.queue
                job = submit(plan.queue, plan.data, doc.title, plan.options, plan.lp_copies)
        except PrintError as err:
            if jobs:
                sent = ", ".join(f"{j.document} ({j.job})" for j in jobs)
                raise PrintError(f"{err} ({sent} already sent and recorded)") from None
            raise
        detail: dict[str, Any] = {"queue": plan.queue, "job": job, "copies": request.copies,
                                  "format": plan.format, "document": doc.name}
        if target.kind == "batch":
            detail["batch"] = target.name
        try:
            for row in doc.rows:
                ledger.append(_event(row, detail, request))
        except LedgerError as err:
            raise LedgerError(f"{doc.name} was sent ({job}) but not recorded: {err}") from None
        jobs.append(Job(doc.name, destination, job, request.copies, plan.format))
    return jobs
