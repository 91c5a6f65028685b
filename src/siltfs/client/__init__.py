"""The FileSystem API used by everyone: embedded (in-process) or remote."""

from siltfs.client.embedded import EmbeddedFileSystem

FileSystem = EmbeddedFileSystem

__all__ = ["EmbeddedFileSystem", "FileSystem"]
