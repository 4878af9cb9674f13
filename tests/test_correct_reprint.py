"""The ledger catches a dangerous re-render (same Rx and fill number, another patient, product,
lot or directions) in `render` and `batch` alike, unless it is a correction (`--correct`), which
prints CORRECTED; `leaflets reprint` makes the documents again from the ledger, identical but for
a visible REPRINT n. All through the real CLI on a real ledger."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from .conftest import BASE_FILL, EXAMPLES, ROOT, write_fill

OTHER_PATIENT = BASE_FILL.replace("Jordan A. Rivera", "Casey M. Lindqvist")


def leaflets(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaflets.cli", *args,
                           ], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def where(tmp_path: Path) -> list[str]:
    return ["--catalog", str(ROOT / "products"), "--pharmacy", str(ROOT / "pharmacy.yaml"),
            "--warnings", str(ROOT / "warnings.yaml")]


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


def rows(tmp_path: Path) -> list[dict[str, object]]:
    db = sqlite3.connect(tmp_path / "ledger.sqlite")
    db.row_factory = sqlite3.Row
    found = [dict(r) for r in db.execute("SELECT * FROM events ORDER BY id")]
    db.close()
    return found


def pages_text(pdf: Path) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf)]


def lines(pdf: Path) -> list[str]:
    return [line for text in pages_text(pdf) for line in text.splitlines()]


def test_another_patient_under_a_recorded_rx_is_refused_naming_the_field_not_the_names(
        tmp_path: Path) -> None:
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    before = (tmp_path / "out/600123-0/label.pdf").read_bytes()
    other = write_fill(tmp_path, OTHER_PATIENT, "other.yaml")
    for extra in ([], ["--replace"]):               # --replace is about out/, not the ledger
        done = leaflets("render", str(other), *where(tmp_path), *extra, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        line = OTHER_PATIENT.splitlines().index(
            next(x for x in OTHER_PATIENT.splitlines() if x.startswith("patient:"))) + 1
        assert done.stderr.startswith(f"Error: {other}:{line}: patient.name: Rx 600123 fill 0 is "
                                      "in the ledger (row 1, ")
        assert "--correct" in done.stderr
        for name in ("Jordan", "Rivera", "Casey", "Lindqvist"):
            assert name not in done.stderr
    assert (tmp_path / "out/600123-0/label.pdf").read_bytes() == before
    assert len(rows(tmp_path)) == 1


@pytest.mark.parametrize(("old", "new", "field"), [
    ("GC-2611-0042", "GC-2611-0077", "compounding.lot"),
    ('"1 cap po qd"', '"1 cap po bid"', "directions"),
    ("date_of_birth: 1978-03-14", "date_of_birth: 1978-03-15", "patient.date_of_birth"),
])
def test_each_identity_field_is_checked(tmp_path: Path, old: str, new: str, field: str) -> None:
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    assert old in BASE_FILL
    done = leaflets("render", str(write_fill(tmp_path, BASE_FILL.replace(old, new))),
                    *where(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and f": {field}: Rx 600123 fill 0 is in the ledger" in done.stderr


def test_the_same_fill_again_is_a_re_render_not_a_conflict(tmp_path: Path) -> None:
    for _ in range(2):
        ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    assert [r["kind"] for r in rows(tmp_path)] == ["render", "render"]


def test_batch_refuses_the_conflicting_row_alone(tmp_path: Path) -> None:
    """The same check, through the same code path (record.stage.publish), in a batch: the
    conflicting row fails at its line, the other rows render."""
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    day = tmp_path / "day.yaml"
    second = BASE_FILL.replace('"600123"', '"600200"')
    day.write_text("- " + OTHER_PATIENT.replace("\n", "\n  ").rstrip() + "\n- "
                   + second.replace("\n", "\n  ").rstrip() + "\n", encoding="utf-8")
    done = leaflets("batch", str(day), *where(tmp_path), "--workers", "1", cwd=tmp_path)
    assert done.returncode != 0
    assert f"{day}:5: patient.name: Rx 600123 fill 0 is in the ledger (row 1, " in done.stderr
    assert "Casey" not in done.stderr and "Jordan" not in done.stderr
    assert [(r["kind"], r["rx_number"]) for r in rows(tmp_path)] == [
        ("render", "600123"), ("render", "600200")]
    assert "Jordan A. Rivera" in lines(tmp_path / "out/600123-0/label.pdf")


def test_a_correction_is_recorded_with_its_reason_and_prints_corrected(tmp_path: Path) -> None:
    other = write_fill(tmp_path, OTHER_PATIENT, "other.yaml")
    refused = leaflets("render", str(other), *where(tmp_path), "--correct", "wrong patient",
                       cwd=tmp_path)
    assert refused.returncode == 2 and "nothing to correct" in refused.stderr
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    blank = leaflets("render", str(other), *where(tmp_path), "--correct", " ", cwd=tmp_path)
    assert blank.returncode == 2 and "--correct" in blank.stderr
    ok(leaflets("render", str(other), *where(tmp_path), "--user", "kl",
                "--correct", "typed into the wrong patient's profile", cwd=tmp_path))
    label = pages_text(tmp_path / "out/600123-0/label.pdf")[0]
    assert "Casey M. Lindqvist\r\n" in label and "CORRECTED · Prescriber: " in label
    for page in pages_text(tmp_path / "out/600123-0/leaflet.pdf"):
        assert "CORRECTED · Genesis Compounding" in page
    last = rows(tmp_path)[-1]
    assert (last["kind"], last["user"], last["patient_name"]) == ("render", "kl",
                                                                  "Casey M. Lindqvist")
    assert json.loads(str(last["detail"]))["correction"] == "typed into the wrong patient's profile"
    history = ok(leaflets("history", "600123", cwd=tmp_path)).stdout
    assert "correction: typed into the wrong patient's profile" in history
    # A recall lists the fill once, as corrected (history keeps both).
    recall = ok(leaflets("recall", "GC-2611-0042", "--csv", cwd=tmp_path)).stdout.splitlines()
    assert len(recall) == 2 and recall[1].startswith("Casey M. Lindqvist,1978-03-14,600123-0,")
    # The correction is now what the ledger holds: the original patient is the conflict.
    again = leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path)
    assert again.returncode == 2 and "patient.name" in again.stderr
    assert ok(leaflets("ledger", "verify", cwd=tmp_path)).stdout.startswith("ledger ok: 2 rows")


def _raster(pdf: Path, page: int = 0, scale: float = 4) -> object:
    return pdfium.PdfDocument(pdf)[page].render(scale=scale).to_pil().convert("L")


def test_a_reprint_is_the_original_but_for_its_mark(tmp_path: Path) -> None:
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), "--user", "kl",
                cwd=tmp_path))
    original = tmp_path / "out/600123-0"
    for n, reason in ((1, "label torn at the counter"), (2, "patient lost the bottle")):
        done = ok(leaflets("reprint", "600123-0", "--reason", reason, *where(tmp_path),
                           "--no-print", "--user", "rt", cwd=tmp_path))
        folder = tmp_path / f"out/reprints/600123-0-r{n}"
        assert done.stdout.split() == [str(Path("out/reprints") / f"600123-0-r{n}" / name)
                                       for name in ("label.pdf", "leaflet.pdf", "fill.json")]
        # Label: the same lines, the mark added (written here by hand, not taken from output).
        marked, first = pages_text(folder / "label.pdf"), pages_text(original / "label.pdf")
        assert len(marked) == len(first) == 2          # the label and its warnings label
        assert f"REPRINT {n} · Prescriber: " in marked[0]
        assert marked[0].replace(f"REPRINT {n} · ", "") == first[0]
        assert marked[1] == first[1]
        # The patient-centred region (stocks/4x2.5.yaml: [8, 6, 272, 96] pt) is pixel for
        # pixel the original's, and the codes decode to the same values.
        a, b = _raster(original / "label.pdf"), _raster(folder / "label.pdf")
        box = (8 * 4, 6 * 4, 280 * 4, 102 * 4)          # scale 4: 4 pixels a point
        assert a.crop(box).tobytes() == b.crop(box).tobytes()  # type: ignore[attr-defined]
        codes = [(c.format, c.text) for c in zxingcpp.read_barcodes(b)]
        assert sorted(codes, key=str) == sorted(
            ((c.format, c.text) for c in zxingcpp.read_barcodes(a)), key=str)
        assert len(codes) == 2
        # Leaflet: every page's text is the original's but for its footer, which says so.
        old_pages, new_pages = pages_text(original / "leaflet.pdf"), pages_text(folder / "leaflet.pdf")
        assert len(old_pages) == len(new_pages)
        for old, new in zip(old_pages, new_pages, strict=True):
            footer = next(x for x in old.splitlines() if x.startswith("Genesis Compounding · "))
            assert new == old.replace(footer, f"REPRINT {n} · {footer}")
    found = rows(tmp_path)
    assert [r["kind"] for r in found] == ["render", "reprint", "reprint"]
    details = [json.loads(str(r["detail"])) for r in found[1:]]
    assert [(d["reprint"], d["reason"], d["of"]) for d in details] == [
        (1, "label torn at the counter", 1), (2, "patient lost the bottle", 1)]
    assert all(r["user"] == "rt" for r in found[1:])
    assert ok(leaflets("ledger", "verify", cwd=tmp_path)).stdout.startswith("ledger ok: 3 rows")
    history = ok(leaflets("history", "600123", cwd=tmp_path)).stdout
    assert "reprint 2: patient lost the bottle" in history


def test_a_reprint_of_a_correction_says_both(tmp_path: Path) -> None:
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    ok(leaflets("render", str(write_fill(tmp_path, OTHER_PATIENT)), *where(tmp_path),
                "--correct", "wrong patient", cwd=tmp_path))
    ok(leaflets("reprint", "600123-0", "--reason", "jammed", *where(tmp_path), "--no-print",
                cwd=tmp_path))
    marked = pages_text(tmp_path / "out/reprints/600123-0-r1/label.pdf")[0]
    assert "CORRECTED · REPRINT 1" in marked and "Casey M. Lindqvist\r\n" in marked


def test_a_reprint_that_would_differ_from_what_was_printed_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / "products"
    shutil.copytree(ROOT / "products", catalog)
    args = ["--catalog", str(catalog), "--pharmacy", str(ROOT / "pharmacy.yaml"),
            "--warnings", str(ROOT / "warnings.yaml")]
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *args, cwd=tmp_path))
    product = catalog / "anastrozole-1mg.yaml"
    product.write_text(product.read_text(encoding="utf-8").replace(
        "name: ", "name: New ", 1), encoding="utf-8")
    done = leaflets("reprint", "600123-0", "--reason", "torn", *args, "--no-print", cwd=tmp_path)
    assert done.returncode == 2
    assert "cannot be reprinted as it was printed (ledger row 1): changed since: product" \
        in done.stderr
    assert not (tmp_path / "out/reprints").exists()
    assert len(rows(tmp_path)) == 1
    for key, message in (("600123-5", "is not in the ledger"), ("600123", "expected an Rx number")):
        done = leaflets("reprint", key, "--reason", "torn", *args, "--no-print", cwd=tmp_path)
        assert done.returncode == 2 and message in done.stderr


def test_two_patients_under_one_rx_rendered_at_once_one_is_refused(tmp_path: Path) -> None:
    """The ledger check and the publish are one write transaction: of two renders started
    together, exactly one publishes and is recorded, every round."""
    other = write_fill(tmp_path, OTHER_PATIENT, "other.yaml")
    for round_ in range(3):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        processes = [subprocess.Popen(
            [sys.executable, "-m", "leaflets.cli", "render", str(fill), *where(tmp_path)],
            cwd=folder, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for fill in (EXAMPLES / "fill.yaml", other)]
        codes = sorted(p.wait(timeout=300) for p in processes)
        for p in processes:
            p.communicate()
        assert codes == [0, 2]
        (row,) = rows(folder)
        assert row["patient_name"] in lines(folder / "out/600123-0/label.pdf")


def test_a_corrected_fill_keeps_its_mark_when_rendered_again(tmp_path: Path) -> None:
    """Once corrected, rendering the fill again must say why too: a plain render would publish
    unmarked documents over the corrected ones (and later reprints would lose the mark)."""
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    other = write_fill(tmp_path, OTHER_PATIENT, "other.yaml")
    ok(leaflets("render", str(other), *where(tmp_path), "--correct", "wrong patient",
                cwd=tmp_path))
    before = (tmp_path / "out/600123-0/label.pdf").read_bytes()
    done = leaflets("render", str(other), *where(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "was corrected (ledger row 2, " in done.stderr
    assert (tmp_path / "out/600123-0/label.pdf").read_bytes() == before
    ok(leaflets("render", str(other), *where(tmp_path), "--correct", "wrong patient",
                cwd=tmp_path))
    assert "CORRECTED · Prescriber" in pages_text(tmp_path / "out/600123-0/label.pdf")[0]


def test_sigs_that_read_the_same_are_the_same_directions(tmp_path: Path) -> None:
    """One identity for the ledger's check and the out folder's: the directions as printed."""
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    same = write_fill(tmp_path, BASE_FILL.replace('"1 cap po qd"', '"1 cap po daily"'))
    ok(leaflets("render", str(same), *where(tmp_path), cwd=tmp_path))
    for ledger in ("ledger.sqlite", "another.sqlite"):     # the ledger's check, the folder's
        ok(leaflets("render", str(same), *where(tmp_path), "--ledger", ledger, cwd=tmp_path))


def test_reprints_at_once_get_numbers_of_their_own(tmp_path: Path) -> None:
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    processes = [subprocess.Popen(
        [sys.executable, "-m", "leaflets.cli", "reprint", "600123-0", "--reason", f"r{n}",
         *where(tmp_path), "--no-print"], cwd=tmp_path, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE) for n in range(4)]
    for p in processes:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    numbers = sorted(json.loads(str(r["detail"]))["reprint"] for r in rows(tmp_path)[1:])
    assert numbers == [1, 2, 3, 4]
    assert sorted(d.name for d in (tmp_path / "out/reprints").iterdir()) == [
        f"600123-0-r{n}" for n in (1, 2, 3, 4)]
    assert ok(leaflets("ledger", "verify", cwd=tmp_path)).stdout.startswith("ledger ok: 5 rows")


def test_a_reprint_key_is_spelled_as_out_spells_it(tmp_path: Path) -> None:
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    for key in ("600123-00", "600123-+0", "600123-٠", "/600123-0", "600123-0/"):
        done = leaflets("reprint", key, "--reason", "x", *where(tmp_path), "--no-print",
                        cwd=tmp_path)
        assert done.returncode == 2 and "expected an Rx number and fill number" in done.stderr
    assert len(rows(tmp_path)) == 1 and not (tmp_path / "out/reprints").exists()


def test_a_mark_with_no_room_is_an_error_naming_the_mark(tmp_path: Path) -> None:
    """A controlled product with a long prescriber's name fills the details region: it renders,
    but its reprint's mark does not fit beside them at their minimum size, which is an error
    naming the mark (never a smaller size), and nothing is made or recorded."""
    text = (EXAMPLES / "fill-testosterone.yaml").read_text(encoding="utf-8").replace(
        "Priya Natarajan, MD", "Priya Natarajan Venkataraman Subramanian, MD")
    ok(leaflets("render", str(write_fill(tmp_path, text)), *where(tmp_path), cwd=tmp_path))
    done = leaflets("reprint", "600125-0", "--reason", "smudged", *where(tmp_path),
                    "--no-print", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert ": mark: the label has no room for its mark (CORRECTED, REPRINT n)" in done.stderr
    assert len(rows(tmp_path)) == 1 and not (tmp_path / "out/reprints").exists()


def test_a_hand_written_detail_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    """A row appended with a detail that is not a JSON object (chained properly, so verify
    passes): history shows it as such, reprint names the row."""
    from leaflets.record.ledger import FIELDS, Ledger
    ok(leaflets("render", str(EXAMPLES / "fill.yaml"), *where(tmp_path), cwd=tmp_path))
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        first = ledger.history("600123")[0]
        for detail in ('"not an object"', "not json"):
            ledger.append({**{k: first[k] for k in FIELDS}, "detail": detail})
    history = ok(leaflets("history", "600123", cwd=tmp_path)).stdout
    assert history.count("(its detail is not a JSON object)") == 2
    done = leaflets("reprint", "600123-0", "--reason", "x", *where(tmp_path), "--no-print",
                    cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1, f"Error: ledger {Path('ledger.sqlite')}: row 3: its detail is not a JSON object\n")
