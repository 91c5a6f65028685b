"""Implementations chosen by URI scheme, imported only when used.

One table per kind of backend (:data:`UFS_BACKENDS`, :data:`METASTORE_BACKENDS`, here
so that :mod:`siltfs.config` can check a URI without importing a backend) maps a scheme to
a :class:`Backend`: the ``"module:Class"`` path of the implementation and the command
that installs what it needs.  :func:`siltfs.ufs.registry.get_ufs_class` and
:func:`siltfs.metastore.get_metastore_class` look schemes up.  Nothing is imported until a scheme is used, so an optional dependency (s3fs,
psycopg) that is missing makes only its own scheme fail -- with an error of the
:mod:`siltfs.errors` tree that says how to install it (as fsspec's
``known_implementations`` does).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from siltfs.errors import SiltError

__all__ = [
    "Backend",
    "FSSPEC",
    "METASTORE_BACKENDS",
    "POSTGRES",
    "S3",
    "SQLITE",
    "UFS_BACKENDS",
    "uri_scheme",
]


@dataclass(frozen=True)
class Backend:
    """``target``: ``"package.module:Class"``; ``install``: how to get its dependencies
    (``pip install 'siltfs[s3]'``), ``None`` if siltfs itself has everything."""

    target: str
    install: str | None = None

    def load(self, error: type[SiltError], what: str, path: str | None = None) -> type:
        """The class; *error* (naming *what*, e.g. ``"an s3:// under-storage"``, and
        *path*) if it cannot be imported, with the install hint."""
        module_name, _, class_name = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            hint = f": {self.install}" if self.install else ""
            raise error(f"{what} needs {exc.name or module_name}{hint} ({exc})", path=path) from exc
        cls = getattr(module, class_name, None)
        if not isinstance(cls, type):
            raise error(f"{what}: {self.target} is not a class", path=path)
        return cls


# under-file-systems: a scheme not listed goes to FSSPEC (fsspec names what it needs)
S3 = Backend("siltfs.ufs.s3:S3Ufs", "pip install 'siltfs[s3]'")
FSSPEC = Backend("siltfs.ufs.fsspec_ufs:FsspecUfs")
UFS_BACKENDS: dict[str, Backend] = {"s3": S3, "s3a": S3}

# metastores: a URI with a scheme listed here, anything without ``://`` is a SQLite path
POSTGRES = Backend("siltfs.metastore.postgres:PostgresMetastore", "pip install 'siltfs[postgres]'")
SQLITE = Backend("siltfs.metastore.sqlite:SqliteMetastore")
METASTORE_BACKENDS: dict[str, Backend] = {"postgresql": POSTGRES, "postgres": POSTGRES}


def uri_scheme(uri: str) -> str | None:
    """``"postgresql"`` for ``postgresql://...`` (as written); None for a path."""
    scheme, sep, _ = uri.partition("://")
    return scheme if sep else None
