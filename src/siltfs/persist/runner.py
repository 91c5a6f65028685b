"""Claim and lease (protocol step 2): the persist runner claims due jobs with a lease
and runs them on a bounded pool.

It knows nothing about the namespace: the master hands it a ``work`` callable that
uploads, commits or fails one job.  Leases of running jobs are renewed while they run,
so a long upload is not taken over by another runner; a runner that dies simply stops
renewing, and its jobs become claimable when the lease expires.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

from siltfs.config import PersistConfig
from siltfs.metastore.abc import Metastore
from siltfs.model.enums import JobState
from siltfs.model.inode import PersistJob
from siltfs.persist.identity import ProcessId

log = logging.getLogger("siltfs.jobs")  # (the name logs and configurations know)


class PersistRunner:
    def __init__(
        self,
        metastore: Metastore,
        config: PersistConfig,
        work: Callable[[PersistJob], None],
        *,
        owner: str | None = None,
    ) -> None:
        self.ms = metastore
        self.config = config
        self.work = work
        self.owner = owner or ProcessId.current().owner()  # the lease_owner of its jobs
        self._pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="silt-persist")
        self._inflight: dict[int, PersistJob] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.completed = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="silt-runner", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:  # claimed jobs, running or still queued in the pool
            claimed = list(self._inflight.values())
        self._pool.shutdown(wait=wait, cancel_futures=True)
        if wait:
            self._release(claimed)  # no-op for finished ones (their rows moved on)

    def inflight(self) -> int:
        with self._lock:
            return len(self._inflight)

    def inflight_jobs(self) -> list[PersistJob]:
        with self._lock:
            return list(self._inflight.values())

    def _loop(self) -> None:
        last_renew = time.monotonic()
        while not self._stop.is_set():
            try:
                self._claim()
                if time.monotonic() - last_renew > self.config.lease_s / 3:
                    self._renew()
                    last_renew = time.monotonic()
            except Exception:  # noqa: BLE001 - the loop must survive a bad round
                log.exception("persist runner round failed")
            self._wake.wait(self.config.poll_interval_s)
            self._wake.clear()

    def _claim(self) -> None:
        free = self.config.concurrency - self.inflight()
        if free <= 0:
            return
        now = int(time.time() * 1000)
        lease = int(self.config.lease_s * 1000)
        with self.ms.transaction() as txn:
            jobs = txn.claim_jobs(self.owner, now, lease, free)
        for job in jobs:
            with self._lock:
                self._inflight[job.id] = job
            try:
                fut = self._pool.submit(self.work, job)
            except RuntimeError:  # the pool is shut down (the interpreter is exiting):
                with self._lock:  # the claim lapses with its lease; another round runs it
                    self._inflight.pop(job.id, None)
                self._stop.set()
                return
            fut.add_done_callback(partial(self._done, job))

    def _done(self, job: PersistJob, fut: Future[None]) -> None:
        with self._lock:
            self._inflight.pop(job.id, None)
            self.completed += 1
        if not fut.cancelled() and fut.exception() is not None:
            log.error("persist job %s crashed: %s", job.id, fut.exception())
        self._wake.set()

    def _renew(self) -> None:
        with self._lock:
            jobs = list(self._inflight.values())
        if not jobs:
            return
        expires = int(time.time() * 1000) + int(self.config.lease_s * 1000)
        with self.ms.transaction() as txn:
            for job in jobs:
                row = txn.get_job(job.id)
                if row is not None and row.token == job.token and row.state is JobState.RUNNING:
                    row.lease_expires_ms = expires
                    txn.update_job(row)

    def _release(self, jobs: list[PersistJob]) -> None:
        """Give unfinished leases back (clean shutdown) so the next runner starts at once."""
        if not jobs:
            return
        with self.ms.transaction() as txn:
            for job in jobs:
                row = txn.get_job(job.id)
                if row is not None and row.token == job.token and row.state is JobState.RUNNING:
                    row.state = JobState.PENDING
                    row.attempts = max(0, row.attempts - 1)
                    row.lease_owner = None
                    row.lease_expires_ms = 0
                    txn.update_job(row)
