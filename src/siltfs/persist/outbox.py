"""The outbox (protocol step 1): completing a written file commits the inode and, for
ASYNC_THROUGH, its persist job (keyed by inode id + generation, never by path) in one
metastore transaction -- after the blocks are on their tier and, for the synchronous
write types, after the staged UFS object has been moved into place (a "placed" intent
covers a stop between that move and the commit).  Crash point ``write.after_commit``."""

from __future__ import annotations

from dataclasses import dataclass

from siltfs import crashpoints
from siltfs.errors import FileExists, InvalidArgument, IsADirectory, StaleVersion, UfsError
from siltfs.master.intents import retrying
from siltfs.master.namespace import PERSISTED, Namespace
from siltfs.master.posix import apply_to_ufs, new_file_attrs, now_ns
from siltfs.model import blockmap, paths
from siltfs.model.enums import PersistenceState, WriteType
from siltfs.model.inode import Inode, block_count, share_blocks
from siltfs.model.posix import Creation
from siltfs.persist.staging import StagingName
from siltfs.persist.sweep import tidy_staging


@dataclass
class NewFile:
    path: str
    inode_id: int
    length: int
    block_size: int
    write_type: WriteType
    exclusive: bool
    staging_rel: str | None = None  # synchronous write types: the staged UFS object
    content_hash: str | None = None
    creation: Creation | None = None  # POSIX metadata from the writer (model.posix)
    # copy-on-write: block index -> id of the version it builds on, for blocks unchanged
    shared: dict[int, int] | None = None


def check_writable_target(ns: Namespace, path: str, exclusive: bool) -> None:
    """Fail early (before any byte is written) if *path* cannot be created."""
    ns.writable(path)
    existing = ns.lookup(path)
    if existing is not None:
        if exclusive:  # (O_CREAT|O_EXCL: EEXIST for any entry, a directory too)
            raise FileExists("already exists", path=path)
        if existing.is_dir:
            raise IsADirectory("is a directory; cannot write a file here", path=path)
    parent_path = paths.split(path)[0]
    parent = ns.lookup(parent_path)
    if parent is not None and not parent.is_dir:
        raise IsADirectory("parent is a file", path=parent_path)


def check_shared(ns: Namespace, new: NewFile, existing: Inode | None, old_ids: list[int]) -> None:
    """A copy-on-write version may share blocks of the version it replaces, or of an
    earlier one an open handle still holds, if they are cached: they are pinned (the new
    version is not persisted yet) before they are checked, and moved to the SSD tier if
    they were in memory only (they must outlive the process, as the new blocks do).
    StaleVersion otherwise."""
    shared = new.shared or {}
    if new.write_type not in (WriteType.MUST_CACHE, WriteType.ASYNC_THROUGH):
        raise InvalidArgument(
            f"a copy-on-write version is cached first (MUST_CACHE or ASYNC_THROUGH), "
            f"not {new.write_type.value}",
            path=new.path,
        )
    count = block_count(new.length, new.block_size)
    if not blockmap.within(shared, count):
        raise InvalidArgument(f"shared block index beyond the {count} blocks", path=new.path)
    ids = list(shared.values())
    same_blocks = existing is not None and existing.block_size == new.block_size
    own = set(old_ids) if same_blocks else set()
    # the replaced version's blocks are pinned, on the SSD tier, while it is unpersisted
    # (or pinned): only the others need checking (a change to a large file stays cheap)
    settled = existing is not None and (existing.state is not PERSISTED or existing.pinned)
    check = [b for b in ids if b not in own] if settled else ids
    ns.blocks.pin(check)
    held = ns.blocks.held(b for b in check if b not in own)
    gone = [b for b in check if (b not in own and b not in held) or not ns.blocks.contains(b)]
    if not gone:  # kept blocks cached in memory only would not survive a restart
        for b in check:
            data = ns.blocks.get(b) if ns.blocks.tier_of(b) == "MEM" else None
            if data is not None:
                ns.blocks.put(b, data, durable=new.write_type is WriteType.ASYNC_THROUGH, ssd=True)
        return
    if existing is not None and existing.state is PERSISTED and not existing.pinned:
        ns.blocks.unpin([b for b in ids if b in own])
    raise StaleVersion(
        f"{len(gone)} unchanged block(s) of the version this change builds on are gone "
        "(replaced by another writer, or evicted); nothing was committed",
        path=new.path,
    )


def commit_file(ns: Namespace, new: NewFile) -> Inode:
    wt = new.write_type
    with ns.exclusive(new.path):
        ns.writable(new.path)  # the whole path, before any missing parent is made
        parent_path, name = paths.split(new.path)
        parent = ns.ensure_dir(parent_path, create=True, write_type=wt)
        existing = ns.lookup(new.path)
        if existing is not None and new.exclusive:
            raise FileExists("already exists", path=new.path)
        if existing is not None and existing.is_dir:
            raise IsADirectory("is a directory; cannot write a file here", path=new.path)
        old_ids = existing.block_ids() if existing is not None else []
        if new.shared:
            check_shared(ns, new, existing, old_ids)
        mount, ufs, rel = ns.writable(new.path)
        stamp_ns = now_ns()
        stamp = stamp_ns // 1_000_000
        inode = Inode(
            id=new.inode_id,
            parent_id=parent.id,
            name=name,
            is_dir=False,
            length=new.length,
            block_size=new.block_size,
            state=PersistenceState.NOT_PERSISTED,
            created_ms=stamp,
            mtime_ms=stamp,
            content_hash=new.content_hash,
            attrs=new_file_attrs(existing, new.creation or Creation(), stamp_ns, parent),
        )
        if new.shared:
            share_blocks(inode, new.shared)
        placed = None
        if wt.persists_sync:
            assert new.staging_rel is not None
            ns.persist_dirs(parent_path)
            with ns.ms.transaction() as txn:  # if we stop between the move and the commit,
                placed = txn.insert_intent("placed", mount.id, rel, None, stamp)  # re-read rel
            apply_to_ufs(ufs, new.staging_rel, inode)
            try:
                ufs.move(new.staging_rel, rel)
            except BaseException:
                ns.intents.settle_placed(placed)
                raise
            placed_name = StagingName.parse(new.staging_rel)
            if placed_name is not None:  # the object is placed: nothing to sweep
                ns.active_staging.discard(placed_name.token)
            try:
                st = retrying(lambda: ufs.status(rel))
            except UfsError:
                st = None  # fingerprint unknown: the next sync or check records it
            inode.state = PERSISTED
            inode.fingerprint = st.fingerprint if st else None
        elif wt is WriteType.ASYNC_THROUGH:
            inode.state = PersistenceState.TO_BE_PERSISTED
        drop_old_ufs = existing is not None and existing.state is PERSISTED and not wt.persists_sync
        with ns.ms.transaction() as txn:
            if existing is not None:
                txn.delete_inodes([existing.id])
            else:
                ns.touch_parent(txn, parent.id)
            txn.insert_inode(inode)
            if wt is WriteType.ASYNC_THROUGH:
                txn.insert_job(inode.id, inode.generation, stamp)
            intent = (
                txn.insert_intent("delete", mount.id, rel, None, stamp) if drop_old_ufs else None
            )
            if placed is not None:
                txn.delete_intent(placed)
        crashpoints.reach("write.after_commit")
        if new.shared:
            ns.blocks.adopt(new.shared.values())
        if existing is not None:
            kept = set(new.shared.values()) if new.shared else set()
            ns.blocks.remove([b for b in old_ids if b not in kept])
        if intent is not None:  # retried; deferred to maintenance if the UFS stays down
            ns.intents.carry_out(intent, lambda: ufs.delete(rel))
    if inode.state is PERSISTED and not inode.pinned:
        ns.blocks.unpin(inode.block_ids())
    if wt.persists_sync:
        tidy_staging(ns, ufs)
    return inode
