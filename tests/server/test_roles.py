"""Roles: the admin token may do everything; client tokens (``silt token create``) not the
mount table, repairs, the queue's retry/cancel or worker registration; read-only tokens
only read -- decided by a real master on tokens made by the real CLI, stored hashed."""

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

from siltfs import errors
from siltfs.client.remote import RemoteFileSystem
from tests.servers import SRC, MasterProcess


def silt_token(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "siltfs.cli.main", "--home", str(home), "token", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def master(tmp_path: Path) -> Iterator[MasterProcess]:
    m = MasterProcess(tmp_path / "home").start()
    try:
        yield m
    finally:
        m.stop()


def create(home: Path, *args: str) -> dict[str, object]:
    out = silt_token(home, "create", "--json", *args)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def test_client_and_read_only_tokens(master: MasterProcess, tmp_path: Path) -> None:
    client = create(master.home, "--name", "etl")
    reader = create(master.home, "--read-only", "--name", "dash")
    stored = (master.home / "tokens.json").read_text()
    assert str(client["token"]) not in stored and str(reader["token"]) not in stored
    assert stat.S_IMODE((master.home / "tokens.json").stat().st_mode) == 0o600
    admin = RemoteFileSystem(master.url, master.token)
    fs = RemoteFileSystem(master.url, str(client["token"]))
    ro = RemoteFileSystem(master.url, str(reader["token"]))
    try:
        fs.write_bytes("/data", b"by a client")
        assert ro.read_bytes("/data") == b"by a client" and ro.exists("/data")
        ro.wait_persisted("/", timeout=30)
        assert ro.check_consistency("/").consistent
        for call in (
            lambda: ro.write_bytes("/x", b"no"),
            lambda: ro.mkdir("/d"),
            lambda: ro.rename("/data", "/moved"),
            lambda: ro.delete("/data"),
        ):
            with pytest.raises(errors.PermissionDenied, match="read-only"):
                call()
        lake = tmp_path / "lake"
        lake.mkdir()
        for who in (fs, ro):
            with pytest.raises(errors.PermissionDenied, match="admin"):
                who.mount("/m", f"file://{lake}")
            with pytest.raises(errors.PermissionDenied, match="admin"):
                who.check_consistency("/", repair=True)
            with pytest.raises(errors.PermissionDenied):
                who.retry_job(all_failed=True)
        r = httpx.post(
            master.url + "/api/v1/workers/heartbeat",
            headers={"Authorization": f"Bearer {client['token']}"},
            json={
                "id": "w-fake",
                "url": "http://127.0.0.1:1",
                "host_id": "h",
                "block_dir": "/x",
                "boot_id": "b",
            },
        )
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
        assert [m.path for m in admin.mounts()] == ["/"]
        assert ro.read_bytes("/data") == b"by a client" and not ro.exists("/x")
        # revoked: refused from the next request on
        out = silt_token(master.home, "revoke", str(client["id"]))
        assert out.returncode == 0, out.stderr
        with pytest.raises(errors.Unauthenticated):
            fs.stat("/data")
        listed = json.loads(silt_token(master.home, "ls", "--json").stdout)
        assert [t["name"] for t in listed] == ["dash"] and "token" not in listed[0]
    finally:
        for c in (admin, fs, ro):
            c.close()
