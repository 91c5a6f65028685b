"""The FileSystem API used by everyone: embedded (in-process) or remote."""

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.client.remote import RemoteFileSystem

FileSystem = EmbeddedFileSystem | RemoteFileSystem  # same methods, same results

__all__ = ["EmbeddedFileSystem", "FileSystem", "RemoteFileSystem"]
