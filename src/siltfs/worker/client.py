"""An HTTP client of one worker's block API (``siltfs.server.worker_api``).

Used by masters (placing, reading, pinning and dropping blocks) and by remote clients
(reading the blocks of a file straight from the worker that holds them).  A worker that
cannot be reached raises :class:`~siltfs.errors.Unavailable`; a block it does not have
is ``None``, never an error; one the worker dropped for failing its checksums raises
:class:`~siltfs.errors.BlockCorrupted` (the worker verifies every byte it sends; a body it
cut short because the next bytes failed is asked for once more, which then says so).
Blocks are sent with their CRC-32C, which the worker checks before storing them.

Remote clients read block bodies with :meth:`WorkerClient.open_block`: a plain HTTP/1.1
``GET`` with a ``Range`` on a kept-alive socket of the client's own, whose body is
received straight into the caller's buffer (``recv_into``) -- no HTTP library between
the socket and the reader, which at loopback speeds costs more than the transfer.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from siltfs.errors import SiltError, Unavailable, error_class_for_code
from siltfs.tls import client_verify
from siltfs.worker.checksums import crc

BLOCKS = "/api/v1/blocks"
HEAD_LIMIT = 64 * 1024  # status line + headers of a block answer
DRAIN_LIMIT = 256 * 1024  # an unread rest up to this is read off to keep the connection
IDLE_LIMIT = 8  # kept-alive block connections per worker
CRC_HEADER = "X-Silt-Crc32c"  # a block's CRC-32C on a PUT (siltfs.server.worker_api)


def _error_from(status: int, body: bytes, what: str) -> SiltError:
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("code"), str):
        cls = error_class_for_code(doc["code"])
        return cls(str(doc.get("message") or doc["code"]), doc.get("path") or what)
    text = body[:200].decode("utf-8", "replace")
    return SiltError(f"HTTP {status} from worker: {text}", what)


def _error(response: httpx.Response, what: str) -> SiltError:
    return _error_from(response.status_code, response.content, what)


class _Closed(Exception):
    """The connection ended before a whole answer head arrived."""


class BlockStream:
    """The body of one ``GET`` of bytes [start, end) of a block, read into caller buffers.

    ``readinto`` raises :class:`Unavailable` when the connection breaks; ``pos`` says
    how far the body got.  ``close()`` returns the connection to its client for reuse
    when the body was read (or little of it is left), else closes it.
    """

    def __init__(
        self,
        owner: WorkerClient,
        sock: socket.socket,
        block_id: int,
        start: int,
        end: int,
        early: bytes,
        keep: bool,
    ) -> None:
        self._owner = owner
        self._sock: socket.socket | None = sock
        self.block_id = block_id
        self.pos = start
        self.end = end
        self._early = memoryview(early)  # body bytes that came with the head
        self._keep = keep

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def readinto(self, view: memoryview) -> int:
        """Fill *view* (at most ``remaining`` bytes); the number of bytes read."""
        want = min(len(view), self.end - self.pos)
        done = 0
        if want and self._early:
            done = min(want, len(self._early))
            view[:done] = self._early[:done]
            self._early = self._early[done:]
        sock = self._sock
        try:
            while done < want:
                if sock is None:
                    raise OSError("stream closed")
                n = sock.recv_into(view[done:want])
                if n == 0:
                    raise OSError("the worker closed the connection")
                done += n
        except OSError as exc:
            self.pos += done
            self._drop()
            raise Unavailable(
                f"worker at {self._owner.url}: block {self.block_id} body broke at byte "
                f"{self.pos}: {exc}",
                f"block {self.block_id}",
            ) from exc
        self.pos += done
        return done

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        sock = self._sock
        if sock is None:
            return
        rest = self.end - self.pos
        if not self._keep or rest > DRAIN_LIMIT:
            self._drop()
            return
        if rest:
            scratch = memoryview(bytearray(rest))
            try:
                while self.pos < self.end:
                    self.readinto(scratch)
            except Unavailable:
                return
        self._sock = None
        self._owner._release(sock)


class WorkerClient:
    def __init__(self, url: str, token: str | None, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
        self._verify = client_verify()  # $SILT_CA or the system store (siltfs.tls)
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            limits=limits,
            verify=self._verify,
        )
        self.timeout = timeout
        parts = urlsplit(self.url)
        self._tls = parts.scheme == "https"
        self._address = (parts.hostname or "127.0.0.1", parts.port or (443 if self._tls else 80))
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._head = f"Host: {parts.netloc}\r\n{auth}User-Agent: siltfs\r\n"
        self._idle: list[socket.socket] = []
        self._idle_lock = threading.Lock()

    def _request(self, method: str, route: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, BLOCKS + route, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"worker at {self.url} unreachable: {exc!r}", what) from exc

    def put(
        self,
        block_id: int,
        data: bytes | memoryview,
        *,
        durable: bool,
        ssd: bool,
        pin: bool,
        crc32c: int | None = None,
    ) -> tuple[str, int]:
        """Store a block; returns its tier and the worker's block-set version after it.
        *crc32c*: the block's CRC-32C if the caller has it (computed otherwise)."""
        what = f"block {block_id}"
        params = {"durable": durable, "ssd": ssd, "pin": pin}
        value = crc(data) if crc32c is None else crc32c
        headers = {CRC_HEADER: f"{value:08x}"}
        r = self._request(
            "PUT", f"/{block_id}", what, params=params, content=bytes(data), headers=headers
        )
        if not r.is_success:
            raise _error(r, what)
        answer = r.json()
        return str(answer["tier"]), int(answer["version"])

    def has(self, block_id: int) -> bool:
        """Whether the worker holds the block (asked directly, not from a heartbeat)."""
        what = f"block {block_id}"
        r = self._request("HEAD", f"/{block_id}", what)
        if r.status_code == 404:
            return False
        if not r.is_success:
            raise SiltError(f"HTTP {r.status_code} from worker {self.url}", what)
        return True

    def get(self, block_id: int, *, promote: bool = False) -> bytes | None:
        return self.get_range(block_id, None, None, promote=promote)

    def get_range(
        self, block_id: int, start: int | None, end: int | None, *, promote: bool = False
    ) -> bytes | None:
        """Bytes [start, end) of a block (all of it by default); None if not cached."""
        what = f"block {block_id}"
        headers = {}
        if start is not None and end is not None:
            headers["Range"] = f"bytes={start}-{end - 1}"
        params = {"promote": promote} if promote else None
        try:
            r = self._http.request("GET", BLOCKS + f"/{block_id}", headers=headers, params=params)
        except httpx.RemoteProtocolError:  # cut short (corrupt bytes next?): once more
            r = self._request("GET", f"/{block_id}", what, headers=headers, params=params)
        except httpx.HTTPError as exc:
            raise Unavailable(f"worker at {self.url} unreachable: {exc!r}", what) from exc
        if r.status_code == 404:
            return None
        if not r.is_success:
            raise _error(r, what)
        return r.content

    def _post(self, action: str, block_ids: Iterable[int]) -> dict[str, Any]:
        ids = list(block_ids)
        if not ids:
            return {}
        r = self._request("POST", f"/{action}", f"{len(ids)} block(s)", json={"ids": ids})
        if not r.is_success:
            raise _error(r, f"{len(ids)} block(s)")
        result: dict[str, Any] = r.json()
        return result

    def pin(self, block_ids: Iterable[int]) -> None:
        self._post("pin", block_ids)

    def unpin(self, block_ids: Iterable[int]) -> None:
        self._post("unpin", block_ids)

    def remove(self, block_ids: Iterable[int]) -> None:
        self._post("remove", block_ids)

    def free(self, block_ids: Iterable[int]) -> int:
        return int(self._post("free", block_ids).get("freed", 0))

    # block bodies over plain sockets ----------------------------------------
    def open_block(self, block_id: int, start: int, end: int) -> BlockStream | None:
        """Start reading bytes [start, end) of a block; None if the worker lacks it.

        Raises :class:`Unavailable` (unreachable, connection broken before an answer)
        or the SiltError the worker answered.
        """
        what = f"block {block_id}"
        request = (
            f"GET {BLOCKS}/{block_id} HTTP/1.1\r\n{self._head}"
            f"Range: bytes={start}-{end - 1}\r\n\r\n"
        ).encode("latin-1")
        for attempt in (0, 1):
            sock, reused = self._acquire(what)
            try:
                sock.sendall(request)
                status, headers, early = self._read_head(sock)
                break
            except (OSError, _Closed, ValueError) as exc:
                sock.close()
                if reused and attempt == 0 and not isinstance(exc, ValueError):
                    continue  # a kept-alive connection the worker had closed: once more
                raise Unavailable(f"worker at {self.url}: {exc!r}", what) from exc
        keep = headers.get("connection", "").lower() != "close"
        length = headers.get("content-length", "")
        if not length.isdigit() or "transfer-encoding" in headers:
            sock.close()
            raise SiltError(f"worker answered HTTP {status} without a length", what)
        if status == 206:
            expected = f"bytes {start}-{end - 1}/"
            if not headers.get("content-range", "").startswith(expected) or int(length) != (
                end - start
            ):
                sock.close()
                raise SiltError(
                    f"asked the worker for {expected}, it sent "
                    f"{headers.get('content-range')} ({length} bytes)",
                    what,
                )
            return BlockStream(self, sock, block_id, start, end, early, keep)
        if status == 200 and start == 0 and int(length) == end:  # the range was the block
            return BlockStream(self, sock, block_id, start, end, early, keep)
        body = BlockStream(self, sock, block_id, 0, min(int(length), HEAD_LIMIT), early, keep)
        buf = bytearray(body.end)
        try:
            got = body.readinto(memoryview(buf)) if int(length) <= HEAD_LIMIT else 0
        except Unavailable:
            got = 0
        if got == int(length):
            body.close()  # read whole: the connection can be used again
        else:
            body._drop()
        if status == 404:
            return None
        raise _error_from(status, bytes(buf[:got]), what)

    def _acquire(self, what: str) -> tuple[socket.socket, bool]:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop(), True
        try:
            sock = socket.create_connection(self._address, timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls:
                ctx = self._verify
                sock = ctx.wrap_socket(sock, server_hostname=self._address[0])
        except OSError as exc:
            raise Unavailable(f"worker at {self.url} unreachable: {exc!r}", what) from exc
        return sock, False

    def _release(self, sock: socket.socket) -> None:
        with self._idle_lock:
            if len(self._idle) < IDLE_LIMIT:
                self._idle.append(sock)
                return
        sock.close()

    @staticmethod
    def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and the body bytes that came along."""
        buf = bytearray()
        while (end := buf.find(b"\r\n\r\n")) < 0:
            if len(buf) > HEAD_LIMIT:
                raise ValueError("answer head too long")
            chunk = sock.recv(HEAD_LIMIT)
            if not chunk:
                raise _Closed("connection closed before an answer")
            buf += chunk
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ValueError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
            headers["connection"] = "close"
        return int(code), headers, bytes(buf[end + 4 :])

    def close(self) -> None:
        self._http.close()
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()
