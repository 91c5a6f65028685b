"""A PostgreSQL metastore transaction (:class:`PgTxn`): every Txn method as SQL on one
connection.  Writers run READ COMMITTED after the writers' advisory lock (so they see
every earlier writer's commit, as ``BEGIN IMMEDIATE`` does on SQLite); snapshots are
REPEATABLE READ READ ONLY.  ``claim_jobs`` leases jobs with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import psycopg.errors

from siltfs.errors import FileExists, MountError
from siltfs.metastore.abc import Latch, Txn
from siltfs.metastore.pg_schema import WRITER_LOCK, Conn
from siltfs.metastore.rows import (
    INODE_COL_NAMES,
    INODE_COLS,
    JOB_COLS,
    MOUNT_COLS,
    inode_from_row,
    inode_params,
    job_from_row,
    mount_from_row,
)
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import ROOT_ID, Inode, Intent, MountInfo, PersistJob

Params = Sequence[Any] | dict[str, Any] | None


_INODE_PLACEHOLDERS = ", ".join(["%s"] * len(INODE_COL_NAMES))

Statement = tuple[str, tuple[Any, ...] | None]
# sent in one pipeline with a transaction's first statement: one round trip for all
BEGIN_WRITE: tuple[Statement, ...] = (
    ("BEGIN ISOLATION LEVEL READ COMMITTED", None),
    ("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,)),
)
BEGIN_READ: tuple[Statement, ...] = (("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", None),)

RESOLVE_SQL = f"""
WITH RECURSIVE walk AS (
    SELECT {INODE_COLS}, 0 AS depth FROM silt_inodes WHERE id = %(root)s
  UNION ALL
    SELECT {", ".join("c." + col for col in INODE_COL_NAMES)}, w.depth + 1
    FROM walk w JOIN silt_inodes c
      ON c.parent_id = w.id AND c.name = (%(names)s::text[])[w.depth + 1]
    WHERE w.is_dir = 1 AND w.depth < %(n)s AND c.id <> c.parent_id
)
SELECT {INODE_COLS} FROM walk ORDER BY depth
"""
LATCHES_SQL = (
    "SELECT inode_id, path, owner, expires_ms FROM silt_latches WHERE expires_ms > %s "
    "ORDER BY inode_id"
)


class PgTxn(Txn):
    """A transaction on one connection.  BEGIN (and a writer's lock) go out with the
    first statement, in one pipeline; a transaction that runs no statement sends nothing.
    *reconnect* replaces a connection the server dropped, while nothing was sent yet."""

    def __init__(
        self,
        conn: Conn,
        *,
        read_only: bool,
        begin: tuple[Statement, ...] = (),
        reconnect: Callable[[Conn], Conn] | None = None,
    ) -> None:
        self.c = conn
        self.read_only = read_only
        self._begin = begin
        self._reconnect = reconnect
        self.started = not begin

    def _x(self, sql: str, params: Params = None) -> psycopg.Cursor[Any]:
        if self.started:
            return self.c.execute(sql, params)
        for attempt in range(3):
            try:
                with self.c.pipeline():
                    for stmt, stmt_params in self._begin:
                        self.c.execute(stmt, stmt_params)
                    cur = self.c.execute(sql, params)
                self.started = True
                return cur
            except psycopg.OperationalError:
                dropped = self.c.broken or self.c.closed
                if self._reconnect is None or not dropped or attempt == 2:
                    self.started = True  # whatever reached the server is rolled back
                    raise
                self.c = self._reconnect(self.c)
        raise AssertionError("unreachable")

    def _one(self, sql: str, params: Params = None) -> Any:
        return self._x(sql, params).fetchone()

    def _all(self, sql: str, params: Params = None) -> list[Any]:
        return self._x(sql, params).fetchall()

    # inodes ---------------------------------------------------------------
    def get_inode(self, inode_id: int) -> Inode | None:
        row = self._one(f"SELECT {INODE_COLS} FROM silt_inodes WHERE id = %s", (inode_id,))
        return inode_from_row(row) if row else None

    def get_child(self, parent_id: int, name: str) -> Inode | None:
        row = self._one(
            f"SELECT {INODE_COLS} FROM silt_inodes WHERE parent_id = %s AND name = %s",
            (parent_id, name),
        )
        return inode_from_row(row) if row else None

    def list_children(self, parent_id: int) -> list[Inode]:
        rows = self._all(
            f"SELECT {INODE_COLS} FROM silt_inodes WHERE parent_id = %s AND id <> parent_id "
            "ORDER BY name",
            (parent_id,),
        )
        return [inode_from_row(r) for r in rows]

    def resolve_path(self, names: Sequence[str]) -> list[Inode]:
        return [inode_from_row(r) for r in self._all(RESOLVE_SQL, resolve_params(names))]

    def count_children(self, parent_id: int) -> int:
        row = self._one(
            "SELECT count(*) FROM silt_inodes WHERE parent_id = %s AND id <> parent_id",
            (parent_id,),
        )
        return int(row[0])

    def count_subdirs(self, parent_id: int) -> int:
        row = self._one(
            "SELECT count(*) FROM silt_inodes WHERE parent_id = %s AND id <> parent_id "
            "AND is_dir = 1",
            (parent_id,),
        )
        return int(row[0])

    def insert_inode(self, inode: Inode) -> None:
        try:
            cur = self._x(
                f"INSERT INTO silt_inodes ({INODE_COLS}) VALUES ({_INODE_PLACEHOLDERS}) "
                "ON CONFLICT (parent_id, name) DO NOTHING",
                inode_params(inode),
            )
        except psycopg.errors.UniqueViolation as exc:  # the id: a caller bug, not a race
            raise FileExists(f"inode id {inode.id} already exists") from exc
        if cur.rowcount == 0:
            raise FileExists(f"an entry named {inode.name!r} already exists")

    def update_inode(self, inode: Inode) -> None:
        p = inode_params(inode)
        # the name check is part of the UPDATE, so a taken name leaves the
        # transaction usable (as on SQLite) instead of aborting it
        cur = self._x(
            "UPDATE silt_inodes SET parent_id=%s, name=%s, is_dir=%s, length=%s, block_size=%s, "
            "generation=%s, state=%s, created_ms=%s, mtime_ms=%s, pinned=%s, ttl_ms=%s, "
            "ttl_action=%s, mount_id=%s, fingerprint=%s, content_hash=%s, sync_ms=%s, attrs=%s, shared=%s "
            "WHERE id=%s AND NOT EXISTS (SELECT 1 FROM silt_inodes o "
            "WHERE o.parent_id=%s AND o.name=%s AND o.id <> %s)",
            (*p[1:], inode.id, inode.parent_id, inode.name, inode.id),
        )
        if cur.rowcount == 0 and self._one(
            "SELECT 1 FROM silt_inodes WHERE parent_id=%s AND name=%s AND id <> %s",
            (inode.parent_id, inode.name, inode.id),
        ):
            raise FileExists(f"an entry named {inode.name!r} already exists")

    def delete_inodes(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        self._x(
            "WITH gone AS (DELETE FROM silt_jobs WHERE inode_id = ANY(%(ids)s)) "
            "DELETE FROM silt_inodes WHERE id = ANY(%(ids)s)",
            {"ids": list(ids)},
        )

    def subtree(self, inode_id: int) -> list[Inode]:
        rows = self._all(
            f"""WITH RECURSIVE t(id, depth) AS (
                    SELECT %s::bigint, 0
                    UNION ALL
                    SELECT i.id, t.depth + 1 FROM silt_inodes i JOIN t ON i.parent_id = t.id
                    WHERE i.id <> i.parent_id
                )
                SELECT {", ".join("i." + c for c in INODE_COL_NAMES)}
                FROM silt_inodes i JOIN t ON i.id = t.id ORDER BY t.depth""",
            (inode_id,),
        )
        return [inode_from_row(r) for r in rows]

    def inodes_in_state(self, state: PersistenceState) -> list[Inode]:
        rows = self._all(f"SELECT {INODE_COLS} FROM silt_inodes WHERE state = %s", (state.value,))
        return [inode_from_row(r) for r in rows]

    def inodes_with_ttl(self) -> list[Inode]:
        rows = self._all(f"SELECT {INODE_COLS} FROM silt_inodes WHERE ttl_ms IS NOT NULL")
        return [inode_from_row(r) for r in rows]

    def pinned_inodes(self) -> list[Inode]:
        rows = self._all(f"SELECT {INODE_COLS} FROM silt_inodes WHERE pinned = 1")
        return [inode_from_row(r) for r in rows]

    def sharing_inodes(self) -> list[Inode]:
        rows = self._all(f"SELECT {INODE_COLS} FROM silt_inodes WHERE shared IS NOT NULL")
        return [inode_from_row(r) for r in rows]

    def allocate_ids(self, count: int) -> int:
        row = self._one(
            "UPDATE silt_counters SET value = value + %s WHERE name = 'next_id' "
            "RETURNING value - %s",
            (count, count),
        )
        return int(row[0])

    # mounts ---------------------------------------------------------------
    def list_mounts(self) -> list[MountInfo]:
        rows = self._all(f"SELECT {MOUNT_COLS} FROM silt_mounts ORDER BY path")
        return [mount_from_row(r) for r in rows]

    def insert_mount(self, mount: MountInfo) -> int:
        row = self._one(
            "INSERT INTO silt_mounts (path, uri, options, sync_interval_ms, read_only) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (path) DO NOTHING RETURNING id",
            (
                mount.path,
                mount.uri,
                json.dumps(mount.options),
                mount.sync_interval_ms,
                int(mount.read_only),
            ),
        )
        if row is None:
            raise MountError("already a mount point", path=mount.path)
        return int(row[0])

    def update_mount(self, mount: MountInfo) -> None:
        self._x(
            "UPDATE silt_mounts SET path=%s, uri=%s, options=%s, sync_interval_ms=%s, "
            "read_only=%s WHERE id=%s",
            (
                mount.path,
                mount.uri,
                json.dumps(mount.options),
                mount.sync_interval_ms,
                int(mount.read_only),
                mount.id,
            ),
        )

    def delete_mount(self, mount_id: int) -> None:
        self._x("DELETE FROM silt_mounts WHERE id = %s", (mount_id,))

    # persist jobs ---------------------------------------------------------
    def insert_job(self, inode_id: int, generation: int, now_ms: int) -> PersistJob:
        # replacing the old row includes its id: a stale runner's job id finds nothing
        row = self._one(
            "INSERT INTO silt_jobs (inode_id, generation, state, attempts, created_ms, "
            "updated_ms, next_run_ms) VALUES (%s, %s, %s, 0, %s, %s, %s) "
            "ON CONFLICT (inode_id) DO UPDATE SET id = EXCLUDED.id, "
            "generation = EXCLUDED.generation, state = EXCLUDED.state, attempts = 0, "
            "last_error = NULL, created_ms = EXCLUDED.created_ms, "
            "updated_ms = EXCLUDED.updated_ms, next_run_ms = EXCLUDED.next_run_ms, "
            "lease_owner = NULL, lease_expires_ms = 0, token = NULL "
            f"RETURNING {JOB_COLS}",
            (inode_id, generation, JobState.PENDING.value, now_ms, now_ms, now_ms),
        )
        return job_from_row(row)

    def get_job(self, job_id: int) -> PersistJob | None:
        row = self._one(f"SELECT {JOB_COLS} FROM silt_jobs WHERE id = %s", (job_id,))
        return job_from_row(row) if row else None

    def job_for_inode(self, inode_id: int) -> PersistJob | None:
        row = self._one(f"SELECT {JOB_COLS} FROM silt_jobs WHERE inode_id = %s", (inode_id,))
        return job_from_row(row) if row else None

    def update_job(self, job: PersistJob) -> None:
        self._x(
            "UPDATE silt_jobs SET state=%s, attempts=%s, last_error=%s, updated_ms=%s, "
            "next_run_ms=%s, lease_owner=%s, lease_expires_ms=%s, token=%s, generation=%s "
            "WHERE id=%s",
            (
                job.state.value,
                job.attempts,
                job.last_error,
                job.updated_ms,
                job.next_run_ms,
                job.lease_owner,
                job.lease_expires_ms,
                job.token,
                job.generation,
                job.id,
            ),
        )

    def delete_job(self, job_id: int) -> None:
        self._x("DELETE FROM silt_jobs WHERE id = %s", (job_id,))

    def list_jobs(self, state: JobState | None = None) -> list[PersistJob]:
        if state is None:
            rows = self._all(f"SELECT {JOB_COLS} FROM silt_jobs ORDER BY id")
        else:
            rows = self._all(
                f"SELECT {JOB_COLS} FROM silt_jobs WHERE state = %s ORDER BY id", (state.value,)
            )
        return [job_from_row(r) for r in rows]

    def claim_jobs(self, owner: str, now_ms: int, lease_ms: int, limit: int) -> list[PersistJob]:
        if limit <= 0:
            return []
        cols = ", ".join("j." + c.strip() for c in JOB_COLS.split(","))
        rows = self._all(
            "WITH due AS (SELECT id FROM silt_jobs "
            "  WHERE (state = 'PENDING' AND next_run_ms <= %(now)s) "
            "     OR (state = 'RUNNING' AND lease_expires_ms <= %(now)s) "
            "  ORDER BY next_run_ms, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
            "UPDATE silt_jobs j SET state = 'RUNNING', attempts = j.attempts + 1, "
            "  lease_owner = %(owner)s, lease_expires_ms = %(expires)s, updated_ms = %(now)s, "
            "  token = left(replace(gen_random_uuid()::text, '-', ''), 12) "
            f"FROM due WHERE j.id = due.id RETURNING {cols}",
            {"now": now_ms, "limit": limit, "owner": owner, "expires": now_ms + lease_ms},
        )
        jobs = [job_from_row(r) for r in rows]
        jobs.sort(key=lambda j: (j.next_run_ms, j.id))
        return jobs

    # intents --------------------------------------------------------------
    def insert_intent(
        self, kind: str, mount_id: int, src: str, dst: str | None, now_ms: int
    ) -> int:
        row = self._one(
            "INSERT INTO silt_intents (kind, mount_id, src, dst, created_ms) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (kind, mount_id, src, dst, now_ms),
        )
        return int(row[0])

    def delete_intent(self, intent_id: int) -> None:
        self._x("DELETE FROM silt_intents WHERE id = %s", (intent_id,))

    def list_intents(self) -> list[Intent]:
        rows = self._all(
            "SELECT id, kind, mount_id, src, dst, created_ms FROM silt_intents ORDER BY id"
        )
        return [Intent(*r) for r in rows]

    # commit latches -------------------------------------------------------
    def add_latch(self, inode_id: int, path: str, owner: str, expires_ms: int) -> None:
        self._x(
            "INSERT INTO silt_latches (inode_id, path, owner, expires_ms) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (inode_id) DO UPDATE SET path = EXCLUDED.path, owner = EXCLUDED.owner, "
            "expires_ms = EXCLUDED.expires_ms",
            (inode_id, path, owner, expires_ms),
        )

    def remove_latch(self, inode_id: int) -> None:
        self._x("DELETE FROM silt_latches WHERE inode_id = %s", (inode_id,))

    def list_latches(self, now_ms: int) -> list[Latch]:
        return [Latch(*r) for r in self._all(LATCHES_SQL, (now_ms,))]


def resolve_params(names: Sequence[str]) -> dict[str, Any]:
    return {"root": ROOT_ID, "names": list(names), "n": len(names)}
