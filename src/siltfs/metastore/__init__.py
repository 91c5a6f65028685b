"""Metadata stores: the abstract interface, its implementations and :func:`open_metastore`."""

from __future__ import annotations

from pathlib import Path

from siltfs.errors import InvalidArgument, WrongType
from siltfs.metastore.abc import Latch, Metastore, Txn
from siltfs.metastore.locks import NamespaceLock

__all__ = ["Latch", "Metastore", "NamespaceLock", "Txn", "is_postgres_uri", "open_metastore"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_uri(uri: object) -> bool:
    """True for ``postgresql://...`` and ``postgres://...``."""
    return isinstance(uri, str) and uri.startswith(POSTGRES_SCHEMES)


def open_metastore(uri: str | Path) -> Metastore:
    """The metastore at *uri*: ``postgresql://...`` (or ``postgres://...``) is a
    PostgreSQL database shared by any number of masters; anything else is the path of a
    SQLite file (created if missing) for the masters of one host."""
    if isinstance(uri, Path):
        from siltfs.metastore.sqlite import SqliteMetastore

        return SqliteMetastore(uri)
    if not isinstance(uri, str):
        raise WrongType(f"a metastore is a path or a postgresql:// URI, not {uri!r}")
    if is_postgres_uri(uri):
        try:
            from siltfs.metastore.postgres import PostgresMetastore
        except ImportError as exc:  # psycopg is an optional dependency
            raise InvalidArgument(
                f"a PostgreSQL metastore needs psycopg: pip install 'siltfs[postgres]' ({exc})"
            ) from exc
        return PostgresMetastore(uri)
    if "://" in uri:
        scheme = uri.split("://", 1)[0]
        raise InvalidArgument(
            f"unsupported metastore URI scheme {scheme!r} (use postgresql:// or a file path)"
        )
    from siltfs.metastore.sqlite import SqliteMetastore

    return SqliteMetastore(uri)
