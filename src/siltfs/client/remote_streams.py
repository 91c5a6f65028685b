"""The remote client's file objects: :class:`RemoteReader` (ranged, resumable reads of
one version) and :class:`RemoteWriter` (a spooled upload committed on close)."""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import httpx

from siltfs.client.blocks import BlockCursor
from siltfs.client.common import CHUNK, PieceReader
from siltfs.client.versions import Version
from siltfs.client.wire import API, content_range, error_from_response
from siltfs.errors import FileNotFound, SiltError, Unavailable
from siltfs.model.inode import FileInfo

if TYPE_CHECKING:
    from siltfs.client.remote import RemoteFileSystem

__all__ = ["RemoteReader", "RemoteWriter"]


class _Broken(Exception):
    """A transfer stopped early (message, bytes received); safe to resume there."""


class RemoteReader(PieceReader):
    _hold: str | None = None  # (close() before __init__ finished)
    _cursor: BlockCursor | None = None

    """A seekable reader of one version of a remote file, fetching ranges lazily.

    Bytes go straight into the caller's buffer (``read(n)`` of a ``BufferedReader``
    hands large reads down unbuffered): a cached block from the worker's block file or
    the worker's answer (:class:`~siltfs.client.blocks.BlockCursor`), the rest from the
    master in ranges checked against the version.  A read that goes on where the last
    one stopped asks a worker for the rest of the block at once (one request per block
    for a sequential reader); any other read asks for what it needs.  Small reads from
    the master fetch the whole piece and keep it, as before.
    """

    def __init__(self, fs: RemoteFileSystem, path: str, params: dict[str, Any]) -> None:
        super().__init__()
        # holding the version: it stays readable (GET /data/held) if it is replaced or
        # unlinked while this reader is open (server.held)
        info_params = {"path": path, "hold": True, **params}
        meta = fs._call("GET", "/data/info", params=info_params, idempotent=True)
        self._hold: str | None = meta.get("hold")
        self._fs = fs
        self.path = path
        self._params = params
        self.size: int = meta["length"]
        self.etag: str = meta["etag"]
        self.generation: int = meta["generation"]
        self.inode_id: int = meta["inode_id"]
        self._version = Version(
            self.inode_id,
            self.size,
            int(meta.get("block_size") or 0),
            tuple(int(b) for b in meta.get("block_ids", ())),
        )
        self._gone = False  # the version was replaced or unlinked since it was opened
        self._pos = 0
        self._cur: tuple[int, bytes] | None = None
        # cached blocks and where they are: read from the worker (or its block file)
        self._blocks = {b["index"]: b for b in meta.get("blocks", ())}
        self._piece_len = int(meta.get("block_size") or CHUNK) if self._blocks else CHUNK
        self._cursor = fs.blocks.cursor() if self._blocks else None
        self._next = -1  # where the last read stopped

    def version(self) -> Version:
        return self._version

    def _total(self) -> int:
        return self.size

    def _piece_size(self) -> int:
        return self._piece_len

    def _piece(self, idx: int) -> bytes:
        return self._chunk(idx)

    def _piece_into(self, idx: int, offset: int, out: memoryview) -> int:
        pos = idx * self._piece_len + offset
        sequential = pos == self._next
        n = self._read_piece(idx, offset, out, sequential)
        self._next = pos + n
        return n

    def _read_piece(self, idx: int, offset: int, out: memoryview, sequential: bool) -> int:
        cur = self._cur
        if cur is not None and cur[0] == idx:
            n = max(0, min(len(out), len(cur[1]) - offset))
            out[:n] = memoryview(cur[1])[offset : offset + n]
            return n
        start = idx * self._piece_len
        length = min(self.size, start + self._piece_len) - start
        block = self._blocks.get(idx)
        if block is not None and self._cursor is not None:
            ahead = length if sequential else offset + len(out)
            n = self._cursor.readinto(block, length, offset, out, ahead)
            if n:
                return n
            del self._blocks[idx]  # no location serves it: the master will
        if offset + len(out) < length and len(out) < CHUNK // 4:
            return super()._piece_into(idx, offset, out)  # small: keep the whole piece
        self.fetch_into(out, start + offset)
        return len(out)

    def _chunk(self, idx: int) -> bytes:
        if self._cur is None or self._cur[0] != idx:
            start = idx * self._piece_len
            self._cur = (idx, self.fetch(start, min(self.size, start + self._piece_len)))
        return self._cur[1]

    def fetch(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of this version, resuming a broken transfer."""
        out = bytearray(end - start)
        self.fetch_into(memoryview(out), start)
        return bytes(out)

    def fetch_into(self, out: memoryview, start: int) -> None:
        """Fill *out* with the bytes from *start* of this version, resuming a broken
        transfer."""
        done = 0
        failures = 0
        while done < len(out):
            before = done
            try:
                if self._gone:
                    done += self._fetch_held(out[done:], start + done)
                else:
                    done += self._fetch_into(out[done:], start + done)
            except FileNotFound:
                if self._hold is None or self._gone:
                    raise
                self._gone = True  # replaced or unlinked: read the held blocks from now on
            except _Broken as exc:
                done += exc.args[1]
                failures = 0 if done > before else failures + 1
                if failures > self._fs.retries:
                    raise Unavailable(f"reading failed: {exc.args[0]}", path=self.path) from exc
                time.sleep(self._fs._backoff(failures))

    def _fetch_into(self, out: memoryview, pos: int) -> int:
        end = pos + len(out)
        headers = {"Range": f"bytes={pos}-{end - 1}", "If-Match": self.etag}
        params = {"path": self.path, "inode": self.inode_id, **self._params}
        got = 0
        try:
            with self._fs._http.stream("GET", API + "/data", params=params, headers=headers) as r:
                if r.status_code != 206:
                    r.read()
                    if r.is_success:
                        raise SiltError("the master ignored the byte range", path=self.path)
                    raise error_from_response(r)
                if r.headers.get("etag") != self.etag:
                    raise FileNotFound("changed since it was opened", path=self.path)
                expected = (pos, end, self.size)
                if content_range(r.headers.get("content-range")) != expected:
                    raise SiltError(
                        f"asked for bytes {pos}-{end - 1}/{self.size}, the master sent "
                        f"{r.headers.get('content-range')}",
                        path=self.path,
                    )
                for piece in r.iter_bytes():
                    if got + len(piece) > end - pos:
                        raise SiltError("the master sent more bytes than asked", path=self.path)
                    out[got : got + len(piece)] = piece
                    got += len(piece)
                if got != end - pos:
                    raise _Broken(f"transfer ended after {got} of {end - pos} bytes", got)
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise _Broken(f"{type(exc).__name__}: {exc}", got) from exc
        return got

    def _fetch_held(self, out: memoryview, pos: int) -> int:
        """Bytes of this version after it is gone, from its held blocks (one block's
        worth at most); FileNotFound once a block is no longer cached."""
        bs = self._version.block_size
        index, offset = divmod(pos, bs)
        want = min(len(out), bs - offset)
        params = {"hold": self._hold, "index": index, "offset": offset, "length": want}
        r = self._fs._send("GET", "/data/held", params=params, idempotent=True)
        if not r.is_success:
            raise FileNotFound("changed since it was opened (that version is gone)", path=self.path)
        data = r.content
        if not data or len(data) > want:
            raise SiltError(f"the master sent {len(data)} of {want} bytes", path=self.path)
        out[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
        if self._hold is not None:
            self._fs._release_later(self._hold)
            self._hold = None
        super().close()


class RemoteWriter(io.RawIOBase):
    """Spools writes to a local temporary file; ``close()`` uploads and commits it."""

    def __init__(self, fs: RemoteFileSystem, path: str, params: dict[str, Any]) -> None:
        super().__init__()
        self._fs = fs
        self.path = path
        self._params = params
        self._tmp: BinaryIO = tempfile.TemporaryFile(prefix="silt-put-")
        self._done = False
        self.info: FileInfo | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed file")
        view = memoryview(data).cast("B")
        self._tmp.write(view)
        return len(view)

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._done:
                self._done = True
                size = self._tmp.seek(0, io.SEEK_END)
                self.info = self._fs._upload(self.path, self._params, self._chunks, size)
        finally:
            self._tmp.close()
            super().close()

    def _chunks(self) -> Iterator[bytes]:
        self._tmp.seek(0)
        while chunk := self._tmp.read(1024 * 1024):
            yield chunk

    def abort(self) -> None:
        """Drop this unfinished write: nothing of it is committed."""
        self._abort()

    def _abort(self) -> None:
        """Drop what was written; nothing is uploaded."""
        self._done = True
        self.close()
