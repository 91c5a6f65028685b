"""The master: wires namespace, mounts, persistence, recovery and maintenance together,
and is the one object the clients and servers above it talk to.

Its collaborators are its own: code outside ``master/`` and ``persist/`` calls methods
of the master, never of the namespace, the metastore, the cluster view or the persist
queue behind it (``tests/test_reach_through.py`` holds that rule).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
from siltfs.model.enums import JobState, TtlAction, WriteType
from siltfs.model.inode import FileInfo, Inode, MountInfo, PersistJob
from siltfs.model.jobs import JobInfo
from siltfs.persist.outbox import NewFile, check_writable_target, commit_file
from siltfs.persist.persister import Persister
from siltfs.persist.queue import JobQueue
from siltfs.persist.runner import PersistRunner
from siltfs.persist.sweep import tidy_staging
from siltfs.ufs.abc import UnderFileSystem
from siltfs.ufs.registry import open_ufs
from siltfs.worker.blockstore import BlockStore, TierUsage

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
        self.blocks = Cluster(
            store,
            config.cluster,
            token,
            is_needed=lambda ids: self.recovery.needed_blocks(ids),
            expect_workers=expect_workers,
        )
        self.lock = metastore.namespace_lock(config.home)
        self.mounts = MountTable(open_ufs)
        self.ns = Namespace(config, metastore, self.mounts, self.blocks, self.lock)
        ensure_root_mount(self.ns, root_uri, root_options)
        self.persister = Persister(self.ns)
        self.runner = PersistRunner(metastore, config.persist, self.persister.run_job)
        self.jobs = JobQueue(self.ns, self.runner.wake)
        self.recovery = Recovery(self.ns, self.persister, self.runner.wake)
        self.maintenance = Maintenance(
            config,
            self.ns,
            recovery=self.recovery,
            persister=self.persister,
            jobs=self.jobs,
            free=self.free,
            clear_ttl=lambda path: self.set_attribute(path, ttl=-1),
            check_consistency=self.check_consistency,
        )
        self.last_check: ConsistencyReport | None = None
        self.registry = registry_for(
            MasterCollector(
                jobs=self.jobs,
                persister=self.persister,
                blocks=self.blocks,
                lost_files=lambda: self.recovery.lost_files,
                last_check=lambda: self.last_check,
            )
        )
        self.op_metrics: Any = None  # request counters of a server on this master
        self.recover()

    # lifecycle ------------------------------------------------------------
    def start(self) -> None:
        if self.config.persist.enabled:
            self.runner.start()
        self.maintenance.start()

    def stop(self) -> None:
        """Stop the background work and release what this master holds (not the
        metastore: its opener closes it)."""
        self.maintenance.stop()
        if self.config.persist.enabled:
            self.runner.stop(wait=True)
        self.mounts.close()
        self.blocks.close()
        self.lock.close()

    def close(self) -> None:
        """:meth:`stop`, keep the cache warm for the next start, close the metastore."""
        self.stop()
        self.blocks.flush_mem()
        self.ms.close()

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
        return infos.info(self.blocks, inode, path)

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
            found = infos.infos(self.blocks, kids, node_path)
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
        return self.info(self.commit_new_file(new), new.path)

    def commit_new_file(self, new: NewFile) -> Inode:
        """:meth:`complete_write` without the FileInfo (a commit of a change to a large
        file, which nobody asks about, skips counting its cached blocks)."""
        inode = commit_file(self.ns, new)
        if new.write_type is WriteType.ASYNC_THROUGH:
            self.runner.wake()
        return inode

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
                        self.blocks.pin(node.block_ids())
                    elif node.state is PERSISTED:
                        self.blocks.unpin(node.block_ids())
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
                before = self.blocks.cached_bytes(ids)
                self.blocks.free(ids)
                freed += before - self.blocks.cached_bytes(ids)
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

    # what clients and servers ask of the collaborators --------------------------
    def lookup(self, path: str, *, sync_interval_ms: int | None = None) -> Inode | None:
        """The inode at *path*, or None (metadata loaded and synced on the way)."""
        return self.ns.lookup(path, sync_interval_ms=sync_interval_ms)

    def sync_metadata(self, path: str) -> None:
        """Sync the entry at *path* (and a directory's listing) with the UFS now."""
        inode = self.ns.get(path, sync_interval_ms=0)
        if inode.is_dir:
            self.ns.children(inode, path, 0)

    def inode(self, inode_id: int) -> Inode | None:
        """The current record of an inode (by id: it may have moved or changed)."""
        with self.ms.snapshot() as txn:
            return txn.get_inode(inode_id)

    def path_of_inode(self, inode_id: int) -> str | None:
        """The current path of an inode, or None if it (or an ancestor) is gone."""
        return self.paths_of_inodes([inode_id])[inode_id]

    def paths_of_inodes(self, inode_ids: list[int]) -> dict[int, str | None]:
        """:meth:`path_of_inode` of several inodes, in one snapshot."""
        out: dict[int, str | None] = {}
        with self.ms.snapshot() as txn:
            for inode_id in inode_ids:
                node = txn.get_inode(inode_id)
                out[inode_id] = self.ns.path_of(txn, node) if node is not None else None
        return out

    def ufs_of(self, path: str) -> tuple[UnderFileSystem, str]:
        """The UFS holding *path* and the path relative to its mount."""
        _, ufs, rel = self.mounts.resolve(path)
        return ufs, rel

    def wrap_ufs(
        self, mount_path: str, wrapper: Callable[[UnderFileSystem], UnderFileSystem]
    ) -> UnderFileSystem:
        """Replace the UFS of the mount at *mount_path* by ``wrapper(current)`` (fault
        injection in tests); returns the wrapper."""
        info = self.mounts.at(mount_path)
        if info is None:
            raise ValueError(f"{mount_path} is not a mount point")
        return self.mounts.wrap(info.id, wrapper)

    # blocks (the cluster view) ----------------------------------------------------
    def put_block(
        self,
        block_id: int,
        data: bytes | memoryview,
        *,
        durable: bool = False,
        ssd: bool = False,
        replicas: int = 1,
    ) -> str:
        return self.blocks.put(block_id, data, durable=durable, ssd=ssd, replicas=replicas)

    def get_block(
        self, block_id: int, *, promote: bool = False, wait: bool = False
    ) -> bytes | None:
        return self.blocks.get(block_id, promote=promote, wait=wait)

    def read_block_range(
        self, block_id: int, offset: int, size: int, *, wait: bool = False
    ) -> bytes | None:
        return self.blocks.read_range(block_id, offset, size, wait=wait)

    def pin_blocks(self, block_ids: list[int]) -> None:
        self.blocks.pin(block_ids)

    def remove_blocks(self, block_ids: list[int]) -> None:
        self.blocks.remove(block_ids)

    def hold_blocks(self, block_ids: list[int]) -> int:
        """Keep a version's blocks while a handle reads or changes it (master.holds)."""
        return self.blocks.hold(block_ids)

    def release_blocks(self, token: int) -> None:
        self.blocks.release(token)

    def cached_bytes(self, block_ids: list[int]) -> int:
        return self.blocks.cached_bytes(block_ids)

    def tier_of_block(self, block_id: int) -> str | None:
        return self.blocks.tier_of(block_id)

    def locate_block(self, block_id: int) -> list[dict[str, Any]]:
        """Where a client may read a block: workers holding it, local ones first."""
        return self.blocks.locate(block_id)

    def cluster_heartbeat(self, report: dict[str, Any]) -> dict[str, Any]:
        """A worker's heartbeat; the answer says what it is to pin and drop."""
        return self.blocks.heartbeat(report)

    def cluster_overview(self) -> list[dict[str, Any]]:
        """One entry per block-store member: address, liveness, tier usage."""
        return self.blocks.overview()

    def tier_usage(self) -> list[TierUsage]:
        return self.blocks.usage()

    # synchronous writes' staging objects ------------------------------------------
    def new_inode_id(self) -> int:
        return self.ns.new_id()

    def writable_ufs(self, path: str) -> UnderFileSystem:
        """The UFS a new file at *path* goes to (InvalidPath if it cannot hold it)."""
        return self.ns.writable(path)[1]

    def staging_begin(self, token: str) -> None:
        """A synchronous write with *token* is about to write its staging object."""
        self.ns.active_staging.add(token)

    def staging_end(self, token: str) -> None:
        self.ns.active_staging.discard(token)

    def tidy_staging(self, ufs: UnderFileSystem) -> None:
        """Remove the staging directory of *ufs* if it is empty."""
        tidy_staging(self.ns, ufs)

    # the persist queue ----------------------------------------------------------------
    def list_jobs(self, state: JobState | None = None) -> list[JobInfo]:
        return self.jobs.list(state)

    def show_job(self, job_id: int) -> JobInfo:
        return self.jobs.show(job_id)

    def retry_job(self, job_id: int) -> JobInfo:
        return self.jobs.retry(job_id)

    def retry_failed_jobs(self) -> int:
        return self.jobs.retry_failed()

    def cancel_job(self, job_id: int) -> None:
        self.jobs.cancel(job_id)

    def job_rows(self) -> list[PersistJob]:
        """Every job row not done, as stored (the dashboard's queue)."""
        with self.ms.snapshot() as txn:
            return txn.list_jobs()
