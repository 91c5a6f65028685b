"""Metadata sync: reconcile one namespace directory with its UFS listing (and the UFS
reads namespace changes need: entries written outside siltfs under a subtree about to be
deleted, fingerprints of a moved subtree).

New UFS entries are imported (PERSISTED); persisted entries that vanished from the UFS
are removed (a directory that still holds unpersisted data is kept and marked
NOT_PERSISTED, so nothing acknowledged is lost); a file whose UFS fingerprint changed
gets its new length and fingerprint, and its cached blocks are dropped so the old bytes
are never served again.  Entries siltfs has not persisted yet are left alone.  Imported
entries get 0644/0755 and the configured owner (``import_uid``/``import_gid``), or what a
UFS that keeps POSIX attributes (S3 user metadata) stored with the file.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from siltfs.errors import FileNotFound, UfsError
from siltfs.master.cluster import Cluster
from siltfs.master.intents import retrying
from siltfs.master.mounts import MountTable
from siltfs.metastore.abc import Metastore, Txn
from siltfs.model import paths, posix
from siltfs.model.enums import PersistenceState
from siltfs.model.inode import Inode
from siltfs.ufs.abc import StoredAttrs, UfsStatus

PERSISTED = PersistenceState.PERSISTED


@dataclass(frozen=True)
class Importing:
    """How entries found in the UFS are imported: the owner they get (``import_uid``,
    ``import_gid``) and the attributes the UFS stored with some files, by name."""

    uid: int = 0
    gid: int = 0
    stored: dict[str, StoredAttrs] = field(default_factory=dict)

    def attrs(self, st: UfsStatus, mtime_ms: int) -> str | None:
        """The ``attrs`` of an imported entry: defaults (0644/0755) with the configured
        owner, overridden by what the UFS stored; None when that is all defaults."""
        got = self.stored.get(st.name) if not st.is_dir else None
        if got is None and not (self.uid or self.gid):
            return None
        base = posix.defaults(st.is_dir, mtime_ms, self.uid, self.gid)
        if got is not None:
            mode = base.mode if got.mode is None else stat.S_IFMT(base.mode) | (got.mode & 0o7777)
            mtime_ns = base.mtime_ns if got.mtime_ns is None else got.mtime_ns
            base = replace(
                base,
                mode=mode,
                uid=base.uid if got.uid is None else got.uid,
                gid=base.gid if got.gid is None else got.gid,
                mtime_ns=mtime_ns,
                atime_ns=mtime_ns,
                ctime_ns=mtime_ns,
            )
        return base.to_json()


def import_inode(
    new_id: int,
    parent_id: int,
    st: UfsStatus,
    block_size: int,
    now_ms: int,
    importing: Importing | None = None,
) -> Inode:
    mtime = int((st.mtime or now_ms / 1000) * 1000)
    return Inode(
        id=new_id,
        parent_id=parent_id,
        name=st.name,
        is_dir=st.is_dir,
        length=st.size,
        block_size=block_size,
        state=PERSISTED,
        created_ms=mtime,
        mtime_ms=mtime,
        fingerprint=None if st.is_dir else st.fingerprint,
        attrs=(importing or Importing()).attrs(st, mtime),
    )


def apply_listing(
    txn: Txn,
    directory: Inode,
    listing: list[UfsStatus] | None,
    *,
    hidden: set[str],
    block_size: int,
    now_ms: int,
    store: Cluster,
    allocate: Callable[[], int],
    importing: Importing | None = None,
) -> bool:
    """Reconcile *directory*'s children with *listing* (None: the UFS directory is gone).

    Returns True if anything changed.
    """
    changed = False
    ufs = {st.name: st for st in (listing or []) if st.name not in hidden}
    for child in txn.list_children(directory.id):
        if child.mount_id is not None or child.state is not PERSISTED:
            ufs.pop(child.name, None)
            continue
        st = ufs.pop(child.name, None)
        if st is None or st.is_dir != child.is_dir:
            _vanished(txn, child, store)
            changed = True
            if st is not None:  # type changed: re-import below
                ufs[child.name] = st
            continue
        if not child.is_dir and child.fingerprint is None and st.size == child.length:
            child.fingerprint = st.fingerprint  # committed while the UFS could not say
            txn.update_inode(child)
        elif not child.is_dir and st.fingerprint != child.fingerprint:
            # new content is a new inode (as an overwrite is): block ids derive from the
            # inode id, so no cached block or reader of the old bytes can meet the new
            store.remove(child.block_ids())
            txn.delete_inodes([child.id])
            txn.insert_inode(
                replace(
                    child,
                    id=allocate(),
                    length=st.size,
                    fingerprint=st.fingerprint,
                    content_hash=None,
                    mtime_ms=int((st.mtime or now_ms / 1000) * 1000),
                    generation=child.generation + 1,
                )
            )
            changed = True
    for st in ufs.values():
        txn.insert_inode(import_inode(allocate(), directory.id, st, block_size, now_ms, importing))
        changed = True
    directory.sync_ms = now_ms
    txn.update_inode(directory)
    return changed


def _vanished(txn: Txn, inode: Inode, store: Cluster) -> None:
    """A persisted entry is gone from the UFS: drop what was only a copy of it."""
    subtree = txn.subtree(inode.id)
    by_id = {i.id: i for i in subtree}
    keep: set[int] = set()
    for node in subtree:
        if not node.is_dir and node.state is not PERSISTED:
            parent = node.id
            while parent in by_id and parent not in keep:
                keep.add(parent)
                if parent == inode.id:
                    break
                parent = by_id[parent].parent_id
    drop = [i for i in subtree if i.id not in keep]
    for node in drop:
        store.remove(node.block_ids())
    txn.delete_inodes([i.id for i in drop])
    for node in subtree:
        if node.id in keep and node.is_dir and node.state is PERSISTED:
            node.state = PersistenceState.NOT_PERSISTED
            node.sync_ms = None
            txn.update_inode(node)


def unknown_entries(
    mounts: MountTable, staging_dir: str, subtree: list[Inode], path: str
) -> list[str]:
    """UFS entries under loaded, persisted directories of *subtree* (``subtree[0]`` at
    *path*, parents before children) that the namespace has no inode for: written
    outside siltfs since the last listing."""
    by_id = {subtree[0].id: path}
    kids: dict[int, set[str]] = {}
    for node in subtree[1:]:
        parent = by_id.get(node.parent_id)
        if parent is not None:
            by_id[node.id] = paths.join(parent, node.name)
        kids.setdefault(node.parent_id, set()).add(node.name)
    unknown: list[str] = []
    for node in subtree:
        if not node.is_dir or node.state is not PersistenceState.PERSISTED or node.sync_ms is None:
            continue
        dir_path = by_id[node.id]
        _, ufs, rel = mounts.resolve(dir_path)
        try:
            listing = retrying(lambda: ufs.list(rel))  # noqa: B023 - called at once
        except FileNotFound:
            continue
        hidden = {staging_dir} if rel == "" else set()
        known = kids.get(node.id, set())
        unknown += [
            paths.join(dir_path, st.name)
            for st in listing
            if st.name not in known and st.name not in hidden
        ]
    return sorted(unknown)


def refresh_fingerprints(ms: Metastore, mounts: MountTable, inode: Inode, path: str) -> None:
    """Re-read the UFS fingerprints of a persisted subtree just moved to *path* (object
    stores copy, which changes them); local directories keep theirs."""
    _, ufs, rel = mounts.resolve(path)
    if getattr(ufs, "local", False):
        return
    pending = [(inode, rel)]
    while pending:
        node, node_rel = pending.pop()
        if not node.is_dir:
            try:
                st = retrying(lambda: ufs.status(node_rel))  # noqa: B023 - called at once
                fingerprint = st.fingerprint if st is not None else node.fingerprint
            except UfsError:  # the rename is done: unknown, learned at the next sync
                fingerprint = None
            if fingerprint != node.fingerprint:
                with ms.transaction() as txn:
                    fresh = txn.get_inode(node.id)
                    if fresh is not None:
                        fresh.fingerprint = fingerprint
                        txn.update_inode(fresh)
            continue
        with ms.snapshot() as txn:
            kids = txn.list_children(node.id)
        for kid in kids:
            if kid.state is PersistenceState.PERSISTED:
                pending.append((kid, f"{node_rel}/{kid.name}" if node_rel else kid.name))
