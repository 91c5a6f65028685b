"""Large buffers reach local files whole, however they are cut into pieces."""

from __future__ import annotations

import os
from pathlib import Path

from siltfs import pieces


def test_write_in_pieces_writes_every_byte(tmp_path: Path) -> None:
    data = os.urandom(3 * pieces.PIECE + 17)
    for buf in (data, bytearray(data), memoryview(data), data[:5]):
        path = tmp_path / "f"
        with open(path, "wb") as f:
            pieces.write(f, buf)
        assert path.read_bytes() == bytes(buf)


def test_pwrite_in_pieces_at_an_offset(tmp_path: Path) -> None:
    data = os.urandom(2 * pieces.PIECE + 1)
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        pieces.pwrite(fd, data, 100)
        assert os.pread(fd, len(data) + 200, 0) == bytes(100) + data
    finally:
        os.close(fd)
