"""Storage tiers.  MEM keeps bytes in a dict; SSD keeps one file per block in a directory."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from siltfs.errors import ResourceExhausted
from siltfs.home import private_dir


class Tier:
    """A bounded block container with LRU order (oldest first)."""

    name = "?"

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.sizes: OrderedDict[int, int] = OrderedDict()
        self.used = 0
        self.changes = 0  # bumped whenever the set of blocks changes (heartbeats diff on it)

    def __contains__(self, block_id: int) -> bool:
        return block_id in self.sizes

    def touch(self, block_id: int) -> None:
        self.sizes.move_to_end(block_id)

    def free_space(self) -> int:
        return self.capacity - self.used

    def put(self, block_id: int, data: bytes | memoryview, *, durable: bool) -> None:
        raise NotImplementedError

    def get(self, block_id: int) -> bytes | None:
        raise NotImplementedError

    def remove(self, block_id: int) -> None:
        raise NotImplementedError

    def _account(self, block_id: int, size: int) -> None:
        old = self.sizes.pop(block_id, None)
        if old is not None:
            self.used -= old
        self.sizes[block_id] = size
        self.used += size
        self.changes += 1

    def _unaccount(self, block_id: int) -> None:
        old = self.sizes.pop(block_id, None)
        if old is not None:
            self.used -= old
            self.changes += 1


class MemTier(Tier):
    name = "MEM"

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.data: dict[int, bytes] = {}

    def put(self, block_id: int, data: bytes | memoryview, *, durable: bool) -> None:
        self.data[block_id] = bytes(data)
        self._account(block_id, len(data))

    def get(self, block_id: int) -> bytes | None:
        return self.data.get(block_id)

    def remove(self, block_id: int) -> None:
        self.data.pop(block_id, None)
        self._unaccount(block_id)


class SsdTier(Tier):
    """Block files ``<dir>/blocks/<id>``; written to ``tmp/`` then renamed, so a block file is
    always complete.  The index is rebuilt from the directory on start (LRU by mtime)."""

    name = "SSD"

    def __init__(self, capacity: int, directory: Path) -> None:
        super().__init__(capacity)
        self.dir = directory / "blocks"
        self.tmp = directory / "tmp"
        private_dir(self.dir)  # blocks are private: directories 0700, files 0600
        private_dir(self.tmp)
        for leftover in self.tmp.iterdir():
            leftover.unlink(missing_ok=True)
        found = []
        for entry in os.scandir(self.dir):
            if entry.name.isdigit():
                st = entry.stat()
                found.append((st.st_mtime, int(entry.name), st.st_size))
        for _, bid, size in sorted(found):
            self._account(bid, size)

    def path(self, block_id: int) -> Path:
        return self.dir / str(block_id)

    def put(self, block_id: int, data: bytes | memoryview, *, durable: bool) -> None:
        tmp = self.tmp / f"{block_id}.{os.getpid()}"
        try:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                f.write(data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, self.path(block_id))
            if durable:
                fd = os.open(self.dir, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ResourceExhausted(f"cannot write block {block_id}: {exc}", path=str(tmp)) from exc
        self._account(block_id, len(data))

    def get(self, block_id: int) -> bytes | None:
        try:
            with open(self.path(block_id), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            self._unaccount(block_id)
            return None
        if block_id not in self.sizes:  # written by another process on the same home
            self._account(block_id, len(data))
        return data

    def has_file(self, block_id: int) -> bool:
        return self.path(block_id).exists()

    def remove(self, block_id: int) -> None:
        self.path(block_id).unlink(missing_ok=True)
        self._unaccount(block_id)
