"""Printing (above the record): a fill's or batch's documents to real printers.

`documents` finds what to print and checks it against its record and the ledger; `cups` reads a
queue's state and submits jobs with `lp`; `zpl` turns a label PDF's own raster into ZPL;
`socket9100` sends raw bytes to a printer's port 9100; `send` puts them together and appends a
ledger row per job."""

from __future__ import annotations

from ..errors import LeafletsError


class PrintError(LeafletsError):
    """A document cannot be printed: a queue that is missing, stopped or rejecting jobs, a
    printer that cannot be reached, or a document that differs from its record. The message
    names the queue or file, never a patient; nothing was sent unless it says so."""
