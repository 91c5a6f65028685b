"""The block store: put/get blocks across tiers with LRU eviction and pinning.

Placement: a block goes to the top tier that can take it (``durable=True`` forces the
SSD tier and fsyncs).  Making room in MEM demotes its least recently used blocks to
SSD; making room in SSD evicts its least recently used *unpinned* blocks.  Pinned
blocks (pinned files and data not yet persisted) are never dropped; when only they are
left, :class:`~siltfs.errors.ResourceExhausted` is raised and nothing is written.

Every block carries checksums (:mod:`siltfs.worker.checksums`), recorded by :meth:`put`
and verified by every read: :meth:`get` checks the whole block, :meth:`open_block` hands
a reader of ranges the checksums to check what it sends.  A block that fails is dropped
(whatever its pinning: its bytes are wrong), counted in ``checksum_failures``,
remembered in ``corrupt`` until it is stored again, and
:class:`~siltfs.errors.BlockCorrupted` is raised.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from siltfs.errors import BlockCorrupted, ResourceExhausted
from siltfs.worker.checksums import BlockSums
from siltfs.worker.holder import BlockHolder, TierUsage
from siltfs.worker.tiers import MemTier, SsdTier, Tier

log = logging.getLogger("siltfs.worker")
CORRUPT_REMEMBERED = 4096  # ids of dropped corrupt blocks kept (to answer why they are gone)


class BlockStore:
    def __init__(self, mem_capacity: int, ssd_capacity: int, ssd_dir: Path) -> None:
        self.mem = MemTier(mem_capacity)
        self.ssd = SsdTier(ssd_capacity, ssd_dir)
        self.tiers: list[Tier] = [self.mem, self.ssd]
        self.pinned: set[int] = set()
        self.lock = threading.RLock()
        self.evictions = 0
        self.hits = {"MEM": 0, "SSD": 0}
        self.misses = 0
        self.written_bytes = 0  # block bytes put into the cache (any tier)
        self.checksum_failures = 0
        self.corrupt: OrderedDict[int, str] = OrderedDict()  # block id -> what failed

    # pinning --------------------------------------------------------------
    def pin(self, block_ids: Iterable[int]) -> None:
        with self.lock:
            self.pinned.update(block_ids)

    def unpin(self, block_ids: Iterable[int]) -> None:
        with self.lock:
            self.pinned.difference_update(block_ids)

    # placement ------------------------------------------------------------
    def put(
        self,
        block_id: int,
        data: bytes | memoryview,
        *,
        durable: bool = False,
        ssd: bool = False,
        sums: BlockSums | None = None,
    ) -> str:
        """Store a block; returns the tier name.  Raises ResourceExhausted.

        ``ssd=True`` places it on the SSD tier (data that must outlive the process);
        ``durable=True`` also fsyncs it before returning.  *sums*: its checksums, if the
        caller has them already (computed from *data* otherwise).
        """
        size = len(data)
        self.written_bytes += size
        if sums is None:
            sums = BlockSums.of(data)
        elif sums.length != size:
            raise ValueError(f"checksums of {sums.length} bytes for a {size}-byte block")
        with self.lock:
            order = [self.ssd] if (durable or ssd) else self.tiers
            for tier in order:
                if size > tier.capacity:
                    continue
                if tier is self.ssd:
                    break  # written outside the lock, below
                if self._make_room(tier, size - tier.sizes.get(block_id, 0), keep=block_id):
                    self._drop(block_id)
                    tier.put(block_id, data, durable=durable, sums=sums)
                    self.corrupt.pop(block_id, None)
                    return tier.name
            else:
                raise self._no_room(block_id, size)
        # SSD: the files are written (and fsynced) without the lock -- other blocks are
        # read and written meanwhile -- then moved into place under it
        staged = self.ssd.stage(block_id, data, durable=durable, sums=sums)
        try:
            with self.lock:
                own = self.ssd.sizes.get(block_id, 0)  # an older copy makes room too
                if not self._make_room(self.ssd, size - own, keep=block_id):
                    raise self._no_room(block_id, size)
                for tier in self.tiers:  # (the SSD files are replaced by the install)
                    if tier is not self.ssd and block_id in tier:
                        tier.remove(block_id)
                self.ssd.install(staged)
                self.corrupt.pop(block_id, None)
        except BaseException:
            self.ssd.discard(staged)
            raise
        if durable:
            self.ssd.sync_dir()
        return self.ssd.name

    @staticmethod
    def _no_room(block_id: int, size: int) -> ResourceExhausted:
        return ResourceExhausted(
            f"no cache space for a {size}-byte block: the rest is pinned or not yet persisted",
            path=f"block {block_id}",
        )

    def _make_room(self, tier: Tier, size: int, keep: int | None = None) -> bool:
        """Free *size* bytes in *tier* (never touching block *keep*); True on success."""
        if tier.free_space() >= size:
            return True
        if tier is self.mem:
            for victim in list(self.mem.sizes):
                if self.mem.free_space() >= size:
                    break
                if victim != keep:
                    self._demote(victim)
            return self.mem.free_space() >= size
        for victim in list(self.ssd.sizes):
            if self.ssd.free_space() >= size:
                break
            if victim not in self.pinned and victim != keep:
                self.ssd.remove(victim)
                self.evictions += 1
        return self.ssd.free_space() >= size

    def _demote(self, block_id: int) -> None:
        """Move a MEM block to SSD; an unpinned one is dropped if SSD has no room,
        a pinned one then stays in MEM."""
        size = self.mem.sizes[block_id]
        if size <= self.ssd.capacity and self._make_room(self.ssd, size):
            data = self.mem.get(block_id)
            sums = self.mem.sums(block_id)
            self.mem.remove(block_id)
            if data is not None and sums is not None:
                self.ssd.put(block_id, data, durable=False, sums=sums)
        elif block_id not in self.pinned:
            self.mem.remove(block_id)
            self.evictions += 1

    # access ---------------------------------------------------------------
    def get(self, block_id: int, *, promote: bool = False, wait: bool = False) -> bytes | None:
        """The block's bytes, verified whole; None if it is not here.  Raises
        BlockCorrupted (the block dropped) if they fail their checksums.  (*wait* is for
        a cluster view, whose workers may not have reported yet; a store holds its
        blocks or not.)"""
        with self.lock:
            for tier in self.tiers:
                if block_id in tier or (tier is self.ssd and self.ssd.has_file(block_id)):
                    data = tier.get(block_id)
                    if data is None:
                        continue
                    sums = tier.sums(block_id)
                    if sums is None or not sums.matches(data):
                        what = "no checksums recorded" if sums is None else "checksum mismatch"
                        raise self.corrupted(block_id, f"{what} ({tier.name} tier)")
                    if block_id in tier:
                        tier.touch(block_id)
                    self.hits[tier.name] += 1
                    if promote and tier is not self.mem and len(data) <= self.mem.capacity:
                        if self._make_room(self.mem, len(data), keep=block_id):
                            tier.remove(block_id)
                            self.mem.put(block_id, data, durable=False, sums=sums)
                    return data
            self.misses += 1
            return None

    def open_block(
        self, block_id: int, *, promote: bool = False
    ) -> tuple[bytes | int, BlockSums] | None:
        """The block to send in ranges, with its checksums to verify what is sent: an open
        descriptor of its SSD file (the caller closes it; never read whole into memory)
        or its bytes (MEM tier, or after a promotion); None if it is not here.  Counted
        as a hit and touched (LRU) like :meth:`get`.  Raises BlockCorrupted (the block
        dropped) if it has no checksums."""
        if promote:
            data = self.get(block_id, promote=True)
            if data is None:
                return None
            return data, BlockSums.of(data)  # verified whole just now
        with self.lock:
            for tier in self.tiers:
                if block_id not in tier and not (tier is self.ssd and self.ssd.has_file(block_id)):
                    continue
                source: bytes | int | None
                source = self.ssd.open(block_id) if tier is self.ssd else tier.get(block_id)
                if source is None:
                    continue
                sums = tier.sums(block_id)
                if sums is None:
                    if isinstance(source, int):
                        os.close(source)
                    raise self.corrupted(block_id, f"no checksums recorded ({tier.name} tier)")
                if block_id in tier:
                    tier.touch(block_id)
                self.hits[tier.name] += 1
                return source, sums
            self.misses += 1
            return None

    def read_range(self, block_id: int, offset: int, size: int) -> bytes | None:
        """Bytes ``[offset, offset + size)`` of the block, verified in the checksum chunks
        they lie in only (a small read of a large block reads and checks little); None if
        the block is not here.  Raises BlockCorrupted (the block dropped) on a mismatch."""
        found = self.open_block(block_id)
        if found is None:
            return None
        source, sums = found
        start = offset - offset % sums.chunk
        stop = min(sums.length, -(-(offset + size) // sums.chunk) * sums.chunk)
        if isinstance(source, int):
            try:
                piece = os.pread(source, max(0, stop - start), start)
            finally:
                os.close(source)
        else:
            piece = source[start:stop]
        if start >= stop or not sums.check(start, [piece]):
            if start >= stop and offset >= sums.length:
                return b""
            raise self.corrupted(block_id, "checksum mismatch (range read)")
        return piece[offset - start : offset - start + size]

    def corrupted(self, block_id: int, reason: str) -> BlockCorrupted:
        """Drop a block whose bytes failed their checksums, count it; the error to raise."""
        with self.lock:
            self.pinned.discard(block_id)
            self._drop(block_id)
            self.checksum_failures += 1
            self.corrupt[block_id] = reason
            while len(self.corrupt) > CORRUPT_REMEMBERED:
                self.corrupt.popitem(last=False)
        log.error("block %d failed its checksums and was dropped: %s", block_id, reason)
        return BlockCorrupted(
            f"failed its checksums ({reason}) and was dropped", path=f"block {block_id}"
        )

    def corruption(self, block_id: int) -> str | None:
        """Why the block was dropped as corrupt, if it was (and not stored again since)."""
        with self.lock:
            return self.corrupt.get(block_id)

    def contains(self, block_id: int) -> bool:
        with self.lock:
            return block_id in self.mem or block_id in self.ssd or self.ssd.has_file(block_id)

    def tier_of(self, block_id: int) -> str | None:
        with self.lock:
            for tier in self.tiers:
                if block_id in tier:
                    return tier.name
            return "SSD" if self.ssd.has_file(block_id) else None

    def ssd_path(self, block_id: int) -> Path | None:
        """The block's file if it is on the SSD tier (short-circuit reads)."""
        path = self.ssd.path(block_id)
        return path if path.exists() else None

    def cached_bytes(self, block_ids: Iterable[int]) -> int:
        with self.lock:
            return self._cached_bytes(block_ids)

    def cached_bytes_many(self, block_id_lists: Iterable[Iterable[int]]) -> list[int]:
        """:meth:`cached_bytes` of each list, under one lock (ls of a large directory)."""
        with self.lock:
            return [self._cached_bytes(ids) for ids in block_id_lists]

    def _cached_bytes(self, block_ids: Iterable[int]) -> int:
        """(Under the lock.)  Set operations, not a loop per block: a commit to a large
        file asks for all of its blocks."""
        left = set(block_ids)
        total = 0
        for tier in self.tiers:
            sizes = tier.sizes
            found = left & sizes.keys()
            if found:
                total += sum(map(sizes.__getitem__, found))
                left -= found
        return total

    def _drop(self, block_id: int) -> None:
        for tier in self.tiers:
            if block_id in tier or tier is self.ssd:
                tier.remove(block_id)

    def free(self, block_ids: Iterable[int]) -> int:
        """Drop unpinned blocks; returns how many were dropped."""
        n = 0
        with self.lock:
            for bid in block_ids:
                if bid in self.pinned:
                    continue
                if self.contains(bid):
                    self._drop(bid)
                    n += 1
        return n

    def remove(self, block_ids: Iterable[int]) -> None:
        """Drop blocks whatever their pinning (their file is gone)."""
        with self.lock:
            for bid in block_ids:
                self.pinned.discard(bid)
                self._drop(bid)

    def all_block_ids(self) -> set[int]:
        with self.lock:
            return set(self.mem.sizes) | set(self.ssd.sizes)

    @property
    def version(self) -> int:
        """Changes whenever a block arrives or leaves (a cheap 'anything new?' check)."""
        return self.mem.changes + self.ssd.changes

    def block_sizes(self) -> dict[int, int]:
        """Every cached block and its size."""
        with self.lock:
            return {**self.ssd.sizes, **self.mem.sizes}

    def usage(self) -> list[TierUsage]:
        with self.lock:
            return [TierUsage(t.name, t.capacity, t.used, len(t.sizes)) for t in self.tiers]

    def flush_mem(self) -> None:
        """Before a clean shutdown: move pinned MEM blocks to SSD, and the others too
        while SSD has free room, so the cache stays warm across a restart."""
        with self.lock:
            for bid in [b for b in self.mem.sizes if b in self.pinned]:
                self._demote(bid)
            for bid in list(self.mem.sizes):
                if self.ssd.free_space() >= self.mem.sizes[bid]:
                    self._demote(bid)


_IS_A_HOLDER: type[BlockHolder] = BlockStore  # (mypy checks the protocol)
__all__ = ["BlockStore", "TierUsage"]
