"""A worker process's state: its block store, its identity, and the heartbeat that
registers it with every master and keeps them told which blocks it holds.

Heartbeat payload (``POST <master>/api/v1/workers/heartbeat``): id, url, host_id,
block_dir (for short-circuit reads), boot_id (new on every start), tier usage and
counters, and -- when its block set changed since that master last acknowledged, or the
master asks for it -- the full ``{block_id: size}`` map.  The master answers with blocks
to pin (unpersisted data, after a restart) and blocks to drop (orphans of files that no
longer exist), which the worker applies -- and, when they changed since the version the
heartbeat named (``credentials_version``), the digests of its admin and client tokens,
which the worker then accepts (:mod:`siltfs.worker.credentials`).

A worker authenticates to its masters with the cluster secret, never a client's token.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from siltfs.home import private_dir
from siltfs.tls import client_verify
from siltfs.worker.blockstore import BlockStore
from siltfs.worker.credentials import WorkerCredentials
from siltfs.worker.hostid import HOST_ID

log = logging.getLogger("siltfs.worker")
HEARTBEAT = "/api/v1/workers/heartbeat"


def worker_id(home: Path) -> str:
    """A stable id kept in ``<home>/worker-id`` (made on first start)."""
    path = home / "worker-id"
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = f"w-{uuid.uuid4().hex[:12]}"
    private_dir(home)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(value + "\n")
    return value


def _refusal(exc: Exception) -> str | None:
    """What a master that refused a heartbeat said (None: not a refusal)."""
    if not isinstance(exc, httpx.HTTPStatusError):
        return None
    response = exc.response
    try:
        doc = response.json()
    except ValueError:
        doc = None
    message = str(doc.get("message")) if isinstance(doc, dict) else response.text[:200]
    return f"{response.status_code}: {message}"


@dataclass
class _MasterLink:
    url: str
    acked_version: int | None = None  # the block-set version this master has seen
    reachable: bool = False
    last_error: str | None = None  # the last failure logged (each new one is, once)


class WorkerNode:
    def __init__(
        self,
        store: BlockStore,
        *,
        home: Path,
        url: str,
        masters: Sequence[str],
        secret: str,
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        """*secret*: the cluster secret (to the masters, and what they call this with)."""
        self.store = store
        self.id = worker_id(home)
        self.url = url.rstrip("/")
        self.boot_id = secrets.token_hex(8)
        self.block_dir = str(store.ssd.dir.resolve())
        self.interval = heartbeat_interval_s
        self._links = [_MasterLink(m.rstrip("/")) for m in masters]
        self.credentials = WorkerCredentials(secret)
        headers = {"Authorization": f"Bearer {secret}"}
        self._http = httpx.Client(
            headers=headers, timeout=max(2.0, 3 * heartbeat_interval_s), verify=client_verify()
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # reports --------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        s = self.store
        return {
            "id": self.id,
            "url": self.url,
            "host_id": HOST_ID,
            "block_dir": self.block_dir,
            "boot_id": self.boot_id,
            "tiers": [
                {"tier": u.tier, "capacity": u.capacity, "used": u.used, "blocks": u.blocks}
                for u in s.usage()
            ],
            "hits": dict(s.hits),
            "misses": s.misses,
            "evictions": s.evictions,
            "written_bytes": s.written_bytes,
            "pinned": len(s.pinned),
            "checksum_failures": s.checksum_failures,
        }

    def beat(self, link: _MasterLink) -> None:
        version = self.store.version
        payload = self.describe()
        payload["version"] = version
        if link.acked_version != version:
            payload["blocks"] = {str(k): v for k, v in self.store.block_sizes().items()}
        payload["credentials_version"] = self.credentials.version(link.url)
        r = self._http.post(link.url + HEARTBEAT, json=payload)
        r.raise_for_status()
        answer = r.json()
        if "credentials" in answer:
            self.credentials.learn(link.url, answer["credentials"])
        if answer.get("pin"):
            self.store.pin(int(b) for b in answer["pin"])
        if answer.get("remove"):
            self.store.remove(int(b) for b in answer["remove"])
        link.acked_version = None if answer.get("resync") else version
        if not link.reachable:
            log.info("registered with master %s as %s", link.url, self.id)
        link.reachable = True
        link.last_error = None

    def beat_all(self) -> None:
        for link in self._links:
            try:
                self.beat(link)
            except (httpx.HTTPError, ValueError) as exc:
                why = _refusal(exc)
                if link.reachable or (why is not None and why != link.last_error):
                    log.warning("heartbeat to %s failed: %s", link.url, why or exc)
                    link.last_error = why
                link.reachable = False
                link.acked_version = None  # tell it everything when it is back

    # lifecycle ------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="silt-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.beat_all()
            if self._stop.wait(self.interval):
                return

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.store.flush_mem()
        self._http.close()
