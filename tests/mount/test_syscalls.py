"""``silt mount`` through real system calls: data at any offset, metadata, links,
errnos, open files surviving unlink, and the same on a remote master with a worker."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

import siltfs

from .conftest import MountProcess, write_home


def _errno(func: object, *args: object) -> str:
    try:
        func(*args)  # type: ignore[operator]
    except OSError as exc:
        return errno.errorcode[exc.errno or 0]
    return "ok"


def test_write_read_at_any_offset_and_truncate(anymount: tuple[MountProcess, Path]) -> None:
    _, base = anymount
    p = base / "f.bin"
    fd = os.open(p, os.O_CREAT | os.O_RDWR | os.O_EXCL, 0o640)
    try:
        assert os.pwrite(fd, b"world", 6) == 5
        assert os.fstat(fd).st_size == 11  # visible to the writer before any close
        assert os.pread(fd, 64, 0) == b"\0" * 6 + b"world"  # the hole reads as zeros
        os.pwrite(fd, b"hello ", 0)
        os.ftruncate(fd, 8)
        assert os.fstat(fd).st_size == 8
    finally:
        os.close(fd)
    assert p.read_bytes() == b"hello wo"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640
    with open(p, "ab") as f:
        f.write(b"rld!")
    assert p.read_bytes() == b"hello world!"
    os.truncate(p, 5)
    assert p.read_bytes() == b"hello"
    with open(p, "r+b") as f:
        f.seek(1)
        f.write(b"EL")
    assert p.read_bytes() == b"hELlo"
    assert _errno(os.open, p, os.O_CREAT | os.O_EXCL | os.O_WRONLY) == "EEXIST"
    with open(p, "wb") as f:  # O_TRUNC
        f.write(b"new")
    assert p.read_bytes() == b"new"


def test_directories_rename_and_errnos(anymount: tuple[MountProcess, Path]) -> None:
    _, base = anymount
    (base / "d" / "e").mkdir(parents=True)
    (base / "d" / "e" / "f").write_bytes(b"x")
    assert _errno(os.rmdir, base / "d") == "ENOTEMPTY"
    assert _errno(os.unlink, base / "d") == "EISDIR"
    assert _errno(os.rmdir, base / "d" / "e" / "f") == "ENOTDIR"
    assert _errno(os.mkdir, base / "d") == "EEXIST"
    assert _errno(os.stat, base / "nope") == "ENOENT"
    assert _errno(os.open, base / "d" / "e" / "f" / "g", os.O_RDONLY) == "ENOTDIR"
    assert _errno(os.link, base / "d" / "e" / "f", base / "hard") == "EPERM"
    assert _errno(os.rename, base / "d", base / "d" / "e" / "inside") == "EINVAL"
    os.rename(base / "d", base / "moved")
    assert sorted(os.listdir(base)) == ["moved"]
    assert (base / "moved" / "e" / "f").read_bytes() == b"x"
    (base / "g").write_bytes(b"replacement")
    os.rename(base / "g", base / "moved" / "e" / "f")  # replaces a file
    assert (base / "moved" / "e" / "f").read_bytes() == b"replacement"
    os.mkdir(base / "empty")
    os.mkdir(base / "other")
    os.rename(base / "other", base / "empty")  # replaces an empty directory
    assert _errno(os.rename, base / "empty", base / "moved") == "ENOTEMPTY"
    assert _errno(os.rename, base / "empty", base / "moved" / "e" / "f") == "ENOTDIR"
    assert _errno(os.rename, base / "moved" / "e" / "f", base / "empty") == "EISDIR"
    assert _errno(os.mkdir, base / ("x" * 300)) == "ENAMETOOLONG"


def test_metadata_symlinks_fifos_xattrs(anymount: tuple[MountProcess, Path]) -> None:
    _, base = anymount
    p = base / "f"
    p.write_bytes(b"data")
    os.chmod(p, 0o4711)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o4711
    os.chown(p, 1234, 4321)
    st = os.stat(p)
    assert (st.st_uid, st.st_gid) == (1234, 4321)
    os.utime(p, ns=(1_500_000_000_123_456_789, 1_600_000_000_987_654_321))
    st = os.stat(p)
    assert (st.st_atime_ns, st.st_mtime_ns) == (
        1_500_000_000_123_456_789,
        1_600_000_000_987_654_321,
    )
    os.symlink("f", base / "link")
    assert os.readlink(base / "link") == "f"
    assert stat.S_ISLNK(os.lstat(base / "link").st_mode)
    assert (base / "link").read_bytes() == b"data"  # the kernel follows it
    os.symlink("missing", base / "dangling")
    assert _errno(os.stat, base / "dangling") == "ENOENT"
    os.mkfifo(base / "fifo", 0o600)
    assert stat.S_ISFIFO(os.stat(base / "fifo").st_mode)
    os.setxattr(p, "user.color", b"blue")
    assert os.getxattr(p, "user.color") == b"blue"
    assert "user.color" in os.listxattr(p)
    assert os.getxattr(p, "user.silt.state") in (b"TO_BE_PERSISTED", b"PERSISTED")
    assert _errno(os.setxattr, p, "user.silt.state", b"x") == "EPERM"
    assert _errno(os.getxattr, p, "user.nothing") == "ENODATA"
    assert _errno(os.setxattr, p, "user.color", b"red", os.XATTR_CREATE) == "EEXIST"
    os.removexattr(p, "user.color")
    assert _errno(os.getxattr, p, "user.color") == "ENODATA"


def test_a_setgid_directory_gives_its_group(anymount: tuple[MountProcess, Path]) -> None:
    """mkdir, creat, symlink and mkfifo in a setgid directory, as Linux does them."""
    _, base = anymount
    d = base / "shared"
    d.mkdir()
    os.chown(d, -1, 4321)
    os.chmod(d, 0o2775)
    (d / "f").write_bytes(b"x")
    (d / "sub").mkdir(mode=0o750)
    os.symlink("f", d / "link")
    os.mkfifo(d / "fifo", 0o600)
    for name in ("f", "sub", "link", "fifo"):
        assert os.lstat(d / name).st_gid == 4321, name
    sub = os.stat(d / "sub")
    assert stat.S_IMODE(sub.st_mode) == 0o2750  # the bit passes down, the rest as asked
    (d / "sub" / "deeper").write_bytes(b"y")
    assert os.stat(d / "sub" / "deeper").st_gid == 4321
    os.chmod(d, 0o775)
    (d / "after").write_bytes(b"z")
    assert os.stat(d / "after").st_gid == os.getgid()


def test_an_unlinked_open_file_stays_readable_and_writable(
    anymount: tuple[MountProcess, Path],
) -> None:
    _, base = anymount
    p = base / "f"
    p.write_bytes(b"before")
    fd = os.open(p, os.O_RDWR)
    try:
        os.unlink(p)
        assert not p.exists()
        assert os.pread(fd, 100, 0) == b"before"
        os.pwrite(fd, b"AFTER!", 0)
        assert os.pread(fd, 100, 0) == b"AFTER!"
    finally:
        os.close(fd)
    assert not p.exists()  # never committed again
    assert os.listdir(base) == []


def test_the_mount_point_is_checked(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home")
    env = {**os.environ}
    env.pop("SILT_MASTER", None)

    def silt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["silt", "--home", str(home), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    missing = silt("mount", str(tmp_path / "missing"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    busy = silt("mount", str(full))
    assert busy.returncode == 1 and "not empty" in busy.stderr
    m = MountProcess(home, tmp_path / "mnt").start()
    try:
        again = silt("mount", str(m.mountpoint))
        assert again.returncode == 1 and "already mounted" in again.stderr
    finally:
        m.stop()
    assert silt("umount", str(m.mountpoint)).returncode == 1  # not mounted any more


def test_closed_files_survive_kill_9_and_a_stale_mount_is_recovered(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home")
    m = MountProcess(home, tmp_path / "mnt").start()
    try:
        (m.mountpoint / "kept").write_bytes(b"closed before the kill")
        m.kill()
        assert _errno(os.stat, m.mountpoint / "kept") == "ENOTCONN"
        m2 = MountProcess(home, tmp_path / "mnt").start()  # cleans the stale mount
        try:
            assert (m2.mountpoint / "kept").read_bytes() == b"closed before the kill"
        finally:
            m2.stop()
    finally:
        m.stop()
    fs = siltfs.connect(home=home)
    try:
        fs.wait_persisted("/", timeout=60)
        assert fs.read_bytes("/kept") == b"closed before the kill"
        assert fs.check_consistency("/").consistent
    finally:
        fs.close()
    assert (home / "ufs" / "kept").read_bytes() == b"closed before the kill"


@pytest.mark.parametrize("write_type", ["CACHE_THROUGH", "ASYNC_THROUGH"])
def test_write_types_through_the_mount(tmp_path: Path, write_type: str) -> None:
    home = write_home(tmp_path / "home")
    m = MountProcess(home, tmp_path / "mnt", "--write-type", write_type).start()
    try:
        with open(m.mountpoint / "f", "wb") as f:
            f.write(b"x" * 3_000_000)
            f.flush()
            os.fsync(f.fileno())
            if write_type == "CACHE_THROUGH":  # in the UFS when fsync returns
                assert (home / "ufs" / "f").read_bytes() == b"x" * 3_000_000
    finally:
        m.stop()
    fs = siltfs.connect(home=home)
    try:
        fs.wait_persisted("/", timeout=60)
        assert fs.stat("/f").persisted
    finally:
        fs.close()
    assert (home / "ufs" / "f").stat().st_size == 3_000_000


def _resident_pages(path: Path) -> int:
    """Pages of *path* in the kernel's page cache (util-linux fincore; it opens the file
    itself, through the mount)."""
    out = subprocess.run(
        ["fincore", "--raw", "--noheadings", "--output", "PAGES", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(out.stdout.strip())


def test_the_page_cache_is_kept_while_the_file_is_unchanged(
    remote_cluster: Any, tmp_path: Path
) -> None:
    """keep_cache from the version: a re-read of an unchanged file comes from the page
    cache; once another client committed a new version, an open drops the old pages and
    reads the new bytes (same length, so no attribute can tell them apart)."""
    from siltfs.client.remote import RemoteFileSystem

    m = MountProcess(
        write_home(tmp_path / "client-home"), tmp_path / "mnt",
        master_url=remote_cluster.url, token=remote_cluster.token,
    ).start()  # fmt: skip
    other = RemoteFileSystem(remote_cluster.url, remote_cluster.token)
    try:
        name = f"/pc-{os.urandom(4).hex()}"
        one, two = os.urandom(1 << 20), os.urandom(1 << 20)
        other.write_bytes(name, one, write_type="MUST_CACHE")
        f = m.mountpoint / name.lstrip("/")
        assert f.read_bytes() == one
        assert _resident_pages(f) == 256  # kept across opens: the same version
        assert f.read_bytes() == one
        other.write_bytes(name, two, write_type="MUST_CACHE")  # a new version elsewhere
        assert _resident_pages(f) == 0  # its open dropped the old pages
        assert f.read_bytes() == two
    finally:
        other.close()
        m.stop()
