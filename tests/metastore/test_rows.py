"""Row <-> Inode conversion: positional, so the column order must be the field order."""

from __future__ import annotations

from dataclasses import fields

from siltfs.metastore.rows import INODE_COL_NAMES, inode_from_row, inode_params, inodes_from_rows
from siltfs.model.enums import PersistenceState, TtlAction
from siltfs.model.inode import Inode


def test_columns_are_the_inode_fields_in_order() -> None:
    assert INODE_COL_NAMES == tuple(f.name for f in fields(Inode))


def test_round_trip() -> None:
    inodes = [
        Inode(id=2, parent_id=1, name="a", is_dir=True),
        Inode(
            id=3,
            parent_id=2,
            name="f",
            is_dir=False,
            length=5,
            block_size=4,
            generation=3,
            state=PersistenceState.PERSISTED,
            created_ms=10,
            mtime_ms=11,
            pinned=True,
            ttl_ms=60,
            ttl_action=TtlAction.FREE,
            mount_id=7,
            fingerprint="fp",
            content_hash="h",
            sync_ms=12,
        ),
    ]
    rows = [inode_params(i) for i in inodes]
    assert [inode_from_row(r) for r in rows] == inodes
    assert inodes_from_rows(iter(rows)) == inodes
    got = inodes_from_rows(rows)
    assert [type(i.is_dir) for i in got] == [bool, bool]
    assert [type(i.pinned) for i in got] == [bool, bool]
    assert got[1].state is PersistenceState.PERSISTED and got[1].ttl_action is TtlAction.FREE
