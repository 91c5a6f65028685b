"""Suite ``s3``: boto3 against ``silt s3``, against raw loopback TCP and moto server.

Two servers run as subprocesses on free loopback ports for the whole suite: ``silt s3
--home H`` (an embedded home; the gateway's default write type ASYNC_THROUGH; block size
64 MiB) and ``python -m moto.server`` (the in-memory S3 emulator the S3 tests use).  The
client is boto3 with its defaults (SigV4, the installed version's default checksums),
16 pooled connections, no retries.  Per round, each figure alternating with its baseline:

1. **GET of a cached object** (1 GiB; quick 64 MiB): ``get_object()["Body"].read(4 MiB)``
   until EOF, from one thread.  The object was PUT once (so its blocks are in the
   gateway home's cache).  Baseline: a raw loopback TCP transfer of the same bytes (a
   server thread ``sendall``-s them, the client ``recv_into``-s a buffer).  Target
   >= 0.5x.
2. **PUT** of as many bytes, one ``put_object`` of an in-memory body, timed until the
   answer (ASYNC_THROUGH: the blocks are cached and durable; the upload to the UFS
   follows, untimed, before the next round).  Baseline: a raw loopback TCP transfer in
   the other direction (client ``sendall``, server thread ``recv_into``).  Target
   >= 0.4x.
3. **4 KiB PutObject** from 8 threads (2,000 objects; quick 400), distinct keys, ops/s.
   Baseline: the same calls against moto server.  Target >= 3x moto and >= 1,000/s.
4. **4 KiB GetObject** from 8 threads of the objects just written, ops/s.  Baseline:
   moto.  Target >= 3x moto and >= 2,000/s.

Every byte read back is compared with what was written (untimed, once per round).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from siltfs.bench.remote_meta import free_port, stop_process
from siltfs.bench.remote_read import TCP_LABEL, LoopbackServer, TcpSource
from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    GiB,
    KiB,
    MiB,
    Samples,
    Stopwatch,
    SuiteResult,
    alternate,
    payload,
)
from siltfs.errors import NotSupported

ACCESS = "AKIDSILTBENCH"
SECRET = "silt-bench-secret"
REGION = "us-east-1"
BUCKET = "bench"
THREADS = 8
SMALL = 4 * KiB
CHUNK = 4 * MiB
START_TIMEOUT = 60.0
MOTO_LABEL = "moto server"


class TcpSink(LoopbackServer):
    """Receives (and drops) what each connection sends; :meth:`send` returns once the
    server has every byte."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._buffer = memoryview(bytearray(CHUNK))
        self._done = threading.Semaphore(0)
        super().__init__()

    def _handle(self, conn: socket.socket) -> None:
        got = 0
        while got < self.size and (n := conn.recv_into(self._buffer)):
            got += n
        conn.sendall(b"k")  # the answer: everything arrived
        self._done.release()

    def send(self, data: bytes) -> None:
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(data)
            s.recv(1)
        self._done.acquire()


@contextmanager
def _server(cmd: Sequence[str], url: str, log: Path, what: str) -> Iterator[str]:
    """Run *cmd* until the block ends; ready when *url* answers any HTTP status."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{what} exited with status {proc.returncode}: {tail}")
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{what} not ready after {START_TIMEOUT:.0f} s") from None
                time.sleep(0.05)
        yield url
    finally:
        stop_process(proc)


def _silt_s3(root: Path) -> list[str]:
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "silt.toml").write_text("[cache]\nblock_size = 67108864\n", encoding="utf-8")
    creds = root / "credentials.toml"
    creds.write_text(
        f'[[credentials]]\naccess_key = "{ACCESS}"\nsecret_key = "{SECRET}"\n', encoding="utf-8"
    )
    os.chmod(creds, 0o600)
    return [
        sys.executable,
        "-m",
        "siltfs.cli.main",
        "s3",
        "--home",
        str(home),
        "--host",
        "127.0.0.1",
        "--credentials",
        str(creds),
        "--log-level",
        "warning",
    ]


def _client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=2 * THREADS, retries={"max_attempts": 1})
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name=REGION,
        config=config,
    )


def _read_object(s3: Any, key: str, into: bytearray) -> int:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
    got = 0
    while chunk := body.read(CHUNK):
        into[got : got + len(chunk)] = chunk
        got += len(chunk)
    return got


def _many(s3: Any, keys: list[str], op: Callable[[Any, str], None]) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        for _ in pool.map(lambda k: op(s3, k), keys):
            pass


def _small_sides(s3: Any, data: bytes, keys: Callable[[int], list[str]]) -> Any:
    """One side of figures 3 and 4: PUT then GET 4 KiB objects from *THREADS* threads."""

    def put(c: Any, key: str) -> None:
        c.put_object(Bucket=BUCKET, Key=key, Body=data)

    def get(c: Any, key: str) -> None:
        if c.get_object(Bucket=BUCKET, Key=key)["Body"].read() != data:
            raise AssertionError(f"s3://{BUCKET}/{key}: wrong bytes")

    def side(r: int, w: Stopwatch) -> None:
        names = keys(r)
        with w.time("small_put", len(names)):
            _many(s3, names, put)
        with w.time("small_get", len(names)):
            _many(s3, names, get)

    return side


def run(ctx: BenchContext) -> SuiteResult:
    missing = [m for m in ("boto3", "moto") if importlib.util.find_spec(m) is None]
    if missing:
        raise NotSupported(
            f"suite s3 needs {' and '.join(missing)}: pip install 'siltfs[test]'", path=None
        )
    size = ctx.size(GiB, 64 * MiB)
    count = ctx.size(2_000, 400)
    big = payload(size, seed=15)
    small = payload(SMALL, seed=16)
    silt_port, moto_port = free_port(), free_port()
    silt_cmd = [*_silt_s3(ctx.dir("silt")), "--port", str(silt_port)]
    moto_cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
    samples = Samples()
    mib = size / MiB
    with (
        _server(
            silt_cmd, f"http://127.0.0.1:{silt_port}", ctx.dir("logs") / "s3.log", "silt s3"
        ) as silt_url,
        _server(
            moto_cmd, f"http://127.0.0.1:{moto_port}", ctx.dir("logs") / "moto.log", "moto server"
        ) as moto_url,
    ):
        ctx.log(f"silt s3 on {silt_url}, moto server on {moto_url}")
        silt, moto = _client(silt_url), _client(moto_url)
        for c in (silt, moto):
            c.create_bucket(Bucket=BUCKET)
        silt.put_object(Bucket=BUCKET, Key="big", Body=big)  # cached: GET reads blocks
        into = bytearray(size)
        source, sink = TcpSource(big), TcpSink(size)
        try:

            def get_big(r: int, w: Stopwatch) -> None:
                with w.time("get", mib):
                    got = _read_object(silt, "big", into)
                if got != size or into != big:
                    raise AssertionError(f"s3://{BUCKET}/big: {got} bytes, or wrong ones")

            def tcp_get(r: int, w: Stopwatch) -> None:
                with w.time("get", mib):
                    source.receive(into)

            def put_big(r: int, w: Stopwatch) -> None:
                with w.time("put", mib):
                    silt.put_object(Bucket=BUCKET, Key=f"put-{r}", Body=big)
                silt.delete_object(Bucket=BUCKET, Key=f"put-{r}")

            def tcp_put(r: int, w: Stopwatch) -> None:
                with w.time("put", mib):
                    sink.send(big)

            alternate(ctx.rounds, [(SILT, get_big), (BASE, tcp_get)], samples, log=ctx.log)
            alternate(ctx.rounds, [(SILT, put_big), (BASE, tcp_put)], samples, log=ctx.log)
        finally:
            source.close()
            sink.close()

        def keys(r: int) -> list[str]:
            return [f"small/{r}/{i:05d}" for i in range(count)]

        sides = [(SILT, _small_sides(silt, small, keys)), (BASE, _small_sides(moto, small, keys))]
        alternate(ctx.rounds, sides, samples, log=ctx.log)
    figures = [
        samples.figure(
            "get",
            "GET of a cached object (boto3)",
            "MiB/s",
            baseline_label=TCP_LABEL,
            target_ratio=0.5,
        ),
        samples.figure(
            "put",
            "PUT of an object (boto3, ASYNC_THROUGH)",
            "MiB/s",
            baseline_label=TCP_LABEL,
            target_ratio=0.4,
        ),
        samples.figure(
            "small_put",
            f"4 KiB PutObject, {THREADS} threads",
            "ops/s",
            baseline_label=MOTO_LABEL,
            target_ratio=3.0,
            target_abs=1_000,
        ),
        samples.figure(
            "small_get",
            f"4 KiB GetObject, {THREADS} threads",
            "ops/s",
            baseline_label=MOTO_LABEL,
            target_ratio=3.0,
            target_abs=2_000,
        ),
    ]
    return SuiteResult(
        "s3",
        figures,
        {"object_bytes": size, "small_objects": count, "threads": THREADS, "rounds": ctx.rounds},
    )
