"""A home written by the siltfs of before the persist/ package opens: its job rows (lease
owners in ``host:pid:nonce``) and staging objects (``j<id>-<gen>-<token>``,
``w<id>-1-<host hash>h<pid>p<nonce>``) are understood by recovery and the sweeper."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import siltfs
from siltfs.config import PersistConfig, SiltConfig
from siltfs.metastore import open_metastore
from siltfs.model.enums import JobState, PersistenceState, WriteType
from siltfs.persist.identity import HOST_TAG

from .test_formats import dead_pid


def config(home: Path, *, enabled: bool) -> SiltConfig:
    persist = PersistConfig(enabled=enabled, poll_interval_s=0.01, backoff_initial_s=0.01)
    return SiltConfig(home=home, persist=persist)  # lease_s: 30 s, longer than the test


def test_jobs_and_staging_of_a_dead_process_are_taken_over_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cfg = config(home, enabled=False)
    with siltfs.connect(config=cfg) as fs:
        info = fs.write_bytes("/a/f", b"acknowledged", write_type=WriteType.ASYNC_THROUGH)
    gone = dead_pid()
    ms = open_metastore(cfg.metastore_uri)
    try:  # a runner of a process now dead claimed the job (today's owner format)
        with ms.transaction() as txn:
            owner = f"{socket.gethostname()}:{gone}:1a2b3c4d"
            claimed = txn.claim_jobs(owner, int(time.time() * 1000), 10**9, 10)
        (job,) = [j for j in claimed if j.inode_id == info.id]  # (and /a's own job)
    finally:
        ms.close()
    staging = cfg.root_ufs_dir / ".silt_staging"
    staging.mkdir(exist_ok=True)
    orphans = [
        f"j{info.id}-1-{job.token}",  # the dead runner's upload (lease reclaimed on start)
        f"w999-1-{HOST_TAG}h{gone}p0badf00d",  # a dead writer's object, young
    ]
    live = f"w998-1-{HOST_TAG}h{os.getpid()}p12345678"  # a live writer's, young
    for name in [*orphans, live]:
        (staging / name).write_bytes(b"partial")
    cfg = config(home, enabled=True)
    with siltfs.connect(config=cfg) as fs:
        started = time.monotonic()
        fs.wait_persisted("/", timeout=20)
        assert time.monotonic() - started < 20  # not after the 30 s lease
        assert fs.stat("/a/f").persistence_state is PersistenceState.PERSISTED
        assert fs.jobs(JobState.RUNNING) == []
        assert (cfg.root_ufs_dir / "a" / "f").read_bytes() == b"acknowledged"
        assert sorted(p.name for p in staging.iterdir()) == [live]
