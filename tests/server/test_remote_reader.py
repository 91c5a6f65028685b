"""RemoteReader against a scripted master (httpx.MockTransport): broken transfers resume
at the right offset, and a wrong version, range or length is an error, never bytes."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

import httpx
import pytest

from siltfs import errors
from siltfs.client.remote import CHUNK, RemoteFileSystem

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
