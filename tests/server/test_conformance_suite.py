"""siltfs.testing.FileSystemTests -- the client contract: namespace, data, files that
change, POSIX metadata -- on every backend (``anyfs``: embedded, remote on a real
``silt master``, remote with a separate ``silt worker``)."""

from __future__ import annotations

from typing import Any

import pytest

from siltfs.testing import FileSystemTests


class TestFileSystem(FileSystemTests):
    @pytest.fixture
    def fs(self, anyfs: Any) -> Any:
        return anyfs
