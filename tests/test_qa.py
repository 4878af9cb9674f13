"""`leaflets qa`: what changed, where, and in which field; bad input is exit 2 with a message."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from leaflets.batch import run_batch
from leaflets.cli import main
from leaflets.pdf import Info, Ops
from leaflets.pipeline import Settings, render_fill
from leaflets.qa import Limits
from leaflets.qa.check import _hundredths, _overlap
from leaflets.render import Pages, write_pdf

ROOT = Path(__file__).resolve().parents[1]     # as in conftest.py
FILL = ROOT / "examples" / "fill.yaml"


def qa(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["qa", *map(str, args)])
    return result.exit_code, result.output


def render(tmp_path: Path, name: str, text: str, source: str = "fill.yaml") -> Path:
    path = tmp_path / source
    path.write_text(text, encoding="utf-8")
    render_fill(path, Settings(catalog=ROOT / "products", pharmacy=ROOT / "pharmacy.yaml"),
                tmp_path / name)
    return tmp_path / name


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("qa")
    original = FILL.read_text(encoding="utf-8")
    expected = render(tmp, "expected", original)
    same = render(tmp, "same", original)
    changed = render(tmp, "changed", original.replace("1 cap po qd", "2 cap po qd")
                     .replace("quantity: 30", "quantity: 60"), "changed.yaml")
    return expected, same, changed


def test_identical_trees_pass_without_rasterising(trees: tuple[Path, Path, Path], tmp_path: Path) -> None:
    expected, same, _ = trees
    code, output = qa(same, expected, "--report", tmp_path / "report")
    assert code == 0, output
    assert output.strip() == "QA: 3 documents: 3 identical"
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == ["report.html", "report.json"]


def test_a_changed_direction_is_reported_as_that_field(trees: tuple[Path, Path, Path],
                                                      tmp_path: Path) -> None:
    expected, _, changed = trees
    code, output = qa(changed, expected, "--json", "--report", tmp_path / "report")
    assert code == 1
    data = json.loads(output)
    label = next(d for d in data["documents"] if d["path"] == "600123-0/label.pdf")
    assert label["status"] == "text"
    fields = {f["field"]: (f["old"], f["new"]) for f in label["fields"]}
    assert fields["directions"] == ("Take 1 capsule by mouth once daily.",
                                    "Take 2 capsules by mouth once daily.")
    assert "patient" not in fields and "drug" not in fields
    [page] = label["diffs"]
    assert "~Take [-1 capsule-] {+2 capsules+} by mouth once daily." in page["text"]
    assert (tmp_path / "report" / page["overlay"]).is_file()
    assert len(page["regions_pt"]) == 2            # the directions line and the quantity
    x, y, _, _ = page["region_pt"]                 # the change is where directions are drawn
    [box] = [f["box_pt"] for f in json.loads((expected / "600123-0" / "fill.json").read_text())
             ["label"]["fields"] if f["field"] == "directions"]
    assert box[0] <= x <= box[0] + box[2] and box[1] - 2 <= y <= box[1] + box[3]
    leaflet = next(d for d in data["documents"] if d["path"] == "600123-0/leaflet.pdf")
    assert {f["field"]: (f["old"], f["new"]) for f in leaflet["fields"]} == {
        "directions": ("How to use it: Take 1 capsule by mouth once daily.",
                       "How to use it: Take 2 capsules by mouth once daily.")}
    human = qa(changed, expected)[1]
    assert "  directions: 'Take 1 capsule by mouth once daily.' → " \
           "'Take 2 capsules by mouth once daily.'" in human


def _one_page(path: Path, x: float) -> Path:
    ops = Ops(f"BT /LF1+0 14 Tf {x} 700 Td (Same words, moved) Tj ET", frozenset({("Atkinson", 0)}))
    path.write_bytes(write_pdf(Pages(612, 792, ((ops,),)), Info("t", "s", dt.date(2026, 11, 24))))
    return path


def test_a_one_pixel_shift_is_found_in_pixels_with_the_text_unchanged(tmp_path: Path) -> None:
    # At 72 dpi one point is one pixel: the words move one pixel to the right.
    before, after = _one_page(tmp_path / "a.pdf", 72), _one_page(tmp_path / "b.pdf", 73)
    code, output = qa(after, before, "--json", "--dpi", "72")
    assert code == 1
    [doc] = json.loads(output)["documents"]
    assert doc["status"] == "visual"
    [page] = doc["diffs"]
    assert page["text"] == [] and page["pixels"] > 0
    assert 70 <= page["region_pt"][0] <= 74
    # Without a fill record nothing says where the safety fields are: no tolerance at all.
    untold = json.loads(qa(after, before, "--json", "--max-pixels", "100000")[1])
    assert untold["documents"][0]["status"] == "visual"


def _sized(path: Path, width: float) -> Path:
    ops = Ops("BT /LF1+0 14 Tf 72 700 Td (Same words) Tj ET", frozenset({("Atkinson", 0)}))
    path.write_bytes(write_pdf(Pages(width, 792, ((ops,),)), Info("t", "s", dt.date(2026, 11, 24))))
    return path


def test_a_page_of_another_size_is_a_difference(tmp_path: Path) -> None:
    code, output = qa(_sized(tmp_path / "wide.pdf", 756), _sized(tmp_path / "letter.pdf", 612), "--json")
    assert code == 1
    [doc] = json.loads(output)["documents"]
    assert doc["status"] == "size"
    assert doc["diffs"][0]["size_pt"] == [[756.0, 792.0], [612.0, 792.0]]


def test_comparing_two_fill_folders_also_checks_the_actual_one(trees: tuple[Path, Path, Path],
                                                              tmp_path: Path) -> None:
    fill = _copy_fill(trees[0], tmp_path)
    _edit_record(fill, _wrong_barcode)
    code, output = qa(fill, trees[0] / "600123-0")
    assert code == 1
    assert "label.pdf: codes: the barcode reads ['600123'], the record says '600999'" in output


def test_a_malformed_record_or_report_folder_is_a_message_not_a_traceback(
        trees: tuple[Path, Path, Path], tmp_path: Path) -> None:
    fill = _copy_fill(trees[0], tmp_path)
    (fill / "fill.json").write_text("[]")
    code, output = qa(tmp_path / "tree", "--check")
    assert code == 1
    assert "600123-0/fill.json: record: not a fill record" in output
    blocker = tmp_path / "report-is-a-file"
    blocker.write_text("")
    code, output = qa(trees[1], trees[0], "--report", blocker)
    assert code == 1
    assert output.startswith(f"Error: {blocker}: cannot make the report folder")


@pytest.mark.parametrize(("field", "passes"), [("directions", False), ("pharmacist", True)])
def test_max_pixels_never_excuses_a_safety_field(tmp_path: Path, field: str, passes: bool) -> None:
    """The same one-pixel move, recorded as a label field: tolerated in the pharmacist's
    initials, never in the directions."""
    for side, x in (("expected", 72), ("actual", 73)):
        folder = tmp_path / side / "600123-0"
        folder.mkdir(parents=True)
        _one_page(folder / "label.pdf", x)
        record = {"label": {"fields": [{"field": field, "page": 1, "box_pt": [60, 80, 300, 20]}]}}
        (folder / "fill.json").write_text(json.dumps(record))
    label = tmp_path / "actual" / "600123-0" / "label.pdf"
    data = json.loads(qa(label, tmp_path / "expected" / "600123-0" / "label.pdf", "--json",
                         "--dpi", "72", "--max-pixels", "100000")[1])
    [doc] = data["documents"]
    assert [f["field"] for f in doc["fields"]] == [field]
    assert doc["status"] == ("within-tolerance" if passes else "visual")


def test_a_file_on_one_side_only_is_a_difference(trees: tuple[Path, Path, Path], tmp_path: Path) -> None:
    expected, same, _ = trees
    extra = tmp_path / "extra"
    (extra / "600123-0").mkdir(parents=True)
    for f in (same / "600123-0").iterdir():
        (extra / "600123-0" / f.name).write_bytes(f.read_bytes())
    (extra / "600123-0" / "label.pdf").unlink()
    (extra / "notes.txt").write_text("new")
    data = json.loads(qa(extra, expected, "--json")[1])
    status = {d["path"]: d["status"] for d in data["documents"]}
    assert status["600123-0/label.pdf"] == "missing"
    assert status["notes.txt"] == "added"


@pytest.mark.parametrize(("damage", "message"), [
    ("missing", "not found"),
    ("truncated", "truncated PDF (no %%EOF at its end)"),
    ("not a pdf", "not a PDF (it does not start with %PDF-)"),
])
def test_bad_input_is_exit_2_with_a_message(trees: tuple[Path, Path, Path], tmp_path: Path,
                                            damage: str, message: str) -> None:
    expected, _, _ = trees
    good = expected / "600123-0" / "label.pdf"
    bad = tmp_path / "label.pdf"
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    elif damage == "not a pdf":
        bad.write_text("rx_number: 600123\n")
    code, output = qa(bad, good)
    assert code == 2
    assert output == f"Error: {bad}: {message}\n"
    assert "Traceback" not in output


class _Dom(HTMLParser):
    """The rows, field cells and image counts a browser ended up with."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.fields: list[str] = []
        self.body: dict[str, str] = {}
        self.sources: list[str] = []
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-status" in a:
            self.rows[a["data-path"]] = a["data-status"]
        elif tag == "tr" and "data-field" in a:
            self.fields.append(a["data-field"])
        elif tag == "body":
            self.body = a
        elif tag in ("img", "script", "link"):
            self.sources.append(a.get("src") or a.get("href") or "")
        elif tag == "td" and a.get("class") in ("old", "new"):
            self._cell = a["class"]

    def handle_data(self, data: str) -> None:
        if self._cell:
            self.fields.append(f"{self._cell}:{data}")
            self._cell = None


def test_the_html_report_shows_in_a_real_browser_what_the_json_says(
        trees: tuple[Path, Path, Path], tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if not chromium:    # a real browser or nothing: no stand-in for what QA staff open
        pytest.skip("cannot run: Debian's chromium is not installed (bash scripts/check installs "
                    "it with apt-get where it can; see its message)")
    expected, _, changed = trees
    report = tmp_path / "report"
    assert qa(changed, expected, "--report", report)[0] == 1
    data = json.loads((report / "report.json").read_text())
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
         (report / "report.html").as_uri()], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = _Dom()
    dom.feed(done.stdout)
    assert dom.rows == {d["path"]: d["status"] for d in data["documents"]}
    label = next(d for d in data["documents"] if d["path"] == "600123-0/label.pdf")
    [directions] = [f for f in label["fields"] if f["field"] == "directions"]
    assert ["directions", f"old:{directions['old']}", f"new:{directions['new']}"] == dom.fields[:3]
    shown = sum(3 for d in data["documents"] for page in d["diffs"] if page["overlay"])
    assert dom.body["data-images"] == dom.body["data-images-shown"] == str(shown)
    assert all(src.startswith("data:image/png;base64,") or src == "" for src in dom.sources)



def _copy_fill(tree: Path, tmp_path: Path) -> Path:
    target = tmp_path / "tree" / "600123-0"
    shutil.copytree(tree / "600123-0", target)
    return target


def _edit_record(fill: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    record = json.loads((fill / "fill.json").read_text())
    edit(record)
    (fill / "fill.json").write_text(json.dumps(record))


def _wrong_barcode(record: dict[str, Any]) -> None:
    record["label"]["barcode"] = "600999"


def test_check_passes_a_good_tree(trees: tuple[Path, Path, Path]) -> None:
    expected, _, _ = trees
    code, output = qa(expected, "--check")
    assert (code, output) == (0, "Checks: 0 problems\n")


def test_check_finds_codes_that_disagree_with_the_record(trees: tuple[Path, Path, Path],
                                                        tmp_path: Path) -> None:
    fill = _copy_fill(trees[0], tmp_path)
    _edit_record(fill, _wrong_barcode)
    code, output = qa(tmp_path / "tree", "--check")
    assert code == 1
    assert "600123-0/label.pdf: codes: the barcode reads ['600123'], the record says '600999'" in output


def test_check_finds_small_text_in_a_patient_centred_field(trees: tuple[Path, Path, Path],
                                                          tmp_path: Path) -> None:
    fill = _copy_fill(trees[0], tmp_path)

    def drug_in_details(record: dict[str, Any]) -> None:   # as if set in the small details
        details = next(f for f in record["label"]["fields"] if f["field"] == "lot")
        for entry in record["label"]["fields"]:
            if entry["field"] == "drug":
                entry["box_pt"] = details["box_pt"]

    _edit_record(fill, drug_in_details)
    code, output = qa(tmp_path / "tree", "--check")
    assert code == 1
    assert "600123-0/label.pdf: size: drug has text at " in output
    assert "below the stock's 12 pt" in output
    assert "600123-0/label.pdf: overlap: " in output


def test_a_label_whose_stock_cannot_be_loaded_still_gets_the_pages_checks(
        trees: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """Without its stock there are no minimum sizes (a problem, named), but the first label's
    codes, bounds and overlaps are checked as on any page."""
    fill = _copy_fill(trees[0], tmp_path)

    def unknown_stock_and_overlap(record: dict[str, Any]) -> None:
        record["label"]["stock"] = "no-such-stock"
        _wrong_barcode(record)
        details = next(f for f in record["label"]["fields"] if f["field"] == "lot")
        next(f for f in record["label"]["fields"] if f["field"] == "drug")["box_pt"] = \
            details["box_pt"]

    _edit_record(fill, unknown_stock_and_overlap)
    code, output = qa(tmp_path / "tree", "--check")
    assert code == 1
    lines = output.splitlines()
    assert lines[0] == "600123-0/label.pdf: codes: the barcode reads ['600123'], the record says '600999'"
    assert any(line.startswith("600123-0/label.pdf: overlap: ") and "drug" in line
               for line in lines), output
    sizes = [line for line in lines if line.startswith("600123-0/label.pdf: size: ")]
    assert len(sizes) == 1 and "no-such-stock" in sizes[0], output


def test_check_finds_a_banned_abbreviation(trees: tuple[Path, Path, Path], tmp_path: Path) -> None:
    fill = _copy_fill(trees[0], tmp_path)
    ops = Ops("BT /LF1+0 14 Tf 72 700 Td (Take 1 capsule qd.) Tj ET", frozenset({("Atkinson", 0)}))
    (fill / "leaflet.pdf").write_bytes(write_pdf(Pages(612, 792, ((ops,),)),
                                                 Info("t", "s", dt.date(2026, 11, 24))))
    code, output = qa(tmp_path / "tree", "--check")
    assert code == 1
    assert "600123-0/leaflet.pdf: abbreviation: " in output and "qd" in output


def test_check_of_a_folder_without_fills_is_bad_input(tmp_path: Path) -> None:
    code, output = qa(tmp_path, "--check")
    assert code == 2
    assert output == f"Error: {tmp_path}: no rendered fills here (no fill.json beside a label.pdf)\n"


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example day (34 fills) as `leaflets batch` writes it."""
    out = tmp_path_factory.mktemp("day") / "out"
    run_batch([ROOT / "examples" / "day.csv"],
              Settings(catalog=ROOT / "products", pharmacy=ROOT / "pharmacy.yaml"), out, workers=1)
    return out


def test_check_passes_the_whole_example_day(day: Path) -> None:
    # Two of its labels have a field ending where the next begins once both are rounded to
    # 0.01 pt (fill_date 72.66 + 64.52 = 137.18, lot at 137.17): touching, not overlapping.
    assert qa(day, "--check") == (0, "Checks: 0 problems\n")


@pytest.mark.parametrize(("field", "box", "overlap"), [
    ("lot", [137.17, 112.57, 67.32, 9.0], None),              # as rendered: touches fill_date
    ("lot", [136.67, 112.57, 67.32, 9.0], "fill_date is drawn over lot"),     # 0.5 pt into it
    ("pharmacist", [8.0, 121.56, 24.06, 9.0], None),          # rx ends at 121.57: rounding
    ("pharmacist", [8.0, 121.07, 24.06, 9.0], "rx is drawn over pharmacist"),  # 0.5 pt up
])
def test_check_finds_overlaps_but_not_touching_boxes(day: Path, tmp_path: Path, field: str,
                                                     box: list[float], overlap: str | None) -> None:
    fill = tmp_path / "tree" / "600204-1"
    shutil.copytree(day / "600204-1", fill)

    def move(record: dict[str, Any]) -> None:
        [entry] = [f for f in record["label"]["fields"] if f["field"] == field]
        entry["box_pt"] = box

    _edit_record(fill, move)
    output = qa(tmp_path / "tree", "--check")[1]
    found = [line for line in output.splitlines() if ": overlap: " in line]
    assert found == ([f"600204-1/label.pdf: overlap: {overlap}"] if overlap else [])


@given(st.floats(0, 300), st.floats(0.1, 300), st.floats(0.1, 300), st.floats(0.05, 50))
def test_boxes_rounded_as_recorded_touch_or_overlap_as_they_truly_do(
        x: float, width: float, other: float, depth: float) -> None:
    """Layout rounds x and width to 0.01 pt each: two boxes that truly touch never overlap after
    rounding, and two that truly share 0.05 pt or more always do."""
    def recorded(left: float, w: float) -> tuple[int, int, int, int]:
        return _hundredths([round(left, 2), 0.0, round(w, 2), 9.0])
    a = recorded(x, width)
    assert not _overlap(a, recorded(x + width, other))
    assert _overlap(a, recorded(x + width - min(depth, width, other), other))


def test_the_commands_limits_are_the_librarys() -> None:
    """cli.py states the defaults itself (importing leaflets.qa would slow every command's start)."""
    options = {p.name: p.default for p in main.commands["qa"].params}
    assert Limits(options["max_page_pixels"], options["max_pages"]) == Limits()
