"""The bug siltfs exists to make impossible (Alluxio #18667) and its variants.

write /A/B/01 (ASYNC_THROUGH) -> rename /A /C -> persist retries -> delete /A must not
meet a ghost /A in the UFS, and the UFS must end with exactly what the namespace says.
Every variant runs with the root mounted on a local directory and on S3 (a moto server,
``s3://<bucket>/root``), where the UFS tree is what the bucket's keys make of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.errors import FileNotFound, UfsError
from siltfs.model.enums import PersistenceState
from siltfs.testing import inject_faults
from tests.s3server import S3Bucket

from .conftest import ufs_tree

STAGING = ".silt_staging/*"
T = TypeVar("T")


def ok(action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a user operation; with injected UFS errors it may fail with UfsError (the UFS is
    unavailable), which a user retries.  Any other error goes through."""
    for _ in range(50):
        try:
            return action(*args, **kwargs)
        except UfsError:
            continue
    return action(*args, **kwargs)


@dataclass
class Backend:
    """Where the root mount lives, and the UFS as seen from outside siltfs."""

    bucket: S3Bucket | None = None  # None: the local directory <home>/ufs
    prefix: str = "root"

    def connect_args(self) -> dict[str, Any]:
        if self.bucket is None:
            return {}
        return {"ufs": self.bucket.uri(self.prefix), "ufs_options": self.bucket.options}

    def tree(self, fs: EmbeddedFileSystem) -> set[str]:
        """Every file and directory in the root UFS, as relative paths."""
        if self.bucket is None:
            return ufs_tree(fs.config.root_ufs_dir)
        return self.bucket.tree(self.prefix)

    def read(self, fs: EmbeddedFileSystem, rel: str) -> bytes:
        if self.bucket is None:
            return (fs.config.root_ufs_dir / rel).read_bytes()
        return self.bucket.read(f"{self.prefix}/{rel}")


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """(Requested before ``make_fs``, so the bucket outlives the file systems using it.)"""
    if request.param == "s3":
        return Backend(request.getfixturevalue("s3_bucket"))
    return Backend()


@pytest.fixture(params=[0.0, 0.3], ids=["no-faults", "30pct-ufs-errors"])
def fs0(
    backend: Backend, make_fs: Callable[..., EmbeddedFileSystem], request: pytest.FixtureRequest
) -> EmbeddedFileSystem:
    """Metadata sync ALWAYS, as in the original report; once on a healthy UFS and once
    with 30% of all UFS calls failing (seeded) underneath whatever the test injects."""
    from .conftest import with_persist

    fs = make_fs(
        sync_interval_ms=0, persist=with_persist(max_attempts=100), **backend.connect_args()
    )
    if request.param:
        inject_faults(fs, seed=7).set_error_rate(request.param)
    return fs


def test_seed_scenario_with_failing_first_attempts(
    fs0: EmbeddedFileSystem, backend: Backend
) -> None:
    faults = inject_faults(fs0)
    faults.fail_next("open_write", 3, STAGING)  # the first three uploads fail
    ok(fs0.write_bytes, "/A/B/01", b"payload")
    ok(fs0.rename, "/A", "/C")
    fs0.wait_persisted(timeout=30)
    assert faults.injected == 3
    assert backend.tree(fs0) == {"C", "C/B", "C/B/01"}
    assert backend.read(fs0, "C/B/01") == b"payload"
    with pytest.raises(FileNotFound):
        ok(fs0.delete, "/A", recursive=True)
    ok(fs0.delete, "/C", recursive=True)
    fs0.wait_persisted(timeout=30)  # (rolls forward a UFS step deferred by UFS errors)
    assert backend.tree(fs0) == set()
    assert [i.path for i in fs0.ls("/")] == []


def test_rename_while_upload_in_flight(fs0: EmbeddedFileSystem, backend: Backend) -> None:
    faults = inject_faults(fs0)
    gate = faults.block("open_write", STAGING)
    ok(fs0.write_bytes, "/A/B/01", b"x" * 100_000)
    assert gate.wait_reached(10)
    ok(fs0.rename, "/A", "/C")  # not blocked by the running upload (I4)
    gate.release()
    fs0.wait_persisted(timeout=30)
    assert backend.tree(fs0) == {"C", "C/B", "C/B/01"}
    assert fs0.stat("/C/B/01").persistence_state is PersistenceState.PERSISTED
    ok(fs0.delete, "/C", recursive=True)
    fs0.wait_persisted(timeout=30)  # (rolls forward a UFS step deferred by UFS errors)
    assert backend.tree(fs0) == set()


def test_delete_while_upload_in_flight(fs0: EmbeddedFileSystem, backend: Backend) -> None:
    faults = inject_faults(fs0)
    gate = faults.block("open_write", STAGING)
    ok(fs0.write_bytes, "/A/B/01", b"y" * 1000)
    assert gate.wait_reached(10)
    ok(fs0.delete, "/A", recursive=True)
    gate.release()
    fs0.wait_persisted(timeout=30)  # also waits for the cancelled upload to clean up
    assert backend.tree(fs0) == set()
    assert not fs0.exists("/A")


def test_overwrite_while_upload_in_flight(fs0: EmbeddedFileSystem, backend: Backend) -> None:
    faults = inject_faults(fs0)
    gate = faults.block("open_write", STAGING)
    ok(fs0.write_bytes, "/A/B/01", b"old bytes")
    assert gate.wait_reached(10)
    ok(fs0.write_bytes, "/A/B/01", b"new bytes, longer")
    gate.release()
    fs0.wait_persisted(timeout=30)
    assert backend.read(fs0, "A/B/01") == b"new bytes, longer"
    assert backend.tree(fs0) == {"A", "A/B", "A/B/01"}
    assert fs0.read_bytes("/A/B/01") == b"new bytes, longer"


def append(fs: EmbeddedFileSystem, path: str, data: bytes) -> None:
    with fs.open(path, "ab") as f:  # a copy-on-write version of the file
        f.write(data)


def test_append_after_the_rename_while_the_first_upload_is_blocked(
    fs0: EmbeddedFileSystem, backend: Backend
) -> None:
    """The seed scenario with a change in the middle: the first version's upload waits,
    the file is renamed and appended to; the UFS ends with C/B/01 holding the appended
    bytes (one whole version), and no A."""
    faults = inject_faults(fs0)
    gate = faults.block("open_write", STAGING)
    first = b"x" * 100_000  # two blocks and a short one (64 KiB blocks)
    ok(fs0.write_bytes, "/A/B/01", first)
    assert gate.wait_reached(10)
    ok(fs0.rename, "/A", "/C")
    before = fs0.stat("/C/B/01").block_ids
    ok(append, fs0, "/C/B/01", b"appended")
    assert fs0.stat("/C/B/01").block_ids[:1] == before[:1]  # the whole block is kept
    with pytest.raises(FileNotFound):
        ok(fs0.delete, "/A", recursive=True)
    gate.release()
    fs0.wait_persisted(timeout=30)
    assert backend.tree(fs0) == {"C", "C/B", "C/B/01"}
    assert backend.read(fs0, "C/B/01") == first + b"appended"
    assert fs0.read_bytes("/C/B/01") == first + b"appended"


def test_rename_then_delete_old_name_never_sees_ghost(
    fs0: EmbeddedFileSystem, backend: Backend
) -> None:
    faults = inject_faults(fs0)
    faults.fail_next("move", 2, STAGING)  # commit fails twice after the upload
    for i in range(5):
        ok(fs0.write_bytes, f"/A/B/{i:02d}", bytes([i]) * 10)
    ok(fs0.rename, "/A", "/C")
    ok(fs0.mkdir, "/A")  # a new, unrelated /A (refused while the UFS still holds the old)
    fs0.wait_persisted(timeout=30)
    ok(fs0.delete, "/A", recursive=True)
    fs0.wait_persisted(timeout=30)
    assert backend.tree(fs0) == {"C", "C/B"} | {f"C/B/{i:02d}" for i in range(5)}


def test_failed_after_max_attempts_keeps_data(
    backend: Backend, make_fs: Callable[..., EmbeddedFileSystem]
) -> None:
    from siltfs.errors import PersistFailed

    from .conftest import with_persist

    fs = make_fs(persist=with_persist(max_attempts=2), **backend.connect_args())
    faults = inject_faults(fs)
    faults.fail_next("open_write", 100, STAGING)
    fs.write_bytes("/f", b"keep me")
    with pytest.raises(PersistFailed) as info:
        fs.wait_persisted(timeout=30)
    assert "/f" in str(info.value)
    assert fs.read_bytes("/f") == b"keep me"
    assert fs.stat("/f").persistence_state is PersistenceState.TO_BE_PERSISTED
    assert fs.master.blocks.pinned >= set(fs.stat("/f").block_ids)
    faults.clear()
    assert fs.persist("/f") == 1  # retry a FAILED job
    fs.wait_persisted(timeout=30)
    assert backend.read(fs, "f") == b"keep me"
    assert backend.tree(fs) == {"f"}


@pytest.mark.parametrize(
    ("backend", "seed"),
    [("local", seed) for seed in range(5)] + [("s3", seed) for seed in range(2)],
    indirect=["backend"],
)
def test_seed_scenario_under_30_percent_ufs_errors(
    backend: Backend, make_fs: Callable[..., EmbeddedFileSystem], seed: int
) -> None:
    from .conftest import with_persist

    fs = make_fs(
        sync_interval_ms=0, persist=with_persist(max_attempts=100), **backend.connect_args()
    )
    faults = inject_faults(fs, seed=seed)
    faults.set_error_rate(0.3)  # every UFS operation, user-facing ones included
    fs.write_bytes("/A/B/01", b"payload")
    for i in range(10):
        fs.write_bytes(f"/A/B/{i + 2:02d}", bytes([i]) * 5000)
    fs.rename("/A", "/C")
    fs.wait_persisted(timeout=60)
    faults.clear()
    assert faults.injected > 0
    expected = {"C", "C/B"} | {f"C/B/{i:02d}" for i in range(1, 12)}
    assert backend.tree(fs) == expected
    assert fs.check_consistency("/").divergences == []
    faults.set_error_rate(0.3)
    with pytest.raises(FileNotFound):
        fs.delete("/A", recursive=True)
    fs.delete("/C", recursive=True)
    fs.master.ns.replay_intents()  # in case the UFS step was deferred past its retries
    faults.clear()
    fs.master.ns.replay_intents()
    assert backend.tree(fs) == set()
    print(f"seed {seed}: longest pending {fs.master.persister.max_pending_s:.2f}s")
