"""How the counter listens: on loopback by default; anywhere else only under TLS (a certificate
and key), because pages will carry patient data (../shared/reference/hipaa-technical-
safeguards.md: transmission security). Runs the app under uvicorn; its access log lines hold the
method, path and status, and the paths hold no patient data."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from pathlib import Path

from ..errors import InputError
from ..pipeline import Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen(host: str, cert: Path | None, key: Path | None) -> None:
    """Refuse a non-loopback address without TLS, and half a TLS pair."""
    if (cert is None) != (key is None):
        raise InputError.one("--cert/--key", "", "give both --cert and --key (TLS), or neither")
    if not is_loopback(host) and cert is None:
        raise InputError.one("--host", "", (
            f"{host} is not a loopback address: serving the counter to other machines needs "
            "TLS (--cert FILE --key FILE); without them it listens on 127.0.0.1 only"))
    for path in (cert, key):
        if path is not None and not path.is_file():
            raise InputError.one(str(path), "", "no such file")


def serve(settings: Settings, out: Path, host: str, port: int, cert: Path | None,
          key: Path | None, idle: dt.timedelta) -> None:
    import uvicorn

    from .app import create_app
    check_listen(host, cert, key)
    app = create_app(settings, out, idle, secure=cert is not None)
    # The counter's own lines (sign-ins, entries queued, approvals: names of staff, entry
    # numbers and Rx numbers only) beside uvicorn's.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    uvicorn.run(app, host=host, port=port, log_level="info",
                ssl_certfile=str(cert) if cert else None, ssl_keyfile=str(key) if key else None,
                server_header=False)
