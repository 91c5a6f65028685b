"""SQLite metastore: one file, WAL journal, one connection per thread."""

from __future__ import annotations

import functools
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from siltfs.errors import FileExists, MountError, SiltError
from siltfs.metastore.abc import Latch, Metastore, Txn
from siltfs.metastore.rows import INODE_COL_NAMES
from siltfs.metastore.rows import INODE_COLS as _INODE_COLS
from siltfs.metastore.rows import JOB_COLS as _JOB_COLS
from siltfs.metastore.rows import inode_from_row as _inode
from siltfs.metastore.rows import inode_params as _inode_params
from siltfs.metastore.rows import inodes_from_rows as _inodes
from siltfs.metastore.rows import job_from_row as _job
from siltfs.metastore.rows import mount_from_row as _mount
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import ROOT_ID, Inode, Intent, MountInfo, PersistJob

SCHEMA_VERSION = 4  # 2: latches; 3: inodes.attrs (POSIX metadata); 4: inodes.shared

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inodes (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    is_dir INTEGER NOT NULL,
    length INTEGER NOT NULL DEFAULT 0,
    block_size INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,
    ttl_ms INTEGER,
    ttl_action TEXT NOT NULL DEFAULT 'DELETE',
    mount_id INTEGER,
    fingerprint TEXT,
    content_hash TEXT,
    sync_ms INTEGER,
    attrs TEXT,
    shared TEXT,
    UNIQUE (parent_id, name)
);
CREATE INDEX IF NOT EXISTS inodes_state ON inodes(state) WHERE state != 'PERSISTED';
CREATE INDEX IF NOT EXISTS inodes_ttl ON inodes(ttl_ms) WHERE ttl_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS mounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    uri TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    sync_interval_ms INTEGER,
    read_only INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    inode_id INTEGER NOT NULL UNIQUE,
    generation INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    next_run_ms INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_ms INTEGER NOT NULL DEFAULT 0,
    token TEXT
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, next_run_ms);
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    mount_id INTEGER NOT NULL,
    src TEXT NOT NULL,
    dst TEXT,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS latches (
    inode_id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
"""

_COLS = list(INODE_COL_NAMES)


@functools.lru_cache(maxsize=64)
def _resolve_sql(depth: int) -> str:
    """One SELECT walking *depth* names down from the root (LEFT JOIN per level)."""
    select = ", ".join(f"t{level}.{col}" for level in range(depth + 1) for col in _COLS)
    joins = "".join(
        f" LEFT JOIN inodes t{i} ON t{i}.parent_id = t{i - 1}.id AND t{i}.name = ?"
        f" AND t{i - 1}.is_dir = 1 AND t{i}.id != t{i}.parent_id"
        for i in range(1, depth + 1)
    )
    return f"SELECT {select} FROM inodes t0{joins} WHERE t0.id = ?"


@contextmanager
def name_taken_is_file_exists(name: str) -> Iterator[None]:
    """The one translation of sqlite3's errors: a UNIQUE (parent, name) violation is
    FileExists; anything else passes untouched."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise FileExists(f"an entry named {name!r} already exists") from exc


class SqliteTxn(Txn):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.c = conn

    def get_inode(self, inode_id: int) -> Inode | None:
        row = self.c.execute(f"SELECT {_INODE_COLS} FROM inodes WHERE id=?", (inode_id,)).fetchone()
        return _inode(row) if row else None

    def get_child(self, parent_id: int, name: str) -> Inode | None:
        row = self.c.execute(
            f"SELECT {_INODE_COLS} FROM inodes WHERE parent_id=? AND name=?", (parent_id, name)
        ).fetchone()
        return _inode(row) if row else None

    def list_children(self, parent_id: int) -> list[Inode]:
        # rows straight from the cursor (no fetchall): each row tuple is freed as soon as
        # its inode is made, so a large listing keeps half as many objects alive
        return _inodes(
            self.c.execute(
                f"SELECT {_INODE_COLS} FROM inodes WHERE parent_id=? AND id != parent_id "
                "ORDER BY name",
                (parent_id,),
            )
        )

    def resolve_path(self, names: Sequence[str]) -> list[Inode]:
        if not names or len(names) > 32:
            return super().resolve_path(names)
        row = self.c.execute(_resolve_sql(len(names)), (*names, ROOT_ID)).fetchone()
        chain: list[Inode] = []
        width = len(_COLS)
        for level in range(len(names) + 1):
            part = row[level * width : (level + 1) * width]
            if part[0] is None:
                break
            chain.append(_inode(part))
        return chain

    def count_children(self, parent_id: int) -> int:
        row = self.c.execute(
            "SELECT COUNT(*) FROM inodes WHERE parent_id=? AND id != parent_id", (parent_id,)
        ).fetchone()
        return int(row[0])

    def count_subdirs(self, parent_id: int) -> int:
        row = self.c.execute(
            "SELECT COUNT(*) FROM inodes WHERE parent_id=? AND id != parent_id AND is_dir=1",
            (parent_id,),
        ).fetchone()
        return int(row[0])

    def insert_inode(self, inode: Inode) -> None:
        with name_taken_is_file_exists(inode.name):
            self.c.execute(
                f"INSERT INTO inodes ({_INODE_COLS}) VALUES ({','.join('?' * len(INODE_COL_NAMES))})",
                _inode_params(inode),
            )

    def update_inode(self, inode: Inode) -> None:
        p = _inode_params(inode)
        with name_taken_is_file_exists(inode.name):
            self.c.execute(
                "UPDATE inodes SET parent_id=?, name=?, is_dir=?, length=?, block_size=?, "
                "generation=?, state=?, created_ms=?, mtime_ms=?, pinned=?, ttl_ms=?, "
                "ttl_action=?, mount_id=?, fingerprint=?, content_hash=?, sync_ms=?, attrs=?, shared=? WHERE id=?",
                p[1:] + (p[0],),
            )

    def delete_inodes(self, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            self.c.execute(f"DELETE FROM jobs WHERE inode_id IN ({marks})", chunk)
            self.c.execute(f"DELETE FROM inodes WHERE id IN ({marks})", chunk)

    def subtree(self, inode_id: int) -> list[Inode]:
        rows = self.c.execute(
            f"""WITH RECURSIVE t(id, depth) AS (
                    SELECT ?, 0
                    UNION ALL
                    SELECT i.id, t.depth + 1 FROM inodes i JOIN t ON i.parent_id = t.id
                    WHERE i.id != i.parent_id
                )
                SELECT {", ".join("i." + c.strip() for c in _INODE_COLS.split(","))}
                FROM inodes i JOIN t ON i.id = t.id ORDER BY t.depth""",
            (inode_id,),
        ).fetchall()
        return [_inode(r) for r in rows]

    def inodes_in_state(self, state: PersistenceState) -> list[Inode]:
        rows = self.c.execute(
            f"SELECT {_INODE_COLS} FROM inodes WHERE state=?", (state.value,)
        ).fetchall()
        return [_inode(r) for r in rows]

    def inodes_with_ttl(self) -> list[Inode]:
        rows = self.c.execute(
            f"SELECT {_INODE_COLS} FROM inodes WHERE ttl_ms IS NOT NULL"
        ).fetchall()
        return [_inode(r) for r in rows]

    def pinned_inodes(self) -> list[Inode]:
        rows = self.c.execute(f"SELECT {_INODE_COLS} FROM inodes WHERE pinned=1").fetchall()
        return [_inode(r) for r in rows]

    def sharing_inodes(self) -> list[Inode]:
        rows = self.c.execute(
            f"SELECT {_INODE_COLS} FROM inodes WHERE shared IS NOT NULL"
        ).fetchall()
        return [_inode(r) for r in rows]

    def allocate_ids(self, count: int) -> int:
        row = self.c.execute("SELECT value FROM meta WHERE key='next_id'").fetchone()
        first = int(row[0])
        self.c.execute("UPDATE meta SET value=? WHERE key='next_id'", (str(first + count),))
        return first

    def list_mounts(self) -> list[MountInfo]:
        rows = self.c.execute(
            "SELECT id, path, uri, options, sync_interval_ms, read_only FROM mounts ORDER BY path"
        ).fetchall()
        return [_mount(r) for r in rows]

    def insert_mount(self, mount: MountInfo) -> int:
        if self.c.execute("SELECT 1 FROM mounts WHERE path=?", (mount.path,)).fetchone():
            raise MountError("already a mount point", path=mount.path)
        cur = self.c.execute(
            "INSERT INTO mounts (path, uri, options, sync_interval_ms, read_only) VALUES (?,?,?,?,?)",
            (
                mount.path,
                mount.uri,
                json.dumps(mount.options),
                mount.sync_interval_ms,
                int(mount.read_only),
            ),
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    def update_mount(self, mount: MountInfo) -> None:
        self.c.execute(
            "UPDATE mounts SET path=?, uri=?, options=?, sync_interval_ms=?, read_only=? WHERE id=?",
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
        self.c.execute("DELETE FROM mounts WHERE id=?", (mount_id,))

    def insert_job(self, inode_id: int, generation: int, now_ms: int) -> PersistJob:
        self.c.execute("DELETE FROM jobs WHERE inode_id=?", (inode_id,))
        row = self.c.execute(
            f"INSERT INTO jobs (inode_id, generation, state, attempts, created_ms, updated_ms, "
            f"next_run_ms) VALUES (?,?,?,0,?,?,?) RETURNING {_JOB_COLS}",
            (inode_id, generation, JobState.PENDING.value, now_ms, now_ms, now_ms),
        ).fetchone()
        return _job(row)

    def get_job(self, job_id: int) -> PersistJob | None:
        row = self.c.execute(f"SELECT {_JOB_COLS} FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _job(row) if row else None

    def job_for_inode(self, inode_id: int) -> PersistJob | None:
        row = self.c.execute(
            f"SELECT {_JOB_COLS} FROM jobs WHERE inode_id=?", (inode_id,)
        ).fetchone()
        return _job(row) if row else None

    def update_job(self, job: PersistJob) -> None:
        self.c.execute(
            "UPDATE jobs SET state=?, attempts=?, last_error=?, updated_ms=?, next_run_ms=?, "
            "lease_owner=?, lease_expires_ms=?, token=?, generation=? WHERE id=?",
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
        self.c.execute("DELETE FROM jobs WHERE id=?", (job_id,))

    def list_jobs(self, state: JobState | None = None) -> list[PersistJob]:
        if state is None:
            rows = self.c.execute(f"SELECT {_JOB_COLS} FROM jobs ORDER BY id").fetchall()
        else:
            rows = self.c.execute(
                f"SELECT {_JOB_COLS} FROM jobs WHERE state=? ORDER BY id", (state.value,)
            ).fetchall()
        return [_job(r) for r in rows]

    def claim_jobs(self, owner: str, now_ms: int, lease_ms: int, limit: int) -> list[PersistJob]:
        rows = self.c.execute(
            f"SELECT {_JOB_COLS} FROM jobs WHERE (state='PENDING' AND next_run_ms <= ?) "
            "OR (state='RUNNING' AND lease_expires_ms <= ?) ORDER BY next_run_ms, id LIMIT ?",
            (now_ms, now_ms, limit),
        ).fetchall()
        jobs = []
        for r in rows:
            job = _job(r)
            job.state = JobState.RUNNING
            job.attempts += 1
            job.lease_owner = owner
            job.lease_expires_ms = now_ms + lease_ms
            job.token = secrets.token_hex(6)
            job.updated_ms = now_ms
            self.update_job(job)
            jobs.append(job)
        return jobs

    def insert_intent(
        self, kind: str, mount_id: int, src: str, dst: str | None, now_ms: int
    ) -> int:
        cur = self.c.execute(
            "INSERT INTO intents (kind, mount_id, src, dst, created_ms) VALUES (?,?,?,?,?)",
            (kind, mount_id, src, dst, now_ms),
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    def delete_intent(self, intent_id: int) -> None:
        self.c.execute("DELETE FROM intents WHERE id=?", (intent_id,))

    def list_intents(self) -> list[Intent]:
        rows = self.c.execute(
            "SELECT id, kind, mount_id, src, dst, created_ms FROM intents ORDER BY id"
        ).fetchall()
        return [Intent(*r) for r in rows]

    def add_latch(self, inode_id: int, path: str, owner: str, expires_ms: int) -> None:
        self.c.execute(
            "INSERT OR REPLACE INTO latches (inode_id, path, owner, expires_ms) VALUES (?,?,?,?)",
            (inode_id, path, owner, expires_ms),
        )

    def remove_latch(self, inode_id: int) -> None:
        self.c.execute("DELETE FROM latches WHERE inode_id=?", (inode_id,))

    def list_latches(self, now_ms: int) -> list[Latch]:
        rows = self.c.execute(
            "SELECT inode_id, path, owner, expires_ms FROM latches WHERE expires_ms > ? "
            "ORDER BY inode_id",
            (now_ms,),
        ).fetchall()
        return [Latch(*r) for r in rows]


class SqliteMetastore(Metastore):
    """Thread-safe: each thread gets its own connection; writers serialise on BEGIN IMMEDIATE."""

    def _add_columns(self) -> None:
        """Schemas 3 and 4 on a file made by an older siltfs: the POSIX metadata column,
        the copy-on-write block map."""
        columns = {row[1] for row in self._conn().execute("PRAGMA table_info(inodes)")}
        for name in ("attrs", "shared"):
            if name not in columns:
                self._conn().execute(f"ALTER TABLE inodes ADD COLUMN {name} TEXT")

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # private: SQLite gives its -wal and -shm files the mode of the database file
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self._synchronous = synchronous
        self._local = threading.local()
        self._by_thread: dict[int, sqlite3.Connection] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._conn().executescript(SCHEMA)
        self._add_columns()
        with self.transaction() as txn:
            conn = txn.c  # type: ignore[attr-defined]
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) "
                "DO UPDATE SET value=excluded.value WHERE CAST(value AS INTEGER) < ?",
                (str(SCHEMA_VERSION), SCHEMA_VERSION),
            )
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('next_id', '2')")
            conn.execute(
                "INSERT OR IGNORE INTO inodes (id, parent_id, name, is_dir, state, created_ms, "
                "mtime_ms, mount_id) VALUES (?, ?, '', 1, 'PERSISTED', 0, 0, NULL)",
                (ROOT_ID, ROOT_ID),
            )

    def _conn(self) -> sqlite3.Connection:
        # by OS thread, not threading.local: a thread Python did not start (a libfuse
        # worker calling in through ctypes) gets a fresh thread state on every call,
        # and so would open a connection per call
        ident = threading.get_ident()
        conn = self._by_thread.get(ident)
        if conn is None:
            if self._closed:
                raise SiltError("metastore is closed", path=str(self.path))
            conn = sqlite3.connect(
                self.path, timeout=60.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=OFF")
            with self._lock:
                self._by_thread[ident] = conn
        return conn

    @contextmanager
    def _txn(self, begin: str) -> Iterator[Txn]:
        conn = self._conn()
        depth = getattr(self._local, "depth", 0)
        if depth:  # nested: join the outer transaction
            self._local.depth = depth + 1
            try:
                yield SqliteTxn(conn)
            finally:
                self._local.depth = depth
            return
        conn.execute(begin)
        self._local.depth = 1
        try:
            yield SqliteTxn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def resolve_path(self, names: Sequence[str]) -> list[Inode]:
        if getattr(self._local, "depth", 0):
            return super().resolve_path(names)
        return SqliteTxn(self._conn()).resolve_path(names)  # one SELECT: its own snapshot

    def list_latches(self, now_ms: int) -> list[Latch]:
        if getattr(self._local, "depth", 0):
            return super().list_latches(now_ms)
        return SqliteTxn(self._conn()).list_latches(now_ms)  # one SELECT: its own snapshot

    def transaction(self) -> Any:
        return self._txn("BEGIN IMMEDIATE")

    def snapshot(self) -> Any:
        return self._txn("BEGIN")

    def close(self) -> None:
        self._closed = True
        with self._lock:
            for conn in self._by_thread.values():
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._by_thread.clear()
        self._local = threading.local()
