"""Fixtures for client tests: an embedded FileSystem on a fresh home, fast retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import siltfs
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.config import CacheConfig, PersistConfig, SiltConfig

FAST_PERSIST = PersistConfig(backoff_initial_s=0.01, backoff_max_s=0.05, poll_interval_s=0.01)


def fast_config(home: Path, **kwargs: Any) -> SiltConfig:
    cache = kwargs.pop("cache", CacheConfig(block_size=64 * 1024))
    persist = kwargs.pop("persist", FAST_PERSIST)
    return SiltConfig(home=home, cache=cache, persist=persist, **kwargs)


@pytest.fixture
def metastore_uri() -> str | None:
    """The metastore of ``make_fs``'s file systems: None is SQLite in the home; a module
    overrides it to run its tests on PostgreSQL (see test_on_postgres.py)."""
    return None


@pytest.fixture
def make_fs(
    tmp_path: Path, metastore_uri: str | None
) -> Iterator[Callable[..., EmbeddedFileSystem]]:
    """``make_fs(**config_overrides)`` opens an embedded FileSystem; all closed at the end."""
    opened: list[EmbeddedFileSystem] = []

    def factory(
        home: Path | None = None,
        ufs: str | None = None,
        ufs_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> EmbeddedFileSystem:
        if metastore_uri is not None:
            kwargs.setdefault("metastore", metastore_uri)
        cfg = fast_config(home or tmp_path / "home", **kwargs)
        fs = siltfs.connect(config=cfg, ufs=ufs, ufs_options=ufs_options)
        opened.append(fs)
        return fs

    yield factory
    for fs in opened:
        release_faults(fs)
        fs.close()


def release_faults(fs: EmbeddedFileSystem) -> None:
    """Open every gate a test may have left closed, so close() cannot hang on it."""
    from siltfs.testing import FaultInjectingUfs

    if fs._closed:
        return
    for mount in fs.master.mounts.all():
        ufs = fs.master.mounts.by_id(mount.id)[1]
        if isinstance(ufs, FaultInjectingUfs):
            ufs.clear()


@pytest.fixture
def fs(make_fs: Callable[..., EmbeddedFileSystem]) -> EmbeddedFileSystem:
    return make_fs()


def ufs_tree(root: Path) -> set[str]:
    """Every file and directory under a local UFS root, as relative paths."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def with_persist(**kwargs: Any) -> PersistConfig:
    return replace(FAST_PERSIST, **kwargs)
