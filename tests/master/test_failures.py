"""Failures that end: a UFS that runs out of space (a real tmpfs, ENOSPC) fails persists,
every such error is counted, and FAILED jobs are retried on a slow schedule, so once the
UFS has room again everything ends PERSISTED without anyone running ``silt jobs retry``."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import siltfs
from siltfs.config import CacheConfig, PersistConfig, SiltConfig
from siltfs.errors import PersistFailed
from siltfs.testing import inject_faults


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


def ufs_errors(fs: object) -> float:
    for family in text_string_to_metric_families(fs.metrics_text()):  # type: ignore[attr-defined]
        for s in family.samples:
            if s.name == "silt_ufs_errors_total":
                return float(s.value)
    raise AssertionError("no silt_ufs_errors_total")


def config(home: Path, retry_s: float) -> SiltConfig:
    persist = PersistConfig(max_attempts=2, backoff_initial_s=0.01, backoff_max_s=0.02,
                            poll_interval_s=0.01, failed_retry_interval_s=retry_s)  # fmt: skip
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
    returns (Master._revive); retrying it would only cancel it (the file is not
    TO_BE_PERSISTED), and the file, once revived, would never be persisted."""
    fs = siltfs.connect(config=config(tmp_path / "home", 0.0), ufs=f"file://{tmp_path}/ufs")
    try:
        faults = inject_faults(fs)
        faults.set_error_rate(1.0, ops=["open_write"])
        info = fs.write_bytes("/lost", b"only cached")
        with pytest.raises(PersistFailed):
            fs.wait_persisted("/", timeout=30)
        fs.master.store.remove(info.block_ids)  # the only copy goes (a dead worker)
        assert fs.master.mark_lost("the test dropped its blocks") == 1
        faults.clear()
        assert fs.master.jobs.retry_failed() == 0  # what the schedule runs
        [job] = fs.jobs()
        assert job.state == "FAILED" and "dropped" in (job.last_error or "")
        assert fs.stat("/lost").persistence_state.value == "LOST"
    finally:
        fs.close()
