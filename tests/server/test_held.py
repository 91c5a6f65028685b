"""Versions held by remote readers (server.held): a held version's cached blocks stay
readable through GET /data/held after the file is replaced, until the hold is released
(the X-Silt-Release header on any later request, POST /data/release) or expires."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import siltfs
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.client.remote import RemoteFileSystem
from siltfs.client.wire import API, RELEASE_HEADER
from siltfs.server.held import HeldVersions
from tests.client.conftest import fast_config

from .conftest import MasterProcess


@pytest.fixture
def http(master: MasterProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=master.url, headers=master.auth(), timeout=30) as client:
        yield client


def put(http: httpx.Client, path: str, data: bytes) -> None:
    params = {"path": path, "write_type": "MUST_CACHE"}
    assert http.put(API + "/data", params=params, content=data).status_code == 200


def held_read(http: httpx.Client, token: str, length: int) -> httpx.Response:
    params = {"hold": token, "index": 0, "offset": 0, "length": length}
    return http.get(API + "/data/held", params=params)


@pytest.mark.parametrize("how", ["header", "post"])
def test_a_held_version_is_readable_until_it_is_released(http: httpx.Client, how: str) -> None:
    path = f"/held-{uuid.uuid4().hex[:8]}"
    put(http, path, b"version one")
    info = http.get(API + "/data/info", params={"path": path, "hold": True}).json()
    token = info["hold"]
    assert isinstance(token, str) and len(token) >= 16
    put(http, path, b"version two!")  # replaced: the old blocks wait for the hold
    r = held_read(http, token, 11)
    assert r.status_code == 200 and r.content == b"version one"
    if how == "header":
        http.get(API + "/stat", params={"path": path}, headers={RELEASE_HEADER: token})
    else:
        assert http.post(API + "/data/release", json={"holds": [token]}).status_code == 200
    r = held_read(http, token, 11)
    assert r.status_code == 404 and r.json()["code"] == "file_not_found"
    unheld = http.get(API + "/data/info", params={"path": path}).json()
    assert unheld["hold"] is None  # only when asked for


def test_a_hold_not_used_expires(tmp_path: Path) -> None:
    fs = siltfs.connect(config=fast_config(tmp_path / "home"))
    try:
        check_expiry(fs)
    finally:
        fs.close()


def check_expiry(fs: EmbeddedFileSystem) -> None:
    fs.write_bytes("/f", b"old", write_type="MUST_CACHE")
    old = fs.stat("/f").block_ids
    held = HeldVersions(fs.master, ttl_s=0.0)  # every hold is stale at the next one
    token = held.hold(old)
    fs.write_bytes("/f", b"new", write_type="MUST_CACHE")
    assert fs.master.get_block(old[0]) == b"old"  # kept for the hold
    assert held.block_id(token, 0) == old[0]
    held.hold([])  # ... which expires the first
    assert len(held) == 1
    assert fs.master.get_block(old[0]) is None  # removed with its last hold
    with pytest.raises(siltfs.errors.FileNotFound):
        held.block_id(token, 0)


def test_readers_read_a_replaced_version_and_release_their_holds(remote: RemoteFileSystem) -> None:
    """A remote reader keeps its version after a replacement; closed, its hold goes
    with the client's next request."""
    fs = remote
    path = f"/held-{uuid.uuid4().hex[:8]}"
    fs.write_bytes(path, b"one", write_type="MUST_CACHE")
    old = fs.stat(path).block_ids
    with fs.open(path, "rb") as f:
        fs.write_bytes(path, b"two", write_type="MUST_CACHE")
        assert f.read() == b"one"  # through /data/held
    assert fs._releases  # noqa: SLF001 - what the next request carries
    fs.stat(path)
    assert not fs._releases  # noqa: SLF001
    assert old != fs.stat(path).block_ids
