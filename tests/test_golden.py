"""Golden files: every case in tests/golden/<case>/ renders to exactly its expected documents.

Each case holds its input (`input.yaml` or `input.json`) and the expected `label.pdf`,
`leaflet.pdf` and `monograph.pdf` of the product, with `.txt` sidecars of their extracted text
(so a wording change shows in code review) and the fill record (for field-level reports). Bytes
are compared first; on a mismatch `leaflets qa` says what changed, by field where it can, and the
test fails unless the documents are equivalent. `pytest --update-golden` rewrites the cases.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pypdfium2
import pytest

from leaflets.errors import FitError
from leaflets.load import load_fill, load_pharmacy, load_product
from leaflets.pipeline import Session, Settings, render_fill, render_monograph
from leaflets.qa import compare

ROOT = Path(__file__).resolve().parents[1]      # as in conftest.py
GOLDEN = Path("tests/golden")                   # relative: the records name inputs as given
CASES = sorted(p.name for p in (ROOT / GOLDEN).iterdir() if p.is_dir())
DOCUMENTS = ("label.pdf", "leaflet.pdf", "monograph.pdf")
SETTINGS = Settings(Path("products"), Path("pharmacy.yaml"))


def text_of(pdf: Path) -> str:
    document = pypdfium2.PdfDocument(pdf.read_bytes())
    pages = [page.get_textpage().get_text_range().replace("\r\n", "\n") for page in document]
    return "".join(f"--- page {n} ---\n{text.rstrip()}\n" for n, text in enumerate(pages, 1))


def render_case(case: str, out: Path) -> Path:
    """The case's documents, written as the CLI writes them, into out/<case>/."""
    [source] = [p for p in (GOLDEN / case).iterdir() if p.stem == "input"]
    _, directory = render_fill(source, SETTINGS, out / "fills")
    target = out / case
    target.mkdir(parents=True)
    for name in ("label.pdf", "leaflet.pdf", "fill.json"):
        shutil.copyfile(directory / name, target / name)
    fill = load_fill(source).model
    product = load_product(SETTINGS.catalog, fill.product)
    (target / "monograph.pdf").write_bytes(render_monograph(product, load_pharmacy(SETTINGS.pharmacy).model))
    for name in DOCUMENTS:
        (target / f"{Path(name).stem}.txt").write_text(text_of(target / name), encoding="utf-8")
    return target


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    actual = render_case(case, tmp_path)
    expected = GOLDEN / case
    if request.config.getoption("--update-golden"):
        for file in actual.iterdir():
            shutil.copyfile(file, expected / file.name)
        return
    problems = []
    for name in DOCUMENTS:
        if (actual / name).read_bytes() == (expected / name).read_bytes():
            continue
        report = tmp_path / "qa-report"
        result = compare(actual / name, expected / name, report=report)
        if result.ok:                  # other bytes (another zlib?), the same documents
            continue
        [doc] = result.documents
        fields = "; ".join(f"{f.field}: {f.old!r} → {f.new!r}" if f.old != f.new
                           else f"{f.field}: moved or restyled" for f in doc.fields)
        problems.append(f"{name}: {doc.status}" + (f" ({fields})" if fields else "")
                        + f"; overlays and report.json in {report}")
    for name in DOCUMENTS:
        sidecar = f"{Path(name).stem}.txt"
        if (actual / sidecar).read_text(encoding="utf-8") != (expected / sidecar).read_text(encoding="utf-8"):
            problems.append(f"{sidecar}: the extracted text changed (diff it against {expected / sidecar})")
    assert not problems, f"golden case {case} differs; see docs/qa.md 'Why is a golden test failing?':\n" \
        + "\n".join(problems)


def test_the_longest_directions_case_is_at_the_limit(tmp_path: Path) -> None:
    """One more sentence would not fit the label: the case really is the longest that fits."""
    source = GOLDEN / "longest-directions" / "input.yaml"
    text = source.read_text(encoding="utf-8").replace(
        'feel well."', 'feel well. Do not stop without asking your prescriber."')
    longer = tmp_path / "fill.yaml"
    longer.write_text(text, encoding="utf-8")
    with pytest.raises(FitError):
        Session(SETTINGS).prepare(load_fill(longer))


def test_update_golden_is_refused_under_ci() -> None:
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "pytest", "--update-golden", "-q", "-p",
                           "no:cacheprovider", "tests/test_golden.py", "-k", "nothing"],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "CI": "true"},
                          check=False)
    assert done.returncode == 4
    assert "--update-golden refuses to run under CI" in done.stderr + done.stdout
