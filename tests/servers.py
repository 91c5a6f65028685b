"""Real siltfs servers in subprocesses, for tests: ``MasterProcess`` (``silt master``)
and ``WorkerProcess`` (``silt worker``), each on a free 127.0.0.1 port with its own log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import siltfs
from siltfs.config import PersistConfig

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

[security]
# the tests mount temporary directories and S3 buckets anywhere; a default master would
# refuse them (tests/server/test_mount_safety.py)
mount_roots = ["/", "s3://", "memory://"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A ``silt`` server command in a subprocess: start it, wait until *ready*, stop it."""

    kind = "server"

    def __init__(self, home: Path, port: int | None, env: dict[str, str] | None) -> None:
        self.home = home
        self.env = env or {}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"{home.name}-{self.kind}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        home.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(SRC), **self.env}
        env.pop("SILT_MASTER", None)
        return env

    def ready(self) -> bool:
        raise NotImplementedError

    def launch(self, timeout: float) -> None:
        cmd = [sys.executable, "-m", "siltfs.cli.main", *self.command()]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=self.environment()
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited {self.proc.returncode}:\n{self.log_text()}")
            if self.ready():
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.kind} not ready within {timeout}s:\n{self.log_text()}")

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


class MasterProcess(ServerProcess):
    """``python -m siltfs.cli.main --home HOME master --port PORT`` and its lifecycle."""

    kind = "master"

    def __init__(
        self,
        home: Path,
        port: int | None = None,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(home, port, env)
        self.args = args
        if not (home / "silt.toml").exists():
            (home / "silt.toml").write_text(SILT_TOML)

    @property
    def token(self) -> str:
        return (self.home / "token").read_text().strip()

    @property
    def cluster_secret(self) -> str:
        return (self.home / "cluster-secret").read_text().strip()

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def cluster_auth(self) -> dict[str, str]:
        """What workers (and only they) call masters and workers with."""
        return {"Authorization": f"Bearer {self.cluster_secret}"}

    def command(self) -> list[str]:
        return [
            "--home",
            str(self.home),
            "master",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            *self.args,
        ]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.pop("SILT_TOKEN", None)
        env.pop("SILT_CLUSTER_SECRET", None)
        return env

    def ready(self) -> bool:
        if not (self.home / "token").exists():
            return False
        try:
            r = httpx.get(self.url + "/api/v1/health", headers=self.auth(), timeout=1)
        except httpx.TransportError:
            return False
        return r.status_code == 200

    def start(self, timeout: float = 30.0) -> MasterProcess:
        self.launch(timeout)
        return self


class WorkerProcess(ServerProcess):
    """``silt worker --master URL ...`` in a subprocess (its cache under *home*)."""

    kind = "worker"

    def __init__(self, home: Path, masters: list[MasterProcess], port: int | None = None) -> None:
        super().__init__(home, port, None)
        self.masters = masters
        if not (home / "silt.toml").exists():
            (home / "silt.toml").write_text(SILT_TOML + WORKER_TOML)

    @property
    def id(self) -> str:
        return (self.home / "worker-id").read_text().strip()

    def command(self) -> list[str]:
        urls = ",".join(m.url for m in self.masters)
        return [
            "worker",
            "--master",
            urls,
            "--home",
            str(self.home),
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]

    def environment(self) -> dict[str, str]:
        secret = self.masters[0].cluster_secret
        return {**super().environment(), "SILT_CLUSTER_SECRET": secret, **self.env}

    def ready(self) -> bool:
        return (self.home / "worker-id").exists() and all(self.registered(m) for m in self.masters)

    def registered(self, master: MasterProcess) -> bool:
        try:
            r = httpx.get(master.url + "/api/v1/workers", headers=master.auth(), timeout=2)
        except httpx.TransportError:
            return False
        return any(w["id"] == self.id and w["alive"] for w in r.json())

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        self.launch(timeout)
        return self


# heartbeats every 0.2 s; a worker silent for 2 s is dead
WORKER_TOML = """
[cluster]
heartbeat_interval_s = 0.2
worker_timeout_s = 2.0
"""
CLUSTER_TOML = SILT_TOML + WORKER_TOML


def start_cluster(root: Path) -> tuple[MasterProcess, WorkerProcess]:
    """A master keeping no blocks itself (``--no-local-worker``) and one worker."""
    (root / "home").mkdir(parents=True)
    (root / "home" / "silt.toml").write_text(CLUSTER_TOML)
    master = MasterProcess(root / "home", args=("--no-local-worker",)).start()
    return master, WorkerProcess(root / "worker", [master]).start()
