"""Fixtures: a real ``silt master`` and a real ``silt s3`` serving it (session), a boto3
client, a fresh bucket per test, and the master's namespace seen through a remote client
(``fs``) to check what a refused request left behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from siltfs.client.remote import RemoteFileSystem
from tests.s3gw.gateway import GatewayProcess, client, write_credentials
from tests.servers import MasterProcess


@pytest.fixture(scope="session")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterProcess]:
    server = MasterProcess(tmp_path_factory.mktemp("s3gw") / "home").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gateway(
    master: MasterProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    root = tmp_path_factory.mktemp("s3gw-gateway")
    creds = write_credentials(root / "credentials.toml")
    gw = GatewayProcess(root / "gw", creds, master=master).start()
    yield gw
    gw.stop()


@pytest.fixture(scope="session")
def fs(master: MasterProcess) -> Iterator[RemoteFileSystem]:
    remote = RemoteFileSystem(master.url, token=master.token)
    yield remote
    remote.close()


@pytest.fixture
def s3(gateway: GatewayProcess) -> Any:
    return client(gateway.url)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def tree(fs: RemoteFileSystem, path: str) -> list[tuple[str, bool, int]]:
    """Everything below *path*: (path, is_dir, length), sorted."""
    return sorted((i.path, i.is_dir, i.length) for i in fs.ls(path, recursive=True))


@pytest.fixture
def snapshot(fs: RemoteFileSystem) -> Any:
    """``snapshot()`` -> the whole namespace (gateway staging included), to compare before
    and after a refused request."""
    return lambda: tree(fs, "/")


def tmp(tmp_path: Path) -> Path:
    return tmp_path
