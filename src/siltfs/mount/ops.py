"""The FUSE operations of ``silt mount``, over either client (embedded or remote),
through its public methods only.

Paths come from libfuse's high-level API (mfusepy), already resolved: the kernel
follows symlinks itself, so siltfs never resolves one (and so none can lead out of the
mount).  Every siltfs error becomes its errno (:func:`errno_of`); open files and their
spools are :mod:`siltfs.mount.files`.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat as st
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import mfusepy

from siltfs import errors
from siltfs.client.base import FileSystem
from siltfs.model.enums import WriteType
from siltfs.model.inode import FileInfo
from siltfs.model.posix import Creation
from siltfs.mount.files import OpenFile, PageCacheVersions, stat_dict

log = logging.getLogger("siltfs.mount")
F = TypeVar("F", bound=Callable[..., Any])
LATER = frozenset({WriteType.MUST_CACHE, WriteType.ASYNC_THROUGH})  # nothing in the UFS yet
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
XATTR_CREATE, XATTR_REPLACE = 1, 2
STATE_XATTR, CACHED_XATTR = "user.silt.state", "user.silt.cached"
ERRNO = {
    errors.NameTooLong: errno.ENAMETOOLONG, errors.InvalidPath: errno.EINVAL, errors.WrongType: errno.EINVAL,
    errors.InvalidArgument: errno.EINVAL, errors.Unauthenticated: errno.EACCES,
    errors.PersistTimeout: errno.ETIMEDOUT, errors.Unavailable: errno.EIO,
    errors.JobNotFound: errno.ENOENT,
}  # fmt: skip


def errno_of(exc: BaseException) -> int:
    """The errno a siltfs (or OS) error means to a program."""
    for cls, code in ERRNO.items():
        if isinstance(exc, cls):
            return code
    if isinstance(exc, OSError) and isinstance(exc.errno, int) and exc.errno > 0:
        return exc.errno
    return errno.EIO


def translated(func: F) -> F:
    """Run an operation; a siltfs error becomes ``FuseOSError(errno)``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except mfusepy.FuseOSError:
            raise
        except (errors.SiltError, OSError) as exc:
            code = errno_of(exc)
            if code not in (errno.ENOENT, errno.ENODATA, errno.EEXIST, errno.ENOTEMPTY):
                log.info("%s%s: %s", func.__name__, args[1:2], exc)
            raise mfusepy.FuseOSError(code) from exc

    return wrapper  # type: ignore[return-value]


def _fail(code: int) -> mfusepy.FuseOSError:
    return mfusepy.FuseOSError(code)


class SiltOperations(mfusepy.Operations):  # type: ignore[misc]
    use_ns = True
    # libfuse passes a NULL path for an unlinked open file (hard_remove): handles go on
    flag_nullpath_ok = True
    flag_nopath = True

    def __init__(
        self, fs: FileSystem, *, write_type: str, read_type: str | None, spool_dir: str,
        read_only: bool = False,
    ) -> None:  # fmt: skip
        self.fs = fs
        self.write_type = write_type
        self.read_type = read_type
        self.read_only = read_only
        self.spool_dir = spool_dir
        self._lock = threading.Lock()
        self._files: dict[str, OpenFile] = {}  # path -> state, while handles are open
        self._handles: dict[int, tuple[OpenFile, int, Any]] = {}  # fh -> (state, flags, reader)
        self.started = False
        self._dirs: dict[int, str] = {}  # fh -> path of an open directory
        self._next_fh = 1
        self._page_cache = PageCacheVersions()
        self._keep: dict[int, bool] = {}  # fh -> keep the kernel's cached pages (open)

    # helpers ----------------------------------------------------------------------
    def _caller(self) -> tuple[int, int]:
        uid, gid, _pid = mfusepy.fuse_get_context()
        return uid, gid

    def _writable(self) -> None:
        if self.read_only:
            raise _fail(errno.EROFS)

    def _state(self, path: str, size: int) -> OpenFile:
        with self._lock:
            state = self._files.get(path)
            if state is None:
                state = OpenFile(self.fs, path, size, self.spool_dir, self.write_type)
                self._files[path] = state
            state.handles += 1
            return state

    def _new_handle(self, state: OpenFile, flags: int) -> int:
        with self._lock:
            fh = self._next_fh
            self._next_fh += 1
            self._handles[fh] = (state, flags, None)
            return fh

    def _handle(self, fh: int) -> tuple[OpenFile, int, Any]:
        try:
            return self._handles[fh]
        except KeyError:
            raise _fail(errno.EBADF) from None

    def _open_state(self, path: str) -> OpenFile | None:
        with self._lock:
            return self._files.get(path)

    def _detach(self, path: str) -> None:
        """*path* is about to be unlinked or replaced: its open handles keep the content."""
        state = self._open_state(path)
        if state is not None:
            with state.lock:
                state.attrs = stat_dict(self.fs.stat(path))
                state.detach()
            with self._lock:
                if self._files.get(path) is state:
                    del self._files[path]

    def _moved(self, old: str, new: str) -> None:
        with self._lock:
            for path in list(self._files):
                if path == old or path.startswith(old + "/"):
                    state = self._files.pop(path)
                    state.path = new + path[len(old) :]
                    self._files[state.path] = state
            for fh, path in list(self._dirs.items()):
                if path == old or path.startswith(old + "/"):
                    self._dirs[fh] = new + path[len(old) :]

    # attributes -------------------------------------------------------------------
    def path_of(self, fh: int) -> str:
        """The current path of an open handle (EBADF if unknown, ENOENT if unlinked)."""
        state = self._handle(fh)[0]
        if state.orphaned:
            raise _fail(errno.ENOENT)
        return state.path

    @translated
    def getattr(self, path: str | None, fh: int | None = None) -> dict[str, Any]:
        if fh is not None:
            held = self._handle(fh)[0]
            if held.orphaned:  # fstat of an unlinked file
                return {**held.attrs, "st_size": held.size, "st_nlink": 0,
                        "st_blocks": (held.size + 511) // 512}  # fmt: skip
            path = held.path
        assert path is not None
        attrs = stat_dict(self.fs.stat(path))
        state = self._open_state(path)
        if state is not None and state.spooled:  # this mount's writes, not yet committed
            attrs["st_size"] = state.size
            attrs["st_blocks"] = (state.size + 511) // 512
            if state.mtime_ns:
                attrs["st_mtime"] = attrs["st_ctime"] = state.mtime_ns
        return attrs

    @translated
    def chmod(self, path: str, mode: int) -> int:
        self._writable()
        self.fs.chmod(path, st.S_IMODE(mode))
        return 0

    @translated
    def chown(self, path: str, uid: int, gid: int) -> int:
        self._writable()
        self.fs.chown(path, uid, gid)
        return 0

    @translated
    def utimens(self, path: str, times: tuple[Any, Any] | None = None) -> int:
        """*times*: (atime, mtime) in ns, each None for now or "omit" to keep it."""
        self._writable()
        state = self._open_state(path)
        if state is not None:
            state.commit()  # the times apply to what was written so far, not before it
        if times is None:
            self.fs.utime(path)
            return 0
        if "omit" in times:
            info = self.fs.stat(path)
            times = tuple(
                old if new == "omit" else new
                for new, old in zip(times, (info.atime_ns, info.mtime_ns), strict=True)
            )  # type: ignore[assignment]
        now = time.time_ns()
        atime, mtime = (now if t is None else int(t) for t in times)
        self.fs.utime(path, ns=(atime, mtime))
        return 0

    @translated
    def truncate(self, path: str | None, length: int, fh: int | None = None) -> int:
        self._writable()
        if fh is not None:
            found: OpenFile | None = self._handle(fh)[0]
        else:
            found = self._open_state(path) if path is not None else None
        if found is not None:
            found.truncate(length)
            return 0
        if path is None:
            raise _fail(errno.EBADF)
        info = self.fs.stat(path)
        if info.is_dir:
            raise _fail(errno.EISDIR)
        temp = OpenFile(self.fs, path, info.length, self.spool_dir, self.write_type)
        try:
            temp.truncate(length)
            temp.commit()
        finally:
            temp.close()
        return 0

    # directories ------------------------------------------------------------------
    @translated
    def opendir(self, path: str) -> int:
        if not self.fs.stat(path).is_dir:
            raise _fail(errno.ENOTDIR)
        with self._lock:
            fh = self._next_fh
            self._next_fh += 1
            self._dirs[fh] = path
            return fh

    @translated
    def readdir(self, path: str | None, fh: int) -> list[str]:
        return [".", "..", *(i.name for i in self.fs.ls(self._dirs.get(fh, path or "/")))]

    def releasedir(self, path: str | None, fh: int) -> int:
        with self._lock:
            self._dirs.pop(fh, None)
        return 0

    @translated
    def mkdir(self, path: str, mode: int) -> int:
        self._writable()
        uid, gid = self._caller()
        self.fs.mkdir(path, write_type=self.write_type)
        inherited = self.fs.stat(path).mode & st.S_ISGID  # made in a setgid directory
        self.fs.chmod(path, st.S_IMODE(mode) | inherited)
        self.fs.chown(path, uid, -1 if inherited else gid)  # (its group: the directory's)
        return 0

    @translated
    def rmdir(self, path: str) -> int:
        self._writable()
        if not self.fs.stat(path).is_dir:
            raise _fail(errno.ENOTDIR)
        self.fs.delete(path)
        return 0

    @translated
    def unlink(self, path: str) -> int:
        self._writable()
        if self.fs.stat(path).is_dir:
            raise _fail(errno.EISDIR)
        self._detach(path)
        self.fs.delete(path)
        return 0

    @translated
    def rename(self, old: str, new: str, flags: int = 0) -> int:
        self._writable()
        if flags & RENAME_EXCHANGE:
            raise _fail(errno.EINVAL)  # not supported (docs/DESIGN.md)
        src = self.fs.stat(old)
        if old == new:
            return 0
        try:
            dst: FileInfo | None = self.fs.stat(new)
        except errors.FileNotFound:
            dst = None
        if dst is not None:
            if flags & RENAME_NOREPLACE:
                raise _fail(errno.EEXIST)
            if src.is_dir and not dst.is_dir:
                raise _fail(errno.ENOTDIR)
            if dst.is_dir and not src.is_dir:
                raise _fail(errno.EISDIR)
            if new.startswith(old + "/"):
                raise _fail(errno.EINVAL)
            self._detach(new)
            self.fs.delete(new)  # a directory only if empty: ENOTEMPTY otherwise
        self.fs.rename(old, new)
        self._moved(old, new)
        return 0

    # links and special files ------------------------------------------------------
    @translated
    def symlink(self, target: str, source: str) -> int:
        """mfusepy's order: *target* is the new link's path, *source* what it points to."""
        self._writable()
        uid, gid = self._caller()
        self.fs.symlink(source, target, uid=uid, gid=gid)
        return 0

    @translated
    def readlink(self, path: str) -> str:
        return str(self.fs.readlink(path))

    @translated
    def mknod(self, path: str, mode: int, dev: int) -> int:
        self._writable()
        uid, gid = self._caller()
        if st.S_ISREG(mode):
            self.fs.write_bytes(path, b"", write_type=self.write_type)
            self.fs.chmod(path, st.S_IMODE(mode))
            self.fs.chown(path, uid, gid)
            return 0
        self.fs.mknod(path, mode, dev, uid=uid, gid=gid)
        return 0

    @translated
    def link(self, target: str, source: str) -> int:
        raise _fail(errno.EPERM)  # hard links: not supported (docs/DESIGN.md)

    # files ------------------------------------------------------------------------
    @translated
    def create(self, path: str, mode: int, fi: Any = None) -> int:
        self._writable()
        uid, gid = self._caller()
        made = Creation(st.S_IMODE(mode), uid, gid)
        # the file exists at once, empty.  With a write type that persists later it is
        # committed as it is (a file created and closed unwritten is not committed again,
        # so its times stay those the kernel was told); otherwise it is a placeholder only
        # this cache holds, and its content is committed with the mount's write type when
        # it is flushed or closed
        final = WriteType.parse(self.write_type) in LATER
        self.fs.open(path, "xb", write_type=self.write_type if final else "MUST_CACHE",
                     perm=made.perm, uid=uid, gid=gid).close()  # fmt: skip
        state = self._state(path, 0)
        with state.lock:
            state.spool(copy_in=False)
            state.dirty = not final
        flags = fi if isinstance(fi, int) else os.O_WRONLY
        return self._new_handle(state, flags)

    @translated
    def open(self, path: str, flags: int) -> int:
        writing = flags & (os.O_WRONLY | os.O_RDWR)
        if writing or flags & os.O_TRUNC:
            self._writable()
        info = self.fs.stat(path)
        if info.is_dir:
            raise _fail(errno.EISDIR)
        state = self._state(path, info.length)
        if flags & os.O_TRUNC and writing:
            state.truncate(0)
        fh = self._new_handle(state, flags)
        changing = bool(writing or flags & os.O_TRUNC) or state.spooled
        self._keep[fh] = self._page_cache.keep(path, info.id, changing=changing)
        return fh

    def keep_cache(self, fh: int) -> bool:
        """Whether the kernel may keep its cached pages of the file *fh* opened: the
        same version as at the last open on this mount (``FOPEN_KEEP_CACHE``)."""
        return self._keep.pop(fh, False)

    @translated
    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        state, flags, reader = self._handle(fh)
        if state.spooled:
            return state.read(size, offset)
        if reader is None:
            reader = self.fs.open(state.path, "rb", read_type=self.read_type)
            with self._lock:
                self._handles[fh] = (state, flags, reader)
        with state.lock:
            reader.seek(offset)
            data: bytes = reader.read(size)
            return data

    @translated
    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        state, flags, _ = self._handle(fh)
        if flags & os.O_APPEND:
            offset = state.size
        return state.write(data, offset)

    @translated
    def flush(self, path: str, fh: int) -> int:
        self._handle(fh)[0].commit()
        return 0

    @translated
    def fsync(self, path: str, datasync: int, fh: int) -> int:
        self._handle(fh)[0].commit()
        return 0

    @translated
    def release(self, path: str, fh: int) -> int:
        with self._lock:
            state, _flags, reader = self._handles.pop(fh, (None, 0, None))
        if state is None:
            return 0
        try:
            if reader is not None:
                reader.close()
            state.commit()
        finally:
            with self._lock:
                state.handles -= 1
                last = state.handles == 0
                if last and self._files.get(state.path) is state:
                    del self._files[state.path]
            if last:
                state.close()
        return 0

    def init(self, path: str) -> None:
        self.started = True  # mounted: libfuse's status after a signal is not a failure

    def destroy(self, path: str) -> None:
        """Unmounting: commit whatever is still open and dirty."""
        with self._lock:
            states = list({id(s): s for s, _f, _r in self._handles.values()}.values())
        for state in states:
            try:
                state.commit()
            except Exception:  # noqa: BLE001 - report, go on with the others
                log.exception("could not commit %s at unmount", state.path)

    # file system ------------------------------------------------------------------
    def statfs(self, path: str) -> dict[str, int]:
        local = os.statvfs(self.spool_dir)
        return {
            "f_bsize": local.f_bsize, "f_frsize": local.f_frsize, "f_blocks": local.f_blocks,
            "f_bfree": local.f_bfree, "f_bavail": local.f_bavail, "f_files": 2**32,
            "f_ffree": 2**31, "f_favail": 2**31, "f_namemax": 255,
        }  # fmt: skip

    # extended attributes ----------------------------------------------------------
    @translated
    def getxattr(self, path: str, name: str, position: int = 0) -> bytes:
        if name == STATE_XATTR:
            return str(self.fs.stat(path).persistence_state.value).encode()
        if name == CACHED_XATTR:
            return str(self.fs.stat(path).cached_percent).encode()
        if not name.startswith("user."):
            raise _fail(errno.ENODATA)
        return bytes(self.fs.getxattr(path, name))

    @translated
    def listxattr(self, path: str) -> list[str]:
        return [*self.fs.listxattr(path), STATE_XATTR, CACHED_XATTR]

    @translated
    def setxattr(self, path: str, name: str, value: bytes, options: int, position: int = 0) -> int:
        self._writable()
        if name in (STATE_XATTR, CACHED_XATTR):
            raise _fail(errno.EPERM)
        if not name.startswith("user."):
            raise _fail(errno.ENOTSUP)
        if options & (XATTR_CREATE | XATTR_REPLACE):
            present = name in self.fs.listxattr(path)
            if options & XATTR_CREATE and present:
                raise _fail(errno.EEXIST)
            if options & XATTR_REPLACE and not present:
                raise _fail(errno.ENODATA)
        self.fs.setxattr(path, name, value)
        return 0

    @translated
    def removexattr(self, path: str, name: str) -> int:
        self._writable()
        if name in (STATE_XATTR, CACHED_XATTR):
            raise _fail(errno.EPERM)
        if not name.startswith("user."):
            raise _fail(errno.ENODATA)
        self.fs.removexattr(path, name)
        return 0
