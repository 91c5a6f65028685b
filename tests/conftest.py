"""Fixtures shared by every test module.

Keep each fixture small and independent; higher layers (client, server) add theirs here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFileSystem

from tests.pgserver import postgres_database, postgres_dsn, postgres_server  # noqa: F401
from tests.s3server import s3_bucket, s3_endpoint  # noqa: F401 - S3 (moto server) fixtures


@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty $SILT_HOME for this test (the env var points at it)."""
    home = tmp_path / "silt-home"
    home.mkdir()
    monkeypatch.setenv("SILT_HOME", str(home))
    return home


@pytest.fixture
def memory_uri() -> Iterator[str]:
    """A unique ``memory://`` root, removed from fsspec's process-wide store afterwards."""
    name = f"silt-test-{uuid.uuid4().hex}"
    yield f"memory://{name}"
    prefix = f"/{name}"
    store = MemoryFileSystem.store
    for key in [k for k in store if k == prefix or k.startswith(prefix + "/")]:
        store.pop(key, None)
    pseudo = MemoryFileSystem.pseudo_dirs
    pseudo[:] = [d for d in pseudo if not (d == prefix or d.startswith(prefix + "/"))]
