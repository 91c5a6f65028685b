"""The namespace: path resolution with lazy metadata load, and the mutating operations.

Every mutation runs under the namespace lock and changes the metastore in one
transaction.  UFS side effects of persisted entries (delete, rename) are recorded as
intents in that same transaction and carried out right after; a crash in between is
rolled forward on restart (:meth:`Namespace.replay_intents`).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import TypeVar

from siltfs import crashpoints
from siltfs.config import SiltConfig
from siltfs.errors import (
    DirectoryNotEmpty,
    FileExists,
    FileNotFound,
    InvalidArgument,
    MountError,
    NotADirectory,
    UfsError,
)
from siltfs.master import names
from siltfs.master.cluster import Cluster
from siltfs.master.coordination import Coordination
from siltfs.master.intents import IntentLog, merge_move, retrying
from siltfs.master.latches import CommitLatches
from siltfs.master.locks import NamespaceLock
from siltfs.master.mounts import MountTable
from siltfs.master.sync import Importing, apply_listing, refresh_fingerprints, unknown_entries
from siltfs.metastore.abc import Metastore, Txn
from siltfs.model import paths, posix
from siltfs.model.enums import PersistenceState, WriteType
from siltfs.model.inode import ROOT_ID, Inode, MountInfo
from siltfs.ufs.abc import StoredAttrs, UfsStatus, UnderFileSystem

log = logging.getLogger("siltfs.namespace")
T = TypeVar("T")
PERSISTED = PersistenceState.PERSISTED
NOT_PERSISTED = PersistenceState.NOT_PERSISTED


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Resolved:
    path: str
    inode: Inode
    mount: MountInfo
    ufs: UnderFileSystem
    rel: str


class Namespace:
    def __init__(
        self,
        config: SiltConfig,
        metastore: Metastore,
        mounts: MountTable,
        blocks: Cluster,
        lock: NamespaceLock,
    ) -> None:
        self.config = config
        self.ms = metastore
        self.mounts = mounts
        self.blocks = blocks
        self.lock = lock
        self._ids: list[int] = []
        self._ids_lock = threading.Lock()
        self.active_staging: set[str] = set()  # tokens of synchronous writes in flight
        self.intents = IntentLog(config, metastore, mounts, lock)
        self.coordination = Coordination(lock, CommitLatches(config, metastore), self.intents)

    # ids ------------------------------------------------------------------
    def new_id(self) -> int:
        with self._ids_lock:
            if not self._ids:
                with self.ms.transaction() as txn:
                    first = txn.allocate_ids(256)
                self._ids = list(range(first + 255, first - 1, -1))
            return self._ids.pop()

    # resolution -----------------------------------------------------------
    def interval(self, mount: MountInfo, override: int | None) -> int:
        if override is not None:
            return override
        if mount.sync_interval_ms is not None:
            return mount.sync_interval_ms
        return self.config.sync_interval_ms

    def _needs_sync(self, directory: Inode, interval: int, now: int) -> bool:
        if directory.state is not PERSISTED:
            return False
        if directory.sync_ms is None:
            return True
        if interval < 0:
            return False
        return interval == 0 or now - directory.sync_ms >= interval

    def sync_dir(self, directory: Inode, path: str, override: int | None = None) -> Inode:
        """Sync *directory* with its UFS listing if its interval says so; returns it fresh."""
        mount, ufs, rel = self.mounts.resolve(path)
        now = now_ms()
        if not self._needs_sync(directory, self.interval(mount, override), now):
            return directory
        with self.lock:
            with self.ms.snapshot() as txn:
                fresh = txn.get_inode(directory.id)
            if fresh is None:
                return directory
            if fresh.sync_ms is not None and fresh.sync_ms != directory.sync_ms:
                return fresh  # another caller synced it meanwhile
            if self.intents.pending:  # a deferred UFS step would look like a ghost
                self.intents.replay()
                if self.intents.pending:
                    return fresh
            try:
                listing: list[UfsStatus] | None = retrying(lambda: ufs.list(rel))
            except FileNotFound:
                listing = None
            except UfsError as exc:  # UFS unreachable: serve what the namespace knows
                log.warning("metadata sync of %s skipped: %s", path, exc)
                return fresh
            hidden = {self.config.persist.staging_dir} if rel == "" else set()
            importing = self._importing(ufs, rel, fresh, listing)
            with self.ms.transaction() as txn:
                fresh = txn.get_inode(directory.id)
                if fresh is None:
                    return directory
                apply_listing(
                    txn,
                    fresh,
                    listing,
                    hidden=hidden,
                    block_size=self.config.cache.block_size,
                    now_ms=now,
                    store=self.blocks,
                    allocate=self.new_id,
                    importing=importing,
                )
            return fresh

    def _importing(
        self, ufs: UnderFileSystem, rel: str, directory: Inode, listing: list[UfsStatus] | None
    ) -> Importing:
        """How the new files of *listing* are imported: the configured owner, and what
        the UFS stored with each (asked before the transaction: one call per new file)."""
        cfg = self.config
        stored: dict[str, StoredAttrs] = {}
        if ufs.keeps_attrs and listing:
            with self.ms.snapshot() as txn:
                known = {c.name for c in txn.list_children(directory.id)}
            for st in listing:
                if st.is_dir or st.name in known:
                    continue
                try:
                    got = ufs.stored_attrs(f"{rel}/{st.name}" if rel else st.name)
                except UfsError as exc:  # imported with defaults; not worth failing the sync
                    log.warning("attributes of %s/%s not read: %s", rel, st.name, exc)
                    got = None
                if got is not None:
                    stored[st.name] = got
        return Importing(cfg.import_uid, cfg.import_gid, stored)

    # multi-master coordination (master/coordination.py) ---------------------
    def latch(self, inode_id: int, path: str) -> None:
        """Mark *path* as being committed to the UFS (call under the lock)."""
        self.coordination.latch(inode_id, path)

    def unlatch(self, inode_id: int) -> None:
        self.coordination.unlatch(inode_id)

    def exclusive(self, *affected: str) -> AbstractContextManager[None]:
        """The namespace lock, taken once no commit in flight (of any master on the
        metastore) writes at or under an *affected* path."""
        return self.coordination.exclusive(*affected)

    def lookup(self, path: str, *, sync_interval_ms: int | None = None) -> Inode | None:
        """The inode at *path* (validated), loading and syncing metadata on the way.

        The whole path is resolved in one metastore read; a directory on the way whose
        sync interval says so is synced (each at most once per call) and the path is
        resolved again.
        """
        names = paths.components(path)
        synced: set[int] = set()
        while True:
            chain = self.ms.resolve_path(names)
            stale: tuple[Inode, str] | None = None
            current = paths.ROOT
            for depth, node in enumerate(chain):
                if depth == len(names):
                    break
                if not node.is_dir:
                    raise NotADirectory("a parent is a file", path=current)
                if node.id not in synced and self._dir_stale(node, current, sync_interval_ms):
                    stale = (node, current)
                    break
                current = paths.join(current, names[depth])
            if stale is None:
                return chain[-1] if len(chain) == len(names) + 1 else None
            synced.add(stale[0].id)
            self.sync_dir(stale[0], stale[1], sync_interval_ms)

    def _dir_stale(self, directory: Inode, path: str, override: int | None) -> bool:
        if directory.state is not PERSISTED:
            return False
        if directory.sync_ms is None:
            return True
        if override is None and self.mounts.never_resync(self.config.sync_interval_ms):
            return False
        mount, _, _ = self.mounts.resolve(path)
        return self._needs_sync(directory, self.interval(mount, override), now_ms())

    def get(self, path: str, *, sync_interval_ms: int | None = None) -> Inode:
        inode = self.lookup(path, sync_interval_ms=sync_interval_ms)
        if inode is None:
            raise FileNotFound("no such file or directory", path=path)
        return inode

    def resolve(self, path: str, *, sync_interval_ms: int | None = None) -> Resolved:
        inode = self.get(path, sync_interval_ms=sync_interval_ms)
        mount, ufs, rel = self.mounts.resolve(path)
        return Resolved(path, inode, mount, ufs, rel)

    def path_of(self, txn: Txn, inode: Inode) -> str | None:
        """Current path of *inode*, or None if it (or an ancestor) is gone."""
        names: list[str] = []
        node: Inode | None = inode
        while node is not None and node.id != ROOT_ID:
            names.append(node.name)
            node = txn.get_inode(node.parent_id)
        if node is None:
            return None
        return "/" + "/".join(reversed(names))

    def children(self, directory: Inode, path: str, override: int | None = None) -> list[Inode]:
        directory = self.sync_dir(directory, path, override)
        with self.ms.snapshot() as txn:
            return txn.list_children(directory.id)

    # helpers for mutations ------------------------------------------------
    def writable(
        self,
        path: str,
        *,
        new_name: bool = True,
        is_dir: bool = False,
        below: names.Below | None = None,
    ) -> tuple[MountInfo, UnderFileSystem, str]:
        """The mount, UFS and relative path of *path*, if entries may change there; with
        *new_name*, if the UFS can also hold the name (:mod:`siltfs.master.names`)."""
        return names.writable_target(
            self.mounts,
            self.config.persist.staging_dir,
            path,
            new_name=new_name,
            is_dir=is_dir,
            below=below,
        )

    def persist_dirs(self, dir_path: str) -> None:
        """Make *dir_path* and its ancestors (within the mount) exist in the UFS."""
        mount, ufs, rel = self.mounts.resolve(dir_path)
        missing: list[Inode] = []
        current = mount.path
        with self.ms.snapshot() as txn:
            node = self._inode_at(txn, current)
            for name in paths.components(dir_path)[len(paths.components(mount.path)) :]:
                child = txn.get_child(node.id, name)
                if child is None:
                    raise FileNotFound("directory vanished", path=paths.join(current, name))
                node = child
                current = paths.join(current, name)
                if node.state is not PERSISTED:
                    missing.append(node)
        if not missing:
            return
        retrying(lambda: ufs.mkdirs(rel))
        stamp = now_ms()
        with self.ms.transaction() as txn:
            for node in missing:
                node.state = PERSISTED
                node.sync_ms = stamp
                txn.update_inode(node)

    def _inode_at(self, txn: Txn, path: str) -> Inode:
        node = txn.get_inode(ROOT_ID)
        assert node is not None
        for name in paths.components(path):
            child = txn.get_child(node.id, name)
            if child is None:
                raise FileNotFound("no such directory", path=path)
            node = child
        return node

    def ensure_dir(self, path: str, *, create: bool, write_type: WriteType) -> Inode:
        """The directory at *path*, creating missing ones (as *write_type* says) if *create*."""
        inode = self.lookup(path)
        if inode is not None:
            if not inode.is_dir:
                raise NotADirectory("not a directory", path=path)
            if write_type.persists_sync and inode.state is not PERSISTED:
                self.persist_dirs(path)
            return inode
        if not create:
            raise FileNotFound("parent directory does not exist", path=path)
        parent_path, name = paths.split(path)
        parent = self.ensure_dir(parent_path, create=True, write_type=write_type)
        return self._create_dir(parent, path, name, write_type=write_type)

    def _create_dir(self, parent: Inode, path: str, name: str, *, write_type: WriteType) -> Inode:
        """CACHE_THROUGH/THROUGH: created in the UFS now (the inode first, NOT_PERSISTED,
        so a crash in between leaves no ghost).  ASYNC_THROUGH: a persist job creates it
        (at its path then), so a down UFS does not fail the write.  MUST_CACHE:
        namespace only."""
        _, ufs, rel = self.writable(path, is_dir=True)
        if write_type.persists_sync:
            self.persist_dirs(paths.split(path)[0])
        stamp = now_ms()
        asynchronous = write_type is WriteType.ASYNC_THROUGH
        inherited = None
        if parent.attrs is not None:
            inherited = posix.dir_attrs_in(posix.decode(parent.attrs, True, parent.mtime_ms), stamp)
        inode = Inode(
            id=self.new_id(),
            parent_id=parent.id,
            name=name,
            is_dir=True,
            state=PersistenceState.TO_BE_PERSISTED if asynchronous else NOT_PERSISTED,
            created_ms=stamp,
            mtime_ms=stamp,
            sync_ms=stamp,
            attrs=None if inherited is None else inherited.to_json(),
        )
        with self.ms.transaction() as txn:
            txn.insert_inode(inode)
            self.touch_parent(txn, parent.id)
            if asynchronous:
                txn.insert_job(inode.id, inode.generation, stamp)
        if write_type.persists_sync:
            try:
                retrying(lambda: ufs.mkdirs(rel))
            except BaseException:
                with self.ms.transaction() as txn:
                    txn.delete_inodes([inode.id])
                raise
            inode.state = PERSISTED
            with self.ms.transaction() as txn:
                txn.update_inode(inode)
        return inode

    def mkdir(self, path: str, *, parents: bool, exist_ok: bool, write_type: WriteType) -> Inode:
        with self.exclusive(path):
            existing = self.lookup(path)
            if existing is not None:
                if existing.is_dir and (exist_ok or (parents and path != paths.ROOT)):
                    return existing
                raise FileExists("already exists", path=path)
            self.writable(path, is_dir=True)  # the whole path, before any parent is made
            parent_path, name = paths.split(path)
            if write_type is WriteType.ASYNC_THROUGH:
                # an explicit mkdir is cheap to do now and expected to be visible in the
                # UFS at once (as in Alluxio); parents implied by ASYNC file writes are not
                write_type = WriteType.CACHE_THROUGH
            parent = self.ensure_dir(parent_path, create=parents, write_type=write_type)
            return self._create_dir(parent, path, name, write_type=write_type)

    def delete(
        self, path: str, *, recursive: bool, unchecked: bool = False, namespace_only: bool = False
    ) -> list[Inode]:
        """Delete an entry (and with *recursive* its subtree); returns the removed inodes.

        Pending, running and failed persists of the subtree never block a delete: their
        jobs go with their inodes.  What does block it are UFS entries under a loaded
        directory that siltfs never knew (written outside): they are named, and
        *unchecked* deletes them anyway while *namespace_only* leaves the UFS untouched.
        """
        if path == paths.ROOT:
            raise InvalidArgument("cannot delete the root", path=path)
        with self.exclusive(path):
            res = self.resolve(path)
            if self.mounts.at(path) is not None:
                raise MountError("is a mount point; unmount it instead", path=path)
            self.writable(path, new_name=False)
            with self.ms.snapshot() as txn:
                if res.inode.is_dir and not recursive and txn.count_children(res.inode.id):
                    raise DirectoryNotEmpty("directory is not empty (use recursive)", path=path)
                subtree = txn.subtree(res.inode.id)
            if any(i.mount_id is not None for i in subtree):
                raise MountError("contains a mount point; unmount it first", path=path)
            touch_ufs = res.inode.state is PERSISTED and not namespace_only
            if touch_ufs and res.inode.is_dir and not unchecked:
                unknown = unknown_entries(
                    self.mounts, self.config.persist.staging_dir, subtree, path
                )
                if unknown:
                    shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
                    raise DirectoryNotEmpty(
                        f"the UFS holds {len(unknown)} entr(y/ies) siltfs never knew: {shown}; "
                        "delete with unchecked=True (rm -U) to remove them too, or "
                        "namespace_only=True to leave the UFS untouched",
                        path=path,
                        unknown=unknown,
                    )
            with self.ms.transaction() as txn:
                txn.delete_inodes([i.id for i in subtree])
                intent = None
                if touch_ufs:
                    intent = txn.insert_intent("delete", res.mount.id, res.rel, None, now_ms())
                self.touch_parent(txn, res.inode.parent_id)
            for node in subtree:
                self.blocks.remove(node.block_ids())
            if intent is not None:
                crashpoints.reach("delete.after_metadata")
                self.intents.carry_out(intent, lambda: res.ufs.delete(res.rel, recursive=True))
            return subtree

    def rename(self, src: str, dst: str) -> None:
        if src == paths.ROOT or dst == paths.ROOT:
            raise InvalidArgument("cannot rename the root", path=src)
        if paths.is_ancestor(src, dst) and src != dst:
            raise InvalidArgument(f"cannot move a directory into itself ({dst})", path=src)
        with self.exclusive(src, dst):
            res = self.resolve(src)
            if self.mounts.at(src) is not None:
                raise MountError("is a mount point; cannot be renamed", path=src)
            if src == dst:
                return
            self.writable(src, new_name=False)  # an old bad name can still be renamed away
            below: names.Below = []
            if res.inode.is_dir:  # its deepest descendant must fit at the new place too
                with self.ms.snapshot() as txn:
                    below = names.longest_below(txn.subtree(res.inode.id))
            dmount, _, drel = self.writable(dst, is_dir=res.inode.is_dir, below=below)
            dst_parent_path, dst_name = paths.split(dst)
            dst_parent = self.lookup(dst_parent_path)
            if dst_parent is None:
                raise FileNotFound("destination directory does not exist", path=dst_parent_path)
            if not dst_parent.is_dir:
                raise NotADirectory("destination parent is a file", path=dst_parent_path)
            if self.lookup(dst) is not None:
                raise FileExists("destination exists", path=dst)
            if dmount.id != res.mount.id:
                raise InvalidArgument(f"cannot rename across mounts (to {dst})", path=src)
            persisted = res.inode.state is PERSISTED
            if persisted:
                self.persist_dirs(dst_parent_path)
            with self.ms.transaction() as txn:
                inode = txn.get_inode(res.inode.id)
                assert inode is not None
                old_parent = inode.parent_id
                inode.parent_id = dst_parent.id
                inode.name = dst_name
                if inode.attrs is not None:  # a rename changes the entry's ctime (Linux)
                    a = posix.decode(inode.attrs, inode.is_dir, inode.mtime_ms)
                    inode.attrs = replace(a, ctime_ns=time.time_ns()).to_json()
                txn.update_inode(inode)
                self.touch_parent(txn, old_parent)
                self.touch_parent(txn, dst_parent.id)
                intent = None
                if persisted:
                    intent = txn.insert_intent("rename", res.mount.id, res.rel, drel, now_ms())
            if intent is not None:
                crashpoints.reach("rename.after_metadata")
                move = lambda: merge_move(res.ufs, res.rel, drel)  # noqa: E731
                if self.intents.carry_out(intent, move, after="rename.after_ufs"):
                    refresh_fingerprints(self.ms, self.mounts, inode, dst)

    @property
    def pending_intents(self) -> bool:
        return self.intents.pending

    def replay_intents(self) -> int:
        """Roll forward UFS steps recorded before a crash or deferred by UFS errors."""
        return self.intents.replay()

    def touch_parent(self, txn: Txn, parent_id: int) -> None:
        """An entry was added to or removed from the directory: its mtime and ctime
        become now (POSIX)."""
        parent = txn.get_inode(parent_id)
        if parent is not None and parent.id != ROOT_ID:
            stamp = time.time_ns()
            parent.mtime_ms = stamp // 1_000_000
            if parent.attrs is not None:
                a = posix.decode(parent.attrs, True, parent.mtime_ms)
                parent.attrs = replace(a, mtime_ns=stamp, ctime_ns=stamp).to_json()
            txn.update_inode(parent)
