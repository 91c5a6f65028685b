"""One FileSystem contract, two implementations: every test runs on the embedded
FileSystem and on the RemoteFileSystem against a real ``silt master`` (``anyfs``: embedded,
remote, remote+worker).

Same arguments, same return types, same error classes (with path and details).  Only the
public API is used: no ``fs.master``, nothing internal, so one test runs on all three.
The generic suite -- namespace, data, files that change, POSIX metadata -- is
``siltfs.testing.FileSystemTests``, run here by ``test_conformance_suite.py``; what needs
this project's deployment (local directories to mount, two persist attempts) stays in
``test_conformance_ufs.py`` (mounts, metadata sync, persistence, cache, jobs,
consistency, metrics), ``test_conformance_errors.py`` (error classes and paths) and this
module (the first tests).  The helpers are ``siltfs.testing.fs_common``.
"""

from __future__ import annotations

import io
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from siltfs import errors
from siltfs.client.base import FileSystem
from siltfs.model.consistency import ConsistencyReport
from siltfs.model.enums import PersistenceState, TtlAction
from siltfs.model.inode import FileInfo, MountInfo
from siltfs.model.jobs import JobInfo
from siltfs.testing.fs_common import blob

from .conftest import BLOCK

MiB = 1024 * 1024


# data ------------------------------------------------------------------------------------
def test_write_read_roundtrip(anyfs: FileSystem, base: str) -> None:
    info = anyfs.write_bytes(f"{base}/small", b"hello world", write_type="MUST_CACHE")
    assert isinstance(info, FileInfo)
    assert info.path == f"{base}/small" and info.length == 11 and not info.is_dir
    assert info.persistence_state is PersistenceState.NOT_PERSISTED
    assert anyfs.read_bytes(f"{base}/small") == b"hello world"
    assert anyfs.read_bytes(f"{base}/small", 6) == b"world"
    assert anyfs.read_bytes(f"{base}/small", 0, 5) == b"hello"
    assert anyfs.read_bytes(f"{base}/small", -5) == b"world"
    assert anyfs.read_bytes(f"{base}/small", 5, 2) == b""
    assert anyfs.cat(f"{base}/small", end=-6) == b"hello"
    assert anyfs.write_bytes(f"{base}/empty", b"").length == 0
    assert anyfs.read_bytes(f"{base}/empty") == b""


def test_large_file_random_access(anyfs: FileSystem, base: str) -> None:
    data = blob(9 * MiB + 12345, seed=1)  # several blocks and several 4 MiB read chunks
    with anyfs.open(f"{base}/big", "wb", write_type="CACHE_THROUGH") as f:
        for i in range(0, len(data), 700_000):
            f.write(data[i : i + 700_000])
    info = anyfs.stat(f"{base}/big")
    assert info.length == len(data) and info.persisted
    assert len(info.block_ids) == -(-len(data) // BLOCK)
    rng = random.Random(2)
    with anyfs.open(f"{base}/big", "rb") as f:
        assert f.seekable() and f.seek(0, io.SEEK_END) == len(data)
        for _ in range(25):
            start = rng.randrange(len(data))
            n = rng.choice([1, 100, 65536, MiB, 5 * MiB])
            f.seek(start)
            assert f.read(n) == data[start : start + n]
        f.seek(4 * MiB - 3)
        assert f.read(6) == data[4 * MiB - 3 : 4 * MiB + 3]  # across a chunk boundary
        f.seek(0)
        assert f.read() == data
    assert anyfs.read_bytes(f"{base}/big", 3 * MiB, 8 * MiB + 1) == data[3 * MiB : 8 * MiB + 1]


def test_text_mode_and_exclusive(anyfs: FileSystem, base: str) -> None:
    with anyfs.open(f"{base}/t.txt", "w", encoding="utf-8") as f:
        f.write("grüße\nzwei\n")
    with anyfs.open(f"{base}/t.txt", "r") as f:
        assert f.read() == "grüße\nzwei\n"
    with pytest.raises(errors.FileExists):
        anyfs.open(f"{base}/t.txt", "xb")
    with anyfs.open(f"{base}/new", "xb") as f:
        f.write(b"x")
    assert anyfs.read_bytes(f"{base}/new") == b"x"


def test_overwrite_makes_a_new_version(anyfs: FileSystem, base: str) -> None:
    first = anyfs.write_bytes(f"{base}/f", b"one", write_type="MUST_CACHE")
    second = anyfs.write_bytes(f"{base}/f", b"second", write_type="MUST_CACHE")
    assert (second.id, second.generation) != (first.id, first.generation)
    assert anyfs.read_bytes(f"{base}/f") == b"second"


def test_put_get_touch_du(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    local = tmp_path / "local.bin"
    local.write_bytes(blob(3 * MiB, seed=3))
    seen: list[tuple[int, int]] = []
    info = anyfs.put(local, f"{base}/p", progress=lambda d, t: seen.append((d, t)))
    assert info.length == 3 * MiB and seen[-1] == (3 * MiB, 3 * MiB)
    anyfs.get(f"{base}/p", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == local.read_bytes()
    with pytest.raises(errors.IsADirectory):
        anyfs.put(tmp_path, f"{base}/dir")
    touched = anyfs.touch(f"{base}/touched")
    assert touched.length == 0 and anyfs.touch(f"{base}/touched").id == touched.id
    with pytest.raises(errors.IsADirectory):
        anyfs.touch(base)
    du = anyfs.du(base)
    assert du["files"] == 2 and du["length"] == 3 * MiB and du["path"] == base


# namespace ---------------------------------------------------------------------------------
def test_mkdir_ls_stat_exists(anyfs: FileSystem, base: str) -> None:
    anyfs.mkdir(f"{base}/a/b/c", parents=True)
    anyfs.mkdir(f"{base}/a", exist_ok=True)
    with pytest.raises(errors.FileExists) as err:
        anyfs.mkdir(f"{base}/a")
    assert err.value.path == f"{base}/a"
    with pytest.raises(errors.FileNotFound):
        anyfs.mkdir(f"{base}/x/y")
    anyfs.write_bytes(f"{base}/a/f", b"f")
    assert sorted(i.name for i in anyfs.ls(f"{base}/a")) == ["b", "f"]
    deep = anyfs.ls(base, recursive=True)
    assert [i.path for i in deep] == [f"{base}/a", f"{base}/a/b", f"{base}/a/b/c", f"{base}/a/f"]
    assert all(isinstance(i, FileInfo) for i in deep)
    [only] = anyfs.ls(f"{base}/a/f")
    assert only.path == f"{base}/a/f"
    st = anyfs.stat(f"{base}/a/b", sync_interval_ms=0)
    assert st.is_dir and st.name == "b" and st.ttl_action is TtlAction.DELETE
    assert anyfs.exists(f"{base}/a/f") and not anyfs.exists(f"{base}/nope")
    assert not anyfs.exists(f"{base}/a/f/under-a-file")


def test_rename_and_delete(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/A/B/01", b"x", write_type="MUST_CACHE")
    anyfs.rename(f"{base}/A", f"{base}/C")
    assert anyfs.read_bytes(f"{base}/C/B/01") == b"x" and not anyfs.exists(f"{base}/A")
    anyfs.mv(f"{base}/C/B/01", f"{base}/C/02")
    with pytest.raises(errors.FileNotFound):
        anyfs.rename(f"{base}/A", f"{base}/D")
    with pytest.raises(errors.DirectoryNotEmpty) as err:
        anyfs.delete(f"{base}/C")
    assert isinstance(err.value, OSError) and err.value.path == f"{base}/C"
    anyfs.delete(f"{base}/C", recursive=True)
    assert anyfs.ls(base) == []
    with pytest.raises(errors.FileNotFound):
        anyfs.rm(f"{base}/C")


def test_errors_are_the_same_classes(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/file", b"data", write_type="MUST_CACHE")
    cases: list[tuple[Any, type[errors.SiltError]]] = [
        (lambda: anyfs.stat("relative/path"), errors.InvalidPath),
        (lambda: anyfs.stat(f"{base}/a/../b"), errors.InvalidPath),
        (lambda: anyfs.stat(42), errors.WrongType),
        (lambda: anyfs.ls(base, recursive="yes"), errors.WrongType),
        (lambda: anyfs.ls(base, sync_interval_ms=-5), errors.InvalidArgument),
        (lambda: anyfs.stat(f"{base}/missing"), errors.FileNotFound),
        (lambda: anyfs.read_bytes(f"{base}/missing"), errors.FileNotFound),
        (lambda: anyfs.read_bytes(base), errors.IsADirectory),
        (lambda: anyfs.write_bytes(f"{base}/file/child", b"x"), errors.NotADirectory),
        (lambda: anyfs.write_bytes(f"{base}/file/big", bytes(8 * MiB)), errors.NotADirectory),
        (lambda: anyfs.write_bytes(f"{base}/w", "text"), errors.WrongType),
        (
            lambda: anyfs.write_bytes(f"{base}/w", b"x", write_type="SOMETIMES"),
            errors.InvalidArgument,
        ),
        (lambda: anyfs.open(f"{base}/file", "rw"), errors.InvalidArgument),
        (lambda: anyfs.mkdir(f"{base}/file"), errors.FileExists),
        (lambda: anyfs.job(10**9), errors.JobNotFound),
        (lambda: anyfs.job("1"), errors.WrongType),
        (lambda: anyfs.retry_job(), errors.InvalidArgument),
        (lambda: anyfs.unmount(f"{base}/file"), errors.MountError),
        (lambda: anyfs.free(f"{base}/file"), errors.InvalidArgument),
    ]
    for number, (call, cls) in enumerate(cases):
        with pytest.raises(cls) as err:
            call()
        assert type(err.value) is cls, (number, type(err.value), cls)
        assert err.value.message
    with pytest.raises(FileNotFoundError):  # the built-in still catches it
        anyfs.stat(f"{base}/missing")
    assert anyfs.read_bytes(f"{base}/file") == b"data"  # nothing changed


# persistence, jobs, mounts, attributes --------------------------------------------------------
def test_persist_and_wait_persisted(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/cached", b"c", write_type="MUST_CACHE")
    anyfs.write_bytes(f"{base}/async", b"a")  # default ASYNC_THROUGH
    assert anyfs.persist(f"{base}/cached") == 1
    anyfs.wait_persisted(base, timeout=30)
    for name in ("cached", "async"):
        assert anyfs.stat(f"{base}/{name}").persistence_state is PersistenceState.PERSISTED
    assert anyfs.free(f"{base}/cached") >= 0
    assert anyfs.read_bytes(f"{base}/cached") == b"c"
    assert isinstance(anyfs.load(base), int)
    report = anyfs.check_consistency(base)
    assert isinstance(report, ConsistencyReport) and report.consistent, report.to_dict()
    assert report.checked_entries >= 3


def broken_mount(anyfs: FileSystem, base: str, tmp_path: Path) -> Path:
    """A mount whose UFS root turned into a file after mounting: every upload fails."""
    lake = tmp_path / "lake"
    lake.mkdir()
    info = anyfs.mount(f"{base}/lake", "file://" + str(lake))
    assert isinstance(info, MountInfo) and info.path == f"{base}/lake"
    assert any(m.path == f"{base}/lake" for m in anyfs.mounts())
    shutil.rmtree(lake)
    lake.write_bytes(b"not a directory")
    return lake


def test_failed_jobs_retry_and_cancel(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    lake = broken_mount(anyfs, base, tmp_path)
    anyfs.write_bytes(f"{base}/lake/f", b"pending forever")
    with pytest.raises(errors.PersistFailed) as err:
        anyfs.wait_persisted(base, timeout=30)
    assert err.value.details["failed"] == [f"{base}/lake/f"]
    [job] = [j for j in anyfs.jobs() if (j.path or "").startswith(base)]
    assert isinstance(job, JobInfo) and job.state == "FAILED" and job.attempts == 2
    assert "Not a directory" in (job.last_error or "")
    shown = anyfs.job(job.id)
    assert (shown.id, shown.path, shown.state, shown.attempts) == (job.id, job.path, "FAILED", 2)
    assert job.id in [j.id for j in anyfs.jobs("failed")]
    lake.unlink()
    lake.mkdir()
    try:
        assert anyfs.retry_job(job.id) == 1
    except errors.JobNotFound:
        # master race (reported): JobQueue.retry wakes the runner, then show()s the job,
        # which may already be done and gone
        pass
    anyfs.wait_persisted(base, timeout=30)
    assert (lake / "f").read_bytes() == b"pending forever"
    with pytest.raises(errors.JobNotFound):
        anyfs.job(job.id)
    # cancel: a job that cannot succeed is dropped, the file stays, unpersisted
    shutil.rmtree(lake)
    lake.write_bytes(b"broken again")
    anyfs.write_bytes(f"{base}/lake/g", b"g")
    with pytest.raises(errors.PersistFailed):
        anyfs.wait_persisted(f"{base}/lake/g", timeout=30)
    [job] = [j for j in anyfs.jobs("FAILED") if j.path == f"{base}/lake/g"]
    anyfs.cancel_job(job.id)
    assert anyfs.stat(f"{base}/lake/g").persistence_state is PersistenceState.NOT_PERSISTED
    assert anyfs.read_bytes(f"{base}/lake/g") == b"g"
    anyfs.delete(f"{base}/lake/g")
    lake.unlink()
    lake.mkdir()
    anyfs.unmount(f"{base}/lake")


def test_mount_sees_existing_files(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    lake = tmp_path / "lake2"
    (lake / "sub").mkdir(parents=True)
    (lake / "sub" / "x.csv").write_bytes(b"a,b\n1,2\n")
    anyfs.mount(f"{base}/lake", "file://" + str(lake), sync_interval_ms=0, read_only=True)
    assert anyfs.read_bytes(f"{base}/lake/sub/x.csv") == b"a,b\n1,2\n"
    (lake / "sub" / "y").write_bytes(b"later")
    anyfs.sync_metadata(f"{base}/lake", recursive=True)
    assert anyfs.exists(f"{base}/lake/sub/y")
    [m] = [m for m in anyfs.mounts() if m.path == f"{base}/lake"]
    assert m.read_only and m.sync_interval_ms == 0
    with pytest.raises(errors.WrongType):
        anyfs.mount(f"{base}/other", "file:///tmp", options=["not", "a", "dict"])
    anyfs.unmount(f"{base}/lake")
    assert not anyfs.exists(f"{base}/lake")


def test_set_attribute_and_metrics(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/f", b"f", write_type="CACHE_THROUGH")
    info = anyfs.set_attribute(f"{base}/f", pinned=True, ttl=60_000, ttl_action="free")
    assert info.pinned and info.ttl == 60_000 and info.ttl_action is TtlAction.FREE
    assert anyfs.set_attribute(f"{base}/f", ttl=-1).ttl is None
    with pytest.raises(errors.WrongType):
        anyfs.set_attribute(f"{base}/f", pinned="yes")
    text = anyfs.metrics_text()
    assert "silt_persist_queue_jobs" in text


def test_local_get_target_must_exist(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    anyfs.write_bytes(f"{base}/f", b"f")
    with pytest.raises(errors.FileNotFound):
        anyfs.get(f"{base}/f", tmp_path / "no" / "such" / "dir")
    assert not os.path.exists(tmp_path / "no")
