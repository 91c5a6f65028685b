"""Who a bearer token on a worker's API is: the cluster secret (masters), or an admin or
client token that one of the worker's masters vouches for.

A worker never sees a master's tokens: each heartbeat answer may carry ``credentials``
-- ``{"version", "tokens": [{"sha256", "role"}]}``, the SHA-256 digests of that master's
admin and client tokens with their roles -- whenever its version differs from the one
the heartbeat said the worker holds.  A token is accepted if any master vouches for it;
a token revoked on a master is refused from that master's next heartbeat answer on
(``heartbeat_interval_s``).  What each role may call is :mod:`siltfs.server.roles`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

from siltfs.model.roles import CLUSTER, TOKEN_ROLES

__all__ = ["WorkerCredentials"]


class WorkerCredentials:
    def __init__(self, cluster_secret: str) -> None:
        self._secret = cluster_secret.encode()
        self._lock = threading.Lock()
        self._versions: dict[str, str] = {}  # master URL -> version of what it sent
        self._by_master: dict[str, dict[str, str]] = {}  # master URL -> digest -> role

    def version(self, master: str) -> str | None:
        """The version of *master*'s credentials this worker holds (None: none yet)."""
        with self._lock:
            return self._versions.get(master)

    def learn(self, master: str, published: Any) -> None:
        """Take *master*'s credentials from a heartbeat answer (anything malformed is
        ignored: the worker keeps what it had)."""
        if not isinstance(published, dict) or not isinstance(published.get("tokens"), list):
            return
        known: dict[str, str] = {}
        for entry in published["tokens"]:
            if not isinstance(entry, dict):
                return
            sha, role = entry.get("sha256"), entry.get("role")
            if not isinstance(sha, str) or len(sha) != 64 or role not in TOKEN_ROLES:
                return
            known[sha] = str(role)
        with self._lock:
            self._by_master[master] = known
            self._versions[master] = str(published.get("version"))

    def role(self, token: bytes) -> str | None:
        if secrets.compare_digest(token, self._secret):
            return CLUSTER
        sha = hashlib.sha256(token).hexdigest()
        with self._lock:
            roles = [known[sha] for known in self._by_master.values() if sha in known]
        if not roles:
            return None
        # several masters vouching differently: the most capable role they agree on
        return next(role for role in TOKEN_ROLES if role in roles)
