"""Read types, partially cached files and random access."""

from __future__ import annotations

import io
import random

from siltfs.client.embedded import EmbeddedFileSystem

BS = 64 * 1024
DATA = random.Random(7).randbytes(BS * 5 + 1234)


def _persisted_uncached(fs: EmbeddedFileSystem, path: str = "/r") -> None:
    fs.write_bytes(path, DATA, write_type="THROUGH")
    assert fs.stat(path).cached_percent == 0


def test_no_cache_reads_without_caching(fs: EmbeddedFileSystem) -> None:
    _persisted_uncached(fs)
    assert fs.read_bytes("/r", read_type="NO_CACHE") == DATA
    assert fs.stat("/r").cached_percent == 0


def test_cache_read_fills_the_cache(fs: EmbeddedFileSystem) -> None:
    _persisted_uncached(fs)
    assert fs.read_bytes("/r", read_type="CACHE") == DATA
    assert fs.stat("/r").cached_percent == 100
    (fs.config.root_ufs_dir / "r").unlink()  # now only the cache can serve it
    assert fs.read_bytes("/r") == DATA


def test_cache_promote_moves_blocks_to_mem(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/p", DATA, write_type="MUST_CACHE")  # unpersisted data lives on SSD
    store = fs.master.blocks
    ids = fs.stat("/p").block_ids
    assert {store.tier_of(b) for b in ids} == {"SSD"}
    assert fs.read_bytes("/p", read_type="CACHE") == DATA
    assert {store.tier_of(b) for b in ids} == {"SSD"}
    assert fs.read_bytes("/p", read_type="CACHE_PROMOTE") == DATA
    assert {store.tier_of(b) for b in ids} == {"MEM"}


def test_partially_cached_file_mixes_cache_and_ufs(fs: EmbeddedFileSystem) -> None:
    _persisted_uncached(fs)
    with fs.open("/r", "rb", read_type="CACHE") as f:  # cache blocks 1 and 3 only
        f.seek(BS + 10)
        assert f.read(5) == DATA[BS + 10 : BS + 15]
        f.seek(3 * BS)
        assert f.read(BS) == DATA[3 * BS : 4 * BS]
    percent = fs.stat("/r").cached_percent
    assert 0 < percent < 100
    assert fs.read_bytes("/r", read_type="NO_CACHE") == DATA


def test_seek_and_random_reads(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/s", DATA, write_type="CACHE_THROUGH")
    fs.free("/s")
    rng = random.Random(1)
    with fs.open("/s", "rb") as f:
        for _ in range(200):
            start = rng.randrange(0, len(DATA))
            size = rng.randrange(0, 3 * BS)
            f.seek(start)
            assert f.read(size) == DATA[start : start + size]
            assert f.tell() == min(len(DATA), start + size)
        assert f.seek(-10, io.SEEK_END) == len(DATA) - 10
        assert f.read() == DATA[-10:]
        assert f.read() == b""
    assert fs.read_bytes("/s", 100, 200) == DATA[100:200]
    assert fs.read_bytes("/s", -5) == DATA[-5:]


def test_empty_file(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/e", b"")
    assert fs.read_bytes("/e") == b""
    assert fs.stat("/e").length == 0
    fs.wait_persisted(timeout=30)
    assert (fs.config.root_ufs_dir / "e").read_bytes() == b""
