"""Writing a large buffer to a local file in pieces.

One ``write(2)`` of a MiB or more into the page cache runs at ~370 MiB/s on the
project's machines (ext4 on a virtual disk), the same bytes in 256 KiB writes at
~4 GB/s (measured: 64 fresh 1 MiB files, and 64 MiB appended to one file, five runs
each).  Every block file, spool and staged upload is written through :func:`write`."""

from __future__ import annotations

import os
from typing import Protocol

__all__ = ["PIECE", "pwrite", "write"]

PIECE = 256 * 1024

Buffer = bytes | bytearray | memoryview


class Writable(Protocol):
    def write(self, data: Buffer, /) -> int | None: ...


def write(f: Writable, data: Buffer) -> None:
    """``f.write(data)``, in pieces of at most :data:`PIECE` bytes."""
    if len(data) <= PIECE:
        f.write(data)
        return
    view = memoryview(data).cast("B")
    for start in range(0, len(view), PIECE):
        f.write(view[start : start + PIECE])


def pwrite(fd: int, data: Buffer, offset: int) -> None:
    """All of *data* at *offset* of descriptor *fd*, in pieces of at most :data:`PIECE`."""
    view = memoryview(data).cast("B")
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done : done + PIECE], offset + done)
