"""Embedded reads verify block checksums: a cached block overwritten on disk is dropped
and counted; a persisted file is re-read from the UFS (the reader sees the right bytes)
and cached again, an unpersisted one fails with BlockCorrupted and is LOST -- never
wrong bytes.  The persister never uploads a corrupt block either."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.config import CacheConfig
from siltfs.errors import BlockCorrupted, FileLost, PersistFailed
from siltfs.model.enums import PersistenceState
from tests.client.conftest import with_persist
from tests.worker.test_checksums import flip

BLOCK = 256 * 1024


def failures(fs: EmbeddedFileSystem) -> float:
    for line in fs.metrics_text().splitlines():
        if line.startswith("silt_block_checksum_failures_total "):
            return float(line.split()[1])
    raise AssertionError("no silt_block_checksum_failures_total")


def block_file(fs: EmbeddedFileSystem, path: str, index: int) -> Path:
    bid = fs.stat(path).block_ids[index]
    found = fs.config.ssd_dir / "blocks" / str(bid)
    assert found.is_file(), "the block is cached on the SSD tier"
    return found


@pytest.fixture
def fs(make_fs: Callable[..., EmbeddedFileSystem]) -> EmbeddedFileSystem:
    return make_fs(cache=CacheConfig(block_size=BLOCK))


def test_persisted_file_is_read_from_the_ufs_and_cached_again(fs: EmbeddedFileSystem) -> None:
    data = random.Random(1).randbytes(3 * BLOCK + 10)
    fs.write_bytes("/p.bin", data, write_type="ASYNC_THROUGH")
    fs.wait_persisted("/", timeout=30)
    assert fs.stat("/p.bin").persistence_state is PersistenceState.PERSISTED
    victim = block_file(fs, "/p.bin", 1)
    flip(victim, 12345)
    assert failures(fs) == 0
    assert fs.read_bytes("/p.bin") == data
    assert failures(fs) == 1
    assert fs.stat("/p.bin").cached_percent == 100  # re-cached from the UFS
    assert fs.read_bytes("/p.bin") == data and failures(fs) == 1
    with fs.open("/p.bin", "rb") as f:  # a ranged read in the damaged block
        victim = block_file(fs, "/p.bin", 2)
        flip(victim, 5)
        f.seek(2 * BLOCK + 3)
        assert f.read(10) == data[2 * BLOCK + 3 : 2 * BLOCK + 13]
    assert failures(fs) == 2


def test_unpersisted_file_fails_clearly_and_is_lost(fs: EmbeddedFileSystem) -> None:
    data = random.Random(2).randbytes(2 * BLOCK)
    fs.write_bytes("/u.bin", data, write_type="MUST_CACHE")
    flip(block_file(fs, "/u.bin", 0), BLOCK - 1)
    with pytest.raises(
        BlockCorrupted, match="cached block 0 is corrupt .*checksum mismatch.*not persisted"
    ) as info:
        fs.read_bytes("/u.bin")
    assert info.value.path == "/u.bin" and info.value.code == "block_corrupted"
    assert failures(fs) == 1
    assert fs.stat("/u.bin").persistence_state is PersistenceState.LOST
    with pytest.raises(FileLost):
        fs.read_bytes("/u.bin")


def test_the_persister_does_not_upload_a_corrupt_block(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    home = tmp_path / "async-home"
    cache = CacheConfig(block_size=BLOCK)
    before = make_fs(home=home, cache=cache, persist=with_persist(enabled=False))
    data = random.Random(3).randbytes(2 * BLOCK)
    before.write_bytes("/a.bin", data, write_type="ASYNC_THROUGH")
    victim = block_file(before, "/a.bin", 1)
    before.close()
    flip(victim, 7)
    fs = make_fs(home=home, cache=cache, persist=with_persist(max_attempts=2))
    with pytest.raises(PersistFailed):
        fs.wait_persisted("/", timeout=30)
    assert not (fs.config.root_ufs_dir / "a.bin").exists()
    assert failures(fs) == 1
    assert "failed its checksums" in str(fs.jobs()[0].last_error)
    assert fs.stat("/a.bin").persistence_state is PersistenceState.LOST


@pytest.mark.parametrize("write_type", ["MUST_CACHE", "ASYNC_THROUGH"])
def test_small_random_reads_are_checked_too(fs: EmbeddedFileSystem, write_type: str) -> None:
    """Small reads of a block come from the cache in range, checked chunk by chunk."""
    data = random.Random(4).randbytes(2 * BLOCK)
    fs.write_bytes("/r.bin", data, write_type=write_type)
    if write_type == "ASYNC_THROUGH":
        fs.wait_persisted("/r.bin", timeout=30)  # persisted, its blocks still cached
    with fs.open("/r.bin", "rb") as f:
        f.seek(BLOCK + 100)
        assert f.read(4096) == data[BLOCK + 100 : BLOCK + 4196]
    flip(block_file(fs, "/r.bin", 1), 200)
    with fs.open("/r.bin", "rb") as f:
        f.seek(BLOCK + 100)
        if write_type == "MUST_CACHE":
            with pytest.raises(BlockCorrupted, match="not persisted"):
                f.read(4096)
        else:  # persisted: read from the UFS instead, right
            assert f.read(4096) == data[BLOCK + 100 : BLOCK + 4196]
    assert failures(fs) == 1
