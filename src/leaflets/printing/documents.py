"""What `leaflets print` prints: a fill's label and leaflet, or a batch's combined sheets, each
read once and checked against the fill's record (fill.json) and the ledger's render row, so a
document that differs from what was recorded is never printed."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LeafletsError
from ..record.ledger import Ledger, json_column
from ..record.reprint import REPRINTS
from . import PrintError

# Fill.key: <rx_number>-<fill_number>, the Rx number as models.RxNumber allows it (letters,
# digits and '-'): split at its last '-'.
RX_NUMBER = r"[A-Za-z0-9][A-Za-z0-9-]{0,19}"
FILL_KEY = re.compile(rf"^{RX_NUMBER}-[0-9]+$")
# A document read whole into memory (the bytes checked are the bytes sent); far above any label,
# leaflet or day's sheet.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """One document to print, as verified bytes."""

    name: str                    # label.pdf, leaflet.pdf, labels.pdf, leaflets.pdf
    label: bool                  # to the label printer (else the document printer)
    data: bytes
    title: str                   # the job title: Rx number (or batch id) and what, no patient
    rows: tuple[dict[str, Any], ...]   # the latest ledger row of each fill it holds


@dataclass(frozen=True)
class Target:
    """A fill (one Rx) or a batch, with its documents in print order."""

    kind: str                    # "fill" | "batch"
    name: str
    documents: tuple[Document, ...]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise PrintError(f"{path}: no such file; nothing printed") from None
    except OSError as exc:
        raise PrintError(f"{path}: cannot read it ({exc.strerror}); nothing printed") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise PrintError(f"{path}: larger than {MAX_DOCUMENT_BYTES} bytes; nothing printed")
    return data


def _record(path: Path, data: bytes, key: str) -> dict[str, Any]:
    """A fill.json whose bytes are the ledger's (so written by `leaflets render`), still checked
    part by part: each document's SHA-256 is a string, and it names the fill `key`."""
    try:
        record = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise PrintError(f"{path}: not a fill record ({exc}); nothing printed") from None
    if not isinstance(record, dict) or not isinstance(record.get("outputs"), dict):
        raise PrintError(f"{path}: not a fill record (no 'outputs' object); nothing printed")
    outputs: dict[str, Any] = record["outputs"]
    rx, number = record.get("rx_number"), record.get("fill_number")
    if not isinstance(rx, str):
        raise PrintError(f"{path}: rx_number: expected text, got {_json(rx)}; nothing printed")
    if type(number) is not int:
        raise PrintError(f"{path}: fill_number: expected a whole number, got {_json(number)}; "
                         "nothing printed")
    if f"{rx}-{number}" != key:
        raise PrintError(f"{path}: records Rx {rx[:40]}-{number}, not {key}; nothing printed")
    for name in ("label.pdf", "leaflet.pdf"):
        entry = outputs.get(name)
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(digest, str):
            raise PrintError(f"{path}: outputs.{name}.sha256: expected the document's SHA-256, "
                             f"got {_json(entry if digest is None else digest)}; nothing printed")
    found: dict[str, Any] = record
    return found


def _json(value: Any) -> str:
    """A value of a record as JSON, cut short, for a message."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


REPRINT_KEY = re.compile(rf"^({RX_NUMBER}-[0-9]+)-r([0-9]+)$")   # record.reprint's folders


def made_row(ledger: Ledger, rx_number: str, fill_number: int,
             reprint: int | None = None) -> dict[str, Any] | None:
    """The ledger row that made a fill's documents: its latest render (out/<key>/), or the
    reprint numbered `reprint` (out/reprints/<key>-r<n>/)."""
    if reprint is None:
        return ledger.last_render(rx_number, fill_number)
    for row in reversed(ledger.history(rx_number)):
        if row["fill_number"] == fill_number and row["kind"] == "reprint" \
                and json_column(ledger, row).get("reprint") == reprint:
            found: dict[str, Any] = row
            return found
    return None


def _fill_files(folder: Path, key: str, ledger: Ledger, reprint: int | None = None
                ) -> tuple[dict[str, bytes], dict[str, Any], dict[str, Any], bytes]:
    """A fill's label.pdf and leaflet.pdf, each equal to its record's SHA-256 and the ledger's.
    The ledger's row is found from `key` itself, and fill.json's bytes are checked against the
    SHA-256 that row recorded before anything in them is trusted."""
    if not FILL_KEY.match(key):
        raise PrintError(f"'{key[:60]}': expected RX-FILL (e.g. 600123-0); nothing printed")
    rx, _, number = key.rpartition("-")
    row = made_row(ledger, rx, int(number), reprint)
    if row is None:
        what = f"reprint {reprint} of Rx {key}" if reprint else f"Rx {key}"
        raise PrintError(f"{what} is not in the ledger {ledger.path} (render it first); "
                         "nothing printed")
    recorded = json_column(ledger, row, "outputs")
    record_path = folder / "fill.json"
    record_bytes = _read(record_path)
    if _sha256(record_bytes) != recorded.get("fill.json"):
        raise PrintError(f"{record_path}: differs from the ledger's row {row['id']} for Rx "
                         f"{key}; nothing printed")
    record = _record(record_path, record_bytes, key)
    files: dict[str, bytes] = {}
    for name in ("label.pdf", "leaflet.pdf"):
        data = _read(folder / name)
        digest = _sha256(data)
        wanted = record["outputs"][name]["sha256"]
        if digest != wanted:
            raise PrintError(f"{folder / name}: differs from its record {record_path} "
                             f"(SHA-256 {digest[:12]}…, recorded {wanted[:12]}…); nothing printed")
        if digest != recorded.get(name):
            raise PrintError(f"{folder / name}: differs from the ledger's row {row['id']} for Rx "
                             f"{key} (SHA-256 {digest[:12]}…); nothing printed")
        files[name] = data
    return files, row, record, record_bytes


def fill_target(out: Path, key: str, ledger: Ledger) -> Target:
    return _target(out / key, key, ledger, None)


def reprint_target(out: Path, name: str, ledger: Ledger) -> Target:
    """A reprint's documents (out/reprints/<key>-r<n>/), checked against its 'reprint' row."""
    found = REPRINT_KEY.match(name)
    assert found is not None
    return _target(out / REPRINTS / name, found[1], ledger, int(found[2]))


def _target(folder: Path, key: str, ledger: Ledger, reprint: int | None) -> Target:
    files, row, _, _ = _fill_files(folder, key, ledger, reprint)
    what = f"Rx {key} reprint {reprint}" if reprint else f"Rx {key}"
    return Target("fill", key, (
        Document("label.pdf", True, files["label.pdf"], f"{what} label", (row,)),
        Document("leaflet.pdf", False, files["leaflet.pdf"], f"{what} leaflet", (row,))))


def _batch_keys(folder: Path) -> list[str]:
    data = _read(folder / "summary.json")
    try:
        rows: Sequence[dict[str, Any]] = json.loads(data)["rows"]
        keys = [f"{r['rx_number']}-{r['fill_number']}" for r in rows if r["status"] == "ok"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise PrintError(f"{folder / 'summary.json'}: not a batch summary ({exc}); "
                         "nothing printed") from None
    for key in keys:
        if not FILL_KEY.match(key):
            raise PrintError(f"{folder / 'summary.json'}: not a batch summary (a fill "
                             f"'{key[:60]}', expected RX-FILL); nothing printed")
    return keys


def batch_target(out: Path, batch_id: str, ledger: Ledger) -> Target:
    """A batch's labels.pdf and leaflets.pdf, each byte-equal to the sheets made again from its
    fills' parts, every fill of which matches its record and the ledger."""
    from ..batch import rebuild_sheets
    folder = out / "batches" / batch_id
    keys = _batch_keys(folder)
    if not keys:
        raise PrintError(f"{folder}: the batch has no fill to print; nothing printed")
    fills, rows = [], []
    for key in keys:
        _, row, record, record_bytes = _fill_files(out / key, key, ledger)
        fills.append((key, record, _sha256(record_bytes)))
        rows.append(row)
    try:
        expected = rebuild_sheets(folder, fills)
    except LeafletsError as err:
        raise PrintError(f"{err}; nothing printed") from None
    documents = []
    for name, label in (("labels.pdf", True), ("leaflets.pdf", False)):
        data = _read(folder / name)
        if data != expected.get(name):
            raise PrintError(f"{folder / name}: differs from the sheet its fills' records make; "
                             "run the batch again; nothing printed")
        what = "labels" if label else "leaflets"
        # The batch id begins with its input file's name, which staff choose and could hold a
        # patient's name: the title carries only its hash (safety rule 4).
        title = f"Batch {batch_id.rpartition('-')[2]} {what}"
        documents.append(Document(name, label, data, title, tuple(rows)))
    return Target("batch", batch_id, tuple(documents))


def find_target(out: Path, name: str, ledger: Ledger) -> Target:
    """RX-FILL (a folder out/<rx>-<fill>/), a reprint RX-FILL-rN (out/reprints/<key>-r<n>/) or
    BATCH-ID (out/batches/<id>/)."""
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise PrintError(f"'{name}': expected RX-FILL (e.g. 600123-0) or a batch id")
    if FILL_KEY.match(name) and (out / name).is_dir():
        return fill_target(out, name, ledger)
    if REPRINT_KEY.match(name) and (out / REPRINTS / name).is_dir():
        return reprint_target(out, name, ledger)
    if (out / "batches" / name).is_dir():
        return batch_target(out, name, ledger)
    raise PrintError(f"'{name}': no fill {out / name}/ and no batch {out / 'batches' / name}/")
