"""A command loads only what it runs: what each command imports and parses, checked by name in a
fresh process (the times are benchmarks/render.py's job; no test times anything)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]      # as in conftest.py

# Runs one command in-process and prints the modules it left loaded and the faces it parsed.
PROBE = """
import json, sys
from leaflets.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    faces = []
    if "leaflets.fonts" in sys.modules:
        faces = [f.fontName for f in sys.modules["leaflets.fonts"].registered()]
    print(json.dumps({"modules": sorted(sys.modules), "faces": faces}), file=sys.stderr)
"""


def loaded(*args: str) -> tuple[set[str], list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stderr.splitlines()[-1])
    return {m.split(".")[0] if not m.startswith("leaflets.") else m for m in found["modules"]}, \
        found["faces"]


RENDERING = {"reportlab", "PIL", "qrcode", "leaflets.fonts", "leaflets.layout", "leaflets.render",
             "leaflets.pdf", "leaflets.pipeline", "leaflets.batch", "leaflets.qa"}


def test_help_loads_only_click() -> None:
    modules, _ = loaded("--help")
    heavy = RENDERING | {"jinja2", "pydantic", "babel", "yaml", "leaflets.models",
                         "leaflets.load", "leaflets.compose", "leaflets.i18n", "multiprocessing"}
    assert modules & heavy == set()


def test_sig_loads_no_rendering_and_no_babel() -> None:
    modules, _ = loaded("sig", "1 cap po qd")
    assert modules & (RENDERING | {"babel"}) == set()
    assert "leaflets.rules.sig" in modules and "jinja2" in modules     # the probe is not vacuous


def test_sig_explain_loads_no_rendering_and_no_babel() -> None:
    modules, _ = loaded("sig", "--explain", "1 cap po qd")
    assert modules & (RENDERING | {"babel"}) == set()
    assert "leaflets.rules.sig.explain" in modules


def test_sig_in_a_language_with_a_catalog_loads_babel() -> None:
    modules, _ = loaded("sig", "--language", "es", "1 cap po qd")
    assert "babel" in modules
    assert modules & RENDERING == set()


def test_render_loads_no_batch_machinery_and_no_fallback_face(tmp_path: Path) -> None:
    """examples/fill.yaml draws no character the primary face lacks, so DejaVu is never
    parsed; the batch machinery and Babel (English) are never imported."""
    modules, faces = loaded("render", "examples/fill.yaml", "--out", str(tmp_path))
    assert modules & {"leaflets.batch", "leaflets.qa", "babel", "multiprocessing"} == set()
    assert sorted(faces) == ["Atkinson", "Atkinson-Bold"]


def test_a_character_only_the_fallback_face_has_loads_it(tmp_path: Path) -> None:
    fill = tmp_path / "fill.yaml"
    text = (ROOT / "examples" / "fill.yaml").read_text(encoding="utf-8")
    fill.write_text(text.replace('indication: "to lower estrogen"',
                                 'indication: "to lower 17β-estradiol"'), encoding="utf-8")
    _, faces = loaded("render", str(fill), "--out", str(tmp_path / "out"))
    assert "DejaVu" in faces
