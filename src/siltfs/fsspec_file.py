"""The file objects siltfs's fsspec file system hands out (:class:`SiltFile`)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from siltfs.client.common import abort_writer
from siltfs.client.mutable import MutableFile

if TYPE_CHECKING:
    from siltfs.fsspec import SiltFileSystem

__all__ = ["PROTOCOL", "SiltFile"]

PROTOCOL = "silt"


class SiltFile(io.BufferedIOBase):
    """A binary siltfs file as fsspec hands it out: buffered reads with seek/tell/size, or a
    write that becomes visible at close (``autocommit``) or at :meth:`commit`."""

    def __init__(
        self,
        fs: SiltFileSystem,
        path: str,
        mode: str,
        inner: IO[bytes],
        *,
        autocommit: bool = True,
        block_size: int | None = None,
    ) -> None:
        super().__init__()
        self.fs = fs
        self.path = path
        self.mode = mode
        self.blocksize = block_size
        self.autocommit = autocommit
        self._inner = inner
        self._written = 0
        self.cache: Any = None  # set by fsspec's caching file systems (blockcache::)
        self._closed = False
        self._mutable = isinstance(inner, MutableFile)  # ab, r+b, w+b, a+b, x+b
        self._reading = "r" in mode and not self._mutable
        # One reading handle shared by threads (DuckDB's fsspec bridge: seek, then read,
        # each thread on its own, interleaved): a read reads where *this thread* last
        # seeked, if it did since its last read, else at the shared position; both
        # under one lock, so no read sees half of another thread's move.
        self._lock = threading.RLock()
        self._seeks = threading.local()

    # identity ---------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.path

    @property
    def full_name(self) -> str:
        return f"{PROTOCOL}://{self.path}"

    @property
    def size(self) -> int:
        if isinstance(self._inner, MutableFile):
            return self._inner.size
        if self._reading:
            return int(self._inner.raw.size)  # type: ignore[attr-defined]
        return self._written

    def info(self) -> dict[str, Any]:
        return self.fs.info(self.path)

    def __repr__(self) -> str:
        return f"<SiltFile {self.full_name} mode={self.mode!r}>"

    @property  # type: ignore[override]
    def closed(self) -> bool:
        """Settable, as on fsspec's AbstractBufferedFile (its caching wrappers set it)."""
        return getattr(self, "_closed", True)

    @closed.setter
    def closed(self, value: bool) -> None:
        self._closed = value

    # capabilities -----------------------------------------------------------
    def readable(self) -> bool:
        return self._reading or (self._mutable and "+" in self.mode)

    def writable(self) -> bool:
        return not self._reading

    def seekable(self) -> bool:
        return self._reading or self._mutable

    # reading ----------------------------------------------------------------
    def read(self, size: int | None = -1) -> bytes:
        self._check_readable()
        with self._my_position():
            if self.cache is not None and self._reading:  # a caching wrapper's cache serves it
                start = self._inner.tell()
                end = self.size if size is None or size < 0 else min(self.size, start + size)
                data: bytes = self.cache._fetch(start, end)
                self._inner.seek(start + len(data))
                return data
            return self._inner.read(-1 if size is None else size)

    def _fetch_range(self, start: int, end: int) -> bytes:
        """Bytes [start, end) (what fsspec's caches, e.g. ``blockcache::``, fetch with)."""
        return self.fs.cat_file(self.path, start, end)

    def read1(self, size: int = -1) -> bytes:
        self._check_readable()
        if self._mutable:
            return self._inner.read(size)
        with self._my_position():
            return self._inner.read1(size)  # type: ignore[attr-defined,no-any-return]

    def readinto(self, buffer: Any) -> int:
        self._check_readable()
        with self._my_position():
            return self._inner.readinto(buffer)  # type: ignore[attr-defined,no-any-return]

    def readinto1(self, buffer: Any) -> int:
        self._check_readable()
        if self._mutable:
            return self._inner.readinto(buffer)  # type: ignore[attr-defined,no-any-return]
        with self._my_position():
            return self._inner.readinto1(buffer)  # type: ignore[attr-defined,no-any-return]

    def readline(self, size: int | None = -1) -> bytes:
        self._check_readable()
        with self._my_position():
            return self._inner.readline(-1 if size is None else size)

    def peek(self, size: int = 0) -> bytes:
        self._check_readable()
        if isinstance(self._inner, MutableFile):
            return self._inner.pread(max(size, 1), self._inner.tell())
        with self._my_position():
            return self._inner.peek(size)  # type: ignore[attr-defined,no-any-return]

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self.closed:
            raise ValueError("seek on a closed file")
        if not self.seekable():
            raise io.UnsupportedOperation(
                "seek: a 'wb' file is written sequentially (open it 'w+b' to write at any offset)"
            )
        if not self._reading:
            return self._inner.seek(offset, whence)
        with self._my_position():
            target: int = self._inner.seek(offset, whence)
            self._seeks.at = target  # this thread's next read starts here
            return target

    def tell(self) -> int:
        if self.closed:
            raise ValueError("tell on a closed file")
        if not self._reading:
            return self._inner.tell() if self.seekable() else self._written
        with self._lock:
            pending: int | None = getattr(self._seeks, "at", None)
            return self._inner.tell() if pending is None else pending

    @contextmanager
    def _my_position(self) -> Iterator[None]:
        """Under the handle's lock, the shared position moved to where this thread last
        seeked (if it has not read since)."""
        with self._lock:
            pending = getattr(self._seeks, "at", None)
            if pending is not None:
                self._seeks.at = None
                self._inner.seek(pending)
            yield

    def _check_readable(self) -> None:
        if self.closed:
            raise ValueError("read from a closed file")
        if not self.readable():
            raise io.UnsupportedOperation("not readable")

    # writing ----------------------------------------------------------------
    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed file")
        if self._reading:
            raise io.UnsupportedOperation("not writable")
        n = self._inner.write(data)
        self._written += n
        return n

    def flush(self) -> None:
        if self._mutable and not self.autocommit:
            return  # a transaction's change becomes visible at commit()
        if not self._inner.closed and not self._reading:
            self._inner.flush()

    def truncate(self, size: int | None = None) -> int:
        if not isinstance(self._inner, MutableFile):
            raise io.UnsupportedOperation("truncate: open the file 'r+b', 'w+b' or 'ab'")
        return self._inner.truncate(size)

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._reading or self.autocommit:
                self._inner.close()  # a write commits here: the file appears
            elif self._mutable:
                pass  # held open until commit() or discard()
            else:
                self._inner.flush()  # held open until commit() or discard()
        finally:
            super().close()
            self._closed = True

    def commit(self) -> None:
        """Make a write opened with ``autocommit=False`` visible."""
        if not self._reading:
            self._inner.close()

    def discard(self) -> None:
        """Drop a write opened with ``autocommit=False``: nothing of it stays behind."""
        if self._reading or self._inner.closed:
            return
        if isinstance(self._inner, MutableFile):
            self._inner.discard()
            super().close()
            self._closed = True
            return
        abort_writer(self._inner)
        super().close()
        self._closed = True
