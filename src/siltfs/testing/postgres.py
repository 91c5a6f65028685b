"""A throwaway PostgreSQL cluster: for tests and benchmarks of the PostgreSQL metastore.

``throwaway_postgres()`` runs ``initdb`` + ``pg_ctl start`` from the server binaries
(``/usr/lib/postgresql/<version>/bin``; installed with apt-get if missing and allowed) on
a free port of 127.0.0.1, with fsync off, and stops (``-m immediate``) and removes it on
exit.  As root the server runs as the ``postgres`` user (initdb refuses root).
``create_database(server)`` makes an empty database with a unique name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PG_ROOT",
    "PostgresServer",
    "PostgresUnavailable",
    "create_database",
    "drop_database",
    "free_port",
    "server_binaries",
    "throwaway_postgres",
]

PG_ROOT = Path("/usr/lib/postgresql")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, and they could not be installed."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    bin_dir: Path

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"


def server_binaries(install: bool = True) -> Path:
    """The newest ``.../bin`` holding ``initdb``; apt-get installs them if allowed."""

    def found() -> Path | None:
        versions = sorted(
            (p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        )
        return versions[-1] if versions else None

    bin_dir = found()
    if bin_dir is None and install and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        cmd = ["apt-get", "install", "-y", "-q", "postgresql"]
        if subprocess.run(cmd, check=False, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=False, env=env)
            subprocess.run(cmd, check=False, env=env)
        bin_dir = found()
    if bin_dir is None:
        raise PostgresUnavailable(f"no PostgreSQL server binaries under {PG_ROOT}")
    return bin_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], as_postgres: bool) -> None:
    if as_postgres:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )


@contextmanager
def throwaway_postgres(install: bool = True) -> Iterator[PostgresServer]:
    bin_dir = server_binaries(install)
    as_postgres = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="silt-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if as_postgres:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    user = "postgres" if as_postgres else os.environ.get("USER", "postgres")
    _run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            user,
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        as_postgres,
    )
    port = free_port()
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {sock} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
        "-c wal_level=minimal -c max_wal_senders=0"
    )
    pg_ctl = str(bin_dir / "pg_ctl")
    _run(
        [pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "server.log"), "-w", "start"],
        as_postgres,
    )
    try:
        yield PostgresServer("127.0.0.1", port, user, bin_dir)
    finally:
        try:
            _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], as_postgres)
        except Exception:  # noqa: BLE001 - never leave a server on a removed directory
            _kill_postmaster(data)
        shutil.rmtree(base, ignore_errors=True)


def _kill_postmaster(data: Path) -> None:
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown of the server and its backends
    except (OSError, ValueError):
        pass


def create_database(server: PostgresServer) -> str:
    """A new, empty database; returns its DSN."""
    import psycopg

    name = f"silt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.dsn(name)


def drop_database(server: PostgresServer, dsn: str) -> None:
    import psycopg

    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
