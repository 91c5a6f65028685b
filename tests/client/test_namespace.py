"""Namespace operations through the public embedded API: mkdir, ls, stat, rename, delete,
open/write/read, attributes, TTL, touch and du."""

from __future__ import annotations

import errno
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from siltfs import errors
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.model.enums import PersistenceState, TtlAction

from .conftest import ufs_tree

BS = 64 * 1024  # block size of the fixtures' config


def root_of(fs: EmbeddedFileSystem) -> Path:
    return fs.config.root_ufs_dir


def snapshot(fs: EmbeddedFileSystem) -> tuple[list[object], set[str]]:
    """Everything observable about the namespace and the root UFS."""
    return fs.ls("/", recursive=True), ufs_tree(root_of(fs))


# mkdir ------------------------------------------------------------------------
def test_mkdir_single_and_parents(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/a")
    assert fs.stat("/a").is_dir
    fs.mkdir("/x/y/z", parents=True)
    assert [i.path for i in fs.ls("/", recursive=True)] == ["/a", "/x", "/x/y", "/x/y/z"]
    assert all(i.is_dir for i in fs.ls("/", recursive=True))
    # default write type persists directories synchronously
    assert ufs_tree(root_of(fs)) == {"a", "x", "x/y", "x/y/z"}


def test_mkdir_existing(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/a")
    with pytest.raises(errors.FileExists) as info:
        fs.mkdir("/a")
    assert isinstance(info.value, FileExistsError)
    assert "/a" in str(info.value)
    fs.mkdir("/a", exist_ok=True)
    fs.mkdir("/a", parents=True)  # like mkdir -p: an existing directory is fine
    assert [i.path for i in fs.ls("/")] == ["/a"]


def test_mkdir_exist_ok_on_a_file_still_fails(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"data")
    with pytest.raises(errors.FileExists):
        fs.mkdir("/f", exist_ok=True)
    with pytest.raises(errors.FileExists):
        fs.mkdir("/f", parents=True)
    assert not fs.stat("/f").is_dir
    assert fs.read_bytes("/f") == b"data"


def test_mkdir_missing_parent(fs: EmbeddedFileSystem) -> None:
    with pytest.raises(errors.FileNotFound) as info:
        fs.mkdir("/no/such")
    assert isinstance(info.value, FileNotFoundError)
    assert not fs.exists("/no")
    assert fs.ls("/") == []
    assert ufs_tree(root_of(fs)) == set()


@pytest.mark.parametrize("parents", [False, True])
def test_mkdir_under_a_file(fs: EmbeddedFileSystem, parents: bool) -> None:
    fs.write_bytes("/f", b"data", write_type="CACHE_THROUGH")
    before = snapshot(fs)
    with pytest.raises(errors.NotADirectory) as info:
        fs.mkdir("/f/sub/deeper", parents=parents)
    assert isinstance(info.value, NotADirectoryError)
    assert snapshot(fs) == before
    assert fs.read_bytes("/f") == b"data"


def test_mkdir_must_cache_is_not_in_ufs(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/m", write_type="MUST_CACHE")
    assert fs.stat("/m").persistence_state is PersistenceState.NOT_PERSISTED
    assert ufs_tree(root_of(fs)) == set()


# read/write -------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, BS - 1, BS, BS + 1, 3 * BS + 17])
def test_write_read_roundtrip(fs: EmbeddedFileSystem, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    info = fs.write_bytes("/d/f.bin", data)
    assert info.length == size
    assert fs.read_bytes("/d/f.bin") == data
    assert fs.read_bytes("/d/f.bin", 1, 5) == data[1:5]
    assert fs.read_bytes("/d/f.bin", -3) == data[-3:]


def test_write_creates_missing_parents(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/p/q/r.txt", b"r", write_type="CACHE_THROUGH")
    assert fs.stat("/p").is_dir and fs.stat("/p/q").is_dir
    assert (root_of(fs) / "p/q/r.txt").read_bytes() == b"r"


def test_overwrite_replaces_content(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"a much longer first version" * 1000, write_type="CACHE_THROUGH")
    with fs.open("/f", "wb", write_type="CACHE_THROUGH") as f:
        f.write(b"short")
    assert fs.read_bytes("/f") == b"short"
    assert fs.stat("/f").length == 5
    assert (root_of(fs) / "f").read_bytes() == b"short"


def test_overwrite_changes_write_type(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"persisted", write_type="CACHE_THROUGH")
    fs.write_bytes("/f", b"cached only", write_type="MUST_CACHE")
    assert fs.read_bytes("/f") == b"cached only"
    assert fs.stat("/f").persistence_state is PersistenceState.NOT_PERSISTED
    # the stale UFS copy of the old version is gone, it must never be served again
    assert ufs_tree(root_of(fs)) == set()


def test_exclusive_create(fs: EmbeddedFileSystem) -> None:
    with fs.open("/new", "xb") as f:
        f.write(b"first")
    with pytest.raises(errors.FileExists) as info:
        fs.open("/new", "xb")
    assert isinstance(info.value, FileExistsError)
    assert "/new" in str(info.value)
    assert fs.read_bytes("/new") == b"first"


def test_write_onto_directory(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/d")
    fs.write_bytes("/d/inside", b"x", write_type="CACHE_THROUGH")
    before = snapshot(fs)
    with pytest.raises(errors.IsADirectory) as info:
        fs.write_bytes("/d", b"data")
    assert isinstance(info.value, IsADirectoryError)
    with pytest.raises(errors.FileExists):  # O_CREAT|O_EXCL: EEXIST, whatever is there
        fs.open("/d", "xb")
    with pytest.raises(errors.IsADirectory):
        fs.open("/d", "rb")
    assert snapshot(fs) == before
    assert fs.read_bytes("/d/inside") == b"x"


def test_open_missing_for_read(fs: EmbeddedFileSystem) -> None:
    with pytest.raises(errors.FileNotFound) as info:
        fs.open("/missing", "rb")
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.errno == errno.ENOENT
    assert "/missing" in str(info.value)
    with pytest.raises(FileNotFoundError):
        fs.read_bytes("/no/such/file")
    assert fs.ls("/") == []


def test_text_mode_roundtrip(fs: EmbeddedFileSystem) -> None:
    text = "héllo\nwörld ☃\n"
    with fs.open("/t.txt", "w") as f:
        f.write(text)
    with fs.open("/t.txt", "r") as f:
        assert f.read() == text
    assert fs.read_bytes("/t.txt") == text.encode("utf-8")
    with fs.open("/t.txt", "rt") as f:
        assert f.readlines() == ["héllo\n", "wörld ☃\n"]


def test_failed_write_leaves_nothing(fs: EmbeddedFileSystem) -> None:
    with pytest.raises(RuntimeError), fs.open("/partial", "wb") as f:
        f.write(b"x" * 10)
        raise RuntimeError("boom")
    # BufferedWriter.close() still runs and commits what was written; either way the
    # file must be complete (the buffered bytes) or absent, never something else.
    if fs.exists("/partial"):
        assert fs.read_bytes("/partial") == b"x" * 10


# ls ----------------------------------------------------------------------------
def test_ls_sorted_children(fs: EmbeddedFileSystem) -> None:
    for name in ["zeta", "alpha", "Mid", "beta"]:
        fs.write_bytes(f"/d/{name}", name.encode())
    fs.mkdir("/d/sub")
    infos = fs.ls("/d")
    assert [i.name for i in infos] == sorted(["zeta", "alpha", "Mid", "beta", "sub"])
    assert [i.path for i in infos] == [f"/d/{i.name}" for i in infos]


def test_ls_recursive_full_paths(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a/b/c.txt", b"c")
    fs.write_bytes("/a/d.txt", b"d")
    fs.write_bytes("/e.txt", b"e")
    got = [(i.path, i.is_dir) for i in fs.ls("/", recursive=True)]
    assert got == [
        ("/a", True),
        ("/a/b", True),
        ("/a/b/c.txt", False),
        ("/a/d.txt", False),
        ("/e.txt", False),
    ]
    assert [i.path for i in fs.ls("/a", recursive=True)] == ["/a/b", "/a/b/c.txt", "/a/d.txt"]
    assert [i.path for i in fs.ls("/")] == ["/a", "/e.txt"]


def test_ls_of_a_file(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/f", b"12345")
    infos = fs.ls("/d/f")
    assert len(infos) == 1
    assert infos[0].path == "/d/f" and infos[0].length == 5 and not infos[0].is_dir
    assert fs.ls("/d/f", recursive=True) == infos


def test_ls_missing(fs: EmbeddedFileSystem) -> None:
    with pytest.raises(errors.FileNotFound):
        fs.ls("/missing")


def test_ls_entries_equal_stat(fs: EmbeddedFileSystem, tmp_path: Path) -> None:
    """ls builds its entries in one pass (batched cached bytes): each must equal stat."""
    fs.mkdir("/d/sub", parents=True, write_type="MUST_CACHE")
    fs.write_bytes("/d/empty", b"", write_type="MUST_CACHE")
    fs.write_bytes("/d/cached", b"c" * (2 * BS + 5), write_type="CACHE_THROUGH")
    fs.write_bytes("/d/half", b"h" * (2 * BS), write_type="CACHE_THROUGH")
    fs.write_bytes("/d/cold", b"x" * 10, write_type="THROUGH")
    fs.write_bytes("/d/sub/deep", b"y" * 3, write_type="MUST_CACHE")
    fs.master.blocks.free(fs.stat("/d/half").block_ids[:1])
    (tmp_path / "lake").mkdir()
    fs.mount("/d/lake", (tmp_path / "lake").as_uri())
    fs.set_attribute("/d/cached", pinned=True, ttl=60_000)
    listed = fs.ls("/d")
    assert [i.name for i in listed] == ["cached", "cold", "empty", "half", "lake", "sub"]
    assert [i.to_dict() for i in listed] == [fs.stat(i.path).to_dict() for i in listed]
    assert [i.cached_percent for i in listed] == [100, 0, 100, 50, 0, 0]
    deep = fs.ls("/", recursive=True)
    assert [i.to_dict() for i in deep] == [fs.stat(i.path).to_dict() for i in deep]


# stat ---------------------------------------------------------------------------
@pytest.mark.parametrize("length", [0, 1, BS, BS + 1, 2 * BS + 5])
def test_stat_fields_of_a_file(fs: EmbeddedFileSystem, length: int) -> None:
    t0 = time.time()
    fs.write_bytes("/dir/file.bin", b"z" * length, write_type="CACHE_THROUGH")
    st = fs.stat("/dir/file.bin")
    assert st.path == "/dir/file.bin"
    assert st.name == "file.bin"
    assert isinstance(st.id, int) and st.id > 0
    assert st.is_dir is False
    assert st.length == length
    assert t0 - 2 <= st.mtime <= time.time() + 2
    assert st.block_size == BS
    assert len(st.block_ids) == math.ceil(length / BS)
    assert len(set(st.block_ids)) == len(st.block_ids)
    assert st.persistence_state is PersistenceState.PERSISTED
    assert st.cached_percent == 100
    assert st.pinned is False
    assert st.ttl is None
    assert st.mount_point is False


def test_stat_block_count_with_custom_block_size(fs: EmbeddedFileSystem) -> None:
    with fs.open("/f", "wb", block_size=1000) as f:
        f.write(b"q" * 2500)
    st = fs.stat("/f")
    assert st.block_size == 1000
    assert len(st.block_ids) == 3
    assert fs.read_bytes("/f") == b"q" * 2500


def test_stat_directory_and_root(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/d")
    st = fs.stat("/d")
    assert st.is_dir and st.name == "d" and st.path == "/d" and st.length == 0
    assert st.block_ids == []
    root = fs.stat("/")
    assert root.is_dir and root.path == "/" and root.name == "/"
    assert root.mount_point
    assert fs.stat("/d").id != root.id


def test_stat_states_per_write_type(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/must", b"m" * 10, write_type="MUST_CACHE")
    fs.write_bytes("/through", b"t" * 10, write_type="THROUGH")
    must, through = fs.stat("/must"), fs.stat("/through")
    assert must.persistence_state is PersistenceState.NOT_PERSISTED
    assert must.cached_percent == 100
    assert through.persistence_state is PersistenceState.PERSISTED
    assert through.cached_percent == 0
    assert fs.read_bytes("/through") == b"t" * 10  # read type CACHE caches it
    assert fs.stat("/through").cached_percent == 100


def test_stat_ids_are_unique_and_stable(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a", b"a")
    fs.write_bytes("/b", b"b")
    ida = fs.stat("/a").id
    assert ida != fs.stat("/b").id
    fs.rename("/a", "/c")
    assert fs.stat("/c").id == ida


def test_stat_missing(fs: EmbeddedFileSystem) -> None:
    with pytest.raises(errors.FileNotFound) as info:
        fs.stat("/nope")
    assert "/nope" in str(info.value)


# rename -------------------------------------------------------------------------
@pytest.mark.parametrize("write_type", ["MUST_CACHE", "CACHE_THROUGH", "ASYNC_THROUGH"])
def test_rename_file(fs: EmbeddedFileSystem, write_type: str) -> None:
    fs.write_bytes("/a/f", b"content", write_type=write_type)
    fid = fs.stat("/a/f").id
    fs.mkdir("/b")
    fs.rename("/a/f", "/b/g")
    assert not fs.exists("/a/f")
    assert fs.read_bytes("/b/g") == b"content"
    assert fs.stat("/b/g").id == fid
    with pytest.raises(errors.FileNotFound):
        fs.read_bytes("/a/f")
    fs.wait_persisted(timeout=30)
    if write_type != "MUST_CACHE":
        assert {"b", "b/g"} <= ufs_tree(root_of(fs)) <= {"a", "b", "b/g"}
        assert (root_of(fs) / "b/g").read_bytes() == b"content"
        assert fs.stat("/b/g").persistence_state is PersistenceState.PERSISTED


def test_wait_persisted_covers_implicit_parent_emptied_by_rename(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a/f", b"content")  # ASYNC_THROUGH creates /a implicitly
    fs.mkdir("/b")
    fs.rename("/a/f", "/b/g")
    fs.wait_persisted(timeout=30)
    assert fs.stat("/a").persistence_state is PersistenceState.PERSISTED
    assert ufs_tree(root_of(fs)) == {"a", "b", "b/g"}


def test_rename_directory(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/src/x/1", b"one", write_type="CACHE_THROUGH")
    fs.write_bytes("/src/2", b"two", write_type="MUST_CACHE")
    fs.rename("/src", "/dst")
    assert not fs.exists("/src")
    assert not fs.exists("/src/x/1")
    assert fs.read_bytes("/dst/x/1") == b"one"
    assert fs.read_bytes("/dst/2") == b"two"
    assert [i.path for i in fs.ls("/", recursive=True)] == ["/dst", "/dst/2", "/dst/x", "/dst/x/1"]
    assert ufs_tree(root_of(fs)) == {"dst", "dst/x", "dst/x/1"}


def test_rename_onto_existing(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a", b"a", write_type="CACHE_THROUGH")
    fs.write_bytes("/b", b"b", write_type="CACHE_THROUGH")
    fs.mkdir("/d")
    before = snapshot(fs)
    with pytest.raises(errors.FileExists) as info:
        fs.rename("/a", "/b")
    assert "/b" in str(info.value)
    with pytest.raises(errors.FileExists):
        fs.rename("/a", "/d")
    with pytest.raises(errors.FileExists):
        fs.rename("/d", "/a")
    assert snapshot(fs) == before
    assert fs.read_bytes("/a") == b"a" and fs.read_bytes("/b") == b"b"


def test_rename_into_own_subtree(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/a/b", parents=True)
    before = snapshot(fs)
    with pytest.raises(errors.InvalidArgument):
        fs.rename("/a", "/a/b/c")
    with pytest.raises(errors.InvalidArgument):
        fs.rename("/a", "/a/c")
    assert snapshot(fs) == before


def test_rename_to_itself_is_harmless(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a", b"a")
    try:
        fs.rename("/a", "/a")
    except errors.SiltError:
        pass
    assert fs.read_bytes("/a") == b"a"


def test_rename_root(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/d")
    before = snapshot(fs)
    with pytest.raises(errors.SiltError):
        fs.rename("/", "/x")
    with pytest.raises(errors.SiltError):
        fs.rename("/d", "/")
    assert snapshot(fs) == before


def test_rename_to_missing_parent(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a", b"a", write_type="CACHE_THROUGH")
    before = snapshot(fs)
    with pytest.raises(errors.FileNotFound):
        fs.rename("/a", "/no/such/b")
    assert snapshot(fs) == before
    assert fs.read_bytes("/a") == b"a"


def test_rename_missing_source(fs: EmbeddedFileSystem) -> None:
    with pytest.raises(errors.FileNotFound):
        fs.rename("/nope", "/other")
    assert fs.ls("/") == []


def test_rename_under_a_file(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/a", b"a")
    fs.write_bytes("/f", b"f")
    with pytest.raises(errors.NotADirectory):
        fs.rename("/a", "/f/a")
    assert fs.read_bytes("/a") == b"a"


# delete -------------------------------------------------------------------------
def test_delete_non_empty_directory(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/f", b"f", write_type="CACHE_THROUGH")
    fs.write_bytes("/d/e/g", b"g", write_type="MUST_CACHE")
    before = snapshot(fs)
    with pytest.raises(errors.DirectoryNotEmpty) as info:
        fs.delete("/d")
    assert isinstance(info.value, OSError)
    assert info.value.errno == errno.ENOTEMPTY
    assert "/d" in str(info.value)
    assert snapshot(fs) == before
    assert fs.read_bytes("/d/f") == b"f"
    assert fs.read_bytes("/d/e/g") == b"g"


def test_delete_empty_dir_and_file(fs: EmbeddedFileSystem) -> None:
    fs.mkdir("/empty")
    fs.write_bytes("/f", b"f", write_type="CACHE_THROUGH")
    fs.delete("/empty")
    fs.delete("/f")
    assert fs.ls("/") == []
    assert ufs_tree(root_of(fs)) == set()


def test_delete_recursive_removes_namespace_and_ufs(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/a/1", b"1", write_type="CACHE_THROUGH")
    fs.write_bytes("/d/a/2", b"2" * (BS + 1), write_type="CACHE_THROUGH")
    fs.write_bytes("/d/b", b"b", write_type="CACHE_THROUGH")
    fs.write_bytes("/d/c", b"c", write_type="MUST_CACHE")
    fs.write_bytes("/keep", b"k", write_type="CACHE_THROUGH")
    assert "d/a/2" in ufs_tree(root_of(fs))
    fs.delete("/d", recursive=True)
    assert not fs.exists("/d")
    assert not fs.exists("/d/a/1")
    assert [i.path for i in fs.ls("/", recursive=True)] == ["/keep"]
    assert ufs_tree(root_of(fs)) == {"keep"}
    # and the name is free again, with no trace of the old content
    fs.write_bytes("/d/a/1", b"new")
    assert fs.read_bytes("/d/a/1") == b"new"


def test_delete_missing(fs: EmbeddedFileSystem) -> None:
    with pytest.raises(errors.FileNotFound):
        fs.delete("/nope")
    with pytest.raises(errors.FileNotFound):
        fs.delete("/nope", recursive=True)


def test_delete_root_refused(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"f")
    with pytest.raises(errors.SiltError):
        fs.delete("/", recursive=True)
    assert fs.read_bytes("/f") == b"f"


# exists -------------------------------------------------------------------------
def test_exists(fs: EmbeddedFileSystem) -> None:
    assert fs.exists("/")
    assert not fs.exists("/a")
    fs.write_bytes("/a/b", b"b")
    assert fs.exists("/a")
    assert fs.exists("/a/b")
    assert not fs.exists("/a/c")
    assert not fs.exists("/a/b/c")  # a parent is a file: simply does not exist


# concurrency ----------------------------------------------------------------------
@pytest.mark.parametrize("shared", [False, True], ids=["distinct-dirs", "shared-dir"])
@pytest.mark.parametrize("write_type", ["MUST_CACHE", "ASYNC_THROUGH"])
def test_concurrent_creates(fs: EmbeddedFileSystem, shared: bool, write_type: str) -> None:
    threads, per_thread = 8, 50
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                d = "/shared" if shared else f"/t{t}"
                fs.write_bytes(f"{d}/f{t}-{i}", f"{t}:{i}".encode(), write_type=write_type)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(120)
    assert not any(th.is_alive() for th in pool)
    assert failures == []
    files = [i for i in fs.ls("/", recursive=True) if not i.is_dir]
    expected = {
        f"{'/shared' if shared else f'/t{t}'}/f{t}-{i}"
        for t in range(threads)
        for i in range(per_thread)
    }
    assert {i.path for i in files} == expected
    assert len(files) == threads * per_thread
    for t in range(threads):
        d = "/shared" if shared else f"/t{t}"
        assert fs.read_bytes(f"{d}/f{t}-7") == f"{t}:7".encode()
    dirs = [i.path for i in fs.ls("/") if i.is_dir]
    assert dirs == (["/shared"] if shared else sorted(f"/t{t}" for t in range(threads)))
    if write_type == "ASYNC_THROUGH":
        fs.wait_persisted(timeout=120)
        expected_ufs = {p.lstrip("/") for p in expected} | {d.lstrip("/") for d in dirs}
        assert ufs_tree(root_of(fs)) == expected_ufs


# attributes ---------------------------------------------------------------------
def test_set_attribute_pinned(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"f", write_type="CACHE_THROUGH")
    info = fs.set_attribute("/f", pinned=True)
    assert info.pinned is True
    assert fs.stat("/f").pinned is True
    assert fs.ls("/")[0].pinned is True
    fs.set_attribute("/f", pinned=False)
    assert fs.stat("/f").pinned is False


def test_set_attribute_pinned_on_directory_applies_to_subtree(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/a", b"a", write_type="CACHE_THROUGH")
    fs.write_bytes("/d/e/b", b"b", write_type="CACHE_THROUGH")
    fs.set_attribute("/d", pinned=True)
    assert all(i.pinned for i in fs.ls("/d", recursive=True))
    assert fs.stat("/d").pinned


def test_pinned_file_is_not_freed(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"f" * 1000, write_type="CACHE_THROUGH")
    fs.set_attribute("/f", pinned=True)
    with pytest.raises(errors.InvalidArgument):
        fs.free("/f")
    assert fs.stat("/f").cached_percent == 100
    fs.set_attribute("/f", pinned=False)
    assert fs.free("/f") == 1000
    assert fs.stat("/f").cached_percent == 0
    assert fs.read_bytes("/f") == b"f" * 1000


@pytest.mark.parametrize("action", ["FREE", "DELETE", TtlAction.FREE, "delete"])
def test_set_attribute_ttl(fs: EmbeddedFileSystem, action: str | TtlAction) -> None:
    fs.write_bytes("/f", b"f", write_type="CACHE_THROUGH")
    info = fs.set_attribute("/f", ttl=3_600_000, ttl_action=action)
    expected = TtlAction.parse(action)
    assert info.ttl == 3_600_000 and info.ttl_action is expected
    st = fs.stat("/f")
    assert st.ttl == 3_600_000 and st.ttl_action is expected
    fs.set_attribute("/f", ttl=-1)
    assert fs.stat("/f").ttl is None


def test_ttl_not_due_keeps_file(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(ttl_check_interval_s=3600.0)
    fs.write_bytes("/f", b"f")
    fs.set_attribute("/f", ttl=3_600_000, ttl_action="DELETE")
    assert fs.master.check_ttl() == 0
    assert fs.read_bytes("/f") == b"f"


def test_ttl_zero_delete(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(ttl_check_interval_s=3600.0)  # only our explicit check acts
    fs.write_bytes("/d/f", b"f", write_type="CACHE_THROUGH")
    fs.write_bytes("/d/g", b"g", write_type="CACHE_THROUGH")
    fs.set_attribute("/d/f", ttl=0, ttl_action="DELETE")
    assert fs.master.check_ttl() == 1
    assert not fs.exists("/d/f")
    assert fs.read_bytes("/d/g") == b"g"
    assert ufs_tree(root_of(fs)) == {"d", "d/g"}
    assert fs.master.check_ttl() == 0


def test_ttl_zero_delete_directory(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(ttl_check_interval_s=3600.0)
    fs.write_bytes("/d/e/f", b"f", write_type="CACHE_THROUGH")
    fs.set_attribute("/d", ttl=0, ttl_action="DELETE")
    assert fs.master.check_ttl() == 1
    assert fs.ls("/") == []
    assert ufs_tree(root_of(fs)) == set()


def test_ttl_zero_free(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(ttl_check_interval_s=3600.0)
    fs.write_bytes("/f", b"f" * 100, write_type="CACHE_THROUGH")
    assert fs.stat("/f").cached_percent == 100
    fs.set_attribute("/f", ttl=0, ttl_action="FREE")
    assert fs.master.check_ttl() == 1
    st = fs.stat("/f")
    assert st.cached_percent == 0
    assert st.ttl is None  # the action is done once
    assert fs.read_bytes("/f") == b"f" * 100
    assert fs.master.check_ttl() == 0


# touch / du -----------------------------------------------------------------------
def test_touch(fs: EmbeddedFileSystem) -> None:
    info = fs.touch("/t/empty")
    assert info.length == 0 and not info.is_dir
    assert fs.read_bytes("/t/empty") == b""
    assert fs.stat("/t/empty").block_ids == []
    fs.write_bytes("/t/full", b"keep me")
    assert fs.touch("/t/full").length == 7
    assert fs.read_bytes("/t/full") == b"keep me"
    with pytest.raises(errors.IsADirectory):
        fs.touch("/t")


def test_du(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/d/a", b"a" * 10, write_type="CACHE_THROUGH")
    fs.write_bytes("/d/e/b", b"b" * 20, write_type="THROUGH")
    fs.write_bytes("/d/e/c", b"c" * 30, write_type="MUST_CACHE")
    fs.write_bytes("/other", b"o" * 1000)
    du = fs.du("/d")
    assert du["path"] == "/d"
    assert du["length"] == 60
    assert du["files"] == 3
    assert du["dirs"] == 1
    assert du["cached_bytes"] == 40  # THROUGH is not cached
    one = fs.du("/d/a")
    assert one["length"] == 10 and one["files"] == 1 and one["dirs"] == 0
    total = fs.du("/")
    assert total["length"] == 1060 and total["files"] == 4 and total["dirs"] == 2
