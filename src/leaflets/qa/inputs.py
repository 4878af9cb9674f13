"""QA's inputs: the files of a tree, their bytes, and PDFs opened with pdfium or refused with a
located message."""

from __future__ import annotations

from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]

from ..errors import InputError
from ..load import reading

RECORD = "fill.json"



def list_files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}


def read_bytes(path: Path) -> bytes:
    with reading(path):
        return path.read_bytes()


def open_pdf(path: Path) -> pypdfium2.PdfDocument:
    """A PDF, or InputError saying why not: missing, not a PDF, truncated, encrypted or damaged."""
    data = read_bytes(path)
    if not data.startswith(b"%PDF-"):
        raise InputError.one(path, "", "not a PDF (it does not start with %PDF-)")
    if b"%%EOF" not in data[-1024:]:
        raise InputError.one(path, "", "truncated PDF (no %%EOF at its end)")
    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        why = "encrypted PDF (it needs a password)" if "password" in str(exc).lower() \
            else "damaged or empty PDF (pdfium cannot open it)"
        raise InputError.one(path, "", why) from None

