"""RemoteReader against a scripted master (httpx.MockTransport): broken transfers resume
at the right offset, and a wrong version, range or length is an error, never bytes.
Then against a real master + worker: reads from the worker's block files (short-circuit)
and over HTTP return the right bytes for any seek and size, a file replaced while open
fails rather than mixing versions, and a worker answer that breaks is resumed."""

from __future__ import annotations

import json
import os
import random
import socket
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from siltfs import errors
from siltfs.client.common import CHUNK
from siltfs.client.remote import RemoteFileSystem

from .conftest import MasterProcess

DATA = random.Random(3).randbytes(2 * CHUNK + 12345)
ETAG = f'"7-1-{len(DATA)}"'


class Broken(httpx.SyncByteStream):
    """Yields *data* in pieces, then fails like a dropped connection after *limit* bytes."""

    def __init__(self, data: bytes, limit: int | None) -> None:
        self.data = data
        self.limit = limit

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for i in range(0, len(self.data), 256 * 1024):
            piece = self.data[i : i + 256 * 1024]
            if self.limit is not None and sent + len(piece) > self.limit:
                yield piece[: self.limit - sent]
                raise httpx.ReadError("connection reset by peer")
            sent += len(piece)
            yield piece


Handler = Callable[[int, int, int], httpx.Response | None]


def scripted(handler: Handler | None = None) -> tuple[RemoteFileSystem, list[tuple[int, int]]]:
    """A client whose master serves DATA; *handler(n, start, end)* may override answer n."""
    asked: list[tuple[int, int]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/data/info"):
            meta = {"length": len(DATA), "etag": ETAG, "generation": 1, "inode_id": 7}
            return httpx.Response(200, json=meta)
        spec = request.headers["range"].removeprefix("bytes=")
        start, end = (int(x) for x in spec.split("-"))
        asked.append((start, end + 1))
        custom = handler(len(asked), start, end + 1) if handler else None
        if custom is not None:
            return custom
        return range_response(start, end + 1)

    fs = RemoteFileSystem("http://master", "t", retries=2, transport=httpx.MockTransport(answer))
    fs._backoff = lambda attempt: 0.0  # type: ignore[method-assign]
    return fs, asked


def range_response(
    start: int, end: int, *, etag: str = ETAG, limit: int | None = None, cr: str | None = None
) -> httpx.Response:
    headers = {
        "ETag": etag,
        "Content-Range": cr or f"bytes {start}-{end - 1}/{len(DATA)}",
        "Content-Length": str(end - start),
    }
    return httpx.Response(206, headers=headers, stream=Broken(DATA[start:end], limit))


def test_broken_transfers_resume_where_they_stopped() -> None:
    fs, asked = scripted(lambda n, s, e: range_response(s, e, limit=300_000) if n % 2 else None)
    with fs.open("/f", "rb") as f:
        assert f.read() == DATA
    assert asked[0] == (0, CHUNK) and asked[1] == (300_000, CHUNK)  # resumed, not restarted


def test_truncated_body_without_error_is_resumed() -> None:
    def short(n: int, s: int, e: int) -> httpx.Response | None:
        if n == 1:
            headers = {"ETag": ETAG, "Content-Range": f"bytes {s}-{e - 1}/{len(DATA)}"}
            return httpx.Response(206, headers=headers, content=DATA[s : s + 10])
        return None

    fs, asked = scripted(short)
    assert fs.read_bytes("/f", 0, 100) == DATA[:100]
    assert asked[:2] == [(0, CHUNK), (10, CHUNK)]


def test_gives_up_after_retries_without_progress() -> None:
    fs, asked = scripted(lambda n, s, e: range_response(s, e, limit=0))
    with fs.open("/f", "rb") as f, pytest.raises(errors.Unavailable):
        f.read(10)
    assert len(asked) == 3  # first try + 2 retries


@pytest.mark.parametrize(
    "bad",
    [
        lambda s, e: range_response(s, e, etag='"7-2-99"'),  # another version
        lambda s, e: range_response(s, e, cr=f"bytes {s + 1}-{e}/{len(DATA)}"),  # shifted
        lambda s, e: range_response(s, e, cr=f"bytes {s}-{e - 1}/{len(DATA) + 1}"),  # length
        lambda s, e: httpx.Response(200, content=DATA),  # range ignored
    ],
)
def test_wrong_answers_are_errors_not_bytes(bad: Callable[[int, int], httpx.Response]) -> None:
    fs, _ = scripted(lambda n, s, e: bad(s, e) if n == 2 else None)
    with fs.open("/f", "rb") as f:
        assert f.read(CHUNK) == DATA[:CHUNK]
        with pytest.raises(errors.SiltError):
            f.read(1)
        f.seek(0)
        assert f.read(5) == DATA[:5]  # what was verified stays readable


def test_error_answers_keep_their_class() -> None:
    body = {"code": "file_lost", "message": "cached data lost", "path": "/f", "extra": 1}
    lost = httpx.Response(410, content=json.dumps(body).encode())
    fs, _ = scripted(lambda n, s, e: lost)
    with fs.open("/f", "rb") as f, pytest.raises(errors.FileLost) as err:
        f.read(1)
    assert err.value.path == "/f" and err.value.details == {"extra": 1}
    assert isinstance(err.value, OSError)


# against a real master + worker (the session ``cluster``: 1 MiB blocks) --------------
MiB = 1024 * 1024


@pytest.fixture(params=[True, False], ids=["short-circuit", "worker-http"])
def near(request: pytest.FixtureRequest, cluster: MasterProcess) -> Iterator[RemoteFileSystem]:
    fs = RemoteFileSystem(cluster.url, cluster.token, short_circuit=request.param)
    yield fs
    fs.close()


def _route(fs: RemoteFileSystem) -> str:
    return "short_circuit" if fs.blocks.short_circuit else "worker"


def test_reads_from_the_worker_return_the_right_bytes(near: RemoteFileSystem) -> None:
    data = random.Random(11).randbytes(5 * MiB + 4321)
    path = f"/rr-{uuid.uuid4().hex[:8]}"
    near.write_bytes(path, data, write_type="MUST_CACHE")  # blocks on the worker's SSD
    rng = random.Random(12)
    with near.open(path, "rb") as f:
        assert f.read(3) == data[:3]
        assert f.read(2 * MiB) == data[3 : 2 * MiB + 3]  # across a block boundary
        for _ in range(60):  # random seeks, sizes from 1 byte to 2.5 blocks
            pos = rng.randrange(len(data) + 10)
            n = rng.choice([1, 4096, 65536, MiB - 1, MiB + 1, 5 * MiB // 2])
            f.seek(pos)
            assert f.read(n) == data[pos : pos + n], (pos, n)
        f.seek(MiB - 10)
        steps = [f.read(4096) for _ in range(600)]  # small sequential reads
        assert b"".join(steps) == data[MiB - 10 : MiB - 10 + 600 * 4096]
        buf = bytearray(3 * MiB)
        f.seek(7)
        assert f.readinto(buf) == 3 * MiB and buf == data[7 : 3 * MiB + 7]
        f.seek(0)
        assert f.read() == data
        assert f.read(10) == b""
    assert near.read_bytes(path, MiB - 1, 3 * MiB + 1) == data[MiB - 1 : 3 * MiB + 1]
    other = "worker" if _route(near) == "short_circuit" else "short_circuit"
    assert near.blocks.stats[_route(near)] >= 2 * len(data) and near.blocks.stats[other] == 0


def test_a_file_replaced_while_open_is_never_mixed(near: RemoteFileSystem) -> None:
    old = random.Random(13).randbytes(3 * MiB + 17)
    new = random.Random(14).randbytes(len(old))
    path = f"/rr-{uuid.uuid4().hex[:8]}"
    near.write_bytes(path, old, write_type="MUST_CACHE")
    with near.open(path, "rb") as f:
        assert f.read(100) == old[:100]
        near.write_bytes(path, new, write_type="MUST_CACHE")  # a new version, new blocks
        assert f.read() == old[100:]  # the version it opened: held while it is open
        f.seek(0)
        assert f.read(10) == old[:10]
    assert near.read_bytes(path) == new


def test_a_worker_that_breaks_mid_answer_is_resumed_elsewhere(
    cluster: MasterProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's answer ends early: what arrived is kept, the rest comes from a new
    request (or the master), and the bytes are right."""
    from siltfs.worker import client as worker_client

    data = random.Random(15).randbytes(2 * MiB + 99)
    path = f"/rr-{uuid.uuid4().hex[:8]}"
    fs = RemoteFileSystem(cluster.url, cluster.token, short_circuit=False)
    fs.write_bytes(path, data, write_type="MUST_CACHE")
    real = worker_client.BlockStream.readinto
    calls = {"n": 0}

    def flaky(self: worker_client.BlockStream, view: memoryview) -> int:
        calls["n"] += 1
        if calls["n"] % 3 == 0:  # every third read: the connection drops after 1000 bytes
            real(self, view[: min(1000, len(view))])
            self._drop()
            raise errors.Unavailable("connection reset (test)", "block")
        return real(self, view)

    monkeypatch.setattr(worker_client.BlockStream, "readinto", flaky)
    with fs.open(path, "rb") as f:
        assert f.read(MiB // 2) == data[: MiB // 2]
        assert f.read() == data[MiB // 2 :]
    assert calls["n"] >= 3 and fs.blocks.stats["worker"] > 0
    fs.close()


def test_a_reader_keeps_few_block_files_open(cluster: MasterProcess) -> None:
    from siltfs.client.blocks import OPEN_FILES

    blocks = OPEN_FILES + 5
    data = random.Random(16).randbytes(blocks * MiB)
    path = f"/rr-{uuid.uuid4().hex[:8]}"
    fs = RemoteFileSystem(cluster.url, cluster.token)
    fs.write_bytes(path, data, write_type="MUST_CACHE")
    fds = len(os.listdir("/proc/self/fd"))
    order = list(range(blocks)) * 2
    random.Random(17).shuffle(order)
    with fs.open(path, "rb") as f:
        for i in order:
            f.seek(i * MiB + 5)
            assert f.read(100) == data[i * MiB + 5 : i * MiB + 105]
        assert len(os.listdir("/proc/self/fd")) <= fds + OPEN_FILES
    assert len(os.listdir("/proc/self/fd")) <= fds + 1  # closed with the file
    assert 0 < fs.blocks.stats["short_circuit"] <= 2 * blocks * 64 * 1024  # buffer-sized
    assert fs.blocks.stats["worker"] == 0
    fs.close()


def test_worker_block_streams(cluster: MasterProcess) -> None:
    """``WorkerClient.open_block``: ranges, a missing block, errors, and a kept-alive
    connection the worker closed meanwhile (replaced, not an error)."""
    from siltfs.worker.client import WorkerClient

    data = random.Random(18).randbytes(MiB + 10)
    path = f"/rr-{uuid.uuid4().hex[:8]}"
    fs = RemoteFileSystem(cluster.url, cluster.token, short_circuit=False)
    fs.write_bytes(path, data, write_type="MUST_CACHE")
    info = fs._call("GET", "/data/info", params={"path": path})
    [where] = info["blocks"][0]["locations"]
    bid = info["blocks"][0]["id"]
    client = WorkerClient(where["url"], cluster.token, timeout=10)
    block_file = os.path.join(where["block_dir"], str(bid))
    fd = os.open(block_file, os.O_RDONLY)  # out of the page cache: read in a worker thread
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    try:
        for start, end in ((0, MiB), (5, 6), (MiB - 100, MiB)):
            stream = client.open_block(bid, start, end)
            assert stream is not None and stream.remaining == end - start
            buf = bytearray(end - start)
            while stream.remaining:
                stream.readinto(memoryview(buf)[stream.pos - start :])
            stream.close()
            assert buf == data[start:end]
        assert len(client._idle) == 1  # one connection, reused every time
        for sock in client._idle:  # as if the worker had timed the idle connection out
            sock.shutdown(socket.SHUT_RDWR)
        stream = client.open_block(bid, 0, 10)
        assert stream is not None and stream.readinto(memoryview(bytearray(10))) == 10
        stream.close()
        assert client.open_block(bid + 10**9, 0, 10) is None  # not on this worker
        with pytest.raises(errors.SiltError, match="range"):
            client.open_block(bid, MiB + 5, MiB + 10)  # past the block's end
        stranger = WorkerClient(where["url"], "wrong-token", timeout=10)
        with pytest.raises(errors.Unauthenticated):
            stranger.open_block(bid, 0, 10)
        stranger.close()
    finally:
        client.close()
        fs.close()
