"""Which UnderFileSystem serves a mount URI: the table :data:`siltfs.backends.UFS_BACKENDS`.

A scheme not in the table goes to :class:`~siltfs.ufs.fsspec_ufs.FsspecUfs`,
which reaches whatever fsspec does (``file``, ``memory``, ``gs``, ...; fsspec names the
package a scheme of its own needs).
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any, Protocol, cast

from siltfs.backends import FSSPEC, UFS_BACKENDS
from siltfs.errors import InvalidPath, UfsError
from siltfs.ufs.abc import UnderFileSystem


class UfsClass(Protocol):
    """What every UnderFileSystem implementation is constructed with."""

    def __call__(self, uri: str, options: dict[str, Any] | None = None) -> UnderFileSystem: ...


def get_ufs_class(scheme: str, uri: str | None = None) -> UfsClass:
    """The UnderFileSystem class for *scheme*; UfsError (naming *uri*) with the install
    hint if its dependencies are missing."""
    backend = UFS_BACKENDS.get(scheme.lower(), FSSPEC)
    return cast(UfsClass, backend.load(UfsError, f"a {scheme}:// under-storage", uri))


def open_ufs(uri: str, options: dict[str, Any] | None = None) -> UnderFileSystem:
    """Open the UFS for a mount URI.  A bare path is taken as a local directory."""
    if "://" not in uri:
        uri = "file://" + os.path.abspath(uri)
    scheme = urllib.parse.urlsplit(uri).scheme
    if not scheme:
        raise InvalidPath("mount URI has no scheme", path=uri)
    return get_ufs_class(scheme, uri)(uri, options)
