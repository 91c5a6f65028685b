"""The client conformance suite: what every siltfs FileSystem -- embedded, remote, one
of yours in front of siltfs -- does, through the public API only.

Subclass :class:`FileSystemTests` (class name starting with ``Test``) and override the
``fs`` fixture; see :mod:`siltfs.testing.fs_common` for what the file system must be
(1 MiB blocks, one block store)::

    class TestEmbedded(FileSystemTests):
        @pytest.fixture
        def fs(self, tmp_path):
            config = SiltConfig(home=tmp_path, cache=CacheConfig(block_size=BLOCK))
            with siltfs.connect(config=config) as fs:
                yield fs

The parts (:class:`NamespaceTests`, :class:`DataTests`, :class:`MutableTests`,
:class:`VersionTests`, :class:`PosixTests`) can be subclassed alone.  Needs pytest (``pip install 'siltfs[test]'``).
"""

from __future__ import annotations

from siltfs.testing.fs_common import BLOCK, FileSystemFixtures, blob, fails, is_remote
from siltfs.testing.fs_io import DataTests
from siltfs.testing.fs_mutable import MutableTests
from siltfs.testing.fs_namespace import NamespaceTests
from siltfs.testing.fs_posix import PosixTests
from siltfs.testing.fs_versions import VersionTests

__all__ = [
    "BLOCK",
    "DataTests",
    "FileSystemFixtures",
    "FileSystemTests",
    "MutableTests",
    "NamespaceTests",
    "PosixTests",
    "VersionTests",
    "blob",
    "fails",
    "is_remote",
]


class FileSystemTests(NamespaceTests, DataTests, MutableTests, VersionTests, PosixTests):
    """Every part of the client contract."""
