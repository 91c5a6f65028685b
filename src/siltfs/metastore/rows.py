"""Row <-> model conversion shared by the SQL metastores (column order is the contract)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from siltfs.model.enums import JobState, PersistenceState, TtlAction
from siltfs.model.inode import Inode, MountInfo, PersistJob

INODE_COLS = (
    "id, parent_id, name, is_dir, length, block_size, generation, state, created_ms, mtime_ms, "
    "pinned, ttl_ms, ttl_action, mount_id, fingerprint, content_hash, sync_ms, attrs, shared"
)
INODE_COL_NAMES = tuple(c.strip() for c in INODE_COLS.split(","))
JOB_COLS = (
    "id, inode_id, generation, state, attempts, last_error, created_ms, updated_ms, "
    "next_run_ms, lease_owner, lease_expires_ms, token"
)
MOUNT_COLS = "id, path, uri, options, sync_interval_ms, read_only"

_STATES = {s.value: s for s in PersistenceState}
_ACTIONS = {a.value: a for a in TtlAction}
_JOB_STATES = {s.value: s for s in JobState}


def inode_from_row(row: Any) -> Inode:
    (
        id_,
        parent_id,
        name,
        is_dir,
        length,
        block_size,
        generation,
        state,
        created_ms,
        mtime_ms,
        pinned,
        ttl_ms,
        ttl_action,
        mount_id,
        fingerprint,
        content_hash,
        sync_ms,
        attrs,
        shared,
    ) = row
    return Inode(
        id_,
        parent_id,
        name,
        bool(is_dir),
        length,
        block_size,
        generation,
        _STATES[state],
        created_ms,
        mtime_ms,
        bool(pinned),
        ttl_ms,
        _ACTIONS[ttl_action],
        mount_id,
        fingerprint,
        content_hash,
        sync_ms,
        attrs,
        shared,
    )


def inodes_from_rows(rows: Iterable[Any]) -> list[Inode]:
    """:func:`inode_from_row` of each row, in one comprehension (positional arguments,
    no call per row: listing a large directory is hot)."""
    states, actions = _STATES, _ACTIONS
    return [
        Inode(
            id_,
            parent_id,
            name,
            bool(is_dir),
            length,
            block_size,
            generation,
            states[state],
            created_ms,
            mtime_ms,
            bool(pinned),
            ttl_ms,
            actions[ttl_action],
            mount_id,
            fingerprint,
            content_hash,
            sync_ms,
            attrs,
            shared,
        )
        for (
            id_,
            parent_id,
            name,
            is_dir,
            length,
            block_size,
            generation,
            state,
            created_ms,
            mtime_ms,
            pinned,
            ttl_ms,
            ttl_action,
            mount_id,
            fingerprint,
            content_hash,
            sync_ms,
            attrs,
            shared,
        ) in rows
    ]


def inode_params(i: Inode) -> tuple[Any, ...]:
    """The inode's values in :data:`INODE_COLS` order (booleans as 0/1)."""
    return (
        i.id,
        i.parent_id,
        i.name,
        int(i.is_dir),
        i.length,
        i.block_size,
        i.generation,
        i.state.value,
        i.created_ms,
        i.mtime_ms,
        int(i.pinned),
        i.ttl_ms,
        i.ttl_action.value,
        i.mount_id,
        i.fingerprint,
        i.content_hash,
        i.sync_ms,
        i.attrs,
        i.shared,
    )


def job_from_row(row: Any) -> PersistJob:
    return PersistJob(
        id=row[0],
        inode_id=row[1],
        generation=row[2],
        state=_JOB_STATES[row[3]],
        attempts=row[4],
        last_error=row[5],
        created_ms=row[6],
        updated_ms=row[7],
        next_run_ms=row[8],
        lease_owner=row[9],
        lease_expires_ms=row[10],
        token=row[11],
    )


def mount_from_row(row: Any) -> MountInfo:
    return MountInfo(
        id=row[0],
        path=row[1],
        uri=row[2],
        options=json.loads(row[3]),
        sync_interval_ms=row[4],
        read_only=bool(row[5]),
    )
