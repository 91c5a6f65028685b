"""Open files of the POSIX mount: one :class:`OpenFile` per path with open handles.

siltfs's core commits versions of a file (a change is visible at ``flush``/``close``),
while POSIX programs write at any offset into an open file and see each other's writes
at once.  The mount bridges the two here:

- A file opened for reading only is read straight from siltfs, through a reader of its
  own per handle (so readers never wait on each other).
- The first write (or truncate) to a file gives its path a
  :class:`~siltfs.client.mutable.MutableFile`, shared by every handle of the path, so
  programs on this mount see each other's writes before any close, as on a local disk.
  It changes the file copy-on-write: only the blocks written are copied in (and later
  committed); the rest are read from, and kept with, the version it opened.
- ``flush`` (each close of a descriptor), ``fsync`` and the last ``release`` commit a
  dirty file as its next version, with the mount's write type, through the core's usual
  write path (so I1-I5 and the write-back protocol apply unchanged).  A version becomes
  visible to other clients at that moment (close-to-open consistency); two mounts
  writing one file: the last commit wins, never a mix of both.
- An unlinked or replaced file keeps its content for the handles still open on it (all
  of it is copied in first) and is never committed again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from siltfs.client.base import FileSystem
from siltfs.client.mutable import MutableFile
from siltfs.model.inode import FileInfo


def stat_dict(info: FileInfo) -> dict[str, Any]:
    """What FUSE's getattr answers for *info*."""
    return {
        "st_mode": info.mode, "st_nlink": info.nlink, "st_size": info.length,
        "st_uid": info.uid, "st_gid": info.gid, "st_atime": info.atime_ns,
        "st_mtime": info.mtime_ns, "st_ctime": info.ctime_ns, "st_rdev": info.rdev,
        "st_blocks": (info.length + 511) // 512, "st_blksize": 128 * 1024,
    }  # fmt: skip


class PageCacheVersions:
    """Which version of each path the kernel may hold cached pages of.  An open of the
    version seen at the last open keeps them (``FOPEN_KEEP_CACHE``: a re-read comes from
    the page cache); an open of any other version -- or one that changes the file --
    drops them, so no program reads bytes of a version that is gone.  Bounded (LRU)."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, int] = OrderedDict()

    def keep(self, path: str, version: int, *, changing: bool) -> bool:
        with self._lock:
            last = self._seen.pop(path, None)
            if changing:  # its pages are about to change: remembered after its commit
                return False
            self._seen[path] = version
            if len(self._seen) > self._limit:
                self._seen.popitem(last=False)
            return last == version


class OpenFile:
    """The state of one open path: size, changes, dirtiness; shared by its handles."""

    def __init__(
        self, fs: FileSystem, path: str, size: int, spool_dir: str, write_type: str
    ) -> None:
        self.fs = fs
        self.path = path
        self.size = size
        self.lock = threading.RLock()
        self.handles = 0
        self.dirty = False
        self.orphaned = False  # unlinked or replaced: never committed again
        self.mtime_ns = 0  # of the last write or truncate not yet committed (0: none)
        self.attrs: dict[str, Any] = {}  # stat of the file when it was unlinked
        self._spool_dir = spool_dir
        self._file: MutableFile | None = None
        self._write_type = write_type

    # content ----------------------------------------------------------------------
    @property
    def spooled(self) -> bool:
        return self._file is not None

    def spool(self, copy_in: bool = True) -> MutableFile:
        """The path's changing file, opened on first use: on the current version, or
        (not *copy_in*, or nothing to copy) on an empty one."""
        with self.lock:
            if self._file is None:
                kind = "r+" if copy_in and self.size > 0 else "w+"
                kwargs = {"write_type": self._write_type}
                self._file = MutableFile(
                    self.fs, self.path, kind, kwargs, spool_dir=self._spool_dir
                )
            return self._file

    def detach(self) -> None:
        """The file is about to be unlinked or replaced: keep all of its content here."""
        with self.lock:
            self.spool().materialize()
            self.orphaned = True

    def read(self, size: int, offset: int) -> bytes:
        with self.lock:
            assert self._file is not None
            return self._file.pread(size, offset)

    def write(self, data: bytes, offset: int) -> int:
        with self.lock:
            written = self.spool().pwrite(data, offset)
            self.size = max(self.size, offset + written)
            self.dirty = True
            self.mtime_ns = time.time_ns()  # a write changes mtime and ctime (POSIX)
            return written

    def truncate(self, length: int) -> None:
        with self.lock:
            self.spool(copy_in=length > 0).truncate(length)
            self.size = length
            self.dirty = True
            self.mtime_ns = time.time_ns()

    # versions ---------------------------------------------------------------------
    def commit(self) -> None:
        """Commit the changes as the file's next version (if there are any)."""
        with self.lock:
            if not self.dirty or self.orphaned or self._file is None:
                return
            self._file.commit()
            self.path = self._file.path
            self.dirty = False
            self.mtime_ns = 0  # the committed version's own times from now on

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.discard()  # (committed already when it had to be)
                self._file = None
