"""PostgreSQL metastore: several masters (processes, hosts) on one database.

- Schema and migrations: :mod:`siltfs.metastore.pg_schema`; the transaction's SQL:
  :mod:`siltfs.metastore.pg_txn`.
- Writers: every :meth:`PostgresMetastore.transaction` takes a transaction-level advisory
  lock first, so the database serialises writers of every master, as ``BEGIN IMMEDIATE``
  does on SQLite.  Its statements run READ COMMITTED *after* the lock, so they see every
  earlier writer's commit.  :meth:`PostgresMetastore.snapshot` is REPEATABLE READ READ ONLY.
- ``claim_jobs`` leases jobs with ``FOR UPDATE SKIP LOCKED``.
- :meth:`PostgresMetastore.namespace_lock` is a session advisory lock held on a pooled
  connection while the lock is held: a master that dies loses its session and the
  server releases the lock.
- Connections come from a ``psycopg_pool.ConnectionPool``; a thread's transaction (and
  any transaction nested in it on the same thread) uses one connection.

Errors are translated here: an unreachable server is :class:`~siltfs.errors.Unavailable`,
naming the DSN with its password redacted.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from siltfs.errors import InvalidArgument, SiltError, Unavailable
from siltfs.metastore.abc import Latch, Metastore, Txn
from siltfs.metastore.locks import NamespaceLock
from siltfs.metastore.pg_schema import (
    MIGRATION_LOCK,
    MIGRATIONS,
    NAMESPACE_LOCK,
    SCHEMA_VERSION,
    WRITER_LOCK,
    Conn,
    migrate,
)
from siltfs.metastore.pg_txn import (
    BEGIN_READ,
    BEGIN_WRITE,
    LATCHES_SQL,
    RESOLVE_SQL,
    Params,
    PgTxn,
    resolve_params,
)
from siltfs.metastore.rows import inode_from_row
from siltfs.model.inode import Inode

__all__ = [
    "MIGRATIONS",
    "MIGRATION_LOCK",
    "NAMESPACE_LOCK",
    "SCHEMA_VERSION",
    "WRITER_LOCK",
    "AdvisoryNamespaceLock",
    "PgTxn",
    "PostgresMetastore",
    "migrate",
    "redact_dsn",
]

log = logging.getLogger("siltfs.metastore.postgres")


def redact_dsn(dsn: str) -> str:
    """*dsn* with any password replaced by ``***`` (URI or ``key=value`` form)."""
    if "://" in dsn:
        try:
            parts = urlsplit(dsn)
        except ValueError:
            return re.sub(r":[^:@/]*@", ":***@", dsn)
        netloc = parts.netloc
        if "@" in netloc:
            creds, _, hosts = netloc.rpartition("@")
            if ":" in creds:
                creds = creds.split(":", 1)[0] + ":***"
            netloc = f"{creds}@{hosts}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn)


def pg_error(exc: psycopg.Error, where: str) -> SiltError:
    """The siltfs error for a psycopg error: the server unreachable is Unavailable, any
    other failure a SiltError; both name *where* (the DSN, password redacted)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, psycopg.OperationalError):
        return Unavailable(f"PostgreSQL metastore unavailable: {text}", path=where)
    return SiltError(f"PostgreSQL metastore error: {type(exc).__name__}: {text}", path=where)


@contextmanager
def mapped_errors(where: str) -> Iterator[None]:
    """The one place psycopg's errors become siltfs errors (:func:`pg_error`); siltfs
    errors and everything else pass untouched."""
    try:
        yield
    except psycopg.Error as exc:
        raise pg_error(exc, where) from exc


class PostgresMetastore(Metastore):
    shared_across_hosts = True
    """Thread-safe; each outermost transaction of a thread runs on its own pooled
    connection.  *pool_size* bounds the connections this process opens."""

    def __init__(
        self,
        dsn: str,
        *,
        pool_size: int = 16,
        connect_timeout_s: float = 10.0,
        pool_timeout_s: float = 60.0,
    ) -> None:
        if not isinstance(dsn, str) or not dsn:
            raise InvalidArgument(f"a PostgreSQL DSN must be a non-empty string, not {dsn!r}")
        if pool_size < 2:
            raise InvalidArgument(f"pool_size must be at least 2, got {pool_size}")
        self.dsn = dsn
        self.where = redact_dsn(dsn)
        self._local = threading.local()
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(1, int(connect_timeout_s)),
        }
        self._connect_kwargs = kwargs
        self._unreachable = False
        with self._errors():
            try:
                with psycopg.connect(dsn, **kwargs) as conn:
                    self.schema_version = migrate(conn)
            except psycopg.ProgrammingError as exc:  # (a bad DSN, or no right to migrate)
                raise InvalidArgument(f"invalid PostgreSQL DSN: {exc}", path=self.where) from exc
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            dsn,
            min_size=1,
            max_size=pool_size,
            kwargs=kwargs,
            timeout=pool_timeout_s,
            name=f"silt-{self.where}",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout_s)
        except PoolTimeout as exc:
            self._pool.close()
            raise Unavailable(
                f"PostgreSQL accepted no pooled connection within {connect_timeout_s}s",
                path=self.where,
            ) from exc

    # connections ----------------------------------------------------------
    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return mapped_errors(self.where)

    def _getconn(self) -> Conn:
        try:
            if self._unreachable:  # fail fast while the server is down
                self._probe()
            try:
                return self._pool.getconn(timeout=min(2.0, self._pool.timeout))
            except PoolTimeout:  # every connection busy, or the server is gone?
                self._probe()
                return self._pool.getconn()
        except PoolClosed as exc:
            raise SiltError("metastore is closed", path=self.where) from exc
        except PoolTimeout as exc:
            raise Unavailable(
                f"no PostgreSQL connection available within {self._pool.timeout}s "
                f"(pool_size {self._pool.max_size})",
                path=self.where,
            ) from exc

    def _putconn(self, conn: Conn) -> None:
        try:
            self._pool.putconn(conn)
        except PoolClosed:
            conn.close()

    def _first(self, sql: str, params: Params = None) -> tuple[Conn, Any]:
        """A pooled connection on which *sql* just ran (returned with its cursor).  A
        connection the server dropped (restart, idle timeout) is replaced, not reported."""
        with self._errors():
            for attempt in range(3):
                conn = self._getconn()
                try:
                    return conn, conn.execute(sql, params)
                except psycopg.OperationalError:
                    dropped = conn.broken or conn.closed
                    conn.close()
                    self._putconn(conn)
                    if attempt == 2 or not dropped:
                        raise
                    self._probe()
                    self._pool.check()  # drop every other broken idle connection too
                except BaseException:
                    conn.close()  # never pool a connection in an unknown state
                    self._putconn(conn)
                    raise
        raise AssertionError("unreachable")

    def _probe(self) -> None:
        """Raise Unavailable (with the server's reason) unless a new connection works."""
        self._unreachable = True  # until a connection works
        with self._errors():
            psycopg.connect(self.dsn, **self._connect_kwargs).close()
        self._unreachable = False

    def _reconnect(self, dropped: Conn) -> Conn:
        dropped.close()
        self._putconn(dropped)
        self._probe()  # the server itself down: say so at once
        self._pool.check()  # drop every other broken idle connection too
        return self._getconn()

    @contextmanager
    def _txn(self, write: bool) -> Iterator[Txn]:
        outer: PgTxn | None = getattr(self._local, "txn", None)
        if outer is not None:  # nested: join the outer transaction
            if write and outer.read_only:
                raise SiltError(
                    "a write transaction cannot be nested in a read-only snapshot",
                    path=self.where,
                )
            yield outer
            return
        txn = PgTxn(
            self._getconn(),
            read_only=not write,
            begin=BEGIN_WRITE if write else BEGIN_READ,
            reconnect=self._reconnect,
        )
        self._local.txn = txn
        with self._errors():
            try:
                yield txn
                if txn.started:
                    txn.c.execute("COMMIT")
            except BaseException:
                if txn.c.info.transaction_status != TransactionStatus.IDLE:
                    try:
                        txn.c.execute("ROLLBACK")
                    except psycopg.Error:
                        txn.c.close()
                raise
            finally:
                self._local.txn = None
                self._putconn(txn.c)

    def transaction(self) -> Any:
        return self._txn(write=True)

    def snapshot(self) -> Any:
        return self._txn(write=False)

    def resolve_path(self, names: Sequence[str]) -> list[Inode]:
        outer: PgTxn | None = getattr(self._local, "txn", None)
        if outer is not None:
            return outer.resolve_path(names)
        conn, cur = self._first(RESOLVE_SQL, resolve_params(names))
        try:
            return [inode_from_row(r) for r in cur.fetchall()]
        finally:
            self._putconn(conn)

    def list_latches(self, now_ms: int) -> list[Latch]:
        """:meth:`Txn.list_latches` as one statement (its own consistent read)."""
        outer: PgTxn | None = getattr(self._local, "txn", None)
        if outer is not None:
            return outer.list_latches(now_ms)
        conn, cur = self._first(LATCHES_SQL, (now_ms,))
        try:
            return [Latch(*r) for r in cur.fetchall()]
        finally:
            self._putconn(conn)

    def namespace_lock(self, home: Path) -> NamespaceLock:
        return AdvisoryNamespaceLock(self)

    def close(self) -> None:
        self._pool.close()


class AdvisoryNamespaceLock(NamespaceLock):
    """The namespace lock of every master on one database: a session advisory lock held
    on a pooled connection while this process holds the lock.  If the process dies, its
    session ends and the server releases the lock."""

    def __init__(self, store: PostgresMetastore) -> None:
        super().__init__(None)
        self._store = store
        self._conn: Conn | None = None

    def _acquire(self) -> None:
        conn, _ = self._store._first("SELECT pg_advisory_lock(%s)", (NAMESPACE_LOCK,))
        self._conn = conn

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            row = conn.execute("SELECT pg_advisory_unlock(%s)", (NAMESPACE_LOCK,)).fetchone()
            if not row or not row[0]:
                log.warning("namespace lock was not held at release (session reset?)")
        except psycopg.Error as exc:  # the session is gone, and the lock with it
            log.warning("namespace lock release failed: %s", exc)
            conn.close()
        finally:
            self._store._putconn(conn)

    def close(self) -> None:
        pass
