"""The README's screenshots of the counter, taken from a real `leaflets serve` over a copy of
the project in a real Chromium (as the browser tests run it): the sign-in page, and the fill
form with the example fill typed in, its reading, BUD and previews.

    .venv/bin/python scripts/screenshots.py      # writes docs/images/counter-*.png
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from serving import serving  # noqa: E402

IMAGES = ROOT / "docs" / "images"
FILL = yaml.safe_load((ROOT / "examples" / "fill.yaml").read_text())
PASSWORD = "a-long-counter-password"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copytree(ROOT / "products", project / "products")
        for name in ("pharmacy.yaml", "warnings.yaml"):
            shutil.copy(ROOT / name, project)
        subprocess.run([sys.executable, "-m", "leaflets.cli", "users", "add", "rt", "--role",
                        "technician", "--initials", "RT", "--password", PASSWORD], cwd=project,
                       check=True, capture_output=True)
        with serving(project, project / "server.log") as served:
            port = served.port
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                     args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"http://127.0.0.1:{port}/sign-in")
                page.locator("#name").fill("rt")
                page.locator("#password").fill(PASSWORD)
                page.screenshot(path=str(IMAGES / "counter-sign-in.png"))
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                cells = {"product": FILL["product"], "rx-number": FILL["rx_number"],
                         "fill-number": "0", "fill-date": str(FILL["fill_date"]),
                         "patient-name": FILL["patient"]["name"],
                         "patient-date-of-birth": str(FILL["patient"]["date_of_birth"]),
                         "prescriber-name": FILL["prescriber"]["name"],
                         "prescriber-npi": FILL["prescriber"]["npi"],
                         "directions": FILL["directions"], "indication": FILL["indication"],
                         "quantity": "30", "days-supply": "30", "refills": "2",
                         "compounding-lot": FILL["compounding"]["lot"],
                         "compounding-compounded-on": str(FILL["compounding"]["compounded_on"]),
                         "compounding-component-expirations": "2027-03"}
                page.locator("#f-product").select_option(cells.pop("product"))
                for name, value in cells.items():
                    page.locator(f"#f-{name}").fill(value)
                page.locator("#f-compounding-component-expirations").press("Tab")
                page.locator("#f-directions").focus()
                expect(page.locator("#live img").first).to_be_visible()
                page.evaluate("window.scrollTo(0, 0)")
                page.set_viewport_size({"width": 1280, "height": 1100})
                page.screenshot(path=str(IMAGES / "counter-enter.png"))
                browser.close()


if __name__ == "__main__":
    main()
