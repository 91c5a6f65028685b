"""Fixtures for the fsspec binding: a fresh embedded siltfs home per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from siltfs.fsspec import SiltFileSystem
from tests.servers import MasterProcess, start_cluster


@pytest.fixture(autouse=True)
def _no_default_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything that falls back to the default home lands in this test's tmp dir."""
    monkeypatch.setenv("SILT_HOME", str(tmp_path / "default-home"))


@pytest.fixture
def silt_home(tmp_path: Path) -> Path:
    home = tmp_path / "silt-home"
    home.mkdir()
    return home


@pytest.fixture
def silt_fs(silt_home: Path) -> Iterator[SiltFileSystem]:
    fs = SiltFileSystem(home=str(silt_home))
    try:
        yield fs
    finally:
        fs.close()


@pytest.fixture(scope="session")
def silt_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterProcess]:
    """A real master (no block store of its own) and one worker, for silt:// over HTTP."""
    master, worker = start_cluster(tmp_path_factory.mktemp("fsspec-cluster"))
    yield master
    master.stop()
    worker.stop()
