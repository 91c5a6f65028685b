"""The cluster secret (``<home>/cluster-secret``) is what workers and masters authenticate
to each other with: only it registers a worker (client tokens and the admin token get
403), and it opens nothing else on a master.  Real master and worker processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import CLUSTER_TOML, SRC, MasterProcess, WorkerProcess, free_port

FAKE = {
    "id": "w-fake",
    "url": "http://127.0.0.1:1",
    "host_id": "h",
    "block_dir": "/x",
    "boot_id": "b",
}


@pytest.fixture
def master(tmp_path: Path) -> Iterator[MasterProcess]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "silt.toml").write_text(CLUSTER_TOML)
    m = MasterProcess(home, args=("--no-local-worker",)).start()
    try:
        yield m
    finally:
        m.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def members(master: MasterProcess) -> set[str]:
    r = httpx.get(master.url + "/api/v1/workers", headers=master.auth())
    return {w["id"] for w in r.json()}


def client_token(home: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "siltfs.cli.main",
            "--home",
            str(home),
            "token",
            "create",
            "--json",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout)["token"])


def test_only_the_cluster_secret_registers_a_worker(master: MasterProcess) -> None:
    secret_file = master.home / "cluster-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert master.cluster_secret != master.token
    heartbeat = master.url + "/api/v1/workers/heartbeat"
    for token in (
        client_token(master.home),
        client_token(master.home, "--read-only"),
        master.token,
    ):
        r = httpx.post(heartbeat, json=FAKE, headers=bearer(token))
        assert r.status_code == 403 and r.json()["code"] == "permission_denied", r.text
        assert "cluster secret" in r.json()["message"]
    assert httpx.post(heartbeat, json=FAKE, headers=bearer("wrong")).status_code == 401
    assert "w-fake" not in members(master)
    r = httpx.post(heartbeat, json=FAKE, headers=master.cluster_auth())
    assert r.status_code == 200, r.text
    assert "w-fake" in members(master)


def test_the_cluster_secret_opens_nothing_else(master: MasterProcess) -> None:
    auth = master.cluster_auth()
    assert httpx.get(master.url + "/api/v1/health", headers=auth).status_code == 200
    calls = [
        ("GET", "/ls", {"params": {"path": "/"}}),
        ("GET", "/stat", {"params": {"path": "/"}}),
        ("GET", "/data", {"params": {"path": "/x"}}),
        ("PUT", "/data", {"params": {"path": "/x"}, "content": b"no"}),
        ("POST", "/mkdir", {"json": {"path": "/d"}}),
        ("POST", "/mount", {"json": {"path": "/m", "uri": "file:///etc"}}),
        ("GET", "/workers", {}),
        ("GET", "/jobs", {}),
    ]
    for method, route, kwargs in calls:
        r = httpx.request(method, master.url + "/api/v1" + route, headers=auth, **kwargs)
        assert r.status_code == 403, (method, route, r.text)
        assert "only registers workers" in r.json()["message"]
    assert (
        httpx.get(master.url + "/api/v1/ls", params={"path": "/"}, headers=master.auth()).json()
        == []
    )


def test_a_worker_registers_with_the_secret_and_not_with_the_admin_token(
    master: MasterProcess, tmp_path: Path
) -> None:
    worker = WorkerProcess(tmp_path / "worker", [master]).start()  # with the secret
    try:
        assert worker.id in members(master)
    finally:
        worker.stop()
    impostor = WorkerProcess(tmp_path / "impostor", [master])
    impostor.env = {"SILT_CLUSTER_SECRET": master.token}  # the admin token is not it
    with pytest.raises(RuntimeError, match="not ready"):
        impostor.start(timeout=5)  # never registered
    assert "403" in impostor.log_text() and "cluster secret" in impostor.log_text()
    assert impostor.id not in members(master)


def test_a_worker_without_the_secret_does_not_start(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("SILT_CLUSTER_SECRET", None)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "siltfs.cli.main",
            "--home",
            str(tmp_path / "h"),
            "worker",
            "--master",
            "http://127.0.0.1:9",
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert "no cluster secret" in out.stderr and "cluster-secret" in out.stderr
