"""Conformance, storage: mounts of a local directory, metadata sync, what each write type
puts in the UFS, delete ``unchecked``/``namespace_only``, persist/wait_persisted,
free/load, check_consistency, the persist queue and metrics, on every backend
(``anyfs``), through the public API only.

The remote masters run on this machine, so a ``file://`` URI of a test's ``tmp_path``
is the same directory for them as for the test: ``lake`` mounts one and lets the test
look at (and change) the UFS directly."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from siltfs import errors
from siltfs.client.base import FileSystem
from siltfs.model.consistency import ConsistencyReport
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import MountInfo
from siltfs.model.jobs import JobInfo
from siltfs.testing.fs_common import blob, fails, is_remote

from .conftest import BLOCK


def uri(path: Path) -> str:
    return "file://" + str(path)


def ufs_tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


class Lake:
    """A local directory mounted at ``path`` (under the test's ``base``)."""

    def __init__(self, fs: Any, path: str, local: Path) -> None:
        self.fs, self.path, self.local = fs, path, local

    def ns(self, rel: str) -> str:
        return f"{self.path}/{rel}"

    def tree(self) -> set[str]:
        return ufs_tree(self.local)


@pytest.fixture
def lake(anyfs: FileSystem, base: str, tmp_path: Path) -> Iterator[Lake]:
    local = tmp_path / "lake"
    (local / "sub" / "deep").mkdir(parents=True)
    (local / "top.csv").write_bytes(b"a,b\n1,2\n")
    (local / "sub" / "inner.txt").write_bytes(b"inner")
    (local / "sub" / "deep" / "big.bin").write_bytes(bytes(range(256)) * 1000)
    (local / "emptydir").mkdir()
    mounted = Lake(anyfs, f"{base}/lake", local)
    info = anyfs.mount(mounted.path, uri(local))
    assert isinstance(info, MountInfo)
    yield mounted
    # leave the shared masters' mount tables as they were (unpersisted files keep a mount)
    for tidy in (
        lambda: anyfs.persist(mounted.path),
        lambda: anyfs.wait_persisted(mounted.path, timeout=30),
        lambda: anyfs.unmount(mounted.path),
    ):
        try:
            tidy()
        except errors.SiltError:
            pass


LAKE_TREE = {"top.csv", "sub", "sub/inner.txt", "sub/deep", "sub/deep/big.bin", "emptydir"}


# mounts -------------------------------------------------------------------------------------
def test_mount_shows_existing_content(anyfs: FileSystem, base: str, lake: Lake) -> None:
    assert [i.name for i in anyfs.ls(lake.path)] == ["emptydir", "sub", "top.csv"]
    assert [i.path for i in anyfs.ls(lake.path, recursive=True)] == [
        lake.ns(p)
        for p in ["emptydir", "sub", "sub/deep", "sub/deep/big.bin", "sub/inner.txt", "top.csv"]
    ]
    st = anyfs.stat(lake.ns("sub/deep/big.bin"))
    assert st.length == 256_000 and st.persistence_state is PersistenceState.PERSISTED
    assert st.cached_percent == 0 and st.fingerprint
    assert anyfs.read_bytes(lake.ns("sub/deep/big.bin")) == bytes(range(256)) * 1000
    assert anyfs.read_bytes(lake.ns("top.csv")) == b"a,b\n1,2\n"
    mount_point = anyfs.stat(lake.path)
    assert mount_point.mount_point and mount_point.is_dir
    assert lake.tree() == LAKE_TREE  # nothing was changed in the lake


def test_mount_info_and_mounts(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    local = tmp_path / "m"
    local.mkdir()
    info = anyfs.mount(
        f"{base}/m", uri(local), options={"auto_mkdir": True}, sync_interval_ms=500, read_only=True
    )
    assert isinstance(info, MountInfo) and isinstance(info.id, int)
    assert (info.path, info.uri, info.options) == (f"{base}/m", uri(local), {"auto_mkdir": True})
    assert (info.sync_interval_ms, info.read_only) == (500, True)
    listed = anyfs.mounts()
    assert all(isinstance(m, MountInfo) for m in listed) and listed[0].path == "/"
    assert [m for m in listed if m.path == f"{base}/m"] == [info]
    assert anyfs.unmount(f"{base}/m") is None
    assert all(m.path != f"{base}/m" for m in anyfs.mounts())
    assert not anyfs.exists(f"{base}/m")


def test_mount_plain_local_path_and_existing_dir(
    anyfs: FileSystem, base: str, tmp_path: Path
) -> None:
    local = tmp_path / "plain"
    local.mkdir()
    (local / "f").write_bytes(b"plain")
    anyfs.mkdir(f"{base}/data/lake", parents=True)  # an existing empty directory
    anyfs.mount(f"{base}/data/lake", str(local))
    assert anyfs.read_bytes(f"{base}/data/lake/f") == b"plain"
    assert anyfs.stat(f"{base}/data/lake").mount_point
    anyfs.unmount(f"{base}/data/lake")
    assert anyfs.stat(f"{base}/data/lake").is_dir  # the directory it covered is back
    assert anyfs.ls(f"{base}/data/lake") == []


def test_unmount_keeps_ufs_files(anyfs: FileSystem, base: str, lake: Lake) -> None:
    anyfs.read_bytes(lake.ns("sub/deep/big.bin"))  # cache something
    anyfs.write_bytes(lake.ns("written"), b"w", write_type="CACHE_THROUGH")
    anyfs.unmount(lake.path)
    assert not anyfs.exists(lake.path) and not anyfs.exists(lake.ns("top.csv"))
    assert lake.tree() == LAKE_TREE | {"written"}
    assert (lake.local / "written").read_bytes() == b"w"
    anyfs.mount(lake.path, uri(lake.local))  # again: the same content
    assert anyfs.read_bytes(lake.ns("written")) == b"w"


def test_mount_refusals(anyfs: FileSystem, base: str, lake: Lake, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    anyfs.write_bytes(f"{base}/busy/f", b"mine", write_type="MUST_CACHE")
    anyfs.write_bytes(f"{base}/file", b"mine", write_type="MUST_CACHE")
    before = anyfs.mounts()
    for path, target in [
        (lake.ns("sub"), uri(other)),  # nested in a mount
        (lake.path, uri(other)),  # already a mount point
        ("/", uri(other)),
        (f"{base}/again", uri(lake.local)),  # the same directory twice
        (f"{base}/again", uri(lake.local / "sub")),  # inside a mounted directory
        (f"{base}/again", uri(tmp_path)),  # containing one
        (f"{base}/busy", uri(other)),  # over a non-empty directory
        (f"{base}/file", uri(other)),  # over a file
        (f"{base}/gone", uri(tmp_path / "does-not-exist")),
        (f"{base}/gone", uri(lake.local / "top.csv")),  # not a directory
    ]:
        fails(errors.MountError, path, anyfs.mount, path, target)
    fails(errors.FileNotFound, f"{base}/no", anyfs.mount, f"{base}/no/such", uri(other))
    assert anyfs.mounts() == before
    assert anyfs.read_bytes(f"{base}/busy/f") == b"mine"
    assert not (tmp_path / "does-not-exist").exists()


def test_unmount_refusals(anyfs: FileSystem, base: str, lake: Lake) -> None:
    anyfs.mkdir(f"{base}/plain")
    fails(errors.MountError, f"{base}/plain", anyfs.unmount, f"{base}/plain")
    fails(errors.MountError, lake.ns("sub"), anyfs.unmount, lake.ns("sub"))
    fails(errors.MountError, "/", anyfs.unmount, "/")
    fails(errors.MountError, f"{base}/nope", anyfs.unmount, f"{base}/nope")
    assert anyfs.stat(lake.path).mount_point


def test_mount_points_and_cross_mount_renames(anyfs: FileSystem, base: str, lake: Lake) -> None:
    anyfs.write_bytes(f"{base}/f", b"f", write_type="CACHE_THROUGH")
    anyfs.mkdir(f"{base}/d")
    fails(errors.MountError, lake.path, anyfs.delete, lake.path)
    fails(errors.MountError, lake.path, anyfs.delete, lake.path, recursive=True)
    fails(errors.MountError, lake.path, anyfs.rename, lake.path, f"{base}/lake2")
    fails(errors.FileExists, lake.path, anyfs.rename, f"{base}/d", lake.path)
    fails(errors.InvalidArgument, f"{base}/f", anyfs.rename, f"{base}/f", lake.ns("f"))
    fails(errors.InvalidArgument, f"{base}/d", anyfs.rename, f"{base}/d", lake.ns("d"))
    fails(
        errors.InvalidArgument,
        lake.ns("top.csv"),
        anyfs.rename,
        lake.ns("top.csv"),
        f"{base}/top.csv",
    )
    assert lake.tree() == LAKE_TREE and anyfs.read_bytes(f"{base}/f") == b"f"


def test_read_only_mount(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    local = tmp_path / "ro"
    local.mkdir()
    (local / "f").write_bytes(b"read me")
    anyfs.mount(f"{base}/ro", uri(local), read_only=True)
    assert anyfs.read_bytes(f"{base}/ro/f") == b"read me"
    for path, call in (
        (f"{base}/ro/new", lambda: anyfs.write_bytes(f"{base}/ro/new", b"x")),
        (f"{base}/ro/new", lambda: anyfs.open(f"{base}/ro/new", "wb")),
        (f"{base}/ro/new", lambda: anyfs.touch(f"{base}/ro/new")),
        (f"{base}/ro/d", lambda: anyfs.mkdir(f"{base}/ro/d")),
        (f"{base}/ro/f", lambda: anyfs.delete(f"{base}/ro/f")),
        (f"{base}/ro/f", lambda: anyfs.rename(f"{base}/ro/f", f"{base}/ro/g")),
    ):
        fails(errors.PermissionDenied, path, call)
    assert ufs_tree(local) == {"f"}
    anyfs.unmount(f"{base}/ro")


# what each write type puts in the UFS ------------------------------------------------------------
@pytest.mark.parametrize("write_type", ["MUST_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH"])
def test_write_types_in_the_ufs(anyfs: FileSystem, lake: Lake, write_type: str) -> None:
    data = blob(2 * BLOCK + 3, seed=8)
    anyfs.write_bytes(lake.ns("new/f"), data, write_type=write_type)
    if write_type in ("CACHE_THROUGH", "THROUGH"):  # before the write returned
        assert (lake.local / "new" / "f").read_bytes() == data
    if write_type == "MUST_CACHE":
        assert not (lake.local / "new" / "f").exists()
        assert anyfs.persist(lake.ns("new/f")) == 1
    anyfs.wait_persisted(lake.path, timeout=30)
    assert (lake.local / "new" / "f").read_bytes() == data
    assert anyfs.stat(lake.ns("new/f")).persistence_state is PersistenceState.PERSISTED
    assert lake.tree() == LAKE_TREE | {"new", "new/f"}  # no staging left behind


def test_rename_and_delete_reach_the_ufs(anyfs: FileSystem, lake: Lake) -> None:
    anyfs.write_bytes(lake.ns("a/f"), b"async")  # ASYNC_THROUGH: rename while pending
    anyfs.rename(lake.ns("a"), lake.ns("b"))
    anyfs.rename(lake.ns("top.csv"), lake.ns("b/top.csv"))
    anyfs.wait_persisted(lake.path, timeout=30)
    assert (lake.local / "b" / "f").read_bytes() == b"async"
    assert (lake.local / "b" / "top.csv").read_bytes() == b"a,b\n1,2\n"
    assert not (lake.local / "a").exists() and not (lake.local / "top.csv").exists()
    anyfs.delete(lake.ns("b"), recursive=True)
    anyfs.delete(lake.ns("sub/inner.txt"))
    assert lake.tree() == {"sub", "sub/deep", "sub/deep/big.bin", "emptydir"}


def test_overwrite_replaces_the_ufs_copy(anyfs: FileSystem, lake: Lake) -> None:
    anyfs.write_bytes(lake.ns("o"), b"one", write_type="CACHE_THROUGH")
    anyfs.write_bytes(lake.ns("o"), b"two!", write_type="MUST_CACHE")
    assert not (lake.local / "o").exists()  # the old copy must never be served again
    anyfs.delete(lake.ns("o"))
    assert lake.tree() == LAKE_TREE


# delete unchecked / namespace_only ------------------------------------------------------------
def test_delete_refuses_unknown_ufs_entries(anyfs: FileSystem, lake: Lake) -> None:
    anyfs.write_bytes(lake.ns("d/known"), b"k", write_type="CACHE_THROUGH")
    (lake.local / "d" / "outsider").write_bytes(b"written outside siltfs")
    err = fails(errors.DirectoryNotEmpty, lake.ns("d"), anyfs.delete, lake.ns("d"), recursive=True)
    assert lake.ns("d/outsider") in str(err)
    assert anyfs.read_bytes(lake.ns("d/known")) == b"k"
    anyfs.delete(lake.ns("d"), recursive=True, namespace_only=True)
    assert not anyfs.exists(lake.ns("d"))
    assert {"d", "d/known", "d/outsider"} <= lake.tree()
    anyfs.sync_metadata(lake.path, recursive=True)
    assert anyfs.exists(lake.ns("d/outsider"))
    anyfs.delete(lake.ns("d"), recursive=True, unchecked=True)
    assert lake.tree() == LAKE_TREE


# metadata sync ----------------------------------------------------------------------------------
def test_default_sync_interval_never_looks_again(anyfs: FileSystem, lake: Lake) -> None:
    assert [i.name for i in anyfs.ls(lake.ns("sub"))] == ["deep", "inner.txt"]
    (lake.local / "sub" / "added").write_bytes(b"added")
    assert [i.name for i in anyfs.ls(lake.ns("sub"))] == ["deep", "inner.txt"]
    assert not anyfs.exists(lake.ns("sub/added"))
    fails(errors.FileNotFound, lake.ns("sub/added"), anyfs.stat, lake.ns("sub/added"))
    names = [i.name for i in anyfs.ls(lake.ns("sub"), sync_interval_ms=0)]  # per call
    assert names == ["added", "deep", "inner.txt"]
    assert anyfs.read_bytes(lake.ns("sub/added")) == b"added"


def test_per_call_sync_on_stat_exists_open(anyfs: FileSystem, lake: Lake) -> None:
    anyfs.ls(lake.ns("sub"))
    (lake.local / "sub" / "f").write_bytes(b"12345")
    assert not anyfs.exists(lake.ns("sub/f"))
    assert anyfs.exists(lake.ns("sub/f"), sync_interval_ms=0)
    (lake.local / "sub" / "g").write_bytes(b"123")
    assert anyfs.stat(lake.ns("sub/g"), sync_interval_ms=0).length == 3
    (lake.local / "top.csv").write_bytes(b"newer bytes")
    with anyfs.open(lake.ns("top.csv"), "rb", sync_interval_ms=0) as f:
        assert f.read() == b"newer bytes"


def test_sync_metadata(anyfs: FileSystem, lake: Lake) -> None:
    anyfs.ls(lake.path, recursive=True)
    (lake.local / "sub" / "deep" / "later").write_bytes(b"later")
    (lake.local / "new-dir" / "x").mkdir(parents=True)
    assert anyfs.sync_metadata(lake.ns("sub")) is None  # one level: not sub/deep
    assert not anyfs.exists(lake.ns("sub/deep/later"))
    anyfs.sync_metadata(lake.path, recursive=True)
    assert anyfs.read_bytes(lake.ns("sub/deep/later")) == b"later"
    assert anyfs.stat(lake.ns("new-dir/x")).is_dir
    (lake.local / "sub" / "inner.txt").unlink()
    # a file: looks at that entry, which is gone
    fails(
        errors.FileNotFound, lake.ns("sub/inner.txt"), anyfs.sync_metadata, lake.ns("sub/inner.txt")
    )
    assert not anyfs.exists(lake.ns("sub/inner.txt"))
    fails(errors.FileNotFound, lake.ns("nope"), anyfs.sync_metadata, lake.ns("nope"))


def test_mount_sync_interval_zero(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    local = tmp_path / "live"
    local.mkdir()
    anyfs.mount(f"{base}/live", uri(local), sync_interval_ms=0)
    assert anyfs.ls(f"{base}/live") == []
    (local / "file").write_bytes(b"new file")
    (local / "dir" / "deeper").mkdir(parents=True)
    (local / "dir" / "deeper" / "leaf").write_bytes(b"leaf")
    assert [i.name for i in anyfs.ls(f"{base}/live")] == ["dir", "file"]  # additions
    assert anyfs.stat(f"{base}/live/file").persistence_state is PersistenceState.PERSISTED
    assert anyfs.read_bytes(f"{base}/live/dir/deeper/leaf") == b"leaf"
    old = anyfs.stat(f"{base}/live/file")
    (local / "file").write_bytes(b"a much longer replacement")  # a modification
    st = anyfs.stat(f"{base}/live/file")
    assert st.length == 25 and st.fingerprint != old.fingerprint
    assert anyfs.read_bytes(f"{base}/live/file") == b"a much longer replacement"
    shutil.rmtree(local / "dir")  # a deletion
    assert [i.name for i in anyfs.ls(f"{base}/live")] == ["file"]
    fails(
        errors.FileNotFound,
        f"{base}/live/dir/deeper/leaf",
        anyfs.read_bytes,
        f"{base}/live/dir/deeper/leaf",
    )
    anyfs.unmount(f"{base}/live")


def test_cached_file_modified_in_the_ufs(anyfs: FileSystem, lake: Lake) -> None:
    old = b"o" * (BLOCK + 100)  # two blocks
    (lake.local / "f.bin").write_bytes(old)
    assert anyfs.read_bytes(lake.ns("f.bin")) == old
    assert anyfs.stat(lake.ns("f.bin")).cached_percent == 100
    new = b"N" * (BLOCK + 5000)
    (lake.local / "f.bin").write_bytes(new)
    st = anyfs.stat(lake.ns("f.bin"), sync_interval_ms=0)
    assert st.length == len(new) and st.cached_percent == 0  # old blocks dropped
    assert anyfs.read_bytes(lake.ns("f.bin")) == new
    assert anyfs.stat(lake.ns("f.bin")).cached_percent == 100


# persistence ------------------------------------------------------------------------------------
def test_persist_counts(anyfs: FileSystem, base: str) -> None:
    for i in range(3):
        anyfs.write_bytes(f"{base}/d/{i}", b"m", write_type="MUST_CACHE")
    anyfs.write_bytes(f"{base}/d/p", b"p", write_type="CACHE_THROUGH")
    assert anyfs.persist(f"{base}/d/0") == 1
    assert anyfs.persist(f"{base}/d") == 2  # the others; /d/0 is already scheduled or done
    anyfs.wait_persisted(f"{base}/d", timeout=30)
    assert anyfs.persist(f"{base}/d") == 0
    assert all(i.persisted for i in anyfs.ls(f"{base}/d"))
    fails(errors.FileNotFound, f"{base}/nope", anyfs.persist, f"{base}/nope")


def test_wait_persisted_timeout_names_pending_files(anyfs: FileSystem, base: str) -> None:
    names = [f"{base}/d/{i:02}" for i in range(30)]
    for name in names:
        anyfs.write_bytes(name, b"x", write_type="MUST_CACHE")
    assert anyfs.persist(f"{base}/d") == 30
    # 30 uploads are not done in the time of one call
    err = fails(errors.PersistTimeout, f"{base}/d", anyfs.wait_persisted, f"{base}/d", timeout=0)
    assert isinstance(err, TimeoutError) and set(err.details) == {"pending"}
    assert err.to_dict()["pending"] == err.details["pending"]
    pending = err.details["pending"]
    assert pending and set(pending) <= set(names) and pending == sorted(pending)
    assert pending[0] in str(err)
    anyfs.wait_persisted(f"{base}/d", timeout=60)
    assert all(i.persisted for i in anyfs.ls(f"{base}/d"))


def test_wait_persisted_arguments(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/f", b"f")
    assert anyfs.wait_persisted(f"{base}/f", timeout=30) is None
    assert anyfs.wait_persisted(f"{base}/nope", timeout=1) is None  # nothing to wait for
    assert anyfs.wait_persisted(f"{base}/f", timeout=30.5) is None
    assert anyfs.wait_persisted(f"{base}/f", timeout=True) is None  # to Python, an int
    for bad in (-1, -0.001, "5", [1]):
        fails(errors.InvalidArgument, f"{base}/f", anyfs.wait_persisted, f"{base}/f", timeout=bad)
        fails(errors.InvalidArgument, "/", anyfs.wait_persisted, timeout=bad)


def broken_mount(anyfs: FileSystem, base: str, tmp_path: Path) -> Path:
    """A mount whose UFS root became a file after mounting: every upload fails."""
    local = tmp_path / "broken"
    local.mkdir()
    anyfs.mount(f"{base}/broken", uri(local))
    local.rmdir()
    local.write_bytes(b"not a directory")
    return local


def test_persist_failed_names_failed_files(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    local = broken_mount(anyfs, base, tmp_path)
    anyfs.write_bytes(f"{base}/broken/f", b"never")
    anyfs.write_bytes(f"{base}/ok", b"fine")
    err = fails(errors.PersistFailed, base, anyfs.wait_persisted, base, timeout=30)
    assert err.details["failed"] == [f"{base}/broken/f"] and f"{base}/broken/f" in str(err)
    assert anyfs.stat(f"{base}/ok").persisted
    failed = anyfs.stat(f"{base}/broken/f")
    assert failed.persistence_state is PersistenceState.TO_BE_PERSISTED  # pinned, retryable
    assert anyfs.read_bytes(f"{base}/broken/f") == b"never"
    anyfs.delete(f"{base}/broken/f")  # never blocked by its own failed job
    anyfs.wait_persisted(base, timeout=30)
    local.unlink()
    local.mkdir()
    anyfs.unmount(f"{base}/broken")


def test_jobs_listing_retry_all_failed_and_cancel(
    anyfs: FileSystem, base: str, tmp_path: Path
) -> None:
    local = broken_mount(anyfs, base, tmp_path)
    for name in ("a", "b"):
        anyfs.write_bytes(f"{base}/broken/{name}", name.encode())
    with pytest.raises(errors.PersistFailed):
        anyfs.wait_persisted(f"{base}/broken", timeout=30)
    mine = sorted(
        (j for j in anyfs.jobs() if (j.path or "").startswith(base)), key=lambda j: j.path or ""
    )
    assert [j.path for j in mine] == [f"{base}/broken/a", f"{base}/broken/b"]
    for job in mine:
        assert isinstance(job, JobInfo) and job.state == "FAILED" and job.attempts == 2
        assert job.inode_id == anyfs.stat(job.path).id
        assert job.generation == anyfs.stat(job.path).generation
        assert isinstance(job.age_s, float) and job.last_error
        assert anyfs.job(job.id).to_dict().keys() == job.to_dict().keys()
        assert (anyfs.job(job.id).path, anyfs.job(job.id).state) == (job.path, "FAILED")
    for state in ("failed", "FAILED", "Failed", JobState.FAILED):
        assert {j.id for j in mine} <= {j.id for j in anyfs.jobs(state)}
    assert not {j.id for j in mine} & {j.id for j in anyfs.jobs("pending")}
    anyfs.cancel_job(mine[1].id)  # b stays unpersisted, its data kept
    fails(errors.JobNotFound, None, anyfs.job, mine[1].id)
    b = anyfs.stat(f"{base}/broken/b")
    assert b.persistence_state is PersistenceState.NOT_PERSISTED and b.cached_percent == 100
    local.unlink()
    local.mkdir()
    assert anyfs.retry_job(all_failed=True) >= 1  # a (and any other test's failed job)
    anyfs.wait_persisted(f"{base}/broken", timeout=30)
    assert (local / "a").read_bytes() == b"a" and not (local / "b").exists()
    fails(errors.JobNotFound, None, anyfs.job, mine[0].id)
    fails(errors.JobNotFound, None, anyfs.retry_job, mine[0].id)
    fails(errors.JobNotFound, None, anyfs.cancel_job, mine[0].id)
    # an unpersisted file keeps its mount: its cache is the only copy
    fails(errors.MountError, f"{base}/broken", anyfs.unmount, f"{base}/broken")
    anyfs.delete(f"{base}/broken/b")
    anyfs.unmount(f"{base}/broken")


# cache: free / load / cached_percent ------------------------------------------------------------
def test_free_and_load(anyfs: FileSystem, base: str) -> None:
    data = blob(2 * BLOCK + 7, seed=9)
    anyfs.write_bytes(f"{base}/dir/a", data, write_type="CACHE_THROUGH")
    anyfs.write_bytes(f"{base}/dir/u", b"unpersisted", write_type="MUST_CACHE")
    assert anyfs.free(f"{base}/dir") == len(data)
    assert anyfs.stat(f"{base}/dir/a").cached_percent == 0
    assert anyfs.stat(f"{base}/dir/u").cached_percent == 100  # the only copy is kept
    assert anyfs.free(f"{base}/dir") == 0
    fails(errors.InvalidArgument, f"{base}/dir/u", anyfs.free, f"{base}/dir/u")
    seen: list[tuple[int, int]] = []
    loaded = anyfs.load(f"{base}/dir", progress=lambda d, t: seen.append((d, t)))
    assert loaded == len(data)
    total = len(data) + len(b"unpersisted")
    assert seen[-1] == (total, total)  # embedded reports each block, remote once at the end
    assert anyfs.stat(f"{base}/dir/a").cached_percent == 100
    assert anyfs.load(f"{base}/dir") == 0  # already cached
    assert anyfs.du(f"{base}/dir")["cached_bytes"] == total
    assert anyfs.read_bytes(f"{base}/dir/a") == data
    fails(errors.FileNotFound, f"{base}/nope", anyfs.free, f"{base}/nope")
    fails(errors.FileNotFound, f"{base}/nope", anyfs.load, f"{base}/nope")


def test_pinned_file_is_not_freed(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/f", b"f" * 1000, write_type="CACHE_THROUGH")
    anyfs.set_attribute(f"{base}/f", pinned=True)
    fails(errors.InvalidArgument, f"{base}/f", anyfs.free, f"{base}/f")
    assert anyfs.free(base) == 0  # a directory: pinned files are skipped
    assert anyfs.stat(f"{base}/f").cached_percent == 100
    anyfs.set_attribute(f"{base}/f", pinned=False)
    assert anyfs.free(f"{base}/f") == 1000
    assert anyfs.stat(f"{base}/f").cached_percent == 0
    assert anyfs.read_bytes(f"{base}/f") == b"f" * 1000


def test_load_and_pin_files_only_in_the_ufs(anyfs: FileSystem, lake: Lake) -> None:
    big = lake.ns("sub/deep/big.bin")
    assert anyfs.stat(big).cached_percent == 0
    assert anyfs.load(lake.ns("sub")) == 256_000 + len(b"inner")
    assert anyfs.stat(big).cached_percent == 100
    assert anyfs.set_attribute(big, pinned=True).pinned
    fails(errors.InvalidArgument, big, anyfs.free, big)
    (lake.local / "sub" / "deep" / "big.bin").unlink()  # now only the cache has it
    assert anyfs.read_bytes(big, 1000, 1010) == (bytes(range(256)) * 1000)[1000:1010]
    anyfs.set_attribute(big, pinned=False)
    assert anyfs.free(lake.ns("sub/inner.txt")) == len(b"inner")


# consistency --------------------------------------------------------------------------------------
def test_check_consistency_clean(anyfs: FileSystem, lake: Lake) -> None:
    anyfs.write_bytes(lake.ns("c"), b"c", write_type="CACHE_THROUGH")
    anyfs.write_bytes(lake.ns("m"), b"m", write_type="MUST_CACHE")  # not a divergence
    report = anyfs.check_consistency(lake.path)
    assert isinstance(report, ConsistencyReport) and report.consistent, report.to_dict()
    assert report.path == lake.path and report.repair is False and report.divergences == []
    assert report.checked_entries >= 2 and report.finished_ms >= report.started_ms > 0
    assert report.to_dict()["by_kind"]["GHOST"] == 0


def test_check_consistency_missing_copy(anyfs: FileSystem, lake: Lake) -> None:
    anyfs.write_bytes(lake.ns("p"), b"persisted", write_type="CACHE_THROUGH")
    (lake.local / "p").unlink()
    report = anyfs.check_consistency(lake.path)
    assert [(d.kind, d.path, d.repaired) for d in report.divergences] == [
        ("MISSING_UFS_COPY", lake.ns("p"), False)
    ]
    assert not report.consistent and report.to_dict()["by_kind"]["MISSING_UFS_COPY"] == 1
    repaired = anyfs.check_consistency(lake.path, repair=True)
    assert repaired.repair and repaired.consistent, repaired.to_dict()
    [d] = repaired.divergences
    assert d.repaired and d.action == "re-persisting from the cache"
    anyfs.wait_persisted(lake.path, timeout=30)
    assert (lake.local / "p").read_bytes() == b"persisted"
    assert anyfs.check_consistency(lake.path).consistent


def test_check_consistency_ghosts(anyfs: FileSystem, lake: Lake) -> None:
    anyfs.ls(lake.path, recursive=True)
    (lake.local / "ghost").write_bytes(b"boo")
    report = anyfs.check_consistency(lake.path)
    assert [(d.kind, d.path) for d in report.divergences] == [("GHOST", lake.ns("ghost"))]
    assert not anyfs.exists(lake.ns("ghost"))  # a check without repair changes nothing
    repaired = anyfs.check_consistency(lake.path, repair=True)
    assert repaired.consistent and repaired.divergences[0].action
    assert anyfs.read_bytes(lake.ns("ghost")) == b"boo"  # imported
    (lake.local / "ghost2").write_bytes(b"boo")
    removed = anyfs.check_consistency(lake.path, repair=True, remove_ghosts=True)
    assert [(d.kind, d.path) for d in removed.divergences] == [("GHOST", lake.ns("ghost2"))]
    assert not (lake.local / "ghost2").exists() and not anyfs.exists(lake.ns("ghost2"))
    assert anyfs.check_consistency(lake.path).consistent


# metrics ----------------------------------------------------------------------------------------
def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, name
    return float(found.group(1))


def test_metrics_text(anyfs: FileSystem, base: str) -> None:
    before = metric(anyfs.metrics_text(), "silt_persist_completed_total")
    anyfs.write_bytes(f"{base}/f", b"f")
    anyfs.wait_persisted(f"{base}/f", timeout=30)
    text = anyfs.metrics_text()
    assert isinstance(text, str)
    assert metric(text, "silt_persist_completed_total") >= before + 1
    for family in (
        "silt_persist_queue_jobs",
        "silt_persist_oldest_pending_seconds",
        "silt_persist_failures_total",
        "silt_persist_bytes_total",
        "silt_ufs_errors_total",
        "silt_cache_hits_total",
        "silt_cache_misses_total",
        "silt_cache_used_bytes",
        "silt_cache_capacity_bytes",
        "silt_cache_blocks",
        "silt_cache_evictions_total",
        "silt_cache_pinned_blocks",
        "silt_consistency_divergences",
        "silt_lost_files_total",
        "silt_workers_alive",
    ):
        assert f"# TYPE {family} " in text, family
    assert metric(text, "silt_workers_alive") >= 1
    # inherent: only a server counts the API requests it serves
    assert ("# TYPE silt_requests_total " in text) is is_remote(anyfs)


def test_jobs_argument_errors(anyfs: FileSystem) -> None:
    fails(errors.InvalidArgument, None, anyfs.jobs, "bogus")
    fails(errors.WrongType, None, anyfs.job, "1")
    fails(errors.WrongType, None, anyfs.job, True)
    fails(errors.WrongType, None, anyfs.cancel_job, 1.0)
    fails(errors.WrongType, None, anyfs.retry_job, "1")
    fails(errors.InvalidArgument, None, anyfs.retry_job)
    fails(errors.JobNotFound, None, anyfs.job, 10**9)


def test_repair_of_a_ghost_beside_a_missing_copy_loses_nothing(
    anyfs: FileSystem, lake: Lake
) -> None:
    """Importing the ghost re-lists the directory; the file missing from the UFS must be
    re-persisted from the cache, not dropped by that listing."""
    anyfs.write_bytes(lake.ns("p"), b"persisted", write_type="CACHE_THROUGH")
    (lake.local / "p").unlink()
    (lake.local / "ghost").write_bytes(b"boo")
    report = anyfs.check_consistency(lake.path, repair=True)
    assert sorted((d.kind, d.path, d.action) for d in report.divergences) == [
        ("GHOST", lake.ns("ghost"), "imported into the namespace"),
        ("MISSING_UFS_COPY", lake.ns("p"), "re-persisting from the cache"),
    ]
    anyfs.wait_persisted(lake.path, timeout=30)
    assert (lake.local / "p").read_bytes() == b"persisted"
    assert anyfs.read_bytes(lake.ns("ghost")) == b"boo"
    assert anyfs.check_consistency(lake.path).consistent
