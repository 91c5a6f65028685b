from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from siltfs.errors import InvalidPath, PermissionDenied, SiltError, UfsError
from siltfs.testing.ufs import UfsFactory, UfsTests, names, read_all
from siltfs.ufs.abc import UnderFileSystem
from siltfs.ufs.fsspec_ufs import FsspecUfs
from siltfs.ufs.registry import open_ufs


class _FsspecUfsTests(UfsTests):
    """Checks of FsspecUfs beyond the shared contract, for every backing store."""

    def test_write_failure_is_a_silt_error(self, ufs: UnderFileSystem) -> None:
        def failing() -> Iterator[bytes]:
            yield b"partial"
            raise RuntimeError("source broke")

        with pytest.raises(SiltError):
            ufs.write("f", failing())


class TestLocalUfs(_FsspecUfsTests):
    @pytest.fixture
    def root(self, tmp_path: Path) -> Path:
        root = tmp_path / "ufs-root"
        root.mkdir()
        return root

    @pytest.fixture
    def make_ufs(self, root: Path) -> Iterator[UfsFactory]:
        opened: list[UnderFileSystem] = []

        def factory() -> UnderFileSystem:
            ufs = FsspecUfs(root.as_uri())
            opened.append(ufs)
            return ufs

        yield factory
        for ufs in opened:
            ufs.close()

    @pytest.fixture
    def outside(self, tmp_path: Path) -> Path:
        out = tmp_path / "outside"
        out.mkdir()
        (out / "secret").write_bytes(b"secret")
        return out

    def test_files_land_in_the_root_directory(self, ufs: UnderFileSystem, root: Path) -> None:
        ufs.mkdirs("a/b")
        ufs.write("a/b/f", [b"abc"])
        assert (root / "a" / "b" / "f").read_bytes() == b"abc"
        (root / "made-outside").write_bytes(b"xy")
        assert read_all(ufs, "made-outside") == b"xy"

    def test_symlink_to_outside_is_invisible(
        self, ufs: UnderFileSystem, root: Path, outside: Path
    ) -> None:
        (root / "dirlink").symlink_to(outside, target_is_directory=True)
        (root / "filelink").symlink_to(outside / "secret")
        (root / "real").write_bytes(b"r")
        assert names(ufs.list("")) == {"real": False}
        for rel in ("dirlink", "filelink", "dirlink/secret"):
            try:
                assert ufs.status(rel) is None
            except PermissionDenied:
                pass

    def test_symlink_to_outside_refuses_io(
        self, ufs: UnderFileSystem, root: Path, outside: Path
    ) -> None:
        (root / "dirlink").symlink_to(outside, target_is_directory=True)
        (root / "filelink").symlink_to(outside / "secret")
        ufs.write("mine", [b"m"])
        for op in (
            lambda: ufs.read_range("filelink", 0, 6),
            lambda: ufs.read_range("dirlink/secret", 0, 6),
            lambda: ufs.list("dirlink"),
            lambda: ufs.write("dirlink/new", [b"x"]),
            lambda: ufs.write("filelink", [b"overwritten"]),
            lambda: ufs.mkdirs("dirlink/sub"),
            lambda: ufs.move("mine", "dirlink/stolen"),
            lambda: ufs.move("dirlink/secret", "taken"),
            lambda: ufs.delete("dirlink/secret"),
        ):
            with pytest.raises(PermissionDenied):
                op()
        assert sorted(os.listdir(outside)) == ["secret"]
        assert (outside / "secret").read_bytes() == b"secret"
        assert read_all(ufs, "mine") == b"m"
        assert ufs.status("taken") is None

    def test_symlink_inside_root_is_followed(self, ufs: UnderFileSystem, root: Path) -> None:
        ufs.mkdirs("real/dir")
        ufs.write("real/dir/f", [b"inside"])
        (root / "alias").symlink_to(root / "real" / "dir", target_is_directory=True)
        assert read_all(ufs, "alias/f") == b"inside"
        assert names(ufs.list("alias")) == {"f": False}
        assert "alias" in names(ufs.list(""))

    def test_list_and_status_agree_on_symlinks(self, ufs: UnderFileSystem, root: Path) -> None:
        ufs.mkdirs("real/dir")
        (root / "alias").symlink_to(root / "real" / "dir", target_is_directory=True)
        alias = ufs.status("alias")
        assert alias is not None and alias.is_dir
        assert names(ufs.list("")) == {"real": True, "alias": True}

    def test_root_given_through_a_symlink(self, tmp_path: Path, root: Path) -> None:
        link = tmp_path / "root-link"
        link.symlink_to(root, target_is_directory=True)
        ufs = FsspecUfs(link.as_uri())
        ufs.write("f", [b"via link"])
        assert (root / "f").read_bytes() == b"via link"
        assert read_all(ufs, "f") == b"via link"

    def test_open_ufs_takes_a_bare_path(self, root: Path) -> None:
        ufs = open_ufs(str(root))
        ufs.write("bare", [b"1"])
        assert (root / "bare").read_bytes() == b"1"
        assert ufs.uri == root.as_uri() or ufs.uri == "file://" + str(root)

    def test_mtime_is_reported(self, ufs: UnderFileSystem) -> None:
        ufs.write("f", [b"x"])
        status = ufs.status("f")
        assert status is not None and status.mtime is not None and status.mtime > 0


class TestMemoryUfs(_FsspecUfsTests):
    @pytest.fixture
    def make_ufs(self, memory_uri: str) -> Iterator[UfsFactory]:
        opened: list[UnderFileSystem] = []

        def factory() -> UnderFileSystem:
            ufs = FsspecUfs(memory_uri)
            opened.append(ufs)
            return ufs

        yield factory
        for ufs in opened:
            ufs.close()

    def test_roots_are_isolated(self, ufs: UnderFileSystem, memory_uri: str) -> None:
        other = FsspecUfs(memory_uri + "-other")
        try:
            other.mkdirs("")
            ufs.write("f", [b"mine"])
            assert other.list("") == []
            assert other.status("f") is None
        finally:
            other.delete("", recursive=True)

    def test_same_uri_sees_same_data(self, make_ufs: UfsFactory) -> None:
        first, second = make_ufs(), make_ufs()
        first.write("shared", [b"s"])
        assert read_all(second, "shared") == b"s"


def test_open_ufs_memory(memory_uri: str) -> None:
    ufs = open_ufs(memory_uri)
    assert isinstance(ufs, FsspecUfs)
    ufs.write("x", [b"1"])
    assert read_all(ufs, "x") == b"1"


def test_unknown_protocol_is_ufs_error() -> None:
    with pytest.raises(UfsError):
        open_ufs("nosuchproto-silt://bucket/x")


# length limits -------------------------------------------------------------------
def test_local_limits_are_the_file_systems(tmp_path: Path) -> None:
    ufs = FsspecUfs("file://" + str(tmp_path))
    path_max = os.pathconf(tmp_path, "PC_PATH_MAX")
    assert ufs.limits.name_bytes == os.pathconf(tmp_path, "PC_NAME_MAX")
    assert ufs.limits.path_bytes == path_max - 1  # the kernel counts the NUL
    room = path_max - 1 - len(str(tmp_path)) - 1  # bytes left for a relative path
    parts = ["d" * 200] * (room // 201)
    deepest = "/".join([*parts, "f" * (room - 201 * len(parts))])
    assert len(str(tmp_path / deepest)) == path_max - 1
    ufs.mkdirs(deepest.rsplit("/", 1)[0])
    ufs.write(deepest, [b"longest"])  # exactly PATH_MAX - 1 bytes: the kernel takes it
    assert read_all(ufs, deepest) == b"longest"
    with pytest.raises(InvalidPath) as info:
        ufs.write(deepest + "g", [b"x"])
    assert "PATH_MAX" in info.value.message and str(path_max) in info.value.message
    with pytest.raises(InvalidPath) as info:
        ufs.status("n" * 256)
    assert "NAME_MAX" in info.value.message


def test_enametoolong_from_the_kernel_is_invalid_path(tmp_path: Path) -> None:
    """A root the kernel itself refuses as too long: every call answers InvalidPath
    naming the path and ENAMETOOLONG, never a raw OSError or a UfsError (a 502)."""
    long_root = str(tmp_path) + "/" + "/".join(["x" * 250] * 17)
    ufs = FsspecUfs("file://" + long_root)
    calls = [
        lambda: ufs.status(""),
        lambda: ufs.list(""),
        lambda: ufs.open_write(""),
        lambda: ufs.read_range("", 0, 1),
    ]
    for call in calls:
        with pytest.raises(InvalidPath) as info:
            call()
        assert "ENAMETOOLONG" in info.value.message
        assert info.value.path
    assert list(tmp_path.iterdir()) == []
