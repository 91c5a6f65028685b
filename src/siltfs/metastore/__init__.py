"""Metadata stores: the abstract interface, its implementations and :func:`open_metastore`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, cast

from siltfs.backends import METASTORE_BACKENDS, SQLITE, uri_scheme
from siltfs.errors import InvalidArgument, WrongType
from siltfs.metastore.abc import Latch, Metastore, Txn
from siltfs.metastore.locks import NamespaceLock

__all__ = [
    "Latch",
    "Metastore",
    "NamespaceLock",
    "Txn",
    "get_metastore_class",
    "is_postgres_uri",
    "open_metastore",
]


def is_postgres_uri(uri: object) -> bool:
    """True for ``postgresql://...`` and ``postgres://...``."""
    return isinstance(uri, str) and uri_scheme(uri) in METASTORE_BACKENDS


class MetastoreClass(Protocol):
    def __call__(self, uri: str | Path) -> Metastore: ...


def get_metastore_class(scheme: str | None) -> MetastoreClass:
    """The Metastore class for a URI *scheme* (None: a SQLite file); InvalidArgument for
    an unknown scheme, or with the install hint if the backend's dependencies are missing."""
    if scheme is None:
        backend = SQLITE
    elif scheme in METASTORE_BACKENDS:
        backend = METASTORE_BACKENDS[scheme]
    else:
        raise InvalidArgument(
            f"unsupported metastore URI scheme {scheme!r} (use postgresql:// or a file path)"
        )
    what = f"a {scheme}:// metastore" if scheme else "a SQLite metastore"
    return cast(MetastoreClass, backend.load(InvalidArgument, what))


def open_metastore(uri: str | Path) -> Metastore:
    """The metastore at *uri*: ``postgresql://...`` (or ``postgres://...``) is a
    PostgreSQL database shared by any number of masters; anything else is the path of a
    SQLite file (created if missing) for the masters of one host."""
    if isinstance(uri, Path):
        return get_metastore_class(None)(uri)
    if not isinstance(uri, str):
        raise WrongType(f"a metastore is a path or a postgresql:// URI, not {uri!r}")
    return get_metastore_class(uri_scheme(uri))(uri)
