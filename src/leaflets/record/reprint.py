"""Reprint: a fill's documents made again from the ledger's record of it, identical to what was
printed but for a visible "REPRINT n" (the label's mark, the leaflet's page footers), with the
reason and the count in the ledger.

The render row keeps the fill as it was read (record.stage.render_detail). Before anything is
made, that fill is rendered again without the mark and its outputs must hash to the row's: if a
product, the pharmacy profile, a stock, a template or a font changed since, a reprint would
differ from what the patient has, and it is refused naming the inputs that changed."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..compose import Mark
from ..errors import InputError
from ..load import Loaded, Source
from ..models import Fill
from ..pipeline import LARGE_PRINT_STYLE, RenderedFill, Session, Settings
from ..write import publish_folder
from .ledger import Ledger, LedgerError, json_column
from .stage import event, now, os_user

# Reprints are published beside the fills, one folder each, never inside a fill's folder
# (re-rendering a fill replaces its folder whole).
REPRINTS = "reprints"
DOCUMENTS = ("label.pdf", "leaflet.pdf")


@dataclass(frozen=True)
class Reprinted:
    rendered: RenderedFill
    directory: Path
    number: int
    row: dict[str, Any]


# A fill's key as out/ names its folder (Fill.key): RX-FILL, the fill number as written by
# leaflets (no leading zeros), so a reprint's folder and the key `print` checks are one spelling.
_KEY = re.compile(r"([0-9A-Za-z]+)-(0|[1-9][0-9]{0,5})")


def split_key(key: str) -> tuple[str, int]:
    """'600123-0' → ('600123', 0): an Rx number and its fill number, as out/ names a fill."""
    found = _KEY.fullmatch(key)
    if found is None:
        raise InputError.one(key, "", "expected an Rx number and fill number, as the fill's "
                                      "folder in out/ is named: RX-FILL, e.g. 600123-0")
    return found[1], int(found[2])


def kept_fill(ledger: Ledger, row: dict[str, Any], key: str
              ) -> tuple[Loaded[Fill], dict[str, Any]]:
    """The fill a render row keeps (as it was read), and the row's detail; a row written
    before rows kept their fill is a message saying so (a reprint, the counter's refill)."""
    detail = json_column(ledger, row)
    if "fill" not in detail or "source" not in detail:
        raise InputError.one(key, "", f"ledger row {row['id']} does not keep the fill (it was "
                                      "written by a leaflets before reprints); render the fill "
                                      "again, then reprint it")
    kept = detail["source"]
    try:
        source = Source(str(kept["file"]), str(kept["text"]), first_line=kept["line"])
        return Loaded(Fill.model_validate(detail["fill"]), source), detail
    except (TypeError, KeyError, ValidationError):
        raise LedgerError(f"ledger {ledger.path}: row {row['id']}: the fill it keeps cannot be "
                          "read; render the fill again instead") from None


def _changed(ledger: Ledger, row: dict[str, Any], again: dict[str, Any]) -> list[str]:
    before, now_ = json_column(ledger, row, "inputs"), again["inputs"]
    return sorted(name for name in before.keys() | now_.keys()
                  if before.get(name) != now_.get(name))


def reprint(ledger: Ledger, key: str, reason: str, settings: Settings, out: Path) -> Reprinted:
    """Re-render fill `key` (RX-FILL) from its latest render row, check it is what was printed,
    then, in one ledger write transaction (two reprints at once get two numbers), number it,
    publish it marked REPRINT n to out/reprints/<key>-r<n>/ and append the 'reprint' row."""
    rx, number = split_key(key)
    row = ledger.last_render(rx, number)
    if row is None:
        raise InputError.one(key, "", f"Rx {rx} fill {number} is not in the ledger {ledger.path}")
    loaded, detail = kept_fill(ledger, row, key)
    kept_label = detail.get("label")
    label: dict[str, Any] = kept_label if isinstance(kept_label, dict) else {}
    session = Session(dataclasses.replace(settings, stock=label.get("stock"),
                                          large_print=label.get("style") == LARGE_PRINT_STYLE,
                                          correct="", replace=False))
    corrected = "correction" in detail
    again = session.prepare(loaded, Mark(corrected=True) if corrected else None)
    user = settings.user or os_user()
    check = event(again, "reprint", user, "")
    printed = json_column(ledger, row, "outputs")
    # The documents, not fill.json: that names the files read, which may be spelled otherwise
    # (a relative --catalog) in this run.
    if any(check["outputs"][name] != printed.get(name) for name in DOCUMENTS):
        changed = _changed(ledger, row, check) or ["(none of its recorded inputs: leaflets itself)"]
        raise InputError.one(key, "", (
            f"Rx {rx} fill {number} cannot be reprinted as it was printed (ledger row "
            f"{row['id']}): changed since: {', '.join(changed)}. Render the fill again "
            "(a new label) instead"))
    made: list[Reprinted] = []

    def number_and_publish() -> dict[str, Any]:
        count = 1 + ledger.count_kind(rx, number, "reprint")
        rendered = session.prepare(loaded, Mark(corrected=corrected, reprint=count))
        directory = out / REPRINTS / f"{key}-r{count}"
        publish_folder(directory, rendered.files)
        made.append(Reprinted(rendered, directory, count, {}))
        return event(rendered, "reprint", user, now(),
                     {"reprint": count, "reason": reason, "of": row["id"]})
    appended = ledger.append(before=number_and_publish)
    return dataclasses.replace(made[0], row=appended)
