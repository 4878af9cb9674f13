"""Ledger rows as a text table or CSV, for `leaflets history` and `leaflets recall`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

# (heading, row -> text)
HISTORY = (("id", lambda r: str(r["id"])), ("kind", lambda r: r["kind"]),
           ("rx", lambda r: f"{r['rx_number']}-{r['fill_number']}"),
           ("fill date", lambda r: r["fill_date"]), ("patient", lambda r: r["patient_name"]),
           ("date of birth", lambda r: r["date_of_birth"]), ("product", lambda r: r["product"]),
           ("lot", lambda r: r["lot"]), ("bud", lambda r: r["bud"]),
           ("at", lambda r: r["at"]), ("by", lambda r: r["user"]),
           ("detail", lambda r: summary(r["detail"])))
RECALL = (("patient", lambda r: r["patient_name"]),
          ("date of birth", lambda r: r["date_of_birth"]),
          ("rx", lambda r: f"{r['rx_number']}-{r['fill_number']}"),
          ("fill date", lambda r: r["fill_date"]), ("bud", lambda r: r["bud"]),
          ("rendered at", lambda r: r["at"]), ("rendered by", lambda r: r["user"]),
          ("printed at", lambda r: r["printed"]["at"] if r["printed"] else "not printed"),
          ("printed by", lambda r: r["printed"]["user"] if r["printed"] else ""),
          ("print jobs", lambda r: str(r["prints"])))


def per_fill(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A lot's ledger rows as one line per fill, in the order the fills were first rendered:
    the fill as its latest render row has it (a correction's, if corrected), when and by whom
    it was last printed, and how many print jobs (the rows of one fill share its Rx and fill
    number; `history` shows every row)."""
    fills: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        key = (row["rx_number"], row["fill_number"])
        found = fills.setdefault(key, {**row, "printed": None, "prints": 0})
        if row["kind"] == "render":
            fills[key] = {**row, "printed": found["printed"], "prints": found["prints"]}
        elif row["kind"] == "print":
            found.update(printed=row, prints=found["prints"] + 1)
    return list(fills.values())


def summary(detail: str) -> str:
    """What a row adds to its fill, in a few words: who entered a fill approved at the counter,
    a correction's reason, a print's queue and job, a reprint's number and reason (the fill
    itself, kept for reprints, is left out)."""
    try:
        found = json.loads(detail)
    except ValueError:
        found = None
    if not isinstance(found, dict):
        return "(its detail is not a JSON object)"
    parts = []
    checked = found.get("checked")
    if isinstance(checked, dict):      # approved at the counter: the two-person check
        parts.append(f"entered by {checked.get('entered_by', '?')} (counter entry "
                     f"{checked.get('entry', '?')})")
    if "correction" in found:
        parts.append(f"correction: {found['correction']}")
    if "reprint" in found:
        parts.append(f"reprint {found['reprint']}: {found.get('reason', '')}")
    if "job" in found:           # a print: to a CUPS queue (job id), or straight to a printer
        where = f"{found['queue']} job {found['job']}" if found.get("queue") else found["job"]
        copies = found.get("copies", 1)
        parts.append(f"{found.get('document', '')} ({found.get('format', 'pdf')}) to {where}"
                     + (f", {copies} copies" if copies != 1 else ""))
    return "; ".join(parts)


def cells(columns: Sequence[tuple[str, Any]], rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    return [[name for name, _ in columns], *[[get(r) for _, get in columns] for r in rows]]


def text_table(columns: Sequence[tuple[str, Any]], rows: Sequence[dict[str, Any]]) -> str:
    table = cells(columns, rows)
    widths = [max(len(line[k]) for line in table) for k in range(len(columns))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in table)


def csv_table(columns: Sequence[tuple[str, Any]], rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(cells(columns, rows))
    return buffer.getvalue()
