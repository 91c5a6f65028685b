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

from siltfs import pieces

__all__ = ["MEMORY_LIMIT", "DirtyBlocks"]

MEMORY_LIMIT = 64 * 1024 * 1024  # per handle


class DirtyBlocks:
    """Not thread-safe: the handle's lock guards it."""

    def __init__(
        self, block_size: int, memory_limit: int = MEMORY_LIMIT, directory: str | None = None
    ) -> None:
        self.block_size = block_size
        self.memory_limit = memory_limit
        self.directory = directory  # of the spool (None: the system's temporary directory)
        self._mem: dict[int, bytearray] = {}
        self._in_file: set[int] = set()
        self._fd: int | None = None

    def __contains__(self, index: object) -> bool:
        return index in self._mem or index in self._in_file

    def __len__(self) -> int:
        return len(self._mem) + len(self._in_file)

    def indices(self) -> set[int]:
        return self._mem.keys() | self._in_file

    def add(self, index: int, content: bytearray) -> None:
        """Block *index* becomes dirty, holding *content* (its bytes as they read now;
        kept, not copied, while it fits in memory)."""
        if (len(self._mem) + 1) * self.block_size <= self.memory_limit:
            self._mem[index] = content
            return
        self._in_file.add(index)
        if content:
            pieces.pwrite(self._spool(), content, index * self.block_size)

    def write(self, data: memoryview, offset: int) -> None:
        """Write *data* at *offset* of the file; every block it touches is dirty."""
        bs, pos, end = self.block_size, offset, offset + len(data)
        while pos < end:
            index = pos // bs
            stop = min(end, (index + 1) * bs)
            part = data[pos - offset : stop - offset]
            buf = self._mem.get(index)
            if buf is None:
                pieces.pwrite(self._spool(), part, pos)
            else:
                at = pos - index * bs
                if at > len(buf):
                    buf.extend(bytes(at - len(buf)))
                buf[at : at + len(part)] = part
            pos = stop

    def read_into(self, out: memoryview, offset: int) -> None:
        """The bytes at *offset* (within one dirty block) into *out*."""
        index = offset // self.block_size
        buf = self._mem.get(index)
        if buf is None:
            got = os.preadv(self._spool(), [out], offset)
        else:
            at = offset - index * self.block_size
            got = max(0, min(len(out), len(buf) - at))
            out[:got] = memoryview(buf)[at : at + got]
        out[got:] = bytes(len(out) - got)

    def block(self, index: int, length: int) -> bytes | bytearray:
        """The whole content of dirty block *index*, *length* bytes (zeros past what was
        written); the held buffer itself when it is in memory (valid until the next
        change)."""
        buf = self._mem.get(index)
        if buf is None:
            data = os.pread(self._spool(), length, index * self.block_size)
            return data + bytes(length - len(data))
        if len(buf) < length:
            buf.extend(bytes(length - len(buf)))
        return buf

    def truncate(self, size: int) -> None:
        """The file is cut to *size*: blocks past it go, the one it ends in is cut."""
        bs = self.block_size
        for index in list(self._mem):
            keep = size - index * bs
            if keep <= 0:
                del self._mem[index]
            elif keep < len(self._mem[index]):
                del self._mem[index][keep:]
        self._in_file = {i for i in self._in_file if i * bs < size}
        if self._fd is not None:
            os.ftruncate(self._fd, size)

    def clear(self) -> None:
        """Committed: nothing is dirty any more."""
        self._mem.clear()
        self._in_file.clear()
        if self._fd is not None:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        self._mem.clear()
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
