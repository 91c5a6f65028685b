"""Client tokens on workers: a worker accepts the admin and client tokens its master
vouches for (their digests come with heartbeat answers) -- block reads for every one,
storing a new block for all but read-only tokens; replacing a cached block, pinning and
dropping are the cluster secret's alone.  A revoked token is refused from the next
heartbeat on.  Real master, worker and ``silt token`` processes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import crc32c
import httpx
import pytest

from siltfs.client.remote import RemoteFileSystem
from tests.server.test_cluster_secret import bearer
from tests.server.test_roles import create, silt_token
from tests.server.test_workers import Cluster, MiB, wait_for


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "c", 1)
    try:
        yield c
    finally:
        c.close()


def put(url: str, body: bytes, auth: dict[str, str]) -> httpx.Response:
    return httpx.put(
        url, content=body, headers={**auth, "X-Silt-Crc32c": f"{crc32c.crc32c(body):08x}"}
    )


def test_client_tokens_read_blocks_straight_from_the_worker(cluster: Cluster) -> None:
    master, worker = cluster.master, cluster.workers[0]
    data = random.Random(1).randbytes(3 * MiB)
    admin = cluster.client()
    admin.write_bytes("/f.bin", data, write_type="MUST_CACHE")
    for args in ((), ("--read-only",)):
        token = str(create(master.home, *args)["token"])
        wait_for(
            lambda t=token: (
                httpx.get(
                    worker.url + "/api/v1/blocks",  # type: ignore[misc]
                    headers=bearer(t),
                ).status_code
                == 200
            ),
            what="the worker learned the new token",
        )
        fs = RemoteFileSystem(master.url, token, short_circuit=False)
        try:
            assert fs.read_bytes("/f.bin") == data
            assert fs.blocks.stats == {"short_circuit": 0, "worker": len(data)}  # no fallback
        finally:
            fs.close()
    admin.close()


def test_what_each_token_may_do_on_a_worker(cluster: Cluster) -> None:
    master, worker = cluster.master, cluster.workers[0]
    client = create(master.home, "--name", "etl")
    reader = create(master.home, "--read-only", "--name", "dash")
    blocks = worker.url + "/api/v1/blocks"
    as_client, as_reader = bearer(str(client["token"])), bearer(str(reader["token"]))
    wait_for(
        lambda: httpx.get(blocks, headers=as_reader).status_code == 200,
        what="the worker learned the tokens",
    )
    assert httpx.get(blocks, headers=bearer("not-a-token")).status_code == 401

    r = put(f"{blocks}/777", b"by a client", as_reader)
    assert r.status_code == 403 and "read-only" in r.json()["message"]
    r = httpx.put(
        f"{blocks}/777?pin=true",
        content=b"x",
        headers={**as_client, "X-Silt-Crc32c": f"{crc32c.crc32c(b'x'):08x}"},
    )
    assert r.status_code == 403 and "pins" in r.json()["message"]  # never unevictable
    assert put(f"{blocks}/777", b"by a client", as_client).status_code == 200  # a new block
    assert httpx.get(f"{blocks}/777", headers=as_reader).content == b"by a client"
    r = put(f"{blocks}/777", b"replaced!", as_client)  # not its to replace
    assert r.status_code == 409 and r.json()["code"] == "file_exists"
    r = put(f"{blocks}/777", b"replaced!", master.auth())  # nor the admin token's
    assert r.status_code == 409
    for action in ("pin", "unpin", "free", "remove"):
        for auth in (as_client, as_reader, master.auth()):
            r = httpx.post(f"{blocks}/{action}", json={"ids": [777]}, headers=auth)
            assert r.status_code == 403 and "cluster secret" in r.json()["message"], action
    assert httpx.get(f"{blocks}/777", headers=as_client).content == b"by a client"
    assert put(f"{blocks}/777", b"replaced!", master.cluster_auth()).status_code == 200
    assert httpx.get(f"{blocks}/777", headers=as_client).content == b"replaced!"
    r = httpx.post(f"{blocks}/remove", json={"ids": [777]}, headers=master.cluster_auth())
    assert r.status_code == 200
    assert httpx.get(f"{blocks}/777", headers=as_client).status_code == 404

    out = silt_token(master.home, "revoke", str(client["id"]))
    assert out.returncode == 0, out.stderr
    wait_for(
        lambda: httpx.get(blocks, headers=as_client).status_code == 401,
        what="the worker forgot the revoked token",
    )
    assert httpx.get(blocks, headers=as_reader).status_code == 200
