"""``silt s3`` over an embedded home (``--home``) and over a master whose blocks live on a
separate worker process (``--master`` on a MasterProcess + WorkerProcess cluster)."""

from __future__ import annotations

import os
from pathlib import Path

import siltfs
from siltfs.client.remote import RemoteFileSystem
from tests.s3gw.gateway import GatewayProcess, make_client, write_credentials
from tests.servers import SILT_TOML, start_cluster


def test_embedded_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "silt.toml").write_text(SILT_TOML)
    gw = GatewayProcess(home, write_credentials(tmp_path / "c.toml"),
                        args=("--write-type", "CACHE_THROUGH")).start()  # fmt: skip
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
