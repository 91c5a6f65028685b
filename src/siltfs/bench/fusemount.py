"""FUSE mounts for the ``mount`` suite: ``silt mount`` and ``rclone mount`` subprocesses.

:class:`FuseProcess` starts a mount command in a subprocess, waits until the mount point
is mounted and answers, and always unmounts it at the end (``fusermount3 -u``, else
``umount -l``), then waits for the process it started -- killing only that one, by its
pid, if it does not exit.

Profiling hook: with ``SILT_BENCH_PROFILE=DIR`` in the environment, every ``silt mount``
is run under ``python -m cProfile -o DIR/mount-<name>.prof`` with ``-o nothreads``
(libfuse's single-threaded loop, so every FUSE operation runs on the main thread that
cProfile watches; libfuse's worker threads are foreign to Python's profiler).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from siltfs.errors import MountError
from siltfs.mount.runner import FUSE_HINT, is_mounted, unmount

PROFILE_ENV = "SILT_BENCH_PROFILE"
READY_TIMEOUT_S = 60.0


def fuse_available() -> str | None:
    """Why FUSE mounts cannot run here, or None when they can."""
    if not os.path.exists("/dev/fuse"):
        return f"/dev/fuse is missing; {FUSE_HINT}"
    if shutil.which("fusermount3") is None:
        return f"fusermount3 is not on PATH; {FUSE_HINT}"
    return None


def rclone_path() -> str | None:
    return shutil.which("rclone")


class FuseProcess:
    """A mount command running in a subprocess, mounted at *mountpoint* while entered."""

    def __init__(self, name: str, cmd: list[str], mountpoint: Path, log: Path) -> None:
        self.name = name
        self.cmd = cmd
        self.mountpoint = mountpoint
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> FuseProcess:
        self.start()
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.ready():
            code = self.proc.poll()
            if code is not None or time.monotonic() > deadline:
                self.stop()
                why = (
                    f"exited {code}"
                    if code is not None
                    else f"not mounted after {READY_TIMEOUT_S:g} s"
                )
                raise MountError(f"{self.name} {why}: {self.log_tail()}", path=str(self.mountpoint))
            time.sleep(0.02)

    def ready(self) -> bool:
        """Mounted and answering."""
        if not is_mounted(str(self.mountpoint)):
            return False
        try:
            os.stat(self.mountpoint)
        except OSError:
            return False
        return True

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def stop(self, timeout: float = 120.0) -> None:
        """Unmount (fusermount3 -u, else umount -l) and wait for the process."""
        try:
            if is_mounted(str(self.mountpoint)):
                unmount(str(self.mountpoint))
        finally:
            proc, self.proc = self.proc, None
            if proc is not None:
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(10)
                    if is_mounted(str(self.mountpoint)):
                        unmount(str(self.mountpoint), lazy=True)


def silt_mount(home: Path, mountpoint: Path, *args: str, log: Path) -> FuseProcess:
    """``silt --home HOME mount MOUNTPOINT ARGS...`` through this Python."""
    cmd = [sys.executable]
    extra = list(args)
    profile_dir = os.environ.get(PROFILE_ENV)
    if profile_dir:
        Path(profile_dir).mkdir(parents=True, exist_ok=True)
        out = Path(profile_dir) / f"mount-{mountpoint.name}.prof"
        cmd += ["-m", "cProfile", "-o", str(out)]
        extra += ["-o", "nothreads"]
    cmd += ["-m", "siltfs.cli.main", "--home", str(home), "mount", str(mountpoint), *extra]
    return FuseProcess(f"silt mount {mountpoint.name}", cmd, mountpoint, log)


def rclone_mount(
    rclone: str, source: Path, mountpoint: Path, cache: Path, log: Path
) -> FuseProcess:
    """``rclone mount SOURCE MOUNTPOINT --vfs-cache-mode writes`` (rclone's defaults
    otherwise; its VFS cache in *cache*, no config file read)."""
    cmd = [rclone, "mount", str(source), str(mountpoint), "--vfs-cache-mode", "writes"]
    cmd += ["--cache-dir", str(cache), "--config", os.devnull]
    return FuseProcess(f"rclone mount {mountpoint.name}", cmd, mountpoint, log)
