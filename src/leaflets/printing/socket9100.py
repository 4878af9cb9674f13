"""Raw bytes to a printer's AppSocket/JetDirect port (TCP 9100), as CUPS' socket backend does
(../shared/reference/printing.md §3). The stream is unencrypted: printers belong on their own LAN."""

from __future__ import annotations

import re
import socket

from . import PrintError

DEFAULT_PORT = 9100
TIMEOUT_S = 30
_ADDRESS = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?$")


def parse_address(text: str) -> tuple[str, int]:
    """host, host:port or [v6]:port; the port defaults to 9100."""
    found = _ADDRESS.match(text)
    port = int(found["port"]) if found and found["port"] else DEFAULT_PORT
    if found is None or not 0 < port < 65536:
        raise PrintError(f"--zpl-to: expected HOST or HOST:PORT (e.g. 192.0.2.7:9100), got '{text}'")
    return found["v6"] or found["host"], port


def send_raw(host: str, port: int, data: bytes) -> None:
    """Send data whole, then close our side; the printer needs no answer."""
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S) as connection:
            connection.sendall(data)
            connection.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise PrintError(f"printer at {host}:{port}: cannot send ({exc.strerror or exc}); "
                         "nothing printed there") from None
