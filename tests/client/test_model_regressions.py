"""Minimal reproductions of bugs found by the model tests (test_model.py), one per test.

Each is a plain test.  While the bug is open it is marked ``xfail(strict=True)`` with the
reason; when the fix lands the test passes, the strict xfail turns red, and the marker
is removed.
"""

from __future__ import annotations

import gc
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import siltfs
from siltfs import errors
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.config import PersistConfig
from siltfs.metastore.sqlite import SqliteMetastore
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import PersistJob
from siltfs.persist.runner import PersistRunner
from siltfs.testing.faults import inject_faults

from .conftest import ufs_tree

PERSISTED = PersistenceState.PERSISTED
OUTAGE = 50  # UFS calls refused in a row: more than any in-call retry absorbs


def namespace(fs: EmbeddedFileSystem) -> set[str]:
    return {i.path.lstrip("/") for i in fs.ls("/", recursive=True)}


# A failed open for writing commits later, when the garbage collector closes it ---------
def test_failed_open_leaves_nothing_behind(fs: EmbeddedFileSystem) -> None:
    faults = inject_faults(fs)
    faults.fail_next("open_write", 1, ".silt_staging/*")
    with pytest.raises(errors.UfsError):
        fs.write_bytes("/a/f", b"x", write_type="CACHE_THROUGH")
    gc.collect()
    assert namespace(fs) == set()
    assert ufs_tree(fs.config.root_ufs_dir) == set()


# A synchronous write that fails after moving its staged object into place -------------
def test_sync_write_failing_after_move_leaves_no_ghost(fs: EmbeddedFileSystem) -> None:
    faults = inject_faults(fs)
    faults.fail_next("status", 50, "f")  # every status read right after the move fails
    try:
        fs.write_bytes("/f", b"data", write_type="CACHE_THROUGH")
    except errors.UfsError:
        pass  # a failed write may fail, but must leave no ghost behind
    faults.clear()
    fs.wait_persisted(timeout=10)
    assert namespace(fs) == {p for p in ufs_tree(fs.config.root_ufs_dir)}
    assert fs.check_consistency("/").divergences == []


def test_sync_overwrite_failing_after_move_keeps_old_bytes(fs: EmbeddedFileSystem) -> None:
    """The overwrite flavour: whatever the write reports, the namespace and the UFS agree
    on the bytes, also once the cache is freed (I2)."""
    fs.write_bytes("/f", b"old", write_type="CACHE_THROUGH")
    faults = inject_faults(fs)
    faults.fail_next("status", OUTAGE, "f")  # every status read right after the move fails
    try:
        fs.write_bytes("/f", b"new, longer", write_type="CACHE_THROUGH")
    except errors.UfsError:
        pass
    faults.clear()
    seen = fs.read_bytes("/f")
    fs.free("/f")
    assert fs.read_bytes("/f") == seen
    assert (fs.config.root_ufs_dir / "f").read_bytes() == seen


CHILD = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    import siltfs
    from siltfs.config import SiltConfig
    from siltfs.testing.faults import inject_faults

    fs = siltfs.connect(config=SiltConfig(home=Path(sys.argv[1])))
    fs.write_bytes("/f", b"old", write_type="CACHE_THROUGH")
    gate = inject_faults(fs).block("status", "f")  # after the move, before the commit
    threading.Thread(
        target=fs.write_bytes, args=("/f", b"new, longer"), kwargs={"write_type": "CACHE_THROUGH"},
        daemon=True,
    ).start()
    gate.wait_reached()
    print("BLOCKED", flush=True)
    sys.stdin.read()
    """
)


def test_kill_9_inside_sync_overwrite(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem]
) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, PYTHONPATH=str(Path(siltfs.__file__).parents[1]))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "BLOCKED"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    fs = make_fs(home=home)
    fs.wait_persisted(timeout=10)
    seen = fs.read_bytes("/f")
    stored = (fs.config.root_ufs_dir / "f").read_bytes()
    assert (seen, stored) in ((b"old", b"old"), (b"new, longer", b"new, longer"))


CHILD_STAGED = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    import siltfs
    from siltfs.config import SiltConfig
    from siltfs.testing.faults import inject_faults

    fs = siltfs.connect(config=SiltConfig(home=Path(sys.argv[1])))
    gate = inject_faults(fs).block("move", ".silt_staging/w*")  # staged, not yet moved
    threading.Thread(
        target=fs.write_bytes, args=("/f", b"data"), kwargs={"write_type": "CACHE_THROUGH"},
        daemon=True,
    ).start()
    gate.wait_reached()
    print("BLOCKED", flush=True)
    sys.stdin.read()
    """
)


def test_kill_9_inside_sync_write_leaves_no_staged_object(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem]
) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, PYTHONPATH=str(Path(siltfs.__file__).parents[1]))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_STAGED, str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "BLOCKED"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    fs = make_fs(home=home)
    fs.wait_persisted(timeout=10)
    assert namespace(fs) == set()  # the write never returned
    assert ufs_tree(fs.config.root_ufs_dir) == set()


CHILD_MKDIR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import siltfs
    from siltfs.config import SiltConfig

    fs = siltfs.connect(config=SiltConfig(home=Path(sys.argv[1])))
    fs.mkdir("/warm", write_type="MUST_CACHE")  # root synced, inode ids allocated
    print("READY", flush=True)
    sys.stdin.readline()
    fs.mkdir("/c", write_type="THROUGH")
    print("DONE", flush=True)
    sys.stdin.read()
    """
)


def test_kill_9_inside_mkdir_leaves_no_ghost(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem]
) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, PYTHONPATH=str(Path(siltfs.__file__).parents[1]))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_MKDIR, str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    # Hold the metastore's write lock: the child's mkdir gets as far as it can without a
    # transaction.  If that includes the UFS (the old order), the directory appears and the
    # kill leaves a ghost; with the inode inserted first nothing reaches the UFS.
    blocker = sqlite3.connect(home / "metastore.db", timeout=30, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        proc.stdin.write("go\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 2
        while not (home / "ufs" / "c").exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # bounded wait for the UFS step, if the code takes it first
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
    fs = make_fs(home=home)
    fs.wait_persisted(timeout=10)
    persisted = {i.path.lstrip("/") for i in fs.ls("/") if i.persistence_state is PERSISTED}
    assert ufs_tree(fs.config.root_ufs_dir) == persisted


# An overwrite whose UFS delete of the old copy fails after the commit ----------------
def test_overwrite_with_failing_delete_of_old_copy(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"old", write_type="CACHE_THROUGH")
    faults = inject_faults(fs)
    faults.fail_next("delete", 1, "f")
    try:
        fs.write_bytes("/f", b"new", write_type="MUST_CACHE")
    except errors.UfsError:
        assert fs.read_bytes("/f") == b"old"  # failed: nothing changed
    else:
        assert fs.read_bytes("/f") == b"new"
    faults.clear()
    fs.persist("/")
    fs.wait_persisted(timeout=10)
    assert (fs.config.root_ufs_dir / "f").read_bytes() == fs.read_bytes("/f")


def test_stale_intent_does_not_delete_newer_data(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem]
) -> None:
    home = tmp_path / "home"
    fs = make_fs(home=home)
    fs.write_bytes("/f", b"old", write_type="CACHE_THROUGH")
    faults = inject_faults(fs)
    faults.fail_next("delete", OUTAGE, "f")
    try:
        fs.write_bytes("/f", b"new", write_type="MUST_CACHE")
    except errors.UfsError:
        pass
    faults.clear()
    fs.write_bytes("/f", b"newer", write_type="CACHE_THROUGH")  # acknowledged
    fs.close()
    fs = make_fs(home=home)
    assert fs.stat("/f").persistence_state is PERSISTED
    fs.free("/f")  # read from the UFS
    assert fs.read_bytes("/f") == b"newer"


# The staging directory removed under a synchronous write ------------------------------
def test_sync_write_survives_staging_cleanup(fs: EmbeddedFileSystem) -> None:
    faults = inject_faults(fs)
    gate = faults.block("open_write", ".silt_staging/w*")  # after mkdirs(staging)
    outcome: list[object] = []

    def sync_write() -> None:
        try:
            fs.write_bytes("/sync", b"x", write_type="CACHE_THROUGH")
            outcome.append("ok")
        except errors.SiltError as exc:
            outcome.append(exc)

    writer = threading.Thread(target=sync_write)
    writer.start()
    assert gate.wait_reached()
    fs.write_bytes("/async", b"y")  # its persist commits and tidies the staging area
    fs.wait_persisted("/async", timeout=10)
    gate.release()
    writer.join()
    assert outcome == ["ok"]
    assert fs.read_bytes("/sync") == b"x"


def test_sync_write_survives_staging_cleanup_after_mkdirs(fs: EmbeddedFileSystem) -> None:
    faults = inject_faults(fs)
    mkdirs = faults.block("mkdirs", ".silt_staging")  # the writer's retry, before mkdirs
    outcome: list[object] = []

    def sync_write() -> None:
        try:
            fs.write_bytes("/sync", b"x", write_type="CACHE_THROUGH")
            outcome.append("ok")
        except errors.SiltError as exc:
            outcome.append(exc)

    writer = threading.Thread(target=sync_write)
    writer.start()  # no staging directory yet: its first open_write fails, then mkdirs
    assert mkdirs.wait_reached()
    reopen = faults.block("open_write", ".silt_staging/w*")  # its second open_write
    mkdirs.release()
    assert reopen.wait_reached()  # the staging directory exists now, still empty
    fs.write_bytes("/async", b"y")  # its persist goes idle and tidies the staging area
    fs.wait_persisted("/async", timeout=10)
    reopen.release()
    writer.join()
    assert outcome == ["ok"]
    assert fs.read_bytes("/sync") == b"x"


# Delete and rename whose UFS side fails after the metadata commit ---------------------
def test_delete_with_failing_ufs_delete_converges(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/f", b"x", write_type="CACHE_THROUGH")
    faults = inject_faults(fs)
    faults.fail_next("delete", OUTAGE, "d")  # the UFS refuses for a while
    try:
        fs.delete("/d", recursive=True)
    except errors.UfsError:
        pass
    faults.clear()
    fs.wait_persisted(timeout=10)
    assert namespace(fs) == ufs_tree(fs.config.root_ufs_dir)


def test_rename_with_failing_ufs_move_converges(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a/f", b"x", write_type="CACHE_THROUGH")
    faults = inject_faults(fs)
    faults.fail_next("move", OUTAGE, "a")
    try:
        fs.rename("/a", "/b")
    except errors.UfsError:
        pass
    faults.clear()
    fs.wait_persisted(timeout=10)
    assert namespace(fs) == ufs_tree(fs.config.root_ufs_dir)
    path = "/b/f" if fs.exists("/b/f") else "/a/f"
    fs.free(path)
    assert fs.read_bytes(path) == b"x"


def test_stale_delete_intent_spares_newer_files(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem]
) -> None:
    home = tmp_path / "home"
    fs = make_fs(home=home)
    fs.write_bytes("/d/old", b"old", write_type="CACHE_THROUGH")
    faults = inject_faults(fs)
    faults.fail_next("delete", OUTAGE, "d")
    try:
        fs.delete("/d", recursive=True)
    except errors.UfsError:
        pass
    faults.clear()
    fs.write_bytes("/d/new", b"new", write_type="CACHE_THROUGH")  # acknowledged
    fs.close()
    fs = make_fs(home=home)
    assert fs.stat("/d/new").persistence_state is PERSISTED
    fs.free("/d/new")
    assert fs.read_bytes("/d/new") == b"new"


# A persist commit that fails after moving the object into place ------------------------
def test_persist_failing_after_move_then_delete_leaves_no_ghost(
    fs: EmbeddedFileSystem,
) -> None:
    faults = inject_faults(fs)
    faults.fail_next("status", 50, "f")  # the UFS cannot say what it holds after the move
    fs.write_bytes("/f", b"data")  # ASYNC_THROUGH
    fs.wait_persisted(timeout=30)
    # the object is in place, so the file is PERSISTED (fingerprint learned later)
    assert fs.stat("/f").persistence_state.value == "PERSISTED"
    fs.delete("/f")  # a persisted file: the UFS copy goes too, no ghost
    faults.clear()
    fs.wait_persisted(timeout=10)
    assert namespace(fs) == set()
    assert ufs_tree(fs.config.root_ufs_dir) == set()


# A clean stop leaves jobs leased that it claimed but never started ----------------------
def test_clean_stop_releases_every_claimed_job(tmp_path: Path) -> None:
    leaked = 0
    for round_ in range(200):  # the window is narrow: about one round in ten hits it
        ms = SqliteMetastore(tmp_path / f"m{round_}.db")
        with ms.transaction() as txn:
            txn.insert_job(1, 1, 0)
            txn.insert_job(2, 1, 0)
        first_done = threading.Event()

        def work(
            job: PersistJob, ms: SqliteMetastore = ms, done: threading.Event = first_done
        ) -> None:
            with ms.transaction() as txn:
                txn.delete_job(job.id)
            done.set()

        runner = PersistRunner(ms, PersistConfig(concurrency=1, poll_interval_s=0.01), work)
        runner.start()
        assert first_done.wait(10)
        runner.stop(wait=True)
        with ms.snapshot() as txn:
            leaked += len(txn.list_jobs(JobState.RUNNING))
        ms.close()
    assert leaked == 0
