"""A real `leaflets serve` started for the tests, the counter benchmark and the screenshots:
on a free loopback port, in a project folder, its output to a log file, waited for until it
listens."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Served:
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(cwd: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    port = free_port()
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "leaflets.cli", "serve", "--port",
                                    str(port), *args], cwd=cwd, stdout=sink,
                                   stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Served(port, log, process)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"leaflets serve never listened:\n{log.read_text()}") from None
            time.sleep(0.1)


def stop(served: Served) -> None:
    served.process.terminate()
    served.process.wait(timeout=30)


@contextmanager
def serving(cwd: Path, log: Path, *args: str, env: dict[str, str] | None = None
            ) -> Iterator[Served]:
    served = start(cwd, log, *args, env=env)
    try:
        yield served
    finally:
        stop(served)
