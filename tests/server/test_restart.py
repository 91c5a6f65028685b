"""A master that dies (kill -9) or stops (SIGTERM) under a remote client: reads resume
with the right bytes or fail clearly, never with bytes of another version."""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from siltfs import errors
from siltfs.client.common import CHUNK
from siltfs.client.remote import RemoteFileSystem

from .conftest import MasterProcess

MiB = 1024 * 1024


@pytest.fixture
def own_master(tmp_path: Path) -> Iterator[MasterProcess]:
    server = MasterProcess(tmp_path / "home").start()
    yield server
    server.kill()


def test_kill_and_restart_mid_read(own_master: MasterProcess) -> None:
    data = random.Random(7).randbytes(3 * CHUNK + 5 * MiB // 2)
    token = own_master.token
    # no short-circuit: the bytes must come over HTTP from the master being restarted
    fs = RemoteFileSystem(own_master.url, token, timeout=10, retries=4, short_circuit=False)
    fs.write_bytes("/big", data)  # ASYNC_THROUGH: acknowledged, so it survives kill -9
    fs.write_bytes("/other", b"first version")
    reader = fs.open("/big", "rb")
    stale = fs.open("/other", "rb")
    assert reader.read(CHUNK + 1000) == data[: CHUNK + 1000]

    own_master.kill()
    with pytest.raises(errors.Unavailable):  # master down: a clear error, after retries
        fs.stat("/big")
    own_master.start()
    assert own_master.token == token  # the token survives restarts

    assert reader.read(2 * MiB) == data[CHUNK + 1000 : CHUNK + 1000 + 2 * MiB]
    reader.seek(3 * CHUNK - 10)
    assert reader.read() == data[3 * CHUNK - 10 :]
    reader.seek(0)
    assert reader.read() == data
    reader.close()

    fs.write_bytes("/other", b"SECOND VERSION")  # replaced while `stale` is open
    with pytest.raises(errors.FileNotFound, match="changed since it was opened"):
        stale.read()
    stale.close()

    fs.wait_persisted("/", timeout=30)
    assert own_master.stop() == 0  # SIGTERM: graceful
    assert "silt master: stopped" in own_master.log_text()
    own_master.start()
    assert fs.read_bytes("/big") == data and fs.stat("/big").persisted
    fs.close()


def test_sigterm_lets_running_requests_finish(own_master: MasterProcess) -> None:
    fs = RemoteFileSystem(own_master.url, own_master.token)
    payload = random.Random(8).randbytes(8 * MiB)

    def body() -> Iterator[bytes]:
        for i in range(0, len(payload), MiB):
            if i == 4 * MiB:
                assert own_master.proc is not None
                own_master.proc.send_signal(signal.SIGTERM)  # mid-upload
            yield payload[i : i + MiB]

    info = fs._upload("/during-shutdown", {}, body, len(payload))
    assert info.length == len(payload)
    assert own_master.proc is not None and own_master.proc.wait(20) == 0
    own_master.start()
    assert fs.read_bytes("/during-shutdown") == payload
    fs.close()
