"""One owner per home: the home lock, and where a running master says it listens.

A process that opens a home's metastore (an embedded file system, ``silt master``) first
takes an exclusive ``flock`` on ``<home>/lock`` and writes its pid there; the kernel
releases the lock when the process dies, so a crash never leaves a home locked.  A
second opener fails at once with :class:`~siltfs.errors.HomeLocked` naming the holder.

A master serving a home also writes ``<home>/master.json`` (``{"url", "pid"}``, mode
0600) once it listens.  :func:`running_master` tells the CLI, :func:`siltfs.connect` and
fsspec that the home is served, so they go through that master (with ``<home>/token``)
instead of opening the metastore beside it.  A ``master.json`` whose home lock is free is
stale (its master died) and is ignored.

Files of a home are private: directories 0700, files 0600 (:func:`private_dir`).
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from siltfs.errors import HomeLocked

LOCK_FILE = "lock"
MASTER_FILE = "master.json"
TOKEN_FILE = "token"
CLUSTER_SECRET_FILE = "cluster-secret"
__all__ = [
    "CLUSTER_SECRET_FILE",
    "TOKEN_FILE",
    "HomeLock",
    "MasterInfo",
    "private_dir",
    "read_token",
    "remove_master_file",
    "running_master",
    "write_master_file",
]


def private_dir(path: Path) -> Path:
    """Create *path* if missing, with every missing parent, each 0700; make *path* 0700."""
    missing = []
    p = Path(path)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


@dataclass(frozen=True)
class MasterInfo:
    """A master serving a home: where it listens and its pid."""

    url: str
    pid: int


class HomeLock:
    """The exclusive lock of one home, held from :meth:`acquire` until :meth:`release`."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.path = self.home / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> HomeLock:
        private_dir(self.home)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_pid(fd)
            os.close(fd)
            raise HomeLocked(_held_message(self.home, holder), path=str(self.home)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def _holder_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def _held_message(home: Path, pid: int | None) -> str:
    who = f"process {pid}" if pid is not None else "another process"
    master = _read_master_file(home)
    if master is not None and (pid is None or master.pid == pid):
        return (
            f"this home is in use by {who} (a master at {master.url}); "
            f"use it through the master (SILT_MASTER={master.url}) or stop it first"
        )
    return f"this home is in use by {who}; close it or stop that process first"


def is_locked(home: Path) -> bool:
    """Whether some live process holds *home*'s lock (without taking it)."""
    path = Path(home) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _read_master_file(home: Path) -> MasterInfo | None:
    try:
        data = json.loads((Path(home) / MASTER_FILE).read_text(encoding="utf-8"))
        url, pid = data["url"], data["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or not isinstance(pid, int):
        return None
    return MasterInfo(url=url, pid=pid)


def running_master(home: Path) -> MasterInfo | None:
    """The master serving *home*, if one is running (``master.json`` and a held lock)."""
    info = _read_master_file(home)
    if info is None or not is_locked(home):
        return None
    return info


def write_master_file(home: Path, url: str) -> Path:
    """Record that this process serves *home* at *url* (atomically, mode 0600)."""
    path = Path(home) / MASTER_FILE
    tmp = path.with_name(f".{MASTER_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "pid": os.getpid()}, f)
    os.replace(tmp, path)
    return path


def remove_master_file(home: Path) -> None:
    """Remove ``master.json`` if this process wrote it."""
    info = _read_master_file(home)
    if info is not None and info.pid == os.getpid():
        (Path(home) / MASTER_FILE).unlink(missing_ok=True)


def read_token(home: Path, name: str = TOKEN_FILE) -> str | None:
    """The admin token in ``<home>/token`` (or the secret in ``<home>/<name>``), if any."""
    try:
        token = (Path(home) / name).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None
