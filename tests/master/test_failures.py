"""Failures that end: a UFS that runs out of space (a real tmpfs, ENOSPC) fails persists,
every such error is counted, and FAILED jobs are retried on a slow schedule, so once the
UFS has room again everything ends PERSISTED without anyone running ``silt jobs retry``."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import siltfs
from siltfs.client.remote import RemoteFileSystem
from siltfs.config import CacheConfig, PersistConfig, SiltConfig
from siltfs.errors import PersistFailed
from siltfs.testing import inject_faults
from tests.server.test_workers import locations, wait_for
from tests.servers import CLUSTER_TOML, SILT_TOML, MasterProcess, WorkerProcess


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (we are root on the CI machine): a UFS that really is full."""
    where = tmp_path / "tmpfs"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)]).returncode != 0:
            subprocess.run(["umount", "-l", str(where)])


def ufs_errors_by_kind(fs: object) -> dict[str, float]:
    text = fs.metrics_text()  # type: ignore[attr-defined]
    assert "# TYPE silt_ufs_errors_total counter" in text
    return {
        s.labels["kind"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "silt_ufs_errors_total"
    }


def ufs_errors(fs: object) -> float:
    return sum(ufs_errors_by_kind(fs).values())  # what sum(silt_ufs_errors_total) says


def config(home: Path, retry_s: float) -> SiltConfig:
    persist = PersistConfig(
        max_attempts=2,
        backoff_initial_s=0.01,
        backoff_max_s=0.02,
        poll_interval_s=0.01,
        failed_retry_interval_s=retry_s,
    )
    return SiltConfig(home=home, cache=CacheConfig(block_size=64 * 1024), persist=persist)


@pytest.mark.parametrize("retry_s", [0.2, 0.0])
def test_a_full_ufs_is_counted_and_failed_jobs_retry_on_schedule(
    tmp_path: Path, small_tmpfs: Path, retry_s: float
) -> None:
    fs = siltfs.connect(config=config(tmp_path / "home", retry_s), ufs=f"file://{small_tmpfs}")
    try:
        data = {f"/f{i}": bytes([i]) * 100_000 for i in range(3)}  # 300 KB > 64 KiB
        for path, payload in data.items():
            fs.write_bytes(path, payload)
        with pytest.raises(PersistFailed):
            fs.wait_persisted("/", timeout=30)
        assert ufs_errors(fs) >= 2  # ENOSPC is a UFS error like any other
        assert ufs_errors_by_kind(fs)["ENOSPC"] >= 2  # (raised by the stream's write)
        subprocess.run(["mount", "-o", "remount,size=8m", str(small_tmpfs)], check=True)
        if retry_s:  # nobody calls retry: the schedule does (polled, with a deadline)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(
                fs.stat(p).persistence_state.value != "PERSISTED" for p in data
            ):
                time.sleep(0.05)
            assert {p: fs.stat(p).persistence_state.value for p in data} == dict.fromkeys(
                data, "PERSISTED"
            )
            for path, payload in data.items():
                assert (small_tmpfs / path[1:]).read_bytes() == payload
        else:  # 0: only an operator's retry brings them back
            assert {j.state for j in fs.jobs()} == {"FAILED"}
            fs.retry_job(all_failed=True)
            fs.wait_persisted("/", timeout=30)
    finally:
        fs.close()


def test_a_scheduled_retry_leaves_the_job_of_a_lost_file_alone(tmp_path: Path) -> None:
    """A LOST file's FAILED job is what brings it back to the queue when its worker
    returns (Recovery.revive, master/recovery.py); retrying it would only cancel it (the file is not
    TO_BE_PERSISTED), and the file, once revived, would never be persisted."""
    fs = siltfs.connect(config=config(tmp_path / "home", 0.0), ufs=f"file://{tmp_path}/ufs")
    try:
        faults = inject_faults(fs)
        faults.set_error_rate(1.0, ops=["open_write"])
        info = fs.write_bytes("/lost", b"only cached")
        with pytest.raises(PersistFailed):
            fs.wait_persisted("/", timeout=30)
        fs.master.blocks.remove(info.block_ids)  # the only copy goes (a dead worker)
        assert fs.master.mark_lost("the test dropped its blocks") == 1
        faults.clear()
        assert fs.master.jobs.retry_failed() == 0  # what the schedule runs
        [job] = fs.jobs()
        assert job.state == "FAILED" and "dropped" in (job.last_error or "")
        assert fs.stat("/lost").persistence_state.value == "LOST"
    finally:
        fs.close()


def os_error(code: int) -> Callable[[], Exception]:
    return lambda: OSError(code, os.strerror(code))


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("ENOSPC", os_error(errno.ENOSPC)),
        ("EACCES", lambda: PermissionError(errno.EACCES, "Permission denied")),
        ("EROFS", os_error(errno.EROFS)),
        ("TimeoutError", lambda: TimeoutError("read timed out")),  # no errno
        ("RuntimeError", lambda: RuntimeError("the adapter broke")),  # not even an OSError
        ("InjectedFault", None),  # a UfsError, as an adapter translates what it meets
    ],
)
def test_every_ufs_failure_counts_by_kind(
    tmp_path: Path, kind: str, error: Callable[[], Exception] | None
) -> None:
    fs = siltfs.connect(config=config(tmp_path / "home", 0.0), ufs=f"file://{tmp_path}/ufs")
    try:
        faults = inject_faults(fs)
        faults.fail_next("open_write", 2, ".silt_staging/j*", error=error)
        fs.write_bytes("/f", b"data")
        with pytest.raises(PersistFailed):
            fs.wait_persisted("/", timeout=30)
        assert ufs_errors_by_kind(fs) == {kind: 2}
    finally:
        fs.close()


def test_failures_that_are_not_the_ufs_are_not_counted(tmp_path: Path) -> None:
    fs = siltfs.connect(config=config(tmp_path / "home", 0.0), ufs=f"file://{tmp_path}/ufs")
    try:
        gate = inject_faults(fs).block("open_write", ".silt_staging/j*")
        info = fs.write_bytes("/gone", b"only cached")
        assert gate.wait_reached()
        fs.master.blocks.remove(info.block_ids)  # the persister finds no cached block
        gate.release()
        with pytest.raises(PersistFailed):
            fs.wait_persisted("/", timeout=30)
        assert "FileLost" in (fs.jobs()[0].last_error or "")
        assert ufs_errors_by_kind(fs) == {}
    finally:
        fs.close()


def test_a_real_master_persists_everything_once_its_ufs_is_writable_again(
    tmp_path: Path,
) -> None:
    """``silt master`` with a 0.2 s retry schedule on a UFS that turns read-only (a real
    tmpfs remounted ro): every persist fails with EROFS (counted), the jobs end FAILED;
    remounted rw, every file ends PERSISTED and nobody ran ``silt jobs retry``."""
    home = tmp_path / "home"
    ufs = home / "ufs"
    ufs.mkdir(parents=True)
    toml = SILT_TOML.replace("[persist]\n", "[persist]\nfailed_retry_interval_s = 0.2\n")
    (home / "silt.toml").write_text(toml)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(ufs)], check=True)
    master = MasterProcess(home)
    try:
        master.start()
        fs = RemoteFileSystem(master.url, master.token)
        subprocess.run(["mount", "-o", "remount,ro", str(ufs)], check=True)
        data = {f"/f{i}": bytes([i]) * 1000 for i in range(5)}
        for path, payload in data.items():
            fs.write_bytes(path, payload)
        deadline = time.monotonic() + 30  # polled: the master makes it true
        while [j.state for j in fs.jobs()] != ["FAILED"] * len(data):
            assert time.monotonic() < deadline, fs.jobs()
            time.sleep(0.05)
        assert ufs_errors_by_kind(fs)["EROFS"] >= 2 * len(data)
        subprocess.run(["mount", "-o", "remount,rw", str(ufs)], check=True)
        while any(fs.stat(p).persistence_state.value != "PERSISTED" for p in data):
            assert time.monotonic() < deadline + 30, fs.jobs()
            time.sleep(0.05)
        fs.wait_persisted("/", timeout=30)
        for path, payload in data.items():
            assert (ufs / path[1:]).read_bytes() == payload
        assert fs.jobs() == []
        fs.close()
    finally:
        master.kill()
        if subprocess.run(["umount", str(ufs)]).returncode != 0:
            subprocess.run(["umount", "-l", str(ufs)])


def test_a_lost_file_its_worker_brings_back_is_persisted_by_the_schedule(tmp_path: Path) -> None:
    """A master, two workers, a read-only UFS (tmpfs remounted ro) and a 0.2 s retry
    schedule.  /async (one copy) fails to persist; its worker freezes, so it is LOST.
    The scheduled rounds must leave its FAILED job alone (a probe file with two copies
    shows rounds go on), the worker's return puts it back in the queue, and once the UFS
    is writable again everything ends PERSISTED, with nobody running a retry."""
    home = tmp_path / "home"
    ufs = home / "ufs"
    ufs.mkdir(parents=True)
    toml = CLUSTER_TOML.replace("[persist]\n", "[persist]\nfailed_retry_interval_s = 0.2\n")
    (home / "silt.toml").write_text(toml.replace("max_attempts = 2", "max_attempts = 5"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(ufs)], check=True)
    master = MasterProcess(home, args=("--no-local-worker",))
    nodes = [WorkerProcess(tmp_path / f"w{i}", [master]) for i in range(2)]
    try:
        master.start()
        for node in nodes:
            node.start()
        fs = RemoteFileSystem(master.url, master.token)
        subprocess.run(["mount", "-o", "remount,ro", str(ufs)], check=True)
        fs.write_bytes("/async", b"acknowledged, not yet persisted")
        with fs.open("/probe", "wb", replicas=2) as f:
            f.write(b"on both workers")

        def job(path: str) -> str | None:
            return next((j.state for j in fs.jobs() if j.path == path), None)

        wait_for(lambda: job("/async") == job("/probe") == "FAILED", what="both FAILED")
        [holder] = locations(master, "/async")[0]
        victim = next(n for n in nodes if n.id == holder)
        assert victim.proc is not None
        victim.proc.send_signal(signal.SIGSTOP)  # no heartbeats: its blocks count as gone
        try:
            wait_for(lambda: fs.stat("/async").persistence_state.value == "LOST", what="LOST")
            wait_for(lambda: job("/probe") == "FAILED", what="probe FAILED")
            wait_for(lambda: job("/probe") != "FAILED", what="a scheduled round", timeout=30)
            wait_for(lambda: job("/probe") == "FAILED", what="the round over")
            assert job("/async") == "FAILED"  # the round did not cancel it
        finally:
            victim.proc.send_signal(signal.SIGCONT)
        state = fs.stat  # the worker's next heartbeat revives the file
        wait_for(
            lambda: state("/async").persistence_state.value == "TO_BE_PERSISTED", what="revived"
        )
        subprocess.run(["mount", "-o", "remount,rw", str(ufs)], check=True)
        for path in ("/async", "/probe"):
            wait_for(lambda: state(path).persistence_state.value == "PERSISTED", what=path)  # noqa: B023
        assert (ufs / "async").read_bytes() == b"acknowledged, not yet persisted"
        assert (ufs / "probe").read_bytes() == b"on both workers"
        fs.close()
    finally:
        for node in nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.proc.send_signal(signal.SIGCONT)
            node.kill()
        master.kill()
        if subprocess.run(["umount", str(ufs)]).returncode != 0:
            subprocess.run(["umount", "-l", str(ufs)])
