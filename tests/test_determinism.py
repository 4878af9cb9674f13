"""Same inputs, same bytes: in one process, across processes with different hash seeds, and with
PDF dates taken from the fill rather than the clock."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
import yaml

from leaflets.pipeline import Settings, prepare_fill

ROOT = Path(__file__).resolve().parents[1]      # as in conftest.py
# Relative, as the CLI is given them: fill.json records input paths as they were given.
FILL = Path("examples/fill.yaml")
FILES = ("label.pdf", "leaflet.pdf", "fill.json")


@pytest.fixture(scope="module")
def in_process() -> dict[str, bytes]:
    first = prepare_fill(FILL, Settings())
    second = prepare_fill(FILL, Settings())
    assert set(first.files) == set(FILES)
    for name in FILES:
        assert first.files[name] == second.files[name], f"{name} differs between two renders"
    return first.files


def test_renders_twice_in_process_identically(in_process: dict[str, bytes]) -> None:
    assert all(in_process[name] for name in FILES)


def _fill_key() -> str:
    fill = yaml.safe_load((ROOT / FILL).read_text(encoding="utf-8"))
    return f"{fill['rx_number']}-{fill.get('fill_number', 0)}"


@pytest.mark.parametrize("hash_seed", ["12345", "999"])
def test_cli_in_another_process_gives_the_same_bytes(
        in_process: dict[str, bytes], tmp_path: Path, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "leaflets.cli", "render", str(FILL), "--out",
                           str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    directory = out / _fill_key()
    assert sorted(p.name for p in directory.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (directory / name).read_bytes() == in_process[name], \
            f"{name} from the CLI (PYTHONHASHSEED={hash_seed}) differs from the in-process one"


@pytest.mark.parametrize("name", ["label.pdf", "leaflet.pdf"])
def test_pdf_dates_come_from_the_fill(in_process: dict[str, bytes], name: str) -> None:
    fill = yaml.safe_load((ROOT / FILL).read_text(encoding="utf-8"))
    day: dt.date = fill["fill_date"]
    info = pypdf.PdfReader(io.BytesIO(in_process[name])).metadata
    assert info is not None
    stamp = f"D:{day:%Y%m%d}"
    for key in ("/CreationDate", "/ModDate"):
        assert str(info[key]).startswith(stamp), f"{key} {info[key]!r} is not the fill date"
    today = dt.date.today()
    if today != day:
        assert f"{today:%Y%m%d}" not in str(info["/CreationDate"])
        assert f"{today:%Y%m%d}".encode() not in in_process[name]
