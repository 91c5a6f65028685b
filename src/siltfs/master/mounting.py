"""Mount and unmount: the persisted mount table and its mount-point inodes."""

from __future__ import annotations

from typing import Any

from siltfs.errors import (
    FileNotFound,
    InvalidArgument,
    InvalidPath,
    MountError,
    NotADirectory,
    SiltError,
)
from siltfs.master.mount_policy import check_allowed, storage_location
from siltfs.master.names import check_mount_point
from siltfs.master.namespace import PERSISTED, Namespace, now_ms
from siltfs.model import paths
from siltfs.model.enums import PersistenceState
from siltfs.model.inode import ROOT_ID, Inode, MountInfo


def ensure_root_mount(ns: Namespace, uri: str, options: dict[str, Any] | None = None) -> None:
    """Create the root mount on first start; switch its UFS only while the namespace is empty."""
    with ns.lock:
        with ns.ms.snapshot() as txn:
            mounts = txn.list_mounts()
            empty = txn.count_children(ROOT_ID) == 0
        root = next((m for m in mounts if m.path == paths.ROOT), None)
        if root is None:
            with ns.ms.transaction() as txn:
                txn.insert_mount(MountInfo(id=0, path=paths.ROOT, uri=uri, options=options or {}))
        elif root.uri != uri:
            if not empty:
                raise MountError(
                    f"root is already mounted from {root.uri}; the namespace is not empty",
                    path=paths.ROOT,
                )
            root.uri = uri
            root.options = options or {}
            with ns.ms.transaction() as txn:
                txn.update_mount(root)
                inode = txn.get_inode(ROOT_ID)
                assert inode is not None
                inode.sync_ms = None
                txn.update_inode(inode)
        with ns.ms.snapshot() as txn:
            ns.mounts.load(txn.list_mounts())


def mount(
    ns: Namespace,
    path: str,
    uri: str,
    *,
    options: dict[str, Any] | None = None,
    sync_interval_ms: int | None = None,
    read_only: bool = False,
) -> MountInfo:
    if path == paths.ROOT:
        raise MountError("the root is mounted at start (connect(ufs=...))", path=path)
    if not isinstance(uri, str) or not uri:
        raise InvalidArgument("mount URI must be a non-empty string", path=path)
    storage_location(uri)  # chained URLs refused: their location cannot be decided
    check_allowed(ns.config, uri)  # a serving master stays inside its mount roots
    if sync_interval_ms is not None and (
        not isinstance(sync_interval_ms, int) or not -1 <= sync_interval_ms < 2**62
    ):
        raise InvalidArgument("sync interval must be -1, 0 or a positive number of ms", path=path)
    with ns.lock:
        ns.mounts.check_new(path, uri)
        check_mount_point(ns.mounts, ns.config.persist.staging_dir, path)
        ufs = ns.mounts.open(uri, options or {})
        try:
            st = ufs.status("")
        except InvalidPath as exc:  # the store refused its own root (e.g. too long)
            raise InvalidPath(f"cannot mount {uri}: {exc.message}", path=path) from exc
        except SiltError as exc:
            raise MountError(f"cannot reach {uri}: {exc.message}", path=path) from exc
        if st is None or not st.is_dir:
            raise MountError(f"{uri} is not an existing directory", path=path)
        parent_path, name = paths.split(path)
        parent = ns.lookup(parent_path)
        if parent is None:
            raise FileNotFound("parent of the mount point does not exist", path=parent_path)
        if not parent.is_dir:
            raise NotADirectory("parent of the mount point is a file", path=parent_path)
        existing = ns.lookup(path)
        if existing is not None:
            with ns.ms.snapshot() as txn:
                busy = not existing.is_dir or txn.count_children(existing.id) > 0
            if not busy and existing.state is PERSISTED:
                _, parent_ufs, rel = ns.mounts.resolve(path)
                try:
                    busy = bool(parent_ufs.list(rel))  # children never loaded still count
                except FileNotFound:
                    busy = False
            if busy:
                raise MountError("mount point exists and is not an empty directory", path=path)
        info = MountInfo(
            id=0,
            path=path,
            uri=uri,
            options=options or {},
            sync_interval_ms=sync_interval_ms,
            read_only=read_only,
        )
        stamp = now_ms()
        with ns.ms.transaction() as txn:
            info.id = txn.insert_mount(info)
            if existing is None:
                txn.insert_inode(
                    Inode(
                        id=ns.new_id(),
                        parent_id=parent.id,
                        name=name,
                        is_dir=True,
                        state=PERSISTED,
                        created_ms=stamp,
                        mtime_ms=stamp,
                        mount_id=info.id,
                    )
                )
            else:
                existing.mount_id = info.id
                existing.state = PERSISTED
                existing.sync_ms = None
                txn.update_inode(existing)
            mounts = txn.list_mounts()
        ns.mounts.load(mounts)
        return info


def unmount(ns: Namespace, path: str) -> None:
    with ns.exclusive(path):
        info = ns.mounts.at(path)
        if info is None:
            raise MountError("not a mount point", path=path)
        if path == paths.ROOT:
            raise MountError("the root cannot be unmounted", path=path)
        inode = ns.get(path)
        with ns.ms.transaction() as txn:
            subtree = txn.subtree(inode.id)
            unsafe = [
                i
                for i in subtree
                if not i.is_dir
                and i.state in (PersistenceState.NOT_PERSISTED, PersistenceState.TO_BE_PERSISTED)
            ]
            if unsafe:
                raise MountError(
                    f"{len(unsafe)} file(s) under it are not persisted yet; "
                    "wait_persisted() or delete them first",
                    path=path,
                )
            txn.delete_inodes([i.id for i in subtree])
            txn.delete_mount(info.id)
            mounts = txn.list_mounts()
            parent = txn.get_inode(inode.parent_id)
            if parent is not None:  # re-list it: the parent UFS may hold a directory there
                parent.sync_ms = None
                txn.update_inode(parent)
        for node in subtree:
            ns.blocks.remove(node.block_ids())
        ns.mounts.load(mounts)
