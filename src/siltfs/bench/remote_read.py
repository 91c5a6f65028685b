"""Suite ``remote-read``: reads through the remote client from a real worker, against raw
TCP and the page cache.

A real ``silt master --no-local-worker`` (a master keeping no blocks) and one
``silt worker`` are started in subprocesses on free loopback ports, both with
``[cache] block_size = 64 MiB``.  A file of 1 GiB (the size the ``read`` targets are
stated for; quick: 32 MiB) is written through :class:`RemoteFileSystem` with
MUST_CACHE, so its blocks are files on the worker's SSD tier (in the page cache: just
written; CACHE_THROUGH would place them in the worker's MEM tier, where no client can
read them short-circuit).  Per round, each figure alternating with its baseline:

* **over HTTP**: a client with ``short_circuit=False`` reads the file fully with
  ``f.read(4 MiB)`` in a loop; every block comes from the worker's
  ``GET /api/v1/blocks/{id}``.  Baseline: a raw loopback TCP transfer of the same number
  of bytes -- a server thread in this process ``sendall``\\ s them from a bytes buffer,
  the client ``recv_into``\\ s a preallocated buffer: what the loopback and the kernel
  allow one stream, without HTTP or copies.  Target >= 0.5x.
* **short-circuit**: a client with ``short_circuit=True`` (the default; same host as the
  worker) reads the file with the same loop; the blocks are read from the worker's block
  files, no HTTP.  Baseline: ``open(path, "rb")`` on a local copy of the same bytes, read
  once beforehand so it is in the page cache, with the same loop.  Target >= 0.8x.
* **random 4 KiB reads** (reported): ``seek`` + ``read(4096)`` at the same random
  4 KiB-aligned offsets on a file opened once per round, short-circuit and over HTTP;
  the local file is the baseline shown for both.

The clients' ``blocks.stats`` are checked after every round: the HTTP client got every
byte from the worker, the short-circuit client every byte from the block files.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path
from typing import IO, Any

from siltfs.bench.read import CHUNK, LABEL, read_all
from siltfs.bench.remote_meta import running_cluster
from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    KiB,
    MiB,
    Stopwatch,
    SuiteResult,
    alternate,
    payload,
)
from siltfs.client.remote import RemoteFileSystem
from siltfs.model.enums import WriteType

BLOCK = 64 * MiB
TCP_LABEL = "raw loopback TCP"
PAGE_LABEL = LABEL  # the page-cache baseline of the read suite, read with its loop
PATH = "/big.bin"


def _random_reads(f: IO[Any], offsets: list[int]) -> None:
    for off in offsets:
        f.seek(off)
        f.read(4096)


class LoopbackServer:
    """A TCP server thread on a free loopback port that hands each connection to
    :meth:`_handle`, one at a time, until :meth:`close`."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            with conn:
                self._handle(conn)

    def close(self) -> None:
        self.sock.close()
        self._thread.join(timeout=5)


class TcpSource(LoopbackServer):
    """Sends *data* whole to each connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._view = memoryview(data)
        super().__init__()

    def _handle(self, conn: socket.socket) -> None:
        conn.sendall(self._view)

    def receive(self, into: bytearray) -> int:
        """Connect and receive len(*into*) bytes into *into*."""
        view = memoryview(into)
        got = 0
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            while got < len(view):
                n = s.recv_into(view[got:])
                if n == 0:
                    break
                got += n
        return got


def _write(fs: RemoteFileSystem, data: bytes, local: Path) -> None:
    with fs.open(PATH, "wb", write_type=WriteType.MUST_CACHE) as f:
        for start in range(0, len(data), CHUNK):
            f.write(data[start : start + CHUNK])
    local.write_bytes(data)


def run(ctx: BenchContext) -> SuiteResult:
    size = ctx.size(1024 * MiB, 32 * MiB)
    randoms = ctx.size(2_000, 300)
    mib = size / MiB
    data = payload(size, seed=7)
    local = ctx.dir("local") / "big.bin"
    rng = random.Random(8)
    offsets = [rng.randrange(size // (4 * KiB)) * 4 * KiB for _ in range(randoms)]
    source = TcpSource(data)
    buffer = bytearray(size)
    toml = f"[cache]\nblock_size = {BLOCK}\n"
    try:
        with running_cluster(ctx.dir("cluster"), ctx.log, toml=toml) as cluster:
            http = cluster.master.client(short_circuit=False)
            near = cluster.master.client(short_circuit=True)
            try:
                ctx.log(f"writing {size // MiB:,} MiB MUST_CACHE through the remote client")
                _write(http, data, local)
                assert http.stat(PATH).length == size
                blocks = cluster.worker_home / "cache" / "ssd" / "blocks"
                on_ssd = {int(p.name) for p in blocks.iterdir() if p.name.isdigit()}
                assert set(http.stat(PATH).block_ids) <= on_ssd, "blocks not on the worker SSD"
                for fs in (http, near):  # check once, untimed
                    with fs.open(PATH, "rb") as f:
                        f.seek(size - 3 * MiB - 5)
                        assert f.read(2 * MiB) == data[size - 3 * MiB - 5 : size - MiB - 5]
                        f.seek(0)
                        assert f.read() == data
                assert http.blocks.stats["short_circuit"] == 0 and http.blocks.stats["worker"]
                assert near.blocks.stats["worker"] == 0 and near.blocks.stats["short_circuit"]
                with open(local, "rb") as f:
                    assert read_all(f) == size  # in the page cache
                assert source.receive(buffer) == size and buffer == data
                del data

                def silt(r: int, w: Stopwatch) -> None:
                    before = dict(http.blocks.stats), dict(near.blocks.stats)
                    with w.time("seq_http", mib), http.open(PATH, "rb") as f:
                        assert read_all(f) == size
                    with w.time("seq_sc", mib), near.open(PATH, "rb") as f:
                        assert read_all(f) == size
                    assert http.blocks.stats["worker"] - before[0]["worker"] == size
                    assert near.blocks.stats["short_circuit"] - before[1]["short_circuit"] == size
                    with near.open(PATH, "rb") as f, w.time("random_sc", randoms):
                        _random_reads(f, offsets)
                    with http.open(PATH, "rb") as f, w.time("random_http", randoms):
                        _random_reads(f, offsets)
                    assert near.blocks.stats["worker"] == http.blocks.stats["short_circuit"] == 0

                def baseline(r: int, w: Stopwatch) -> None:
                    with w.time("seq_http", mib):
                        got = source.receive(buffer)
                    assert got == size
                    with w.time("seq_sc", mib), open(local, "rb") as f:
                        assert read_all(f) == size
                    for metric in ("random_sc", "random_http"):
                        with open(local, "rb") as f, w.time(metric, randoms):
                            _random_reads(f, offsets)

                samples = alternate(ctx.rounds, [(SILT, silt), (BASE, baseline)], log=ctx.log)
            finally:
                http.close()
                near.close()
    finally:
        source.close()
    label = f"{size // MiB:,} MiB"
    figures = [
        samples.figure(
            "seq_http",
            f"sequential read {label}, remote over HTTP",
            "MiB/s",
            baseline_label=TCP_LABEL,
            target_ratio=0.5,
        ),
        samples.figure(
            "seq_sc",
            f"sequential read {label}, remote short-circuit",
            "MiB/s",
            baseline_label=PAGE_LABEL,
            target_ratio=0.8,
        ),
        samples.figure(
            "random_sc",
            "random 4 KiB reads, remote short-circuit",
            "reads/s",
            baseline_label=PAGE_LABEL,
        ),
        samples.figure(
            "random_http",
            "random 4 KiB reads, remote over HTTP",
            "reads/s",
            baseline_label=PAGE_LABEL,
        ),
    ]
    return SuiteResult(
        "remote-read",
        figures,
        {
            "file_size": size,
            "read_chunk": CHUNK,
            "block_size": BLOCK,
            "write_type": "MUST_CACHE",
            "random_reads": randoms,
            "cluster": "silt master --no-local-worker + 1 silt worker, 127.0.0.1",
            "tier": "worker SSD (block files in the page cache)",
            "transport": "HTTP/1.1 loopback",
            "short_circuit": "block files on this host",
            "rounds": ctx.rounds,
        },
    )
