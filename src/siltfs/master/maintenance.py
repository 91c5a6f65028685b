"""Maintenance: the master's background round (``silt-maintenance`` thread).

Each tick it follows other masters sharing the metastore (mount table, stale intents),
reaps workers that stopped heartbeating, rolls deferred UFS steps forward and acts on
expired TTLs; less often it sweeps staging (every ``persist.lease_s``), retries FAILED
jobs (``persist.failed_retry_interval_s``) and checks consistency
(``consistency_check_interval_s``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from siltfs.config import SiltConfig
from siltfs.errors import SiltError
from siltfs.master.namespace import Namespace, now_ms
from siltfs.master.recovery import Recovery
from siltfs.model.enums import TtlAction
from siltfs.model.inode import MountInfo
from siltfs.persist.persister import Persister
from siltfs.persist.queue import JobQueue

log = logging.getLogger("siltfs.master")


def _mount_key(mounts: list[MountInfo]) -> list[tuple[Any, ...]]:
    return sorted((m.id, m.path, m.uri, repr(m.options), m.read_only) for m in mounts)


class Maintenance:
    def __init__(
        self,
        config: SiltConfig,
        ns: Namespace,
        *,
        recovery: Recovery,
        persister: Persister,
        jobs: JobQueue,
        free: Callable[[str], int],
        clear_ttl: Callable[[str], object],
        check_consistency: Callable[[str], object],
    ) -> None:
        self.config = config
        self.ns = ns
        self.recovery = recovery
        self.persister = persister
        self.jobs = jobs
        self.free = free  # TTL action FREE
        self.clear_ttl = clear_ttl  # ... after which the TTL is cleared
        self.check_consistency = check_consistency
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="silt-maintenance", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def check_ttl(self) -> int:
        """Act on every entry whose TTL expired (delete it, or free its cache)."""
        ns = self.ns
        now = now_ms()
        with ns.ms.snapshot() as txn:
            due = [
                (i, ns.path_of(txn, i))
                for i in txn.inodes_with_ttl()
                if i.ttl_ms is not None and i.created_ms + i.ttl_ms <= now
            ]
        acted = 0
        for inode, path in due:
            if path is None:
                continue
            try:
                if inode.ttl_action is TtlAction.DELETE:
                    ns.delete(path, recursive=True)
                else:
                    self.free(path)
                    self.clear_ttl(path)
                acted += 1
            except SiltError as exc:
                log.warning("TTL action on %s failed: %s", path, exc)
        return acted

    def follow_other_masters(self) -> None:
        """Pick up what other masters sharing this metastore changed: the mount table,
        and UFS steps (intents) one of them recorded and did not finish (it may have
        died).  Cheap reads; a no-op when nothing changed."""
        ns = self.ns
        stale_before = now_ms() - int(self.config.persist.lease_s * 1000)
        with ns.ms.snapshot() as txn:
            mounts = txn.list_mounts()
            # young intents belong to a step some master is carrying out right now
            intents = any(i.created_ms < stale_before for i in txn.list_intents())
        if _mount_key(mounts) != _mount_key(ns.mounts.all()):
            # re-read under the namespace lock: a mount() of this master holds it while
            # it writes and loads the table, so a stale read never undoes it
            with ns.lock:
                with ns.ms.snapshot() as txn:
                    mounts = txn.list_mounts()
                if _mount_key(mounts) != _mount_key(ns.mounts.all()):
                    ns.mounts.load(mounts)
        if intents and not ns.pending_intents:
            ns.intents.mark_pending()  # replayed below by maintenance

    def _run(self) -> None:
        last_sweep = last_check = last_retry = time.monotonic()
        check_every = self.config.consistency_check_interval_s
        retry_every = self.config.persist.failed_retry_interval_s
        tick = min(self.config.ttl_check_interval_s, check_every or float("inf"))
        tick = min(tick, retry_every or float("inf"))
        tick = min(tick, self.config.cluster.heartbeat_interval_s)
        while not self._stop.wait(tick):
            try:
                self.follow_other_masters()
                self.recovery.check_workers()
                if self.ns.pending_intents:
                    self.ns.replay_intents()
                self.check_ttl()
                now = time.monotonic()
                if now - last_sweep > self.config.persist.lease_s:
                    self.persister.sweep_staging()
                    last_sweep = now
                if retry_every and now - last_retry >= retry_every:
                    retried = self.jobs.retry_failed()  # a UFS back from an outage
                    if retried:
                        log.info("retrying %d FAILED persist job(s) on schedule", retried)
                    last_retry = now
                if check_every and now - last_check >= check_every:
                    self.check_consistency("/")  # logs and exports what it finds
                    last_check = now
            except Exception:  # noqa: BLE001 - keep the thread alive, report
                log.exception("maintenance round failed")
