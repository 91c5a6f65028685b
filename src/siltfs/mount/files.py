"""Open files of the POSIX mount: one :class:`OpenFile` per path with open handles.

siltfs's core commits whole versions of a file (a write is a new version, visible at
``close``), while POSIX programs write at any offset into an open file and see each
other's writes at once.  The mount bridges the two here:

- A file opened for reading only is read straight from siltfs, through a reader of its
  own per handle (so readers never wait on each other).
- The first write (or truncate) to a file gives it a *spool*: a sparse local temporary
  file holding its current content (copied in from siltfs unless the file was created
  or truncated to zero).  Every handle of the path then reads and writes the spool, so
  programs on this mount see each other's writes before any close, as on a local disk.
- ``flush`` (each close of a descriptor), ``fsync`` and the last ``release`` commit a
  dirty spool as the next version of the file, with the mount's write type: one whole,
  consistent version through siltfs's usual write path (so I1-I5 and the write-back
  protocol apply unchanged).  A version becomes visible to other clients at that moment
  (close-to-open consistency); two mounts writing one file: the last commit wins, never
  a mix of both.
- An unlinked or replaced file keeps its content for the handles still open on it (it is
  spooled first) and is never committed again.

Departure (recorded in docs/DESIGN.md): a changed file is committed whole, so appending
to or patching a large file costs a copy of it; copy-on-write blocks in the core
(issue 11) remove that.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from siltfs.client.base import FileSystem
from siltfs.client.mutable import commit_spool, new_spool
from siltfs.model.posix import Creation


class OpenFile:
    """The state of one open path: size, spool, dirtiness; shared by its handles."""

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
        self._spool: int | None = None  # fd
        self._write_type = write_type

    # content ----------------------------------------------------------------------
    @property
    def spooled(self) -> bool:
        return self._spool is not None

    def spool(self, copy_in: bool = True) -> int:
        """The spool's fd, made (and filled with the committed content) on first use."""
        with self.lock:
            if self._spool is None:
                self._spool = new_spool(
                    self.fs, self.path, copy_in=copy_in and self.size > 0, directory=self._spool_dir
                )
            return self._spool

    def read(self, size: int, offset: int) -> bytes:
        with self.lock:
            assert self._spool is not None
            return os.pread(self._spool, min(size, max(0, self.size - offset)), offset)

    def write(self, data: bytes, offset: int) -> int:
        with self.lock:
            fd = self.spool()
            written = os.pwrite(fd, data, offset)
            self.size = max(self.size, offset + written)
            self.dirty = True
            self.mtime_ns = time.time_ns()  # a write changes mtime and ctime (POSIX)
            return written

    def truncate(self, length: int) -> None:
        with self.lock:
            fd = self.spool(copy_in=length > 0)
            os.ftruncate(fd, length)
            self.size = length
            self.dirty = True
            self.mtime_ns = time.time_ns()

    # versions ---------------------------------------------------------------------
    def commit(self, creation: Creation | None = None) -> None:
        """Write the spool as the file's next version (if it changed)."""
        with self.lock:
            if not self.dirty or self.orphaned:
                return
            fd = self.spool()
            kwargs: dict[str, Any] = {"write_type": self._write_type}
            if creation is not None:
                kwargs.update(perm=creation.perm, uid=creation.uid, gid=creation.gid)
            commit_spool(self.fs, self.path, fd, self.size, "wb", kwargs)
            self.dirty = False
            self.mtime_ns = 0  # the committed version's own times from now on

    def close(self) -> None:
        with self.lock:
            if self._spool is not None:
                os.close(self._spool)
                self._spool = None
