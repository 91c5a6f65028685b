"""Versions remote readers hold (``master.holds`` over HTTP).

``GET /data/info?hold=true`` holds the version's blocks and answers a random ``hold``
token; while it is held, ``GET /data/held?hold=&index=&offset=&length=`` reads its
cached blocks by index even after the file was replaced, renamed away or unlinked, so a
remote reader (or a handle changing the file) keeps exactly the version it opened, as an
embedded one does.  The client lets go with the header ``X-Silt-Release: t1,t2`` on any
later request (no round trip of its own) or ``POST /data/release``; a hold not used for
:data:`TTL_S` seconds is released anyway (a client that died).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from siltfs.client.wire import RELEASE_HEADER
from siltfs.errors import FileNotFound

if TYPE_CHECKING:
    from siltfs.master.master import Master

__all__ = ["TTL_S", "HeldVersions", "ReleaseHolds"]

TTL_S = 600.0
MAX_RELEASES = 64  # tokens taken from one header


class HeldVersions:
    """Thread-safe: token -> (the master's hold, the version's block ids, expiry)."""

    def __init__(self, master: Master, ttl_s: float = TTL_S) -> None:
        self._master = master
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._held: OrderedDict[str, tuple[int, tuple[int, ...], float]] = OrderedDict()

    def hold(self, block_ids: Iterable[int]) -> str:
        self._expire()
        ids = tuple(block_ids)
        token = secrets.token_urlsafe(12)
        hold = self._master.hold_blocks(list(ids))
        with self._lock:
            self._held[token] = (hold, ids, time.monotonic() + self._ttl)
        return token

    def block_id(self, token: str, index: int) -> int:
        """The id of block *index* of the held version (renews the hold)."""
        with self._lock:
            found = self._held.get(token)
            if found is None or not 0 <= index < len(found[1]):
                raise FileNotFound(
                    "that version is gone (its hold was released or expired)", path=f"block {index}"
                )
            self._held[token] = (found[0], found[1], time.monotonic() + self._ttl)
            self._held.move_to_end(token)
            return found[1][index]

    def release(self, tokens: Iterable[str]) -> None:
        with self._lock:
            gone = [self._held.pop(t, None) for t in tokens]
        for found in gone:
            if found is not None:
                self._master.release_blocks(found[0])

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def _expire(self) -> None:
        """Let go of the holds not used for the TTL (oldest use first in the dict)."""
        now = time.monotonic()
        stale: list[int] = []
        with self._lock:
            while self._held:
                token, (hold, _, expires) = next(iter(self._held.items()))
                if expires > now:
                    break
                del self._held[token]
                stale.append(hold)
        for hold in stale:
            self._master.release_blocks(hold)


class ReleaseHolds:
    """ASGI middleware (inside the guard: only authenticated requests release): the
    ``X-Silt-Release`` header's tokens are let go before the request is handled."""

    def __init__(self, app: ASGIApp, held: HeldVersions) -> None:
        self.app = app
        self.held = held

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", ()):
                if name == RELEASE_HEADER.lower().encode():
                    tokens = value.decode("latin-1").split(",")[:MAX_RELEASES]
                    self.held.release(t.strip() for t in tokens if t.strip())
        await self.app(scope, receive, send)
