"""The blocks an open handle changed (:class:`DirtyBlocks`), until it commits them.

A block is held in memory while the handle's blocks fit :data:`MEMORY_LIMIT`, in a
*spool* otherwise: an anonymous local temporary file (gone with its descriptor, even
after a crash), sparse and laid out as the file, so a block sits at its own offset.
Either way a block holds its bytes up to where they were last written or copied in;
what lies past that, up to the file's end, reads as zeros (a hole, or a truncation
followed by growth)."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable

from siltfs import pieces

__all__ = ["MEMORY_LIMIT", "POOLED", "DirtyBlocks"]

MEMORY_LIMIT = 64 * 1024 * 1024  # per handle
POOLED = 64 * 1024 * 1024  # of free block buffers the process keeps for the next handle


class _Pool:
    """Free block buffers, by size, for any handle of the process: a fresh buffer costs
    a page fault per 4 KiB the first time it is written (half a millisecond per MiB on
    the project's virtual machines), a reused one nothing."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free: dict[int, list[bytearray]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bytearray:
        with self._lock:
            free = self._free.get(size)
            if free:
                self._bytes -= size
                return free.pop()
        return bytearray(size)

    def give(self, buffers: Iterable[bytearray]) -> None:
        with self._lock:
            for buf in buffers:
                if self._bytes + len(buf) > self.limit:
                    break
                self._free.setdefault(len(buf), []).append(buf)
                self._bytes += len(buf)


_pool = _Pool(POOLED)


class DirtyBlocks:
    """Not thread-safe: the handle's lock guards it.

    A block in memory is a buffer of the whole block size, made once (growing a buffer
    write by write copies it over and over: small appends ran at a fifth of the speed),
    with the count of bytes it holds beside it; buffers are reused after a commit (a
    pool for the process, up to :data:`POOLED` bytes)."""

    def __init__(
        self, block_size: int, memory_limit: int = MEMORY_LIMIT, directory: str | None = None
    ) -> None:
        self.block_size = block_size
        self.memory_limit = memory_limit
        self.directory = directory  # of the spool (None: the system's temporary directory)
        self._mem: dict[int, bytearray] = {}  # index -> buffer of block_size bytes
        self._held: dict[int, int] = {}  # index -> bytes of its buffer that are the block's
        self._in_file: set[int] = set()
        self._fd: int | None = None

    def __contains__(self, index: object) -> bool:
        return index in self._mem or index in self._in_file

    def __len__(self) -> int:
        return len(self._mem) + len(self._in_file)

    def indices(self) -> set[int]:
        return self._mem.keys() | self._in_file

    def buffer(self) -> bytearray:
        """A buffer of one block, to fill and :meth:`add` (its bytes are not zeroed)."""
        return _pool.take(self.block_size)

    def add(self, index: int, content: bytearray, held: int | None = None) -> None:
        """Block *index* becomes dirty, holding the first *held* bytes of *content* (all
        of it when None: its bytes as they read now).  A :meth:`buffer` is kept, not
        copied, while it fits in memory."""
        held = len(content) if held is None else held
        if (len(self._mem) + 1) * self.block_size <= self.memory_limit:
            if len(content) != self.block_size:
                buf = self.buffer()
                buf[:held] = memoryview(content)[:held]
                content = buf
            self._mem[index] = content
            self._held[index] = held
            return
        self._in_file.add(index)
        if held:
            pieces.pwrite(self._spool(), memoryview(content)[:held], index * self.block_size)
        if len(content) == self.block_size:
            _pool.give([content])

    def write(self, data: memoryview, offset: int) -> None:
        """Write *data* at *offset* of the file; every block it touches is dirty."""
        bs, pos, end = self.block_size, offset, offset + len(data)
        while pos < end:
            index = pos // bs
            stop = min(end, (index + 1) * bs)
            part = data[pos - offset : stop - offset]
            if index in self._mem:
                self._put(index, pos - index * bs, part)
            else:
                pieces.pwrite(self._spool(), part, pos)
            pos = stop

    def patch(self, data: bytes | bytearray | memoryview, offset: int) -> bool:
        """:meth:`write` of *data* if it lies in one dirty block held in memory; False
        (nothing written) otherwise."""
        index, at = divmod(offset, self.block_size)
        if index not in self._mem or at + len(data) > self.block_size:
            return False
        self._put(index, at, data)
        return True

    def _put(self, index: int, at: int, data: bytes | bytearray | memoryview) -> None:
        buf, held = self._mem[index], self._held[index]
        if at > held:  # a hole in the block: zeros (the buffer may hold older bytes)
            buf[held:at] = bytes(at - held)
        end = at + len(data)
        buf[at:end] = data
        if end > held:
            self._held[index] = end

    def read_into(self, out: memoryview, offset: int) -> None:
        """The bytes at *offset* (within one dirty block) into *out*."""
        index = offset // self.block_size
        buf = self._mem.get(index)
        if buf is None:
            got = os.preadv(self._spool(), [out], offset)
        else:
            at = offset - index * self.block_size
            got = max(0, min(len(out), self._held[index] - at))
            out[:got] = memoryview(buf)[at : at + got]
        out[got:] = bytes(len(out) - got)

    def block(self, index: int, length: int) -> bytes | bytearray:
        """The whole content of dirty block *index*, *length* bytes (zeros past what was
        written); the held buffer itself when it is in memory and whole (valid until the
        next change)."""
        buf = self._mem.get(index)
        if buf is None:
            data = os.pread(self._spool(), length, index * self.block_size)
            return data + bytes(length - len(data))
        held = self._held[index]
        if held < length:
            buf[held:length] = bytes(length - held)
            self._held[index] = length
        return buf if length == len(buf) else buf[:length]

    def truncate(self, size: int) -> None:
        """The file is cut to *size*: blocks past it go, the one it ends in is cut."""
        bs = self.block_size
        for index in list(self._mem):
            keep = size - index * bs
            if keep <= 0:
                _pool.give([self._mem.pop(index)])
                del self._held[index]
            elif keep < self._held[index]:
                self._held[index] = keep
        self._in_file = {i for i in self._in_file if i * bs < size}
        if self._fd is not None:
            os.ftruncate(self._fd, size)

    def clear(self) -> None:
        """Committed: nothing is dirty any more (the buffers go back to the pool)."""
        _pool.give(self._mem.values())
        self._mem.clear()
        self._held.clear()
        self._in_file.clear()
        if self._fd is not None:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        _pool.give(self._mem.values())
        self._mem.clear()
        self._held.clear()
        self._in_file.clear()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _spool(self) -> int:
        if self._fd is None:
            fd, name = tempfile.mkstemp(prefix="silt-open-", dir=self.directory)
            os.unlink(name)
            self._fd = fd
        return self._fd
