"""A Hypothesis state machine running real system calls on ``silt mount`` and on a
local directory side by side: the same results, errnos, bytes and stat fields after
every step (type, permission bits, size, and mtime where a step set it)."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as s
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from .conftest import MountProcess, write_home

NAMES = s.sampled_from(["a", "b", "d", "d/a", "d/b", "d/e", "d/e/a"])
DATA = s.binary(max_size=300)
OFFSET = s.integers(min_value=0, max_value=600)
MODES = s.sampled_from([0o600, 0o644, 0o755, 0o700, 0o640, 0o4755])


def outcome(func: Callable[..., Any], *args: Any) -> Any:
    try:
        return ("ok", func(*args))
    except OSError as exc:
        return ("err", errno.errorcode.get(exc.errno or 0, exc.errno))


def write_at(root: str, name: str, offset: int, data: bytes, flags: int) -> int:
    fd = os.open(os.path.join(root, name), os.O_WRONLY | os.O_CREAT | flags, 0o644)
    try:
        if flags & os.O_APPEND:
            return os.write(fd, data)
        return os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def read_all(root: str, name: str) -> bytes:
    with open(os.path.join(root, name), "rb") as f:
        return f.read()


def tree(root: str) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, root)
            kind = stat.S_IFMT(st.st_mode)
            size = st.st_size if kind != stat.S_IFDIR else 0
            out[rel] = (kind, stat.S_IMODE(st.st_mode), size)
    return out


@pytest.fixture(scope="module")
def shared_mount(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MountProcess]:
    tmp = tmp_path_factory.mktemp("posix-sm")
    m = MountProcess(write_home(tmp / "home"), tmp / "mnt").start()
    try:
        yield m
    finally:
        m.stop()


def test_the_mount_behaves_as_a_local_directory(shared_mount: MountProcess, tmp_path: Path) -> None:
    class PosixMachine(RuleBasedStateMachine):
        @initialize()
        def fresh(self) -> None:
            run = uuid.uuid4().hex[:8]
            self.silt = str(shared_mount.mountpoint / run)
            self.local = str(tmp_path / run)
            os.mkdir(self.silt)
            os.mkdir(self.local)
            self.stamped: set[str] = set()

        def both(self, func: Callable[..., Any], *args: Any, keeps_times: bool = False) -> Any:
            if not keeps_times:  # the change sets mtimes to "now", which differs by side
                self.stamped.clear()
            a = outcome(func, self.silt, *args)
            b = outcome(func, self.local, *args)
            assert a == b, (func.__name__, args, a, b)
            return a

        @rule(name=NAMES, offset=OFFSET, data=DATA)
        def pwrite(self, name: str, offset: int, data: bytes) -> None:
            self.both(write_at, name, offset, data, 0)

        @rule(name=NAMES, data=DATA)
        def append(self, name: str, data: bytes) -> None:
            self.both(write_at, name, 0, data, os.O_APPEND)

        @rule(name=NAMES, data=DATA)
        def overwrite(self, name: str, data: bytes) -> None:
            self.both(write_at, name, 0, data, os.O_TRUNC)

        @rule(name=NAMES, size=s.integers(min_value=0, max_value=700))
        def truncate(self, name: str, size: int) -> None:
            self.both(lambda r, n, z: os.truncate(os.path.join(r, n), z), name, size)

        @rule(name=NAMES)
        def read(self, name: str) -> None:
            self.both(read_all, name, keeps_times=True)

        @rule(src=NAMES, dst=NAMES)
        def rename(self, src: str, dst: str) -> None:
            self.both(lambda r, a, b: os.rename(os.path.join(r, a), os.path.join(r, b)), src, dst)

        @rule(name=NAMES)
        def unlink(self, name: str) -> None:
            self.both(lambda r, n: os.unlink(os.path.join(r, n)), name)

        @rule(name=NAMES)
        def mkdir(self, name: str) -> None:
            self.both(lambda r, n: os.mkdir(os.path.join(r, n)), name)

        @rule(name=NAMES)
        def rmdir(self, name: str) -> None:
            self.both(lambda r, n: os.rmdir(os.path.join(r, n)), name)

        @rule(name=NAMES, mode=MODES)
        def chmod(self, name: str, mode: int) -> None:
            self.both(lambda r, n, m: os.chmod(os.path.join(r, n), m), name, mode, keeps_times=True)

        @rule(name=NAMES, link_to=s.sampled_from(["a", "../x", "d/e"]))
        def symlink(self, name: str, link_to: str) -> None:
            self.both(lambda r, t, n: os.symlink(t, os.path.join(r, n)), link_to, name)

        @rule(name=NAMES)
        def readlink(self, name: str) -> None:
            self.both(lambda r, n: os.readlink(os.path.join(r, n)), name, keeps_times=True)

        @rule(name=NAMES, mtime=s.integers(min_value=0, max_value=2**40))
        def utime(self, name: str, mtime: int) -> None:
            result = self.both(
                lambda r, n, t: os.utime(os.path.join(r, n), ns=(t, t), follow_symlinks=False),
                name,
                mtime,
                keeps_times=True,
            )
            if result[0] == "ok":
                self.stamped.add(name)

        @invariant()
        def same_tree(self) -> None:
            if not hasattr(self, "silt"):
                return
            assert tree(self.silt) == tree(self.local)
            for name in self.stamped:
                a = outcome(lambda r, n: os.lstat(os.path.join(r, n)).st_mtime_ns, self.silt, name)
                b = outcome(lambda r, n: os.lstat(os.path.join(r, n)).st_mtime_ns, self.local, name)
                assert a == b, (name, a, b)

        def teardown(self) -> None:
            if hasattr(self, "silt"):
                shutil.rmtree(self.silt)
                shutil.rmtree(self.local)
                assert not os.path.exists(self.silt)

    PosixMachine.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    PosixMachine.TestCase().runTest()
