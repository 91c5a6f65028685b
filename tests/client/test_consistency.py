"""check_consistency: every divergence kind is found, and repair fixes it without loss."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.master.consistency import KINDS
from siltfs.model.enums import JobState, PersistenceState
from siltfs.testing import inject_faults

from . import test_quarantine
from .conftest import ufs_tree, with_persist


def kinds(fs: EmbeddedFileSystem, path: str = "/") -> list[tuple[str, str]]:
    return [(d.kind, d.path) for d in fs.check_consistency(path).divergences]


def test_clean_system_has_no_divergence(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a/b", b"1", write_type="CACHE_THROUGH")
    fs.write_bytes("/a/c", b"2")
    fs.write_bytes("/m", b"3", write_type="MUST_CACHE")
    fs.mkdir("/empty", write_type="MUST_CACHE")
    fs.wait_persisted(timeout=30)
    report = fs.check_consistency("/")
    assert report.divergences == [] and report.consistent
    assert report.checked_entries == 6  # /, /a, /a/b, /a/c, /m, /empty
    assert report.to_dict()["by_kind"] == dict.fromkeys(KINDS, 0)


def test_pending_persist_is_not_a_divergence(fs: EmbeddedFileSystem) -> None:
    fs.master.runner.stop()
    fs.write_bytes("/p", b"pending")
    assert kinds(fs) == []


def test_ghost_found_imported_or_removed(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/d", write_type="CACHE_THROUGH")
    fs.ls("/d")
    (fs.config.root_ufs_dir / "d" / "ghost").write_bytes(b"from outside")
    assert kinds(fs) == [("GHOST", "/d/ghost")]
    report = fs.check_consistency("/", repair=True)
    assert report.divergences[0].repaired
    assert fs.read_bytes("/d/ghost") == b"from outside"
    assert kinds(fs) == []
    (fs.config.root_ufs_dir / "d" / "ghost2").write_bytes(b"junk")
    fs.check_consistency("/d", repair=True, remove_ghosts=True)
    assert not (fs.config.root_ufs_dir / "d" / "ghost2").exists()
    assert kinds(fs) == []


def test_missing_ufs_copy_repersisted_from_cache(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"cached copy", write_type="CACHE_THROUGH")
    (fs.config.root_ufs_dir / "f").unlink()
    assert kinds(fs) == [("MISSING_UFS_COPY", "/f")]
    fs.check_consistency(repair=True)
    fs.wait_persisted(timeout=30)
    assert (fs.config.root_ufs_dir / "f").read_bytes() == b"cached copy"
    assert kinds(fs) == []


def test_missing_uncached_copy_becomes_lost_and_recovers(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"only in ufs", write_type="THROUGH")
    (fs.config.root_ufs_dir / "f").rename(fs.config.root_ufs_dir.parent / "saved")
    fs.check_consistency(repair=True)
    assert fs.stat("/f").persistence_state is PersistenceState.LOST
    assert kinds(fs) == [("LOST", "/f")]
    with pytest.raises(OSError):
        fs.read_bytes("/f")
    (fs.config.root_ufs_dir.parent / "saved").rename(fs.config.root_ufs_dir / "f")  # reappears
    report = fs.check_consistency(repair=True)
    assert [d.kind for d in report.divergences] == ["LOST"] and report.divergences[0].repaired
    assert fs.stat("/f").persistence_state is PersistenceState.PERSISTED
    assert fs.read_bytes("/f") == b"only in ufs"
    assert kinds(fs) == []


def test_fingerprint_mismatch_takes_ufs_version(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"old", write_type="CACHE_THROUGH")
    (fs.config.root_ufs_dir / "f").write_bytes(b"changed outside")
    assert kinds(fs) == [("FINGERPRINT_MISMATCH", "/f")]
    fs.check_consistency(repair=True)
    assert fs.read_bytes("/f") == b"changed outside"  # never the stale cached bytes
    assert kinds(fs) == []


def test_orphaned_staging_found_and_removed(fs: EmbeddedFileSystem) -> None:
    staging = fs.config.root_ufs_dir / ".silt_staging"
    staging.mkdir()
    (staging / "j99-1-deadbeef").write_bytes(b"left by a dead job")
    assert kinds(fs) == [("ORPHANED_STAGING", "/.silt_staging/j99-1-deadbeef")]
    fs.check_consistency(repair=True)
    assert ufs_tree(fs.config.root_ufs_dir) == set()


def test_stuck_job_requeued(fs: EmbeddedFileSystem) -> None:
    fs.master.runner.stop()
    info = fs.write_bytes("/s", b"stuck")
    with fs.master.ms.transaction() as txn:  # a runner claimed it and died
        job = txn.job_for_inode(info.id)
        assert job is not None
        job.state = JobState.RUNNING
        job.lease_owner = "elsewhere:1:x"
        job.lease_expires_ms = int(time.time() * 1000) - 1
        txn.update_job(job)
    assert kinds(fs) == [("STUCK_JOB", "/s")]
    fs.check_consistency(repair=True)
    assert fs.jobs()[0].state == "PENDING"


def test_failed_job_reported_and_retried(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(persist=with_persist(max_attempts=1))
    faults = inject_faults(fs)
    faults.fail_next("open_write", 1, ".silt_staging/*")
    fs.write_bytes("/x", b"data")
    with pytest.raises(OSError):
        fs.wait_persisted(timeout=30)
    assert kinds(fs) == [("FAILED_JOB", "/x")]
    fs.check_consistency(repair=True)
    fs.wait_persisted(timeout=30)
    assert kinds(fs) == []
    assert (fs.config.root_ufs_dir / "x").read_bytes() == b"data"


# Every divergence kind the checker knows has a test above that finds and repairs it.
KIND_TESTS = {
    "GHOST": test_ghost_found_imported_or_removed,
    "MISSING_UFS_COPY": test_missing_ufs_copy_repersisted_from_cache,
    "FINGERPRINT_MISMATCH": test_fingerprint_mismatch_takes_ufs_version,
    "ORPHANED_STAGING": test_orphaned_staging_found_and_removed,
    "STUCK_JOB": test_stuck_job_requeued,
    "FAILED_JOB": test_failed_job_reported_and_retried,
    "LOST": test_missing_uncached_copy_becomes_lost_and_recovers,
    "QUARANTINED_INTENT": test_quarantine.test_a_bricked_home_opens_reports_and_repairs,
    "UNREPRESENTABLE_NAME": test_quarantine.test_an_unrepresentable_name_is_renamed_by_repair,
}


def test_every_divergence_kind_has_a_test() -> None:
    assert set(KIND_TESTS) == set(KINDS)
