"""Block checksums with real processes: a block file overwritten on a worker's disk is
caught on every read path -- the worker's HTTP answer, a short-circuit read, the master
reading for a client -- dropped and counted (``silt_block_checksum_failures_total``, on
the worker and, by heartbeat, on the master).  A persisted file reads back right (from
the UFS, then cached again); an unpersisted one fails with ``block_corrupted`` and is
LOST.  The worker refuses a block whose bytes do not match the CRC-32C sent with it."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import crc32c
import httpx
import pytest

from siltfs import errors
from siltfs.model.enums import PersistenceState
from tests.server.test_workers import Cluster, MiB, wait_for
from tests.servers import CLUSTER_TOML, WorkerProcess
from tests.worker.test_checksums import flip


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(n_workers: int = 1, toml: str = CLUSTER_TOML) -> Cluster:
        made.append(Cluster(tmp_path / f"c{len(made)}", n_workers, toml))
        return made[-1]

    yield make
    for c in made:
        c.close()


def failures(url: str) -> float:
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith("silt_block_checksum_failures_total "):
            return float(line.split()[1])
    raise AssertionError(f"no silt_block_checksum_failures_total at {url}")


def block_path(worker: WorkerProcess, block_id: int) -> Path:
    path = worker.home / "cache" / "ssd" / "blocks" / str(block_id)
    assert path.is_file(), "the block is on the worker's SSD tier"
    return path


def persisted(c: Cluster, path: str, size: int, seed: int) -> tuple[bytes, list[int]]:
    fs = c.client()
    data = random.Random(seed).randbytes(size)
    fs.write_bytes(path, data, write_type="ASYNC_THROUGH")
    fs.wait_persisted("/", timeout=60)
    info = fs.stat(path)
    assert info.persistence_state is PersistenceState.PERSISTED
    fs.close()
    return data, info.block_ids


@pytest.mark.parametrize("short_circuit", [False, True])
def test_a_corrupt_block_of_a_persisted_file_reads_right(
    make_cluster: Callable[..., Cluster], short_circuit: bool
) -> None:
    c = make_cluster(1)
    worker, master = c.workers[0], c.master
    data, ids = persisted(c, "/p.bin", 3 * MiB + 77, 1)
    flip(block_path(worker, ids[1]), 4321)
    fs = c.client(short_circuit=short_circuit)
    try:
        assert fs.read_bytes("/p.bin") == data
        if short_circuit:
            assert fs.blocks.short_circuit_failures == 1
            assert fs.blocks.stats["short_circuit"] == len(data) - MiB  # the good blocks
        assert failures(worker.url) == 1
        wait_for(lambda: failures(master.url) == 1, what="the master counts it by heartbeat")
        wait_for(lambda: fs.stat("/p.bin").cached_percent == 100, what="cached again")
        assert fs.read_bytes("/p.bin") == data and failures(worker.url) == 1
    finally:
        fs.close()


def test_a_corrupt_block_of_an_unpersisted_file_is_a_clear_error(
    make_cluster: Callable[..., Cluster],
) -> None:
    c = make_cluster(1)
    worker = c.workers[0]
    fs = c.client()
    try:
        data = random.Random(2).randbytes(2 * MiB)
        fs.write_bytes("/u.bin", data, write_type="MUST_CACHE")
        flip(block_path(worker, fs.stat("/u.bin").block_ids[0]), 0)
        with pytest.raises(errors.BlockCorrupted) as info:
            fs.read_bytes("/u.bin")
        assert info.value.path == "/u.bin" and "not persisted" in info.value.message
        assert fs.stat("/u.bin").persistence_state is PersistenceState.LOST
        with pytest.raises(errors.FileLost):
            fs.read_bytes("/u.bin")
        assert failures(worker.url) == 1
    finally:
        fs.close()


def test_an_answer_is_cut_short_before_bytes_that_fail(
    make_cluster: Callable[..., Cluster],
) -> None:
    """Blocks of 3 MiB leave in 1 MiB pieces: damage in the third piece ends the answer
    after two good pieces; asked again, the worker says block_corrupted."""
    c = make_cluster(1, CLUSTER_TOML.replace(f"block_size = {MiB}", f"block_size = {3 * MiB}"))
    worker, master = c.workers[0], c.master
    data, ids = persisted(c, "/big.bin", 6 * MiB, 3)
    flip(block_path(worker, ids[0]), 2 * MiB + 512 * 1024)
    url = f"{worker.url}/api/v1/blocks/{ids[0]}"
    got = bytearray()
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("GET", url, headers=master.auth()) as r:
            assert r.status_code == 200
            for piece in r.iter_bytes():
                got += piece
    assert bytes(got) == data[: len(got)] and len(got) == 2 * MiB  # only verified bytes
    r = httpx.get(url, headers=master.auth())
    assert r.status_code == 410 and r.json()["code"] == "block_corrupted"
    assert "checksum mismatch" in r.json()["message"]
    assert failures(worker.url) == 1
    fs = c.client(short_circuit=False)
    try:
        assert fs.read_bytes("/big.bin") == data
    finally:
        fs.close()


def test_the_worker_refuses_a_block_whose_bytes_do_not_match(
    make_cluster: Callable[..., Cluster],
) -> None:
    c = make_cluster(1)
    worker, master = c.workers[0], c.master
    url = f"{worker.url}/api/v1/blocks/424242"
    body = b"block bytes" * 1000
    good = f"{crc32c.crc32c(body):08x}"
    for headers in ({}, {"X-Silt-Crc32c": "zz"}, {"X-Silt-Crc32c": f"{crc32c.crc32c(b'x'):08x}"}):
        r = httpx.put(url, content=body, headers={**master.auth(), **headers})
        assert r.status_code == 400 and r.json()["code"] == "invalid_argument", r.text
        assert httpx.get(url, headers=master.auth()).status_code == 404  # nothing stored
    r = httpx.put(url, content=body, headers={**master.auth(), "X-Silt-Crc32c": good})
    assert r.status_code == 200, r.text
    assert httpx.get(url, headers=master.auth()).content == body
