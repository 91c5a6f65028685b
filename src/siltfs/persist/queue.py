"""Queue visibility and control (invariant I5): list, show, retry and cancel persist jobs."""

from __future__ import annotations

from collections.abc import Callable

from siltfs.errors import InvalidArgument, JobNotFound
from siltfs.master.namespace import Namespace, now_ms
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import PersistJob
from siltfs.model.jobs import JobInfo


class JobQueue:
    def __init__(self, ns: Namespace, wake: Callable[[], None]) -> None:
        self.ns = ns
        self._wake = wake

    def _info(self, job: PersistJob, path: str | None, now: int) -> JobInfo:
        return JobInfo(
            id=job.id,
            path=path,
            inode_id=job.inode_id,
            generation=job.generation,
            state=job.state.value,
            attempts=job.attempts,
            last_error=job.last_error,
            age_s=max(0.0, (now - job.created_ms) / 1000),
            next_run_in_s=max(0.0, (job.next_run_ms - now) / 1000),
            lease_owner=job.lease_owner,
        )

    def list(self, state: JobState | None = None) -> list[JobInfo]:
        now = now_ms()
        with self.ns.ms.snapshot() as txn:
            out = []
            for job in txn.list_jobs(state):
                inode = txn.get_inode(job.inode_id)
                out.append(self._info(job, self.ns.path_of(txn, inode) if inode else None, now))
        return out

    def show(self, job_id: int) -> JobInfo:
        with self.ns.ms.snapshot() as txn:
            job = txn.get_job(job_id)
            if job is None:
                raise JobNotFound(f"no persist job {job_id}")
            inode = txn.get_inode(job.inode_id)
            return self._info(job, self.ns.path_of(txn, inode) if inode else None, now_ms())

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in (JobState.PENDING, JobState.RUNNING, JobState.FAILED)}
        with self.ns.ms.snapshot() as txn:
            for job in txn.list_jobs():
                counts[job.state.value] = counts.get(job.state.value, 0) + 1
        return counts

    def oldest_pending_age_s(self) -> float:
        now = now_ms()
        with self.ns.ms.snapshot() as txn:
            ages = [now - j.created_ms for j in txn.list_jobs() if j.state is not JobState.FAILED]
        return max(ages) / 1000 if ages else 0.0

    def retry(self, job_id: int) -> JobInfo:
        """Run a FAILED (or stuck) job again now, with a fresh attempt budget."""
        with self.ns.ms.transaction() as txn:
            job = txn.get_job(job_id)
            if job is None:
                raise JobNotFound(f"no persist job {job_id}")
            txn.update_job(_requeued(job))
            inode = txn.get_inode(job.inode_id)
            info = self._info(job, self.ns.path_of(txn, inode) if inode else None, now_ms())
        self._wake()  # (the job may be done before the caller looks at *info*)
        return info

    def retry_failed(self) -> int:
        """Re-queue every FAILED job (``silt jobs retry --all-failed`` and the slow
        schedule), each with a fresh attempt budget; returns how many.  A job that is no
        longer FAILED when its turn comes (another master or operator retried it) is left
        alone, and so is a LOST file's: it cannot succeed, and it is what puts the file
        back in the queue if its blocks come back (master/recovery.py: Recovery.revive)."""
        retried = 0
        with self.ns.ms.transaction() as txn:
            for job in txn.list_jobs(JobState.FAILED):
                inode = txn.get_inode(job.inode_id)
                if inode is not None and inode.state is PersistenceState.LOST:
                    continue
                txn.update_job(_requeued(job))
                retried += 1
        if retried:
            self._wake()
        return retried

    def cancel(self, job_id: int) -> None:
        """Drop the job; the file stays NOT_PERSISTED with its blocks pinned (nothing lost)."""
        with self.ns.lock, self.ns.ms.transaction() as txn:
            job = txn.get_job(job_id)
            if job is None:
                raise JobNotFound(f"no persist job {job_id}")
            inode = txn.get_inode(job.inode_id)
            if inode is not None and inode.state is PersistenceState.PERSISTED:
                raise InvalidArgument(f"job {job_id} already committed", path=inode.name)
            txn.delete_job(job_id)
            if inode is not None and inode.state is PersistenceState.TO_BE_PERSISTED:
                inode.state = PersistenceState.NOT_PERSISTED
                txn.update_inode(inode)


def _requeued(job: PersistJob) -> PersistJob:
    """*job* made to run again now, with a fresh attempt budget."""
    job.state = JobState.PENDING
    job.attempts = 0
    job.next_run_ms = now_ms()
    job.lease_owner = None
    job.lease_expires_ms = 0
    return job
