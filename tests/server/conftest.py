"""Fixtures for the HTTP master: a real ``silt master`` in a subprocess, remote clients.

``master`` (session): one server on a free 127.0.0.1 port, shared by the tests, each of
which works under its own fresh directory (the ``base`` fixture).  ``anyfs`` runs a test
twice: on an embedded FileSystem and on a RemoteFileSystem talking to ``master``, with
the same configuration (1 MiB blocks, 2 persist attempts, fast backoff).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import siltfs
from siltfs.client.remote import RemoteFileSystem
from siltfs.config import CacheConfig, PersistConfig, SiltConfig

SRC = Path(siltfs.__file__).resolve().parents[1]
BLOCK = 1024 * 1024
PERSIST = PersistConfig(
    max_attempts=2, backoff_initial_s=0.01, backoff_max_s=0.05, poll_interval_s=0.01
)
SILT_TOML = f"""
[cache]
block_size = {BLOCK}

[persist]
max_attempts = {PERSIST.max_attempts}
backoff_initial_s = {PERSIST.backoff_initial_s}
backoff_max_s = {PERSIST.backoff_max_s}
poll_interval_s = {PERSIST.poll_interval_s}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MasterProcess:
    """``python -m siltfs.cli.main --home HOME master --port PORT`` and its lifecycle."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"{home.name}-master.log"
        self.proc: subprocess.Popen[bytes] | None = None
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "silt.toml").exists():
            (home / "silt.toml").write_text(SILT_TOML)

    @property
    def token(self) -> str:
        return (self.home / "token").read_text().strip()

    def start(self, timeout: float = 30.0) -> MasterProcess:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        env.pop("SILT_TOKEN", None)
        env.pop("SILT_MASTER", None)
        cmd = [sys.executable, "-m", "siltfs.cli.main", "--home", str(self.home), "master",
               "--port", str(self.port), "--log-level", "warning"]  # fmt: skip
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"master exited {self.proc.returncode}:\n{self.log_text()}")
            if (self.home / "token").exists():
                try:
                    r = httpx.get(self.url + "/api/v1/health", headers=self.auth(), timeout=1)
                    if r.status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"master did not answer within {timeout}s:\n{self.log_text()}")

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """kill -9: no shutdown at all."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the graceful path."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return int(self.proc.returncode)


@pytest.fixture(scope="session")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterProcess]:
    server = MasterProcess(tmp_path_factory.mktemp("master") / "home").start()
    yield server
    server.stop()


@pytest.fixture
def remote(master: MasterProcess) -> Iterator[RemoteFileSystem]:
    fs = RemoteFileSystem(master.url, master.token, timeout=30, retries=3)
    yield fs
    fs.close()


def embedded_config(home: Path) -> SiltConfig:
    return SiltConfig(home=home, cache=CacheConfig(block_size=BLOCK), persist=PERSIST)


@pytest.fixture(params=["embedded", "remote"])
def anyfs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The same test on an embedded FileSystem and on a RemoteFileSystem."""
    if request.param == "embedded":
        fs: Any = siltfs.connect(config=embedded_config(tmp_path / "embedded-home"))
    else:
        server: MasterProcess = request.getfixturevalue("master")
        fs = RemoteFileSystem(server.url, server.token)
    yield fs
    fs.close()


@pytest.fixture
def base(anyfs: Any) -> str:
    """A fresh directory for this test (the remote master is shared by every test)."""
    path = f"/t-{uuid.uuid4().hex[:10]}"
    anyfs.mkdir(path)
    return path
