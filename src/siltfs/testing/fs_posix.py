"""The FileSystem suite, POSIX metadata: mode, owner, times in nanoseconds, extended
attributes, symlinks and FIFOs, through the public API only.  Part of
:class:`siltfs.testing.FileSystemTests`."""

from __future__ import annotations

import os
import stat
import time
from typing import Any

import pytest

from siltfs import errors
from siltfs.testing.fs_common import FileSystemFixtures

__all__ = ["PosixTests"]


class PosixTests(FileSystemFixtures):
    """mode, owner, times, xattrs, symlinks, FIFOs, link counts."""

    def test_a_new_file_has_the_callers_owner_and_umask(self, fs: Any, base: str) -> None:
        info = fs.write_bytes(f"{base}/f", b"abc")
        mask = os.umask(0)
        os.umask(mask)
        assert stat.S_ISREG(info.mode)
        assert stat.S_IMODE(info.mode) == 0o666 & ~mask
        assert (info.uid, info.gid) == (os.getuid(), os.getgid())
        assert info.mtime_ns == info.ctime_ns and info.mtime_ns > 0
        assert fs.stat(f"{base}/f").mode == info.mode

    def test_chmod_changes_the_bits_and_ctime_only(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        before = fs.write_bytes(p, b"abc")
        time.sleep(0.002)  # a clock step, so that ctime can differ (not a race)
        after = fs.chmod(p, 0o4751)
        assert stat.S_IMODE(after.mode) == 0o4751 and stat.S_ISREG(after.mode)
        assert after.mtime_ns == before.mtime_ns and after.ctime_ns > before.ctime_ns
        assert fs.stat(p).mode == after.mode
        with pytest.raises(errors.InvalidArgument):
            fs.chmod(p, 0o200000)
        assert fs.stat(p).mode == after.mode  # nothing changed

    def test_chown_and_the_setuid_bit(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        fs.write_bytes(p, b"x")
        fs.chmod(p, 0o6755)
        info = fs.chown(p, 1234, 5678)
        assert (info.uid, info.gid) == (1234, 5678)
        assert stat.S_IMODE(info.mode) == 0o755  # setuid and setgid dropped, as Linux does
        assert fs.chown(p, -1, 42).uid == 1234
        fs.chmod(p, 0o6755)
        info = fs.chown(p, -1, -1)  # no owner changes, and still the bits go (Linux)
        assert stat.S_IMODE(info.mode) == 0o755 and (info.uid, info.gid) == (1234, 42)
        with pytest.raises(errors.InvalidArgument):
            fs.chown(p, 2**32, 0)
        d = fs.stat(base)
        assert stat.S_ISDIR(d.mode) and d.nlink >= 2

    def test_a_setgid_directory_gives_its_group(self, fs: Any, base: str) -> None:
        """As on Linux: what is made in a setgid directory gets the directory's group,
        and a directory made there the setgid bit too."""
        d = f"{base}/shared"
        fs.mkdir(d)
        fs.chown(d, -1, 4321)
        fs.chmod(d, 0o2775)
        fs.write_bytes(f"{d}/f", b"x")
        fs.mkdir(f"{d}/sub")
        link = fs.symlink("f", f"{d}/link")
        assert fs.stat(f"{d}/f").gid == 4321
        assert link.gid == 4321
        sub = fs.stat(f"{d}/sub")
        assert sub.gid == 4321 and sub.mode & stat.S_ISGID
        fs.write_bytes(f"{d}/sub/deeper", b"y")  # (passed down the tree)
        assert fs.stat(f"{d}/sub/deeper").gid == 4321
        fs.chmod(d, 0o775)
        fs.write_bytes(f"{d}/after", b"z")
        assert fs.stat(f"{d}/after").gid != 4321  # (the creator's again)

    def test_utime_in_nanoseconds(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        fs.write_bytes(p, b"x")
        info = fs.utime(p, ns=(1_000_000_001, 2_000_000_002))
        assert (info.atime_ns, info.mtime_ns) == (1_000_000_001, 2_000_000_002)
        assert info.mtime == pytest.approx(2.000000002)
        again = fs.stat(p)
        assert (again.atime_ns, again.mtime_ns) == (1_000_000_001, 2_000_000_002)
        now = fs.utime(p)
        assert abs(now.mtime_ns - time.time_ns()) < 60 * 10**9
        assert fs.utime(p, (5.5, 6.25)).mtime_ns == 6_250_000_000
        with pytest.raises(errors.InvalidArgument):
            fs.utime(p, ns=(1, "x"))

    def test_an_overwrite_keeps_mode_owner_and_xattrs(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        fs.write_bytes(p, b"one")
        fs.chmod(p, 0o600)
        fs.setxattr(p, "user.k", b"v")
        info = fs.write_bytes(p, b"two!")
        assert stat.S_IMODE(info.mode) == 0o600 and info.length == 4
        assert fs.getxattr(p, "user.k") == b"v"
        replaced = fs.write_bytes(p, b"3", xattrs={"user.n": b"\x00\xff"})
        assert fs.listxattr(p) == ["user.n"] and stat.S_IMODE(replaced.mode) == 0o600
        assert fs.getxattr(p, "user.n") == b"\x00\xff"

    def test_xattrs(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        fs.write_bytes(p, b"x")
        assert fs.listxattr(p) == []
        fs.setxattr(p, "user.b", b"2")
        fs.setxattr(p, "user.a", b"")
        assert fs.listxattr(p) == ["user.a", "user.b"]
        assert fs.getxattr(p, "user.a") == b""
        with pytest.raises(errors.AttributeNotFound) as err:
            fs.getxattr(p, "user.zzz")
        assert err.value.errno == 61  # ENODATA
        fs.removexattr(p, "user.b")
        assert fs.listxattr(p) == ["user.a"]
        with pytest.raises(errors.AttributeNotFound):
            fs.removexattr(p, "user.b")
        for bad in ("trusted.x", "user.", "x"):
            with pytest.raises(errors.InvalidArgument):
                fs.setxattr(p, bad, b"v")
        with pytest.raises(errors.InvalidArgument):
            fs.setxattr(p, "user.big", b"x" * (64 * 1024 + 1))
        fs.mkdir(f"{base}/d")
        fs.setxattr(f"{base}/d", "user.dir", b"ok")
        fs.rename(f"{base}/d", f"{base}/e")
        assert fs.getxattr(f"{base}/e", "user.dir") == b"ok"  # the inode moved with them

    def test_symlink_readlink_and_fifo(self, fs: Any, base: str) -> None:
        link = fs.symlink("../some/where", f"{base}/l")
        assert stat.S_ISLNK(link.mode) and link.is_symlink and link.length == len("../some/where")
        assert fs.readlink(f"{base}/l") == "../some/where"
        with pytest.raises(errors.FileExists):
            fs.symlink("x", f"{base}/l")
        with pytest.raises(errors.InvalidArgument):
            fs.readlink(base)
        fifo = fs.mknod(f"{base}/p", stat.S_IFIFO | 0o640)
        assert stat.S_ISFIFO(fifo.mode) and stat.S_IMODE(fifo.mode) == 0o640
        with pytest.raises(errors.InvalidArgument):
            fs.mknod(f"{base}/r", stat.S_IFREG | 0o600)
        names = {i.name for i in fs.ls(base)}
        assert names == {"l", "p"}
        fs.rename(f"{base}/l", f"{base}/l2")
        assert fs.readlink(f"{base}/l2") == "../some/where"
        fs.delete(f"{base}/l2")
        assert not fs.exists(f"{base}/l2")

    def test_special_files_are_never_persisted(self, fs: Any, base: str) -> None:
        fs.symlink("target", f"{base}/l")
        fs.mknod(f"{base}/p")
        fs.write_bytes(f"{base}/f", b"data", write_type="ASYNC_THROUGH")
        fs.persist(base)
        fs.wait_persisted(base, timeout=60)
        assert fs.stat(f"{base}/f").persisted
        assert fs.stat(f"{base}/l").persistence_state.value == "NOT_PERSISTED"
        assert fs.check_consistency(base).consistent

    def test_a_directorys_link_count_is_two_plus_its_subdirectories(
        self, fs: Any, base: str
    ) -> None:
        fs.mkdir(f"{base}/d")
        assert fs.stat(f"{base}/d").nlink == 2
        fs.mkdir(f"{base}/d/a")
        fs.mkdir(f"{base}/d/b")
        fs.write_bytes(f"{base}/d/f", b"x")
        assert fs.stat(f"{base}/d").nlink == 4
        assert fs.stat(f"{base}/d/f").nlink == 1
        fs.delete(f"{base}/d/a")
        assert fs.stat(f"{base}/d").nlink == 3

    def test_rename_changes_ctime_of_the_entry_and_both_parents(self, fs: Any, base: str) -> None:
        fs.mkdir(f"{base}/a")
        fs.mkdir(f"{base}/b")
        fs.write_bytes(f"{base}/a/f", b"x")
        fs.chmod(f"{base}/a", 0o755)  # (directories with stored attributes)
        fs.chmod(f"{base}/b", 0o755)
        before = {p: fs.stat(f"{base}/{p}") for p in ("a", "b", "a/f")}
        time.sleep(0.002)  # a clock step, so that ctime can differ (not a race)
        fs.rename(f"{base}/a/f", f"{base}/b/f")
        after = {p: fs.stat(f"{base}/{p}") for p in ("a", "b", "b/f")}
        assert after["b/f"].ctime_ns > before["a/f"].ctime_ns
        assert after["b/f"].mtime_ns == before["a/f"].mtime_ns
        for d in ("a", "b"):
            assert after[d].mtime_ns > before[d].mtime_ns and after[d].ctime_ns > before[d].ctime_ns
