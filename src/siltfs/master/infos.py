"""What stat and ls return: a :class:`FileInfo` built from an inode, its POSIX metadata
and how much of it the block holders have cached."""

from __future__ import annotations

from typing import Protocol

from siltfs.model import paths
from siltfs.model import posix as px
from siltfs.model.inode import FileInfo, Inode


class CachedBytes(Protocol):
    def cached_bytes(self, block_ids: list[int], /) -> int: ...

    def cached_bytes_many(self, block_lists: list[list[int]], /) -> list[int]: ...


def _info(inode: Inode, path: str, name: str, ids: list[int], cached: int) -> FileInfo:
    a = px.decode(inode.attrs, inode.is_dir, inode.mtime_ms)
    length = len(a.target.encode()) if a.target is not None else inode.length
    return FileInfo(
        path,
        name,
        inode.id,
        inode.is_dir,
        length,
        a.mtime_ns / 1e9,
        inode.block_size,
        ids,
        inode.state,
        cached,
        inode.pinned,
        inode.ttl_ms,
        inode.ttl_action,
        inode.generation,
        inode.mount_id is not None or path == paths.ROOT,
        inode.fingerprint,
        a.mode,
        a.uid,
        a.gid,
        2 if inode.is_dir else 1,
        a.atime_ns,
        a.mtime_ns,
        a.ctime_ns,
        a.target,
        a.rdev,
        inode.content_hash,
        inode.created_ms,
        a.file_id or inode.id,
    )


def info(store: CachedBytes, inode: Inode, path: str) -> FileInfo:
    length = inode.length
    if length:  # (hot in ls: empty files and directories skip the block store)
        ids = inode.block_ids()
        cached = store.cached_bytes(ids) * 100 // length
    else:
        ids = []
        cached = 0 if inode.is_dir else 100
    return _info(inode, path, "/" if path == paths.ROOT else inode.name, ids, cached)


def infos(store: CachedBytes, kids: list[Inode], parent: str) -> list[FileInfo]:
    """:func:`info` of each child of the directory at *parent*, with the cached bytes of
    all of them in one block-store call (hot in ls)."""
    prefix = "/" if parent == paths.ROOT else parent + "/"
    ids = [k.block_ids() if k.length else [] for k in kids]
    sized = [b for k, b in zip(kids, ids, strict=True) if k.length]
    cached = iter(store.cached_bytes_many(sized) if sized else ())
    return [
        _info(
            k,
            prefix + k.name,
            k.name,
            b,
            next(cached) * 100 // k.length if k.length else (0 if k.is_dir else 100),
        )
        for k, b in zip(kids, ids, strict=True)
    ]
