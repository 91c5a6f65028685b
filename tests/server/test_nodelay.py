"""No delayed-ACK stalls: every server socket (master via uvicorn, worker via ``_bind``)
and every client socket of ours has TCP_NODELAY, so a keep-alive request on a warm
connection takes well under the ~40 ms a Nagle + delayed-ACK stall costs."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx

from siltfs.client.remote import RemoteFileSystem

from .conftest import MasterProcess, WorkerProcess

ROUNDS = 50


def median_round_trip_ms(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    client.get(url, headers=headers).raise_for_status()  # connect outside the timing
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        client.get(url, headers=headers).raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def test_keep_alive_requests_do_not_wait_for_a_delayed_ack(tmp_path: Path) -> None:
    master = MasterProcess(tmp_path / "home").start()
    worker = WorkerProcess(tmp_path / "worker", [master]).start()
    try:
        with httpx.Client(timeout=10) as client:
            to_master = median_round_trip_ms(client, master.url + "/api/v1/health", master.auth())
            to_worker = median_round_trip_ms(client, worker.url + "/api/v1/health", master.auth())
        assert to_master < 10, f"master: median {to_master:.1f} ms per keep-alive request"
        assert to_worker < 10, f"worker: median {to_worker:.1f} ms per keep-alive request"
    finally:
        worker.kill()
        master.kill()


def test_the_remote_client_writes_without_a_delayed_ack(tmp_path: Path) -> None:
    """A guard for the client side: a PUT (headers, then its body) on a warm connection
    does not stall either (measured ~2 ms with and without TCP_NODELAY on httpx's socket)."""
    master = MasterProcess(tmp_path / "home").start()
    fs = RemoteFileSystem(master.url, master.token)
    try:
        fs.write_bytes("/warm", b"x", write_type="MUST_CACHE")
        times = []
        for i in range(20):
            start = time.perf_counter()
            fs.write_bytes(f"/f{i}", b"small body", write_type="MUST_CACHE")
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        assert median < 20, f"median {median:.1f} ms per small MUST_CACHE write"
    finally:
        fs.close()
        master.kill()
