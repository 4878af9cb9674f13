"""The record stage: publish a fill (pipeline.write_fill, as `render` and `batch` both do) and
append its row to the ledger. The wall clock is read here and only here: the documents stay
reproducible, the ledger says when they were made."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..pipeline import IDENTITY, RenderedFill, Settings, differing, identity, sha256, write_fill
from .ledger import Ledger, LedgerError, json_column, open_ledger
from .location import LEDGER_NAME as LEDGER_NAME
from .location import find_ledger


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):      # no name for this uid (a container): its number
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(rendered: RenderedFill, kind: str, user: str, at: str,
          detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ledger row for a rendered fill, from its record: what it printed, the hashes of its
    outputs and of everything they were made from (inputs, templates, fonts)."""
    record = rendered.record
    fill = record["fill"]
    outputs = {name: value["sha256"] for name, value in record["outputs"].items()}
    outputs["fill.json"] = sha256(rendered.files["fill.json"])
    made_with = record["made_with"]
    inputs = {name: value["sha256"] for name, value in made_with["inputs"].items()}
    inputs.update({f"template:{name}": value for name, value in made_with["templates"].items()})
    inputs.update({f"font:{name}": value for name, value in made_with["fonts"].items()})
    return {"kind": kind, "rx_number": record["rx_number"], "fill_number": record["fill_number"],
            "fill_date": fill["fill_date"], "patient_name": fill["patient"]["name"],
            "date_of_birth": fill["patient"]["date_of_birth"], "product": fill["product"],
            "lot": fill["compounding"]["lot"], "bud": record["bud"]["date"],
            "directions": record["directions"]["printed"], "outputs": outputs,
            "inputs": inputs, "user": user, "at": at, "detail": detail or {}}


# A render row's fill, as read, so that a reprint re-renders it exactly (record/reprint.py).
def render_detail(rendered: RenderedFill, correction: str) -> dict[str, Any]:
    detail: dict[str, Any] = {"fill": rendered.record["fill"]}
    if rendered.source is not None:
        detail["source"] = {"file": rendered.source.file, "line": rendered.source.first_line,
                            "text": rendered.source.text}
    # The stock and leaflet style it was made on (--stock, large print), to make it again.
    detail["label"] = {"stock": rendered.record["label"]["stock"],
                       "style": rendered.record["leaflet"]["style"]}
    if correction:
        detail["correction"] = correction
    return detail


def check_against_ledger(ledger: Ledger, rendered: RenderedFill, correction: str) -> None:
    """Refuse a fill whose Rx and fill number the ledger already holds for another patient,
    product, lot or directions, unless it is a correction (issue 13: `render` and `batch` both
    come here, through publish). The message names the fields that differ, never their values
    (another patient's name must not reach a log), and where the fill was read."""
    rx, number = rendered.record["rx_number"], rendered.record["fill_number"]
    earlier = ledger.last_render(rx, number)
    made = rendered.record["made_with"]["inputs"]["fill"]

    def line(field: str) -> int | None:
        return rendered.source.line_of(field) if rendered.source else made.get("line")

    if correction:
        if earlier is None:
            raise InputError.one(made["file"], "rx_number", (
                f"--correct: Rx {rx} fill {number} is not in the ledger {ledger.path}; there is "
                "nothing to correct"), line("rx_number"))
        return
    if earlier is None:
        return
    differ = differing({field: earlier[column] for field, _, column in IDENTITY},
                       identity(rendered.record))
    if differ:
        raise InputError.one(made["file"], differ[0], (
            f"Rx {rx} fill {number} is in the ledger (row {earlier['id']}, {earlier['at']}, by "
            f"{earlier['user']}) for another patient, product, lot or directions: "
            f"{', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'}. If this fill "
            "corrects that one, render it alone with `leaflets render FILE --correct \"reason\"`"
            "; otherwise check the Rx and fill number"), line(differ[0]))
    if "correction" in json_column(ledger, earlier):
        raise InputError.one(made["file"], "rx_number", (
            f"Rx {rx} fill {number} was corrected (ledger row {earlier['id']}, {earlier['at']}, "
            f"by {earlier['user']}); rendering it again must say why too, so that its documents "
            "keep their CORRECTED: `leaflets render FILE --correct \"reason\"`"), line("rx_number"))


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
    return find_ledger(settings.ledger, settings.pharmacy, out)


def check_ledger(settings: Settings, out: Path) -> Path:
    """Open (create, migrate) the run's ledger before anything is rendered, so a ledger that
    cannot be written stops the run before any fill is published unrecorded."""
    path = ledger_path(settings, out)
    open_ledger(path).close()
    return path


def publish(rendered: RenderedFill, out: Path, settings: Settings, *,
            durable: bool = True, checked: dict[str, Any] | None = None) -> Path:
    """Check the fill against the ledger, publish its documents and record (write_fill), then
    append its 'render' row. A correction replaces the published folder. `checked`: how the
    counter's two-person check went (who entered the fill, its entry), kept in the row."""
    ledger = _ledger(ledger_path(settings, out))
    detail = render_detail(rendered, settings.correct)
    if checked:
        detail["checked"] = checked
    row = event(rendered, "render", settings.user or os_user(), now(), detail)
    written: list[Path] = []

    def check_and_write() -> None:
        """Inside the append's write transaction, so two renders of one Rx at once cannot both
        pass the check; a fill that fails to publish appends nothing."""
        check_against_ledger(ledger, rendered, settings.correct)
        written.append(write_fill(rendered, out, durable=durable,
                                  replace=settings.replace or bool(settings.correct)))
    try:
        ledger.append(row, before=check_and_write)
    except LedgerError as err:
        if not written:
            raise
        raise LedgerError(f"Rx {rendered.key} was written to {written[0]} but not recorded: "
                          f"{err}") from None
    return written[0]
