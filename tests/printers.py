"""Real printing components for the tests and benchmarks/print.py: a private CUPS scheduler
(cupsd, Debian's packages; scripts/check installs them) with cups-pdf virtual printers and a raw
queue, and a TCP listener standing in for a Zebra printer's port 9100. Nothing is mocked.

The scheduler runs from its own configuration in a fresh folder under /tmp (its socket, spool,
logs and cups-pdf output): not under pytest's tmp_path, whose parents are private to root, because
CUPS runs its filters as the unprivileged user 'lp', which must reach the spool. cups-pdf reads
its configuration only from /etc/cups/cups-pdf-<name>.conf (the name is its device URI's path),
so that one file is written there, under a name of its own, and removed afterwards."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
CUPS_PDF_BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
NEEDED = ("cupsd", "lp", "lpstat", "lpadmin", "cupsenable", "cupsdisable", "cupsaccept", "cupsreject")


REQUIRE_CUPS = "LEAFLETS_REQUIRE_CUPS"


def missing() -> str | None:
    """Why the real CUPS cannot run here, or None."""
    absent = [name for name in NEEDED if shutil.which(name) is None]
    if not CUPS_PDF_BACKEND.exists():
        absent.append(str(CUPS_PDF_BACKEND))
    if absent:
        return ("CUPS is not installed (bash scripts/check installs Debian's cups, cups-client, "
                f"cups-bsd and printer-driver-cups-pdf): missing {', '.join(absent)}")
    if os.geteuid() != 0:
        return "a private cupsd with the cups-pdf backend needs root (as CI runs)"
    return None


def unavailable(why: str) -> NoReturn:
    """The print round trips cannot run here: a failure where they must run (scripts/check sets
    LEAFLETS_REQUIRE_CUPS=1 when, as root with apt-get, it has installed CUPS: the CI case),
    else a skip that says why (a developer without root or CUPS)."""
    import pytest
    if os.environ.get(REQUIRE_CUPS) == "1":
        pytest.fail(f"{REQUIRE_CUPS}=1 but the printing tests cannot run: {why}", pytrace=False)
    pytest.skip(f"cannot run: {why}")


class Listener:
    """A loopback TCP server that keeps every connection's bytes, as a printer's port 9100."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.received: list[bytes] = []
        self._arrived = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection:
                chunks = []
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
            with self._arrived:
                self.received.append(b"".join(chunks))
                self._arrived.notify_all()

    def wait(self, count: int, timeout_s: float = 60) -> list[bytes]:
        """The first `count` connections' bytes, once they have all closed."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout_s):
                raise TimeoutError(f"{len(self.received)} of {count} connections in {timeout_s} s")
            return self.received[:count]

    def close(self) -> None:
        self._server.close()


@dataclass
class Cups:
    root: Path
    socket: Path
    pdf_out: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    conf_names: list[Path] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CUPS_SERVER": str(self.socket), "LC_ALL": "C"}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True,
                              timeout=60, check=False)

    def admin(self, *args: str) -> None:
        done = self.run(*args)
        assert done.returncode == 0, f"{args}: {done.stderr}"

    def add_pdf_queue(self, queue: str) -> None:
        """A cups-pdf virtual printer writing into pdf_out, with the PPD that allows custom
        page sizes."""
        name = f"leaflets-test-{secrets.token_hex(4)}"
        conf = Path(f"/etc/cups/cups-pdf-{name}.conf")
        conf.write_text(f"Out {self.pdf_out}\nAnonDirName {self.pdf_out}\n"
                        f"Spool {self.root / 'cups-pdf-spool'}\nLog {self.log}\nLogType 7\n"
                        "UserPrefix\nLabel 0\n")
        self.conf_names.append(conf)
        self.admin("lpadmin", "-p", queue, "-E", "-v", f"cups-pdf:/{name}", "-P", str(CUPS_PDF_PPD))

    def add_raw_queue(self, queue: str, port: int) -> None:
        self.admin("lpadmin", "-p", queue, "-E", "-v", f"socket://127.0.0.1:{port}", "-m", "raw")

    def completed(self, queue: str) -> set[str]:
        done = self.run("lpstat", "-W", "completed", "-o", queue)
        return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}

    def jobs(self) -> set[str]:
        done = self.run("lpstat", "-W", "all", "-o")
        return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}

    def wait_completed(self, queue: str, job: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while job not in self.completed(queue):
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job} not completed in {timeout_s} s:\n"
                                   + (self.log / "error_log").read_text()[-3000:])
            time.sleep(0.05)

    def output_of(self, job: str) -> Path:
        """The PDF cups-pdf wrote for a job (its name ends -job_<n>.pdf)."""
        number = job.rpartition("-")[2]
        found = sorted(self.pdf_out.glob(f"*job_{number}.pdf"))
        assert len(found) == 1, (job, sorted(p.name for p in self.pdf_out.iterdir()))
        return found[0]

    def page_log(self) -> list[str]:
        path = self.log / "page_log"
        return path.read_text().splitlines() if path.exists() else []


@contextmanager
def cups_server() -> Iterator[Cups]:
    root = Path(tempfile.mkdtemp(prefix="leaflets-cups-"))
    root.chmod(0o755)                    # CUPS' filters run as 'lp' and must reach the spool
    cups = Cups(root, root / "cups.sock", root / "pdf", root / "log")
    for name in ("conf/ppd", "spool/tmp", "cache", "state", "log", "pdf", "cups-pdf-spool"):
        (root / name).mkdir(parents=True)
    (root / "pdf").chmod(0o1777)
    (root / "spool/tmp").chmod(0o1777)
    # Page logging with the job's name, media and sides (cupsd-logs(5)): what the tests read back.
    (root / "cupsd.conf").write_text(f"""Listen {cups.socket}
LogLevel debug
PageLogFormat %p %j [%{{job-name}}] %{{media}} %{{sides}} %{{copies}}
WebInterface No
Browsing No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
""")
    (root / "cups-files.conf").write_text(f"""ServerRoot {root / 'conf'}
RequestRoot {root / 'spool'}
TempDir {root / 'spool/tmp'}
CacheDir {root / 'cache'}
StateDir {root / 'state'}
AccessLog {root / 'log/access_log'}
ErrorLog {root / 'log/error_log'}
PageLog {root / 'log/page_log'}
ServerBin /usr/lib/cups
DataDir /usr/share/cups
""")
    with (root / "cupsd.stderr").open("wb") as stderr:
        cups.process = subprocess.Popen(["cupsd", "-f", "-c", str(root / "cupsd.conf"),
                                         "-s", str(root / "cups-files.conf")],
                                        stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while "scheduler is running" not in cups.run("lpstat", "-r").stdout:
            if cups.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("cupsd did not start: "
                                   + (root / "cupsd.stderr").read_text(errors="replace"))
            time.sleep(0.05)
        yield cups
    finally:
        cups.process.terminate()
        try:
            cups.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cups.process.kill()
            cups.process.wait()
        for conf in cups.conf_names:
            conf.unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def pdf_printers() -> Iterator[Cups]:
    """A private CUPS with the two cups-pdf queues a pharmacy profile names, `labels` and
    `documents`; where CUPS cannot run, a failure in CI and a skip elsewhere (unavailable)."""
    why = missing()
    if why:
        unavailable(why)
    with cups_server() as server:
        server.add_pdf_queue("labels")
        server.add_pdf_queue("documents")
        yield server
