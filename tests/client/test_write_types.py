"""The four write types: where the bytes are and what state the file is in after close."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.config import CacheConfig
from siltfs.errors import ResourceExhausted
from siltfs.model.enums import PersistenceState, WriteType

from .conftest import ufs_tree

DATA = bytes(range(256)) * 1000  # 256000 bytes: four 64 KiB blocks


def test_must_cache_is_cache_only_until_persist(fs: EmbeddedFileSystem) -> None:
    info = fs.write_bytes("/m", DATA, write_type="MUST_CACHE")
    assert info.persistence_state is PersistenceState.NOT_PERSISTED
    assert info.cached_percent == 100
    assert ufs_tree(fs.config.root_ufs_dir) == set()
    assert fs.persist("/m") == 1
    fs.wait_persisted("/m", timeout=30)
    assert fs.stat("/m").persistence_state is PersistenceState.PERSISTED
    assert (fs.config.root_ufs_dir / "m").read_bytes() == DATA


def test_cache_through_is_persisted_and_cached_at_close(fs: EmbeddedFileSystem) -> None:
    info = fs.write_bytes("/d/c", DATA, write_type=WriteType.CACHE_THROUGH)
    assert info.persistence_state is PersistenceState.PERSISTED
    assert info.cached_percent == 100
    assert (fs.config.root_ufs_dir / "d/c").read_bytes() == DATA
    assert ufs_tree(fs.config.root_ufs_dir) == {"d", "d/c"}  # no staging left behind


def test_through_is_persisted_and_not_cached(fs: EmbeddedFileSystem) -> None:
    info = fs.write_bytes("/t", DATA, write_type="THROUGH")
    assert info.persistence_state is PersistenceState.PERSISTED
    assert info.cached_percent == 0
    assert (fs.config.root_ufs_dir / "t").read_bytes() == DATA
    assert fs.read_bytes("/t", read_type="NO_CACHE") == DATA
    assert fs.stat("/t").cached_percent == 0


def test_async_through_persists_in_background(fs: EmbeddedFileSystem) -> None:
    info = fs.write_bytes("/a/b", DATA, write_type="ASYNC_THROUGH")
    assert info.persistence_state in (PersistenceState.TO_BE_PERSISTED, PersistenceState.PERSISTED)
    pinned = set(info.block_ids) <= fs.master.blocks.pinned
    assert pinned or fs.stat("/a/b").persisted  # unpinned only once persisted
    fs.wait_persisted(timeout=30)
    after = fs.stat("/a/b")
    assert after.persistence_state is PersistenceState.PERSISTED
    assert (fs.config.root_ufs_dir / "a/b").read_bytes() == DATA
    assert not set(after.block_ids) & fs.master.blocks.pinned  # evictable once persisted


def test_default_write_type_is_async_through(fs: EmbeddedFileSystem) -> None:
    assert fs.config.default_write_type is WriteType.ASYNC_THROUGH
    fs.master.runner.stop()  # nothing persists now: the state must stay TO_BE_PERSISTED
    info = fs.write_bytes("/x", b"1")
    assert info.persistence_state is PersistenceState.TO_BE_PERSISTED
    jobs = fs.master.ms.snapshot()
    with jobs as txn:
        job = txn.job_for_inode(info.id)
    assert job is not None and job.generation == info.generation


def test_configured_default_write_type(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(default_write_type=WriteType.CACHE_THROUGH)
    assert fs.write_bytes("/x", b"1").persistence_state is PersistenceState.PERSISTED


@pytest.mark.parametrize("wt", ["MUST_CACHE", "ASYNC_THROUGH"])
def test_cache_full_of_unpersisted_data_fails_cleanly(
    make_fs: Callable[..., EmbeddedFileSystem], wt: str
) -> None:
    fs = make_fs(
        cache=CacheConfig(block_size=64 * 1024, mem_capacity=128 * 1024, ssd_capacity=256 * 1024)
    )
    fs.master.runner.stop()  # keep ASYNC data unpersisted, hence unevictable
    fs.write_bytes("/first", b"a" * 200 * 1024, write_type=wt)
    before = fs.ls("/", recursive=True)
    with pytest.raises(ResourceExhausted):
        fs.write_bytes("/second", b"b" * 200 * 1024, write_type=wt)
    assert fs.ls("/", recursive=True) == before  # no partial file visible
    assert not fs.exists("/second")
    assert fs.read_bytes("/first") == b"a" * 200 * 1024
    store_ids = fs.master.blocks.all_block_ids()
    assert store_ids == set(fs.stat("/first").block_ids)  # failed write left no blocks


def test_persisted_data_is_evicted_to_make_room(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(
        cache=CacheConfig(block_size=64 * 1024, mem_capacity=128 * 1024, ssd_capacity=128 * 1024)
    )
    for i in range(6):
        fs.write_bytes(f"/f{i}", bytes([i]) * 64 * 1024, write_type="CACHE_THROUGH")
    cached = [fs.stat(f"/f{i}").cached_percent for i in range(6)]
    assert cached[-1] == 100 and cached[0] == 0  # LRU: the oldest went first
    for i in range(6):
        assert fs.read_bytes(f"/f{i}") == bytes([i]) * 64 * 1024


def test_pinned_files_are_not_evicted(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(
        cache=CacheConfig(block_size=64 * 1024, mem_capacity=64 * 1024, ssd_capacity=128 * 1024)
    )
    fs.write_bytes("/keep", b"k" * 64 * 1024, write_type="CACHE_THROUGH")
    fs.set_attribute("/keep", pinned=True)
    for i in range(5):
        fs.write_bytes(f"/f{i}", bytes([i]) * 64 * 1024, write_type="CACHE_THROUGH")
    assert fs.stat("/keep").cached_percent == 100
    fs.set_attribute("/keep", pinned=False)
    for i in range(5):
        fs.read_bytes(f"/f{i}")
    assert fs.stat("/keep").cached_percent == 0


def test_free_and_load(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/dir/a", DATA, write_type="CACHE_THROUGH")
    fs.write_bytes("/dir/u", b"unpersisted", write_type="MUST_CACHE")
    assert fs.free("/dir") == len(DATA)
    assert fs.stat("/dir/a").cached_percent == 0
    assert fs.stat("/dir/u").cached_percent == 100  # the only copy is never freed
    with pytest.raises(ValueError):
        fs.free("/dir/u")
    assert fs.load("/dir") == len(DATA)
    assert fs.stat("/dir/a").cached_percent == 100
    assert fs.load("/dir") == 0  # already cached


def test_overwrite_cancels_and_replaces(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/o", b"one", write_type="CACHE_THROUGH")
    fs.write_bytes("/o", b"two!", write_type="MUST_CACHE")
    # the old UFS copy must not outlive the overwrite (it would be a ghost after a delete)
    assert ufs_tree(fs.config.root_ufs_dir) == set()
    fs.delete("/o")
    assert ufs_tree(fs.config.root_ufs_dir) == set()
