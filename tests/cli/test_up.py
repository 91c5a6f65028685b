"""``silt up`` start-up: busy ports refused before any success line, the reason of a
failed start, ``--worker-port``, children that die with ``silt up``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import SRC, free_port


def up_command(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "siltfs.cli.main", "--home", str(home), "up", *args]


def env() -> dict[str, str]:
    e = {**os.environ, "PYTHONPATH": str(SRC)}
    e.pop("SILT_MASTER", None)
    e.pop("SILT_TOKEN", None)
    return e


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_busy_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for args in (
            ["--port", str(port)],
            ["--port", str(free_port()), "--worker-port", str(port)],
        ):
            out = subprocess.run(
                up_command(tmp_path / "h", *args),
                capture_output=True,
                text=True,
                env=env(),
                timeout=60,
            )
            assert out.returncode == 1
            assert "silt up: master" not in out.stdout
            assert f"cannot listen on 127.0.0.1:{port}" in out.stderr
            assert not (tmp_path / "h" / "logs" / "master.log").exists()


def test_a_master_that_fails_to_start_is_reported_with_its_reason(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "silt.toml").write_text("[persist]\nmax_attempts = 0\n")  # the master refuses it
    out = subprocess.run(
        up_command(home, "--port", str(free_port()), "--timeout", "30"),
        capture_output=True,
        text=True,
        env=env(),
        timeout=90,
    )
    assert out.returncode == 1
    assert "silt up: master" not in out.stdout
    assert "the master did not start" in out.stderr
    assert "max_attempts" in out.stderr


def test_children_die_with_silt_up_and_the_worker_port_is_chosen(tmp_path: Path) -> None:
    home = tmp_path / "h"
    port, worker_port = free_port(), free_port()
    proc = subprocess.Popen(
        up_command(home, "--port", str(port), "--worker-port", str(worker_port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env(),
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("silt up: use it"):
                break
        token = (home / "token").read_text().strip()
        members = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/workers", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert [m["address"] for m in members if m["id"] != "local"] == [
            f"http://127.0.0.1:{worker_port}"
        ]
        children = [
            int(p)
            for p in subprocess.run(
                ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
            ).stdout.split()
        ]
        assert len(children) == 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 30
        while any(alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)  # polling for the kernel's PDEATHSIG to take effect
        assert not any(alive(c) for c in children)
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in children if "children" in locals() else []:
            if alive(c):
                os.kill(c, signal.SIGKILL)
