"""How fast the counter's live preview is: the form posted to /enter/check (the request htmx
sends as a technician types) with every field of the example fill, answered with the field
messages, the sig's reading, the BUD and both previews (label and leaflet page 1 as PNGs),
and the label PNG then fetched, as the browser does.

Prints figures; asserts nothing. Starts its own `leaflets serve` (uvicorn) over a copy of the
project, with a user per simulated person.

    .venv/bin/python benchmarks/counter.py --rounds 200 --users 20

Rows:
  library floor    in-process, no server: form.check (read, rules, render both PDFs) and the
                   PNGs (each label page, the leaflet's first), on a warm session: what the
                   request cannot be faster than
  warm, 1 user     one person typing: requests one after another
  20 typing        that many people at once, each with their own session, each sending its
                   next preview 0.5 to 1.5 s after the last was answered (a field typed and
                   htmx's 0.3 s pause: a busy counter)
  20 no pause      the same people sending their next preview as soon as the last is
                   answered: the server saturated, what it can do in all
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from serving import serving  # type: ignore[import-not-found]  # noqa: E402

FILL = yaml.safe_load((ROOT / "examples" / "fill.yaml").read_text())
PASSWORD = "benchmark-password-1"


def form() -> dict[str, str]:
    return {"product": FILL["product"], "rx_number": FILL["rx_number"], "fill_number": "0",
            "fill_date": str(FILL["fill_date"]), "patient.name": FILL["patient"]["name"],
            "patient.date_of_birth": str(FILL["patient"]["date_of_birth"]),
            "patient.language": "en", "prescriber.name": FILL["prescriber"]["name"],
            "prescriber.npi": FILL["prescriber"]["npi"], "directions": FILL["directions"],
            "indication": FILL["indication"], "quantity": "30", "days_supply": "30",
            "refills": "2", "compounding.lot": FILL["compounding"]["lot"],
            "compounding.compounded_on": str(FILL["compounding"]["compounded_on"]),
            "compounding.component_expirations": "2027-03-31"}


class Person:
    """One signed-in browser: a cookie and the session's CSRF token."""

    def __init__(self, port: int, name: str) -> None:
        self.port = port
        self.cookie = ""
        page = self.request("GET", "/sign-in")[1].decode()
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]  # type: ignore[index]
        status, _ = self.request("POST", "/sign-in", {"csrf": self.csrf, "name": name,
                                                      "password": PASSWORD})
        assert status == 303, status
        page = self.request("GET", "/enter")[1].decode()
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]  # type: ignore[index]

    def request(self, method: str, path: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        sent = {"Cookie": self.cookie, **(headers or {})}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        cookie = response.getheader("set-cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        found = response.status, response.read()
        connection.close()
        return found

    def preview(self) -> float:
        """One keystroke's round trip: the check, then the label's PNG."""
        start = time.perf_counter()
        status, body = self.request("POST", "/enter/check", {**form(), "csrf": self.csrf},
                                    {"HX-Request": "true"})
        assert status == 200, status
        name = re.search(rb'src="(/preview/[^"]+\.png)"', body)
        assert name is not None, body[:2000]
        status, png = self.request("GET", name[1].decode())
        assert status == 200 and png.startswith(b"\x89PNG")
        return time.perf_counter() - start


def figures(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{label:<16} p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   "
          f"max {ms[-1]:7.1f} ms   ({len(ms)} previews)")


def library_floor(project: Path, rounds: int) -> list[float]:
    sys.path.insert(0, str(ROOT / "src"))
    import leaflets.counter.form as counter_form
    from leaflets.counter.preview import previews
    from leaflets.pipeline import Session, Settings
    session = Session(Settings(project / "products", project / "pharmacy.yaml",
                               warning_catalog=project / "warnings.yaml"))
    cells = counter_form.cells_of(form())
    times = []
    for _ in range(rounds + 5):
        start = time.perf_counter()
        checked = counter_form.check(session, cells, counter_form.PREVIEW_INITIALS, "bench")
        assert checked.ok and checked.rendered is not None, checked.problems
        previews(checked.rendered.files)
        times.append(time.perf_counter() - start)
    return times[5:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200, help="previews for one user")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--each", type=int, default=10, help="previews per concurrent user")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("products",):
            shutil.copytree(ROOT / name, project / name)
        for name in ("pharmacy.yaml", "warnings.yaml"):
            shutil.copy(ROOT / name, project)
        names = [f"tech{i}" for i in range(args.users)]
        for name in names:
            subprocess.run([sys.executable, "-m", "leaflets.cli", "users", "add", name, "--role",
                            "technician", "--initials", "TT", "--password", PASSWORD],
                           cwd=project, check=True, capture_output=True)
        figures("library floor", library_floor(project, args.rounds))
        with serving(project, project / "server.log") as served:
            port = served.port
            people = [Person(port, name) for name in names]
            for _ in range(5):                                 # warm the server
                people[0].preview()
            figures("warm, 1 user", [people[0].preview() for _ in range(args.rounds)])

            def typing(who: Person) -> list[float]:
                pauses = random.Random(who.cookie)          # each person their own pace
                times = []
                for _ in range(args.each):
                    time.sleep(pauses.uniform(0.5, 1.5))
                    times.append(who.preview())
                return times

            def busy(who: Person) -> list[float]:
                return [who.preview() for _ in range(args.each)]
            for label, work in ((f"{args.users} typing", typing), (f"{args.users} no pause", busy)):
                with concurrent.futures.ThreadPoolExecutor(len(people)) as pool:
                    start = time.perf_counter()
                    found = [t for times in pool.map(work, people) for t in times]
                    took = time.perf_counter() - start
                figures(label, found)
                print(f"{'':<16} {len(found) / took:.1f} previews a second in all")


if __name__ == "__main__":
    main()
