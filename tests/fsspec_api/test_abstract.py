"""fsspec's own abstract test suite, run against SiltFileSystem on a fresh home.

Every class the installed fsspec ships in ``fsspec.tests.abstract`` is subclassed here
(fsspec 2026.9 has copy, get, put, open and pipe; ``mv.py`` holds only LocalFileSystem
tests, so moves are covered by ``test_mv.py``).  The suite runs once per write type: the
default ASYNC_THROUGH (renames and deletes racing background persists) and the three
synchronous ones -- and once more over HTTP (``master=``) against a real master and worker
process, each test under its own fresh directory there.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fsspec.tests.abstract import (
    AbstractCopyTests,
    AbstractFixtures,
    AbstractGetTests,
    AbstractOpenTests,
    AbstractPipeTests,
    AbstractPutTests,
)

from siltfs.fsspec import SiltFileSystem


class SiltFixtures(AbstractFixtures):  # type: ignore[misc]
    @pytest.fixture(
        params=["ASYNC_THROUGH", "CACHE_THROUGH", "THROUGH", "MUST_CACHE", "remote:ASYNC_THROUGH"]
    )
    def fs(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SiltFileSystem]:
        if request.param.startswith("remote:"):
            master = request.getfixturevalue("silt_cluster")
            fs = SiltFileSystem(
                master=master.url, token=master.token, write_type=request.param.split(":")[1]
            )
        else:
            fs = SiltFileSystem(home=str(tmp_path / "silt-home"), write_type=request.param)
        try:
            yield fs
        finally:
            fs.close()

    @pytest.fixture
    def fs_join(self) -> Callable[..., str]:
        return posixpath.join

    @pytest.fixture
    def fs_path(self, fs: SiltFileSystem) -> str:
        if fs.fsid.startswith("silt:http"):  # a shared master: a fresh directory per test
            path = f"/t-{uuid.uuid4().hex[:12]}"
            fs.mkdir(path)
            return path
        return "/"


class TestSiltCopy(AbstractCopyTests, SiltFixtures):  # type: ignore[misc]
    pass


class TestSiltGet(AbstractGetTests, SiltFixtures):  # type: ignore[misc]
    pass


class TestSiltPut(AbstractPutTests, SiltFixtures):  # type: ignore[misc]
    pass


class TestSiltOpen(AbstractOpenTests, SiltFixtures):  # type: ignore[misc]
    pass


class TestSiltPipe(AbstractPipeTests, SiltFixtures):  # type: ignore[misc]
    pass
