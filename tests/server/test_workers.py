"""Workers as separate processes: registration, block placement and locations, reads
from the worker (HTTP and short-circuit), persists that read blocks from the worker,
dead-worker detection, replicas, and ``silt up``."""

from __future__ import annotations

import os
import random
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from siltfs import errors
from siltfs.client.remote import RemoteFileSystem

from .conftest import CLUSTER_TOML, SRC, MasterProcess, WorkerProcess, free_port

MiB = 1024 * 1024


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Poll a condition that the system under test will make true (not a race fix)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def workers(master: MasterProcess) -> dict[str, dict[str, object]]:
    r = httpx.get(master.url + "/api/v1/workers", headers=master.auth())
    r.raise_for_status()
    return {w["id"]: w for w in r.json()}


def block_gets(worker: WorkerProcess) -> float:
    """How many block reads the worker served over HTTP (its own /metrics)."""
    text = httpx.get(worker.url + "/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("silt_requests_total{") and 'route="/api/v1/blocks/{block_id}"' in line:
            if 'method="GET"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


def locations(master: MasterProcess, path: str) -> list[set[str]]:
    r = httpx.get(master.url + "/api/v1/data/info", params={"path": path}, headers=master.auth())
    r.raise_for_status()
    return [{loc["worker"] for loc in b["locations"]} for b in r.json()["blocks"]]


class Cluster:
    def __init__(self, root: Path, n_workers: int, toml: str = CLUSTER_TOML) -> None:
        home = root / "home"
        home.mkdir(parents=True)
        (home / "silt.toml").write_text(toml)
        self.master = MasterProcess(home, args=("--no-local-worker",)).start()
        self.workers = [
            WorkerProcess(root / f"worker{i}", [self.master]).start() for i in range(n_workers)
        ]

    def client(self, **kwargs: object) -> RemoteFileSystem:
        return RemoteFileSystem(self.master.url, self.master.token, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        self.master.kill()
        for w in self.workers:
            w.kill()


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(n_workers: int = 1, toml: str = CLUSTER_TOML) -> Cluster:
        c = Cluster(tmp_path / f"c{len(made)}", n_workers, toml)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def test_blocks_live_on_the_worker_and_are_read_from_it(
    make_cluster: Callable[..., Cluster],
) -> None:
    c = make_cluster(1)
    worker = c.workers[0]
    data = random.Random(1).randbytes(3 * MiB + 123)
    fs = c.client(short_circuit=False)
    fs.write_bytes("/d/f.bin", data, write_type="MUST_CACHE")
    # the worker holds the 4 blocks as files; the master none (it has no store)
    blocks = sorted(os.listdir(worker.home / "cache" / "ssd" / "blocks"))
    assert [int(b) for b in blocks if b.isdigit()] == sorted(fs.stat("/d/f.bin").block_ids)
    assert not (c.master.home / "cache").exists()

    def reported_blocks() -> int:  # tier usage arrives with the next heartbeat
        info = workers(c.master)[worker.id]
        return sum(t["blocks"] for t in info["tiers"]) if info["alive"] else -1  # type: ignore[attr-defined]

    wait_for(lambda: reported_blocks() == 4, what="heartbeat reports 4 blocks")
    assert locations(c.master, "/d/f.bin") == [{worker.id}] * 4
    assert fs.stat("/d/f.bin").cached_percent == 100

    before = block_gets(worker)
    assert fs.read_bytes("/d/f.bin") == data
    assert fs.blocks.stats == {"short_circuit": 0, "worker": len(data)}  # from the worker
    assert block_gets(worker) - before == 4

    near = c.client()  # same host: short-circuit, no HTTP to the worker at all
    before = block_gets(worker)
    with near.open("/d/f.bin", "rb") as f:
        f.seek(2 * MiB + 7)
        assert f.read(MiB) == data[2 * MiB + 7 : 3 * MiB + 7]
    assert near.read_bytes("/d/f.bin") == data
    assert near.blocks.stats["short_circuit"] > len(data) and near.blocks.stats["worker"] == 0
    assert block_gets(worker) == before
    fs.close()
    near.close()


def test_persist_reads_the_blocks_from_the_worker(make_cluster: Callable[..., Cluster]) -> None:
    c = make_cluster(1)
    fs = c.client()
    data = random.Random(2).randbytes(2 * MiB + 5)
    fs.write_bytes("/a/b/01", data)  # ASYNC_THROUGH: acknowledged from the worker's cache
    fs.rename("/a", "/c")
    fs.wait_persisted("/", timeout=30)
    ufs = c.master.home / "ufs"
    assert (ufs / "c" / "b" / "01").read_bytes() == data
    assert not (ufs / "a").exists()
    assert fs.check_consistency("/").divergences == []
    # after persisting, the worker's copy is an ordinary (evictable) cache copy
    assert fs.stat("/c/b/01").persisted and fs.free("/c/b/01") == len(data)
    wait_for(lambda: fs.stat("/c/b/01").cached_percent == 0, what="free reaches the worker")
    assert fs.read_bytes("/c/b/01") == data  # from the UFS, cached again on the worker
    fs.close()


def test_a_dead_worker_is_detected_and_its_loss_reported(
    make_cluster: Callable[..., Cluster],
) -> None:
    c = make_cluster(1)
    worker = c.workers[0]
    fs = c.client()
    persisted = random.Random(3).randbytes(MiB + 1)
    fs.write_bytes("/p", persisted, write_type="CACHE_THROUGH")
    fs.write_bytes("/u", b"only in the cache", write_type="MUST_CACHE")
    assert fs.stat("/p").cached_percent == 100

    worker.kill()
    wait_for(lambda: not workers(c.master)[worker.id]["alive"], what="worker declared dead")
    wait_for(lambda: fs.stat("/u").persistence_state.value == "LOST", what="loss reported")
    # persisted data: partly uncached, read from the UFS
    assert fs.stat("/p").cached_percent == 0
    assert fs.read_bytes("/p") == persisted
    # unpersisted data that lived only there: its loss is reported, never silent
    with pytest.raises(errors.FileLost):
        fs.read_bytes("/u")
    metrics = httpx.get(c.master.url + "/metrics").text
    assert re.search(r"^silt_lost_files_total 1\.0$", metrics, re.M)
    assert re.search(r"^silt_workers_alive 0\.0$", metrics, re.M)
    report = fs.check_consistency("/")
    assert [(d.kind, d.path) for d in report.divergences] == [("LOST", "/u")]
    fs.close()


def test_replicas_survive_the_loss_of_a_worker(make_cluster: Callable[..., Cluster]) -> None:
    toml = CLUSTER_TOML.replace("[persist]\n", "[persist]\nenabled = false\n")
    c = make_cluster(3, toml)
    fs = c.client()
    rng = random.Random(4)
    doubled = {f"/r2/f{i}": rng.randbytes(MiB + i) for i in range(6)}
    single = {f"/r1/f{i}": rng.randbytes(1000 + i) for i in range(6)}
    for path, data in doubled.items():
        with fs.open(path, "wb", replicas=2) as f:
            f.write(data)
    for path, data in single.items():
        with fs.open(path, "wb", replicas=1) as f:
            f.write(data)
    for path in doubled:
        assert all(len(where) == 2 for where in locations(c.master, path)), path
    with pytest.raises(errors.ResourceExhausted, match="distinct"):
        with fs.open("/r4", "wb", replicas=4) as f:  # only 3 workers
            f.write(b"x")
    assert not fs.exists("/r4")

    victim = c.workers[1]
    on_victim = {p for p in single if victim.id in set().union(*locations(c.master, p))}
    victim.kill()
    wait_for(lambda: not workers(c.master)[victim.id]["alive"], what="worker declared dead")
    wait_for(
        lambda: all(fs.stat(p).persistence_state.value == "LOST" for p in on_victim),
        what="lost files reported",
    )
    for path, data in doubled.items():  # acknowledged, unpersisted, one copy gone: intact
        assert fs.stat(path).persistence_state.value == "TO_BE_PERSISTED"
        assert fs.read_bytes(path) == data
    for path, data in single.items():
        if path in on_victim:
            with pytest.raises(errors.FileLost):
                fs.read_bytes(path)
        else:
            assert fs.read_bytes(path) == data

    # a master restart with persistence on: workers re-register, every survivor persists
    assert c.master.stop() == 0
    (c.master.home / "silt.toml").write_text(CLUSTER_TOML)
    c.master.start()
    fs.wait_persisted("/r2", timeout=60)
    for path, data in doubled.items():
        assert (c.master.home / "ufs" / path.lstrip("/")).read_bytes() == data
    fs.close()


def test_worker_api_needs_the_token_and_checks_input(make_cluster: Callable[..., Cluster]) -> None:
    c = make_cluster(1)
    w = c.workers[0]
    assert httpx.get(w.url + "/api/v1/blocks").status_code == 401
    auth = c.master.auth()
    cluster = c.master.cluster_auth()  # what masters call workers with
    r = httpx.post(w.url + "/api/v1/blocks/pin", json={"ids": ["x"]}, headers=cluster)
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
    r = httpx.get(w.url + "/api/v1/blocks/not-a-number", headers=auth)
    assert r.status_code == 400
    r = httpx.get(w.url + "/api/v1/blocks/12345", headers=auth)
    assert r.status_code == 404 and r.json()["path"] == "block 12345"
    assert httpx.get(w.url + "/api/v1/nope", headers=auth).status_code == 404
    metrics = httpx.get(w.url + "/metrics").text  # open from loopback
    assert "silt_cache_capacity_bytes" in metrics and "silt_request_seconds_bucket" in metrics
    r = httpx.post(c.master.url + "/api/v1/workers/heartbeat", json={"id": 1}, headers=cluster)
    assert r.status_code == 400

    def members() -> list[str]:
        return sorted(
            m["id"] for m in httpx.get(c.master.url + "/api/v1/workers", headers=auth).json()
        )

    before = members()
    fake = {
        "id": "w-fake",
        "url": "http://127.0.0.1:1",
        "host_id": "h",
        "block_dir": "/x",
        "boot_id": "b",
        "tiers": [{"tier": "SSD", "capacity": 2**50, "used": 0, "blocks": 0}],
    }
    for bad in (
        {"id": ""},
        {"url": ""},
        {"url": "ftp://h:1"},
        {"url": "http://\u00e9x"},
        {"tiers": [{"tier": "SSD", "capacity": 2**60, "used": 0, "blocks": 0}]},
        {"tiers": [{"tier": "TAPE", "capacity": 1, "used": 0, "blocks": 0}]},
        {"blocks": {"not-an-id": 1}},
    ):
        r = httpx.post(
            c.master.url + "/api/v1/workers/heartbeat", json={**fake, **bad}, headers=cluster
        )
        assert r.status_code == 400, (bad, r.text)
    assert members() == before  # no fake member registered


def test_silt_up_starts_everything_and_stops_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "up-home"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("SILT_MASTER", None)
    env.pop("SILT_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "siltfs.cli.main", "--home", str(home), "up", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("silt up: use it"):
                break
        text = "".join(lines)
        token_file = home / "token"
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert f"http://127.0.0.1:{port}/dashboard#token={token}" in text
        assert str(token_file) in text
        fs = RemoteFileSystem(f"http://127.0.0.1:{port}", token)
        fs.write_bytes("/hello", b"world")
        members = fs._get("/workers")
        assert [m["id"] != "local" and m["alive"] for m in members] == [True]
        fs.wait_persisted("/", timeout=30)
        assert (home / "ufs" / "hello").read_bytes() == b"world"
        fs.close()
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[0]
        assert proc.returncode == 0, rest
        assert "silt up: stopped" in rest
        assert "silt master: stopped" in (home / "logs" / "master.log").read_text()
        assert "silt worker: stopped" in (home / "logs" / "worker.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_worker_that_was_only_unreachable_brings_lost_files_back(
    make_cluster: Callable[..., Cluster],
) -> None:
    toml = CLUSTER_TOML.replace("[persist]\n", "[persist]\nenabled = false\n")
    c = make_cluster(1, toml)
    worker = c.workers[0]
    fs = c.client()
    fs.write_bytes("/async", b"acknowledged, not yet persisted")
    fs.write_bytes("/cache-only", b"must cache", write_type="MUST_CACHE")
    assert worker.proc is not None
    worker.proc.send_signal(signal.SIGSTOP)  # frozen: no heartbeats, blocks still on disk
    try:
        wait_for(lambda: not workers(c.master)[worker.id]["alive"], what="worker declared dead")
        wait_for(lambda: fs.stat("/async").persistence_state.value == "LOST", what="reported")
        assert fs.stat("/cache-only").persistence_state.value == "LOST"
        [job] = fs.jobs("failed")
        assert worker.id in (job.last_error or "")
    finally:
        worker.proc.send_signal(signal.SIGCONT)
    wait_for(lambda: workers(c.master)[worker.id]["alive"], what="worker back")
    wait_for(lambda: fs.stat("/async").persistence_state.value == "TO_BE_PERSISTED", what="revived")
    assert fs.stat("/cache-only").persistence_state.value == "NOT_PERSISTED"
    assert fs.read_bytes("/async") == b"acknowledged, not yet persisted"
    assert fs.read_bytes("/cache-only") == b"must cache"
    assert [j.state for j in fs.jobs()] == ["PENDING"]


def test_a_heartbeat_older_than_a_put_does_not_hide_the_block(tmp_path: Path) -> None:
    """A worker's block map taken before a put (lower block-set version) arrives after
    it: the master keeps the location; a newer map without the block drops it."""
    from siltfs.config import ClusterConfig
    from siltfs.master.cluster import Cluster as BlockCluster

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(SRC), "SILT_CLUSTER_SECRET": "tok"}
    cmd = [
        sys.executable,
        "-m",
        "siltfs.cli.main",
        "worker",
        "--master",
        "http://127.0.0.1:9",
        "--home",
        str(tmp_path / "w"),
        "--port",
        str(port),
        "--log-level",
        "error",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        auth = {"Authorization": "Bearer tok"}

        def up() -> bool:
            try:
                return httpx.get(url + "/api/v1/health", headers=auth).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, what="worker up")
        cluster = BlockCluster(None, ClusterConfig(), "tok", expect_workers=True)
        report = {
            "id": "w1",
            "url": url,
            "host_id": "h",
            "block_dir": "/nowhere",
            "boot_id": "b1",
            "version": 0,
            "blocks": {},
        }
        cluster.heartbeat(report)
        cluster.put(7 << 24, b"fresh block")
        assert cluster.contains(7 << 24)
        cluster.heartbeat({**report, "version": 0, "blocks": {}})  # taken before the put
        assert cluster.contains(7 << 24) and cluster.get(7 << 24) == b"fresh block"
        current = httpx.get(url + "/api/v1/worker", headers=auth).json()
        assert current["id"]
        newer = {**report, "version": 10**6, "blocks": {}}  # a map taken after: it is gone
        cluster.heartbeat(newer)
        assert not cluster.contains(7 << 24)
        cluster.close()
    finally:
        proc.kill()
        proc.wait()


def test_a_reader_never_gets_bytes_of_a_version_synced_in_after_it_opened(
    make_cluster: Callable[..., Cluster],
) -> None:
    """The UFS copy changes behind siltfs, a sync imports it and another client caches
    the new bytes on the worker: a reader of the old version must not be served them --
    it reads the rest of the old version (its blocks held while it is open) or, where
    an old block is gone, fails with FileNotFound."""
    c = make_cluster(1)
    old = random.Random(5).randbytes(3 * MiB)
    new = bytes(b ^ 0xFF for b in old)  # same length, other bytes
    writer = c.client()
    writer.write_bytes("/f", old, write_type="CACHE_THROUGH")
    reader = c.client(short_circuit=False)
    f = reader.open("/f", "rb")
    assert f.read(MiB) == old[:MiB]
    (c.master.home / "ufs" / "f").write_bytes(new)  # changed outside siltfs
    other = c.client()
    assert other.stat("/f", sync_interval_ms=0).length == len(new)
    assert other.read_bytes("/f") == new  # the new version, cached on the worker
    try:
        rest = f.read()
    except errors.FileNotFound as exc:
        assert "changed since it was opened" in str(exc)
    else:
        assert rest == old[MiB:]
    f.close()
    for fs in (writer, reader, other):
        fs.close()
