"""``silt mount`` as a command: --daemon, SIGTERM with a file still being written,
--read-only, and --allow-other with the kernel enforcing stored modes for another uid."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import siltfs
from siltfs.mount.runner import is_mounted

from .conftest import MountProcess, require_fuse, write_home


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    env.pop("SILT_MASTER", None)
    return env


def test_daemon_detaches_logs_and_unmounts_with_silt_umount(tmp_path: Path) -> None:
    require_fuse()
    home = write_home(tmp_path / "home")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "siltfs.cli.main",
            "--home",
            str(home),
            "mount",
            str(mnt),
            "--daemon",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    try:
        assert done.returncode == 0, done.stderr
        assert "mounted" in done.stdout and is_mounted(str(mnt))
        (mnt / "f").write_bytes(b"through the daemon")
        assert (home / "logs" / "mount-mnt.log").exists()
    finally:
        umount = subprocess.run(
            [sys.executable, "-m", "siltfs.cli.main", "umount", str(mnt)],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=60,
        )
        if is_mounted(str(mnt)):
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
    assert umount.returncode == 0, umount.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the daemon lets go of the home once it stops
        try:
            fs = siltfs.connect(home=home)
            break
        except siltfs.errors.HomeLocked:
            time.sleep(0.05)
    try:
        assert fs.read_bytes("/f") == b"through the daemon"
    finally:
        fs.close()


def test_sigterm_commits_files_still_open(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home")
    m = MountProcess(home, tmp_path / "mnt").start()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time\n"
            f"fd = os.open({str(m.mountpoint / 'open.bin')!r}, os.O_CREAT | os.O_WRONLY)\n"
            "os.write(fd, b'written, never closed')\n"
            "print('ready', flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        assert m.proc is not None
        m.proc.send_signal(signal.SIGTERM)
        assert m.proc.wait(60) == 0
    finally:
        writer.kill()
        writer.wait()
        m.stop()
    fs = siltfs.connect(home=home)
    try:
        assert fs.read_bytes("/open.bin") == b"written, never closed"
    finally:
        fs.close()


def test_read_only_mount(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home")
    fs = siltfs.connect(home=home)
    fs.write_bytes("/f", b"data")
    fs.close()
    m = MountProcess(home, tmp_path / "mnt", "--read-only").start()
    try:
        assert (m.mountpoint / "f").read_bytes() == b"data"
        for action in (
            lambda: (m.mountpoint / "g").write_bytes(b"x"),
            lambda: (m.mountpoint / "f").unlink(),
            lambda: os.mkdir(m.mountpoint / "d"),
        ):
            try:
                action()
            except OSError as exc:
                assert exc.errno == 30  # EROFS
            else:
                raise AssertionError("a change went through a read-only mount")
    finally:
        m.stop()


def test_allow_other_enforces_the_stored_modes(tmp_path: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    home = write_home(tmp_path / "home")
    reachable = Path(tempfile.mkdtemp(prefix="silt-allow-other-"))  # pytest's tmp is 0700
    os.chmod(reachable, 0o755)  # the other user must reach the mount point
    m = MountProcess(home, reachable / "mnt", "--allow-other").start()
    try:
        private, public = m.mountpoint / "private", m.mountpoint / "public"
        private.write_bytes(b"secret")
        public.write_bytes(b"hello")
        os.chmod(private, 0o600)
        os.chmod(public, 0o644)
        os.chmod(m.mountpoint, 0o755)

        def as_nobody(cmd: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["runuser", "-u", nobody.pw_name, "--", "sh", "-c", cmd],
                capture_output=True,
                text=True,
                timeout=60,
            )

        assert as_nobody(f"cat {public}").stdout == "hello"
        denied = as_nobody(f"cat {private}")
        assert denied.returncode != 0 and "Permission denied" in denied.stderr
        assert as_nobody(f"echo x > {m.mountpoint}/new").returncode != 0  # dir is 0755 root
        os.chmod(m.mountpoint, 0o777)
        assert as_nobody(f"echo x > {m.mountpoint}/new").returncode == 0
        st = os.stat(m.mountpoint / "new")
        assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)  # the caller's
    finally:
        m.stop()
        shutil.rmtree(reachable)
