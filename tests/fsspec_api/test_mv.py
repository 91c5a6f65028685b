"""Moves through fsspec: rename semantics with fsspec's destination rules.

fsspec 2026.9 ships no ``AbstractMvTests`` class (its ``tests/abstract/mv.py`` holds two
LocalFileSystem-only tests), so these cover the same scenarios as its copy suite for
``mv``: into an existing directory, into a new directory named with a trailing slash,
onto an existing file, lists and globs, and directories.  Every move is a siltfs rename,
so after ``wait_persisted`` the UFS holds exactly the moved tree (no ghosts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from siltfs.errors import InvalidArgument
from siltfs.fsspec import SiltFileSystem

WRITE_TYPES = ["ASYNC_THROUGH", "CACHE_THROUGH", "THROUGH", "MUST_CACHE"]


@pytest.fixture(params=WRITE_TYPES)
def fs(request: pytest.FixtureRequest, silt_home: Path) -> Iterator[SiltFileSystem]:
    fs = SiltFileSystem(home=str(silt_home), write_type=request.param)
    try:
        yield fs
    finally:
        fs.close()


@pytest.fixture
def tree(fs: SiltFileSystem) -> str:
    """/src/{f1,f2,sub/{g1,nested/n1}} with distinct contents."""
    fs.pipe({"/src/f1": b"1", "/src/f2": b"2", "/src/sub/g1": b"g", "/src/sub/nested/n1": b"n"})
    return "/src"


def _consistent(fs: SiltFileSystem) -> None:
    if fs.write_type is not None and fs.write_type.value == "MUST_CACHE":
        return
    fs.client.wait_persisted("/", timeout=30)
    report = fs.client.check_consistency("/")
    assert report.consistent, report.to_dict()


def test_rename_file(fs: SiltFileSystem, tree: str) -> None:
    fs.mv("/src/f1", "/src/renamed")
    assert not fs.exists("/src/f1")
    assert fs.cat("/src/renamed") == b"1"
    _consistent(fs)


def test_file_into_existing_directory(fs: SiltFileSystem, tree: str) -> None:
    fs.mkdir("/dst")
    fs.mv("/src/f1", "/dst")
    assert fs.cat("/dst/f1") == b"1"
    fs.mv("/src/f2", "/dst/")
    assert fs.cat("/dst/f2") == b"2"
    assert fs.ls("/dst", detail=False) == ["/dst/f1", "/dst/f2"]
    _consistent(fs)


def test_file_into_new_directory_with_trailing_slash(fs: SiltFileSystem, tree: str) -> None:
    fs.mv("silt:///src/sub/g1", "silt:///new/dir/")
    assert fs.isdir("/new/dir")
    assert fs.cat("/new/dir/g1") == b"g"
    _consistent(fs)


def test_file_to_file_in_new_directories(fs: SiltFileSystem, tree: str) -> None:
    fs.mv("/src/f1", "/a/b/c/file")
    assert fs.cat("/a/b/c/file") == b"1"
    _consistent(fs)


def test_overwrite_existing_file(fs: SiltFileSystem, tree: str) -> None:
    fs.mv("/src/f1", "/src/f2")
    assert not fs.exists("/src/f1")
    assert fs.cat("/src/f2") == b"1"
    fs.pipe("/dst/f2", b"old")
    fs.mv("/src/f2", "/dst")  # into the directory, replacing the file of that name
    assert fs.cat("/dst/f2") == b"1"
    _consistent(fs)


@pytest.mark.parametrize("recursive", [False, True])
def test_rename_directory(fs: SiltFileSystem, tree: str, recursive: bool) -> None:
    fs.mv("/src", "/moved", recursive=recursive)
    assert not fs.exists("/src")
    assert fs.find("/moved") == ["/moved/f1", "/moved/f2", "/moved/sub/g1", "/moved/sub/nested/n1"]
    _consistent(fs)


def test_directory_into_existing_directory(fs: SiltFileSystem, tree: str) -> None:
    fs.mkdir("/dst")
    fs.mv("/src/sub", "/dst", recursive=True)
    assert fs.find("/dst") == ["/dst/sub/g1", "/dst/sub/nested/n1"]
    _consistent(fs)


def test_directory_contents_merge_into_existing_directory(fs: SiltFileSystem, tree: str) -> None:
    fs.pipe({"/dst/keep": b"k", "/dst/f1": b"old", "/dst/sub/other": b"o"})
    fs.mv("/src/", "/dst", recursive=True)  # trailing slash: the contents, as in cp
    assert not fs.exists("/src")
    assert fs.find("/dst") == [
        "/dst/f1",
        "/dst/f2",
        "/dst/keep",
        "/dst/sub/g1",
        "/dst/sub/nested/n1",
        "/dst/sub/other",
    ]
    assert fs.cat("/dst/f1") == b"1"
    _consistent(fs)


def test_list_of_files(fs: SiltFileSystem, tree: str) -> None:
    fs.mv(["/src/f1", "/src/sub/g1"], "/dst/")
    assert fs.find("/dst") == ["/dst/f1", "/dst/g1"]
    fs.mv(["/dst/f1", "/dst/g1"], ["/x/one", "/y/two"])
    assert fs.cat("/x/one") == b"1" and fs.cat("/y/two") == b"g"
    _consistent(fs)


def test_glob(fs: SiltFileSystem, tree: str) -> None:
    fs.mv("/src/f*", "/dst/")
    assert fs.find("/dst") == ["/dst/f1", "/dst/f2"]
    assert fs.find("/src") == ["/src/sub/g1", "/src/sub/nested/n1"]
    _consistent(fs)


def test_same_path_is_a_no_op(fs: SiltFileSystem, tree: str) -> None:
    fs.mv("/src/f1", "/src/f1")
    fs.mv("silt:///src", "/src")
    assert fs.cat("/src/f1") == b"1"


def test_errors(fs: SiltFileSystem, tree: str) -> None:
    with pytest.raises(FileNotFoundError):
        fs.mv("/missing", "/dst")
    with pytest.raises(InvalidArgument):
        fs.mv("/src", "/src/sub/inside")
    fs.pipe("/file", b"f")
    with pytest.raises(NotADirectoryError):
        fs.mv("/src/", "/file")  # a directory's contents cannot merge into a file
    assert fs.find("/src") == ["/src/f1", "/src/f2", "/src/sub/g1", "/src/sub/nested/n1"]


def test_maxdepth_is_refused(fs: SiltFileSystem, tree: str) -> None:
    # fsspec's default (copy to maxdepth, then rm the whole source) would lose
    # /src/sub/nested/n1 and turn /dst into a file; a rename has no depth
    with pytest.raises(InvalidArgument):
        fs.mv("/src/sub", "/dst", recursive=True, maxdepth=1)
    assert fs.find("/src/sub") == ["/src/sub/g1", "/src/sub/nested/n1"]


def test_aliases(fs: SiltFileSystem, tree: str) -> None:
    fs.rename("/src/f1", "/r1")
    fs.move("/src/f2", "/r2")
    assert fs.cat("/r1") + fs.cat("/r2") == b"12"
