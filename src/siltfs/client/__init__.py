"""The FileSystem API used by everyone: embedded (in-process) or remote.

The implementations are imported when first named, so ``import siltfs.client.remote``
(a remote client) loads no master, metastore or UFS code.  :class:`FileSystem`
(``siltfs.client.base``) is the contract both clients implement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siltfs.client.base import FileSystem

if TYPE_CHECKING:
    from siltfs.client.embedded import EmbeddedFileSystem
    from siltfs.client.remote import RemoteFileSystem

__all__ = ["EmbeddedFileSystem", "FileSystem", "RemoteFileSystem"]


def __getattr__(name: str) -> Any:
    if name == "EmbeddedFileSystem":
        from siltfs.client.embedded import EmbeddedFileSystem

        return EmbeddedFileSystem
    if name == "RemoteFileSystem":
        from siltfs.client.remote import RemoteFileSystem

        return RemoteFileSystem
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
