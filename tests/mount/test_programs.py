"""Real programs on ``silt mount``: tar, git, SQLite, cp of a large file, and the seed
scenario of write-back from a shell -- each result checked, then the UFS."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest

import siltfs

from .conftest import MountProcess, write_home


def sh(cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_tar_extract_and_create_back_byte_identical(mounted: MountProcess, tmp_path: Path) -> None:
    files = 2000
    archive = tmp_path / "in.tar"
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT) as tar:
        for name in ["tree", *(f"tree/d{d:02d}" for d in range(37))]:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o750, 1_500_000_000
            tar.addfile(info)
        for i in range(files):
            data = hashlib.sha256(str(i).encode()).digest() * (1 + i % 200)
            info = tarfile.TarInfo(f"tree/d{i % 37:02d}/f{i:05d}")
            info.size, info.mode, info.mtime = len(data), 0o640, 1_600_000_000 + i
            tar.addfile(info, io.BytesIO(data))
    mnt = mounted.mountpoint
    done = sh(f"tar -xf {archive}", mnt)
    assert done.returncode == 0, done.stderr
    assert sum(len(names) for _, _, names in os.walk(mnt / "tree")) == files
    local = tmp_path / "local"
    local.mkdir()
    assert sh(f"tar -xf {archive}", local).returncode == 0
    for root in (mnt, local):  # a directory's mtime is when its last file was extracted
        for dirpath, _, _ in os.walk(root / "tree"):
            os.utime(dirpath, ns=(1_400_000_000 * 10**9, 1_400_000_000 * 10**9))
    for cwd, out in ((mnt, tmp_path / "silt.tar"), (local, tmp_path / "local.tar")):
        made = sh(f"tar --sort=name --owner=0 --group=0 --numeric-owner -cf {out} tree", cwd)
        assert made.returncode == 0, made.stderr
    assert (tmp_path / "silt.tar").read_bytes() == (tmp_path / "local.tar").read_bytes()


def test_git_clone_and_fsck(mounted: MountProcess, tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed (apt-get install git)")
    origin = tmp_path / "origin"
    origin.mkdir()
    env = "GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t"
    for i in range(5):
        (origin / f"file{i}.txt").write_text(f"content {i}\n" * (i + 1))
        sub = "git init -q ." if i == 0 else "true"
        assert sh(f"{sub} && git add -A && {env} git commit -qm c{i}", origin).returncode == 0
    mnt = mounted.mountpoint
    cloned = sh(f"git clone -q {origin} clone", mnt)
    assert cloned.returncode == 0, cloned.stderr
    fsck = sh("git fsck --full --strict", mnt / "clone")
    assert fsck.returncode == 0, fsck.stderr + fsck.stdout
    (mnt / "clone" / "new.txt").write_text("new\n")
    assert sh(f"git add new.txt && {env} git commit -qm more", mnt / "clone").returncode == 0
    log = sh("git log --oneline", mnt / "clone")
    assert len(log.stdout.splitlines()) == 6
    assert sh("git status --porcelain", mnt / "clone").stdout == ""


def test_sqlite_database_in_delete_journal_mode(mounted: MountProcess) -> None:
    path = mounted.mountpoint / "db.sqlite"
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        for chunk in range(5):
            with db:
                db.executemany(
                    "INSERT INTO t (v) VALUES (?)", [(f"row {chunk}-{i}" * 20,) for i in range(200)]
                )
        with db:
            db.execute("UPDATE t SET v = 'changed' WHERE id % 7 = 0")
            db.execute("DELETE FROM t WHERE id % 11 = 0")
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    again = sqlite3.connect(path)
    try:
        count = again.execute("SELECT count(*) FROM t").fetchone()[0]
        changed = again.execute("SELECT count(*) FROM t WHERE v = 'changed'").fetchone()[0]
    finally:
        again.close()
    assert count == 1000 - 1000 // 11
    assert changed == len([i for i in range(1, 1001) if i % 7 == 0 and i % 11 != 0])
    assert not (mounted.mountpoint / "db.sqlite-journal").exists()


def test_cp_of_a_large_file(mounted: MountProcess, tmp_path: Path) -> None:
    big = tmp_path / "big"
    with open(big, "wb") as f:
        for i in range(48):
            f.write(hashlib.sha256(str(i).encode()).digest() * 32768)  # 48 MiB
    done = sh(f"cp --reflink=never {big} {mounted.mountpoint}/big", tmp_path)
    assert done.returncode == 0, done.stderr
    assert sh(f"cmp {big} {mounted.mountpoint}/big", tmp_path).returncode == 0


def test_seed_scenario_from_a_shell(tmp_path: Path) -> None:
    """mkdir -p A/B && cp f A/B/01 && mv A C && rm -rf A, with the first upload held
    back (persistence off while the mount runs): rm reports no error (A is gone), and
    once persisted the UFS holds C/B/01 only."""
    home = write_home(tmp_path / "home")
    toml = (home / "silt.toml").read_text().replace("[persist]\n", "[persist]\nenabled = false\n")
    (home / "silt.toml").write_text(toml)
    (tmp_path / "f").write_bytes(b"seed data\n" * 1000)
    m = MountProcess(home, tmp_path / "mnt").start()
    try:
        done = sh(
            f"mkdir -p A/B && cp {tmp_path}/f A/B/01 && mv A C && rm -rf A; echo rc=$?",
            m.mountpoint,
        )
        assert done.stdout.strip() == "rc=0" and done.stderr == "", done.stderr
        assert not (home / "ufs" / "C" / "B" / "01").exists()  # the upload is held back
        assert not (home / "ufs" / "A").exists()  # (explicit mkdirs are in the UFS at once)
    finally:
        m.stop()
    (home / "silt.toml").write_text(toml.replace("enabled = false\n", ""))
    waited = subprocess.run(
        ["silt", "--home", str(home), "fs", "wait-persisted", "/"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert waited.returncode == 0, waited.stderr
    ufs = home / "ufs"
    assert sorted(
        str(p.relative_to(ufs)) for p in ufs.rglob("*") if ".silt_staging" not in str(p)
    ) == ["C", "C/B", "C/B/01"]
    assert (ufs / "C" / "B" / "01").read_bytes() == b"seed data\n" * 1000
    fs = siltfs.connect(home=home)
    try:
        assert fs.check_consistency("/").consistent
    finally:
        fs.close()


def test_rsync_into_and_out_of_the_mount_then_again_with_changes(
    mounted: MountProcess, tmp_path: Path
) -> None:
    """rsync -a writes a tree (temporary files renamed into place, modes and times set),
    a second run after changes sends only those (in-place patching with --inplace), and
    rsync back out gives the same tree byte for byte."""
    src = tmp_path / "src"
    for i in range(60):
        d = src / f"d{i % 6}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}").write_bytes(hashlib.sha256(str(i).encode()).digest() * (1 + 97 * i))
        os.chmod(d / f"f{i}", 0o600 + (i % 2) * 0o40)
    (src / "big").write_bytes(os.urandom(3 << 20))
    mnt = mounted.mountpoint
    first = sh(f"rsync -a {src}/ {mnt}/dst/", tmp_path)
    assert first.returncode == 0, first.stderr
    (src / "d1" / "f1").write_bytes(b"changed")
    with open(src / "big", "r+b") as f:  # a patch in the middle of a large file
        f.seek(1 << 20)
        f.write(b"patched")
    # same size: rsync's quick check compares whole seconds of mtime, and the patch may
    # fall in the second the file was made -- move it on, as a later edit would be
    st = os.stat(src / "big")
    os.utime(src / "big", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    again = sh(f"rsync -a --inplace --no-whole-file --stats {src}/ {mnt}/dst/", tmp_path)
    assert again.returncode == 0, again.stderr
    sent = re.search(r"Number of regular files transferred: (\d+)", again.stdout)
    assert sent is not None and int(sent.group(1)) == 2, again.stdout  # the two changed
    out = tmp_path / "out"
    back = sh(f"rsync -a {mnt}/dst/ {out}/", tmp_path)
    assert back.returncode == 0, back.stderr
    check = sh(
        f"diff -r {src} {out} && rsync -a --dry-run --itemize-changes {src}/ {out}/", tmp_path
    )
    assert check.returncode == 0 and check.stdout == "", check.stdout + check.stderr
    assert os.stat(out / "d1" / "f1").st_mode & 0o777 == 0o640
