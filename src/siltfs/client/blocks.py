"""Reading cached blocks straight from the workers that hold them (remote client).

The master's ``/data/info`` lists, per cached block, the workers holding it.  A block
on a worker of *this* host is read from the worker's block file directly -- Alluxio's
short-circuit read: no HTTP, no copy through a server -- if the file is there and has
the expected length; otherwise the block is fetched from the worker over HTTP.  Anything
not cached (or a worker that fails) is left to the caller, who reads it through the
master, where it is checked against the file version.

Short-circuit bytes are verified against the block's checksums (the sidecar beside the
block file, :mod:`siltfs.worker.checksums`): each read checks the 64 KiB chunks it
touches (reading the rest of its first and last chunk beside the caller's buffer, in
the same ``preadv``), once per chunk while the block file is open.  A block that fails
is not read short-circuit again; the same location is asked over HTTP, where the worker
verifies its copy itself, drops it and counts it, and answers 410 -- the caller then
reads through the master, which re-reads a persisted file from the UFS.  Bytes from a
worker's HTTP answer were verified by the worker before they were sent.

Bytes go straight into the caller's buffer: ``os.preadv`` from the block file (kept
open while the file is read, up to ``OPEN_FILES`` of them: a block file replaced or
removed meanwhile does not change what an open descriptor reads), or ``recv_into`` from the worker's answer
(:meth:`WorkerClient.open_block`), whose body is left streaming between reads so that a
sequential reader costs one request per stretch, not one per ``read``.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

from siltfs.errors import SiltError
from siltfs.worker.checksums import BlockSums, read_sums
from siltfs.worker.client import BlockStream, WorkerClient
from siltfs.worker.hostid import HOST_ID

__all__ = ["BlockCursor", "BlockSource", "OPEN_FILES"]

OPEN_FILES = 16  # block files an open file keeps open (the most recently read ones)


class BlockSource:
    """The workers of one remote client (their connections), shared by its open files."""

    def __init__(self, token: str | None, *, short_circuit: bool = True, timeout: float = 30.0):
        self.token = token
        self.short_circuit = short_circuit
        self.timeout = timeout
        self._workers: dict[str, WorkerClient] = {}
        self._lock = threading.Lock()
        # bytes served per route, for tests, benchmarks and curious users
        self.stats = {"short_circuit": 0, "worker": 0}
        self.short_circuit_failures = 0  # block files that failed their checksums

    def _client(self, url: str) -> WorkerClient:
        with self._lock:
            client = self._workers.get(url)
            if client is None:
                client = self._workers[url] = WorkerClient(url, self.token, timeout=self.timeout)
            return client

    def cursor(self) -> BlockCursor:
        """Per-open-file state: open block files, the worker answer being read."""
        return BlockCursor(self)

    def _count(self, route: str, n: int) -> None:
        with self._lock:
            self.stats[route] += n

    def short_circuit_failed(self) -> None:
        with self._lock:
            self.short_circuit_failures += 1

    def close(self) -> None:
        with self._lock:
            for client in self._workers.values():
                client.close()
            self._workers.clear()


class _BlockFile:
    """A block file open for short-circuit reads, its checksums, the chunks verified."""

    def __init__(self, fd: int, sums: BlockSums) -> None:
        self.fd = fd
        self.sums = sums
        self.verified: set[int] = set()

    def readinto(self, offset: int, out: memoryview) -> bool:
        """Fill *out* with the bytes from *offset*; False if they are not all there or
        fail their checksums."""
        sums = self.sums
        first, last = sums.span(offset, offset + len(out))
        chunks = range(first // sums.chunk, -(-last // sums.chunk))
        if all(i in self.verified for i in chunks):
            return _pread_all(self.fd, [out], offset)
        head = memoryview(bytearray(offset - first))
        tail = memoryview(bytearray(max(0, last - offset - len(out))))
        if not _pread_all(self.fd, [head, out, tail], first):
            return False
        if not sums.check(first, [head, out, tail]):
            return False
        self.verified.update(chunks)
        return True


def _pread_all(fd: int, views: list[memoryview], offset: int) -> bool:
    """Fill *views* from *offset* of *fd*; False if the file ends first (or fails)."""
    views = [v for v in views if len(v)]
    try:
        while views:
            n = os.preadv(fd, views, offset)
            if n <= 0:
                return False
            offset += n
            while views and n >= len(views[0]):
                n -= len(views[0])
                views.pop(0)
            if n:
                views[0] = views[0][n:]
    except OSError:
        return False
    return True


class BlockCursor:
    """Reads parts of located blocks for one open file (not thread-safe, like the file)."""

    def __init__(self, source: BlockSource) -> None:
        self.source = source
        # block id -> open block file (None: not usable), the most recently used last
        self._files: OrderedDict[int, _BlockFile | None] = OrderedDict()
        self._stream: BlockStream | None = None

    def __enter__(self) -> BlockCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def readinto(
        self, block: dict[str, Any], length: int, offset: int, out: memoryview, ahead: int
    ) -> int:
        """Read block bytes from *offset* into *out* (``offset + len(out) <= length``);
        the number read, 0 if no location can serve them.  *ahead*: how far into the
        block (an offset) a new request to a worker may ask for, so the next reads
        continue the same answer."""
        bid = block["id"]
        for where in block.get("locations", ()):
            if self.source.short_circuit and where.get("host_id") == HOST_ID:
                n = self._local(bid, where, length, offset, out)
                if n:
                    return n
            if where.get("url"):
                n = self._remote(bid, where["url"], offset, out, max(ahead, offset + len(out)))
                if n:
                    return n
        return 0

    # short-circuit ------------------------------------------------------------
    def _file(self, bid: int, where: dict[str, Any], length: int) -> _BlockFile | None:
        if bid in self._files:
            self._files.move_to_end(bid)
            return self._files[bid]
        while len(self._files) >= OPEN_FILES:
            _, old = self._files.popitem(last=False)
            if old is not None:
                os.close(old.fd)
        opened: _BlockFile | None = None
        if where.get("block_dir"):
            path = os.path.join(where["block_dir"], str(bid))
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                fd = -1
            sums = read_sums(path) if fd >= 0 else None
            if fd >= 0 and sums is not None and os.fstat(fd).st_size == sums.length == length:
                opened = _BlockFile(fd, sums)
            elif fd >= 0:
                os.close(fd)  # not the block we expect: the worker will tell (over HTTP)
        self._files[bid] = opened
        return opened

    def _local(
        self, bid: int, where: dict[str, Any], length: int, offset: int, out: memoryview
    ) -> int:
        block = self._file(bid, where, length)
        if block is None:
            return 0
        if not block.readinto(offset, out):  # cut short or failed its checksums
            os.close(block.fd)
            self._files[bid] = None
            self.source.short_circuit_failed()
            return 0
        self.source._count("short_circuit", len(out))
        return len(out)

    # over HTTP ----------------------------------------------------------------
    def _remote(self, bid: int, url: str, offset: int, out: memoryview, ahead: int) -> int:
        stream = self._stream
        if stream is not None and not (stream.block_id == bid and stream.pos == offset):
            self._end_stream()
        done = 0
        try:
            while done < len(out):
                if self._stream is None:  # a new request, up to *ahead*
                    self._stream = self.source._client(url).open_block(bid, offset + done, ahead)
                    if self._stream is None:
                        break  # not (or no longer) on that worker
                stream = self._stream
                try:
                    stream.readinto(out[done:])
                finally:
                    done = stream.pos - offset
                if stream.remaining == 0:
                    self._end_stream()
        except SiltError:
            self._end_stream()  # what arrived is good; the rest comes from elsewhere
        self.source._count("worker", done)
        return done

    def _end_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        self._end_stream()
        files, self._files = self._files, OrderedDict()
        for block in files.values():
            if block is not None:
                os.close(block.fd)
