"""Comparing two PDFs or two trees: page counts, text, pixels and fields, document by document."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..parse import read_bytes
from .check import check_tree
from .fields import field_boxes, field_changes
from .inputs import DEFAULT_LIMITS, Limits, check_limits, list_files, open_pdf, shown
from .pixels import changed_mask, count_changed, overlay, points, raster, regions
from .report import ReportWriter
from .result import DocumentResult, PageDiff, QaResult

SAFETY_FIELDS = ("patient", "drug", "directions", "bud")


@dataclass(frozen=True)
class _Run:
    """What one comparison was asked for."""

    dpi: int
    max_pixels: int
    limits: Limits


def compare(actual: Path, expected: Path, *, dpi: int = 100, max_pixels: int = 0,
            report: Path | None = None, limits: Limits = DEFAULT_LIMITS) -> QaResult:
    """Two PDFs, or two trees matched by relative path (a file on one side only differs). With
    `report`, the overlays, report.html and report.json are written there, all of them or none
    (ReportWriter). A document beyond `limits` is refused (InputError) before anything of it is
    rasterised."""
    run = _Run(dpi, max_pixels, limits)
    for path in (actual, expected):
        if not path.exists():
            raise InputError.one(path, "", "not found")
    if actual.is_dir() != expected.is_dir():
        raise InputError.one(actual, "", f"compare a folder with a folder, or a PDF with a PDF ({expected})")
    writer = ReportWriter(report) if report else None
    try:
        if not actual.is_dir():
            result = QaResult([_document("", actual, expected, run, writer, 1)])
        else:
            result = QaResult(_tree(actual, expected, run, writer))
            # The semantic checks on the actual side, for every fill with a document that is not
            # byte-identical (an identical fill is the expected one, checked when it was accepted).
            changed = {Path(d.path).parent.as_posix() for d in result.documents
                       if d.status != "identical"}
            result.checks = check_tree(actual, changed, limits=limits) if changed else []
        if writer:
            writer.finish(result)
    except BaseException:
        if writer:
            writer.abandon()
        raise
    return result


def _tree(actual: Path, expected: Path, run: _Run, writer: ReportWriter | None
          ) -> list[DocumentResult]:
    left, right = list_files(actual), list_files(expected)
    documents = []
    for number, name in enumerate(sorted(left.keys() | right.keys()), start=1):
        shown_name = shown(name)
        if name not in right:
            documents.append(DocumentResult(shown_name, "added"))
        elif name not in left:
            documents.append(DocumentResult(shown_name, "missing"))
        else:
            # A document that cannot be read is this document's problem, not the tree's.
            try:
                documents.append(_document(shown_name, left[name], right[name], run, writer,
                                           number))
            except Unreadable as exc:
                documents.append(DocumentResult(shown_name, "unreadable", problem=str(exc)))
    return documents


class Unreadable(Exception):
    """A document of a tree that cannot be read or opened; the message says which side and why."""


def _document(name: str, actual: Path, expected: Path, run: _Run, writer: ReportWriter | None,
              number: int) -> DocumentResult:
    """One document compared. For two files given on their own, InputError says why one cannot
    be read; in a tree (`name` set) that is Unreadable, which the tree records."""
    try:
        data = read_bytes(actual), read_bytes(expected)
        if data[0] == data[1]:
            return DocumentResult(name, "identical")        # the fast path: nothing rasterised
        if name and not name.endswith(".pdf"):
            return DocumentResult(name, "content")
        a, e = open_pdf(actual, data[0]), open_pdf(expected, data[1])
    except InputError as exc:
        if not name:
            raise
        side = "actual" if exc.problems[0].file == str(actual) else "expected"
        raise Unreadable(f"{side}: {shown(exc.problems[0].message)}") from None
    check_limits(actual, a, run.limits, run.dpi)
    check_limits(expected, e, run.limits, run.dpi)
    dpi, max_pixels = run.dpi, run.max_pixels
    result = DocumentResult(name, "identical", (len(a), len(e)))
    meta_a, meta_e = a.get_metadata_dict(skip_empty=True), e.get_metadata_dict(skip_empty=True)
    result.metadata = {k: (meta_a.get(k, ""), meta_e.get(k, ""))
                       for k in sorted(meta_a.keys() | meta_e.keys()) if meta_a.get(k) != meta_e.get(k)}
    fields = field_boxes(actual, expected)
    scale = dpi / 72
    # --max-pixels may excuse a change only where the safety fields are known to be elsewhere:
    # a label or leaflet with its field boxes, or a monograph (no fill data); never a document
    # whose fields cannot be located (a combined sheet, a renamed file, a missing record).
    text_changed, visual, resized = False, False, False
    tolerated = bool(fields) or actual.name == "monograph.pdf"
    for i in range(max(len(a), len(e))):
        diff = PageDiff(i + 1)
        if i >= len(a) or i >= len(e):
            result.diffs.append(diff)
            continue
        size_a, size_e = a[i].get_size(), e[i].get_size()
        if [round(v, 2) for v in size_a] != [round(v, 2) for v in size_e]:
            diff.size_pt = [list(map(float, size_a)), list(map(float, size_e))]
            resized = True
        old, new = _page_text(e[i]), _page_text(a[i])
        if old != new:
            diff.text = _text_diff(old, new)
            text_changed = True
        before, after = raster(e[i], scale), raster(a[i], scale)
        changed = changed_mask(before, after)
        diff.pixels = count_changed(changed)
        if diff.pixels:
            visual = True
            box = changed.getbbox()
            found = regions(changed)
            if box:
                diff.region_pt = points(box, scale)
            diff.regions_pt = [points(r, scale) for r in found]
            if writer:
                stem = f"d{number:05d}.p{i + 1}"     # by the document's number: unique, no names
                diff.overlay = writer.image(f"{stem}.png", overlay(before, after, found))
                diff.images = (writer.image(f"{stem}.expected.png", before),
                               writer.image(f"{stem}.actual.png", after))
        if i == 0 and fields:
            result.fields = field_changes(fields, a[0], e[0], changed, scale)
        if diff.pixels > max_pixels:
            tolerated = False
        if diff.text or diff.pixels or diff.size_pt:
            result.diffs.append(diff)
    if any(f.field in SAFETY_FIELDS for f in result.fields):
        tolerated = False            # zero tolerance inside a safety field
    if len(a) != len(e):
        result.status = "pages"
    elif resized:
        result.status = "size"           # a page of another size: another stock or paper
    elif text_changed or any(f.old != f.new for f in result.fields):
        result.status = "text"
    elif visual:
        result.status = "within-tolerance" if tolerated else "visual"
    elif result.metadata:
        result.status = "metadata"
    else:
        result.status = "equivalent"   # other bytes, the same pages, text, pixels and metadata
    return result


def _page_text(page: Any) -> str:
    text: str = page.get_textpage().get_text_range()
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text_diff(old: str, new: str) -> list[str]:
    """A unified diff of the page's lines; a changed line pair also shows its changed words."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "expected", "actual",
                                      lineterm="", n=1))
    removed = [line[1:] for line in lines if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")]
    words = [f"~{_word_diff(o, n)}" for o, n in zip(removed, added, strict=False)]
    return lines + words


def _word_diff(old: str, new: str) -> str:
    a, b = old.split(), new.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(a[i1:i2])
        else:
            if i2 > i1:
                out.append("[-" + " ".join(a[i1:i2]) + "-]")
            if j2 > j1:
                out.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(out)

