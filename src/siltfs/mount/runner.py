"""Mounting and unmounting: checks on the mount point, stale mounts, the FUSE loop.

Binding: mfusepy (ctypes over libfuse3; fusepy's maintained successor), high-level
path API, multi-threaded.  Chosen over pyfuse3 because siltfs's clients are
synchronous (pyfuse3 is trio-async and would push every call through a thread) and
because it needs no compiler; see docs/DESIGN.md for the measurement still owed.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from typing import Any

from siltfs.errors import InvalidArgument, MountError

FUSE_HINT = "install FUSE 3: apt-get install fuse3 (and /dev/fuse must exist)"


def _mount_table() -> set[str]:
    try:
        with open("/proc/self/mounts") as f:
            return {line.split()[1].replace("\\040", " ") for line in f if line.strip()}
    except OSError:
        return set()


def is_mounted(mountpoint: str) -> bool:
    return os.path.realpath(mountpoint) in _mount_table()


def unmount(mountpoint: str, *, lazy: bool = False) -> None:
    """``fusermount3 -u`` (``-z``: lazily, for a stale mount), else ``umount -l``."""
    tool = shutil.which("fusermount3") or shutil.which("fusermount")
    args = [tool, "-u", *(["-z"] if lazy else []), mountpoint] if tool else None
    if args is not None:
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode == 0:
            return
        reason = done.stderr.strip()
    else:
        reason = "fusermount3 not found"
    done = subprocess.run(["umount", "-l", mountpoint], capture_output=True, text=True)
    if done.returncode != 0:
        raise MountError(f"cannot unmount: {reason or done.stderr.strip()}", path=mountpoint)


def check_mountpoint(mountpoint: str, *, nonempty: bool = False) -> str:
    """The mount point's real path, after the checks; a stale siltfs mount (its process
    killed: ENOTCONN) is cleaned up first."""
    path = os.path.abspath(mountpoint)
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOTCONN:  # a mount whose process died
            unmount(path, lazy=True)
        elif exc.errno == errno.ENOENT:
            raise InvalidArgument("mount point does not exist", path=path) from exc
        else:
            raise MountError(f"mount point unusable: {exc.strerror}", path=path) from exc
    if not os.path.isdir(path):
        raise InvalidArgument("mount point is not a directory", path=path)
    if is_mounted(path):
        raise MountError("already mounted (silt umount it first)", path=path)
    if not nonempty and os.listdir(path):
        raise InvalidArgument("mount point is not empty", path=path)
    if not os.path.exists("/dev/fuse"):
        raise MountError(f"FUSE is not available: /dev/fuse is missing; {FUSE_HINT}", path=path)
    return os.path.realpath(path)


def load_binding() -> Any:
    try:
        import mfusepy
    except (ImportError, OSError) as exc:  # OSError: libfuse3 not found by ctypes
        raise MountError(f"FUSE is not available ({exc}); {FUSE_HINT}") from exc
    return mfusepy


UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2


def _timespec(ts: Any) -> int | str | None:
    if ts.tv_nsec == UTIME_NOW:
        return None
    if ts.tv_nsec == UTIME_OMIT:
        return "omit"
    return int(ts.tv_sec) * 1_000_000_000 + int(ts.tv_nsec)


def run(ops: Any, mountpoint: str, options: dict[str, Any]) -> None:
    """Serve *ops* on *mountpoint* until it is unmounted (blocks)."""
    mfusepy = load_binding()

    class SiltFUSE(mfusepy.FUSE):  # type: ignore[misc, name-defined]
        """Passes on what mfusepy drops: rename's flags (RENAME_NOREPLACE,
        RENAME_EXCHANGE), the handle of ftruncate/fchmod/fchown/futimens, and
        ``keep_cache`` at open (ops.keep_cache)."""

        def _path(self, path: bytes | None, fip: Any) -> str:
            if path is not None:
                return path.decode(self.encoding, self.errors)
            if not fip:
                raise mfusepy.FuseOSError(errno.EBADF)
            return str(ops.path_of(fip.contents.fh))

        def open(self, path: bytes, fip: Any) -> int:
            """As mfusepy's, and keep the kernel's cached pages of an unchanged file."""
            fi = fip.contents
            fi.fh = ops.open(path.decode(self.encoding, self.errors), fi.flags)
            fi.keep_cache = int(ops.keep_cache(fi.fh))
            return 0

        def rename_fuse_3(self, old: bytes, new: bytes, flags: int) -> int:
            return int(ops.rename(old.decode(), new.decode(), flags) or 0)

        def truncate_fuse_3(self, path: bytes | None, length: int, fip: Any) -> int:
            fh = fip.contents.fh if fip else None
            return int(ops.truncate(None if path is None else path.decode(), length, fh) or 0)

        def chmod_fuse_3(self, path: bytes | None, mode: int, fip: Any) -> int:
            return int(ops.chmod(self._path(path, fip), mode) or 0)

        def chown_fuse_3(self, path: bytes | None, uid: int, gid: int, fip: Any) -> int:
            real = self._path(path, fip).encode(self.encoding, self.errors)
            return int(self._chown(real, uid, gid) or 0)

        def utimens_fuse_3(self, path: bytes | None, buf: Any, fip: Any) -> int:
            """With UTIME_NOW (None: now) and UTIME_OMIT (kept), which mfusepy reads as
            times."""
            real = self._path(path, fip)
            if not buf:
                return int(ops.utimens(real, None) or 0)
            pair = [_timespec(buf.contents.actime), _timespec(buf.contents.modtime)]
            return int(ops.utimens(real, tuple(pair)) or 0)

    try:
        SiltFUSE(ops, mountpoint, **options)
    except RuntimeError as exc:  # libfuse's status; its reason went to stderr
        if getattr(ops, "started", False):
            return  # stopped by SIGTERM/SIGINT/SIGHUP after serving: unmounted cleanly
        raise MountError(f"FUSE could not mount (libfuse status {exc})", path=mountpoint) from exc
