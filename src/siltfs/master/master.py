"""The master: wires namespace, mounts, persistence, recovery and maintenance together,
and is the one object the clients and servers above it talk to.

Recovery (master/recovery.py), maintenance (master/maintenance.py) and multi-master
coordination (master/coordination.py) have modules of their own.
"""

from __future__ import annotations

import logging
from typing import Any

from siltfs.config import SiltConfig
from siltfs.errors import InvalidArgument
from siltfs.master import infos
from siltfs.master import posix as px
from siltfs.master.cluster import Cluster
from siltfs.master.consistency import Checker, ConsistencyReport
from siltfs.master.maintenance import Maintenance
from siltfs.master.metrics import MasterCollector, exposition, registry_for
from siltfs.master.mounting import ensure_root_mount, mount, unmount
from siltfs.master.mounts import MountTable
from siltfs.master.namespace import PERSISTED, Namespace, Resolved
from siltfs.master.recovery import Recovery
from siltfs.metastore.abc import Metastore
from siltfs.model.enums import TtlAction, WriteType
from siltfs.model.inode import FileInfo, Inode, MountInfo
from siltfs.persist.outbox import NewFile, check_writable_target, commit_file
from siltfs.persist.persister import Persister
from siltfs.persist.queue import JobQueue
from siltfs.persist.runner import PersistRunner
from siltfs.ufs.fsspec_ufs import open_ufs
from siltfs.worker.blockstore import BlockStore

log = logging.getLogger("siltfs.master")


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
            store, config.cluster, token, is_needed=lambda ids: self.recovery.needed_blocks(ids),
            expect_workers=expect_workers,
        )  # fmt: skip
        self.lock = metastore.namespace_lock(config.home)
        self.mounts = MountTable(open_ufs)
        self.ns = Namespace(config, metastore, self.mounts, self.store, self.lock)
        ensure_root_mount(self.ns, root_uri, root_options)
        self.persister = Persister(self.ns)
        self.runner = PersistRunner(metastore, config.persist, self.persister.run_job)
        self.jobs = JobQueue(self.ns, self.runner.wake)
        self.recovery = Recovery(self.ns, self.persister, self.runner.wake)
        self.maintenance = Maintenance(
            config, self.ns, recovery=self.recovery, persister=self.persister, jobs=self.jobs,
            free=self.free, clear_ttl=lambda path: self.set_attribute(path, ttl=-1),
            check_consistency=self.check_consistency,
        )  # fmt: skip
        self.last_check: ConsistencyReport | None = None
        self.registry = registry_for(
            MasterCollector(
                jobs=self.jobs, persister=self.persister, blocks=self.store,
                lost_files=lambda: self.recovery.lost_files, last_check=lambda: self.last_check,
            )
        )  # fmt: skip
        self.op_metrics: Any = None  # request counters of a server on this master
        self.recover()

    # lifecycle ------------------------------------------------------------
    def start(self) -> None:
        if self.config.persist.enabled:
            self.runner.start()
        self.maintenance.start()

    def close(self) -> None:
        self.maintenance.stop()
        if self.config.persist.enabled:
            self.runner.stop(wait=True)
        self.mounts.close()
        self.store.close()
        self.lock.close()

    # recovery and maintenance (master/recovery.py, master/maintenance.py) ----
    def recover(self) -> dict[str, int]:
        return self.recovery.recover()

    def mark_lost(self, reason: str) -> int:
        return self.recovery.mark_lost(reason)

    def check_workers(self) -> int:
        return self.recovery.check_workers()

    def check_ttl(self) -> int:
        return self.maintenance.check_ttl()

    def follow_other_masters(self) -> None:
        self.maintenance.follow_other_masters()

    @property
    def lost_files(self) -> int:
        return self.recovery.lost_files

    def metrics_text(self) -> str:
        """Prometheus exposition of this master's metrics."""
        return exposition(self.registry)

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
        report = Checker(
            self.ns,
            jobs=self.jobs,
            persister=self.persister,
            runner=self.runner,
            repair=repair,
            remove_ghosts=remove_ghosts,
        ).run(path)
        self.last_check = report
        for d in report.divergences:
            action = f" -> {d.action}" if d.action else ""
            log.warning("consistency %s %s: %s%s", d.kind, d.path, d.detail, action)
        return report
