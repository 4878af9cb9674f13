"""What QA found: each document's status and differences, and each check's problems."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FieldChange:
    field: str
    old: str
    new: str
    pixels: int                      # changed pixels inside the field's boxes


@dataclass
class PageDiff:
    page: int                        # 1-based
    text: list[str] = field(default_factory=list)    # unified diff lines, words marked [-old-]{+new+}
    pixels: int = 0
    region_pt: list[float] | None = None             # x, y from the top, width, height of the change
    regions_pt: list[list[float]] = field(default_factory=list)   # each separate changed region
    overlay: str | None = None                       # PNG files in the report folder: the overlay,
    images: tuple[str, str] | None = None            # and the expected and actual pages
    size_pt: list[list[float]] | None = None         # actual and expected page size, if they differ


@dataclass
class DocumentResult:
    path: str                        # relative to the compared roots ("" for two single files)
    # identical | equivalent | within-tolerance (all ok) | visual | text | pages | size |
    # metadata | missing | added | content (another file's bytes differ) | unreadable (`problem`)
    status: str
    pages: tuple[int, int] = (0, 0)  # actual, expected
    diffs: list[PageDiff] = field(default_factory=list)
    fields: list[FieldChange] = field(default_factory=list)
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)
    problem: str = ""                # why an unreadable document cannot be read: "actual: ..."

    @property
    def ok(self) -> bool:
        return self.status in ("identical", "equivalent", "within-tolerance")


@dataclass
class CheckProblem:
    path: str                        # the document, relative to the checked tree
    check: str                       # codes | size | bounds | overlap | abbreviation | record | unreadable
    message: str


@dataclass
class QaResult:
    documents: list[DocumentResult]
    checks: list[CheckProblem] = field(default_factory=list)   # semantic problems of ACTUAL

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.documents) and not self.checks

    def to_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for d in self.documents:
            counts[d.status] = counts.get(d.status, 0) + 1
        return {"ok": self.ok, "counts": counts,
                "documents": [asdict(d) | {"ok": d.ok} for d in self.documents],
                "checks": [asdict(c) for c in self.checks]}

