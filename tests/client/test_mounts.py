"""Mount table behaviour through the public API: existing UFS content, overlap and
safety rules, unmount, persistence of the table, memory:// and read-only mounts, and
path escapes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import fsspec
import pytest

from siltfs import errors
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.model.enums import PersistenceState

from .conftest import ufs_tree


def uri(path: Path) -> str:
    return "file://" + str(path)


def snapshot(fs: EmbeddedFileSystem) -> tuple[list[object], list[object], set[str]]:
    return fs.ls("/", recursive=True), fs.mounts(), ufs_tree(fs.config.root_ufs_dir)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A local directory with existing content, outside the siltfs home."""
    root = tmp_path / "lake"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "top.csv").write_bytes(b"a,b\n1,2\n")
    (root / "sub" / "inner.txt").write_bytes(b"inner")
    (root / "sub" / "deep" / "big.bin").write_bytes(bytes(range(256)) * 1000)
    (root / "emptydir").mkdir()
    return root


# existing content ---------------------------------------------------------------
def test_mount_shows_existing_content(fs: EmbeddedFileSystem, lake: Path) -> None:
    info = fs.mount("/lake", uri(lake))
    assert info.path == "/lake" and info.uri == uri(lake)
    assert [m.path for m in fs.mounts()] == ["/", "/lake"]
    assert [i.name for i in fs.ls("/lake")] == ["emptydir", "sub", "top.csv"]
    assert [i.path for i in fs.ls("/lake", recursive=True)] == [
        "/lake/emptydir",
        "/lake/sub",
        "/lake/sub/deep",
        "/lake/sub/deep/big.bin",
        "/lake/sub/inner.txt",
        "/lake/top.csv",
    ]
    st = fs.stat("/lake/sub/deep/big.bin")
    assert st.length == 256_000
    assert st.persistence_state is PersistenceState.PERSISTED
    assert fs.read_bytes("/lake/sub/deep/big.bin") == bytes(range(256)) * 1000
    assert fs.read_bytes("/lake/top.csv") == b"a,b\n1,2\n"
    assert fs.stat("/lake").mount_point
    assert fs.exists("/lake/sub/inner.txt")
    # nothing was copied into the root UFS, nothing was changed in the lake
    assert ufs_tree(fs.config.root_ufs_dir) == set()
    assert ufs_tree(lake) == {
        "top.csv",
        "sub",
        "sub/inner.txt",
        "sub/deep",
        "sub/deep/big.bin",
        "emptydir",
    }


def test_mount_stat_without_listing_first(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    assert fs.read_bytes("/lake/sub/inner.txt") == b"inner"  # lazily loaded along the path


def test_mount_plain_local_path(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", str(lake))
    assert fs.read_bytes("/lake/top.csv") == b"a,b\n1,2\n"


def test_mount_on_existing_empty_directory(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mkdir("/data/lake", parents=True)
    fs.mount("/data/lake", uri(lake))
    assert fs.read_bytes("/data/lake/top.csv") == b"a,b\n1,2\n"
    assert fs.stat("/data/lake").mount_point


def test_writes_into_a_mount_land_in_its_directory(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    fs.write_bytes("/lake/new/file", b"new", write_type="CACHE_THROUGH")
    fs.write_bytes("/lake/async", b"async")
    fs.wait_persisted("/lake", timeout=30)
    assert (lake / "new" / "file").read_bytes() == b"new"
    assert (lake / "async").read_bytes() == b"async"
    assert ufs_tree(fs.config.root_ufs_dir) == set()
    assert not (lake / ".silt_staging").exists()


def test_mount_missing_parent(fs: EmbeddedFileSystem, lake: Path) -> None:
    with pytest.raises(errors.FileNotFound):
        fs.mount("/no/such/lake", uri(lake))
    assert fs.mounts()[-1].path == "/"


# refused mounts -----------------------------------------------------------------
def test_nested_mount_refused(fs: EmbeddedFileSystem, lake: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    fs.mount("/lake", uri(lake))
    before = snapshot(fs)
    for inner in ("/lake/sub", "/lake/newdir", "/lake/sub/deep/x"):
        with pytest.raises(errors.MountError) as info:
            fs.mount(inner, uri(other))
        assert inner in str(info.value)
    assert snapshot(fs) == before


def test_mount_containing_a_mount_refused(
    fs: EmbeddedFileSystem, lake: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    fs.mkdir("/data")
    fs.mount("/data/lake", uri(lake))
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/data", uri(other))
    assert snapshot(fs) == before


def test_mount_at_existing_mount_point_refused(
    fs: EmbeddedFileSystem, lake: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    fs.mount("/lake", uri(lake))
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/lake", uri(other))
    with pytest.raises(errors.MountError):
        fs.mount("/", uri(other))
    assert snapshot(fs) == before
    assert fs.read_bytes("/lake/top.csv") == b"a,b\n1,2\n"


@pytest.mark.parametrize("which", ["same", "same-trailing-slash", "parent", "subdir"])
def test_mount_overlapping_uri_refused(fs: EmbeddedFileSystem, lake: Path, which: str) -> None:
    fs.mount("/lake", uri(lake))
    target = {
        "same": uri(lake),
        "same-trailing-slash": uri(lake) + "/",
        "parent": uri(lake.parent),
        "subdir": uri(lake / "sub"),
    }[which]
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/again", target)
    assert snapshot(fs) == before


@pytest.mark.parametrize("which", ["same", "parent", "subdir", "home"])
def test_mount_overlapping_root_ufs_refused(fs: EmbeddedFileSystem, which: str) -> None:
    root = fs.config.root_ufs_dir
    fs.write_bytes("/existing/f", b"f", write_type="CACHE_THROUGH")
    target = {
        "same": root,
        "parent": root.parent.parent,
        "subdir": root / "existing",
        "home": fs.config.home,
    }[which]
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/again", uri(target))
    assert snapshot(fs) == before


@pytest.mark.parametrize("spelling", ["bare-path", "dotdot", "bare-subdir"])
def test_mount_overlap_detected_whatever_the_spelling(
    fs: EmbeddedFileSystem, lake: Path, spelling: str
) -> None:
    fs.mount("/lake", uri(lake))
    target = {
        "bare-path": str(lake),
        "dotdot": uri(lake.parent / "elsewhere" / ".." / lake.name),
        "bare-subdir": str(lake / "sub"),
    }[spelling]
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/again", target)
    assert snapshot(fs) == before


def test_mount_root_ufs_dir_as_bare_path_refused(fs: EmbeddedFileSystem) -> None:
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/again", str(fs.config.root_ufs_dir))
    assert snapshot(fs) == before


def test_mount_sibling_with_common_prefix_allowed(fs: EmbeddedFileSystem, tmp_path: Path) -> None:
    a = tmp_path / "data"
    b = tmp_path / "data2"
    a.mkdir()
    b.mkdir()
    (b / "f").write_bytes(b"b")
    fs.mount("/a", uri(a))
    fs.mount("/b", uri(b))  # /data2 is not inside /data
    assert fs.read_bytes("/b/f") == b"b"


def test_mount_over_non_empty_directory_refused(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.write_bytes("/busy/f", b"mine", write_type="CACHE_THROUGH")
    fs.write_bytes("/busy/g", b"cached", write_type="MUST_CACHE")
    before = snapshot(fs)
    with pytest.raises(errors.MountError) as info:
        fs.mount("/busy", uri(lake))
    assert "/busy" in str(info.value)
    assert snapshot(fs) == before
    assert fs.read_bytes("/busy/f") == b"mine"
    assert fs.read_bytes("/busy/g") == b"cached"
    assert not fs.stat("/busy").mount_point


def test_mount_over_directory_with_unlisted_ufs_children_refused(
    fs: EmbeddedFileSystem, lake: Path
) -> None:
    busy = fs.config.root_ufs_dir / "busy"
    busy.mkdir()
    (busy / "f").write_bytes(b"stored outside siltfs")
    assert fs.stat("/busy").is_dir  # loaded, but its listing was never read
    with pytest.raises(errors.MountError):
        fs.mount("/busy", uri(lake))
    assert [m.path for m in fs.mounts()] == ["/"]
    assert fs.read_bytes("/busy/f") == b"stored outside siltfs"


def test_mount_over_a_file_refused(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.write_bytes("/file", b"mine", write_type="CACHE_THROUGH")
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/file", uri(lake))
    assert snapshot(fs) == before
    assert fs.read_bytes("/file") == b"mine"


def test_mount_missing_directory_refused(fs: EmbeddedFileSystem, tmp_path: Path) -> None:
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/gone", uri(tmp_path / "does-not-exist"))
    assert snapshot(fs) == before
    assert not (tmp_path / "does-not-exist").exists()


def test_mount_of_a_file_uri_refused(fs: EmbeddedFileSystem, lake: Path) -> None:
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/file", uri(lake / "top.csv"))
    assert snapshot(fs) == before


# unmount ------------------------------------------------------------------------
def test_unmount_keeps_ufs_files(fs: EmbeddedFileSystem, lake: Path) -> None:
    before_lake = {p: (lake / p).read_bytes() for p in ufs_tree(lake) if (lake / p).is_file()}
    fs.mount("/lake", uri(lake))
    assert len(fs.ls("/lake", recursive=True)) == 6
    fs.read_bytes("/lake/sub/deep/big.bin")  # cache something
    fs.unmount("/lake")
    assert not fs.exists("/lake")
    assert not fs.exists("/lake/top.csv")
    assert [m.path for m in fs.mounts()] == ["/"]
    assert fs.ls("/", recursive=True) == []
    after_lake = {p: (lake / p).read_bytes() for p in ufs_tree(lake) if (lake / p).is_file()}
    assert after_lake == before_lake
    # can be mounted again and shows the same content
    fs.mount("/lake", uri(lake))
    assert fs.read_bytes("/lake/sub/deep/big.bin") == bytes(range(256)) * 1000


def test_unmount_keeps_files_written_through_siltfs(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    fs.write_bytes("/lake/written", b"w", write_type="CACHE_THROUGH")
    fs.unmount("/lake")
    assert (lake / "written").read_bytes() == b"w"


def test_unmount_restores_pre_existing_directory(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mkdir("/data/lake", parents=True)
    assert ufs_tree(fs.config.root_ufs_dir) == {"data", "data/lake"}
    fs.mount("/data/lake", uri(lake))
    fs.unmount("/data/lake")
    namespace = {i.path.lstrip("/") for i in fs.ls("/", recursive=True)}
    assert namespace == ufs_tree(fs.config.root_ufs_dir)


def test_unmount_non_mount_point(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mkdir("/plain")
    fs.mount("/lake", uri(lake))
    before = snapshot(fs)
    for path in ("/plain", "/lake/sub", "/missing", "/"):
        with pytest.raises(errors.MountError):
            fs.unmount(path)
    assert snapshot(fs) == before


def test_unmount_refused_while_unpersisted(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    fs.write_bytes("/lake/sub/cached", b"only in cache", write_type="MUST_CACHE")
    with pytest.raises(errors.MountError) as info:
        fs.unmount("/lake")
    assert "/lake" in str(info.value)
    assert fs.read_bytes("/lake/sub/cached") == b"only in cache"
    assert [m.path for m in fs.mounts()] == ["/", "/lake"]
    assert fs.persist("/lake") == 1
    fs.wait_persisted("/lake", timeout=30)
    assert fs.stat("/lake/sub/cached").persistence_state is PersistenceState.PERSISTED
    fs.unmount("/lake")
    assert (lake / "sub" / "cached").read_bytes() == b"only in cache"
    assert not fs.exists("/lake")


def test_unmount_refused_while_async_pending_then_allowed(
    fs: EmbeddedFileSystem, lake: Path
) -> None:
    from siltfs.testing import inject_faults

    fs.mount("/lake", uri(lake))
    gate = inject_faults(fs, "/lake").block("open_write", ".silt_staging/*")
    fs.write_bytes("/lake/pending", b"p")
    assert gate.wait_reached(10)
    with pytest.raises(errors.MountError):
        fs.unmount("/lake")
    gate.release()
    fs.wait_persisted("/lake", timeout=30)
    fs.unmount("/lake")
    assert (lake / "pending").read_bytes() == b"p"


# cross-mount operations -----------------------------------------------------------
def test_rename_across_mounts(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    fs.write_bytes("/local", b"l", write_type="CACHE_THROUGH")
    before = snapshot(fs)
    with pytest.raises(errors.InvalidArgument):
        fs.rename("/local", "/lake/local")
    with pytest.raises(errors.InvalidArgument):
        fs.rename("/lake/top.csv", "/top.csv")
    with pytest.raises(errors.InvalidArgument):
        fs.rename("/lake/sub", "/sub")
    assert snapshot(fs) == before
    assert (lake / "top.csv").exists() and (lake / "sub" / "inner.txt").exists()
    assert not (lake / "local").exists()


def test_rename_within_a_mount(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    fs.rename("/lake/sub", "/lake/moved")
    assert fs.read_bytes("/lake/moved/inner.txt") == b"inner"
    assert (lake / "moved" / "inner.txt").read_bytes() == b"inner"
    assert not (lake / "sub").exists()


def test_rename_of_a_mount_point_refused(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    before = snapshot(fs)
    with pytest.raises(errors.SiltError):
        fs.rename("/lake", "/pond")
    assert snapshot(fs) == before


def test_delete_of_mount_point(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.delete("/lake", recursive=True)
    with pytest.raises(errors.MountError):
        fs.delete("/lake")
    assert snapshot(fs) == before
    assert (lake / "top.csv").exists()


def test_delete_of_directory_containing_a_mount(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mkdir("/data")
    fs.mount("/data/lake", uri(lake))
    lake_before = ufs_tree(lake)
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.delete("/data", recursive=True)
    assert snapshot(fs) == before
    assert ufs_tree(lake) == lake_before


def test_delete_inside_a_mount(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/lake", uri(lake))
    fs.delete("/lake/sub", recursive=True)
    assert not (lake / "sub").exists()
    assert (lake / "top.csv").exists()
    assert [i.name for i in fs.ls("/lake")] == ["emptydir", "top.csv"]


# persistence of the mount table -----------------------------------------------------
def test_mount_table_survives_restart(
    make_fs: Callable[..., EmbeddedFileSystem], lake: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home-restart"
    fs = make_fs(home=home)
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "r").write_bytes(b"r")
    fs.mount("/lake", uri(lake), sync_interval_ms=0, read_only=False)
    fs.mount("/ro", uri(ro), read_only=True)
    fs.write_bytes("/lake/added", b"added", write_type="CACHE_THROUGH")
    fs.close()
    fs2 = make_fs(home=home)
    mounts = {m.path: m for m in fs2.mounts()}
    assert set(mounts) == {"/", "/lake", "/ro"}
    assert mounts["/lake"].uri == uri(lake)
    assert mounts["/lake"].sync_interval_ms == 0
    assert mounts["/ro"].read_only is True
    assert fs2.read_bytes("/ro/r") == b"r"
    with pytest.raises(errors.PermissionDenied):
        fs2.write_bytes("/ro/new", b"x", write_type="CACHE_THROUGH")
    (lake / "external").write_bytes(b"e")
    assert fs2.exists("/lake/external")  # the per-mount interval 0 survived too
    assert fs2.read_bytes("/lake/top.csv") == b"a,b\n1,2\n"
    assert fs2.read_bytes("/lake/added") == b"added"
    assert fs2.read_bytes("/lake/sub/deep/big.bin") == bytes(range(256)) * 1000


def test_unmount_survives_restart(
    make_fs: Callable[..., EmbeddedFileSystem], lake: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home-restart"
    fs = make_fs(home=home)
    fs.mount("/lake", uri(lake))
    fs.unmount("/lake")
    fs.close()
    fs2 = make_fs(home=home)
    assert [m.path for m in fs2.mounts()] == ["/"]
    assert not fs2.exists("/lake")


# memory:// ----------------------------------------------------------------------------
def test_memory_mount(fs: EmbeddedFileSystem, memory_uri: str) -> None:
    mem = fsspec.filesystem("memory")
    mem.makedirs(memory_uri, exist_ok=True)
    mem.pipe(memory_uri + "/existing/one.txt", b"one")
    fs.mount("/mem", memory_uri)
    assert fs.read_bytes("/mem/existing/one.txt") == b"one"
    fs.write_bytes("/mem/new/two.txt", b"two", write_type="CACHE_THROUGH")
    assert mem.cat_file(memory_uri + "/new/two.txt") == b"two"
    fs.write_bytes("/mem/async.txt", b"async")
    fs.wait_persisted("/mem", timeout=30)
    assert mem.cat_file(memory_uri + "/async.txt") == b"async"
    assert fs.stat("/mem/async.txt").persistence_state is PersistenceState.PERSISTED
    assert [i.name for i in fs.ls("/mem")] == ["async.txt", "existing", "new"]
    assert ufs_tree(fs.config.root_ufs_dir) == set()
    fs.delete("/mem/new", recursive=True)
    assert not mem.exists(memory_uri + "/new/two.txt")
    fs.unmount("/mem")
    assert mem.cat_file(memory_uri + "/existing/one.txt") == b"one"
    assert mem.cat_file(memory_uri + "/async.txt") == b"async"


def test_memory_mount_overlap_refused(fs: EmbeddedFileSystem, memory_uri: str) -> None:
    mem = fsspec.filesystem("memory")
    mem.makedirs(memory_uri + "/sub", exist_ok=True)
    mem.pipe(memory_uri + "/sub/f", b"f")
    fs.mount("/mem", memory_uri)
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/mem2", memory_uri + "/sub")
    with pytest.raises(errors.MountError):
        fs.mount("/mem3", memory_uri)
    assert snapshot(fs) == before


def test_memory_mount_missing_refused(fs: EmbeddedFileSystem, memory_uri: str) -> None:
    before = snapshot(fs)
    with pytest.raises(errors.MountError):
        fs.mount("/mem", memory_uri + "/nothing-here")
    assert snapshot(fs) == before


# read-only --------------------------------------------------------------------------
def test_read_only_mount(fs: EmbeddedFileSystem, lake: Path) -> None:
    fs.mount("/ro", uri(lake), read_only=True)
    assert fs.mounts()[-1].read_only is True
    assert fs.read_bytes("/ro/top.csv") == b"a,b\n1,2\n"
    before_ns = fs.ls("/", recursive=True)
    before_lake = ufs_tree(lake)
    attempts: list[Callable[[], object]] = [
        lambda: fs.write_bytes("/ro/new", b"x", write_type="CACHE_THROUGH"),
        lambda: fs.write_bytes("/ro/new", b"x", write_type="MUST_CACHE"),
        lambda: fs.write_bytes("/ro/new", b"x"),
        lambda: fs.write_bytes("/ro/top.csv", b"overwrite", write_type="THROUGH"),
        lambda: fs.open("/ro/sub/x", "wb"),
        lambda: fs.mkdir("/ro/newdir"),
        lambda: fs.touch("/ro/empty"),
        lambda: fs.delete("/ro/top.csv"),
        lambda: fs.delete("/ro/sub", recursive=True),
        lambda: fs.rename("/ro/top.csv", "/ro/renamed.csv"),
    ]
    for attempt in attempts:
        with pytest.raises(errors.PermissionDenied) as info:
            attempt()
        assert isinstance(info.value, PermissionError)
    assert fs.ls("/", recursive=True) == before_ns
    assert ufs_tree(lake) == before_lake
    assert (lake / "top.csv").read_bytes() == b"a,b\n1,2\n"


# path escapes ---------------------------------------------------------------------------
@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"TOP SECRET")
    return outside


def test_symlink_escape_not_visible(fs: EmbeddedFileSystem, lake: Path, secret: Path) -> None:
    os.symlink(secret / "secret.txt", lake / "link-file")
    os.symlink(secret, lake / "link-dir")
    os.symlink(secret / "secret.txt", lake / "sub" / "nested-link")
    fs.mount("/lake", uri(lake))
    names = [i.path for i in fs.ls("/lake", recursive=True)]
    assert not any("link" in n for n in names)
    for path in ("/lake/link-file", "/lake/link-dir/secret.txt", "/lake/sub/nested-link"):
        assert not fs.exists(path)
        with pytest.raises(errors.SiltError) as info:
            fs.read_bytes(path)
        assert b"TOP SECRET" not in str(info.value).encode()
    with pytest.raises(errors.SiltError):
        fs.ls("/lake/link-dir")
    with pytest.raises(errors.SiltError):
        fs.stat("/lake/link-dir/secret.txt")
    # syncing again does not pull them in either
    names = [i.path for i in fs.ls("/lake", recursive=True, sync_interval_ms=0)]
    assert not any("link" in n for n in names)
    with pytest.raises(errors.SiltError):
        fs.read_bytes("/lake/link-file", read_type="NO_CACHE")


def test_symlink_inside_mount_is_followed(fs: EmbeddedFileSystem, lake: Path) -> None:
    os.symlink(lake / "top.csv", lake / "alias.csv")
    fs.mount("/lake", uri(lake))
    assert fs.read_bytes("/lake/alias.csv") == b"a,b\n1,2\n"


def test_symlink_added_after_load_does_not_leak(
    fs: EmbeddedFileSystem, lake: Path, secret: Path
) -> None:
    fs.mount("/lake", uri(lake), sync_interval_ms=0)
    assert fs.read_bytes("/lake/sub/inner.txt") == b"inner"
    # replace a known file by a symlink to the outside in the UFS
    (lake / "sub" / "inner.txt").unlink()
    os.symlink(secret / "secret.txt", lake / "sub" / "inner.txt")
    try:
        data = fs.read_bytes("/lake/sub/inner.txt")
    except errors.SiltError:
        data = b""
    assert b"TOP SECRET" not in data


def test_symlinked_mount_subdir_to_outside(
    fs: EmbeddedFileSystem, lake: Path, secret: Path
) -> None:
    fs.mount("/lake", uri(lake), sync_interval_ms=0)
    fs.ls("/lake/emptydir")
    (lake / "emptydir").rmdir()
    os.symlink(secret, lake / "emptydir")
    try:
        got = [i.name for i in fs.ls("/lake/emptydir")]
    except errors.SiltError:
        got = []
    assert "secret.txt" not in got
    with pytest.raises(errors.SiltError):
        fs.read_bytes("/lake/emptydir/secret.txt")


@pytest.mark.parametrize(
    "path",
    ["/lake/../outside/secret.txt", "/lake/sub/../../outside/secret.txt", "/lake/..", "/.."],
)
def test_dotdot_rejected(fs: EmbeddedFileSystem, lake: Path, secret: Path, path: str) -> None:
    fs.mount("/lake", uri(lake))
    for op in (fs.read_bytes, fs.stat, fs.ls, fs.exists):
        with pytest.raises(errors.InvalidPath) as info:
            op(path)
        assert isinstance(info.value, ValueError)
    with pytest.raises(errors.InvalidPath):
        fs.write_bytes(path, b"x")
    with pytest.raises(errors.InvalidPath):
        fs.mount(path, uri(secret))
    assert (secret / "secret.txt").read_bytes() == b"TOP SECRET"
    assert ufs_tree(secret) == {"secret.txt"}
