"""Conformance tests every :class:`~siltfs.ufs.abc.UnderFileSystem` must pass.

Subclass :class:`UfsTests` in a ``test_*.py`` module (class name starting with ``Test``)
and override the ``make_ufs`` fixture: it returns a factory opening a UFS on an empty
root private to the test; the factory closes what it opened at teardown::

    class TestMyUfs(UfsTests):
        @pytest.fixture
        def make_ufs(self, tmp_path):
            opened = []
            def factory():
                opened.append(MyUfs(f"my://{tmp_path}"))
                return opened[-1]
            yield factory
            for ufs in opened:
                ufs.close()

Needs pytest (``pip install 'siltfs[test]'``).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator

import pytest

from siltfs.errors import DirectoryNotEmpty, FileNotFound, InvalidPath
from siltfs.ufs.abc import UfsStatus, UnderFileSystem

__all__ = ["ESCAPES", "UfsTests", "names", "read_all"]

UfsFactory = Callable[[], UnderFileSystem]


def read_all(ufs: UnderFileSystem, rel: str) -> bytes:
    status = ufs.status(rel)
    assert status is not None and not status.is_dir, f"{rel} is not a file"
    return ufs.read_range(rel, 0, status.size)


def names(entries: list[UfsStatus]) -> dict[str, bool]:
    return {e.name: e.is_dir for e in entries}


ESCAPES = [
    "..",
    "../x",
    "a/..",
    "a/../../x",
    ".",
    "a/./b",
    "a%2Fb",
    "a%2f..%2fb",
    "%2e%2e",
    "a\\b",
    "..\\x",
    "/abs",
    "a//b",
    "a/",
    "a\x00b",
    "a%252fb",  # decodes to "a%2fb", which decodes to "a/b"
    "a%25252Fb",
    "%252e%252e",
    ".%2e",  # decodes to ".."
    "a%255cb",
    "a%2500b",
]


class UfsTests:
    @pytest.fixture
    def make_ufs(self) -> UfsFactory:
        raise NotImplementedError("subclasses provide the make_ufs fixture")

    @pytest.fixture
    def ufs(self, make_ufs: UfsFactory) -> UnderFileSystem:
        ufs = make_ufs()
        ufs.mkdirs("")
        return ufs

    def test_root_is_a_directory(self, ufs: UnderFileSystem) -> None:
        root = ufs.status("")
        assert root is not None and root.is_dir
        assert root.name == ""
        assert ufs.list("") == []

    def test_status_of_missing_is_none(self, ufs: UnderFileSystem) -> None:
        assert ufs.status("missing") is None
        assert ufs.status("missing/deeper") is None

    def test_status_under_a_file_is_none(self, ufs: UnderFileSystem) -> None:
        ufs.write("f", [b"x"])
        assert ufs.status("f/below") is None  # a file has no children, not an error

    def test_mkdirs_creates_parents_and_is_idempotent(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("a/b/c")
        ufs.mkdirs("a/b/c")
        ufs.mkdirs("a/b")
        for rel in ("a", "a/b", "a/b/c"):
            status = ufs.status(rel)
            assert status is not None and status.is_dir
            assert status.name == rel.rsplit("/", 1)[-1]
        assert names(ufs.list("a")) == {"b": True}
        assert ufs.list("a/b/c") == []

    def test_write_chunks_and_read_range(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("d")
        chunks = [b"hello", b"", b" ", bytes(range(256)) * 40, b"end"]
        data = b"".join(chunks)
        ufs.write("d/f.bin", iter(chunks))
        status = ufs.status("d/f.bin")
        assert status is not None
        assert (status.name, status.is_dir, status.size) == ("f.bin", False, len(data))
        assert status.fingerprint
        assert ufs.read_range("d/f.bin", 0, len(data)) == data
        assert ufs.read_range("d/f.bin", 2, 7) == data[2:7]
        assert ufs.read_range("d/f.bin", 5000, 9000) == data[5000:9000]
        assert ufs.read_range("d/f.bin", len(data) - 3, len(data) + 100) == b"end"
        assert ufs.read_range("d/f.bin", 3, 3) == b""

    def test_open_write_is_complete_on_close(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("d")
        with ufs.open_write("d/f") as f:
            f.write(b"first ")
            f.write(b"second")
        assert read_all(ufs, "d/f") == b"first second"
        assert names(ufs.list("d")) == {"f": False}

    def test_write_empty_file(self, ufs: UnderFileSystem) -> None:
        ufs.write("empty", [])
        status = ufs.status("empty")
        assert status is not None and not status.is_dir and status.size == 0
        assert ufs.read_range("empty", 0, 10) == b""

    def test_overwrite_replaces_content(self, ufs: UnderFileSystem) -> None:
        ufs.write("f", [b"a much longer first version"])
        ufs.write("f", [b"short"])
        assert read_all(ufs, "f") == b"short"

    def test_read_missing_is_file_not_found(self, ufs: UnderFileSystem) -> None:
        with pytest.raises(FileNotFound):
            ufs.read_range("missing", 0, 1)

    def test_list(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("d/sub/deeper")
        ufs.write("d/one", [b"1"])
        ufs.write("d/two words", [b"22"])
        ufs.write("d/sub/inner", [b"333"])
        entries = ufs.list("d")
        assert names(entries) == {"one": False, "two words": False, "sub": True}
        sizes = {e.name: e.size for e in entries if not e.is_dir}
        assert sizes == {"one": 1, "two words": 2}
        assert names(ufs.list("")) == {"d": True}
        assert names(ufs.list("d/sub")) == {"deeper": True, "inner": False}

    def test_list_missing_is_file_not_found(self, ufs: UnderFileSystem) -> None:
        with pytest.raises(FileNotFound) as info:
            ufs.list("missing")
        assert isinstance(info.value, FileNotFoundError)
        with pytest.raises(FileNotFound):
            ufs.list("missing/deeper")

    def test_move_file(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("a")
        ufs.mkdirs("b")
        ufs.write("a/f", [b"content"])
        ufs.move("a/f", "b/g")
        assert ufs.status("a/f") is None
        assert read_all(ufs, "b/g") == b"content"
        assert ufs.list("a") == []

    def test_move_file_replaces_existing_file(self, ufs: UnderFileSystem) -> None:
        ufs.write("new", [b"new bytes"])
        ufs.write("old", [b"old bytes that are longer"])
        ufs.move("new", "old")
        assert ufs.status("new") is None
        assert read_all(ufs, "old") == b"new bytes"
        assert names(ufs.list("")) == {"old": False}

    def test_move_directory_tree(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("src/x/y")
        ufs.mkdirs("dst")
        ufs.write("src/top", [b"t"])
        ufs.write("src/x/mid", [b"m"])
        ufs.write("src/x/y/leaf", [b"l"])
        ufs.move("src", "dst/moved")
        assert ufs.status("src") is None
        assert names(ufs.list("dst/moved")) == {"top": False, "x": True}
        assert names(ufs.list("dst/moved/x")) == {"mid": False, "y": True}
        assert read_all(ufs, "dst/moved/x/y/leaf") == b"l"
        assert read_all(ufs, "dst/moved/top") == b"t"
        assert names(ufs.list("")) == {"dst": True}

    def test_move_missing_is_file_not_found(self, ufs: UnderFileSystem) -> None:
        with pytest.raises(FileNotFound):
            ufs.move("missing", "elsewhere")
        assert ufs.status("elsewhere") is None

    def test_delete_file(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("d")
        ufs.write("d/f", [b"x"])
        ufs.write("d/keep", [b"k"])
        ufs.delete("d/f")
        assert ufs.status("d/f") is None
        assert names(ufs.list("d")) == {"keep": False}

    def test_delete_directory_recursive(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("d/a/b")
        ufs.write("d/a/b/f", [b"x"])
        ufs.write("d/g", [b"y"])
        ufs.write("sibling", [b"s"])
        ufs.delete("d", recursive=True)
        assert ufs.status("d") is None
        assert ufs.status("d/a/b/f") is None
        assert names(ufs.list("")) == {"sibling": False}

    def test_delete_empty_directory(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("e")
        ufs.delete("e")
        assert ufs.status("e") is None

    def test_delete_non_empty_directory_without_recursive_fails(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("d")
        ufs.write("d/f", [b"x"])
        with pytest.raises(DirectoryNotEmpty) as info:
            ufs.delete("d")
        assert info.value.errno == errno.ENOTEMPTY
        assert read_all(ufs, "d/f") == b"x"

    def test_delete_missing_is_not_an_error(self, ufs: UnderFileSystem) -> None:
        ufs.delete("missing")
        ufs.delete("missing", recursive=True)
        ufs.delete("missing/deeper", recursive=True)

    def test_fingerprint_changes_when_size_changes(self, ufs: UnderFileSystem) -> None:
        ufs.write("f", [b"1234"])
        first = ufs.status("f")
        assert first is not None
        assert ufs.status("f") == first  # stable while nothing changes
        ufs.write("f", [b"123456789"])
        second = ufs.status("f")
        assert second is not None
        assert second.size == 9
        assert second.fingerprint != first.fingerprint

    def test_directory_fingerprint_is_stable(self, ufs: UnderFileSystem) -> None:
        ufs.mkdirs("d")
        before = ufs.status("d")
        assert before is not None
        assert before.size == 0

    @pytest.mark.parametrize("rel", ESCAPES)
    def test_escapes_are_refused(self, ufs: UnderFileSystem, rel: str) -> None:
        ufs.write("victim", [b"v"])
        operations: list[Callable[[], object]] = [
            lambda: ufs.status(rel),
            lambda: ufs.list(rel),
            lambda: ufs.mkdirs(rel),
            lambda: ufs.write(rel, [b"x"]),
            lambda: ufs.open_write(rel),
            lambda: ufs.read_range(rel, 0, 1),
            lambda: ufs.move("victim", rel),
            lambda: ufs.move(rel, "victim"),
            lambda: ufs.delete(rel, recursive=True),
        ]
        for op in operations:
            with pytest.raises(InvalidPath):
                op()
        assert read_all(ufs, "victim") == b"v"
        assert names(ufs.list("")) == {"victim": False}

    def test_write_failure_leaves_no_partial_file(self, ufs: UnderFileSystem) -> None:
        ufs.write("f", [b"complete old content"])

        def failing() -> Iterator[bytes]:
            yield b"partial"
            raise RuntimeError("source broke")

        with pytest.raises(Exception):  # noqa: B017 - any error, but not a silent success
            ufs.write("f", failing())
        # write() is not atomic (siltfs gets atomicity from staging + move), but a failed
        # write leaves nothing behind: no truncated object that looks complete
        assert ufs.status("f") is None
