"""End-to-end runs of the real `leaflets` command: outputs, messages, exit codes, no debris."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from leaflets.cli import main

from .conftest import BASE_FILL, ROOT, write_fill


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaflets.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def test_render_example_writes_label_leaflet_and_record(tmp_path: Path) -> None:
    result = run("render", "examples/fill.yaml", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "600123-0"
    assert [p.name for p in files_under(tmp_path)] == ["fill.json", "label.pdf", "leaflet.pdf"]
    import os
    mask = os.umask(0)
    os.umask(mask)
    for path in files_under(tmp_path):
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask    # not left private by mkstemp
    record = json.loads((folder / "fill.json").read_text())
    assert record["bud"]["date"] == "2027-03-31"     # 180 days capped by the 2027-03-31 expiry
    assert record["directions"]["printed"] == "Take 1 capsule by mouth once daily."
    import hashlib
    for name in ("label.pdf", "leaflet.pdf"):
        assert record["outputs"][name]["sha256"] == hashlib.sha256(
            (folder / name).read_bytes()).hexdigest()
    assert set(record["made_with"]["templates"]) >= {"label.xml.j2", "leaflet.xml.j2",
                                                     "directions.txt.j2", "languages.yaml",
                                                     "locale/es/LC_MESSAGES/leaflets.po"}
    assert set(record["made_with"]["fonts"]) == {"Atkinson", "Atkinson-Bold", "DejaVu",
                                                 "DejaVu-Bold"}


def test_file_names_carry_only_the_rx_number(tmp_path: Path) -> None:
    assert run("render", "examples/fill-omeprazole.json", "--out", str(tmp_path)).returncode == 0
    for path in files_under(tmp_path):
        assert "Mar" not in str(path.relative_to(tmp_path))
        assert path.parent.name == "600124-1"


# Each bad input: the whole stderr, exit 2 and nothing written.
BAD = [
    ("not a mapping", "- 1\n", "Error: {f}:1: expected a mapping of keys at the top level"),
    ("missing field", BASE_FILL.replace("pharmacist: KL\n", ""),
     "Error: {f}:1: pharmacist: required field is missing"),
    ("unknown key", BASE_FILL + "colour: blue\n",
     "Error: {f}:14: colour: unknown key (expected one of: rx_number, fill_number, fill_date, "
     "product, patient, prescriber, directions, directions_verbatim, indication, quantity, "
     "days_supply, refills, compounding, pharmacist)"),
    ("negative quantity", BASE_FILL.replace("quantity: 30", "quantity: -30"),
     "Error: {f}:9: quantity: expected a number greater than 0, got -30"),
    ("bad date", BASE_FILL.replace("fill_date: 2026-11-24", "fill_date: 24/11/2026"),
     "Error: {f}:3: fill_date: expected a date YYYY-MM-DD, got '24/11/2026'"),
    ("path in rx_number", BASE_FILL.replace('"600123"', '"../x"'),
     "Error: {f}:1: rx_number: expected letters, digits and '-' only (a safe file name, at most "
     "20 characters), got '../x'"),
    ("space in rx_number", BASE_FILL.replace('"600123"', '"600 123"'),
     "Error: {f}:1: rx_number: expected letters, digits and '-' only (a safe file name, at most "
     "20 characters), got '600 123'"),
    ("mistyped refills", BASE_FILL.replace("refills: 2", "refills: two"),
     "Error: {f}:11: refills: expected a whole number, got 'two'"),
    ("bad NPI", BASE_FILL.replace("1234567893", "1234567890"),
     "Error: {f}:6: prescriber.npi: expected a valid NPI, got '1234567890' (its check digit is wrong)"),
    ("refill beyond authorised", BASE_FILL.replace("fill_number: 0", "fill_number: 3"),
     "Error: {f}:2: fill_number: fill 3 exceeds the 2 refills authorised on the prescription"),
    ("unknown product", BASE_FILL.replace("product: anastrozole-1mg", "product: aspirin-81mg"),
     "Error: {f}:4: product: unknown product 'aspirin-81mg' (known: anastrozole-1mg, "
     "anastrozole-1mg-ml-oil-suspension, omeprazole-2mg-ml-suspension, testosterone-2pct-cream)"),
    ("BUD before fill", BASE_FILL.replace("[2027-03-31]", "[2026-11-24]"),
     "Error: {f}:12: compounding.compounded_on: beyond-use date 2026-11-24 is on or before the "
     "fill date 2026-11-24 (nonaqueous dosage form, USP <795> default 180 days, compounding day "
     "counted as day 1, capped by component expiry 2026-11-24); this lot cannot be dispensed"),
    ("error-prone directions", BASE_FILL.replace('"1 cap po qd"', '"1 cap po hs"'),
     "Error: {f}:7: directions: 'hs' is refused: ambiguous: 'hs' (bedtime) and 'HS' "
     "(half-strength) differ only by case"),
    ("banned abbreviation in purpose", BASE_FILL.replace('"to lower estrogen"', '"for E2 qd"'),
     "Error: {f}:8: indication: 'qd' is an error-prone abbreviation or sig code (ISMP/TJC): write it "
     "in full words (templates/label.xml.j2)"),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_reported_with_exit_2_and_nothing_written(
        tmp_path: Path, case: str, text: str, expected: str) -> None:
    fill = write_fill(tmp_path, text)
    out = tmp_path / "out"
    result = run("render", str(fill), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == expected.format(f=fill)
    assert "Traceback" not in result.stderr
    assert files_under(out) == []


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    # The parser's own phrase differs between libyaml and pure-Python PyYAML; ours does not.
    fill = write_fill(tmp_path, "rx_number: [\n")
    result = run("render", str(fill), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: {fill}:2: invalid YAML: ")
    assert "Traceback" not in result.stderr and files_under(tmp_path / "o") == []


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = (BASE_FILL.replace("quantity: 30", "quantity: -1")
            .replace("fill_date: 2026-11-24", "fill_date: tomorrow")
            .replace("refills: 2", "refills: 1.5") + "extra: 1\n")
    result = run("render", str(write_fill(tmp_path, text)), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ")[2] for line in lines] == ["fill_date", "quantity", "refills", "extra"]


def test_json_fill_is_located_by_line(tmp_path: Path) -> None:
    data = json.loads((ROOT / "examples/fill-omeprazole.json").read_text())
    data["days_supply"] = 0
    fill = write_fill(tmp_path, json.dumps(data, indent=2), "fill.json")
    result = run("render", str(fill), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"Error: {fill}:18: days_supply: expected a number of at least 1, got 0"


def test_markup_in_inputs_prints_literally(tmp_path: Path) -> None:
    from pypdf import PdfReader
    name = 'A & B <font color="red">Kim</font> <b>Lee</b>'
    text = BASE_FILL.replace("Jordan A. Rivera", name.replace('"', '\\"'))
    result = run("render", str(write_fill(tmp_path, text)), "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    for doc in ("label.pdf", "leaflet.pdf"):
        extracted = " ".join(PdfReader(tmp_path / "o/600123-0" / doc).pages[0]
                             .extract_text().split())
        assert name in extracted


def test_unprintable_character_is_an_error_naming_the_field(tmp_path: Path) -> None:
    fill = write_fill(tmp_path, BASE_FILL.replace("Jordan A. Rivera", "Jordan 中 Rivera"))
    result = run("render", str(fill), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"Error: {fill}:5: patient.name: character '中' (U+4E2D) "
                                     "cannot be printed by the bundled fonts "
                                     "(templates/label.xml.j2)")


def test_label_that_cannot_fit_names_the_field(tmp_path: Path) -> None:
    long_name = "Maximiliana Konstantinopoulou-Vanderbilt-Featherstonehaugh " * 3
    fill = write_fill(tmp_path, BASE_FILL.replace("Jordan A. Rivera", long_name.strip()))
    result = run("render", str(fill), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: {fill}:5: patient.name: the word 'Konstantinopoulou-Vanderbilt-Featherstonehaugh' "
        "is 281.9 pt wide at 12 pt; the region is 272 pt wide")
    assert files_under(tmp_path / "o") == []
    # Words that fit but too many lines: the field that runs past the region is named.
    fill = write_fill(tmp_path, BASE_FILL.replace("Jordan A. Rivera", "Jo Ann " * 20), "f2.yaml")
    result = run("render", str(fill), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: {fill}:8: indication: does not fit: the text needs ")
    assert "(minimum size 12 pt); a larger label stock (--stock) may hold it" in result.stderr
    assert files_under(tmp_path / "o") == []


def test_bud_command() -> None:
    result = run("bud", "anastrozole-1mg", "--compounded", "2025-03-10",
                 "--component-expiry", "2026-06-30", "--component-expiry", "2025-08", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["bud"] == "2025-08-31" and data["capped_by_expiry"] is True
    text = run("bud", "omeprazole-2mg-ml-suspension", "--compounded", "2024-02-20",
               "--component-expiry", "2030-01-01")
    assert text.stdout.startswith("2024-03-04  (aqueous non-preserved preparation")
    bad = run("bud", "anastrozole-1mg", "--compounded", "20/02/2024")
    assert bad.returncode == 2 and "expected a date YYYY-MM-DD" in bad.stderr


def test_sig_command() -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["sig", "1 cap po qd", "--json"])
    assert ok.exit_code == 0
    assert json.loads(ok.output)["printed"] == "Take 1 capsule by mouth once daily."
    bad = runner.invoke(main, ["sig", "1 cap po zz"])
    assert bad.exit_code == 2
    assert bad.output.strip() == "Error: directions: unknown abbreviation 'zz'"


def test_products_and_monographs(tmp_path: Path) -> None:
    listing = run("products", "--json")
    assert listing.returncode == 0
    rows = json.loads(listing.stdout)
    slugs = {r["slug"] for r in rows}
    assert slugs == {p.stem for p in (ROOT / "products").glob("*.yaml")}
    assert {r["bud_category"] for r in rows} == {"aqueous-nonpreserved", "aqueous-preserved",
                                                 "nonaqueous-oral-liquid", "nonaqueous-other"}
    assert any(r["schedule"] == "III" for r in rows)
    result = run("monographs", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in files_under(tmp_path)) == sorted(f"{s}.pdf" for s in slugs)


def test_a_topical_product_says_where_it_goes(tmp_path: Path) -> None:
    """A hormone cream acts through the skin: its directions say "to the skin", never "to the
    affected area", and a topical product that does not say which is refused."""
    catalog = tmp_path / "products"
    catalog.mkdir()
    cream = (ROOT / "products/testosterone-2pct-cream.yaml").read_text()
    (catalog / "testosterone-2pct-cream.yaml").write_text(cream)
    (catalog / "rash-cream.yaml").write_text(cream.replace('topical_site: "skin"', "#"))
    listing = run("products", "--catalog", str(catalog))
    assert listing.returncode == 2
    assert f"{catalog / 'rash-cream.yaml'}:2: topical_site: a topical product says where it goes" \
        in listing.stderr
    fill = write_fill(tmp_path, BASE_FILL.replace("product: anastrozole-1mg",
                                                  "product: testosterone-2pct-cream")
                      .replace('"1 cap po qd"', '"apply 1 g top qam"'))
    done = run("render", str(fill), "--catalog", str(catalog), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "out" / "600123-0" / "fill.json").read_text())
    assert record["directions"]["printed"] == "Apply 1 g to the skin in the morning."


def test_a_bad_product_costs_only_its_own_monograph(tmp_path: Path) -> None:
    catalog = tmp_path / "products"
    catalog.mkdir()
    good = (ROOT / "products/anastrozole-1mg.yaml").read_text()
    (catalog / "anastrozole-1mg.yaml").write_text(good)
    (catalog / "broken.yaml").write_text(good.replace('route: "oral"', 'route: "intravenous"'))
    result = run("monographs", "--catalog", str(catalog), "--out", str(tmp_path / "m"))
    assert result.returncode == 2
    assert "broken.yaml:7: route: expected one of: 'oral', 'sublingual'" in result.stderr
    assert [p.name for p in files_under(tmp_path / "m")] == ["anastrozole-1mg.pdf"]
