"""Shared fixtures: the repository's own example inputs, rendered once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leaflets.pipeline import RenderedFill, Settings, prepare_fill

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True, scope="session")
def _in_repo_root() -> None:
    # The CLI's defaults (products/, pharmacy.yaml) are relative to the working directory.
    os.chdir(ROOT)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(catalog=ROOT / "products", pharmacy=ROOT / "pharmacy.yaml")


@pytest.fixture(scope="session")
def example_fills() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json"))


@pytest.fixture(scope="session")
def rendered(settings: Settings, example_fills: list[Path]) -> dict[str, RenderedFill]:
    """Every example fill rendered in memory, keyed by '<rx>-<fill>'."""
    out = {}
    for path in example_fills:
        r = prepare_fill(path, settings)
        out[r.key] = r
    return out


def write_fill(tmp_path: Path, text: str, name: str = "fill.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BASE_FILL = (EXAMPLES / "fill.yaml").read_text(encoding="utf-8")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*/ from the current code (refused when CI is set)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--update-golden") and os.environ.get("CI"):
        raise pytest.UsageError("--update-golden refuses to run under CI: golden files change only "
                                "on a developer's machine, as a reviewed commit")
