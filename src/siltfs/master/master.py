"""The master: wires namespace, mounts, persister and background work together, and
recovers after a restart (intents, leases of dead runners, pins, lost data, staging)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from siltfs.config import SiltConfig
from siltfs.errors import InvalidArgument, SiltError
from siltfs.master import infos
from siltfs.master import posix as px
from siltfs.master.cluster import Cluster
from siltfs.master.consistency import Checker, ConsistencyReport
from siltfs.master.metrics import exposition, registry_for
from siltfs.master.mounting import ensure_root_mount, mount, unmount
from siltfs.master.mounts import MountTable
from siltfs.master.namespace import PERSISTED, Namespace, Resolved, now_ms
from siltfs.metastore.abc import Metastore
from siltfs.model.enums import JobState, PersistenceState, TtlAction, WriteType
from siltfs.model.inode import FileInfo, Inode, MountInfo, inode_of_block
from siltfs.persist.outbox import NewFile, check_writable_target, commit_file
from siltfs.persist.persister import Persister
from siltfs.persist.queue import JobQueue
from siltfs.persist.recovery import reclaim_dead_leases
from siltfs.persist.runner import PersistRunner
from siltfs.ufs.fsspec_ufs import open_ufs
from siltfs.worker.blockstore import BlockStore

log = logging.getLogger("siltfs.master")


def _mount_key(mounts: list[MountInfo]) -> list[tuple[Any, ...]]:
    return sorted((m.id, m.path, m.uri, repr(m.options), m.read_only) for m in mounts)


class Master:
    def __init__(
        self,
        config: SiltConfig,
        metastore: Metastore,
        store: BlockStore | None,
        *,
        root_uri: str,
        root_options: dict[str, Any] | None = None,
        token: str | None = None,
        expect_workers: bool = False,
    ) -> None:
        """*store*: this process's own block store (None: blocks live on workers only).
        *expect_workers*: workers will register by heartbeat (a served master)."""
        self.config = config
        self.ms = metastore
        self.store = Cluster(
            store, config.cluster, token, is_needed=self._needed_blocks,
            expect_workers=expect_workers,
        )  # fmt: skip
        self._lost_checked = False
        self.lock = metastore.namespace_lock(config.home)
        self.mounts = MountTable(open_ufs)
        self.ns = Namespace(config, metastore, self.mounts, self.store, self.lock)
        ensure_root_mount(self.ns, root_uri, root_options)
        self.persister = Persister(self.ns)
        self.runner = PersistRunner(metastore, config.persist, self.persister.run_job)
        self.jobs = JobQueue(self.ns, self.runner.wake)
        self.last_check: ConsistencyReport | None = None
        self.registry = registry_for(self)
        self._stop = threading.Event()
        self._maintenance: threading.Thread | None = None
        self.lost_files = 0
        self.op_metrics: Any = None  # request counters of a server on this master
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
        self.store.close()
        self.lock.close()

    def recover(self) -> dict[str, int]:
        """Bring the home back to a consistent state after any kind of stop."""
        report = {"intents": self.ns.replay_intents(), "leases": 0, "lost": 0, "orphans": 0}
        report["leases"] = reclaim_dead_leases(self.ms)
        with self.ms.snapshot() as txn:
            unpersisted = txn.inodes_in_state(PersistenceState.NOT_PERSISTED)
            unpersisted += txn.inodes_in_state(PersistenceState.TO_BE_PERSISTED)
            pinned = txn.pinned_inodes()
        for inode in unpersisted + pinned:
            self.store.pin(inode.block_ids())
        if self.store.settled():
            report["lost"] = self.mark_lost("cached blocks lost before the file was persisted")
        report["orphans"] = self._drop_orphan_blocks()
        report["staging"] = self.persister.sweep_staging()
        return report

    def mark_lost(self, reason: str) -> int:
        """Unpersisted files with a block no member holds any more become LOST, their
        jobs FAILED with *reason*: a loss is always reported, never silent."""
        self._lost_checked = True
        if not self.store.sees_everything(self.ms.shared_across_hosts):
            return 0  # other masters' own stores may hold what this one does not see
        with self.ms.snapshot() as txn:
            unpersisted = txn.inodes_in_state(PersistenceState.NOT_PERSISTED)
            unpersisted += txn.inodes_in_state(PersistenceState.TO_BE_PERSISTED)
        lost = [
            i for i in unpersisted
            if not i.is_dir and any(not self.store.contains(b) for b in i.block_ids())
        ]  # fmt: skip
        if not lost:
            return 0
        with self.ms.transaction() as txn:
            for stale in lost:
                inode = txn.get_inode(stale.id)
                if inode is None or inode.state not in (
                    PersistenceState.NOT_PERSISTED,
                    PersistenceState.TO_BE_PERSISTED,
                ):
                    continue
                inode.state = PersistenceState.LOST
                txn.update_inode(inode)
                lost_job = txn.job_for_inode(inode.id)
                if lost_job is not None:
                    lost_job.state = JobState.FAILED
                    lost_job.last_error = reason
                    txn.update_job(lost_job)
        log.error("%d unpersisted file(s) lost their cached blocks: %s", len(lost), reason)
        self.lost_files += len(lost)
        return len(lost)

    def _classify_blocks(self, block_ids: Iterable[int]) -> tuple[set[int], set[int], list[Inode]]:
        """Cached blocks sorted by what their inode says: those to keep pinned (data not
        yet persisted, pinned files), orphans (the file is gone or was overwritten), and
        the LOST inodes among their owners."""
        by_inode: dict[int, list[int]] = {}
        for bid in block_ids:
            by_inode.setdefault(inode_of_block(bid), []).append(bid)
        pins: set[int] = set()
        orphans: set[int] = set()
        lost: list[Inode] = []
        with self.ms.snapshot() as txn:
            for inode_id, bids in by_inode.items():
                inode = txn.get_inode(inode_id)
                valid = set(inode.block_ids()) if inode is not None else set()
                orphans.update(b for b in bids if b not in valid)
                if inode is not None and (inode.pinned or inode.state is not PERSISTED):
                    pins.update(b for b in bids if b in valid)
                if inode is not None and inode.state is PersistenceState.LOST:
                    lost.append(inode)
        return pins, orphans, lost

    def _needed_blocks(self, block_ids: list[int]) -> tuple[set[int], set[int]]:
        """Of blocks a (re)started worker holds: those to pin and the orphans.  A LOST
        file whose blocks are all back (a worker that was only unreachable) is revived."""
        pins, orphans, lost = self._classify_blocks(block_ids)
        self._revive([i for i in lost if all(self.store.contains(b) for b in i.block_ids())])
        return pins, orphans

    def _revive(self, inodes: list[Inode]) -> None:
        if not inodes:
            return
        with self.ms.transaction() as txn:
            for stale in inodes:
                inode = txn.get_inode(stale.id)
                if inode is None or inode.state is not PersistenceState.LOST:
                    continue
                job = txn.job_for_inode(inode.id)
                inode.state = PersistenceState.NOT_PERSISTED
                if job is not None:  # it was on its way to the UFS: back in the queue
                    inode.state = PersistenceState.TO_BE_PERSISTED
                    job.state = JobState.PENDING
                    job.attempts = 0
                    job.last_error = None
                    job.next_run_ms = now_ms()
                    txn.update_job(job)
                txn.update_inode(inode)
        log.warning("%d LOST file(s) have all their blocks back; revived", len(inodes))
        self.runner.wake()

    def check_workers(self) -> int:
        """Reap workers that stopped heartbeating; report files whose only copy died.
        Returns how many files were marked LOST."""
        dead = self.store.reap()
        if dead:
            names = ", ".join(f"{w.id} ({w.url})" for w, _ in dead)
            return self.mark_lost(f"worker {names} stopped heartbeating; it held the only copy")
        if not self._lost_checked and self.store.settled():
            return self.mark_lost("cached blocks lost before the file was persisted")
        return 0

    def _drop_orphan_blocks(self) -> int:
        _, orphans, _ = self._classify_blocks(self.store.all_block_ids())
        self.store.remove(orphans)
        return len(orphans)

    def follow_other_masters(self) -> None:
        """Pick up what other masters sharing this metastore changed: the mount table,
        and UFS steps (intents) one of them recorded and did not finish (it may have
        died).  Cheap reads; a no-op when nothing changed."""
        stale_before = now_ms() - int(self.config.persist.lease_s * 1000)
        with self.ms.snapshot() as txn:
            mounts = txn.list_mounts()
            # young intents belong to a step some master is carrying out right now
            intents = any(i.created_ms < stale_before for i in txn.list_intents())
        if _mount_key(mounts) != _mount_key(self.mounts.all()):
            # re-read under the namespace lock: a mount() of this master holds it while
            # it writes and loads the table, so a stale read never undoes it
            with self.lock:
                with self.ms.snapshot() as txn:
                    mounts = txn.list_mounts()
                if _mount_key(mounts) != _mount_key(self.mounts.all()):
                    self.mounts.load(mounts)
        if intents and not self.ns.pending_intents:
            self.ns.intents.pending = True  # replayed below by maintenance

    def metrics_text(self) -> str:
        """Prometheus exposition of this master's metrics."""
        return exposition(self.registry)

    def _maintain(self) -> None:
        last_sweep = last_check = last_retry = time.monotonic()
        check_every = self.config.consistency_check_interval_s
        retry_every = self.config.persist.failed_retry_interval_s
        tick = min(self.config.ttl_check_interval_s, check_every or float("inf"))
        tick = min(tick, retry_every or float("inf"))
        tick = min(tick, self.config.cluster.heartbeat_interval_s)
        while not self._stop.wait(tick):
            try:
                self.follow_other_masters()
                self.check_workers()
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

    # info -----------------------------------------------------------------
    def info(self, inode: Inode, path: str) -> FileInfo:
        return infos.info(self.store, inode, path)

    def stat(self, path: str, sync_interval_ms: int | None = None) -> FileInfo:
        inode = self.ns.get(path, sync_interval_ms=sync_interval_ms)
        info = self.info(inode, path)
        if inode.is_dir:  # 2 + subdirectories, as on a local file system (ls: 2)
            with self.ms.snapshot() as txn:
                info.nlink = 2 + txn.count_subdirs(inode.id)
        return info

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
            kids = self.ns.children(node, node_path, sync_interval_ms)
            found = infos.infos(self.store, kids, node_path)
            out.extend(found)
            if recursive:
                stack.extend((k, i.path) for k, i in zip(kids, found, strict=True) if k.is_dir)
        # nlink as stat gives it, 2 + subdirectories; counted once the walk has synced
        # every directory it lists, so a first recursive ls equals the next one
        subdirs = [i for i in out if i.is_dir]
        if subdirs:
            with self.ms.snapshot() as txn:
                for i in subdirs:
                    i.nlink = 2 + txn.count_subdirs(i.id)
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
        self.persister.notify()

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
        self.persister.wait(path, timeout, self.runner)

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
                    if not isinstance(ttl, int) or isinstance(ttl, bool) or not -1 <= ttl < 2**53:
                        raise InvalidArgument(
                            "ttl must be milliseconds (0 to 2**53 - 1) or -1 to clear", path=path
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

    def posix(self, op: str, path: str, args: dict[str, Any]) -> FileInfo | bytes | list[str]:
        """chmod, chown, utime, xattrs, symlinks and special files (siltfs.master.posix)."""
        result = px.apply(self.ns, op, path, args)
        return self.info(result, path) if isinstance(result, Inode) else result

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
