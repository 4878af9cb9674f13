"""The report folder: the overlay PNGs, report.json and report.html (one self-contained page of
what the JSON says), written so that the folder ends a run complete or with nothing of it."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from PIL import Image

from ..errors import OutputError
from ..write import remove_stale_temporaries, write_atomic
from .result import DocumentResult, QaResult


class ReportWriter:
    """One run's files in the report folder. Each is written whole (write.write_atomic: a hidden
    temporary file renamed into place); if the run fails, for any reason, `abandon` removes every
    file it wrote and the folders it made, so a full disk or an unwritable folder leaves no
    0-byte PNG and no report.json without its overlays."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []
        self.made = [p for p in (folder, *folder.parents) if not p.exists()]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.made = [p for p in self.made if p.is_dir()]
            self.abandon()
            raise OutputError(f"{folder}: cannot make the report folder: {exc.strerror}") from None

    def image(self, name: str, image: Image.Image) -> str:
        data = io.BytesIO()
        image.save(data, format="PNG")
        self._write(name, data.getvalue())
        return name

    def finish(self, result: QaResult) -> None:
        """report.html, then report.json: a report.json means the whole report is there."""
        self._write("report.html", render_html(result, self.folder).encode("utf-8", "replace"))
        self._write("report.json", (json.dumps(result.to_json(), indent=2, ensure_ascii=False)
                                    + "\n").encode("utf-8", "replace"))

    def abandon(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)
        if self.folder.is_dir():
            # write_atomic removes its temporary file when a write fails; where the disk is too
            # full for even that clean-up to finish, this run's temporaries go here.
            remove_stale_temporaries([self.folder])
        for folder in self.made:                       # deepest first; only if now empty
            try:
                folder.rmdir()
            except OSError:
                break

    def _write(self, name: str, data: bytes) -> None:
        path = self.folder / name
        try:
            write_atomic(path, data, durable=False)
        except OSError as exc:                         # a clean-up that failed in turn
            raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
        self.written.append(path)


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
    if doc.problem:
        parts.append(f'<p class="problem">{e(doc.problem)}</p>')
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

