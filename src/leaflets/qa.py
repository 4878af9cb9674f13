"""QA: compare two PDFs or two output trees and say what changed, page by page and field by field.

Same bytes pass at once and nothing is rasterised. Otherwise each document is opened with pdfium:
page counts, each page's text (a unified diff with changed words marked), each page's pixels
(changed-pixel count, the changed region, and an overlay PNG: removed content red, added green),
and, for a label beside its fill record, each field by the box the renderer recorded for it: the
field's old and new text and its changed pixels. `max_pixels` tolerates small visual changes, but
never inside a safety field: any change to the patient, drug, directions or BUD is a difference.
"""

from __future__ import annotations

import base64
import difflib
import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import zxingcpp
from PIL import Image, ImageChops, ImageDraw

from .errors import InputError, OutputError
from .load import load_stock, reading
from .rules.abbreviations import find_banned

SAFETY_FIELDS = ("patient", "drug", "directions", "bud")
RECORD = "fill.json"


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
    # metadata | missing | added | content (another file's bytes differ)
    status: str
    pages: tuple[int, int] = (0, 0)  # actual, expected
    diffs: list[PageDiff] = field(default_factory=list)
    fields: list[FieldChange] = field(default_factory=list)
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("identical", "equivalent", "within-tolerance")


@dataclass
class CheckProblem:
    path: str                        # the document, relative to the checked tree
    check: str                       # codes | size | bounds | overlap | abbreviation
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


# ---- inputs ------------------------------------------------------------------------------------


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}


def _read(path: Path) -> bytes:
    with reading(path):
        return path.read_bytes()


def _open(path: Path) -> pypdfium2.PdfDocument:
    """A PDF, or InputError saying why not: missing, not a PDF, truncated, encrypted or damaged."""
    data = _read(path)
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


# ---- comparing ---------------------------------------------------------------------------------


def compare(actual: Path, expected: Path, *, dpi: int = 100, max_pixels: int = 0,
            report: Path | None = None) -> QaResult:
    """Two PDFs, or two trees matched by relative path (a file on one side only differs). With
    `report`, the result is also written there as report.json, beside the overlays."""
    for path in (actual, expected):
        if not path.exists():
            raise InputError.one(path, "", "not found")
    if actual.is_dir() != expected.is_dir():
        raise InputError.one(actual, "", f"compare a folder with a folder, or a PDF with a PDF ({expected})")
    if report:
        try:
            report.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{report}: cannot make the report folder: {exc.strerror}") from None
    if not actual.is_dir():
        result = QaResult([_document("", actual, expected, dpi, max_pixels, report, 1)])
    else:
        result = QaResult(_tree(actual, expected, dpi, max_pixels, report))
        # The semantic checks on the actual side, for every fill with a document that is not
        # byte-identical (an identical fill is the expected one, checked when it was accepted).
        changed = {Path(d.path).parent.as_posix() for d in result.documents if d.status != "identical"}
        result.checks = check_tree(actual, changed) if changed else []
    if report:
        try:
            (report / "report.json").write_text(
                json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n",
                encoding="utf-8", errors="replace")
            (report / "report.html").write_text(render_html(result, report), encoding="utf-8",
                                                 errors="replace")
        except OSError as exc:
            raise OutputError(f"{report}: cannot write the report: {exc.strerror}") from None
    return result


def _tree(actual: Path, expected: Path, dpi: int, max_pixels: int, report: Path | None
          ) -> list[DocumentResult]:
    left, right = _files(actual), _files(expected)
    documents = []
    for number, name in enumerate(sorted(left.keys() | right.keys()), start=1):
        if name not in right:
            documents.append(DocumentResult(name, "added"))
        elif name not in left:
            documents.append(DocumentResult(name, "missing"))
        elif name.endswith(".pdf"):
            documents.append(_document(name, left[name], right[name], dpi, max_pixels, report, number))
        elif _read(left[name]) != _read(right[name]):
            documents.append(DocumentResult(name, "content"))
        else:
            documents.append(DocumentResult(name, "identical"))
    return documents


def _document(name: str, actual: Path, expected: Path, dpi: int, max_pixels: int,
              report: Path | None, number: int) -> DocumentResult:
    if _read(actual) == _read(expected):
        return DocumentResult(name, "identical")            # the fast path: nothing rasterised
    a, e = _open(actual), _open(expected)
    result = DocumentResult(name, "identical", (len(a), len(e)))
    meta_a, meta_e = a.get_metadata_dict(skip_empty=True), e.get_metadata_dict(skip_empty=True)
    result.metadata = {k: (meta_a.get(k, ""), meta_e.get(k, ""))
                       for k in sorted(meta_a.keys() | meta_e.keys()) if meta_a.get(k) != meta_e.get(k)}
    fields = _field_boxes(actual, expected)
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
        before, after = _raster(e[i], scale), _raster(a[i], scale)
        changed = _changed(before, after)
        diff.pixels = _count(changed)
        if diff.pixels:
            visual = True
            box = changed.getbbox()
            regions = _regions(changed)
            if box:
                diff.region_pt = _points(box, scale)
            diff.regions_pt = [_points(r, scale) for r in regions]
            if report:
                diff.overlay = _overlay(before, after, regions, report, number, i + 1)
                stem = diff.overlay.removesuffix(".png")
                before.save(report / f"{stem}.expected.png")
                after.save(report / f"{stem}.actual.png")
                diff.images = (f"{stem}.expected.png", f"{stem}.actual.png")
        if i == 0 and fields:
            result.fields = _field_changes(fields, a[0], e[0], changed, scale)
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


def _raster(page: Any, scale: float) -> Image.Image:
    image: Image.Image = page.render(scale=scale).to_pil().convert("L")
    return image


def _changed(before: Image.Image, after: Image.Image) -> Image.Image:
    """A mask of changed pixels (255), on a canvas as large as either page."""
    size = (max(before.width, after.width), max(before.height, after.height))
    a, b = Image.new("L", size, 255), Image.new("L", size, 255)
    a.paste(before, (0, 0))
    b.paste(after, (0, 0))
    return ImageChops.difference(a, b).point(lambda v: 255 if v > 8 else 0)


def _count(mask: Image.Image, box: tuple[int, int, int, int] | None = None) -> int:
    region = mask.crop(box) if box else mask
    return int(region.histogram()[255])


def _points(box: tuple[int, int, int, int], scale: float) -> list[float]:
    return [round(box[0] / scale, 1), round(box[1] / scale, 1), round((box[2] - box[0]) / scale, 1),
            round((box[3] - box[1]) / scale, 1)]


def _regions(mask: Image.Image, gap_px: int = 6) -> list[tuple[int, int, int, int]]:
    """The changed regions: bands of changed rows (closer than `gap_px` joined), each cut to
    its changed columns."""
    rows = mask.resize((1, mask.height), Image.Resampling.BOX).tobytes()   # one byte a row
    bands: list[list[int]] = []
    for y, value in enumerate(rows):
        if value:
            if bands and y - bands[-1][1] <= gap_px:
                bands[-1][1] = y
            else:
                bands.append([y, y])
    boxes = []
    for top, bottom in bands:
        box = mask.crop((0, top, mask.width, bottom + 1)).getbbox()
        if box:
            boxes.append((box[0], top, box[2], bottom + 1))
    return boxes


def _overlay(before: Image.Image, after: Image.Image, regions: list[tuple[int, int, int, int]],
             report: Path, number: int, page: int) -> str:
    """The expected page faded, removed ink in red, added ink in green, each change boxed."""
    size = (max(before.width, after.width), max(before.height, after.height))
    e, a = Image.new("L", size, 255), Image.new("L", size, 255)
    e.paste(before, (0, 0))
    a.paste(after, (0, 0))
    dark_e, dark_a = e.point(lambda v: 255 if v < 128 else 0), a.point(lambda v: 255 if v < 128 else 0)
    removed = ImageChops.subtract(dark_e, dark_a)
    added = ImageChops.subtract(dark_a, dark_e)
    overlay = Image.merge("RGB", [e.point(lambda v: 160 + v * 95 // 255)] * 3)
    overlay.paste((220, 0, 0), mask=removed)
    overlay.paste((0, 160, 0), mask=added)
    draw = ImageDraw.Draw(overlay)
    for box in regions:
        draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), outline=(0, 90, 220), width=2)
    file = f"d{number:05d}.p{page}.png"       # by the document's number: unique, short, no names
    overlay.save(report / file)
    return file


# ---- fields --------------------------------------------------------------------------------------


def _field_boxes(actual: Path, expected: Path) -> dict[str, tuple[list[list[float]], list[list[float]]]]:
    """Each field's boxes on page 1 of a label or leaflet, on both sides, from the fill records
    beside them."""
    section = {"label.pdf": "label", "leaflet.pdf": "leaflet"}.get(actual.name)
    if section is None:
        return {}
    boxes: dict[str, tuple[list[list[float]], list[list[float]]]] = {}
    try:
        for side, path in enumerate((actual, expected)):
            record = json.loads((path.parent / RECORD).read_text(encoding="utf-8"))
            for entry in record[section]["fields"]:
                if entry.get("page", 1) == 1:
                    x, top, width, height = (float(v) for v in entry["box_pt"])
                    pair = boxes.setdefault(str(entry["field"]), ([], []))
                    pair[side].append([x, top, width, height])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}                    # no usable record: no field boxes (and so no tolerance)
    return boxes


def _field_changes(boxes: dict[str, tuple[list[list[float]], list[list[float]]]], actual: Any,
                   expected: Any, changed: Image.Image, scale: float) -> list[FieldChange]:
    changes = []
    for name, (new_boxes, old_boxes) in boxes.items():
        old, new = _text_in(expected, old_boxes), _text_in(actual, new_boxes)
        area = Image.new("L", changed.size, 0)          # both sides' boxes, each pixel once
        draw = ImageDraw.Draw(area)
        for box in new_boxes + old_boxes:
            left, top, right, bottom = _pixels(box, scale)
            draw.rectangle((left, top, right - 1, bottom - 1), fill=255)
        pixels = _count(ImageChops.multiply(changed, area))
        if old != new or pixels:
            changes.append(FieldChange(name, old, new, pixels))
    return changes


def _text_in(page: Any, boxes: list[list[float]]) -> str:
    height = page.get_height()
    textpage = page.get_textpage()
    parts = []
    for x, top, width, box_h in boxes:
        parts.append(textpage.get_text_bounded(left=x, bottom=height - top - box_h, right=x + width,
                                               top=height - top).strip())
    return " ".join(" ".join(p.split()) for p in parts if p)


def _pixels(box: list[float], scale: float) -> tuple[int, int, int, int]:
    x, top, width, height = box
    return (int(x * scale), int(top * scale), int((x + width) * scale) + 1,
            int((top + height) * scale) + 1)


# ---- the HTML report -------------------------------------------------------------------------------

_CSS = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #bbb; padding: .3em .6em; text-align: left; vertical-align: top; }
.ok { background: #e8f5e9; } .bad { background: #ffebee; }
del { background: #ffcdd2; text-decoration: line-through; }
ins { background: #c8e6c9; text-decoration: none; }
.pages { display: flex; gap: 1em; flex-wrap: wrap; } .pages figure { margin: 0; }
.pages img { max-width: 420px; border: 1px solid #999; }
pre { background: #f6f6f6; padding: .6em; white-space: pre-wrap; }
"""

_CHECK_IMAGES = """
window.addEventListener("load", () => {
  const images = [...document.images];
  document.body.dataset.images = images.length;
  document.body.dataset.imagesShown = images.filter(i => i.complete && i.naturalWidth > 0).length;
});
"""


def render_html(result: QaResult, report: Path) -> str:
    """One self-contained page: the summary table, then each difference with its changed fields,
    its text with words marked, and the expected page, the actual page and the overlay side by
    side (images embedded, nothing fetched). Every text from the documents is escaped."""
    e = html.escape
    counts = result.to_json()["counts"]
    rows = "".join(
        f'<tr class="{"ok" if d.ok else "bad"}" data-path="{e(d.path)}" data-status="{e(d.status)}">'
        f'<td>{_link(d, n)}</td><td>{e(d.status)}</td><td>{d.pages[0]} / {d.pages[1]}</td>'
        f'<td>{e(", ".join(f.field for f in d.fields))}</td></tr>'
        for n, d in enumerate(result.documents, start=1))
    checks = ""
    if result.checks:
        checks = ('<h2>Checks</h2><table id="checks"><tr><th>document</th><th>check</th>'
                  '<th>problem</th></tr>' + "".join(
                      f'<tr data-check="{e(c.check)}"><td>{e(c.path)}</td><td>{e(c.check)}</td>'
                      f'<td>{e(c.message)}</td></tr>' for c in result.checks) + "</table>")
    sections = "".join(_section(d, report, n) for n, d in enumerate(result.documents, start=1)
                       if not d.ok)
    verdict = ("All documents match." if result.ok else "Some documents differ or fail a check."
               if result.checks else "Some documents differ.")
    summary = ", ".join(f"{n} {e(status)}" for status, n in sorted(counts.items()))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>leaflets QA report'
            f'</title><style>{_CSS}</style><script>{_CHECK_IMAGES}</script></head><body>'
            f'<h1>QA report</h1><p id="verdict" data-ok="{str(result.ok).lower()}">{verdict} '
            f'{summary}.</p><table id="summary"><tr><th>document</th><th>status</th>'
            f'<th>pages (actual / expected)</th><th>changed fields</th></tr>{rows}</table>'
            f'{checks}{sections}</body></html>\n')


def _link(doc: DocumentResult, number: int) -> str:
    name = html.escape(doc.path or "(document)")
    return name if doc.ok else f'<a href="#d{number}">{name}</a>'


def _section(doc: DocumentResult, report: Path, number: int) -> str:
    e = html.escape
    parts = [f'<section id="d{number}" data-path="{e(doc.path)}"><h2>{e(doc.path or "(document)")}: '
             f'{e(doc.status)}</h2>']
    if doc.fields:
        parts.append('<table class="fields"><tr><th>field</th><th>expected</th><th>actual</th>'
                     '<th>changed pixels</th></tr>')
        parts.extend(f'<tr data-field="{e(f.field)}"><td>{e(f.field)}</td><td class="old">{e(f.old)}'
                     f'</td><td class="new">{e(f.new)}</td><td>{f.pixels}</td></tr>' for f in doc.fields)
        parts.append("</table>")
    for key, (new, old) in doc.metadata.items():
        parts.append(f"<p>Metadata {e(key)}: {e(old)} → {e(new)}</p>")
    for diff in doc.diffs:
        where = ""
        if diff.region_pt:
            x, y, w, h = diff.region_pt
            where = f", changed region at x {x:g}, y {y:g} pt from the top, {w:g} × {h:g} pt"
        parts.append(f"<h3>Page {diff.page}: {diff.pixels} pixels changed{where}</h3>")
        words = [line[1:] for line in diff.text if line.startswith("~")]
        if words:
            parts.append("<pre class=\"words\">" + "\n".join(_marked(w) for w in words) + "</pre>")
        if diff.images and diff.overlay:
            figures = zip(("expected", "actual", "overlay: removed red, added green"),
                          (*diff.images, diff.overlay), strict=True)
            parts.append('<div class="pages">' + "".join(
                f'<figure><img alt="{e(label)}" src="{_data_uri(report / file)}">'
                f"<figcaption>{e(label)}</figcaption></figure>" for label, file in figures) + "</div>")
    parts.append("</section>")
    return "".join(parts)


def _marked(line: str) -> str:
    """[-old-] and {+new+} as <del> and <ins>, everything else escaped."""
    out, rest = [], line
    while rest:
        starts = [(rest.find(m), m) for m in ("[-", "{+") if rest.find(m) >= 0]
        if not starts:
            out.append(html.escape(rest))
            break
        at, mark = min(starts)
        end = rest.find("-]" if mark == "[-" else "+}", at + 2)
        if end < 0:
            out.append(html.escape(rest))
            break
        tag = "del" if mark == "[-" else "ins"
        out.append(html.escape(rest[:at]) + f"<{tag}>{html.escape(rest[at + 2:end])}</{tag}>")
        rest = rest[end + 2:]
    return "".join(out)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# ---- semantic checks of one tree -------------------------------------------------------------------

IDENTITY_FIELDS = ("patient", "prescriber", "lot", "rx", "pharmacist")   # names and numbers as given


def check_tree(tree: Path, only: set[str] | None = None) -> list[CheckProblem]:
    """Check every fill folder (a fill.json beside label.pdf) on its own, golden or not: the QR
    and barcode decode to what the record says; every text run of a patient-centred field is at
    or above its stock's minimum; nothing is drawn outside the page, and no field box overlaps
    another; no banned abbreviation is printed. `only`: the fill folders to check."""
    if not tree.is_dir():
        raise InputError.one(tree, "", "not a folder of rendered fills")
    problems: list[CheckProblem] = []
    records = sorted(tree.rglob(RECORD))
    if not records and only is None:
        raise InputError.one(tree, "", f"no rendered fills here (no {RECORD} beside a label.pdf)")
    for record_path in records:
        folder = record_path.parent
        rel = folder.relative_to(tree).as_posix()
        if (only is not None and rel not in only) or not (folder / "label.pdf").exists():
            continue
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(CheckProblem(f"{rel}/{RECORD}", "record", f"not JSON: {exc}"))
            continue
        try:
            problems += _check_label(folder, rel, record)
            if (folder / "leaflet.pdf").exists():
                problems += _check_words(f"{rel}/leaflet.pdf", _open(folder / "leaflet.pdf"),
                                         str(record["fill"]["patient"]["name"]))
        except (KeyError, TypeError, AttributeError, ValueError):
            problems.append(CheckProblem(f"{rel}/{RECORD}", "record",
                                         "not a fill record (its label, fields or fill are missing "
                                         "or malformed)"))
    return problems


def _check_label(folder: Path, rel: str, record: dict[str, Any]) -> list[CheckProblem]:
    where = f"{rel}/label.pdf"
    problems: list[CheckProblem] = []
    label = record["label"]
    document = _open(folder / "label.pdf")
    page = document[0]
    width, height = page.get_width(), page.get_height()
    found = zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())
    qr = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    bars = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.Code128]
    if qr != [label.get("qr")]:
        problems.append(CheckProblem(where, "codes", f"the QR code reads {qr}, the record says "
                                                     f"{label.get('qr')!r}"))
    if bars != [label.get("barcode")]:
        problems.append(CheckProblem(where, "codes", f"the barcode reads {bars}, the record says "
                                                     f"{label.get('barcode')!r}"))
    boxes = [(str(f["field"]), [float(v) for v in f["box_pt"]]) for f in label["fields"]]
    for name, (x, top, w, h) in boxes:
        if x < 0 or top < 0 or x + w > width + 0.01 or top + h > height + 0.01:
            problems.append(CheckProblem(where, "bounds", f"{name} is drawn outside the page"))
    for i, (a, (ax, ay, aw, ah)) in enumerate(boxes):
        for b, (bx, by, bw, bh) in boxes[i + 1:]:
            if a != b and ax < bx + bw - 0.01 and bx < ax + aw - 0.01 and ay < by + bh - 0.01 \
                    and by < ay + ah - 0.01:
                problems.append(CheckProblem(where, "overlap", f"{a} is drawn over {b}"))
    try:
        stock = load_stock(label.get("stock", "")).model
    except InputError as err:
        return [*problems, CheckProblem(where, "size", str(err))]
    textpage = page.get_textpage()
    for index in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(index)
        if left < -0.01 or bottom < -0.01 or right > width + 0.01 or top > height + 0.01:
            problems.append(CheckProblem(where, "bounds", "text is drawn outside the page"))
            break
    for name, box in boxes:
        region = stock.region_of(name)
        if region is None or not stock.regions[region].patient_centred:
            continue
        minimum = stock.regions[region].min_size_pt
        sizes = _sizes_in(textpage, box, height)
        if sizes and min(sizes) < minimum - 0.01:
            problems.append(CheckProblem(where, "size", f"{name} has text at {min(sizes):g} pt, "
                                                        f"below the stock's {minimum:g} pt"))
    identity = {f["field"] for f in label.get("fields", []) if f["field"] in IDENTITY_FIELDS}
    checked = " ".join(_text_in(page, [box]) for name, box in boxes if name not in identity)
    problems += _banned(where, checked)
    return problems


def _sizes_in(textpage: Any, box: list[float], height: float) -> list[float]:
    x, top, w, h = box
    sizes = []
    for index in range(textpage.count_chars()):
        left, bottom, right, up = textpage.get_charbox(index)
        cx, cy = (left + right) / 2, height - (bottom + up) / 2
        if x <= cx <= x + w and top <= cy <= top + h and right > left:
            sizes.append(float(pypdfium2.raw.FPDFText_GetFontSize(textpage.raw, index)))
    return sizes


def _check_words(where: str, document: Any, patient: str) -> list[CheckProblem]:
    text = " ".join(p.get_textpage().get_text_range() for p in document)
    return _banned(where, text.replace(patient, " ") if patient else text)


def _banned(where: str, text: str) -> list[CheckProblem]:
    return [CheckProblem(where, "abbreviation", str(hit)) for hit in find_banned(text)]
