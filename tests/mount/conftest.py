"""Real FUSE mounts for tests: ``silt mount`` in a subprocess over an embedded home or a
remote master (tests/servers.py), always unmounted at the end (``fusermount3 -u``, then
``umount -l``), killing only the process the fixture started."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from siltfs.mount.runner import is_mounted
from tests.servers import SILT_TOML, MasterProcess, start_cluster

HAVE_FUSE = os.path.exists("/dev/fuse") and shutil.which("fusermount3") is not None


def require_fuse() -> None:
    if not HAVE_FUSE:
        if os.environ.get("SILT_REQUIRE_FUSE") == "1":
            pytest.fail("FUSE is required (SILT_REQUIRE_FUSE=1): apt-get install fuse3")
        pytest.skip("FUSE not available")


class MountProcess:
    """``silt mount`` of *home* (or of the master at *master_url*) on *mountpoint*."""

    def __init__(
        self,
        home: Path,
        mountpoint: Path,
        *args: str,
        master_url: str | None = None,
        token: str | None = None,
    ) -> None:
        self.home = home
        self.mountpoint = mountpoint
        self.args = list(args)
        self.master_url = master_url
        self.token = token
        self.log = home.parent / f"mount-{mountpoint.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> MountProcess:
        require_fuse()
        try:
            self.mountpoint.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # ENOTCONN: a stale mount, which silt mount cleans up
            if exc.errno != errno.ENOTCONN:
                raise
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
        env.pop("SILT_MASTER", None)
        cmd = [
            sys.executable,
            "-m",
            "siltfs.cli.main",
            "--home",
            str(self.home),
            "mount",
            str(self.mountpoint),
            *self.args,
        ]
        if self.master_url:
            cmd += ["--master", self.master_url]
            if self.token:
                env["SILT_TOKEN"] = self.token
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"silt mount exited {self.proc.returncode}: {self.log_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"not mounted after {timeout} s: {self.log_text()}")
            time.sleep(0.02)
        return self

    def ready(self) -> bool:
        """Mounted and answering (a stale mount of a killed process is ENOTCONN)."""
        if not is_mounted(str(self.mountpoint)):
            return False
        try:
            os.stat(self.mountpoint)
        except OSError:
            return False
        return True

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """Unmount (fusermount3 -u, else umount -l) and wait for the process."""
        if is_mounted(str(self.mountpoint)):
            done = subprocess.run(["fusermount3", "-u", str(self.mountpoint)], capture_output=True)
            if done.returncode != 0:
                subprocess.run(["umount", "-l", str(self.mountpoint)], capture_output=True)
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            subprocess.run(["umount", "-l", str(self.mountpoint)], capture_output=True)
            return None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def write_home(home: Path, extra: str = "") -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "silt.toml").write_text(SILT_TOML + extra)
    return home


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[MountProcess]:
    """A mount of a fresh embedded home (1 MiB blocks, fast persist retries)."""
    m = MountProcess(write_home(tmp_path / "home"), tmp_path / "mnt").start()
    try:
        yield m
    finally:
        m.stop()


@pytest.fixture(scope="session")
def remote_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterProcess]:
    """A master without blocks of its own and a separate worker process."""
    server, worker = start_cluster(tmp_path_factory.mktemp("mount-cluster"))
    yield server
    server.stop()
    worker.stop()


@pytest.fixture(params=["embedded", "remote+worker"])
def anymount(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[MountProcess, Path]]:
    """(mount, its directory for this test) over an embedded home and over a remote
    master with a separate worker."""
    if request.param == "embedded":
        m = MountProcess(write_home(tmp_path / "home"), tmp_path / "mnt").start()
        base = m.mountpoint
    else:
        server: MasterProcess = request.getfixturevalue("remote_cluster")
        m = MountProcess(
            write_home(tmp_path / "client-home"),
            tmp_path / "mnt",
            master_url=server.url,
            token=server.token,
        ).start()
        base = m.mountpoint / f"t-{os.urandom(4).hex()}"
        base.mkdir()
    try:
        yield m, base
    finally:
        m.stop()
