"""Suite ``remote-meta``: stat through the master's HTTP API against raw HTTP ping-pong.

A real ``silt master`` is started in a subprocess on a free loopback port (its own home
in the work directory, its token from ``<home>/token``), and one file is created in it.
Per round, 8 client threads, each with its own :class:`RemoteFileSystem` (one kept-alive
connection each), ``stat`` that file *n* times each; the figure is the aggregate
ops/s.  The baseline is the same 8 threads, each with its own ``httpx.Client`` sending
``GET /api/v1/health`` (with the bearer token) *n* times: the same server stack --
uvicorn, the auth middleware, FastAPI routing, the thread pool of plain ``def``
handlers, a small JSON answer -- with no file system call and no client-side decoding.
Threads suffice on the client side: the server, a single process, is the bottleneck.
The server is stopped at the end (SIGTERM, then wait).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from siltfs.bench.runner import BASE, SILT, BenchContext, Stopwatch, SuiteResult, alternate
from siltfs.client.remote import RemoteFileSystem
from siltfs.client.wire import API
from siltfs.home import CLUSTER_SECRET_FILE
from siltfs.model.enums import WriteType

CLIENTS = 8
LABEL = "GET /health, raw httpx"
START_TIMEOUT = 60.0


@dataclass
class Master:
    """A running ``silt master`` subprocess."""

    url: str
    token: str
    home: Path
    process: subprocess.Popen[bytes]

    def client(self, *, short_circuit: bool = True) -> RemoteFileSystem:
        return RemoteFileSystem(self.url, token=self.token, short_circuit=short_circuit)

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30.0
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_master(
    home: Path, log: Callable[[str], None] = print, *, args: Sequence[str] = ()
) -> Iterator[Master]:
    """Start ``silt master`` (with *args*) on *home* and a free port; stop it (SIGTERM,
    wait) on exit."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "siltfs.cli.main",
        "--home",
        str(home),
        "master",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--graceful-timeout",
        "5",
        *args,
    ]
    stderr_path = home.parent / f"master-{port}.log"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=dict(os.environ))
    try:
        log(f"started silt master (pid {proc.pid}) on {url}")
        token = _wait_ready(proc, home / "token", url, stderr_path)
        yield Master(url=url, token=token, home=home, process=proc)
    finally:
        stop_process(proc)
        log(f"silt master stopped (exit status {proc.returncode})")


@dataclass
class Cluster:
    """A running ``silt master --no-local-worker`` and one ``silt worker`` (subprocesses)."""

    master: Master
    worker_url: str
    worker_home: Path
    worker_id: str
    worker: subprocess.Popen[bytes]


@contextmanager
def running_cluster(
    root: Path, log: Callable[[str], None] = print, *, toml: str = ""
) -> Iterator[Cluster]:
    """A master keeping no blocks (home ``root/master``) and one worker (home
    ``root/worker``) registered with it, both configured by *toml* (their ``silt.toml``);
    the worker is stopped before the master (SIGTERM, wait)."""
    homes = {name: root / name for name in ("master", "worker")}
    for home in homes.values():
        home.mkdir(parents=True, exist_ok=True)
        (home / "silt.toml").write_text(toml, encoding="utf-8")
    with running_master(homes["master"], log, args=("--no-local-worker",)) as master:
        home = homes["worker"]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        cmd = [
            sys.executable,
            "-m",
            "siltfs.cli.main",
            "worker",
            "--master",
            master.url,
            "--home",
            str(home),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        secret = (master.home / CLUSTER_SECRET_FILE).read_text(encoding="ascii").strip()
        env = {**os.environ, "SILT_CLUSTER_SECRET": secret}
        env.pop("SILT_MASTER", None)
        stderr_path = root / f"worker-{port}.log"
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            log(f"started silt worker (pid {proc.pid}) on {url}")
            wid = _wait_registered(proc, master, home / "worker-id", stderr_path)
            yield Cluster(master, url, home, wid, proc)
        finally:
            stop_process(proc)
            log(f"silt worker stopped (exit status {proc.returncode})")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, up to 30 s for it to end, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for(
    proc: subprocess.Popen[bytes], log: Path, what: str, probe: Callable[[], str | None]
) -> str:
    """Poll *probe* until it gives an answer; fail if *proc* exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{what} exited with status {proc.returncode}: "
                f"{log.read_text(errors='replace')[-2000:]}"
            )
        try:
            answer = probe()
        except httpx.TransportError:
            answer = None
        if answer:
            return answer
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {START_TIMEOUT:.0f}s")


def _wait_registered(
    proc: subprocess.Popen[bytes], master: Master, id_path: Path, log: Path
) -> str:
    with master.http() as http:

        def registered() -> str | None:
            wid = id_path.read_text(encoding="utf-8").strip() if id_path.exists() else ""
            if not wid:
                return None
            r = http.get(API + "/workers")
            ok = r.status_code == 200 and any(w["id"] == wid and w["alive"] for w in r.json())
            return wid if ok else None

        return _wait_for(proc, log, "silt worker", registered)


def _wait_ready(proc: subprocess.Popen[bytes], token_path: Path, url: str, log: Path) -> str:
    def ready() -> str | None:
        token = token_path.read_text(encoding="ascii").strip() if token_path.exists() else ""
        if not token:
            return None
        r = httpx.get(
            url + API + "/health", headers={"Authorization": f"Bearer {token}"}, timeout=2
        )
        return token if r.status_code == 200 else None

    return _wait_for(proc, log, f"silt master at {url}", ready)


def concurrently(
    workers: Sequence[Callable[[], None]], w: Stopwatch, metric: str, ops: int
) -> None:
    """Run *workers* in threads released together; time from release to the last one."""
    barrier = threading.Barrier(len(workers) + 1)
    errors: list[BaseException] = []

    def body(fn: Callable[[], None]) -> None:
        barrier.wait()
        try:
            fn()
        except BaseException as exc:  # reported below, in the timing thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(fn,), daemon=True) for fn in workers]
    for t in threads:
        t.start()
    with w.time(metric, ops):
        barrier.wait()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]


def run(ctx: BenchContext) -> SuiteResult:
    n = ctx.size(1_000, 150)  # stats per client per round
    with running_master(ctx.dir("master"), ctx.log) as master:
        setup = master.client()
        setup.mkdir("/bench", write_type=WriteType.MUST_CACHE)
        setup.write_bytes("/bench/f", b"x" * 4096, write_type=WriteType.MUST_CACHE)
        setup.close()
        remotes = [master.client() for _ in range(CLIENTS)]
        https = [master.http() for _ in range(CLIENTS)]
        try:
            for fs in remotes:  # connect once, outside the timing
                assert fs.stat("/bench/f").length == 4096
            for h in https:
                h.get(API + "/health").raise_for_status()

            def stat_loop(fs: RemoteFileSystem) -> Callable[[], None]:
                def loop() -> None:
                    for _ in range(n):
                        fs.stat("/bench/f")

                return loop

            def ping_loop(h: httpx.Client) -> Callable[[], None]:
                def loop() -> None:
                    for _ in range(n):
                        r = h.get(API + "/health")
                        if r.status_code != 200:
                            r.raise_for_status()

                return loop

            def silt(r: int, w: Stopwatch) -> None:
                concurrently([stat_loop(fs) for fs in remotes], w, "stat", CLIENTS * n)

            def ping(r: int, w: Stopwatch) -> None:
                concurrently([ping_loop(h) for h in https], w, "stat", CLIENTS * n)

            samples = alternate(ctx.rounds, [(SILT, silt), (BASE, ping)], log=ctx.log)
        finally:
            for fs in remotes:
                fs.close()
            for h in https:
                h.close()
    figures = [
        samples.figure(
            "stat",
            f"stat, {CLIENTS} concurrent clients",
            "ops/s",
            baseline_label=LABEL,
            target_ratio=0.4,
        ),
    ]
    return SuiteResult(
        "remote-meta",
        figures,
        {
            "clients": CLIENTS,
            "stats_per_client_per_round": n,
            "transport": "HTTP/1.1 loopback",
            "client_concurrency": "threads",
            "rounds": ctx.rounds,
        },
    )
