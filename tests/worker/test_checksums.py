"""Block checksums: chunk CRCs recorded by every put, verified by every read of the block
store; a block that fails is dropped, counted and remembered."""

from __future__ import annotations

import os
import random
from pathlib import Path

import crc32c
import pytest

from siltfs.errors import BlockCorrupted
from siltfs.worker.blockstore import BlockStore
from siltfs.worker.checksums import CHUNK, BlockSums, read_sums, sidecar

KiB = 1024


def payload(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def flip(path: Path, offset: int) -> None:
    """Overwrite one byte of a file in place (what a bad disk or a stray writer does)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(1)
        f.seek(offset)
        f.write(bytes([old[0] ^ 0xFF]))


def test_sums_are_crc32c_per_chunk_and_round_trip() -> None:
    data = payload(3 * CHUNK + 100)
    sums, whole = BlockSums.measure(data)
    assert whole == crc32c.crc32c(data)
    assert sums.length == len(data) and len(sums.crcs) == 4
    assert sums.crcs[3] == crc32c.crc32c(data[3 * CHUNK :])
    assert BlockSums.decode(sums.encode()) == sums
    assert sums.matches(data) and not sums.matches(data[:-1]) and not sums.matches(data + b"x")
    for bad in (b"", b"SLCK", sums.encode()[:-1], b"XXXX" + sums.encode()[4:]):
        with pytest.raises(ValueError):
            BlockSums.decode(bad)
    empty = BlockSums.of(b"")
    assert empty.crcs == () and empty.matches(b"") and BlockSums.decode(empty.encode()) == empty


def test_ranges_are_checked_by_the_chunks_they_touch() -> None:
    data = bytearray(payload(5 * CHUNK + 7))
    sums = BlockSums.of(data)
    assert sums.span(CHUNK + 5, CHUNK + 6) == (CHUNK, 2 * CHUNK)
    assert sums.span(0, len(data)) == (0, len(data))
    assert sums.span(5 * CHUNK + 1, 5 * CHUNK + 3) == (5 * CHUNK, len(data))
    a, b = sums.span(CHUNK + 5, 3 * CHUNK + 1)
    view = memoryview(data)
    # the same bytes, in pieces that do not follow chunk boundaries
    assert sums.check(a, [view[a : a + 10], view[a + 10 : 2 * CHUNK + 3], view[2 * CHUNK + 3 : b]])
    assert not sums.check(a + 1, [view[a + 1 : b]])  # not on a chunk boundary
    assert not sums.check(a, [view[a : b - 1]])  # ends inside a chunk
    assert not sums.check(4 * CHUNK, [view[4 * CHUNK :], b"more"])  # beyond the end
    data[2 * CHUNK + 100] ^= 1
    assert not sums.check(a, [view[a:b]])
    assert sums.check(0, [view[:CHUNK]])  # the other chunks are still good


def test_a_corrupt_ssd_block_is_dropped_counted_and_remembered(tmp_path: Path) -> None:
    store = BlockStore(0, 10 * CHUNK, tmp_path / "ssd")
    data = payload(2 * CHUNK + 5)
    assert store.put(7, data, durable=True) == "SSD"
    store.pin([7])
    path = store.ssd.path(7)
    assert read_sums(str(path)) == BlockSums.of(data)
    assert store.get(7) == data and store.checksum_failures == 0
    flip(path, CHUNK + 3)
    with pytest.raises(BlockCorrupted, match="checksum mismatch") as info:
        store.get(7)
    assert info.value.path == "block 7"
    assert not store.contains(7) and 7 not in store.pinned  # dropped, pinned or not
    assert not path.exists() and not Path(sidecar(str(path))).exists()
    assert store.checksum_failures == 1 and "checksum mismatch" in (store.corruption(7) or "")
    assert store.get(7) is None  # gone: a miss from now on
    store.put(7, data)  # stored again: no longer a corrupt block
    assert store.corruption(7) is None and store.get(7) == data


def test_a_block_file_without_checksums_is_corrupt(tmp_path: Path) -> None:
    store = BlockStore(0, 10 * CHUNK, tmp_path / "ssd")
    store.put(1, b"abc", ssd=True)
    os.unlink(sidecar(str(store.ssd.path(1))))
    with pytest.raises(BlockCorrupted, match="no checksums"):
        store.get(1)
    store.put(2, b"def", ssd=True)
    os.unlink(sidecar(str(store.ssd.path(2))))
    with pytest.raises(BlockCorrupted, match="no checksums"):
        store.open_block(2)
    assert store.checksum_failures == 2 and not store.contains(2)


def test_mem_blocks_are_verified_and_keep_their_sums_when_demoted(tmp_path: Path) -> None:
    store = BlockStore(CHUNK, 10 * CHUNK, tmp_path / "ssd")
    first = payload(CHUNK, 2)
    assert store.put(1, first) == "MEM"
    assert store.put(2, payload(CHUNK, 3)) == "MEM"  # block 1 demoted to SSD
    assert store.tier_of(1) == "SSD" and read_sums(str(store.ssd.path(1))) == BlockSums.of(first)
    store.mem.data[2] = b"\0" * CHUNK  # a flipped bit in memory
    with pytest.raises(BlockCorrupted):
        store.get(2)
    assert store.checksum_failures == 1 and store.get(1) == first


def test_open_block_gives_the_file_and_its_sums(tmp_path: Path) -> None:
    store = BlockStore(CHUNK, 10 * CHUNK, tmp_path / "ssd")
    data = payload(3 * CHUNK)
    store.put(5, data, ssd=True)
    opened = store.open_block(5)
    assert opened is not None
    fd, sums = opened
    assert isinstance(fd, int)
    try:
        assert os.pread(fd, 10, 0) == data[:10] and sums == BlockSums.of(data)
    finally:
        os.close(fd)
    store.put(6, b"small")
    assert store.open_block(6) == (b"small", BlockSums.of(b"small"))
    assert store.open_block(99) is None


def test_checksums_are_recorded_on_start_for_blocks_kept_without_them(tmp_path: Path) -> None:
    """An older siltfs kept no checksums: its blocks get them on start; checksums whose
    block is gone (a crash between the two renames) are removed."""
    store = BlockStore(0, 10 * CHUNK, tmp_path / "ssd")
    store.put(1, b"one", ssd=True)
    store.put(2, b"two", ssd=True)
    os.unlink(sidecar(str(store.ssd.path(1))))
    os.unlink(store.ssd.path(2))
    again = BlockStore(0, 10 * CHUNK, tmp_path / "ssd")
    assert again.get(1) == b"one" and again.checksum_failures == 0
    assert not Path(sidecar(str(again.ssd.path(2)))).exists()


@pytest.mark.parametrize("tier", ["SSD", "MEM"])
def test_range_reads_check_only_the_chunks_they_read(tmp_path: Path, tier: str) -> None:
    store = BlockStore(10 * CHUNK if tier == "MEM" else 0, 10 * CHUNK, tmp_path / "ssd")
    data = payload(4 * CHUNK + 77, 5)
    assert store.put(3, data) == tier
    for offset, size in ((0, 10), (CHUNK - 5, 10), (4 * CHUNK, 77), (4 * CHUNK + 70, 50)):
        assert store.read_range(3, offset, size) == data[offset : offset + size]
    assert store.read_range(3, len(data), 10) == b""
    assert store.read_range(99, 0, 10) is None
    if tier == "SSD":
        flip(store.ssd.path(3), 2 * CHUNK + 1)
    else:
        damaged = bytearray(data)
        damaged[2 * CHUNK + 1] ^= 1
        store.mem.data[3] = bytes(damaged)
    assert store.read_range(3, 5, 100) == data[5:105]  # chunk 0: still right
    with pytest.raises(BlockCorrupted, match="range read"):
        store.read_range(3, 2 * CHUNK - 10, 20)  # reaches into chunk 2
    assert not store.contains(3) and store.checksum_failures == 1
