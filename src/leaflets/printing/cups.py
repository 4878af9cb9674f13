"""CUPS through its own command-line clients: a queue's state from `lpstat`, a job submitted with
`lp` (arguments as a list, never a shell; the document on standard input, so no file name of
ours reaches the job). CUPS_SERVER in the environment chooses the server, as for lp itself.
Options: ../shared/reference/printing.md §1."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence

from . import PrintError

TIMEOUT_S = 120
_REQUEST_ID = re.compile(r"request id is (\S+) ")


def _run(args: Sequence[str], data: bytes | None = None) -> subprocess.CompletedProcess[str]:
    # The C locale: lpstat's words are read below, and are translated in others.
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        done = subprocess.run(list(args), input=data, capture_output=True, env=env,
                              timeout=TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise PrintError(f"{args[0]} not found: install CUPS' command-line client (Debian: "
                         "cups-client); nothing printed") from None
    except subprocess.TimeoutExpired:
        raise PrintError(f"{args[0]} did not answer in {TIMEOUT_S} s (is CUPS running?)") from None
    return subprocess.CompletedProcess(done.args, done.returncode,
                                       done.stdout.decode("utf-8", "replace"),
                                       done.stderr.decode("utf-8", "replace"))


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def check_scheduler() -> None:
    """Refuse to go on when no CUPS scheduler answers (none running, or CUPS_SERVER naming one
    that is not there): `lpstat -r` says 'scheduler is running' or 'scheduler is not running'.
    Asked first, so a missing scheduler is never reported as a missing queue."""
    state = _run(["lpstat", "-r"])
    if "scheduler is running" not in state.stdout:
        server = os.environ.get("CUPS_SERVER")
        where = f"CUPS_SERVER={server}" if server else "CUPS_SERVER is not set: the local one"
        raise PrintError(f"the CUPS scheduler is not running ({where}); nothing printed")


def check_queue(queue: str) -> None:
    """Refuse a queue that does not exist, is stopped (cupsdisable) or rejects jobs
    (cupsreject): a one-line PrintError naming it. Checked before any job is sent, after
    check_scheduler (so a missing scheduler is not reported as a missing queue)."""
    state = _run(["lpstat", "-p", queue])
    if state.returncode != 0 or not state.stdout.startswith(f"printer {queue} "):
        why = _first_line(state.stderr)
        if "destination" in why.lower() or "does not exist" in why.lower() or not state.stderr:
            raise PrintError(f"printer queue '{queue}' does not exist (lpstat -p lists the queues); "
                             "nothing printed")
        raise PrintError(f"printer queue '{queue}': cannot ask CUPS about it ({why}); nothing printed")
    if " disabled since " in state.stdout.splitlines()[0]:
        raise PrintError(f"printer queue '{queue}' is stopped (cupsenable {queue} starts it); "
                         "nothing printed")
    accepting = _run(["lpstat", "-a", queue])
    if accepting.returncode != 0 or f"{queue} accepting requests" not in accepting.stdout:
        raise PrintError(f"printer queue '{queue}' is rejecting jobs (cupsaccept {queue} lets it "
                         "take them); nothing printed")


def submit(queue: str, data: bytes, title: str, options: Mapping[str, str], copies: int) -> str:
    """Send one document to a queue; the job id lp printed (e.g. 'labels-12')."""
    args = ["lp", "-d", queue, "-t", title, "-n", str(copies)]
    for name, value in options.items():
        args += ["-o", f"{name}={value}" if value else name]
    done = _run(args, data)
    found = _REQUEST_ID.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise PrintError(f"printer queue '{queue}' refused the job: "
                         f"{_first_line(done.stderr or done.stdout)}")
    return found.group(1)
