"""Storage tiers.  MEM keeps bytes in a dict; SSD keeps one file per block in a directory.
Each block's checksums (:mod:`siltfs.worker.checksums`) are kept beside it: in a dict in
MEM, in a sidecar file on SSD."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from siltfs import pieces
from siltfs.errors import ResourceExhausted
from siltfs.home import private_dir
from siltfs.worker.checksums import SUFFIX, BlockSums, read_sums, sidecar

log = logging.getLogger("siltfs.worker")


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

    def put(
        self, block_id: int, data: bytes | memoryview, *, durable: bool, sums: BlockSums
    ) -> None:
        raise NotImplementedError

    def get(self, block_id: int) -> bytes | None:
        raise NotImplementedError

    def sums(self, block_id: int) -> BlockSums | None:
        """The checksums recorded with the block (None: none, which means damage)."""
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
        self.checksums: dict[int, BlockSums] = {}

    def put(
        self, block_id: int, data: bytes | memoryview, *, durable: bool, sums: BlockSums
    ) -> None:
        self.data[block_id] = bytes(data)
        self.checksums[block_id] = sums
        self._account(block_id, len(data))

    def get(self, block_id: int) -> bytes | None:
        return self.data.get(block_id)

    def sums(self, block_id: int) -> BlockSums | None:
        return self.checksums.get(block_id)

    def remove(self, block_id: int) -> None:
        self.data.pop(block_id, None)
        self.checksums.pop(block_id, None)
        self._unaccount(block_id)


@dataclass(frozen=True)
class StagedBlock:
    """A block's files written in the SSD tier's ``tmp/``, not yet in place."""

    block_id: int
    size: int
    sums_file: Path
    block_file: Path


class SsdTier(Tier):
    """Block files ``<dir>/blocks/<id>`` and their checksums ``<id>.crc``; each written to
    ``tmp/`` then renamed (the checksums first), so a block file is always complete.  The
    index is rebuilt from the directory on start (LRU by mtime): a block file without
    checksums (kept by an older siltfs) gets them then, checksums without a block go."""

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
        sums: set[str] = set()
        for entry in os.scandir(self.dir):
            if entry.name.isdigit():
                st = entry.stat()
                found.append((st.st_mtime, int(entry.name), st.st_size))
            elif entry.name.endswith(SUFFIX):
                sums.add(entry.name[: -len(SUFFIX)])
        for name in sums - {str(bid) for _, bid, _ in found}:
            (self.dir / (name + SUFFIX)).unlink(missing_ok=True)
        unsummed = [bid for _, bid, _ in found if str(bid) not in sums]
        for bid in unsummed:
            self._write_sums(bid, BlockSums.of(self.path(bid).read_bytes()), durable=True)
        if unsummed:
            log.warning("recorded checksums of %d block(s) kept without them", len(unsummed))
        for _, bid, size in sorted(found):
            self._account(bid, size)

    def path(self, block_id: int) -> Path:
        return self.dir / str(block_id)

    def _stage_file(self, name: str, data: bytes | memoryview, *, durable: bool) -> Path:
        """Write *data* to a new file in ``tmp/`` (fsynced when *durable*); returns it."""
        tmp = self.tmp / f"{name}.{os.getpid()}.{threading.get_ident()}"
        try:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                pieces.write(f, data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ResourceExhausted(
                f"cannot write block file {name}: {exc}", path=str(tmp)
            ) from exc
        return tmp

    def _write(self, name: str, data: bytes | memoryview, *, durable: bool) -> None:
        """Write ``<dir>/<name>`` whole or not at all (through ``tmp/``)."""
        tmp = self._stage_file(name, data, durable=durable)
        try:
            os.replace(tmp, self.dir / name)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ResourceExhausted(
                f"cannot place block file {name}: {exc}", path=str(tmp)
            ) from exc

    def _write_sums(self, block_id: int, sums: BlockSums, *, durable: bool) -> None:
        self._write(f"{block_id}{SUFFIX}", sums.encode(), durable=durable)

    def stage(
        self, block_id: int, data: bytes | memoryview, *, durable: bool, sums: BlockSums
    ) -> StagedBlock:
        """A block's files written in ``tmp/`` -- the slow part of :meth:`put`, which
        needs no lock -- to be :meth:`install`-ed (or :meth:`discard`-ed)."""
        sums_file = self._stage_file(f"{block_id}{SUFFIX}", sums.encode(), durable=durable)
        try:
            block_file = self._stage_file(str(block_id), data, durable=durable)
        except BaseException:
            sums_file.unlink(missing_ok=True)
            raise
        return StagedBlock(block_id, len(data), sums_file, block_file)

    def install(self, staged: StagedBlock) -> None:
        """Move staged files into place (the checksums first) and account the block."""
        target = self.path(staged.block_id)
        try:
            os.replace(staged.sums_file, sidecar(str(target)))
            os.replace(staged.block_file, target)
        except OSError as exc:
            raise ResourceExhausted(f"cannot place block file: {exc}", path=str(target)) from exc
        self._account(staged.block_id, staged.size)

    @staticmethod
    def discard(staged: StagedBlock) -> None:
        staged.sums_file.unlink(missing_ok=True)
        staged.block_file.unlink(missing_ok=True)

    def sync_dir(self) -> None:
        """fsync the block directory: installed blocks survive a power cut."""
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def put(
        self, block_id: int, data: bytes | memoryview, *, durable: bool, sums: BlockSums
    ) -> None:
        staged = self.stage(block_id, data, durable=durable, sums=sums)
        try:
            self.install(staged)
        except BaseException:
            self.discard(staged)
            raise
        if durable:
            self.sync_dir()

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

    def sums(self, block_id: int) -> BlockSums | None:
        return read_sums(str(self.path(block_id)))

    def open(self, block_id: int) -> int | None:
        """A descriptor of the block file (None: no such file)."""
        try:
            return os.open(self.path(block_id), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None

    def has_file(self, block_id: int) -> bool:
        return self.path(block_id).exists()

    def remove(self, block_id: int) -> None:
        path = self.path(block_id)
        path.unlink(missing_ok=True)
        Path(sidecar(str(path))).unlink(missing_ok=True)
        self._unaccount(block_id)
