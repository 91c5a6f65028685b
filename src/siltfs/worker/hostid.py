"""Who this host is, for short-circuit reads: a client on the same host as a worker may
read the worker's block files directly instead of over HTTP."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path


def _machine_id() -> str:
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            return Path(candidate).read_text().strip()
        except OSError:
            continue
    return ""


HOST_ID = hashlib.sha1(f"{socket.gethostname()}|{_machine_id()}".encode()).hexdigest()[:16]
