from __future__ import annotations

from siltfs.model.enums import JobState, PersistenceState, TtlAction
from siltfs.model.inode import (
    BLOCK_INDEX_BITS,
    FileInfo,
    Inode,
    MountInfo,
    PersistJob,
    block_count,
    block_id,
)


def test_block_ids_are_distinct_across_inodes_and_indexes() -> None:
    ids = {block_id(inode, index) for inode in range(1, 50) for index in range(0, 50)}
    assert len(ids) == 49 * 50
    assert block_id(1, 0) == 1 << BLOCK_INDEX_BITS
    assert block_id(2, (1 << BLOCK_INDEX_BITS) - 1) < block_id(3, 0)


def test_block_count() -> None:
    assert block_count(0, 10) == 0
    assert block_count(1, 10) == 1
    assert block_count(10, 10) == 1
    assert block_count(11, 10) == 2
    assert block_count(100, 10) == 10


def test_inode_block_ids() -> None:
    inode = Inode(id=7, parent_id=1, name="f", is_dir=False, length=25, block_size=10)
    assert inode.block_ids() == [block_id(7, 0), block_id(7, 1), block_id(7, 2)]
    empty = Inode(id=8, parent_id=1, name="e", is_dir=False, length=0, block_size=10)
    assert empty.block_ids() == []


def test_file_info_to_dict_is_plain() -> None:
    info = FileInfo(
        path="/a/f",
        name="f",
        id=9,
        is_dir=False,
        length=3,
        mtime=1.5,
        block_size=10,
        block_ids=[block_id(9, 0)],
        persistence_state=PersistenceState.PERSISTED,
        cached_percent=100,
        pinned=False,
        ttl=None,
        ttl_action=TtlAction.FREE,
        generation=1,
        mount_point=False,
    )
    assert info.persisted
    d = info.to_dict()
    assert d["persistence_state"] == "PERSISTED"
    assert d["ttl_action"] == "FREE"
    assert type(d["persistence_state"]) is str
    assert d["path"] == "/a/f" and d["block_ids"] == [block_id(9, 0)]


def test_job_and_mount_to_dict() -> None:
    job = PersistJob(id=1, inode_id=5, generation=2, state=JobState.FAILED, last_error="x")
    d = job.to_dict()
    assert d["state"] == "FAILED" and type(d["state"]) is str
    assert d["inode_id"] == 5 and d["last_error"] == "x"
    mount = MountInfo(id=3, path="/m", uri="memory://x", options={"k": 1})
    assert mount.to_dict() == {
        "id": 3,
        "path": "/m",
        "uri": "memory://x",
        "options": {"k": 1},
        "sync_interval_ms": None,
        "read_only": False,
    }
