"""Files opened to be changed: ``ab``, ``r+b``, ``w+b``, ``a+b``, ``x+b``.

siltfs commits whole versions of a file (``wb`` streams a new version, visible at
``close``).  A :class:`MutableFile` reads the current version straight from siltfs
until the first change; the first write or truncate copies the content into a *spool*
(an anonymous local temporary file; nothing is copied when the file starts empty), and
from then on reads and writes at any offset go to the spool (``pread``/``pwrite``: the
file position is the handle's own, guarded by a lock, so several threads may share one
handle).  ``flush()`` and ``close()`` commit a changed spool as the next version through
the client's ordinary ``open(path, "wb")`` -- one whole, consistent version, persisted by
the usual protocol -- so other clients see it atomically (close-to-open).

A handle follows its file: a commit goes to the file's current path (after a rename),
to the path it was opened with if a newer version replaced the file there (last close
wins), and nowhere if the file was unlinked (as POSIX drops what is written to an
unlinked file when its last descriptor closes).

Departure (docs/DESIGN.md): the commit writes the whole file, so appending to a large
file copies it; copy-on-write block versions in the core will remove that.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from typing import IO, TYPE_CHECKING, Any

from siltfs.client.common import abort_writer, seek_position
from siltfs.errors import FileExists, FileNotFound, InvalidArgument, IsADirectory

if TYPE_CHECKING:
    from siltfs.client.base import FileSystem

__all__ = [
    "COPY_CHUNK",
    "MUTABLE_KINDS",
    "MutableFile",
    "commit_spool",
    "new_spool",
    "open_mutable",
]

COPY_CHUNK = 4 * 1024 * 1024
MUTABLE_KINDS = frozenset({"a", "r+", "w+", "a+", "x+"})


def new_spool(fs: FileSystem, path: str, *, copy_in: bool, directory: str | None = None) -> int:
    """An anonymous local temporary file (gone with its descriptor, even after a crash),
    holding the current content of *path* when *copy_in*."""
    fd, name = tempfile.mkstemp(prefix="silt-open-", dir=directory)
    os.unlink(name)
    try:
        if copy_in:
            with fs.open(path, "rb") as src:
                offset = 0
                while chunk := src.read(COPY_CHUNK):
                    os.pwrite(fd, chunk, offset)
                    offset += len(chunk)
    except BaseException:
        os.close(fd)
        raise
    return fd


def commit_spool(
    fs: FileSystem, path: str, fd: int, size: int, mode: str, kwargs: dict[str, Any]
) -> None:
    """Write the first *size* bytes of the spool *fd* as the next version of *path*
    (``open(path, mode)``, *mode* ``wb`` or ``xb``): all of it, or nothing on failure.
    The spool is as long as the file (``ftruncate`` extends it), so holes read as zeros."""
    dst: IO[bytes] = fs.open(path, mode, **kwargs)
    try:
        offset = 0
        while chunk := os.pread(fd, min(COPY_CHUNK, size - offset), offset):
            dst.write(chunk)
            offset += len(chunk)
    except BaseException:
        abort_writer(dst)
        raise
    dst.close()


class MutableFile(io.RawIOBase):
    def __init__(self, fs: FileSystem, path: str, kind: str, write_kwargs: dict[str, Any]) -> None:
        """*kind*: one of :data:`MUTABLE_KINDS`; *write_kwargs*: for ``fs.open(path, "wb")``
        at each commit (write type, block size, permissions)."""
        super().__init__()
        self._fs = fs
        self.path = path
        self.kind = kind
        self.mode = kind.replace("+", "") + "b" + ("+" if "+" in kind else "")
        self._write_kwargs = write_kwargs
        self._lock = threading.RLock()
        self._pos = 0
        self._spool: int | None = None
        self._reader: IO[bytes] | None = None
        self._dirty = False
        self._exclusive = kind == "x+"
        try:
            info = fs.stat(path)
        except FileNotFound:
            info = None
        if info is not None and info.is_dir:
            raise IsADirectory("is a directory", path=path)
        self._inode_id = info.id if info is not None else None  # the version opened
        if info is None and kind == "r+":
            raise FileNotFound("no such file", path=path)
        if info is not None and kind == "x+":
            raise FileExists("already exists", path=path)
        probe = fs.open(path, "xb" if self._exclusive else "wb", write_type="MUST_CACHE")
        abort_writer(probe)  # the checks of a write to this path, nothing written
        self._size = 0 if info is None or kind == "w+" else info.length
        if info is None or kind == "w+":
            self._make_spool(copy_in=False)
            self._dirty = True  # created or emptied: committed even if nothing is written
        if kind.startswith("a"):
            self._pos = self._size

    # io.RawIOBase ---------------------------------------------------------------
    def readable(self) -> bool:
        return "+" in self.kind

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        with self._lock:
            try:
                self._pos = seek_position(self._pos, self._size, offset, whence)
            except ValueError as exc:
                raise InvalidArgument(str(exc), path=self.path) from exc
            return self._pos

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        if not self.readable():
            raise io.UnsupportedOperation(f"{self.path}: not open for reading")
        view = memoryview(buffer).cast("B")
        with self._lock:
            data = self.pread(len(view), self._pos)
            view[: len(data)] = data
            self._pos += len(data)
            return len(data)

    def write(self, data: Any) -> int:
        self._check_open()
        with self._lock:
            if self.kind.startswith("a"):
                self._pos = self._size  # O_APPEND: always at the end
            written = self.pwrite(bytes(data), self._pos)
            self._pos += written
            return written

    def truncate(self, size: int | None = None) -> int:
        self._check_open()
        with self._lock:
            size = self._pos if size is None else size
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise InvalidArgument(
                    f"size must be a non-negative int, not {size!r}", path=self.path
                )
            fd = self._make_spool(copy_in=size > 0)
            os.ftruncate(fd, size)
            self._size = size
            self._dirty = True
            return size

    def flush(self) -> None:
        if not self.closed:
            self.commit()

    def discard(self) -> None:
        """Close without committing: the change is dropped, the file stays as it was."""
        with self._lock:
            self._dirty = False
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.commit()
        finally:
            with self._lock:
                if self._reader is not None:
                    self._reader.close()
                if self._spool is not None:
                    os.close(self._spool)
                    self._spool = None
            super().close()

    # position-independent access ---------------------------------------------------
    @property
    def size(self) -> int:
        return self._size

    def pread(self, size: int, offset: int) -> bytes:
        with self._lock:
            size = max(0, min(size, self._size - offset))
            if self._spool is not None:
                return os.pread(self._spool, size, offset)
            if self._reader is None:
                self._reader = self._fs.open(self._current_path() or self.path, "rb")
            self._reader.seek(offset)
            return self._reader.read(size)

    def pwrite(self, data: bytes, offset: int) -> int:
        with self._lock:
            fd = self._make_spool(copy_in=True)
            written = os.pwrite(fd, data, offset)
            self._size = max(self._size, offset + written)
            self._dirty = True
            return written

    # versions -----------------------------------------------------------------------
    def commit(self) -> None:
        """Write the changed content as the file's next version (nothing if unchanged)."""
        with self._lock:
            if not self._dirty:
                return
            fd = self._make_spool(copy_in=True)
            target = self._current_path()
            if target is None:  # unlinked since: what was written to it goes with it
                self._dirty = False
                return
            mode = "xb" if self._exclusive else "wb"
            commit_spool(self._fs, target, fd, self._size, mode, self._write_kwargs)
            self.path = target
            self._dirty = False
            self._exclusive = False  # the file is ours now; later commits replace it
            try:
                self._inode_id = self._fs.stat(target).id  # the version just committed
            except FileNotFound:  # deleted at once by another client
                self._inode_id = None

    def _current_path(self) -> str | None:
        """Where the file this handle opened is now: it follows renames.  The path it was
        opened with if it was replaced by a newer version there (last close wins), or if
        this handle creates it; None if it was unlinked."""
        if self._inode_id is None:
            return self.path
        found = self._fs.path_of_inode(self._inode_id)
        if found is not None:
            return found
        return self.path if self._fs.exists(self.path) else None

    def _make_spool(self, *, copy_in: bool) -> int:
        if self._spool is None:
            source = self._current_path() if copy_in and self._size > 0 else self.path
            if source is None:
                raise FileNotFound("unlinked before its content was read", path=self.path)
            fd = new_spool(self._fs, source, copy_in=copy_in and self._size > 0)
            self._spool = fd
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        return self._spool

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")


def open_mutable(
    fs: FileSystem,
    path: str,
    mode: str,
    kind: str,
    encoding: str | None,
    write_kwargs: dict[str, Any],
) -> IO[Any]:
    """The object ``open(path, mode)`` returns for a :data:`MUTABLE_KINDS` mode."""
    raw = MutableFile(fs, path, kind, write_kwargs)
    if "b" in mode:
        return raw  # type: ignore[return-value]
    buffered = io.BufferedRandom(raw) if "+" in kind else io.BufferedWriter(raw)  # type: ignore[arg-type]
    return io.TextIOWrapper(buffered, encoding=encoding or "utf-8")
