"""Files opened to be changed: ``ab``, ``r+b``, ``w+b``, ``a+b``, ``x+b``.

A :class:`MutableFile` changes a file block by block, copy-on-write.  It opens a reader
of the version it starts from (its *base*; the reader's hold keeps the base's cached
blocks while the handle is open, even if the file is replaced or unlinked meanwhile).
The first write to a block copies that block alone into a *spool* (an anonymous,
sparse local temporary file, laid out as the file) and marks it dirty; reads of a dirty
block come from the spool, of any other from the base (zeros past a truncation or a
hole).  ``pread``/``pwrite`` take no position; the handle's own position is guarded by
a lock, so several threads may share one handle.

``flush()`` and ``close()`` commit the change as the file's next version, visible to
other clients atomically (close-to-open): the dirty blocks (and any block whose bytes
differ from the base's, such as a short last block that grew) are sent, every other
block is kept from the base by id (client.versions, ``FileSystem._commit_change``), so
appending to a large file or patching it writes only the blocks touched.  The core
persists the version by the usual protocol, uploading it whole.  When the base's kept
blocks are gone (StaleVersion), or when there is no base (a new or emptied file), the
version is written in full through ``open(path, "wb")`` instead.

A handle follows its file: a commit goes to the file's current path (after a rename),
to the path it was opened with if a newer version replaced the file there (last close
wins; the change builds on the version this handle opened, never a mix), and nowhere if
the file was unlinked (as POSIX drops what is written to an unlinked file when its last
descriptor closes).
"""

from __future__ import annotations

import io
import threading
from typing import IO, TYPE_CHECKING, Any

from siltfs.client.common import CHUNK, PieceReader, abort_writer, seek_position
from siltfs.client.dirty import DirtyBlocks
from siltfs.client.posix import creation
from siltfs.client.versions import Change, Version
from siltfs.errors import FileExists, FileNotFound, InvalidArgument, IsADirectory, StaleVersion
from siltfs.model.enums import WriteType
from siltfs.model.inode import block_count

if TYPE_CHECKING:
    from siltfs.client.base import FileSystem

__all__ = [
    "COPY_CHUNK",
    "MUTABLE_KINDS",
    "MutableFile",
    "open_mutable",
]

COPY_CHUNK = 4 * 1024 * 1024
MUTABLE_KINDS = frozenset({"a", "r+", "w+", "a+", "x+"})
FAST_TYPES = (bytes, bytearray)  # written without a memoryview (one byte per item)


class MutableFile(io.RawIOBase):
    def __init__(
        self,
        fs: FileSystem,
        path: str,
        kind: str,
        write_kwargs: dict[str, Any],
        *,
        spool_dir: str | None = None,
    ) -> None:
        """*kind*: one of :data:`MUTABLE_KINDS`; *write_kwargs*: for ``fs.open(path, "wb")``
        at each commit (write type, block size, permissions); *spool_dir*: where changed
        blocks that do not fit in memory go (the system's temporary directory)."""
        super().__init__()
        self._fs = fs
        self.path = path
        self.kind = kind
        self.mode = kind.replace("+", "") + "b" + ("+" if "+" in kind else "")
        wt = write_kwargs.get("write_type")
        self._write_kwargs = {
            **write_kwargs,
            "write_type": None if wt is None else WriteType.parse(wt),
        }
        self._lock = threading.RLock()
        self._pos = 0
        self._spool_dir = spool_dir
        # blocks written since the base (made again below once the block size is known;
        # this one is there for close() of an open that fails before)
        self._dirty = DirtyBlocks(CHUNK, directory=spool_dir)
        self._reader: PieceReader | None = None  # of the base
        self._base: Version | None = None
        self._base_len = 0  # bytes of the base still showing (a truncate cuts them)
        self._size = 0
        self._changed = False
        self._closing = False
        self._exclusive = kind == "x+"
        self._append = kind.startswith("a")
        try:
            info = fs.stat(path)
        except FileNotFound:
            info = None
        if info is not None and kind == "x+":  # (any entry, a directory too: EEXIST)
            raise FileExists("already exists", path=path)
        if info is not None and info.is_dir:
            raise IsADirectory("is a directory", path=path)
        self._inode_id = info.id if info is not None else None  # the version opened
        self._file_id = info.file_id if info is not None else None  # the file (any version)
        if info is None and kind == "r+":
            raise FileNotFound("no such file", path=path)
        probe = fs.open(path, "xb" if self._exclusive else "wb", write_type="MUST_CACHE")
        abort_writer(probe)  # the checks of a write to this path, nothing written
        if info is not None and kind != "w+":
            self._rebase(path)
            if self._base is None and kind == "r+":
                raise FileNotFound("no such file", path=path)  # deleted meanwhile
        if self._base is None:
            self._changed = True  # created or emptied: committed even if nothing is written
        self._bs = self._block_size()
        self._dirty = DirtyBlocks(self._bs, directory=spool_dir)
        if self._append:
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
            n = max(0, min(len(view), self._size - self._pos))
            self._read_into(view[:n], self._pos)
            self._pos += n
            return n

    def write(self, data: Any) -> int:
        self._check_open()
        if type(data) not in FAST_TYPES:
            data = memoryview(data).cast("B")
        if not data:
            return 0  # (not even to the end of an O_APPEND file, as Linux)
        with self._lock:
            if self._append:
                self._pos = self._size  # O_APPEND: always at the end
            pos = self._pos
            if self._dirty.patch(data, pos):
                # (hot: small records into a block already changed, as an append makes)
                self._pos = end = pos + len(data)
                if end > self._size:
                    self._size = end
                self._changed = True
                return len(data)
            written = self.pwrite(data, pos)
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
            if size < self._size:
                self._base_len = min(self._base_len, size)
                self._dirty.truncate(size)  # a cut dirty block reads zeros past the cut
            self._size = size
            self._changed = True
            return size

    def flush(self) -> None:
        if not self.closed and not self._closing:
            self.commit()

    def discard(self) -> None:
        """Close without committing: the change is dropped, the file stays as it was."""
        with self._lock:
            self._changed = False
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.commit()
        finally:
            self._closing = True  # (io's close flushes: a failed commit is not retried)
            with self._lock:
                if self._reader is not None:
                    self._reader.close()
                    self._reader = None
                self._dirty.close()
            super().close()

    # position-independent access ---------------------------------------------------
    @property
    def size(self) -> int:
        return self._size

    def pread(self, size: int, offset: int) -> bytes:
        with self._lock:
            out = bytearray(max(0, min(size, self._size - offset)))
            self._read_into(memoryview(out), offset)
            return bytes(out)

    def pwrite(self, data: Any, offset: int) -> int:
        view = memoryview(data).cast("B")
        if not view:
            return 0
        with self._lock:
            bs, end = self._bs, offset + len(view)
            first, last = offset // bs, (end - 1) // bs
            for i in range(first, last + 1):
                if i not in self._dirty:  # an edge block written in part: copied in first
                    if i * bs < offset or end < (i + 1) * bs:
                        self._copy_in(i)
                    else:
                        self._dirty.add(i, self._dirty.buffer(), 0)
            self._dirty.write(view, offset)
            self._size = max(self._size, end)
            self._changed = True
            return len(view)

    def materialize(self) -> None:
        """Copy in every block not changed yet: from now on the handle needs nothing of
        the version it opened (which may go: unlinked, replaced)."""
        with self._lock:
            for i in range(block_count(self._size, self._bs)):
                if i not in self._dirty:
                    self._copy_in(i)

    def _read_into(self, view: memoryview, offset: int) -> None:
        """Fill *view* (within the file) with the bytes from *offset*."""
        pos, end, bs = offset, offset + len(view), self._bs
        while pos < end:
            i = pos // bs
            stop = min(end, (i + 1) * bs)
            part = view[pos - offset : stop - offset]
            if i in self._dirty:
                self._dirty.read_into(part, pos)
            else:
                self._read_base(part, pos)
            pos = stop

    def _read_base(self, out: memoryview, offset: int) -> None:
        """The base's bytes from *offset*; zeros where it has none (truncated, a hole)."""
        valid = max(0, min(len(out), self._base_len - offset))
        out[valid:] = bytes(len(out) - valid)
        if not valid:
            return
        assert self._reader is not None
        self._reader.seek(offset)
        got = 0
        while got < valid:
            n = self._reader.readinto(out[got:valid])
            if not n:
                raise StaleVersion("the version this handle opened is gone", path=self.path)
            got += n

    def _copy_in(self, index: int) -> None:
        """Clean block *index* becomes dirty, holding the bytes the base still shows
        (before a part of it is written; the rest of the block reads as zeros)."""
        start = index * self._bs
        held = max(0, min(self._bs, self._size - start, self._base_len - start))
        buf = self._dirty.buffer()
        if held:
            self._read_base(memoryview(buf)[:held], start)
        self._dirty.add(index, buf, held)

    # versions -----------------------------------------------------------------------
    def commit(self) -> None:
        """Write the changed content as the file's next version (nothing if unchanged)."""
        with self._lock:
            if not self._changed:
                return
            target = self._current_path()
            if target is None:  # unlinked since: what was written to it goes with it
                self._changed = False
                return
            committed = False
            if self._can_share():
                try:
                    self._commit_change(target)
                    committed = True
                except StaleVersion:
                    pass  # what it would keep is gone: the whole version, below
            if not committed:
                self._commit_full(target)
            self.path = target
            self._changed = False
            self._exclusive = False  # the file is ours now; later commits replace it
            self._rebase(target)

    def _can_share(self) -> bool:
        base = self._base
        wanted = self._write_kwargs.get("block_size")
        return base is not None and base.block_size == self._bs and wanted in (None, self._bs)

    def _commit_change(self, target: str) -> None:
        """Send the blocks that differ from the base; keep the rest by id."""
        base = self._base
        assert base is not None
        bs, size = self._bs, self._size
        # kept: the base's whole blocks still showing, and its short last block if the
        # file still ends where the base did -- less those written since
        kept = min(min(self._base_len, size, base.length) // bs, len(base.block_ids))
        if base.length % bs and size == base.length <= self._base_len:
            kept += 1
        dirty = self._dirty.indices()
        indices = sorted({i for i in dirty if i < kept} | set(range(kept, block_count(size, bs))))
        shared = dict(zip(range(kept), base.block_ids[:kept], strict=True))
        for i in dirty:
            shared.pop(i, None)

        def blocks() -> Any:
            return (self._block(i) for i in indices)

        kw = self._write_kwargs
        made = creation(target, kw.get("perm"), kw.get("uid"), kw.get("gid"), kw.get("xattrs"))
        change = Change(size, bs, indices, blocks, shared, exclusive=self._exclusive)
        self._fs._commit_change(target, change, kw.get("write_type"), kw.get("replicas"), made)

    def _block(self, index: int) -> bytes | bytearray:
        """The content of block *index* of the changed file, as committed."""
        length = min(self._bs, self._size - index * self._bs)
        if index in self._dirty:
            return self._dirty.block(index, length)
        out = bytearray(length)
        self._read_base(memoryview(out), index * self._bs)
        return out

    def _commit_full(self, target: str) -> None:
        dst: IO[bytes] = self._fs.open(
            target, "xb" if self._exclusive else "wb", **self._write_kwargs
        )
        try:
            for offset in range(0, self._size, COPY_CHUNK):
                dst.write(self.pread(COPY_CHUNK, offset))
        except BaseException:
            abort_writer(dst)
            raise
        dst.close()

    def _rebase(self, path: str) -> None:
        """Start again from the current version at *path* (open, or just committed)."""
        old = self._reader
        try:
            reader = self._fs._open_reader(path, None, None)
        except FileNotFound:  # deleted at once by another client
            reader = None
        self._reader = reader
        if old is not None:
            old.close()  # (after the new reader holds the blocks both share)
        self._base = reader.version() if reader is not None else None
        self._base_len = self._base.length if self._base is not None else 0
        self._size = self._base_len if self._base is not None else self._size
        self._inode_id = self._base.inode_id if self._base is not None else None
        if self._file_id is None:  # this handle made the file: its first version
            self._file_id = self._inode_id
        self._dirty.clear()

    def _block_size(self) -> int:
        if self._base is not None and self._base.block_size > 0:
            return self._base.block_size
        wanted = self._write_kwargs.get("block_size")
        return int(wanted) if wanted else CHUNK

    def _current_path(self) -> str | None:
        """Where the file this handle opened is now: it follows renames.  The path it was
        opened with if a newer version of the same file replaced it there (last close
        wins: ``file_id`` says it is the same file), or if this handle creates it; None if
        it was unlinked -- also when another file was made at its name since."""
        if self._inode_id is None:
            return self.path
        found = self._fs.path_of_inode(self._inode_id)
        if found is not None:
            return found
        try:
            there = self._fs.stat(self.path)
        except FileNotFound:
            return None
        return self.path if there.file_id == self._file_id and not there.is_dir else None

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
