"""Metadata sync: when siltfs looks at the UFS again (interval -1 / 0 / N ms, per config,
per mount, per call), and what it does with what it finds there."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from siltfs import errors
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.model.enums import PersistenceState

from .conftest import ufs_tree

HOUR_MS = 3_600_000
STAGING = ".silt_staging"


def root_of(fs: EmbeddedFileSystem) -> Path:
    return fs.config.root_ufs_dir


def names(fs: EmbeddedFileSystem, path: str, **kwargs: int) -> list[str]:
    return [i.name for i in fs.ls(path, **kwargs)]


def all_paths(fs: EmbeddedFileSystem, **kwargs: int) -> list[str]:
    return [i.path for i in fs.ls("/", recursive=True, **kwargs)]


@pytest.fixture
def fs0(make_fs: Callable[..., EmbeddedFileSystem]) -> EmbeddedFileSystem:
    """Sync on every access."""
    return make_fs(sync_interval_ms=0)


# interval -1 (default) ------------------------------------------------------------------
def test_default_interval_is_never(fs: EmbeddedFileSystem) -> None:
    assert fs.config.sync_interval_ms == -1
    fs.mkdir("/d")
    fs.write_bytes("/d/known", b"k", write_type="CACHE_THROUGH")
    assert names(fs, "/d") == ["known"]
    (root_of(fs) / "d" / "added").write_bytes(b"added")
    assert names(fs, "/d") == ["known"]
    assert not fs.exists("/d/added")
    with pytest.raises(errors.FileNotFound):
        fs.stat("/d/added")
    # a per-call interval of 0 looks again
    assert names(fs, "/d", sync_interval_ms=0) == ["added", "known"]
    assert fs.read_bytes("/d/added") == b"added"


def test_default_interval_root_is_loaded_once(fs: EmbeddedFileSystem) -> None:
    (root_of(fs) / "first").write_bytes(b"1")
    assert names(fs, "/") == ["first"]  # first access loads the listing
    (root_of(fs) / "second").write_bytes(b"2")
    assert names(fs, "/") == ["first"]
    assert not fs.exists("/second")
    assert fs.exists("/second", sync_interval_ms=0)
    assert names(fs, "/") == ["first", "second"]


def test_default_interval_per_call_stat(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/d")
    fs.ls("/d")
    (root_of(fs) / "d" / "f").write_bytes(b"12345")
    with pytest.raises(errors.FileNotFound):
        fs.stat("/d/f")
    assert fs.stat("/d/f", sync_interval_ms=0).length == 5


def test_default_interval_does_not_see_deletions(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/f", b"f", write_type="CACHE_THROUGH")
    (root_of(fs) / "d" / "f").unlink()
    assert names(fs, "/d") == ["f"]
    assert names(fs, "/d", sync_interval_ms=0) == []


# interval 0 ------------------------------------------------------------------------------
def test_interval_zero_sees_additions(fs0: EmbeddedFileSystem) -> None:
    fs0.mkdir("/d")
    assert names(fs0, "/d") == []
    (root_of(fs0) / "d" / "file").write_bytes(b"new file")
    (root_of(fs0) / "d" / "dir" / "deeper").mkdir(parents=True)
    (root_of(fs0) / "d" / "dir" / "deeper" / "leaf").write_bytes(b"leaf")
    assert names(fs0, "/d") == ["dir", "file"]
    assert fs0.stat("/d/file").length == 8
    assert fs0.stat("/d/file").persistence_state is PersistenceState.PERSISTED
    assert fs0.stat("/d/dir").is_dir
    assert fs0.read_bytes("/d/dir/deeper/leaf") == b"leaf"
    assert all_paths(fs0) == ["/d", "/d/dir", "/d/dir/deeper", "/d/dir/deeper/leaf", "/d/file"]


def test_interval_zero_sees_deletions(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/d/f", b"f", write_type="CACHE_THROUGH")
    fs0.write_bytes("/d/g", b"g", write_type="CACHE_THROUGH")
    fs0.write_bytes("/d/sub/h", b"h", write_type="CACHE_THROUGH")
    assert names(fs0, "/d") == ["f", "g", "sub"]
    (root_of(fs0) / "d" / "f").unlink()
    shutil.rmtree(root_of(fs0) / "d" / "sub")
    assert names(fs0, "/d") == ["g"]
    assert not fs0.exists("/d/f")
    with pytest.raises(errors.FileNotFound):
        fs0.stat("/d/sub/h")
    with pytest.raises(errors.FileNotFound):
        fs0.read_bytes("/d/f")
    assert all_paths(fs0) == ["/d", "/d/g"]


def test_interval_zero_sees_modifications(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/d/f", b"short", write_type="CACHE_THROUGH")
    old = fs0.stat("/d/f")
    (root_of(fs0) / "d" / "f").write_bytes(b"a much longer replacement")
    st = fs0.stat("/d/f")
    assert st.length == len(b"a much longer replacement")
    assert st.fingerprint != old.fingerprint
    assert fs0.read_bytes("/d/f") == b"a much longer replacement"
    assert fs0.ls("/d")[0].length == st.length


def test_interval_zero_sees_type_change(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/d/x", b"file", write_type="CACHE_THROUGH")
    (root_of(fs0) / "d" / "x").unlink()
    (root_of(fs0) / "d" / "x").mkdir()
    (root_of(fs0) / "d" / "x" / "inside").write_bytes(b"in")
    assert fs0.stat("/d/x").is_dir
    assert fs0.read_bytes("/d/x/inside") == b"in"


def test_interval_zero_deletion_at_root(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/top", b"t", write_type="CACHE_THROUGH")
    assert fs0.exists("/top")
    (root_of(fs0) / "top").unlink()
    assert not fs0.exists("/top")
    assert fs0.ls("/") == []


# cached data never goes stale ---------------------------------------------------------------
def test_cached_file_modified_in_ufs(fs: EmbeddedFileSystem) -> None:
    ufs_file = root_of(fs) / "d" / "f.bin"
    ufs_file.parent.mkdir()
    old = b"o" * 100_000  # two blocks
    ufs_file.write_bytes(old)
    assert fs.read_bytes("/d/f.bin") == old  # read type CACHE
    assert fs.stat("/d/f.bin").cached_percent == 100
    new = b"N" * 150_000
    ufs_file.write_bytes(new)
    st = fs.stat("/d/f.bin", sync_interval_ms=0)
    assert st.length == len(new)
    assert st.cached_percent == 0  # old blocks dropped
    assert fs.read_bytes("/d/f.bin") == new
    assert fs.stat("/d/f.bin").cached_percent == 100
    assert fs.read_bytes("/d/f.bin") == new  # now served from the cache


def test_cached_file_shrunk_in_ufs(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/f", b"x" * 200_000, write_type="CACHE_THROUGH")
    assert fs0.stat("/f").cached_percent == 100
    (root_of(fs0) / "f").write_bytes(b"tiny")
    st = fs0.stat("/f")
    assert st.length == 4 and st.cached_percent == 0
    assert len(st.block_ids) == 1
    assert fs0.read_bytes("/f") == b"tiny"


def test_cached_file_same_size_new_mtime(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/f", b"version-1", write_type="CACHE_THROUGH")
    assert fs0.read_bytes("/f") == b"version-1"
    path = root_of(fs0) / "f"
    mtime = path.stat().st_mtime
    path.write_bytes(b"version-2")
    os.utime(path, (mtime + 10, mtime + 10))
    assert fs0.read_bytes("/f") == b"version-2"


def test_cached_file_replaced_by_rename_in_ufs(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/f", b"aaaa", write_type="CACHE_THROUGH")
    tmp = root_of(fs0) / "tmp-new"
    tmp.write_bytes(b"bbbb")  # same size, different inode
    os.replace(tmp, root_of(fs0) / "f")
    assert fs0.read_bytes("/f") == b"bbbb"
    assert names(fs0, "/") == ["f"]


def test_open_with_sync_interval_reads_new_bytes(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"old", write_type="CACHE_THROUGH")
    (root_of(fs) / "f").write_bytes(b"newer bytes")
    with fs.open("/f", "rb", sync_interval_ms=0) as f:
        assert f.read() == b"newer bytes"


# nothing acknowledged is lost ----------------------------------------------------------------
def test_file_deleted_in_ufs_disappears(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/a/b/f", b"f" * 1000, write_type="CACHE_THROUGH")
    assert fs0.stat("/a/b/f").cached_percent == 100
    (root_of(fs0) / "a" / "b" / "f").unlink()
    assert not fs0.exists("/a/b/f")
    assert names(fs0, "/a/b") == []
    # the name can be reused and no stale bytes come back
    fs0.write_bytes("/a/b/f", b"new", write_type="CACHE_THROUGH")
    assert fs0.read_bytes("/a/b/f") == b"new"


def test_deleted_directory_keeps_unpersisted_file(fs0: EmbeddedFileSystem) -> None:
    fs0.mkdir("/d/e", parents=True)
    fs0.write_bytes("/d/persisted", b"p", write_type="CACHE_THROUGH")
    fs0.write_bytes("/d/e/unpersisted", b"only in the cache", write_type="MUST_CACHE")
    assert ufs_tree(root_of(fs0)) == {"d", "d/e", "d/persisted"}
    shutil.rmtree(root_of(fs0) / "d")
    got = all_paths(fs0)
    assert "/d/e/unpersisted" in got
    assert "/d/persisted" not in got
    assert fs0.read_bytes("/d/e/unpersisted") == b"only in the cache"
    assert fs0.stat("/d/e/unpersisted").persistence_state is PersistenceState.NOT_PERSISTED
    # and it can still be persisted, recreating its parents in the UFS
    fs0.persist("/d")
    fs0.wait_persisted("/d", timeout=30)
    assert (root_of(fs0) / "d" / "e" / "unpersisted").read_bytes() == b"only in the cache"
    assert fs0.read_bytes("/d/e/unpersisted") == b"only in the cache"


def test_deleted_directory_keeps_pending_async_file(fs0: EmbeddedFileSystem) -> None:
    from siltfs.testing import inject_faults

    fs0.mkdir("/d")
    gate = inject_faults(fs0).block("open_write", f"{STAGING}/*")
    fs0.write_bytes("/d/pending", b"pending bytes")
    assert gate.wait_reached(10)
    shutil.rmtree(root_of(fs0) / "d")
    assert "/d/pending" in all_paths(fs0)
    assert fs0.read_bytes("/d/pending") == b"pending bytes"
    gate.release()
    fs0.wait_persisted(timeout=30)
    assert (root_of(fs0) / "d" / "pending").read_bytes() == b"pending bytes"
    assert fs0.stat("/d/pending").persistence_state is PersistenceState.PERSISTED


def test_file_deleted_in_ufs_while_unpersisted_version_exists(fs0: EmbeddedFileSystem) -> None:
    fs0.write_bytes("/f", b"v1", write_type="CACHE_THROUGH")
    fs0.write_bytes("/f", b"v2 cached", write_type="MUST_CACHE")  # overwrite, not persisted
    assert not (root_of(fs0) / "f").exists()
    assert fs0.read_bytes("/f") == b"v2 cached"
    (root_of(fs0) / "f").write_bytes(b"external")  # someone writes the same name in the UFS
    assert fs0.read_bytes("/f") == b"v2 cached"  # the acknowledged write wins


# interval N ----------------------------------------------------------------------------------
def test_config_interval_n(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(sync_interval_ms=HOUR_MS)
    fs.mkdir("/d")
    fs.write_bytes("/d/f", b"f", write_type="CACHE_THROUGH")
    assert names(fs, "/d") == ["f"]
    (root_of(fs) / "d" / "g").write_bytes(b"g")
    (root_of(fs) / "d" / "f").unlink()
    assert names(fs, "/d") == ["f"]  # within the interval: no re-sync
    assert not fs.exists("/d/g")
    assert names(fs, "/d", sync_interval_ms=0) == ["g"]


def test_config_interval_zero_per_call_n(fs0: EmbeddedFileSystem) -> None:
    fs0.mkdir("/d")
    assert names(fs0, "/d") == []
    (root_of(fs0) / "d" / "g").write_bytes(b"g")
    assert names(fs0, "/d", sync_interval_ms=HOUR_MS) == []  # per call beats config
    assert not fs0.exists("/d/g", sync_interval_ms=HOUR_MS)
    assert names(fs0, "/d") == ["g"]


def test_config_interval_zero_per_call_never(fs0: EmbeddedFileSystem) -> None:
    fs0.mkdir("/d")
    fs0.ls("/d")
    (root_of(fs0) / "d" / "g").write_bytes(b"g")
    assert names(fs0, "/d", sync_interval_ms=-1) == []
    assert names(fs0, "/d") == ["g"]


def test_mount_interval(fs: EmbeddedFileSystem, tmp_path: Path) -> None:
    slow, fast = tmp_path / "slow", tmp_path / "fast"
    slow.mkdir()
    fast.mkdir()
    fs.mount("/slow", "file://" + str(slow), sync_interval_ms=HOUR_MS)
    fs.mount("/fast", "file://" + str(fast), sync_interval_ms=0)
    assert names(fs, "/slow") == [] and names(fs, "/fast") == []
    (slow / "new").write_bytes(b"s")
    (fast / "new").write_bytes(b"f")
    assert names(fs, "/slow") == []
    assert names(fs, "/fast") == ["new"]
    assert fs.read_bytes("/fast/new") == b"f"
    assert names(fs, "/slow", sync_interval_ms=0) == ["new"]  # per call beats mount


def test_mount_interval_beats_config(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    fs = make_fs(sync_interval_ms=0)
    lake = tmp_path / "lake"
    lake.mkdir()
    fs.mount("/lake", "file://" + str(lake), sync_interval_ms=-1)
    assert names(fs, "/lake") == []
    (lake / "f").write_bytes(b"f")
    assert names(fs, "/lake") == []
    assert names(fs, "/lake", sync_interval_ms=0) == ["f"]


# sync_metadata --------------------------------------------------------------------------------
def test_sync_metadata_recursive(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/e/old", b"old", write_type="CACHE_THROUGH")
    fs.write_bytes("/d/gone", b"gone", write_type="CACHE_THROUGH")
    fs.write_bytes("/d/changed", b"c", write_type="CACHE_THROUGH")
    assert all_paths(fs) == ["/d", "/d/changed", "/d/e", "/d/e/old", "/d/gone"]
    root = root_of(fs)
    (root / "d" / "e" / "new").write_bytes(b"new")
    (root / "d" / "gone").unlink()
    (root / "d" / "changed").write_bytes(b"changed!")
    (root / "top").write_bytes(b"top")
    assert all_paths(fs) == ["/d", "/d/changed", "/d/e", "/d/e/old", "/d/gone"]
    fs.sync_metadata("/", recursive=True)
    assert all_paths(fs) == ["/d", "/d/changed", "/d/e", "/d/e/new", "/d/e/old", "/top"]
    assert fs.stat("/d/changed").length == 8
    assert fs.read_bytes("/d/changed") == b"changed!"
    assert fs.read_bytes("/d/e/new") == b"new"


def test_sync_metadata_non_recursive(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/e/f", b"f", write_type="CACHE_THROUGH")
    fs.ls("/", recursive=True)
    (root_of(fs) / "d" / "near").write_bytes(b"n")
    (root_of(fs) / "d" / "e" / "far").write_bytes(b"f")
    fs.sync_metadata("/d")
    assert names(fs, "/d") == ["e", "near"]
    assert names(fs, "/d/e") == ["f"]  # only /d itself was looked at
    fs.sync_metadata("/d/e")
    assert names(fs, "/d/e") == ["f", "far"]


def test_sync_metadata_of_a_file(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/f", b"f", write_type="CACHE_THROUGH")
    (root_of(fs) / "d" / "f").write_bytes(b"longer")
    fs.sync_metadata("/d/f")
    assert fs.stat("/d/f").length == 6
    assert fs.read_bytes("/d/f") == b"longer"


def test_sync_metadata_missing(fs: EmbeddedFileSystem) -> None:
    with pytest.raises(errors.FileNotFound):
        fs.sync_metadata("/missing")


def test_sync_metadata_in_mount(fs: EmbeddedFileSystem, memory_uri: str) -> None:
    import fsspec

    mem = fsspec.filesystem("memory")
    mem.makedirs(memory_uri, exist_ok=True)
    fs.mount("/mem", memory_uri)
    assert names(fs, "/mem") == []
    mem.pipe(memory_uri + "/x/y", b"y")
    assert names(fs, "/mem") == []
    fs.sync_metadata("/mem", recursive=True)
    assert [i.path for i in fs.ls("/mem", recursive=True)] == ["/mem/x", "/mem/x/y"]
    assert fs.read_bytes("/mem/x/y") == b"y"


# the staging area ------------------------------------------------------------------------------
def test_staging_dir_never_listed(fs0: EmbeddedFileSystem) -> None:
    staging = root_of(fs0) / STAGING
    staging.mkdir()
    (staging / "j1-1-abc").write_bytes(b"partial upload")
    (root_of(fs0) / "visible").write_bytes(b"v")
    assert names(fs0, "/") == ["visible"]
    assert all_paths(fs0) == ["/visible"]
    assert not fs0.exists(f"/{STAGING}")
    with pytest.raises(errors.FileNotFound):
        fs0.stat(f"/{STAGING}/j1-1-abc")
    fs0.sync_metadata("/", recursive=True)
    assert all_paths(fs0) == ["/visible"]


def test_staging_dir_hidden_during_upload(fs0: EmbeddedFileSystem) -> None:
    from siltfs.testing import inject_faults

    gate = inject_faults(fs0).block("open_write", f"{STAGING}/*")
    fs0.write_bytes("/a/f", b"data")
    assert gate.wait_reached(10)
    (root_of(fs0) / STAGING).mkdir(exist_ok=True)  # as while another upload is under way
    assert all_paths(fs0) == ["/a", "/a/f"]
    assert all_paths(fs0, sync_interval_ms=0) == ["/a", "/a/f"]
    gate.release()
    fs0.wait_persisted(timeout=30)
    assert all_paths(fs0) == ["/a", "/a/f"]
    assert ufs_tree(root_of(fs0)) == {"a", "a/f"}


def test_staging_dir_hidden_in_mount(fs: EmbeddedFileSystem, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    (lake / STAGING).mkdir(parents=True)
    (lake / STAGING / "w5-1-dead").write_bytes(b"junk")
    (lake / "real").write_bytes(b"r")
    fs.mount("/lake", "file://" + str(lake), sync_interval_ms=0)
    assert names(fs, "/lake") == ["real"]
    assert [i.path for i in fs.ls("/lake", recursive=True)] == ["/lake/real"]


def test_user_path_in_staging_area_refused_or_kept(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    home = tmp_path / "home-staging"
    fs = make_fs(home=home)
    try:
        fs.write_bytes(f"/{STAGING}/mine", b"user data", write_type="CACHE_THROUGH")
    except (errors.InvalidPath, errors.InvalidArgument, errors.PermissionDenied):
        assert all_paths(fs, sync_interval_ms=0) == []
        return
    assert all_paths(fs, sync_interval_ms=0) == [f"/{STAGING}", f"/{STAGING}/mine"]
    fs.close()
    fs = make_fs(home=home)
    assert fs.read_bytes(f"/{STAGING}/mine") == b"user data"
