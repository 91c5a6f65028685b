from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from siltfs.errors import ResourceExhausted
from siltfs.worker.blockstore import BlockStore, TierUsage


def data(tag: int, size: int = 10) -> bytes:
    return bytes([tag % 256]) * size


def usage(store: BlockStore) -> dict[str, TierUsage]:
    return {u.tier: u for u in store.usage()}


def snapshot(store: BlockStore, ids: list[int]) -> list[tuple[int, str | None, bytes | None]]:
    # tier first: get() touches LRU order but does not move blocks without promote
    return [(b, store.tier_of(b), store.get(b)) for b in ids]


def assert_no_tmp_files(ssd_dir: Path) -> None:
    tmp = ssd_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []


@pytest.fixture
def ssd_dir(tmp_path: Path) -> Path:
    return tmp_path / "ssd"


def test_put_get_in_mem(ssd_dir: Path) -> None:
    store = BlockStore(100, 100, ssd_dir)
    assert store.put(1, data(1)) == "MEM"
    assert store.put(2, memoryview(data(2, 5))) == "MEM"
    assert store.get(1) == data(1)
    assert store.get(2) == data(2, 5)
    assert store.tier_of(1) == "MEM"
    assert store.contains(1) and not store.contains(3)
    assert store.get(3) is None and store.tier_of(3) is None
    assert store.cached_bytes([1, 2, 3]) == 15
    assert usage(store)["MEM"] == TierUsage("MEM", 100, 15, 2)
    assert usage(store)["SSD"].used == 0
    assert store.ssd_path(1) is None
    assert store.all_block_ids() == {1, 2}


def test_cached_bytes_many_matches_cached_bytes(ssd_dir: Path) -> None:
    store = BlockStore(30, 100, ssd_dir)
    for bid in range(1, 6):  # 10 bytes each: three stay in MEM, the rest go to SSD
        store.put(bid, data(bid))
    store.put(6, data(6, 7), ssd=True)
    assert {store.tier_of(b) for b in range(1, 7)} == {"MEM", "SSD"}
    lists = [[], [1], [1, 2, 3], [4, 5, 6], [6, 99], [99], list(range(1, 8))]
    assert store.cached_bytes_many(lists) == [store.cached_bytes(ids) for ids in lists]
    assert store.cached_bytes_many(lists) == [0, 10, 30, 27, 7, 0, 57]
    assert store.cached_bytes_many([]) == []


def test_overwrite_same_block_is_accounted_once(ssd_dir: Path) -> None:
    store = BlockStore(100, 100, ssd_dir)
    store.put(1, data(1, 10))
    store.put(1, data(2, 30))
    assert store.get(1) == data(2, 30)
    assert usage(store)["MEM"].used == 30
    store.put(1, data(3, 5), ssd=True)
    assert store.tier_of(1) == "SSD" and store.get(1) == data(3, 5)
    assert usage(store)["MEM"].used == 0 and usage(store)["SSD"].used == 5


def test_mem_full_demotes_lru_to_ssd(ssd_dir: Path) -> None:
    store = BlockStore(30, 100, ssd_dir)
    for b in (1, 2, 3):
        assert store.put(b, data(b)) == "MEM"
    assert store.get(1) == data(1)  # 2 is now least recently used
    assert store.put(4, data(4)) == "MEM"
    assert store.tier_of(2) == "SSD"
    assert [store.tier_of(b) for b in (1, 3, 4)] == ["MEM"] * 3
    assert store.get(2) == data(2)
    assert store.ssd_path(2) is not None
    assert usage(store)["MEM"].used == 30 and usage(store)["SSD"].used == 10
    assert store.evictions == 0


def test_ssd_full_evicts_lru_unpinned(ssd_dir: Path) -> None:
    store = BlockStore(0, 30, ssd_dir)
    for b in (1, 2, 3):
        assert store.put(b, data(b)) == "SSD"
    store.get(1)  # LRU order now 2, 3, 1
    assert store.put(4, data(4)) == "SSD"
    assert not store.contains(2) and store.get(2) is None
    assert [store.get(b) for b in (1, 3, 4)] == [data(1), data(3), data(4)]
    assert store.evictions == 1
    assert usage(store)["SSD"].used == 30
    assert not (ssd_dir / "blocks" / "2").exists()


def test_pinned_blocks_are_skipped_by_eviction(ssd_dir: Path) -> None:
    store = BlockStore(0, 30, ssd_dir)
    for b in (1, 2, 3):
        store.put(b, data(b))
    store.pin([1])  # 1 is the LRU block but pinned: 2 goes instead
    store.put(4, data(4))
    assert store.contains(1) and not store.contains(2)
    store.put(5, data(5))
    assert store.contains(1) and not store.contains(3)


def test_pinned_blocks_are_never_evicted(ssd_dir: Path) -> None:
    store = BlockStore(20, 40, ssd_dir)
    pinned = {b: data(b) for b in (1, 2, 3)}
    for b, d in pinned.items():
        store.put(b, d)
    store.pin(pinned)
    for b in range(10, 60):
        store.put(b, data(b))
        store.get(b - 1)
    for b, d in pinned.items():
        assert store.get(b) == d
    assert usage(store)["MEM"].used <= 20 and usage(store)["SSD"].used <= 40


@pytest.mark.parametrize("durable", [False, True])
def test_only_pinned_left_put_raises_and_changes_nothing(ssd_dir: Path, durable: bool) -> None:
    store = BlockStore(20, 20, ssd_dir)
    store.put(1, data(1))
    store.put(2, data(2))
    store.put(3, data(3), ssd=True)
    store.put(4, data(4), ssd=True)
    store.pin([1, 2, 3, 4])
    before = snapshot(store, [1, 2, 3, 4])
    before_usage = store.usage()
    with pytest.raises(ResourceExhausted) as info:
        store.put(5, data(5), durable=durable)
    assert isinstance(info.value, OSError)
    assert snapshot(store, [1, 2, 3, 4]) == before
    assert store.usage() == before_usage
    assert not store.contains(5) and store.tier_of(5) is None
    assert store.evictions == 0
    assert_no_tmp_files(ssd_dir)


def test_unpinned_mem_block_makes_room_behind_a_pinned_one(ssd_dir: Path) -> None:
    store = BlockStore(20, 20, ssd_dir)
    store.put(1, data(1))  # pinned, least recently used
    store.put(2, data(2))  # unpinned
    store.put(3, data(3), ssd=True)
    store.put(4, data(4), ssd=True)
    store.pin([1, 3, 4])
    assert store.put(5, data(5)) == "MEM"
    assert not store.contains(2)
    assert [store.get(b) for b in (1, 3, 4, 5)] == [data(1), data(3), data(4), data(5)]


def test_failed_reput_of_pinned_block_keeps_old_bytes(ssd_dir: Path) -> None:
    store = BlockStore(0, 20, ssd_dir)
    store.put(1, data(1), ssd=True)
    store.put(2, data(2), ssd=True)
    store.pin([1, 2])
    with pytest.raises(ResourceExhausted):
        store.put(1, data(9, 15), ssd=True)
    assert store.get(1) == data(1)


def test_block_larger_than_every_tier(ssd_dir: Path) -> None:
    store = BlockStore(10, 10, ssd_dir)
    store.put(1, data(1, 4))
    with pytest.raises(ResourceExhausted):
        store.put(2, data(2, 11))
    assert store.get(1) == data(1, 4) and not store.contains(2)


@pytest.mark.parametrize("flag", ["durable", "ssd"])
def test_durable_and_ssd_land_on_ssd(ssd_dir: Path, flag: str) -> None:
    store = BlockStore(100, 100, ssd_dir)
    assert store.put(7, data(7), **{flag: True}) == "SSD"
    assert store.tier_of(7) == "SSD"
    path = store.ssd_path(7)
    assert path is not None and path.read_bytes() == data(7)
    assert usage(store)["MEM"].used == 0
    assert_no_tmp_files(ssd_dir)


def test_promote_moves_ssd_block_to_mem(ssd_dir: Path) -> None:
    store = BlockStore(100, 100, ssd_dir)
    store.put(1, data(1), ssd=True)
    assert store.get(1) == data(1)
    assert store.tier_of(1) == "SSD"
    assert store.get(1, promote=True) == data(1)
    assert store.tier_of(1) == "MEM"
    assert store.ssd_path(1) is None
    assert usage(store)["SSD"].used == 0 and usage(store)["MEM"].used == 10
    assert store.get(1) == data(1)


def test_promote_into_full_mem_demotes_lru(ssd_dir: Path) -> None:
    store = BlockStore(20, 100, ssd_dir)
    store.put(1, data(1))
    store.put(2, data(2))
    store.put(3, data(3), ssd=True)
    assert store.get(3, promote=True) == data(3)
    assert store.tier_of(3) == "MEM"
    assert store.tier_of(1) == "SSD" and store.get(1) == data(1)


def test_hits_and_misses(ssd_dir: Path) -> None:
    store = BlockStore(100, 100, ssd_dir)
    store.put(1, data(1))
    store.put(2, data(2), ssd=True)
    store.get(1)
    store.get(2)
    store.get(2)
    store.get(3)
    assert store.hits == {"MEM": 1, "SSD": 2}
    assert store.misses == 1


def test_free_skips_pinned(ssd_dir: Path) -> None:
    store = BlockStore(20, 100, ssd_dir)
    for b in (1, 2, 3):
        store.put(b, data(b))  # 1 ends up on SSD
    store.pin([2])
    assert store.free([1, 2, 3, 99]) == 2
    assert not store.contains(1) and not store.contains(3)
    assert store.get(2) == data(2)
    store.unpin([2])
    assert store.free([2]) == 1
    assert not store.contains(2)
    assert store.usage() == [TierUsage("MEM", 20, 0, 0), TierUsage("SSD", 100, 0, 0)]
    assert list((ssd_dir / "blocks").iterdir()) == []


def test_remove_ignores_pinning(ssd_dir: Path) -> None:
    store = BlockStore(10, 100, ssd_dir)
    store.put(1, data(1))
    store.put(2, data(2))  # 1 demoted to SSD
    store.pin([1, 2])
    store.remove([1, 2, 3])
    assert not store.contains(1) and not store.contains(2)
    assert store.pinned == set()
    assert all(u.used == 0 for u in store.usage())


def test_ssd_blocks_survive_restart(ssd_dir: Path) -> None:
    store = BlockStore(100, 100, ssd_dir)
    store.put(1, data(1, 7), durable=True)
    store.put(2, data(2, 9), ssd=True)
    store.put(3, data(3))  # MEM only: gone after a restart
    del store
    again = BlockStore(100, 100, ssd_dir)
    assert again.get(1) == data(1, 7) and again.tier_of(1) == "SSD"
    assert again.get(2) == data(2, 9)
    assert again.get(3) is None and not again.contains(3)
    assert usage(again)["SSD"] == TierUsage("SSD", 100, 16, 2)
    assert again.cached_bytes([1, 2, 3]) == 16
    assert again.free([1]) == 1
    assert usage(again)["SSD"].used == 9


def test_restart_evicts_by_lru_and_accounts_capacity(ssd_dir: Path) -> None:
    first = BlockStore(0, 30, ssd_dir)
    for b in (1, 2, 3):
        first.put(b, data(b))
    os.utime(ssd_dir / "blocks" / "1", (1_000, 1_000))  # make 1 clearly the oldest
    second = BlockStore(0, 30, ssd_dir)
    assert usage(second)["SSD"].used == 30
    second.put(4, data(4))
    assert not second.contains(1)
    assert [second.get(b) for b in (2, 3, 4)] == [data(2), data(3), data(4)]


def test_restart_cleans_leftover_tmp_files(ssd_dir: Path) -> None:
    BlockStore(10, 10, ssd_dir)
    (ssd_dir / "tmp" / "5.12345").write_bytes(b"half a block")
    store = BlockStore(10, 10, ssd_dir)
    assert_no_tmp_files(ssd_dir)
    assert not store.contains(5)
    assert usage(store)["SSD"].used == 0


def test_no_tmp_files_left_behind(ssd_dir: Path) -> None:
    store = BlockStore(15, 25, ssd_dir)
    for b in range(30):
        try:
            store.put(b, data(b, 5 + b % 7), durable=b % 3 == 0, ssd=b % 5 == 0)
        except ResourceExhausted:
            pass
        store.get(b // 2, promote=b % 2 == 0)
    assert_no_tmp_files(ssd_dir)
    names = {p.name for p in (ssd_dir / "blocks").iterdir()}
    on_disk = {int(n) for n in names if n.isdigit()}
    assert on_disk == {b for b in range(30) if store.tier_of(b) == "SSD"}
    assert names - {str(b) for b in on_disk} == {f"{b}.crc" for b in on_disk}  # checksums


def test_flush_mem(ssd_dir: Path) -> None:
    store = BlockStore(100, 100, ssd_dir)
    store.put(1, data(1))
    store.put(2, data(2))
    store.pin([1])
    store.flush_mem()  # pinned first, then the rest while SSD has room
    assert store.tier_of(1) == "SSD" and store.tier_of(2) == "SSD"
    restarted = BlockStore(100, 100, ssd_dir)
    assert restarted.get(1) == data(1) and restarted.get(2) == data(2)


def test_flush_mem_keeps_unpinned_in_mem_without_room(ssd_dir: Path) -> None:
    store = BlockStore(100, len(data(1)), ssd_dir)
    store.put(1, data(1))
    store.put(2, data(2))
    store.pin([2])
    store.flush_mem()
    assert store.tier_of(2) == "SSD" and store.tier_of(1) == "MEM"


def test_concurrent_use(ssd_dir: Path) -> None:
    store = BlockStore(200, 400, ssd_dir)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(150):
                bid = t * 1000 + i
                store.put(bid, data(bid, 10))
                got = store.get(bid - 3, promote=i % 2 == 0)
                assert got is None or got == data(bid - 3, 10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    for u in store.usage():
        assert 0 <= u.used <= u.capacity
    assert_no_tmp_files(ssd_dir)
