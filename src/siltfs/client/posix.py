"""POSIX metadata methods of every client: chmod, chown, utime, extended attributes,
symlinks and special files (:class:`~siltfs.client.base.FileSystem` extends
:class:`PosixMethods`).

Each public method checks its arguments here, once, and hands one operation to the
client's single primitive :meth:`PosixMethods.posix_op` (embedded: the master; remote: the
``POST /api/v1/posix/{op}`` route).  Owners default to the calling process's uid and
gid, new files' permission bits to ``0o666`` less the process's umask.
"""

from __future__ import annotations

import base64
import json
import os
import stat as st
from abc import ABC, abstractmethod
from typing import IO, Any

from siltfs.errors import InvalidArgument
from siltfs.model import paths
from siltfs.model import posix as px
from siltfs.model.inode import FileInfo

__all__ = [
    "POSIX_OPS",
    "PosixMethods",
    "creation",
    "creation_params",
    "decode_value",
    "encode_value",
    "parse_xattrs",
    "process_umask",
]

POSIX_OPS = ("chmod", "chown", "utime", "setxattr", "removexattr", "getxattr", "listxattr", "mknod")


def process_umask() -> int:
    """This process's umask, read without changing it (Linux: /proc/self/status)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    old = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, done once)
    os.umask(old)
    return old


_UMASK = process_umask()


def creation(
    path: str,
    perm: int | None,
    uid: int | None,
    gid: int | None,
    xattrs: dict[str, bytes] | None,
) -> px.Creation:
    """The :class:`~siltfs.model.posix.Creation` of a write, with the caller's defaults."""
    return px.Creation(
        0o666 & ~_UMASK if perm is None else perm,
        os.getuid() if uid is None else uid,
        os.getgid() if gid is None else gid,
        xattrs,
    ).checked(path)


def creation_params(made: px.Creation) -> dict[str, Any]:
    """A :class:`~siltfs.model.posix.Creation` as ``PUT /data`` query parameters."""
    out: dict[str, Any] = {"perm": made.perm, "uid": made.uid, "gid": made.gid}
    if made.xattrs is not None:
        out["xattrs"] = json.dumps({k: encode_value(v) for k, v in made.xattrs.items()})
    return out


def parse_xattrs(text: str | None, path: str) -> dict[str, bytes] | None:
    """The ``xattrs`` query parameter of ``PUT /data`` (JSON: name to base64)."""
    if text is None:
        return None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument("xattrs is not JSON", path=path) from exc
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise InvalidArgument("xattrs is a JSON object of name to base64 value", path=path)
    return {k: decode_value(v, path) for k, v in raw.items()}


def encode_value(value: bytes) -> str:
    return base64.b64encode(value).decode()


def decode_value(text: str, path: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument("extended attribute value is not base64", path=path) from exc


class PosixMethods(ABC):
    @abstractmethod
    def posix_op(self, op: str, path: str, args: dict[str, Any]) -> Any:
        """Carry out *op* (one of :data:`POSIX_OPS`) on the checked *path* with the
        checked JSON-able *args*; mutations return a FileInfo."""

    def chmod(self, path: str, mode: int) -> FileInfo:
        """Set the permission bits (and setuid/setgid/sticky); ctime becomes now."""
        p = paths.validate(path)
        return self.posix_op("chmod", p, {"mode": px.check_mode(mode, p)})  # type: ignore[no-any-return]

    def chown(self, path: str, uid: int = -1, gid: int = -1) -> FileInfo:
        """Set owner and group (-1 leaves one unchanged); clears setuid/setgid of files."""
        p = paths.validate(path)
        args = {"uid": px.check_id(uid, "uid", p), "gid": px.check_id(gid, "gid", p)}
        return self.posix_op("chown", p, args)  # type: ignore[no-any-return]

    def utime(
        self,
        path: str,
        times: tuple[float, float] | None = None,
        *,
        ns: tuple[int, int] | None = None,
    ) -> FileInfo:
        """As :func:`os.utime`: *ns* (atime_ns, mtime_ns) or *times* in seconds, both
        now when neither is given."""
        p = paths.validate(path)
        if times is not None and ns is not None:
            raise InvalidArgument("give times or ns, not both", path=p)
        pair: tuple[Any, Any] = (None, None)
        if ns is not None:
            pair = _pair(ns, p)
        elif times is not None:
            a, m = _pair(times, p)
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, m)):
                raise InvalidArgument("times must be numbers of seconds", path=p)
            pair = (int(a * 1e9), int(m * 1e9))
        args = {
            "atime_ns": px.check_ns(pair[0], "atime_ns", p),
            "mtime_ns": px.check_ns(pair[1], "mtime_ns", p),
        }
        return self.posix_op("utime", p, args)  # type: ignore[no-any-return]

    def setxattr(self, path: str, name: str, value: bytes) -> FileInfo:
        """Set the extended attribute *name* (``user.*``) to *value*."""
        p = paths.validate(path)
        px.check_xattr(name, value, p)
        return self.posix_op("setxattr", p, {"name": name, "value": encode_value(bytes(value))})  # type: ignore[no-any-return]

    def getxattr(self, path: str, name: str) -> bytes:
        """The value of *name*; AttributeNotFound (ENODATA) when it is not set."""
        p = paths.validate(path)
        px.check_xattr(name, None, p)
        return decode_value(self.posix_op("getxattr", p, {"name": name}), p)

    def listxattr(self, path: str) -> list[str]:
        """The names of the entry's extended attributes, sorted."""
        return sorted(self.posix_op("listxattr", paths.validate(path), {}))

    def removexattr(self, path: str, name: str) -> FileInfo:
        p = paths.validate(path)
        px.check_xattr(name, None, p)
        return self.posix_op("removexattr", p, {"name": name})  # type: ignore[no-any-return]

    def symlink(
        self, target: str, path: str, *, uid: int | None = None, gid: int | None = None
    ) -> FileInfo:
        """A symlink at *path* pointing to *target* (stored as given, never resolved by
        siltfs; a namespace entry only, never persisted)."""
        p = paths.validate(path)
        return self._special(p, st.S_IFLNK | 0o777, 0, uid, gid, px.check_target(target, p))

    def readlink(self, path: str) -> str:
        p = paths.validate(path)
        info = self.stat(p)
        if info.target is None:
            raise InvalidArgument("not a symlink", path=p)
        return info.target

    def mknod(
        self,
        path: str,
        mode: int = st.S_IFIFO | 0o600,
        device: int = 0,
        *,
        uid: int | None = None,
        gid: int | None = None,
    ) -> FileInfo:
        """A FIFO, socket or device node (as :func:`os.mknod`), in the namespace only."""
        p = paths.validate(path)
        if not isinstance(mode, int) or isinstance(mode, bool):
            raise InvalidArgument(f"mode must be an int, not {mode!r}", path=p)
        kind = st.S_IFMT(mode) or st.S_IFREG
        if kind not in px.SPECIAL or kind == st.S_IFLNK:
            raise InvalidArgument("mknod makes FIFOs, sockets and device nodes", path=p)
        if not isinstance(device, int) or isinstance(device, bool) or not 0 <= device < 2**63:
            raise InvalidArgument(f"device must be a non-negative int, not {device!r}", path=p)
        return self._special(p, kind | px.check_mode(mode, p), device, uid, gid, None)

    def _special(
        self, p: str, mode: int, rdev: int, uid: int | None, gid: int | None, target: str | None
    ) -> FileInfo:
        args = {
            "mode": mode,
            "rdev": rdev,
            "target": target,
            "uid": os.getuid() if uid is None else px.check_id(uid, "uid", p),
            "gid": os.getgid() if gid is None else px.check_id(gid, "gid", p),
        }
        return self.posix_op("mknod", p, args)  # type: ignore[no-any-return]

    def truncate(self, path: str, size: int) -> FileInfo:
        """Cut the file to *size* bytes, or extend it with zeros (a new version)."""
        p = paths.validate(path)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidArgument(f"size must be a non-negative int, not {size!r}", path=p)
        with self.open(p, "r+b") as f:
            f.truncate(size)
        return self.stat(p)

    @abstractmethod
    def stat(self, path: str, *, sync_interval_ms: int | None = None) -> FileInfo: ...

    @abstractmethod
    def open(self, path: str, mode: str = "rb") -> IO[Any]: ...


def _pair(value: object, path: str) -> tuple[Any, Any]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise InvalidArgument("times are a pair (atime, mtime)", path=path)
    return value[0], value[1]
