"""Recovery of jobs (protocol step 5): after a stop, jobs leased by a process of this
host that is gone are claimable again at once (others wait for their lease to expire);
their staging objects are swept (:mod:`siltfs.persist.sweep`)."""

from __future__ import annotations

from siltfs.master.namespace import now_ms
from siltfs.metastore.abc import Metastore
from siltfs.model.enums import JobState
from siltfs.persist.identity import owner_is_dead


def reclaim_dead_leases(ms: Metastore) -> int:
    """RUNNING jobs whose lease owner is a dead process of this host go back to PENDING,
    due now.  Returns how many."""
    reclaimed = 0
    with ms.transaction() as txn:
        for job in txn.list_jobs(JobState.RUNNING):
            if owner_is_dead(job.lease_owner):
                job.state = JobState.PENDING
                job.lease_owner = None
                job.lease_expires_ms = 0
                job.next_run_ms = now_ms()
                txn.update_job(job)
                reclaimed += 1
    return reclaimed
