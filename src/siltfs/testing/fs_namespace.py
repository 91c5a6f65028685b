"""The FileSystem suite, namespace: mkdir, ls, stat, exists, touch, rename, delete, du and
attributes, through the public API only.  Part of :class:`siltfs.testing.FileSystemTests`."""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from typing import Any

import pytest

from siltfs import errors
from siltfs.model.enums import PersistenceState, TtlAction
from siltfs.model.inode import FileInfo
from siltfs.testing.fs_common import BLOCK, FileSystemFixtures, blob, fails

__all__ = ["NamespaceTests", "UNUSUAL_NAMES", "paths_of", "tree"]


def paths_of(infos: list[FileInfo]) -> list[str]:
    return [i.path for i in infos]


def tree(fs: Any, base: str) -> list[tuple[str, bool, int]]:
    """What a failed call must leave unchanged: every entry under *base*."""
    return [(i.path, i.is_dir, i.length) for i in fs.ls(base, recursive=True)]


UNUSUAL_NAMES = [
    "a b",
    "a%20b",
    "a+b",
    "a#b",
    "a?b",
    "a&b=c",
    "é",
    "日本",
    "😀",
    "tab\tx",
    "nl\nx",
    "quote\"'",
    "~$!*()",
    " lead",
    "trail ",
    "-",
    ".hidden",
    "...",
    "n" * 255,
]


class NamespaceTests(FileSystemFixtures):
    """mkdir, ls, stat, exists, touch, rename, delete, du, attributes, TTL, close."""

    # mkdir --------------------------------------------------------------------------------------
    def test_mkdir_single_and_parents(self, fs: Any, base: str) -> None:
        assert fs.mkdir(f"{base}/a") is None
        assert fs.stat(f"{base}/a").is_dir
        assert fs.mkdir(f"{base}/x/y/z", parents=True) is None
        infos = fs.ls(base, recursive=True)
        assert paths_of(infos) == [f"{base}/a", f"{base}/x", f"{base}/x/y", f"{base}/x/y/z"]
        assert all(i.is_dir and i.length == 0 and i.block_ids == [] for i in infos)
        fs.makedirs(f"{base}/m/n", parents=True)  # the alias
        assert fs.stat(f"{base}/m/n").is_dir

    def test_mkdir_existing(self, fs: Any, base: str) -> None:
        fs.mkdir(f"{base}/a")
        err = fails(errors.FileExists, f"{base}/a", fs.mkdir, f"{base}/a")
        assert isinstance(err, FileExistsError) and err.errno == errno.EEXIST
        fs.mkdir(f"{base}/a", exist_ok=True)
        fs.mkdir(f"{base}/a", parents=True)  # like mkdir -p
        assert paths_of(fs.ls(base)) == [f"{base}/a"]

    def test_mkdir_exist_ok_on_a_file_still_fails(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/f", b"data", write_type="MUST_CACHE")
        fails(errors.FileExists, f"{base}/f", fs.mkdir, f"{base}/f", exist_ok=True)
        fails(errors.FileExists, f"{base}/f", fs.mkdir, f"{base}/f", parents=True)
        assert not fs.stat(f"{base}/f").is_dir and fs.read_bytes(f"{base}/f") == b"data"

    def test_mkdir_missing_parent(self, fs: Any, base: str) -> None:
        err = fails(errors.FileNotFound, f"{base}/no", fs.mkdir, f"{base}/no/such")
        assert isinstance(err, FileNotFoundError) and err.errno == errno.ENOENT
        assert fs.ls(base) == []

    @pytest.mark.parametrize("parents", [False, True])
    def test_mkdir_under_a_file(self, fs: Any, base: str, parents: bool) -> None:
        fs.write_bytes(f"{base}/f", b"data", write_type="MUST_CACHE")
        before = tree(fs, base)
        err = fails(
            errors.NotADirectory, f"{base}/f", fs.mkdir, f"{base}/f/sub/deeper", parents=parents
        )
        assert isinstance(err, NotADirectoryError)
        assert tree(fs, base) == before

    def test_mkdir_write_types(self, fs: Any, base: str) -> None:
        fs.mkdir(f"{base}/m", write_type="MUST_CACHE")
        fs.mkdir(f"{base}/t", write_type="THROUGH")
        fs.mkdir(f"{base}/d")  # the default persists directories synchronously
        assert fs.stat(f"{base}/m").persistence_state is PersistenceState.NOT_PERSISTED
        assert fs.stat(f"{base}/t").persistence_state is PersistenceState.PERSISTED
        assert fs.stat(f"{base}/d").persistence_state is PersistenceState.PERSISTED

    # ls -----------------------------------------------------------------------------------------
    def test_ls_sorted_children(self, fs: Any, base: str) -> None:
        for name in ["zeta", "alpha", "Mid", "beta"]:
            fs.write_bytes(f"{base}/d/{name}", name.encode(), write_type="MUST_CACHE")
        fs.mkdir(f"{base}/d/sub")
        infos = fs.ls(f"{base}/d")
        assert [i.name for i in infos] == sorted(["zeta", "alpha", "Mid", "beta", "sub"])
        assert [i.path for i in infos] == [f"{base}/d/{i.name}" for i in infos]
        assert all(isinstance(i, FileInfo) for i in infos)
        assert fs.ls(f"{base}/d/sub") == []

    def test_ls_recursive_full_paths(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/a/b/c.txt", b"c", write_type="MUST_CACHE")
        fs.write_bytes(f"{base}/a/d.txt", b"d", write_type="MUST_CACHE")
        fs.write_bytes(f"{base}/e.txt", b"e", write_type="MUST_CACHE")
        got = [(i.path, i.is_dir) for i in fs.ls(base, recursive=True)]
        assert got == [
            (f"{base}/a", True),
            (f"{base}/a/b", True),
            (f"{base}/a/b/c.txt", False),
            (f"{base}/a/d.txt", False),
            (f"{base}/e.txt", False),
        ]
        assert paths_of(fs.ls(f"{base}/a", recursive=True)) == [
            f"{base}/a/b",
            f"{base}/a/b/c.txt",
            f"{base}/a/d.txt",
        ]
        assert paths_of(fs.ls(base)) == [f"{base}/a", f"{base}/e.txt"]

    def test_ls_of_a_file(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/d/f", b"12345", write_type="MUST_CACHE")
        infos = fs.ls(f"{base}/d/f")
        assert len(infos) == 1 and infos[0].path == f"{base}/d/f" and infos[0].length == 5
        assert fs.ls(f"{base}/d/f", recursive=True) == infos
        assert infos == [fs.stat(f"{base}/d/f")]

    def test_ls_long_listing_fields_match_stat(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/must", b"m" * 10, write_type="MUST_CACHE")
        fs.write_bytes(f"{base}/thru", b"t" * (BLOCK + 1), write_type="THROUGH")
        fs.write_bytes(f"{base}/cthru", b"c" * 3, write_type="CACHE_THROUGH")
        fs.mkdir(f"{base}/dir")
        fs.set_attribute(f"{base}/cthru", pinned=True, ttl=60_000, ttl_action="FREE")
        listed = fs.ls(base)
        assert [i.name for i in listed] == ["cthru", "dir", "must", "thru"]
        for info in listed:
            assert info == fs.stat(info.path), info.path  # every field
        by_name = {i.name: i for i in listed}
        assert by_name["must"].persistence_state is PersistenceState.NOT_PERSISTED
        assert (by_name["must"].cached_percent, by_name["must"].length) == (100, 10)
        assert by_name["thru"].persistence_state is PersistenceState.PERSISTED
        assert (by_name["thru"].cached_percent, len(by_name["thru"].block_ids)) == (0, 2)
        cthru = by_name["cthru"]
        assert cthru.pinned and cthru.ttl == 60_000 and cthru.ttl_action is TtlAction.FREE
        assert by_name["dir"].is_dir and not by_name["dir"].mount_point

    def test_ls_missing(self, fs: Any, base: str) -> None:
        fails(errors.FileNotFound, f"{base}/missing", fs.ls, f"{base}/missing")
        fails(errors.FileNotFound, f"{base}/missing", fs.ls, f"{base}/missing", recursive=True)

    # stat ---------------------------------------------------------------------------------------
    @pytest.mark.parametrize("length", [0, 1, BLOCK, BLOCK + 1])
    def test_stat_fields_of_a_file(self, fs: Any, base: str, length: int) -> None:
        t0 = time.time()
        written = fs.write_bytes(f"{base}/dir/file.bin", b"z" * length, write_type="CACHE_THROUGH")
        st = fs.stat(f"{base}/dir/file.bin")
        assert written == st
        assert st.path == f"{base}/dir/file.bin" and st.name == "file.bin"
        assert isinstance(st.id, int) and st.id > 0
        assert st.is_dir is False and st.length == length
        assert isinstance(st.mtime, float) and t0 - 2 <= st.mtime <= time.time() + 2
        assert st.block_size == BLOCK
        assert len(st.block_ids) == -(-length // BLOCK) == len(set(st.block_ids))
        assert all(isinstance(b, int) for b in st.block_ids)
        assert st.persistence_state is PersistenceState.PERSISTED and st.persisted
        assert st.cached_percent == 100
        assert st.pinned is False and st.ttl is None and st.ttl_action is TtlAction.DELETE
        assert isinstance(st.generation, int) and st.generation >= 1
        assert st.mount_point is False
        assert isinstance(st.fingerprint, str) and st.fingerprint
        assert st.to_dict()["persistence_state"] == "PERSISTED"

    def test_stat_unpersisted_has_no_fingerprint(self, fs: Any, base: str) -> None:
        st = fs.write_bytes(f"{base}/m", b"m", write_type="MUST_CACHE")
        assert st.fingerprint is None and st.persistence_state is PersistenceState.NOT_PERSISTED
        assert fs.stat(f"{base}/m") == st

    def test_stat_directory_and_root(self, fs: Any, base: str) -> None:
        fs.mkdir(f"{base}/d")
        st = fs.stat(f"{base}/d")
        assert st.is_dir and st.name == "d" and st.path == f"{base}/d" and st.length == 0
        assert st.block_ids == [] and st.cached_percent in (0, 100)
        root = fs.stat("/")
        assert root.is_dir and root.path == "/" and root.name == "/" and root.mount_point
        assert fs.stat(f"{base}/d").id != root.id
        assert fs.stat(f"{base}/d/") == st  # one trailing slash is dropped

    def test_stat_ids_unique_and_stable_across_rename(self, fs: Any, base: str) -> None:
        a = fs.write_bytes(f"{base}/a", b"a", write_type="MUST_CACHE")
        b = fs.write_bytes(f"{base}/b", b"b", write_type="MUST_CACHE")
        assert a.id != b.id
        fs.rename(f"{base}/a", f"{base}/c")
        c = fs.stat(f"{base}/c")
        assert (c.id, c.generation, c.block_ids, c.name) == (a.id, a.generation, a.block_ids, "c")

    def test_stat_missing(self, fs: Any, base: str) -> None:
        fails(errors.FileNotFound, f"{base}/nope", fs.stat, f"{base}/nope")
        fails(errors.FileNotFound, f"{base}/nope", fs.stat, f"{base}/nope", sync_interval_ms=0)

    def test_unusual_names(self, fs: Any, base: str) -> None:
        """Names that need escaping in a URL, a query string or a shell are plain names."""
        for name in UNUSUAL_NAMES:
            p = f"{base}/n/{name}"
            info = fs.write_bytes(p, name.encode(), write_type="CACHE_THROUGH")
            assert (info.name, info.path) == (name, p)
            assert fs.read_bytes(p) == name.encode() and fs.exists(p)
            assert fs.stat(p).name == name
        assert [i.name for i in fs.ls(f"{base}/n")] == sorted(UNUSUAL_NAMES)
        fs.rename(f"{base}/n/a#b", f"{base}/n/a?b=1&c")
        assert fs.read_bytes(f"{base}/n/a?b=1&c") == b"a#b"
        fs.mkdir(f"{base}/dir with spaces/日本", parents=True)
        assert fs.stat(f"{base}/dir with spaces/日本").is_dir
        fs.delete(f"{base}/n", recursive=True)
        assert not fs.exists(f"{base}/n")

    def test_name_the_ufs_cannot_store(self, fs: Any, base: str) -> None:
        """A backslash is refused before anything changes, naming the namespace path."""
        with pytest.raises(errors.InvalidPath) as err:
            fs.write_bytes(f"{base}/back\\slash", b"x", write_type="CACHE_THROUGH")
        assert type(err.value) is errors.InvalidPath
        assert err.value.path == f"{base}/back\\slash"
        assert not fs.exists(f"{base}/back\\slash")

    # exists -------------------------------------------------------------------------------------
    def test_exists(self, fs: Any, base: str) -> None:
        assert fs.exists("/") and fs.exists(base)
        assert not fs.exists(f"{base}/a")
        fs.write_bytes(f"{base}/a/b", b"b", write_type="MUST_CACHE")
        assert fs.exists(f"{base}/a") is True and fs.exists(f"{base}/a/b") is True
        assert fs.exists(f"{base}/a/c") is False
        assert fs.exists(f"{base}/a/b/c") is False  # a parent is a file: simply absent
        assert fs.exists(f"{base}/a/b", sync_interval_ms=0) is True
        fails(errors.InvalidPath, f"{base}/a/../b", fs.exists, f"{base}/a/../b")

    # touch --------------------------------------------------------------------------------------
    def test_touch(self, fs: Any, base: str) -> None:
        info = fs.touch(f"{base}/t/empty")  # creates the parent
        assert isinstance(info, FileInfo) and info.length == 0 and not info.is_dir
        assert info.block_ids == [] and fs.read_bytes(f"{base}/t/empty") == b""
        assert fs.stat(f"{base}/t").is_dir
        full = fs.write_bytes(f"{base}/t/full", b"keep me", write_type="MUST_CACHE")
        again = fs.touch(f"{base}/t/full")
        assert (again.id, again.length, again.generation) == (full.id, 7, full.generation)
        assert fs.read_bytes(f"{base}/t/full") == b"keep me"
        assert fs.touch(f"{base}/t/empty").id == info.id
        fails(errors.IsADirectory, f"{base}/t", fs.touch, f"{base}/t")

    def test_touch_write_type(self, fs: Any, base: str) -> None:
        must = fs.touch(f"{base}/m", write_type="MUST_CACHE")
        assert must.persistence_state is PersistenceState.NOT_PERSISTED
        through = fs.touch(f"{base}/t", write_type="CACHE_THROUGH")
        assert through.persistence_state is PersistenceState.PERSISTED

    # rename -------------------------------------------------------------------------------------
    @pytest.mark.parametrize("write_type", ["MUST_CACHE", "CACHE_THROUGH", "ASYNC_THROUGH"])
    def test_rename_file(self, fs: Any, base: str, write_type: str) -> None:
        fid = fs.write_bytes(f"{base}/a/f", b"content", write_type=write_type).id
        fs.mkdir(f"{base}/b")
        assert fs.rename(f"{base}/a/f", f"{base}/b/g") is None
        assert not fs.exists(f"{base}/a/f") and fs.exists(f"{base}/a")
        assert fs.read_bytes(f"{base}/b/g") == b"content"
        assert fs.stat(f"{base}/b/g").id == fid
        fails(errors.FileNotFound, f"{base}/a/f", fs.read_bytes, f"{base}/a/f")
        fs.wait_persisted(base, timeout=30)
        state = fs.stat(f"{base}/b/g").persistence_state
        expected = "NOT_PERSISTED" if write_type == "MUST_CACHE" else "PERSISTED"
        assert state is PersistenceState(expected)

    def test_rename_directory(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/src/x/1", b"one", write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/src/2", b"two", write_type="MUST_CACHE")
        fs.mv(f"{base}/src", f"{base}/dst")  # the alias
        assert not fs.exists(f"{base}/src") and not fs.exists(f"{base}/src/x/1")
        assert fs.read_bytes(f"{base}/dst/x/1") == b"one"
        assert fs.read_bytes(f"{base}/dst/2") == b"two"
        assert paths_of(fs.ls(base, recursive=True)) == [
            f"{base}/dst",
            f"{base}/dst/2",
            f"{base}/dst/x",
            f"{base}/dst/x/1",
        ]

    def test_rename_onto_existing(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/a", b"a", write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/b", b"b", write_type="CACHE_THROUGH")
        fs.mkdir(f"{base}/d")
        before = tree(fs, base)
        fails(errors.FileExists, f"{base}/b", fs.rename, f"{base}/a", f"{base}/b")
        fails(errors.FileExists, f"{base}/d", fs.rename, f"{base}/a", f"{base}/d")
        fails(errors.FileExists, f"{base}/a", fs.rename, f"{base}/d", f"{base}/a")
        assert tree(fs, base) == before
        assert fs.read_bytes(f"{base}/a") == b"a" and fs.read_bytes(f"{base}/b") == b"b"

    def test_rename_into_own_subtree(self, fs: Any, base: str) -> None:
        fs.mkdir(f"{base}/a/b", parents=True)
        before = tree(fs, base)
        fails(errors.InvalidArgument, f"{base}/a", fs.rename, f"{base}/a", f"{base}/a/b/c")
        fails(errors.InvalidArgument, f"{base}/a", fs.rename, f"{base}/a", f"{base}/a/c")
        assert tree(fs, base) == before

    def test_rename_root_refused(self, fs: Any, base: str) -> None:
        fs.mkdir(f"{base}/d")
        before = tree(fs, base)
        fails(errors.InvalidArgument, "/", fs.rename, "/", f"{base}/x")
        fails(errors.InvalidArgument, f"{base}/d", fs.rename, f"{base}/d", "/")
        assert tree(fs, base) == before and fs.exists(base)

    def test_rename_to_itself_is_harmless(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/a", b"a", write_type="MUST_CACHE")
        assert fs.rename(f"{base}/a", f"{base}/a") is None
        assert fs.read_bytes(f"{base}/a") == b"a"

    def test_rename_missing_source_or_parent(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/a", b"a", write_type="MUST_CACHE")
        before = tree(fs, base)
        fails(errors.FileNotFound, f"{base}/nope", fs.rename, f"{base}/nope", f"{base}/other")
        fails(errors.FileNotFound, f"{base}/no/such", fs.rename, f"{base}/a", f"{base}/no/such/b")
        assert tree(fs, base) == before

    def test_rename_under_a_file(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/a", b"a", write_type="MUST_CACHE")
        fs.write_bytes(f"{base}/f", b"f", write_type="MUST_CACHE")
        fails(errors.NotADirectory, f"{base}/f", fs.rename, f"{base}/a", f"{base}/f/a")
        assert fs.read_bytes(f"{base}/a") == b"a"

    # delete -------------------------------------------------------------------------------------
    def test_delete_file_and_empty_dir(self, fs: Any, base: str) -> None:
        fs.mkdir(f"{base}/empty")
        fs.write_bytes(f"{base}/f", b"f", write_type="CACHE_THROUGH")
        assert fs.delete(f"{base}/empty") is None
        assert fs.rm(f"{base}/f") is None  # the alias
        assert fs.ls(base) == []

    def test_delete_non_empty_directory(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/d/f", b"f", write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/d/e/g", b"g", write_type="MUST_CACHE")
        before = tree(fs, base)
        err = fails(errors.DirectoryNotEmpty, f"{base}/d", fs.delete, f"{base}/d")
        assert isinstance(err, OSError) and err.errno == errno.ENOTEMPTY
        assert tree(fs, base) == before
        assert fs.read_bytes(f"{base}/d/e/g") == b"g"

    def test_delete_recursive(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/d/a/1", b"1", write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/d/a/2", blob(BLOCK + 1), write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/d/b", b"b", write_type="ASYNC_THROUGH")
        fs.write_bytes(f"{base}/d/c", b"c", write_type="MUST_CACHE")
        fs.write_bytes(f"{base}/keep", b"k", write_type="CACHE_THROUGH")
        fs.delete(f"{base}/d", recursive=True)  # never blocked by the pending persist of /d/b
        assert not fs.exists(f"{base}/d") and not fs.exists(f"{base}/d/a/1")
        assert paths_of(fs.ls(base, recursive=True)) == [f"{base}/keep"]
        fs.write_bytes(f"{base}/d/a/1", b"new", write_type="MUST_CACHE")  # the name is free
        assert fs.read_bytes(f"{base}/d/a/1") == b"new"
        fs.wait_persisted(base, timeout=30)

    def test_delete_missing(self, fs: Any, base: str) -> None:
        fails(errors.FileNotFound, f"{base}/nope", fs.delete, f"{base}/nope")
        fails(errors.FileNotFound, f"{base}/nope", fs.delete, f"{base}/nope", recursive=True)

    def test_delete_root_refused(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/f", b"f", write_type="MUST_CACHE")
        fails(errors.InvalidArgument, "/", fs.delete, "/", recursive=True)
        fails(errors.InvalidArgument, "/", fs.delete, "/")
        assert fs.read_bytes(f"{base}/f") == b"f"

    # du -----------------------------------------------------------------------------------------
    def test_du(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/d/a", b"a" * 10, write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/d/e/b", b"b" * 20, write_type="THROUGH")
        fs.write_bytes(f"{base}/d/e/c", b"c" * 30, write_type="MUST_CACHE")
        fs.write_bytes(f"{base}/other", b"o" * 1000, write_type="MUST_CACHE")
        du = fs.du(f"{base}/d")
        assert du == {"path": f"{base}/d", "length": 60, "cached_bytes": 40, "files": 3, "dirs": 1}
        assert fs.du(f"{base}/d/a") == {
            "path": f"{base}/d/a",
            "length": 10,
            "cached_bytes": 10,
            "files": 1,
            "dirs": 0,
        }
        total = fs.du(base)
        assert (total["length"], total["files"], total["dirs"]) == (1060, 4, 2)
        fails(errors.FileNotFound, f"{base}/nope", fs.du, f"{base}/nope")

    # attributes ---------------------------------------------------------------------------------
    def test_set_attribute_pinned(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/f", b"f", write_type="CACHE_THROUGH")
        info = fs.set_attribute(f"{base}/f", pinned=True)
        assert isinstance(info, FileInfo) and info.pinned is True
        assert fs.stat(f"{base}/f").pinned is True and fs.ls(base)[0].pinned is True
        assert fs.set_attribute(f"{base}/f", pinned=False).pinned is False
        assert fs.stat(f"{base}/f").pinned is False
        assert fs.set_attribute(f"{base}/f") == fs.stat(f"{base}/f")  # nothing to change

    def test_set_attribute_pinned_directory_applies_to_subtree(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/d/a", b"a", write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/d/e/b", b"b", write_type="CACHE_THROUGH")
        assert fs.set_attribute(f"{base}/d", pinned=True).pinned
        assert all(i.pinned for i in fs.ls(f"{base}/d", recursive=True))

    @pytest.mark.parametrize("action", ["FREE", "DELETE", TtlAction.FREE, "delete"])
    def test_set_attribute_ttl(self, fs: Any, base: str, action: str | TtlAction) -> None:
        fs.write_bytes(f"{base}/f", b"f", write_type="CACHE_THROUGH")
        info = fs.set_attribute(f"{base}/f", ttl=3_600_000, ttl_action=action)
        expected = TtlAction.parse(action)
        assert info.ttl == 3_600_000 and info.ttl_action is expected
        st = fs.stat(f"{base}/f")
        assert st.ttl == 3_600_000 and st.ttl_action is expected
        assert fs.set_attribute(f"{base}/f", ttl=-1).ttl is None
        assert fs.stat(f"{base}/f").ttl is None

    def test_ttl_expiry_deletes_or_frees(self, fs: Any, base: str) -> None:
        """The master's TTL check (every second by default) acts on expired entries."""
        fs.write_bytes(f"{base}/gone", b"g", write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/freed", b"f" * 100, write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/kept", b"k", write_type="CACHE_THROUGH")
        fs.set_attribute(f"{base}/gone", ttl=0, ttl_action="DELETE")
        fs.set_attribute(f"{base}/freed", ttl=0, ttl_action="FREE")
        fs.set_attribute(f"{base}/kept", ttl=3_600_000, ttl_action="DELETE")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            freed = fs.stat(f"{base}/freed")
            if not fs.exists(f"{base}/gone") and freed.ttl is None:
                break
            time.sleep(0.1)
        assert not fs.exists(f"{base}/gone")
        freed = fs.stat(f"{base}/freed")
        assert freed.ttl is None and freed.cached_percent == 0  # the action is done once
        assert fs.read_bytes(f"{base}/freed") == b"f" * 100
        assert fs.read_bytes(f"{base}/kept") == b"k"

    # lifecycle ----------------------------------------------------------------------------------
    def test_closed_file_system_refuses_calls(self, fs: Any, base: str) -> None:
        with fs as same:  # a context manager that closes it
            assert same is fs
            assert fs.exists(base)
        calls: list[Callable[[], Any]] = [
            lambda: fs.stat(base),
            lambda: fs.ls(base),
            lambda: fs.write_bytes(f"{base}/late", b"x"),
            lambda: fs.mkdir(f"{base}/late"),
        ]
        for call in calls:
            with pytest.raises(errors.Unavailable, match="closed") as err:
                call()
            assert type(err.value) is errors.Unavailable  # .path: the home, or the master URL
        fs.close()  # twice is fine
