"""The wire: auth, bad input, ranges, body limits and aborted uploads, with raw HTTP."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

import siltfs
from siltfs import errors
from siltfs.client.remote import RemoteFileSystem
from siltfs.server import create_app

from .conftest import MasterProcess, embedded_config

API = "/api/v1"


@pytest.fixture
def http(master: MasterProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=master.url, headers=master.auth(), timeout=30) as client:
        yield client


@pytest.fixture
def anon(master: MasterProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=master.url, timeout=30) as client:
        yield client


def unique() -> str:
    return f"/h-{uuid.uuid4().hex[:10]}"


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["code"] == code and isinstance(body["message"], str) and "path" in body
    return dict(body)


# auth ------------------------------------------------------------------------------------
def test_every_api_route_needs_the_token(master: MasterProcess, anon: httpx.Client) -> None:
    spec = anon.get("/openapi.json")  # the description itself is open
    assert spec.status_code == 200
    routes = [(m.upper(), p) for p, ops in spec.json()["paths"].items() for m in ops]
    api_routes = [(m, p.replace("{job_id}", "1")) for m, p in routes if p.startswith(API)]
    assert len(api_routes) >= 25
    for method, path in api_routes:
        r = anon.request(method, path, params={"path": "/"})
        assert_error(r, 401, "unauthenticated")
        assert r.headers["www-authenticate"] == "Bearer"
        wrong = anon.request(method, path, headers={"Authorization": "Bearer nope"})
        assert_error(wrong, 401, "unauthenticated")
    assert anon.get("/docs").status_code == 200
    assert anon.get("/metrics").status_code == 200  # open to loopback clients


def test_remote_client_token_errors(master: MasterProcess) -> None:
    for token in (None, "wrong"):
        with RemoteFileSystem(master.url, token) as fs, pytest.raises(errors.Unauthenticated):
            fs.stat("/")


def test_token_from_environment(master: MasterProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILT_TOKEN", master.token)
    with RemoteFileSystem(master.url) as fs:
        assert fs.stat("/").is_dir
    assert (master.home / "token").stat().st_mode & 0o777 == 0o600


def test_metrics_need_the_token_from_elsewhere(tmp_path: Path) -> None:
    fs = siltfs.connect(config=embedded_config(tmp_path / "home"))

    async def scrape(token: str | None, headers: dict[str, str]) -> list[httpx.Response]:
        transport = httpx.ASGITransport(create_app(fs, token), client=("10.1.2.3", 4567))
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
            return [
                await client.get("/metrics", headers=headers),
                await client.get(API + "/stat", params={"path": "/"}, headers=headers),
            ]

    try:
        for response in anyio.run(scrape, "sekrit", {}):
            assert_error(response, 401, "unauthenticated")
        auth = {"Authorization": "Bearer sekrit"}
        metrics, stat = anyio.run(scrape, "sekrit", auth)
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert stat.json()["is_dir"]
        metrics, stat = anyio.run(scrape, None, {})  # no token: nothing is guarded
        assert metrics.status_code == 200 and stat.status_code == 200
    finally:
        fs.close()


# bad input ----------------------------------------------------------------------------------
def test_bad_input_is_a_json_4xx(http: httpx.Client) -> None:
    r = http.get(API + "/stat", params={"path": "/a/../b"})
    assert assert_error(r, 400, "invalid_path")["path"] == "/a/../b"
    assert_error(http.get(API + "/stat", params={"path": "relative"}), 400, "invalid_path")
    assert_error(http.get(API + "/stat"), 400, "invalid_argument")  # missing parameter
    bad_bool = http.get(API + "/ls", params={"path": "/", "recursive": "maybe"})
    assert_error(bad_bool, 400, "invalid_argument")
    bad_int = http.get(API + "/stat", params={"path": "/", "sync_interval_ms": "soon"})
    assert_error(bad_int, 400, "invalid_argument")
    json_headers = {"Content-Type": "application/json"}
    malformed = http.post(API + "/mkdir", content=b'{"path": ', headers=json_headers)
    assert "malformed JSON" in str(assert_error(malformed, 400, "invalid_argument")["message"])
    body = assert_error(http.post(API + "/mkdir", json={"path": 3}), 400, "invalid_argument")
    assert body["errors"][0]["loc"] == ["body", "path"]  # type: ignore[index]
    assert_error(http.post(API + "/mkdir", json={}), 400, "invalid_argument")
    assert_error(http.post(API + "/mkdir", json=["/x"]), 400, "invalid_argument")
    typo = http.post(API + "/mkdir", json={"path": unique(), "parent": True})
    assert_error(typo, 400, "invalid_argument")
    flag = http.post(API + "/delete", json={"path": "/x", "recursive": "true"})
    assert_error(flag, 400, "invalid_argument")  # strict: no coercion of "true"
    bad_enum = http.post(API + "/mkdir", json={"path": unique(), "write_type": "SOON"})
    assert_error(bad_enum, 400, "invalid_argument")
    assert_error(http.get(API + "/jobs/abc"), 404, "not_found")  # ids are digits: no such route
    assert_error(http.get(API + f"/jobs/{2**64}"), 400, "invalid_argument")  # out of range
    assert_error(
        http.get(API + "/stat", params={"path": "/", "sync_interval_ms": 2**70}),
        400,
        "invalid_argument",
    )
    assert_error(http.get(API + "/jobs/123456789"), 404, "job_not_found")
    assert_error(http.get(API + "/no/such/route"), 404, "not_found")
    assert_error(http.get("/nothing-here"), 404, "not_found")
    assert_error(http.get(API + "/mkdir"), 405, "method_not_allowed")
    missing = http.get(API + "/stat", params={"path": unique() + "/f"})
    assert_error(missing, 404, "file_not_found")


def test_json_bodies_are_limited(http: httpx.Client) -> None:
    big = {"path": "/x", "uri": "file:///tmp", "options": {"k": "v" * (2 * 1024 * 1024)}}
    assert_error(http.post(API + "/mount", json=big), 413, "payload_too_large")

    def chunked() -> Iterator[bytes]:
        yield b'{"path": "/x", "pad": "'
        for _ in range(40):
            yield b"p" * 65536
        yield b'"}'

    r = http.post(API + "/mkdir", content=chunked(), headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")
    parts = iter([b'{"path": "', unique().encode(), b'"}'])
    small = http.post(API + "/mkdir", content=parts, headers={"Content-Type": "application/json"})
    assert small.status_code == 200, small.text  # chunked but small: replayed to the route


# data -----------------------------------------------------------------------------------------
def test_ranges_and_versions(http: httpx.Client) -> None:
    path = unique() + "-r"
    put = http.put(
        API + "/data", params={"path": path, "write_type": "MUST_CACHE"}, content=b"0123456789"
    )
    assert put.status_code == 200 and put.json()["length"] == 10
    whole = http.get(API + "/data", params={"path": path})
    assert whole.status_code == 200 and whole.content == b"0123456789"
    etag = whole.headers["etag"]
    cases = {"bytes=2-4": b"234", "bytes=7-": b"789", "bytes=-3": b"789", "bytes=8-100": b"89"}
    for spec, expected in cases.items():
        r = http.get(API + "/data", params={"path": path}, headers={"Range": spec})
        assert r.status_code == 206 and r.content == expected, spec
        start = 10 - len(expected) if spec.startswith("bytes=-") else int(spec[6:].split("-")[0])
        assert r.headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/10"
    r = http.get(API + "/data", params={"path": path}, headers={"Range": "bytes=10-"})
    assert_error(r, 416, "range_not_satisfiable")
    assert r.headers["content-range"] == "bytes */10"
    ignored = http.get(API + "/data", params={"path": path}, headers={"Range": "bytes=1-2,4-5"})
    assert ignored.status_code == 200 and ignored.content == b"0123456789"
    same = http.get(API + "/data", params={"path": path}, headers={"If-Match": etag})
    assert same.status_code == 200
    http.put(API + "/data", params={"path": path}, content=b"new version")
    stale = http.get(API + "/data", params={"path": path}, headers={"If-Match": etag})
    assert_error(stale, 404, "file_not_found")
    info = http.get(API + "/data/info", params={"path": path}).json()
    assert info["length"] == 11 and info["etag"] != etag


def raw_put(master: MasterProcess, path: str, head: bytes, body: bytes) -> None:
    """Send a PUT whose body stops early, then drop the connection."""
    with socket.create_connection(("127.0.0.1", master.port)) as s:
        s.sendall(
            f"PUT {API}/data?path={path} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {master.token}\r\n".encode()
            + head
            + b"\r\n"
            + body
        )
        time.sleep(0.3)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_interrupted_upload_leaves_nothing(
    master: MasterProcess, http: httpx.Client, framing: str
) -> None:
    path = unique() + "-partial"
    block = b"x" * (3 * 1024 * 1024)
    if framing == "chunked":
        head = b"Transfer-Encoding: chunked\r\n"
        body = f"{len(block):x}\r\n".encode() + block + b"\r\n"  # no terminating chunk
    else:
        head = f"Content-Length: {10 * len(block)}\r\n".encode()
        body = block
    raw_put(master, path, head, body)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # the server notices the disconnect, then aborts
        assert_error(http.get(API + "/stat", params={"path": path}), 404, "file_not_found")
        time.sleep(0.2)
    parent_listing = http.get(API + "/ls", params={"path": "/"}).json()
    assert path not in [i["path"] for i in parent_listing]


def test_a_bad_change_is_refused_and_changes_nothing(http: httpx.Client) -> None:
    """POST /data/change: indices or kept blocks past the file's end, too many blocks,
    a block both new and kept, or a body that does not hold the blocks named: 400, and
    no file appears."""
    path = unique()
    change = API + "/data/change"
    cases = [
        ({"length": 10, "block_size": 4, "blocks": "0-99999999999"}, b""),
        ({"length": 10, "block_size": 4, "shared": "0:999999999:1"}, b""),
        ({"length": 2**62, "block_size": 1, "blocks": "0"}, b"x"),
        ({"length": 10, "block_size": 4, "blocks": "0", "shared": "0:1:5"}, b"abcd"),
        ({"length": 10, "block_size": 4, "blocks": "2,1"}, b"ab" + b"abcd"),
        ({"length": 10, "block_size": 4, "blocks": "0-2"}, b"too short"),
        ({"length": 10, "block_size": 4, "blocks": "x"}, b""),
    ]
    for params, body in cases:
        r = http.post(change, params={"path": path, **params}, content=body)
        assert_error(r, 400, "invalid_argument")
    assert_error(http.get(API + "/stat", params={"path": path}), 404, "file_not_found")
    # a good one: a whole new file of three blocks
    r = http.post(change, params={"path": path, "length": 10, "block_size": 4, "blocks": "0-2"},
                  content=b"0123456789")  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["length"] == 10


def test_a_long_but_valid_request_line_reaches_the_api(http: httpx.Client) -> None:
    """A path of non-ASCII names and xattrs, both within their limits, percent-encoded
    into a request line over h11's default 16 KiB: answered by the API (JSON), not
    refused by the HTTP parser with a plain-text 400."""
    import base64
    import json

    path = "/" + "/".join("語" * 80 + str(i) for i in range(16))  # 3,870 bytes
    value = base64.b64encode(b"\xfb" * 5000).decode()  # '+/v7...': encoded 3 chars each
    xattrs = json.dumps({"user.big": value})
    r = http.put(API + "/data", params={"path": path, "xattrs": xattrs}, content=b"x")
    assert len(str(r.request.url)) > 16 * 1024
    assert r.headers["content-type"].startswith("application/json"), r.text[:200]
    assert r.status_code == 200, r.text[:200]
    assert http.get(API + "/stat", params={"path": path}).json()["length"] == 1


def test_the_longest_change_lists_reach_the_api(master: MasterProcess) -> None:
    """The block lists of POST /data/change at their limit, in the characters that
    percent-encode longest, beside a path at its limit (a request line past httpx's
    64 KiB, so sent by hand): a JSON 4xx from the API (they are not block lists), never
    the HTTP parser's plain-text 400 for a head too large."""
    from urllib.parse import urlencode

    from siltfs.client.versions import MAX_CHANGE_TEXT
    from siltfs.model.paths import MAX_PATH_BYTES

    path = "/" + "/".join("語" * 80 + str(i) for i in range(16))
    assert MAX_PATH_BYTES - 300 < len(path.encode()) <= MAX_PATH_BYTES
    wide = "\U0001f600" * MAX_CHANGE_TEXT  # 12 bytes each in the URL
    query = urlencode(
        {"path": path, "length": 10, "block_size": 10, "blocks": wide, "shared": wide}
    )
    assert len(query) > 2 * 12 * MAX_CHANGE_TEXT
    with socket.create_connection(("127.0.0.1", master.port)) as s:
        s.sendall(
            f"POST {API}/data/change?{query} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {master.token}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower(), answer[:300]
    assert 400 <= status < 500 and b"invalid_argument" in body, answer[:300]
