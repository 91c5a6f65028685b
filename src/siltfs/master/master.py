"""The master: wires namespace, mounts, persister and background work together, and
recovers after a restart (intents, leases of dead runners, pins, lost data, staging)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from siltfs.config import SiltConfig
from siltfs.errors import InvalidArgument, SiltError
from siltfs.jobs.runner import PersistRunner, owner_is_dead
from siltfs.master.consistency import Checker, ConsistencyReport
from siltfs.master.files import NewFile, check_writable_target, commit_file
from siltfs.master.locks import NamespaceLock
from siltfs.master.metrics import exposition, registry_for
from siltfs.master.mounting import ensure_root_mount, mount, unmount
from siltfs.master.mounts import MountTable
from siltfs.master.namespace import PERSISTED, Namespace, Resolved, now_ms
from siltfs.master.persister import Persister
from siltfs.master.queue import JobQueue
from siltfs.metastore.abc import Metastore
from siltfs.model import paths
from siltfs.model.enums import JobState, PersistenceState, TtlAction, WriteType
from siltfs.model.inode import FileInfo, Inode, MountInfo
from siltfs.ufs.fsspec_ufs import open_ufs
from siltfs.worker.blockstore import BlockStore

log = logging.getLogger("siltfs.master")


class Master:
    def __init__(
        self,
        config: SiltConfig,
        metastore: Metastore,
        store: BlockStore,
        *,
        root_uri: str,
        root_options: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.ms = metastore
        self.store = store
        self.lock = NamespaceLock(config.home / "namespace.lock")
        self.mounts = MountTable(open_ufs)
        self.ns = Namespace(config, metastore, self.mounts, store, self.lock)
        ensure_root_mount(self.ns, root_uri, root_options)
        self.persister = Persister(self.ns)
        self.runner = PersistRunner(metastore, config.persist, self.persister.run_job)
        self.jobs = JobQueue(self.ns, self.runner.wake)
        self.last_check: ConsistencyReport | None = None
        self.registry = registry_for(self)
        self._stop = threading.Event()
        self._maintenance: threading.Thread | None = None
        self.recover()

    # lifecycle ------------------------------------------------------------
    def start(self) -> None:
        if self.config.persist.enabled:
            self.runner.start()
        self._maintenance = threading.Thread(
            target=self._maintain, name="silt-maintenance", daemon=True
        )
        self._maintenance.start()

    def close(self) -> None:
        self._stop.set()
        if self._maintenance is not None:
            self._maintenance.join()
        if self.config.persist.enabled:
            self.runner.stop(wait=True)
        self.mounts.close()
        self.lock.close()

    def recover(self) -> dict[str, int]:
        """Bring the home back to a consistent state after any kind of stop."""
        report = {"intents": self.ns.replay_intents(), "leases": 0, "lost": 0, "orphans": 0}
        with self.ms.transaction() as txn:
            for job in txn.list_jobs(JobState.RUNNING):
                if owner_is_dead(job.lease_owner):
                    job.state = JobState.PENDING
                    job.lease_owner = None
                    job.lease_expires_ms = 0
                    job.next_run_ms = now_ms()
                    txn.update_job(job)
                    report["leases"] += 1
        with self.ms.snapshot() as txn:
            unpersisted = txn.inodes_in_state(PersistenceState.NOT_PERSISTED)
            unpersisted += txn.inodes_in_state(PersistenceState.TO_BE_PERSISTED)
            pinned = txn.pinned_inodes()
        for inode in unpersisted + pinned:
            self.store.pin(inode.block_ids())
        lost = [
            i for i in unpersisted
            if not i.is_dir and any(not self.store.contains(b) for b in i.block_ids())
        ]  # fmt: skip
        if lost:
            with self.ms.transaction() as txn:
                for inode in lost:
                    inode.state = PersistenceState.LOST
                    txn.update_inode(inode)
                    lost_job = txn.job_for_inode(inode.id)
                    if lost_job is not None:
                        lost_job.state = JobState.FAILED
                        lost_job.last_error = "cached blocks lost before the file was persisted"
                        txn.update_job(lost_job)
            report["lost"] = len(lost)
            log.error("%d unpersisted file(s) lost their cached blocks", len(lost))
        report["orphans"] = self._drop_orphan_blocks()
        report["staging"] = self.persister.sweep_staging()
        return report

    def _drop_orphan_blocks(self) -> int:
        by_inode: dict[int, list[int]] = {}
        for bid in self.store.all_block_ids():
            by_inode.setdefault(bid >> 24, []).append(bid)
        orphans: list[int] = []
        with self.ms.snapshot() as txn:
            for inode_id, bids in by_inode.items():
                inode = txn.get_inode(inode_id)
                valid = set(inode.block_ids()) if inode is not None else set()
                orphans.extend(b for b in bids if b not in valid)
        self.store.remove(orphans)
        return len(orphans)

    def metrics_text(self) -> str:
        """Prometheus exposition of this master's metrics."""
        return exposition(self.registry)

    def _maintain(self) -> None:
        last_sweep = last_check = time.monotonic()
        check_every = self.config.consistency_check_interval_s
        tick = min(self.config.ttl_check_interval_s, check_every or float("inf"))
        while not self._stop.wait(tick):
            try:
                if self.ns.pending_intents:
                    self.ns.replay_intents()
                self.check_ttl()
                now = time.monotonic()
                if now - last_sweep > self.config.persist.lease_s:
                    self.persister.sweep_staging()
                    last_sweep = now
                if check_every and now - last_check >= check_every:
                    self.check_consistency("/")  # logs and exports what it finds
                    last_check = now
            except Exception:  # noqa: BLE001 - keep the thread alive, report
                log.exception("maintenance round failed")

    # info -----------------------------------------------------------------
    def info(self, inode: Inode, path: str) -> FileInfo:
        length = inode.length
        if length:  # (hot in ls: empty files and directories skip the block store)
            ids = inode.block_ids()
            cached = self.store.cached_bytes(ids) * 100 // length
        else:
            ids = []
            cached = 0 if inode.is_dir else 100
        root = path == paths.ROOT
        return FileInfo(
            path, "/" if root else inode.name, inode.id, inode.is_dir, length,
            inode.mtime_ms / 1000, inode.block_size, ids, inode.state, cached, inode.pinned,
            inode.ttl_ms, inode.ttl_action, inode.generation,
            inode.mount_id is not None or root, inode.fingerprint,
        )  # fmt: skip

    def stat(self, path: str, sync_interval_ms: int | None = None) -> FileInfo:
        return self.info(self.ns.get(path, sync_interval_ms=sync_interval_ms), path)

    def ls(
        self, path: str, *, recursive: bool, sync_interval_ms: int | None = None
    ) -> list[FileInfo]:
        inode = self.ns.get(path, sync_interval_ms=sync_interval_ms)
        if not inode.is_dir:
            return [self.info(inode, path)]
        out: list[FileInfo] = []
        stack = [(inode, path)]
        while stack:
            node, node_path = stack.pop()
            for kid in self.ns.children(node, node_path, sync_interval_ms):
                kid_path = paths.join(node_path, kid.name)
                out.append(self.info(kid, kid_path))
                if recursive and kid.is_dir:
                    stack.append((kid, kid_path))
        if recursive:
            out.sort(key=lambda i: i.path)
        return out

    def resolve(self, path: str, sync_interval_ms: int | None = None) -> Resolved:
        return self.ns.resolve(path, sync_interval_ms=sync_interval_ms)

    def mounts_list(self) -> list[MountInfo]:
        return self.mounts.all()

    # mutations ------------------------------------------------------------
    def mkdir(self, path: str, *, parents: bool, exist_ok: bool, write_type: WriteType) -> None:
        self.ns.mkdir(path, parents=parents, exist_ok=exist_ok, write_type=write_type)

    def delete(
        self, path: str, *, recursive: bool, unchecked: bool = False, namespace_only: bool = False
    ) -> None:
        self.ns.delete(
            path, recursive=recursive, unchecked=unchecked, namespace_only=namespace_only
        )
        self.persister._notify()

    def rename(self, src: str, dst: str) -> None:
        self.ns.rename(src, dst)

    def mount(self, path: str, uri: str, **kwargs: Any) -> MountInfo:
        return mount(self.ns, path, uri, **kwargs)

    def unmount(self, path: str) -> None:
        unmount(self.ns, path)

    def check_write(self, path: str, exclusive: bool) -> None:
        check_writable_target(self.ns, path, exclusive)

    def complete_write(self, new: NewFile) -> FileInfo:
        inode = commit_file(self.ns, new)
        if new.write_type is WriteType.ASYNC_THROUGH:
            self.runner.wake()
        return self.info(inode, new.path)

    def persist(self, path: str) -> int:
        count = self.persister.schedule(path)
        self.runner.wake()
        return count

    def wait_persisted(self, path: str, timeout: float | None) -> None:
        self.runner.wake()
        self.persister.wait(path, timeout, self.runner.inflight_jobs)

    def set_attribute(
        self,
        path: str,
        *,
        pinned: bool | None = None,
        ttl: int | None = None,
        ttl_action: TtlAction | None = None,
    ) -> FileInfo:
        with self.lock:
            inode = self.ns.get(path)
            with self.ms.transaction() as txn:
                fresh = txn.get_inode(inode.id)
                assert fresh is not None
                subtree = txn.subtree(fresh.id) if pinned is not None else [fresh]
                if pinned is not None:
                    for node in subtree:
                        node.pinned = pinned
                        txn.update_inode(node)
                    fresh = subtree[0]
                if ttl is not None:
                    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < -1:
                        raise InvalidArgument(
                            "ttl must be milliseconds (>= 0) or -1 to clear", path=path
                        )
                    fresh.ttl_ms = None if ttl == -1 else ttl
                if ttl_action is not None:
                    fresh.ttl_action = ttl_action
                txn.update_inode(fresh)
            if pinned is not None:
                for node in subtree:
                    if pinned:
                        self.store.pin(node.block_ids())
                    elif node.state is PERSISTED:
                        self.store.unpin(node.block_ids())
            return self.info(fresh, path)

    def check_ttl(self) -> int:
        now = now_ms()
        with self.ms.snapshot() as txn:
            due = [
                (i, self.ns.path_of(txn, i)) for i in txn.inodes_with_ttl()
                if i.ttl_ms is not None and i.created_ms + i.ttl_ms <= now
            ]  # fmt: skip
        acted = 0
        for inode, path in due:
            if path is None:
                continue
            try:
                if inode.ttl_action is TtlAction.DELETE:
                    self.ns.delete(path, recursive=True)
                else:
                    self.free(path)
                    self.set_attribute(path, ttl=-1)
                acted += 1
            except SiltError as exc:
                log.warning("TTL action on %s failed: %s", path, exc)
        return acted

    # cache management ----------------------------------------------------
    def files_under(self, path: str) -> list[tuple[str, Inode]]:
        inode = self.ns.get(path)
        if not inode.is_dir:
            return [(path, inode)]
        return [
            (i.path, self.ns.get(i.path)) for i in self.ls(path, recursive=True) if not i.is_dir
        ]

    def free(self, path: str) -> int:
        """Drop cached blocks of persisted, unpinned files under *path*; returns bytes freed."""
        freed = 0
        targets = self.files_under(path)
        if len(targets) == 1 and targets[0][0] == path:
            inode = targets[0][1]
            if inode.state is not PERSISTED:
                raise InvalidArgument(
                    f"not persisted ({inode.state.value}); its cache is the only copy", path=path
                )
            if inode.pinned:
                raise InvalidArgument("is pinned; unpin it first", path=path)
        for _, inode in targets:
            if inode.state is PERSISTED and not inode.pinned:
                ids = inode.block_ids()
                before = self.store.cached_bytes(ids)
                self.store.free(ids)
                freed += before - self.store.cached_bytes(ids)
        return freed

    def check_consistency(
        self, path: str, *, repair: bool = False, remove_ghosts: bool = False
    ) -> ConsistencyReport:
        report = Checker(self, repair=repair, remove_ghosts=remove_ghosts).run(path)
        self.last_check = report
        for d in report.divergences:
            action = f" -> {d.action}" if d.action else ""
            log.warning("consistency %s %s: %s%s", d.kind, d.path, d.detail, action)
        return report
