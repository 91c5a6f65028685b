"""The FileSystem suite, files that change: ``ab``, ``r+b``, ``w+b``, ``a+b``, ``x+b``,
truncate, holes, visibility at flush/close and one handle shared by threads, compared
with the same operations on a real local file.  Part of :class:`siltfs.testing.FileSystemTests`."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from siltfs import errors
from siltfs.testing.fs_common import BLOCK, FileSystemFixtures, blob

__all__ = ["MutableTests"]


class MutableTests(FileSystemFixtures):
    """ab, r+b, w+b, a+b, x+b: files that change."""

    def test_append_creates_then_appends(self, fs: Any, base: str) -> None:
        p = f"{base}/log"
        with fs.open(p, "ab") as f:
            f.write(b"one\n")
        with fs.open(p, "ab") as f:
            assert f.tell() == 4
            f.seek(0)
            f.write(b"two\n")  # O_APPEND: at the end whatever the position
        assert fs.read_bytes(p) == b"one\ntwo\n"
        with fs.open(p, "a+b") as f:
            f.write(b"3")
            f.seek(0)
            assert f.read() == b"one\ntwo\n3"

    def test_update_in_place_at_any_offset(self, fs: Any, base: str, tmp_path: Path) -> None:
        data = blob(2 * BLOCK + 99, seed=3)
        p = f"{base}/f"
        fs.write_bytes(p, data)
        local = tmp_path / "f"
        local.write_bytes(data)
        with fs.open(p, "r+b") as f, open(local, "r+b") as g:
            for offset, chunk in ((5, b"hello"), (BLOCK - 2, b"across"), (len(data) + 10, b"past")):
                for h in (f, g):
                    h.seek(offset)
                    h.write(chunk)
            for h in (f, g):
                h.seek(BLOCK - 4)
            assert f.read(12) == g.read(12)
            assert f.seek(0, io.SEEK_END) == g.seek(0, io.SEEK_END)
            f.truncate(BLOCK + 7)
            g.truncate(BLOCK + 7)
        assert fs.read_bytes(p) == local.read_bytes()
        assert fs.stat(p).length == BLOCK + 7

    def test_a_hole_reads_as_zeros_and_truncate_extends(self, fs: Any, base: str) -> None:
        p = f"{base}/sparse"
        with fs.open(p, "w+b") as f:
            f.seek(1000)
            f.write(b"end")
            f.seek(0)
            assert f.read() == bytes(1000) + b"end"
        fs.truncate(p, 1010)
        assert fs.read_bytes(p) == bytes(1000) + b"end" + bytes(7)
        fs.truncate(p, 2)
        assert fs.read_bytes(p) == b"\0\0"
        with pytest.raises(errors.InvalidArgument):
            fs.truncate(p, -1)
        with pytest.raises(errors.FileNotFound):
            fs.truncate(f"{base}/missing", 0)

    def test_changes_are_visible_at_flush_and_close_only(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        fs.write_bytes(p, b"version 1")
        with fs.open(p, "r+b") as f:
            f.write(b"VERSION")
            assert fs.read_bytes(p) == b"version 1"  # not yet
            f.flush()
            assert fs.read_bytes(p) == b"VERSION 1"
            f.seek(0, io.SEEK_END)
            f.write(b"+2")
            assert fs.read_bytes(p) == b"VERSION 1"
        assert fs.read_bytes(p) == b"VERSION 1+2"

    def test_modes_check_what_exists(self, fs: Any, base: str) -> None:
        with pytest.raises(errors.FileNotFound):
            fs.open(f"{base}/missing", "r+b")
        fs.write_bytes(f"{base}/f", b"x")
        with pytest.raises(errors.FileExists):
            fs.open(f"{base}/f", "x+b")
        with pytest.raises(errors.IsADirectory):
            fs.open(base, "ab")
        for exclusive in ("xb", "x+b"):  # O_CREAT|O_EXCL: EEXIST for a directory too
            with pytest.raises(errors.FileExists):
                fs.open(base, exclusive)
        with fs.open(f"{base}/f", "a+b") as f:  # a write of nothing appends nothing
            f.seek(0)
            assert f.write(b"") == 0 and f.tell() == 0
        with fs.open(f"{base}/new", "x+b") as f:
            f.write(b"fresh")
        assert fs.read_bytes(f"{base}/new") == b"fresh"
        with fs.open(f"{base}/f", "w+b") as f:  # emptied, even with nothing written
            pass
        assert fs.read_bytes(f"{base}/f") == b""
        with fs.open(f"{base}/t", "a+", encoding="utf-8") as t:
            t.write("héllo\n")
        with fs.open(f"{base}/t", "a", encoding="utf-8") as t:
            t.write("again\n")
        assert fs.read_bytes(f"{base}/t") == "héllo\nagain\n".encode()
        assert sorted(i.name for i in fs.ls(base)) == ["f", "new", "t"]

    def test_one_handle_shared_by_threads(self, fs: Any, base: str) -> None:
        data = blob(BLOCK + 4096 * 8, seed=9)
        p = f"{base}/f"
        fs.write_bytes(p, data)
        wrong: list[int] = []
        with fs.open(p, "r+b") as f:
            f.pwrite(b"!", len(data) - 1)

            def reader(seed: int) -> None:
                for i in range(60):
                    offset = (seed * 7919 + i * 4099) % (len(data) - 4096)
                    got = f.pread(4096, offset)
                    want = (data[:-1] + b"!")[offset : offset + 4096]
                    if got != want:
                        wrong.append(offset)

            threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert wrong == []
        assert fs.read_bytes(p) == data[:-1] + b"!"

    def test_mode_and_owner_survive_a_change(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        fs.write_bytes(p, b"abc")
        fs.chmod(p, 0o600)
        with fs.open(p, "ab") as f:
            f.write(b"d")
        info = fs.stat(p)
        assert info.length == 4 and info.mode & 0o777 == 0o600
        assert (info.uid, info.gid) == (os.getuid(), os.getgid())

    def test_a_handle_follows_its_file(self, fs: Any, base: str, tmp_path: Path) -> None:
        """Rename while open: the change lands at the new name (as on a local file);
        unlinked while open: the change goes with the file; replaced by a newer version
        at its path: the last close wins there."""
        moved, gone, replaced = f"{base}/moved", f"{base}/gone", f"{base}/replaced"
        for p in (moved, gone, replaced):
            fs.write_bytes(p, b"0123456789")
        local = tmp_path / "moved"
        local.write_bytes(b"0123456789")
        with fs.open(moved, "r+b") as f, open(local, "r+b") as g:
            for h in (f, g):
                h.seek(2)
                h.write(b"XX")
            fs.rename(moved, f"{base}/moved2")
            os.rename(local, tmp_path / "moved2")
            for h in (f, g):
                h.write(b"YY")
        assert fs.read_bytes(f"{base}/moved2") == (tmp_path / "moved2").read_bytes()
        assert not fs.exists(moved)
        with fs.open(gone, "r+b") as f:
            f.write(b"AA")
            fs.delete(gone)
            f.write(b"BB")
        assert not fs.exists(gone)
        with fs.open(replaced, "ab") as f:
            f.write(b"-mine")
            fs.write_bytes(replaced, b"theirs")
        assert fs.read_bytes(replaced) == b"0123456789-mine"
        assert fs.path_of_inode(fs.stat(f"{base}/moved2").id) == f"{base}/moved2"

    def test_path_of_inode(self, fs: Any, base: str) -> None:
        p = f"{base}/where"
        fs.write_bytes(p, b"x")
        first = fs.stat(p).id
        fs.rename(p, f"{base}/there")
        assert fs.path_of_inode(first) == f"{base}/there"
        fs.write_bytes(f"{base}/there", b"newer")  # a new version: a new id
        assert fs.path_of_inode(first) is None
        assert fs.path_of_inode(fs.stat(base).id) == base
        with pytest.raises(errors.WrongType):
            fs.path_of_inode("1")
        with pytest.raises(errors.InvalidArgument):
            fs.path_of_inode(-1)
