"""``silt s3`` over an embedded home (``--home``) and over a master whose blocks live on a
separate worker process (``--master`` on a MasterProcess + WorkerProcess cluster)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import siltfs
from siltfs.client.remote import RemoteFileSystem
from tests.s3gw.gateway import GatewayProcess, make_client, write_credentials
from tests.servers import SILT_TOML, SRC, free_port, start_cluster


def test_embedded_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "silt.toml").write_text(SILT_TOML)
    gw = GatewayProcess(
        home, write_credentials(tmp_path / "c.toml"), args=("--write-type", "CACHE_THROUGH")
    ).start()
    data = os.urandom(3 * 1024 * 1024 + 5)  # several 1 MiB blocks
    try:
        s3 = make_client(gw.url)
        s3.create_bucket(Bucket="emb")
        s3.put_object(Bucket="emb", Key="k/v", Body=data)
        assert s3.get_object(Bucket="emb", Key="k/v")["Body"].read() == data
    finally:
        assert gw.stop() == 0
    fs = siltfs.open_embedded(home)  # the gateway held the home; it is free again
    try:
        assert fs.read_bytes("/emb/k/v") == data
        assert fs.stat("/emb/k/v").persisted  # CACHE_THROUGH from --write-type
        assert (home / "ufs" / "emb" / "k" / "v").read_bytes() == data
    finally:
        fs.close()


def test_cluster_with_a_worker(tmp_path: Path) -> None:
    master, worker = start_cluster(tmp_path)
    gw = GatewayProcess(tmp_path / "gw", write_credentials(tmp_path / "c.toml"), master=master)
    gw.start()
    remote = RemoteFileSystem(master.url, token=master.token)
    try:
        s3 = make_client(gw.url)
        s3.create_bucket(Bucket="clu")
        data = os.urandom(2 * 1024 * 1024 + 17)
        s3.put_object(Bucket="clu", Key="obj", Body=data)
        got = s3.get_object(Bucket="clu", Key="obj", Range="bytes=1048570-1048585")
        assert got["Body"].read() == data[1048570:1048586]  # across a block boundary
        assert s3.get_object(Bucket="clu", Key="obj")["Body"].read() == data
        assert remote.stat("/clu/obj").cached_percent == 100  # blocks on the worker
        remote.wait_persisted("/clu/obj", timeout=30)
        assert remote.stat("/clu/obj").persisted
    finally:
        remote.close()
        gw.stop()
        worker.stop()
        master.stop()


def _up(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "siltfs.cli.main", "--home", str(home), "up", *args]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("SILT_MASTER", None)
    env.pop("SILT_TOKEN", None)
    return env


def test_silt_up_starts_the_gateway(tmp_path: Path) -> None:
    creds = write_credentials(tmp_path / "c.toml")
    port, s3_port = free_port(), free_port()
    proc = subprocess.Popen(
        _up(
            tmp_path / "h",
            "--port",
            str(port),
            "--s3-port",
            str(s3_port),
            "--s3-credentials",
            str(creds),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_env(),
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("silt up: use it"):
                break
        assert f"silt up: s3         http://127.0.0.1:{s3_port}" in "".join(lines), lines
        s3 = make_client(f"http://127.0.0.1:{s3_port}")
        s3.create_bucket(Bucket="up-bucket")
        s3.put_object(Bucket="up-bucket", Key="k", Body=b"through silt up")
        assert s3.get_object(Bucket="up-bucket", Key="k")["Body"].read() == b"through silt up"
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 3  # master, worker, gateway
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
        assert not any(Path(f"/proc/{c}").exists() and _running(int(c)) for c in children)
    finally:
        if proc.poll() is None:
            proc.kill()


def _running(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_silt_up_refuses_public_credentials_before_starting(tmp_path: Path) -> None:
    creds = write_credentials(tmp_path / "c.toml", mode=0o640)
    out = subprocess.run(
        _up(
            tmp_path / "h",
            "--port",
            str(free_port()),
            "--s3-port",
            str(free_port()),
            "--s3-credentials",
            str(creds),
        ),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert out.returncode == 1 and "chmod 600" in out.stderr
    assert not (tmp_path / "h" / "logs").exists()
