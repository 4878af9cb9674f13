"""A real Chromium for the pages' tests: Debian's (scripts/check installs it), driven by
Playwright, with axe-core (tests/js, from npm) run inside the pages."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def browser_missing() -> str | None:
    if not shutil.which("chromium"):
        return "Debian's chromium is not installed (bash scripts/check installs it with apt-get)"
    if not AXE.is_file():
        return "axe-core is not installed (bash scripts/check runs npm ci in tests/js)"
    return None


def need_browser() -> None:
    """Skip where no browser is installed (a developer's machine); fail where one must be (CI:
    scripts/check sets LEAFLETS_REQUIRE_BROWSER)."""
    why = browser_missing()
    if why:
        if os.environ.get("LEAFLETS_REQUIRE_BROWSER"):
            pytest.fail(f"cannot run: {why}")
        pytest.skip(f"cannot run: {why}")


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now. (axe is added by
    the test: the pages' own policy allows only their own scripts, so the context is made with
    bypass_csp.)"""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate("""async () => (await axe.run()).violations.map(
        v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    return [v for v in found if v["impact"] in ("serious", "critical")]
