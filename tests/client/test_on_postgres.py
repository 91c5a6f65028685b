"""The client's namespace tests and the seed scenario again, on a PostgreSQL metastore.

Every test of the imported modules runs here a second time with ``make_fs`` opening
its file systems on a fresh PostgreSQL store (``metastore_uri`` is overridden).  The
seed scenario runs on the local-directory UFS only (its S3 variants test the UFS, which
the metastore does not change) and with two of its random seeds, to keep the time down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siltfs import crashpoints
from siltfs.client.embedded import EmbeddedFileSystem
from tests.client.conftest import with_persist
from tests.client.test_namespace import *  # noqa: F403
from tests.client.test_seed_scenario import *  # noqa: F403


@pytest.fixture
def metastore_uri(postgres_dsn: str) -> str:
    return postgres_dsn


# two masters on one database ---------------------------------------------------------
def _two_masters(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path, **b_config: Any
) -> tuple[EmbeddedFileSystem, EmbeddedFileSystem, Path]:
    """Two embedded masters (own homes and caches) on one database and one root UFS."""
    ufs = tmp_path / "shared-ufs"
    ufs.mkdir()
    a = make_fs(home=tmp_path / "a", ufs=f"file://{ufs}")
    b = make_fs(home=tmp_path / "b", ufs=f"file://{ufs}", **b_config)
    return a, b, ufs


def test_two_masters_share_one_namespace(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    a, b, ufs = _two_masters(make_fs, tmp_path)
    a.write_bytes("/d/f", b"from a", write_type="CACHE_THROUGH")
    assert b.read_bytes("/d/f") == b"from a"  # b's cache is empty: read from the UFS
    b.rename("/d", "/e")
    assert a.read_bytes("/e/f") == b"from a" and not a.exists("/d")
    a.delete("/e", recursive=True)
    assert not b.exists("/e")
    assert sorted(p.name for p in ufs.iterdir()) == []


def test_a_rename_waits_for_a_commit_latched_by_another_master(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    """A's persist is moving its object into place (path latched in the database); B's
    rename of the directory waits for it, so no ghost /d is left in the UFS."""
    a, b, ufs = _two_masters(make_fs, tmp_path, persist=with_persist(enabled=False))
    reached, release = threading.Event(), threading.Event()

    def hold(name: str) -> None:
        reached.set()
        assert release.wait(30)

    crashpoints.set_hook("persist.before_move", hold)
    try:
        a.write_bytes("/d/f", b"payload")  # ASYNC_THROUGH: A's runner persists it
        assert reached.wait(30)
        renamer = threading.Thread(target=b.rename, args=("/d", "/e"))
        renamer.start()
        renamer.join(0.5)
        assert renamer.is_alive()  # waiting for A's latch on /d/f
    finally:
        release.set()
        crashpoints.set_hook("persist.before_move", None)
    renamer.join(30)
    assert not renamer.is_alive()
    a.wait_persisted("/", timeout=30)
    assert (ufs / "e" / "f").read_bytes() == b"payload" and not (ufs / "d").exists()
    assert b.read_bytes("/e/f") == b"payload"


def test_a_master_does_not_call_blocks_in_another_masters_store_lost(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    """Two masters, each with its own block store, on one database: B's runner claims
    A's jobs and cannot find the blocks; that is not a loss (A holds them)."""
    ufs = tmp_path / "ufs"
    ufs.mkdir()
    a = make_fs(home=tmp_path / "a", ufs=f"file://{ufs}", persist=with_persist(enabled=False))
    b = make_fs(home=tmp_path / "b", ufs=f"file://{ufs}", persist=with_persist(max_attempts=50))
    for i in range(5):
        a.write_bytes(f"/f{i}", b"only in a's cache %d" % i)
    b.master.runner.wake()

    def tried() -> bool:
        return all(j.attempts >= 1 for j in b.jobs()) and len(b.jobs()) == 5

    deadline = time.monotonic() + 20
    while not tried():
        assert time.monotonic() < deadline, b.jobs()
        time.sleep(0.02)
    assert {a.stat(f"/f{i}").persistence_state.value for i in range(5)} == {"TO_BE_PERSISTED"}
    assert b.master.mark_lost("test") == 0
    a.master.runner.start()  # A's runner, which sees the blocks, persists them
    try:
        a.wait_persisted("/", timeout=30)
    finally:
        a.master.runner.stop(wait=True)  # (close() stops only a runner the config started)
    assert {p.name for p in ufs.iterdir()} == {f"f{i}" for i in range(5)}
