"""A master's credentials: the admin token, the cluster secret, and client tokens stored
hashed.

The admin token (``<home>/token``, made on first start) may do everything but register
workers; the cluster secret (``<home>/cluster-secret``) is what masters and workers
authenticate to each other with, and nothing else.  Client tokens are made with ``silt token create [--read-only]`` and kept in
``<home>/tokens.json`` (mode 0600) as SHA-256 digests only; the token itself is shown once.
A running master re-reads the file when it changes, so a token created or revoked while
it runs takes effect on the next request.  What each role may do is decided in one place,
:mod:`siltfs.server.roles`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from siltfs.errors import InvalidArgument, SiltError
from siltfs.server.roles import ADMIN, CLIENT, CLUSTER, READ_ONLY

TOKENS_FILE = "tokens.json"
__all__ = ["ClientToken", "MasterCredentials", "TokenStore", "digest"]


def digest(token: str | bytes) -> str:
    raw = token.encode() if isinstance(token, str) else token
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class ClientToken:
    id: str
    name: str
    read_only: bool
    created: float
    sha256: str

    def public(self) -> dict[str, object]:
        """What ``silt token ls`` shows: everything but the digest."""
        return {k: v for k, v in asdict(self).items() if k != "sha256"}


class TokenStore:
    """The client tokens of one home."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / TOKENS_FILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_digest: dict[str, ClientToken] = {}

    def _load(self) -> list[ClientToken]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise SiltError(f"cannot read client tokens: {exc}", path=str(self.path)) from exc
        return [ClientToken(**entry) for entry in data.get("tokens", [])]

    def _save(self, tokens: list[ClientToken]) -> None:
        tmp = self.path.with_name(f".{TOKENS_FILE}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"tokens": [asdict(t) for t in tokens]}, f, indent=1)
        os.replace(tmp, self.path)

    def create(self, name: str, *, read_only: bool) -> tuple[ClientToken, str]:
        """A new client token: its record and the token (shown once, stored hashed)."""
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise InvalidArgument("a token name must be 1 to 100 characters", path=name)
        token = "silt_" + secrets.token_urlsafe(32)
        record = ClientToken(
            id=secrets.token_hex(4),
            name=name.strip(),
            read_only=read_only,
            created=time.time(),
            sha256=digest(token),
        )
        with self._lock:
            self._save([*self._load(), record])
        return record, token

    def list(self) -> list[ClientToken]:
        return self._load()

    def revoke(self, token_id: str) -> ClientToken:
        with self._lock:
            tokens = self._load()
            match = [t for t in tokens if t.id == token_id]
            if not match:
                raise InvalidArgument(f"no client token with id {token_id!r}", path=token_id)
            self._save([t for t in tokens if t.id != token_id])
        return match[0]

    def _current(self) -> dict[str, ClientToken]:
        """The tokens by digest (the file re-read when it changed)."""
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                tokens = self._load() if stamp is not None else []
                self._by_digest = {t.sha256: t for t in tokens}
                self._stamp = stamp
            return self._by_digest

    def lookup(self, token: bytes) -> ClientToken | None:
        """The client token *token* is, if any."""
        found = self._current().get(digest(token))
        if found is None:
            return None
        return found if secrets.compare_digest(found.sha256, digest(token)) else None

    def current(self) -> tuple[ClientToken, ...]:
        """Every client token as the file says now."""
        return tuple(self._current().values())


class MasterCredentials:
    """Who a bearer token on a master's API is (:class:`siltfs.server.guard.Guard`), and
    what workers are told of it so that they accept the same admin and client tokens
    (:meth:`published`, sent in heartbeat answers; :mod:`siltfs.worker.credentials`)."""

    def __init__(self, admin: str, cluster: str | None, clients: TokenStore | None) -> None:
        self._admin = admin.encode()
        self._cluster = cluster.encode() if cluster is not None else None
        self._clients = clients

    def role(self, token: bytes) -> str | None:
        if secrets.compare_digest(token, self._admin):
            return ADMIN
        if self._cluster is not None and secrets.compare_digest(token, self._cluster):
            return CLUSTER
        client = self._clients.lookup(token) if self._clients is not None else None
        if client is None:
            return None
        return READ_ONLY if client.read_only else CLIENT

    def published(self) -> tuple[str, list[dict[str, str]]]:
        """The digests of the admin and client tokens with their roles, and a version
        that changes whenever they do."""
        entries = [{"sha256": digest(self._admin), "role": ADMIN}]
        clients = self._clients.current() if self._clients is not None else []
        entries += sorted(
            ({"sha256": t.sha256, "role": READ_ONLY if t.read_only else CLIENT} for t in clients),
            key=lambda e: e["sha256"],
        )
        version = hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:32]
        return version, entries
