"""The record stage: publish a fill (pipeline.write_fill, as `render` and `batch` both do) and
append its row to the ledger. The wall clock is read here and only here: the documents stay
reproducible, the ledger says when they were made."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Any

from ..pipeline import RenderedFill, Settings, sha256, write_fill
from .ledger import Ledger, LedgerError, open_ledger
from .location import LEDGER_NAME as LEDGER_NAME
from .location import default_ledger, profile_ledger


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):      # no name for this uid (a container): its number
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(rendered: RenderedFill, kind: str, user: str, at: str) -> dict[str, Any]:
    """A ledger row for a rendered fill, from its record."""
    record = rendered.record
    fill = record["fill"]
    outputs = {name: value["sha256"] for name, value in record["outputs"].items()}
    outputs["fill.json"] = sha256(rendered.files["fill.json"])
    inputs = {name: value["sha256"] for name, value in record["made_with"]["inputs"].items()}
    return {"kind": kind, "rx_number": record["rx_number"], "fill_number": record["fill_number"],
            "fill_date": fill["fill_date"], "patient_name": fill["patient"]["name"],
            "date_of_birth": fill["patient"]["date_of_birth"], "product": fill["product"],
            "lot": fill["compounding"]["lot"], "bud": record["bud"]["date"],
            "directions": record["directions"]["printed"], "outputs": outputs,
            "inputs": inputs, "user": user, "at": at}


# A batch worker appends every fill it renders: it keeps its ledger open (one per process).
_open: dict[tuple[int, Path], Ledger] = {}


def _ledger(path: Path) -> Ledger:
    key = (os.getpid(), path)
    if key not in _open:
        _open[key] = open_ledger(path)
    return _open[key]


def ledger_path(settings: Settings, out: Path) -> Path:
    """The ledger a run writes: --ledger (settings.ledger), else the profile's `ledger:`, else
    ledger.sqlite beside the out folder."""
    return settings.ledger or profile_ledger(settings.pharmacy) or default_ledger(out)


def check_ledger(settings: Settings, out: Path) -> Path:
    """Open (create, migrate) the run's ledger before anything is rendered, so a ledger that
    cannot be written stops the run before any fill is published unrecorded."""
    path = ledger_path(settings, out)
    open_ledger(path).close()
    return path


def publish(rendered: RenderedFill, out: Path, settings: Settings, *,
            durable: bool = True) -> Path:
    """Publish a fill's documents and record (write_fill), then append its 'render' row."""
    directory = write_fill(rendered, out, durable=durable, replace=settings.replace)
    path = ledger_path(settings, out)
    try:
        _ledger(path).append(event(rendered, "render", settings.user or os_user(), now()))
    except LedgerError as err:
        raise LedgerError(f"Rx {rendered.key} was written to {directory} but not recorded: "
                          f"{err}") from None
    return directory
