"""Fixtures for the HTTP master: a real ``silt master`` in a subprocess, remote clients.

``master`` (session): one server on a free 127.0.0.1 port, shared by the tests, each of
which works under its own fresh directory (the ``base`` fixture).  ``cluster``
(session): a master without a block store of its own plus one ``silt worker``.
``anyfs`` runs a test three times: embedded, remote on ``master``, remote on
``cluster``, with the same configuration (1 MiB blocks, 2 persist attempts, fast
backoff).  The server classes live in ``tests/servers.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import siltfs
from siltfs.client.base import FileSystem
from siltfs.client.remote import RemoteFileSystem
from siltfs.config import CacheConfig, SiltConfig
from tests.servers import (  # noqa: F401  (re-exported for the tests of this package)
    BLOCK,
    CLUSTER_TOML,
    PERSIST,
    SILT_TOML,
    SRC,
    MasterProcess,
    WorkerProcess,
    free_port,
    start_cluster,
)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterProcess]:
    """A master that keeps no blocks itself, and one worker process holding them all."""
    server, worker = start_cluster(tmp_path_factory.mktemp("cluster"))
    yield server
    server.stop()
    worker.stop()


@pytest.fixture(scope="session")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterProcess]:
    server = MasterProcess(tmp_path_factory.mktemp("master") / "home").start()
    yield server
    server.stop()


@pytest.fixture
def remote(master: MasterProcess) -> Iterator[RemoteFileSystem]:
    fs = RemoteFileSystem(master.url, master.token, timeout=30, retries=3)
    yield fs
    fs.close()


def embedded_config(home: Path) -> SiltConfig:
    return SiltConfig(home=home, cache=CacheConfig(block_size=BLOCK), persist=PERSIST)


@pytest.fixture(params=["embedded", "remote", "remote+worker"])
def anyfs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileSystem]:
    """The same test on an embedded FileSystem, on a RemoteFileSystem (a master that
    caches blocks itself), and on a RemoteFileSystem whose blocks live in a separate
    worker process."""
    if request.param == "embedded":
        fs: FileSystem = siltfs.connect(config=embedded_config(tmp_path / "embedded-home"))
    else:
        name = "master" if request.param == "remote" else "cluster"
        server: MasterProcess = request.getfixturevalue(name)
        fs = RemoteFileSystem(server.url, server.token)
    yield fs
    fs.close()


@pytest.fixture
def base(anyfs: FileSystem) -> str:
    """A fresh directory for this test (the remote master is shared by every test)."""
    path = f"/t-{uuid.uuid4().hex[:10]}"
    anyfs.mkdir(path)
    return path
