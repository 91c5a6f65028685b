"""Queue visibility (I5) and deletes/renames never blocked by our own persists (I4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.errors import DirectoryNotEmpty, JobNotFound, PersistFailed, PersistTimeout
from siltfs.master.intents import merge_move
from siltfs.model.enums import PersistenceState
from siltfs.testing import inject_faults

from .conftest import ufs_tree, with_persist

STAGING = ".silt_staging/*"


def test_jobs_list_show_and_states(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(persist=with_persist(max_attempts=2))
    faults = inject_faults(fs)
    faults.fail_next("open_write", 100, ".silt_staging/j*")
    fs.write_bytes("/q/a", b"a")
    with pytest.raises(PersistFailed) as err:
        fs.wait_persisted("/q", timeout=30)
    assert err.value.details["failed"] == ["/q/a"]
    [job] = fs.jobs()
    assert job.path == "/q/a" and job.state == "FAILED" and job.attempts == 2
    assert "injected fault" in (job.last_error or "")
    assert fs.job(job.id).to_dict()["path"] == "/q/a"
    assert fs.jobs("failed") == [fs.job(job.id)] or fs.jobs("FAILED")[0].id == job.id
    assert fs.jobs("PENDING") == []
    with pytest.raises(JobNotFound):
        fs.job(job.id + 1000)
    faults.clear()
    assert fs.retry_job(all_failed=True) == 1
    fs.wait_persisted(timeout=30)
    assert fs.jobs() == []


def test_cancel_leaves_file_unpersisted_and_pinned(fs: EmbeddedFileSystem) -> None:
    fs.master.runner.stop()
    info = fs.write_bytes("/c", b"keep")
    [job] = fs.jobs()
    fs.cancel_job(job.id)
    after = fs.stat("/c")
    assert after.persistence_state is PersistenceState.NOT_PERSISTED
    assert set(after.block_ids) <= fs.master.blocks.pinned
    assert fs.read_bytes("/c") == b"keep" and fs.jobs() == []
    assert info.id == after.id


def test_wait_persisted_timeout_names_pending(fs: EmbeddedFileSystem) -> None:
    fs.master.runner.stop()
    fs.write_bytes("/slow", b"x")
    with pytest.raises(PersistTimeout) as err:
        fs.wait_persisted("/", timeout=0.2)
    assert "/slow" in str(err.value)


def test_delete_with_failed_pending_and_running_persists(
    make_fs: Callable[..., EmbeddedFileSystem],
) -> None:
    fs = make_fs(persist=with_persist(max_attempts=1))
    faults = inject_faults(fs)
    faults.fail_next("open_write", 1, ".silt_staging/j*")
    fs.mkdir("/d", write_type="CACHE_THROUGH")
    fs.write_bytes("/d/failed", b"f")
    with pytest.raises(PersistFailed):
        fs.wait_persisted(timeout=30)
    gate = faults.block("open_write", ".silt_staging/j*")  # hold the upload, not sync writes
    fs.write_bytes("/d/running", b"r")
    assert gate.wait_reached(10)
    fs.write_bytes("/d/persisted", b"p", write_type="CACHE_THROUGH")
    fs.master.runner.wake()
    fs.delete("/d", recursive=True)  # I4: none of our own jobs blocks this
    gate.release()
    fs.wait_persisted(timeout=30)
    assert fs.jobs() == []
    assert ufs_tree(fs.config.root_ufs_dir) == set()


def test_delete_refuses_unknown_ufs_entries(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/known", b"k", write_type="CACHE_THROUGH")
    (fs.config.root_ufs_dir / "d" / "outsider").write_bytes(b"written outside siltfs")
    with pytest.raises(DirectoryNotEmpty) as err:
        fs.delete("/d", recursive=True)
    assert "/d/outsider" in str(err.value)
    assert fs.read_bytes("/d/known") == b"k"  # nothing changed
    fs.delete("/d", recursive=True, namespace_only=True)
    assert not fs.exists("/d")
    assert ufs_tree(fs.config.root_ufs_dir) == {"d", "d/known", "d/outsider"}
    fs.sync_metadata("/", recursive=True)
    fs.delete("/d", recursive=True, unchecked=True)
    assert ufs_tree(fs.config.root_ufs_dir) == set()


def test_small_files_are_not_starved_by_a_blocked_big_one(fs: EmbeddedFileSystem) -> None:
    faults = inject_faults(fs)
    gate = faults.block("open_write", ".silt_staging/j2-*")  # the first file's upload hangs
    fs.write_bytes("/big", b"B" * 500_000)
    assert gate.wait_reached(10)
    for i in range(30):
        fs.write_bytes(f"/small/{i}", b"s")
    fs.wait_persisted("/small", timeout=30)  # all persist while /big is still stuck
    assert fs.stat("/big").persistence_state is PersistenceState.TO_BE_PERSISTED
    assert fs.master.runner.inflight() == 1
    gate.release()
    fs.wait_persisted(timeout=30)


def test_interrupted_tree_move_rolls_forward(memory_uri: str, fs: EmbeddedFileSystem) -> None:
    from siltfs import crashpoints
    from siltfs.ufs.registry import open_ufs

    ufs = open_ufs(memory_uri)
    ufs.mkdirs("src/sub")
    for name in ("a", "b", "sub/c"):
        ufs.write(f"src/{name}", [name.encode()])

    def die(_: str) -> None:
        raise KeyboardInterrupt("crash")

    crashpoints.set_hook("ufs.move_tree.partial", die)
    try:
        with pytest.raises(KeyboardInterrupt):
            ufs.move("src", "dst")
    finally:
        crashpoints.set_hook("ufs.move_tree.partial", None)
    assert ufs.status("src") is not None and ufs.status("dst") is not None  # half and half
    merge_move(ufs, "src", "dst")  # what recovery does with the rename intent
    assert ufs.status("src") is None
    assert {s.name for s in ufs.list("dst")} == {"a", "b", "sub"}
    assert ufs.read_range("dst/sub/c", 0, 5) == b"sub/c"


def _metric(fs: EmbeddedFileSystem, name: str) -> float:
    for line in fs.metrics_text().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")


@pytest.mark.parametrize("change", ["delete", "overwrite"])
def test_a_job_whose_file_changes_while_it_uploads_ends_without_a_failure(
    fs: EmbeddedFileSystem, change: str
) -> None:
    faults = inject_faults(fs)
    gate = faults.block("open_write", ".silt_staging/j*")  # the upload holds, blocks unread
    fs.write_bytes("/f", b"first")
    assert gate.wait_reached(10)
    before = _metric(fs, "silt_persist_failures_total")
    if change == "delete":
        fs.delete("/f")  # its blocks go: the held upload then finds none
    else:
        fs.write_bytes("/f", b"second", write_type="CACHE_THROUGH")
    gate.release()
    fs.wait_persisted(timeout=30)
    assert fs.jobs() == []
    assert _metric(fs, "silt_persist_failures_total") == before  # a change, not a failure
    expected = set() if change == "delete" else {"f"}
    assert ufs_tree(fs.config.root_ufs_dir) == expected
