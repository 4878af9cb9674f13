"""QA: compare two PDFs or two output trees and say what changed, page by page and field by field.

Same bytes pass at once and nothing is rasterised. Otherwise each document is opened with pdfium:
page counts, each page's text (a unified diff with changed words marked), each page's pixels
(changed-pixel count, the changed region, and an overlay PNG: removed content red, added green),
and, for a label beside its fill record, each field by the box the renderer recorded for it: the
field's old and new text and its changed pixels. `max_pixels` tolerates small visual changes, but
never inside a safety field: any change to the patient, drug, directions or BUD is a difference.

The stages, one module each: `inputs` (files, records, PDFs and their bounds), `compare`, `pixels`,
`fields`, `check` (a tree's fills on their own), `report` (the HTML page), `result`.
"""

from .check import check_tree
from .compare import SAFETY_FIELDS, compare
from .inputs import Limits, shown
from .report import render_html
from .result import CheckProblem, DocumentResult, FieldChange, PageDiff, QaResult

__all__ = ["SAFETY_FIELDS", "CheckProblem", "DocumentResult", "FieldChange", "Limits", "PageDiff",
           "QaResult",
           "check_tree", "compare", "render_html", "shown"]
