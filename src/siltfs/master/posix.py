"""POSIX metadata operations of the namespace: chmod, chown, utime, extended attributes,
symlinks and special files (FIFOs, sockets, device nodes).

Metadata lives in the inode's ``attrs`` (:mod:`siltfs.model.posix`); changing it is one
metastore transaction under the namespace lock and never touches the UFS.  Symlinks and
special files are namespace entries only: length 0, no blocks, NOT_PERSISTED, never
given a persist job (:func:`is_special`).
"""

from __future__ import annotations

import base64
import logging
import stat as st
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from siltfs.errors import AttributeNotFound, FileExists, InvalidArgument, NotADirectory, SiltError
from siltfs.master.namespace import Namespace
from siltfs.model import paths
from siltfs.model import posix as px
from siltfs.model.enums import PersistenceState
from siltfs.model.inode import Inode
from siltfs.ufs.abc import StoredAttrs, UnderFileSystem

log = logging.getLogger("siltfs.master")


def now_ns() -> int:
    return time.time_ns()


def attrs_of(inode: Inode) -> px.PosixAttrs:
    return px.decode(inode.attrs, inode.is_dir, inode.mtime_ms)


def is_special(inode: Inode) -> bool:
    """A symlink, FIFO, socket or device node: never persisted."""
    return inode.attrs is not None and not inode.is_dir and attrs_of(inode).special


def apply_to_ufs(ufs: UnderFileSystem, rel: str, inode: Inode) -> None:
    """Give the staged object of *inode* its permission bits and mtime where the UFS
    keeps them (before it is moved into place, so the fingerprint recorded after the move
    already includes them).  Best effort: a failure is logged, the data still commits."""
    if inode.attrs is None:
        return
    a = attrs_of(inode)
    try:
        ufs.set_attributes(rel, StoredAttrs(a.mode & px.PERMISSION_BITS, a.uid, a.gid, a.mtime_ns))
    except SiltError as exc:
        log.warning("could not set mode and mtime of %s: %s", rel, exc)


def _update(ns: Namespace, path: str, change: Callable[[px.PosixAttrs], px.PosixAttrs]) -> Inode:
    with ns.exclusive(path):
        inode = ns.get(path)
        with ns.ms.transaction() as txn:
            fresh = txn.get_inode(inode.id)
            if fresh is None:  # deleted between the lookup and the transaction
                fresh = inode
            new = change(attrs_of(fresh))
            fresh.attrs = new.to_json()
            fresh.mtime_ms = new.mtime_ns // 1_000_000
            txn.update_inode(fresh)
        return fresh


def chmod(ns: Namespace, path: str, mode: int) -> Inode:
    bits = px.check_mode(mode, path)
    stamp = now_ns()
    return _update(ns, path, lambda a: replace(a, mode=a.kind | bits).with_times(stamp))


def chown(ns: Namespace, path: str, uid: int | None, gid: int | None) -> Inode:
    new_uid = px.check_id(uid, "uid", path)
    new_gid = px.check_id(gid, "gid", path)
    stamp = now_ns()

    def change(a: px.PosixAttrs) -> px.PosixAttrs:
        mode = a.mode
        if not st.S_ISDIR(mode):  # as Linux does, for chown(path, -1, -1) too
            mode &= ~(st.S_ISUID | (st.S_ISGID if mode & st.S_IXGRP else 0))
        return replace(
            a,
            mode=mode,
            uid=a.uid if new_uid is None else new_uid,
            gid=a.gid if new_gid is None else new_gid,
        ).with_times(stamp)

    return _update(ns, path, change)


def utime(ns: Namespace, path: str, atime_ns: int | None, mtime_ns: int | None) -> Inode:
    """Set access and modification times (None: now); ctime becomes now."""
    a_ns = px.check_ns(atime_ns, "atime_ns", path)
    m_ns = px.check_ns(mtime_ns, "mtime_ns", path)
    stamp = now_ns()
    return _update(
        ns,
        path,
        lambda a: replace(
            a,
            atime_ns=stamp if a_ns is None else a_ns,
            mtime_ns=stamp if m_ns is None else m_ns,
            ctime_ns=stamp,
        ),
    )


def set_xattr(ns: Namespace, path: str, name: str, value: bytes) -> Inode:
    px.check_xattr(name, value, path)
    stamp = now_ns()

    def change(a: px.PosixAttrs) -> px.PosixAttrs:
        xattrs = px.check_xattrs({**a.xattrs, name: bytes(value)}, path)
        return replace(a, xattrs=xattrs).with_times(stamp)

    return _update(ns, path, change)


def remove_xattr(ns: Namespace, path: str, name: str) -> Inode:
    px.check_xattr(name, None, path)
    stamp = now_ns()

    def change(a: px.PosixAttrs) -> px.PosixAttrs:
        if name not in a.xattrs:
            raise AttributeNotFound(f"no extended attribute {name!r}", path=path)
        return replace(a, xattrs={k: v for k, v in a.xattrs.items() if k != name}).with_times(stamp)

    return _update(ns, path, change)


def get_xattr(ns: Namespace, path: str, name: str) -> bytes:
    px.check_xattr(name, None, path)
    value = attrs_of(ns.get(path)).xattrs.get(name)
    if value is None:
        raise AttributeNotFound(f"no extended attribute {name!r}", path=path)
    return value


def make_special(
    ns: Namespace,
    path: str,
    kind: int,
    *,
    perm: int,
    uid: int,
    gid: int,
    target: str | None = None,
    rdev: int = 0,
) -> Inode:
    """A symlink (*target*), FIFO, socket or device node at *path*, in the namespace only."""
    if kind not in px.SPECIAL:
        raise InvalidArgument(f"not a special file type: {kind:o}", path=path)
    bits = px.check_mode(perm, path)
    with ns.exclusive(path):
        if ns.lookup(path) is not None:
            raise FileExists("already exists", path=path)
        parent_path, name = paths.split(path)
        parent = ns.get(parent_path)
        if not parent.is_dir:
            raise NotADirectory("parent is not a directory", path=parent_path)
        ns.writable(path, new_name=True)
        stamp_ns = now_ns()
        stamp = stamp_ns // 1_000_000
        gid = group_of_new_entry(parent, gid) or 0
        attrs = px.PosixAttrs(kind | bits, uid, gid, stamp_ns, stamp_ns, stamp_ns, target, rdev)
        inode = Inode(
            id=ns.new_id(),
            parent_id=parent.id,
            name=name,
            is_dir=False,
            state=PersistenceState.NOT_PERSISTED,
            created_ms=stamp,
            mtime_ms=stamp,
            attrs=attrs.to_json(),
        )
        with ns.ms.transaction() as txn:
            txn.insert_inode(inode)
            ns.touch_parent(txn, parent.id)
        return inode


def group_of_new_entry(parent: Inode, gid: int | None) -> int | None:
    """The group a new entry in *parent* gets: the directory's if it is setgid (as on
    Linux, whoever creates it), else *gid* (the creator's)."""
    if parent.attrs is None:
        return gid
    a = attrs_of(parent)
    return a.gid if a.mode & st.S_ISGID else gid


def new_file_attrs(
    existing: Inode | None, creation: px.Creation, stamp_ns: int, parent: Inode | None = None
) -> str | None:
    """The attrs of a file written over *existing* (or new, in *parent*), from the
    writer's :class:`~siltfs.model.posix.Creation`; mtime and ctime become now."""
    c = creation
    if existing is None and parent is not None:
        c = replace(c, gid=group_of_new_entry(parent, c.gid))
    if existing is None and c.perm is None and c.uid is None and c.gid is None and not c.xattrs:
        return None
    if existing is not None:
        base = attrs_of(existing)
        if base.special:  # a symlink or FIFO replaced by a regular file: a new file
            base = px.defaults(False, stamp_ns // 1_000_000, base.uid, base.gid)
        else:  # the same file's next version
            base = replace(base, file_id=base.file_id or existing.id)
    else:
        base = px.defaults(False, stamp_ns // 1_000_000, c.uid or 0, c.gid or 0)
        if c.perm is not None:
            base = replace(base, mode=st.S_IFREG | (c.perm & px.PERMISSION_BITS))
    return replace(
        base,
        xattrs=base.xattrs if c.xattrs is None else c.xattrs,
        mtime_ns=stamp_ns,
        ctime_ns=stamp_ns,
        atime_ns=stamp_ns if existing is None else base.atime_ns,
    ).to_json()


def apply(ns: Namespace, op: str, path: str, args: dict[str, Any]) -> Inode | bytes | list[str]:
    """One operation of :data:`siltfs.client.posix.POSIX_OPS` on *path* (arguments
    already checked by the client; checked again where a wrong one could be stored)."""
    if op == "chmod":
        return chmod(ns, path, args["mode"])
    if op == "chown":
        return chown(ns, path, args.get("uid"), args.get("gid"))
    if op == "utime":
        return utime(ns, path, args.get("atime_ns"), args.get("mtime_ns"))
    if op == "setxattr":
        return set_xattr(ns, path, args["name"], _b64(args["value"], path))
    if op == "removexattr":
        return remove_xattr(ns, path, args["name"])
    if op == "getxattr":
        return get_xattr(ns, path, args["name"])
    if op == "listxattr":
        return sorted(attrs_of(ns.get(path)).xattrs)
    if op == "mknod":
        mode = px.check_mode(args["mode"], path) | st.S_IFMT(args["mode"])
        uid = px.check_id(args.get("uid"), "uid", path) or 0
        gid = px.check_id(args.get("gid"), "gid", path) or 0
        target = args.get("target")
        if st.S_ISLNK(mode):
            target = px.check_target(target, path)
        return make_special(
            ns,
            path,
            st.S_IFMT(mode),
            perm=mode & px.PERMISSION_BITS,
            uid=uid,
            gid=gid,
            target=target,
            rdev=int(args.get("rdev") or 0),
        )
    raise InvalidArgument(f"unknown POSIX operation {op!r}", path=path)


def _b64(text: object, path: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument("extended attribute value is not base64", path=path) from exc
