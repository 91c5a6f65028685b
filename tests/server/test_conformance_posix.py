"""Conformance, POSIX metadata: mode, owner, times in nanoseconds, extended attributes,
symlinks and FIFOs, on every backend (``anyfs``), through the public API only."""

from __future__ import annotations

import os
import stat
import time

import pytest

from siltfs import errors
from siltfs.client.base import FileSystem


def test_a_new_file_has_the_callers_owner_and_umask(anyfs: FileSystem, base: str) -> None:
    info = anyfs.write_bytes(f"{base}/f", b"abc")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_ISREG(info.mode)
    assert stat.S_IMODE(info.mode) == 0o666 & ~mask
    assert (info.uid, info.gid) == (os.getuid(), os.getgid())
    assert info.mtime_ns == info.ctime_ns and info.mtime_ns > 0
    assert anyfs.stat(f"{base}/f").mode == info.mode


def test_chmod_changes_the_bits_and_ctime_only(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/f"
    before = anyfs.write_bytes(p, b"abc")
    time.sleep(0.002)  # a clock step, so that ctime can differ (not a race)
    after = anyfs.chmod(p, 0o4751)
    assert stat.S_IMODE(after.mode) == 0o4751 and stat.S_ISREG(after.mode)
    assert after.mtime_ns == before.mtime_ns and after.ctime_ns > before.ctime_ns
    assert anyfs.stat(p).mode == after.mode
    with pytest.raises(errors.InvalidArgument):
        anyfs.chmod(p, 0o200000)
    assert anyfs.stat(p).mode == after.mode  # nothing changed


def test_chown_and_the_setuid_bit(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/f"
    anyfs.write_bytes(p, b"x")
    anyfs.chmod(p, 0o6755)
    info = anyfs.chown(p, 1234, 5678)
    assert (info.uid, info.gid) == (1234, 5678)
    assert stat.S_IMODE(info.mode) == 0o755  # setuid and setgid dropped, as Linux does
    assert anyfs.chown(p, -1, 42).uid == 1234
    with pytest.raises(errors.InvalidArgument):
        anyfs.chown(p, 2**32, 0)
    d = anyfs.stat(base)
    assert stat.S_ISDIR(d.mode) and d.nlink >= 2


def test_utime_in_nanoseconds(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/f"
    anyfs.write_bytes(p, b"x")
    info = anyfs.utime(p, ns=(1_000_000_001, 2_000_000_002))
    assert (info.atime_ns, info.mtime_ns) == (1_000_000_001, 2_000_000_002)
    assert info.mtime == pytest.approx(2.000000002)
    again = anyfs.stat(p)
    assert (again.atime_ns, again.mtime_ns) == (1_000_000_001, 2_000_000_002)
    now = anyfs.utime(p)
    assert abs(now.mtime_ns - time.time_ns()) < 60 * 10**9
    assert anyfs.utime(p, (5.5, 6.25)).mtime_ns == 6_250_000_000
    with pytest.raises(errors.InvalidArgument):
        anyfs.utime(p, ns=(1, "x"))


def test_an_overwrite_keeps_mode_owner_and_xattrs(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/f"
    anyfs.write_bytes(p, b"one")
    anyfs.chmod(p, 0o600)
    anyfs.setxattr(p, "user.k", b"v")
    info = anyfs.write_bytes(p, b"two!")
    assert stat.S_IMODE(info.mode) == 0o600 and info.length == 4
    assert anyfs.getxattr(p, "user.k") == b"v"
    replaced = anyfs.write_bytes(p, b"3", xattrs={"user.n": b"\x00\xff"})
    assert anyfs.listxattr(p) == ["user.n"] and stat.S_IMODE(replaced.mode) == 0o600
    assert anyfs.getxattr(p, "user.n") == b"\x00\xff"


def test_xattrs(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/f"
    anyfs.write_bytes(p, b"x")
    assert anyfs.listxattr(p) == []
    anyfs.setxattr(p, "user.b", b"2")
    anyfs.setxattr(p, "user.a", b"")
    assert anyfs.listxattr(p) == ["user.a", "user.b"]
    assert anyfs.getxattr(p, "user.a") == b""
    with pytest.raises(errors.AttributeNotFound) as err:
        anyfs.getxattr(p, "user.zzz")
    assert err.value.errno == 61  # ENODATA
    anyfs.removexattr(p, "user.b")
    assert anyfs.listxattr(p) == ["user.a"]
    with pytest.raises(errors.AttributeNotFound):
        anyfs.removexattr(p, "user.b")
    for bad in ("trusted.x", "user.", "x"):
        with pytest.raises(errors.InvalidArgument):
            anyfs.setxattr(p, bad, b"v")
    with pytest.raises(errors.InvalidArgument):
        anyfs.setxattr(p, "user.big", b"x" * (64 * 1024 + 1))
    anyfs.mkdir(f"{base}/d")
    anyfs.setxattr(f"{base}/d", "user.dir", b"ok")
    anyfs.rename(f"{base}/d", f"{base}/e")
    assert anyfs.getxattr(f"{base}/e", "user.dir") == b"ok"  # the inode moved with them


def test_symlink_readlink_and_fifo(anyfs: FileSystem, base: str) -> None:
    link = anyfs.symlink("../some/where", f"{base}/l")
    assert stat.S_ISLNK(link.mode) and link.is_symlink and link.length == len("../some/where")
    assert anyfs.readlink(f"{base}/l") == "../some/where"
    with pytest.raises(errors.FileExists):
        anyfs.symlink("x", f"{base}/l")
    with pytest.raises(errors.InvalidArgument):
        anyfs.readlink(base)
    fifo = anyfs.mknod(f"{base}/p", stat.S_IFIFO | 0o640)
    assert stat.S_ISFIFO(fifo.mode) and stat.S_IMODE(fifo.mode) == 0o640
    with pytest.raises(errors.InvalidArgument):
        anyfs.mknod(f"{base}/r", stat.S_IFREG | 0o600)
    names = {i.name for i in anyfs.ls(base)}
    assert names == {"l", "p"}
    anyfs.rename(f"{base}/l", f"{base}/l2")
    assert anyfs.readlink(f"{base}/l2") == "../some/where"
    anyfs.delete(f"{base}/l2")
    assert not anyfs.exists(f"{base}/l2")


def test_special_files_are_never_persisted(anyfs: FileSystem, base: str) -> None:
    anyfs.symlink("target", f"{base}/l")
    anyfs.mknod(f"{base}/p")
    anyfs.write_bytes(f"{base}/f", b"data", write_type="ASYNC_THROUGH")
    anyfs.persist(base)
    anyfs.wait_persisted(base, timeout=60)
    assert anyfs.stat(f"{base}/f").persisted
    assert anyfs.stat(f"{base}/l").persistence_state.value == "NOT_PERSISTED"
    assert anyfs.check_consistency(base).consistent


def test_a_directorys_link_count_is_two_plus_its_subdirectories(
    anyfs: FileSystem, base: str
) -> None:
    anyfs.mkdir(f"{base}/d")
    assert anyfs.stat(f"{base}/d").nlink == 2
    anyfs.mkdir(f"{base}/d/a")
    anyfs.mkdir(f"{base}/d/b")
    anyfs.write_bytes(f"{base}/d/f", b"x")
    assert anyfs.stat(f"{base}/d").nlink == 4
    assert anyfs.stat(f"{base}/d/f").nlink == 1
    anyfs.delete(f"{base}/d/a")
    assert anyfs.stat(f"{base}/d").nlink == 3


def test_rename_changes_ctime_of_the_entry_and_both_parents(anyfs: FileSystem, base: str) -> None:
    anyfs.mkdir(f"{base}/a")
    anyfs.mkdir(f"{base}/b")
    anyfs.write_bytes(f"{base}/a/f", b"x")
    anyfs.chmod(f"{base}/a", 0o755)  # (directories with stored attributes)
    anyfs.chmod(f"{base}/b", 0o755)
    before = {p: anyfs.stat(f"{base}/{p}") for p in ("a", "b", "a/f")}
    time.sleep(0.002)  # a clock step, so that ctime can differ (not a race)
    anyfs.rename(f"{base}/a/f", f"{base}/b/f")
    after = {p: anyfs.stat(f"{base}/{p}") for p in ("a", "b", "b/f")}
    assert after["b/f"].ctime_ns > before["a/f"].ctime_ns
    assert after["b/f"].mtime_ns == before["a/f"].mtime_ns
    for d in ("a", "b"):
        assert after[d].mtime_ns > before[d].mtime_ns and after[d].ctime_ns > before[d].ctime_ns
