"""The FileSystem API used by everyone: embedded (in-process) or remote.

:class:`FileSystem` (``siltfs.client.base``) is the contract both clients implement.
"""

from siltfs.client.base import FileSystem
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.client.remote import RemoteFileSystem

__all__ = ["EmbeddedFileSystem", "FileSystem", "RemoteFileSystem"]
