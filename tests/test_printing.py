"""`leaflets print` against real components started here: a private CUPS scheduler with cups-pdf
virtual printers (whose output PDF is read back: page size, no scaling, text, codes), a raw
queue and a port-9100 listener whose ZPL is rendered back by an independent ZPL renderer.

The renderer is zplkit (PyPI; Python bindings to the Rust `zpl` renderer, codyps/zpl): a real
ZPL interpreter (it parses ^XA, ^PW, ^LL, ^FO, ^GF ... and lays out a label) that runs offline as
a wheel, with no Node.js, network service or subprocess; zebrafy decodes ^GF alone (our own
format, mirrored), and zpl-renderer-js needs Node and an 8 MB WASM bundle for the same job
(../shared/reference/printing.md §5)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import yaml
import zplkit
import zxingcpp
from click.testing import CliRunner
from PIL import Image, ImageChops, ImageFilter
from zplkit.rendering import Limits

from leaflets.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from printers import REQUIRE_CUPS, Cups, Listener, pdf_printers, unavailable

ROOT = Path(__file__).resolve().parents[1]
FILL = yaml.safe_load((ROOT / "examples" / "fill.yaml").read_text())
PHARMACY = yaml.safe_load((ROOT / "pharmacy.yaml").read_text())
KEY = f"{FILL['rx_number']}-{FILL['fill_number']}"                 # 600123-0
URL = f"{PHARMACY['monograph_base_url']}/{FILL['product']}"
PATIENT = FILL["patient"]["name"]                                   # "Jordan A. Rivera"
PATIENT_PARTS = [p for p in re.split(r"[\s.]+", PATIENT) if len(p) >= 3]
LABEL_PT = (4 * 72.0, 2.5 * 72.0)        # stocks/4x2.5.yaml: 4 × 2.5 in
LETTER_PT = (612.0, 792.0)
# zplkit's default cap on one graphic field (25,000 bytes) is below a whole 4 × 2.5 in label
# (51,816 bytes at 203 dpi, 112,500 at 300), which real Zebra printers take as a ~DG/^GF image.
ZPL_LIMITS = Limits(graphic_bytes=2_000_000)


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cups(listener: Listener) -> Iterator[Cups]:
    with pdf_printers() as server:
        server.add_raw_queue("zebra", listener.port)
        yield server


@dataclass
class Run:
    code: int
    out: str
    err: str


def leaflets(cups: Cups, *args: str | Path) -> Run:
    result = CliRunner().invoke(main, [str(a) for a in args], env={"CUPS_SERVER": str(cups.socket)})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def shop(cups: Cups, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example fill rendered into a fresh out/ with its ledger beside it."""
    where = tmp_path_factory.mktemp("shop")
    done = leaflets(cups, "render", ROOT / "examples" / "fill.yaml", "--out", where / "out",
                    "--ledger", where / "ledger.sqlite")
    assert done.code == 0, done.err
    return where


def print_fill(cups: Cups, shop: Path, *args: str) -> Run:
    return leaflets(cups, "print", KEY, "--out", shop / "out", "--ledger", shop / "ledger.sqlite",
                    "--user", "pharm-kl", *args)


def jobs_of(run: Run) -> dict[str, str]:
    """document → job id, from `leaflets print`'s lines 'label.pdf (pdf) → labels: job labels-1, …'."""
    found = dict(re.findall(r"^(\S+) \(\w+\) → \S+: job (\S+),", run.out, re.M))
    assert found, run.out
    return found


def ledger_rows(shop: Path, kind: str = "print") -> list[dict[str, Any]]:
    with sqlite3.connect(shop / "ledger.sqlite") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM events WHERE kind = ? ORDER BY id", (kind,))]


def all_rows(ledger: Path) -> int:
    with sqlite3.connect(ledger) as db:
        found: int = db.execute("SELECT count(*) FROM events").fetchone()[0]
        return found


def thermal_raster(page: Any, dpi: int) -> Image.Image:
    """A page as a thermal head prints it: no anti-aliasing, then a hard threshold (as
    test_pdf_label does it), 'L' mode with 0 for a dot."""
    image = page.render(scale=dpi / 72, grayscale=True, no_smoothpath=True, no_smoothtext=True,
                        no_smoothimage=True).to_pil().convert("L")
    return image.point(lambda v: 255 if v >= 128 else 0)


def codes(image: Image.Image) -> tuple[list[str], list[str]]:
    found = zxingcpp.read_barcodes(image)
    return ([b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode],
            [b.text for b in found if b.format == zxingcpp.BarcodeFormat.Code128])


def glyphs(page: Any) -> list[tuple[str, tuple[float, ...]]]:
    """Every printed character on a page with its box in points (pdfium's text extraction), in
    reading position order (top to bottom, then left to right)."""
    text = page.get_textpage()
    found = []
    for i in range(text.count_chars()):
        char = text.get_text_range(i, 1)
        if char.strip():
            found.append((char, tuple(round(v, 2) for v in text.get_charbox(i))))
    return sorted(found, key=lambda g: (-round(g[1][3]), g[1][0], g[0]))


# ---- PDF through cups-pdf ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def printed(cups: Cups, shop: Path) -> dict[str, Path]:
    """The example fill printed once: each document's cups-pdf output, by document name."""
    done = print_fill(cups, shop, "--labels", "labels", "--documents", "documents")
    assert done.code == 0, done.err
    jobs = jobs_of(done)
    assert set(jobs) == {"label.pdf", "leaflet.pdf"}
    assert jobs["label.pdf"].startswith("labels-") and jobs["leaflet.pdf"].startswith("documents-")
    outputs = {}
    for document, job in jobs.items():
        cups.wait_completed(job.rpartition("-")[0], job)
        outputs[document] = cups.output_of(job)
    return outputs


def test_the_label_prints_on_its_stock_at_100_percent(printed: dict[str, Path], shop: Path) -> None:
    sent = pdfium.PdfDocument(shop / "out" / KEY / "label.pdf")
    came = pdfium.PdfDocument(printed["label.pdf"])
    assert len(came) == len(sent) == 2             # the label and its warnings label
    for page in range(len(sent)):
        assert came[page].get_size() == pytest.approx(LABEL_PT, abs=0.01)
        # No scaling: every character is where the label put it, within a sixth of a point.
        assert PATIENT in came[page].get_textpage().get_text_range()
        # (The em dash of "Warnings 1 of 2 — more on the next label" is drawn, as the dots
        # below show, but cups-pdf's Ghostscript drops its text mapping.)
        sent_glyphs = [g for g in glyphs(sent[page]) if g[0] != "—"]
        came_glyphs = glyphs(came[page])
        assert [c for c, _ in came_glyphs] == [c for c, _ in sent_glyphs]
        for (_, a), (_, b) in zip(sent_glyphs, came_glyphs, strict=True):
            assert a == pytest.approx(b, abs=0.15)
        # And as dots: the printed label's thermal raster against the label's own.
        a, b = thermal_raster(sent[page], 203), thermal_raster(came[page], 203)
        assert a.size == b.size == (812, 508)
        changed = sum(1 for x, y in zip(a.tobytes(), b.tobytes(), strict=True) if x != y)
        assert changed < 0.01 * a.width * a.height, changed


@pytest.mark.parametrize("dpi", [203, 300])
def test_the_printed_labels_codes_decode(printed: dict[str, Path], dpi: int) -> None:
    page = pdfium.PdfDocument(printed["label.pdf"])[0]
    assert codes(thermal_raster(page, dpi)) == ([URL], [str(FILL["rx_number"])])


def test_the_leaflet_prints_duplex_on_letter(cups: Cups, printed: dict[str, Path]) -> None:
    came = pdfium.PdfDocument(printed["leaflet.pdf"])
    assert all(came[i].get_size() == pytest.approx(LETTER_PT, abs=0.01) for i in range(len(came)))
    # cupsd's page log (PageLogFormat: printer, job, [job-name], media, sides, copies) is the
    # scheduler's own record of each job's attributes.
    logged = {line.split()[1]: line for line in cups.page_log()}
    label_job = printed["label.pdf"].name.rpartition("job_")[2].removesuffix(".pdf")
    leaflet_job = printed["leaflet.pdf"].name.rpartition("job_")[2].removesuffix(".pdf")
    assert logged[label_job].startswith(f"labels {label_job} [Rx {KEY} label] Custom.288x180 one-sided 1")
    assert logged[leaflet_job].startswith(
        f"documents {leaflet_job} [Rx {KEY} leaflet] na_letter_8.5x11in two-sided-long-edge 1")


def test_no_patient_name_reaches_cups(cups: Cups, printed: dict[str, Path]) -> None:
    """Job titles carry the Rx number only: nothing CUPS or cups-pdf recorded names the patient
    (its logs at debug level, the page log, the output file names)."""
    assert printed
    recorded = "\n".join(p.name for p in cups.pdf_out.iterdir())
    recorded += "\n".join(p.read_text(errors="replace") for p in cups.log.iterdir() if p.is_file())
    assert f"Rx {KEY} label" in recorded
    for part in PATIENT_PARTS:
        assert part not in recorded


def test_each_print_is_in_the_ledger(printed: dict[str, Path], shop: Path, cups: Cups) -> None:
    assert printed
    rows = ledger_rows(shop)
    render = ledger_rows(shop, "render")[-1]
    assert [json.loads(r["detail"])["document"] for r in rows[:2]] == ["label.pdf", "leaflet.pdf"]
    label, leaflet = (json.loads(r["detail"]) for r in rows[:2])
    assert label["queue"] == "labels" and label["format"] == "pdf" and label["copies"] == 1
    assert re.fullmatch(r"labels-\d+", label["job"])
    assert leaflet["queue"] == "documents" and re.fullmatch(r"documents-\d+", leaflet["job"])
    for row in rows[:2]:
        assert row["user"] == "pharm-kl"
        assert (row["rx_number"], row["fill_number"], row["patient_name"], row["lot"]) == \
            (str(FILL["rx_number"]), 0, PATIENT, FILL["compounding"]["lot"])
        assert row["outputs"] == render["outputs"]
    history = leaflets(cups, "history", str(FILL["rx_number"]), "--ledger", shop / "ledger.sqlite")
    assert history.code == 0, history.err
    assert f"label.pdf (pdf) to labels job {label['job']}" in history.out, history.out
    assert f"leaflet.pdf (pdf) to documents job {leaflet['job']}" in history.out
    verify = leaflets(cups, "ledger", "verify", "--ledger", shop / "ledger.sqlite")
    assert verify.code == 0, verify.err


# ---- refusals: nothing printed, nothing recorded -------------------------------------------------


@pytest.mark.parametrize(("setup", "undo", "message"), [
    ("cupsdisable", "cupsenable",
     "Error: printer queue 'labels' is stopped (cupsenable labels starts it); nothing printed"),
    ("cupsreject", "cupsaccept",
     "Error: printer queue 'labels' is rejecting jobs (cupsaccept labels lets it take them); "
     "nothing printed"),
])
def test_a_stopped_or_rejecting_queue_is_refused(cups: Cups, shop: Path, printed: dict[str, Path],
                                                 setup: str, undo: str, message: str) -> None:
    assert printed
    before_jobs, before_rows = cups.jobs(), len(ledger_rows(shop))
    cups.admin(setup, "labels")
    try:
        done = print_fill(cups, shop, "--labels", "labels", "--documents", "documents")
    finally:
        cups.admin(undo, "labels")
    assert (done.code, done.out, done.err) == (1, "", message + "\n")
    assert cups.jobs() == before_jobs
    assert len(ledger_rows(shop)) == before_rows


def test_a_missing_queue_is_refused(cups: Cups, shop: Path) -> None:
    before_jobs, before_rows = cups.jobs(), len(ledger_rows(shop))
    done = print_fill(cups, shop, "--labels", "labels", "--documents", "laser-upstairs")
    assert (done.code, done.out) == (1, "")
    assert done.err == ("Error: printer queue 'laser-upstairs' does not exist (lpstat -p lists the "
                        "queues); nothing printed\n")
    assert cups.jobs() == before_jobs
    assert len(ledger_rows(shop)) == before_rows


def test_no_scheduler_is_not_a_missing_queue(tmp_path: Path) -> None:
    """With CUPS_SERVER naming a socket no scheduler listens on (as when cupsd is not running),
    the message says the scheduler is not running, not that a queue is missing. lpstat only: no
    cupsd, no root."""
    if shutil.which("lpstat") is None:
        unavailable("lpstat is not installed (Debian: cups-client)")
    done = CliRunner().invoke(main, ["render", str(ROOT / "examples" / "fill.yaml"), "--out",
                                     str(tmp_path / "out"), "--ledger",
                                     str(tmp_path / "ledger.sqlite")])
    assert done.exit_code == 0, done.stderr
    rows = all_rows(tmp_path / "ledger.sqlite")
    socket = tmp_path / "no-cupsd" / "cups.sock"
    done = CliRunner().invoke(main, ["print", KEY, "--out", str(tmp_path / "out"), "--ledger",
                                     str(tmp_path / "ledger.sqlite"), "--labels", "labels",
                                     "--documents", "documents"],
                              env={"CUPS_SERVER": str(socket)})
    assert isinstance(done.exception, SystemExit), done.exception
    assert (done.exit_code, done.stdout) == (1, "")
    assert done.stderr == (f"Error: the CUPS scheduler is not running (CUPS_SERVER={socket}); "
                           "nothing printed\n")
    assert all_rows(tmp_path / "ledger.sqlite") == rows


@pytest.mark.parametrize(("required", "outcome"), [
    ("1", pytest.fail.Exception), ("", pytest.skip.Exception), (None, pytest.skip.Exception)])
def test_without_cups_ci_fails_and_a_developer_skips(monkeypatch: pytest.MonkeyPatch,
                                                     required: str | None,
                                                     outcome: type[BaseException]) -> None:
    if required is None:
        monkeypatch.delenv(REQUIRE_CUPS, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_CUPS, required)
    with pytest.raises(outcome, match="no cupsd here"):
        unavailable("no cupsd here")


def test_a_label_that_differs_from_its_record_is_not_printed(cups: Cups, shop: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(shop / "out", out)
    label = out / KEY / "label.pdf"
    label.write_bytes(label.read_bytes().replace(b"/Producer", b"/Producex"))
    before_jobs, before_rows = cups.jobs(), len(ledger_rows(shop))
    done = leaflets(cups, "print", KEY, "--out", out, "--ledger", shop / "ledger.sqlite",
                    "--labels", "labels", "--documents", "documents")
    assert done.code == 1 and done.out == ""
    assert done.err.startswith(f"Error: {label}: differs from its record {out / KEY / 'fill.json'}")
    assert done.err.endswith("; nothing printed\n") and done.err.count("\n") == 1
    assert cups.jobs() == before_jobs
    assert len(ledger_rows(shop)) == before_rows


# An edited fill.json, each way a reviewer found a traceback: its fill number as text, or a
# document's entry not an object. (edit, the message once a ledger row records the edited bytes)
RECORD_EDITS = {
    "fill number as text": (lambda r: r.update(fill_number=str(r["fill_number"])),
                            'fill_number: expected a whole number, got "0"'),
    "an output not an object": (lambda r: r["outputs"].update({"label.pdf": "x"}),
                                'outputs.label.pdf.sha256: expected the document\'s SHA-256, got "x"'),
    "no outputs": (lambda r: r.pop("outputs"), "not a fill record (no 'outputs' object)"),
}


def refused(done: Run, path: Path, message: str) -> None:
    """One line on stderr naming the file, exit 1, nothing on stdout."""
    assert (done.code, done.out) == (1, ""), done
    assert done.err == f"Error: {path}: {message}; nothing printed\n"


@pytest.mark.parametrize("edit", RECORD_EDITS)
def test_an_edited_fill_record_is_not_printed(cups: Cups, shop: Path, tmp_path: Path,
                                              edit: str) -> None:
    """fill.json is checked against the SHA-256 its ledger row recorded before anything in it
    is read; and were a row to record an ill-formed fill.json, each part is checked too."""
    from leaflets.record.ledger import FIELDS, open_ledger
    out = tmp_path / "out"
    shutil.copytree(shop / "out", out)
    path = out / KEY / "fill.json"
    record = json.loads(path.read_text())
    change, message = RECORD_EDITS[edit]
    change(record)
    path.write_text(json.dumps(record))
    before_jobs, before_rows = cups.jobs(), all_rows(shop / "ledger.sqlite")
    done = leaflets(cups, "print", KEY, "--out", out, "--ledger", shop / "ledger.sqlite",
                    "--labels", "labels", "--documents", "documents")
    render = ledger_rows(shop, "render")[-1]
    refused(done, path, f"differs from the ledger's row {render['id']} for Rx {KEY}")
    assert cups.jobs() == before_jobs
    assert all_rows(shop / "ledger.sqlite") == before_rows
    # A ledger whose latest render row records the edited bytes (as if rendered so).
    with sqlite3.connect(shop / "ledger.sqlite") as source, \
            sqlite3.connect(tmp_path / "ledger.sqlite") as copy:
        source.backup(copy)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    row = ledger.last_render(str(FILL["rx_number"]), FILL["fill_number"])
    assert row is not None
    outputs = json.loads(row["outputs"])
    outputs["fill.json"] = hashlib.sha256(path.read_bytes()).hexdigest()
    ledger.append({**{name: row[name] for name in FIELDS}, "outputs": outputs})
    count = ledger.count()
    done = leaflets(cups, "print", KEY, "--out", out, "--ledger", tmp_path / "ledger.sqlite",
                    "--labels", "labels", "--documents", "documents")
    refused(done, path, message)
    assert cups.jobs() == before_jobs
    assert all_rows(tmp_path / "ledger.sqlite") == count


# ---- ZPL ---------------------------------------------------------------------------------------


def zpl_labels(data: bytes, dpi: int) -> list[Image.Image]:
    """The ZPL rendered by zplkit, one 'L' image per label (0 for a dot)."""
    document = zplkit.render(data, zplkit.Options(profile="specification", dpi=dpi),
                             limits=ZPL_LIMITS)
    assert document.warnings == []
    return [Image.open(io.BytesIO(scene.png())).convert("L") for scene in document.labels]


def ink_rows(image: Image.Image, box_pt: list[float], dpi: int) -> tuple[int, int]:
    """The first and last row with a dot inside a box [x, y, w, h] in points from the top."""
    x, y, w, h = (round(v * dpi / 72) for v in box_pt)
    crop = image.crop((x, y, x + w, y + h))
    rows = [r for r in range(crop.height)
            if any(v < 128 for v in crop.crop((0, r, crop.width, r + 1)).tobytes())]
    return y + rows[0], y + rows[-1]


def cap_height_dots(size_pt: float, dpi: int) -> float:
    """The height of a capital letter of the label's bold typeface at size_pt, in dots."""
    from reportlab.pdfbase.ttfonts import TTFontFile
    font = TTFontFile(str(ROOT / "fonts" / "AtkinsonHyperlegibleNext-Bold.ttf"))
    return float(font.capHeight) / 1000 * size_pt * dpi / 72      # capHeight in 1/1000 em


@pytest.mark.parametrize(("dpi", "size"), [(203, (812, 508)), (300, (1200, 750))])
def test_zpl_to_port_9100_round_trip(cups: Cups, shop: Path, listener: Listener, dpi: int,
                                     size: tuple[int, int]) -> None:
    already = len(listener.received)
    before_rows = len(ledger_rows(shop))
    done = print_fill(cups, shop, "--format", "zpl", "--zpl-to", f"127.0.0.1:{listener.port}",
                      "--dpi", str(dpi), "--documents", "documents")
    assert done.code == 0, done.err
    assert f"label.pdf (zpl) → tcp 127.0.0.1:{listener.port}: job tcp 127.0.0.1:{listener.port}" \
        in done.out
    received = listener.wait(already + 1)[already]
    # ^PW/^LL are the label's size in dots (printing.md §2: 4 × 2.5 in at 203 dpi is ^PW812^LL508).
    assert received.startswith(f"^XA\n^PW{size[0]}\n^LL{size[1]}\n".encode())
    pages = len(pdfium.PdfDocument(shop / "out" / KEY / "label.pdf"))
    assert pages == 2                              # the label and its warnings label
    assert received.count(b"^XA") == pages and received.rstrip().endswith(b"^XZ")
    images = zpl_labels(received, dpi)
    assert len(images) == pages and all(image.size == size for image in images)
    image = images[0]
    assert codes(image) == ([URL], [str(FILL["rx_number"])])
    # The label's own raster at this resolution (pdfium straight at this dpi, thresholded at
    # half a dot): the same image but at the edges of ink, where pdfium at this resolution
    # widens fills to whole pixels (it differs: the ZPL is not a copy of this raster), so no
    # dot differs more than 2 dots from an edge. Bar widths: test_zpl_barcode_modules_....
    label = pdfium.PdfDocument(shop / "out" / KEY / "label.pdf")
    for page, got in zip(label, images, strict=True):
        want = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        want = want.point(lambda v: 255 if v >= 128 else 0).crop((0, 0, *size))
        edges = ImageChops.difference(want.filter(ImageFilter.MaxFilter(5)),
                                      want.filter(ImageFilter.MinFilter(5)))
        changed = ImageChops.difference(got, want)
        assert changed.getbbox() is not None
        assert ImageChops.multiply(changed, ImageChops.invert(edges)).getbbox() is None
    expected = label[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    expected = expected.point(lambda v: 255 if v >= 128 else 0).crop((0, 0, *size))
    # The patient-centred text at its size: the patient's line (its box from the fill's record)
    # is at least as tall as a capital at the 12 pt minimum (16 CCR 1707.5; stocks/4x2.5.yaml).
    record = json.loads((shop / "out" / KEY / "fill.json").read_text())
    (box,) = [f["box_pt"] for f in record["label"]["fields"] if f["field"] == "patient"]
    top, bottom = ink_rows(image, box, dpi)
    assert bottom - top + 1 >= cap_height_dots(12, dpi)
    assert abs(top - ink_rows(expected, box, dpi)[0]) <= 1
    assert abs(bottom - ink_rows(expected, box, dpi)[1]) <= 1
    rows = ledger_rows(shop)[before_rows:]
    assert next(json.loads(r["detail"]) for r in rows) == {
        "queue": None, "job": f"tcp 127.0.0.1:{listener.port}", "copies": 1, "format": "zpl",
        "document": "label.pdf"}
    history = leaflets(cups, "history", str(FILL["rx_number"]), "--ledger", shop / "ledger.sqlite")
    assert f"label.pdf (zpl) to tcp 127.0.0.1:{listener.port}\n" in history.out


def test_zpl_through_a_raw_cups_queue(cups: Cups, shop: Path, listener: Listener) -> None:
    already = len(listener.received)
    done = print_fill(cups, shop, "--format", "zpl", "--dpi", "203", "--copies", "2",
                      "--labels", "zebra", "--documents", "documents")
    assert done.code == 0, done.err
    job = jobs_of(done)["label.pdf"]
    assert job.startswith("zebra-")
    received = listener.wait(already + 1)[already]
    images = zpl_labels(received, 203)
    assert len(images) == 4          # two copies, collated: label, warnings label, label, ...
    assert [i.tobytes() for i in images[:2]] == [i.tobytes() for i in images[2:]]
    assert images[0].tobytes() != images[1].tobytes()
    assert codes(images[0]) == ([URL], [str(FILL["rx_number"])])
    # The raw queue passed the ZPL through unchanged: what port 9100 got from us directly.
    direct = print_fill(cups, shop, "--format", "zpl", "--zpl-to", f"127.0.0.1:{listener.port}",
                        "--dpi", "203", "--copies", "2", "--documents", "documents")
    assert direct.code == 0, direct.err
    assert listener.wait(already + 2)[already + 1] == received


def test_zpl_barcode_modules_are_whole_dots(shop: Path) -> None:
    """At 203 dpi the Code 128 module is 0.72 pt = 2.03 dots (stocks/4x2.5.yaml): each bar and
    space of the ZPL image is a whole number of modules of 2 dots, within the 0.03-dot drift a
    run can gather (never a 1-dot space: thermal bars spread into it), and nothing is grey."""
    from leaflets.printing.zpl import label_zpl
    image = zpl_labels(label_zpl((shop / "out" / KEY / "label.pdf").read_bytes(), 203), 203)[0]
    assert set(image.tobytes()) <= {0, 255}
    x, y, w, h = (round(v * 203 / 72) for v in (208, 158, 74, 18))   # the barcode box
    row = image.crop((x, y + h // 2, x + w, y + h // 2 + 1)).tobytes()
    runs, last, count = [], row[0], 0
    for value in row:
        if value == last:
            count += 1
        else:
            runs.append(count)
            last, count = value, 1
    inner = runs[1:]                # the quiet zone's white is first
    assert len(inner) > 20
    assert inner[:6] == [4, 2, 2, 4, 6, 4]       # Start C: bars and spaces 2 1 1 2 3 2 modules
    for run in inner:
        modules = round(run / 2.03)
        assert 1 <= modules <= 4 and run >= 2 * modules and abs(run - modules * 2.03) <= 1, runs


def test_zpl_is_deterministic(shop: Path) -> None:
    from leaflets.printing.zpl import label_zpl
    pdf = (shop / "out" / KEY / "label.pdf").read_bytes()
    assert label_zpl(pdf, 300) == label_zpl(pdf, 300)
    assert label_zpl(pdf, 203, copies=3) == label_zpl(pdf, 203) * 3


# ---- a batch's combined sheets, to the queues of the pharmacy profile ------------------------------


@pytest.fixture(scope="module")
def day(cups: Cups, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """Three fills of the example day rendered as a batch, and a profile naming the queues."""
    where = tmp_path_factory.mktemp("day")
    lines = (ROOT / "examples" / "day.csv").read_text().splitlines(keepends=True)
    (where / "day.csv").write_text("".join(lines[:4]))
    done = leaflets(cups, "batch", where / "day.csv", "--out", where / "out", "--ledger",
                    where / "ledger.sqlite", "--workers", "1", "--quiet")
    assert done.code == 0, done.err
    (batch_id,) = [p.name for p in (where / "out" / "batches").iterdir()]
    profile = where / "pharmacy.yaml"
    profile.write_text((ROOT / "pharmacy.yaml").read_text()
                       + "printers: {labels: labels, documents: documents}\n")
    return where, batch_id, profile


def test_a_batch_prints_its_combined_sheets(cups: Cups, day: tuple[Path, str, Path]) -> None:
    where, batch_id, profile = day
    keys = [f"{line.split(',')[0]}-{line.split(',')[1]}"
            for line in (where / "day.csv").read_text().splitlines()[1:]]
    done = leaflets(cups, "print", batch_id, "--out", where / "out", "--ledger",
                    where / "ledger.sqlite", "--pharmacy", profile)
    assert done.code == 0, done.err
    jobs = jobs_of(done)
    assert jobs["labels.pdf"].startswith("labels-") and jobs["leaflets.pdf"].startswith("documents-")
    cups.wait_completed("labels", jobs["labels.pdf"])
    labels = pdfium.PdfDocument(cups.output_of(jobs["labels.pdf"]))
    # Each fill's label pages in turn (its label, then its warnings labels), as in its own PDF.
    pages = [len(pdfium.PdfDocument(where / "out" / key / "label.pdf")) for key in keys]
    assert len(keys) == 3 and len(labels) == sum(pages)
    first = 0
    for key, count in zip(keys, pages, strict=True):
        for index in range(first, first + count):
            assert labels[index].get_size() == pytest.approx(LABEL_PT, abs=0.01)
            assert f"Rx {key.split('-')[0]}" in labels[index].get_textpage().get_text_range()
        assert codes(thermal_raster(labels[first], 300))[1] == [key.split("-")[0]]
        first += count
    # One print row per fill of the sheet, each with the job and the batch.
    rows = [r for r in ledger_rows(where) if json.loads(r["detail"])["document"] == "labels.pdf"]
    assert [f"{r['rx_number']}-{r['fill_number']}" for r in rows] == keys
    assert {json.loads(r["detail"])["job"] for r in rows} == {jobs["labels.pdf"]}
    assert {json.loads(r["detail"])["batch"] for r in rows} == {batch_id}
    # The title carries the batch's hash, not its input file's name.
    logged = [line for line in cups.page_log() if line.startswith("labels ")][-1]
    assert f"[Batch {batch_id.rpartition('-')[2]} labels]" in logged


def test_an_edited_sheet_is_not_printed(cups: Cups, day: tuple[Path, str, Path]) -> None:
    where, batch_id, profile = day
    sheet = where / "out" / "batches" / batch_id / "leaflets.pdf"
    original = sheet.read_bytes()
    sheet.write_bytes(original.replace(b"/Producer", b"/Producex"))
    before_jobs, before_rows = cups.jobs(), len(ledger_rows(where))
    try:
        done = leaflets(cups, "print", batch_id, "--out", where / "out", "--ledger",
                        where / "ledger.sqlite", "--pharmacy", profile)
    finally:
        sheet.write_bytes(original)
    assert (done.code, done.out) == (1, "")
    assert done.err == (f"Error: {sheet}: differs from the sheet its fills' records make; run the "
                        "batch again; nothing printed\n")
    assert cups.jobs() == before_jobs
    assert len(ledger_rows(where)) == before_rows


def test_no_queue_anywhere_is_refused(cups: Cups, shop: Path) -> None:
    done = leaflets(cups, "print", KEY, "--out", shop / "out", "--ledger", shop / "ledger.sqlite",
                    "--pharmacy", ROOT / "pharmacy.yaml")
    assert (done.code, done.out) == (1, "")
    assert done.err == ("Error: no labels printer: give --labels QUEUE or set printers.labels in the "
                        "pharmacy profile; nothing printed\n")


# ---- a reprint --------------------------------------------------------------------------------


def test_a_reprint_prints_marked_and_is_recorded(cups: Cups, shop: Path) -> None:
    """`leaflets reprint` makes the fill again from the ledger and prints it through the same
    queues: what cups-pdf wrote is the original label but for 'REPRINT n', its codes decode, and
    the ledger has the reprint (reason, count) and its two print rows with the reprint's hashes."""
    done = leaflets(cups, "reprint", KEY, "--reason", "label smudged", "--out", shop / "out",
                    "--ledger", shop / "ledger.sqlite", "--user", "tech-rt",
                    "--catalog", ROOT / "products", "--pharmacy", ROOT / "pharmacy.yaml",
                    "--labels", "labels", "--documents", "documents")
    assert done.code == 0, done.err
    jobs = jobs_of(done)
    assert set(jobs) == {"label.pdf", "leaflet.pdf"}
    for job in jobs.values():
        cups.wait_completed(job.rpartition("-")[0], job)
    (reprint,) = ledger_rows(shop, "reprint")
    detail = json.loads(reprint["detail"])
    count = detail["reprint"]
    assert detail["reason"] == "label smudged" and reprint["user"] == "tech-rt"
    came = pdfium.PdfDocument(cups.output_of(jobs["label.pdf"]))
    sent = pdfium.PdfDocument(shop / "out" / KEY / "label.pdf")
    assert came[0].get_size() == pytest.approx(LABEL_PT, abs=0.01)
    text = came[0].get_textpage().get_text_range()
    assert f"REPRINT {count} · " in text            # (cups-pdf drops the em dash's text: above)
    assert text.replace(f"REPRINT {count} · ", "") == \
        sent[0].get_textpage().get_text_range().replace("—", "")
    assert codes(thermal_raster(came[0], 203)) == ([URL], [str(FILL["rx_number"])])
    prints = [r for r in ledger_rows(shop) if json.loads(r["detail"])["job"] in jobs.values()]
    assert [json.loads(r["detail"])["document"] for r in prints] == ["label.pdf", "leaflet.pdf"]
    assert all(r["outputs"] == reprint["outputs"] for r in prints)
    # A recall lists the fill once: last printed by whoever printed the reprint, and how often.
    recall = leaflets(cups, "recall", FILL["compounding"]["lot"], "--csv", "--ledger",
                      shop / "ledger.sqlite")
    (line,) = list(csv.DictReader(io.StringIO(recall.out)))
    assert (line["rx"], line["printed by"]) == (KEY, "tech-rt")
    assert line["printed at"] == prints[-1]["at"]
    assert int(line["print jobs"]) == len(ledger_rows(shop)) >= 2
    log = "\n".join(cups.page_log())
    assert f"[Rx {KEY} reprint {count} label]" in log and PATIENT not in log


def test_an_rx_number_with_a_dash_is_a_fill_key() -> None:
    """models.RxNumber allows '-' in an Rx number: its fill and reprint folders are found."""
    from leaflets.printing.documents import FILL_KEY, REPRINT_KEY
    assert FILL_KEY.match("RX-600123-0") and FILL_KEY.match("600123-12")
    assert not FILL_KEY.match("600123-0-r1") and not FILL_KEY.match("-0")
    found = REPRINT_KEY.match("RX-600123-0-r2")
    assert found is not None and (found[1], found[2]) == ("RX-600123-0", "2")


def test_a_reprint_that_cannot_print_is_not_made(cups: Cups, shop: Path) -> None:
    """The queues are checked before the reprint is made: a missing one is the one-line error,
    and no reprint folder, number or ledger row is spent."""
    before = ledger_rows(shop, "reprint")
    folders = set((shop / "out" / "reprints").glob("*")) if (shop / "out" / "reprints").exists() \
        else set()
    done = leaflets(cups, "reprint", KEY, "--reason", "x", "--out", shop / "out",
                    "--ledger", shop / "ledger.sqlite", "--catalog", ROOT / "products",
                    "--pharmacy", ROOT / "pharmacy.yaml", "--labels", "nosuch",
                    "--documents", "documents")
    assert done.code == 1
    assert done.err.startswith("Error: printer queue 'nosuch' ") and done.err.count("\n") == 1
    assert ledger_rows(shop, "reprint") == before
    after = set((shop / "out" / "reprints").glob("*")) if (shop / "out" / "reprints").exists() \
        else set()
    assert after == folders
