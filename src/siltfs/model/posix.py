"""POSIX metadata of an inode: mode (type and permission bits), owner, times in
nanoseconds, a symlink's target, a device number and extended attributes.

Kept in the metastore as one JSON column (``attrs``) beside the inode's own columns: an
inode that never had any (every inode written before this existed, every entry found in
a UFS) has ``None`` there and gets the defaults of :func:`defaults`; an inode's
``attrs`` is decoded only when someone asks for it, so a listing pays nothing for it.

Files are regular files (``S_IFREG``) unless created as a symlink, FIFO, socket or
device node (:data:`SPECIAL`); those are namespace entries only (length 0, no blocks,
never persisted).
"""

from __future__ import annotations

import base64
import functools
import json
import stat as st
from dataclasses import dataclass, field, replace
from typing import Any

from siltfs.errors import InvalidArgument

DEFAULT_FILE_MODE = 0o644
DEFAULT_DIR_MODE = 0o755
PERMISSION_BITS = 0o7777  # rwx for user/group/other plus setuid, setgid, sticky
SPECIAL = frozenset({st.S_IFLNK, st.S_IFIFO, st.S_IFSOCK, st.S_IFCHR, st.S_IFBLK})
MAX_XATTR_NAME = 255
MAX_XATTR_VALUE = 64 * 1024
MAX_XATTRS_TOTAL = 256 * 1024
MAX_ID = 2**32 - 1
MAX_NS = 2**63 - 1
SYMLINK_MAX = 4095


@dataclass(frozen=True, slots=True)
class PosixAttrs:
    mode: int  # type and permission bits, as st_mode
    uid: int = 0
    gid: int = 0
    atime_ns: int = 0
    mtime_ns: int = 0
    ctime_ns: int = 0
    target: str | None = None  # symlinks
    rdev: int = 0  # device nodes
    xattrs: dict[str, bytes] = field(default_factory=dict)
    # the file's identity across its versions (the inode id of its first one; an
    # overwrite keeps it, as open(O_TRUNC) keeps the inode); None: this inode's own id
    file_id: int | None = None

    @property
    def kind(self) -> int:
        return st.S_IFMT(self.mode)

    @property
    def special(self) -> bool:
        return self.kind in SPECIAL

    def to_json(self) -> str:
        d: dict[str, Any] = {
            "mode": self.mode,
            "uid": self.uid,
            "gid": self.gid,
            "atime_ns": self.atime_ns,
            "mtime_ns": self.mtime_ns,
            "ctime_ns": self.ctime_ns,
        }
        if self.target is not None:
            d["target"] = self.target
        if self.rdev:
            d["rdev"] = self.rdev
        if self.xattrs:
            d["xattrs"] = {k: base64.b64encode(v).decode() for k, v in self.xattrs.items()}
        if self.file_id is not None:
            d["fid"] = self.file_id
        return json.dumps(d, separators=(",", ":"))

    def with_times(self, now_ns: int, *, data: bool = False, access: bool = False) -> PosixAttrs:
        """ctime always; mtime too when the data changed; atime when it was read."""
        return replace(
            self,
            ctime_ns=now_ns,
            mtime_ns=now_ns if data else self.mtime_ns,
            atime_ns=now_ns if access else self.atime_ns,
        )


@dataclass(frozen=True, slots=True)
class Creation:
    """What the creator of a file gives: permission bits (umask applied), owner and
    extended attributes.  Mode and owner apply to a new file only (an overwrite keeps
    those of the file it replaces); *xattrs*, when given, replace the old ones."""

    perm: int | None = None
    uid: int | None = None
    gid: int | None = None
    xattrs: dict[str, bytes] | None = None

    def checked(self, path: str) -> Creation:
        perm = None if self.perm is None else check_mode(self.perm, path)
        xattrs = None if self.xattrs is None else check_xattrs(self.xattrs, path)
        return Creation(
            perm, check_id(self.uid, "uid", path), check_id(self.gid, "gid", path), xattrs
        )


def defaults(is_dir: bool, mtime_ms: int, uid: int = 0, gid: int = 0) -> PosixAttrs:
    """What an inode without stored attributes shows (0755 dirs, 0644 files)."""
    ns = mtime_ms * 1_000_000
    mode = (st.S_IFDIR | DEFAULT_DIR_MODE) if is_dir else (st.S_IFREG | DEFAULT_FILE_MODE)
    return PosixAttrs(mode, uid, gid, ns, ns, ns)


def dir_attrs_in(parent: PosixAttrs, stamp_ms: int) -> PosixAttrs | None:
    """The attrs of a directory made in a directory with *parent*'s: None (the defaults),
    or in a setgid directory its group and the setgid bit (which so passes down the
    tree, as on Linux)."""
    if not parent.mode & st.S_ISGID:
        return None
    a = defaults(True, stamp_ms, 0, parent.gid)
    return replace(a, mode=a.mode | st.S_ISGID)


def decode(raw: str | None, is_dir: bool, mtime_ms: int) -> PosixAttrs:
    if not raw:
        return defaults(is_dir, mtime_ms)
    return _parse(raw)


@functools.lru_cache(maxsize=4096)  # every stat decodes: a mount's getattr, ls (immutable)
def _parse(raw: str) -> PosixAttrs:
    d = json.loads(raw)
    xattrs = {k: base64.b64decode(v) for k, v in d.get("xattrs", {}).items()}
    return PosixAttrs(
        d["mode"],
        d["uid"],
        d["gid"],
        d["atime_ns"],
        d["mtime_ns"],
        d["ctime_ns"],
        d.get("target"),
        d.get("rdev", 0),
        xattrs,
        d.get("fid"),
    )


def check_mode(mode: object, path: str) -> int:
    """Permission bits (0 to 0o7777); a type in the upper bits must match what it is."""
    if not isinstance(mode, int) or isinstance(mode, bool) or not 0 <= mode <= 0o177777:
        raise InvalidArgument(f"mode must be an int from 0 to 0o7777, not {mode!r}", path=path)
    return mode & PERMISSION_BITS


def check_id(value: object, what: str, path: str) -> int | None:
    """A uid or gid; -1 or None means unchanged (as chown(2))."""
    if value is None or value == -1:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise InvalidArgument(f"{what} must be an int from 0 to {MAX_ID} or -1", path=path)
    return value


def check_ns(value: object, what: str, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not -MAX_NS <= value <= MAX_NS:
        raise InvalidArgument(f"{what} must be nanoseconds as an int64, not {value!r}", path=path)
    return value


def check_xattr(name: object, value: object | None, path: str) -> None:
    """A ``user.*`` name (<= 255 bytes) and a bytes value (<= 64 KiB)."""
    if not isinstance(name, str) or not name.startswith("user.") or len(name) <= 5:
        raise InvalidArgument(
            f"extended attribute names start with 'user.', not {name!r}", path=path
        )
    if len(name.encode()) > MAX_XATTR_NAME or "\x00" in name:
        raise InvalidArgument("extended attribute name too long or holds NUL", path=path)
    if value is not None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise InvalidArgument("extended attribute values are bytes", path=path)
        if len(value) > MAX_XATTR_VALUE:
            raise InvalidArgument(
                f"extended attribute value over {MAX_XATTR_VALUE} bytes", path=path
            )


def check_xattrs(xattrs: object, path: str) -> dict[str, bytes]:
    if not isinstance(xattrs, dict):
        raise InvalidArgument("xattrs must be a dict of name to bytes", path=path)
    for name, value in xattrs.items():
        check_xattr(name, value, path)
    out = {k: bytes(v) for k, v in xattrs.items()}
    if sum(len(k) + len(v) for k, v in out.items()) > MAX_XATTRS_TOTAL:
        raise InvalidArgument(f"extended attributes over {MAX_XATTRS_TOTAL} bytes", path=path)
    return out


def check_target(target: object, path: str) -> str:
    if not isinstance(target, str) or not target or "\x00" in target:
        raise InvalidArgument("a symlink target is a non-empty string without NUL", path=path)
    if len(target.encode()) > SYMLINK_MAX:
        raise InvalidArgument(f"symlink target over {SYMLINK_MAX} bytes", path=path)
    return target
