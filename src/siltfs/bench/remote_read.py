"""Suite ``remote-read``: a sequential read through the remote client against raw TCP.

A real ``silt master`` is started in a subprocess (as in ``remote-meta``); a file of
256 MiB (quick: 32 MiB) is written to it through :class:`RemoteFileSystem` with
CACHE_THROUGH, then read fully once per round with ``open(path, "rb").read(4 MiB)``
in a loop (MiB/s).  The baseline, measured in the same run, is a raw loopback TCP
transfer of the same number of bytes: a server thread in this process ``sendall``\\ s
them from a bytes buffer, the client ``recv_into``\\ s a preallocated buffer -- what the
loopback and the kernel allow one stream, without HTTP, JSON or copies.

The short-circuit figure (a client on the master's host reading the cached blocks
directly instead of over HTTP) is not reported: short-circuit reads are not
implemented.
"""

from __future__ import annotations

import socket
import threading
from typing import IO, Any

from siltfs.bench.remote_meta import running_master
from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    MiB,
    Stopwatch,
    SuiteResult,
    alternate,
    payload,
)
from siltfs.model.enums import WriteType

CHUNK = 4 * MiB
LABEL = "raw loopback TCP"


def _read_all(f: IO[Any]) -> int:
    n = 0
    while chunk := f.read(CHUNK):
        n += len(chunk)
    return n


class TcpSource:
    """A loopback TCP server thread that sends *data* whole to each connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        view = memoryview(self.data)
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            with conn:
                conn.sendall(view)

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

    def close(self) -> None:
        self.sock.close()
        self._thread.join(timeout=5)


def run(ctx: BenchContext) -> SuiteResult:
    size = ctx.size(256 * MiB, 32 * MiB)
    mib = size / MiB
    data = payload(size, seed=7)
    source = TcpSource(data)
    buffer = bytearray(size)
    try:
        with running_master(ctx.dir("master"), ctx.log) as master:
            fs = master.client()
            try:
                ctx.log(f"writing {size // MiB:,} MiB CACHE_THROUGH through the remote client")
                with fs.open("/big.bin", "wb", write_type=WriteType.CACHE_THROUGH) as f:
                    for start in range(0, size, CHUNK):
                        f.write(data[start : start + CHUNK])
                info = fs.stat("/big.bin")
                assert info.length == size, info
                with fs.open("/big.bin", "rb") as f:  # check once, untimed
                    assert f.read(1 * MiB) == data[: 1 * MiB]
                assert source.receive(buffer) == size and buffer[: 1 * MiB] == data[: 1 * MiB]

                def silt(r: int, w: Stopwatch) -> None:
                    with w.time("seq", mib), fs.open("/big.bin", "rb") as f:
                        assert _read_all(f) == size

                def tcp(r: int, w: Stopwatch) -> None:
                    with w.time("seq", mib):
                        got = source.receive(buffer)
                    assert got == size

                samples = alternate(ctx.rounds, [(SILT, silt), (BASE, tcp)], log=ctx.log)
            finally:
                fs.close()
    finally:
        source.close()
    figures = [
        samples.figure("seq", f"sequential read {size // MiB:,} MiB, remote", "MiB/s",
                       baseline_label=LABEL, target_ratio=0.5),
    ]  # fmt: skip
    return SuiteResult("remote-read", figures, {
        "file_size": size, "read_chunk": CHUNK, "write_type": "CACHE_THROUGH",
        "transport": "HTTP/1.1 loopback", "short_circuit": "not implemented",
        "rounds": ctx.rounds,
    })  # fmt: skip
