"""Commit (protocol step 3) and failure (step 5) of a persist job.

The checks run under the namespace lock against the inode reloaded by id; the UFS move
runs outside it, with the file's *current* path latched so that a rename, delete or
overwrite touching it waits for the move to finish.  A job whose inode is gone or was
rewritten cancels itself; a failed attempt is retried with backoff and jitter, and after
``persist.max_attempts`` the job is FAILED, its data still pinned.
"""

from __future__ import annotations

import logging
import random

from siltfs import crashpoints
from siltfs.config import PersistConfig
from siltfs.errors import FileLost, MountError, UfsError
from siltfs.master.intents import retrying
from siltfs.master.namespace import PERSISTED, Namespace, now_ms
from siltfs.master.ufs_errors import UfsErrorCounter, ufs_calls
from siltfs.model import paths
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import PersistJob
from siltfs.persist.sweep import discard

log = logging.getLogger("siltfs.persist")


class Committer:
    def __init__(self, ns: Namespace, config: PersistConfig) -> None:
        self.ns = ns
        self.config = config
        self.stats = {"completed": 0, "failures": 0, "bytes": 0, "ufs_errors": 0}
        self.ufs_errors = UfsErrorCounter()  # the same, by kind (ENOSPC, EACCES, ...)
        self.max_pending_s = 0.0  # longest time from queued to committed, this process
        self._jitter = random.Random()

    def commit(self, job: PersistJob, mount_id: int, staging: str, digest: str) -> None:
        """Move the staged object to the inode's current path (crash points
        ``persist.before_move``, ``persist.after_move``), record the fingerprint and make
        the file PERSISTED and the job done, in one transaction."""
        ns = self.ns
        with ns.lock:
            with ns.ms.snapshot() as txn:
                inode = txn.get_inode(job.inode_id)
                row = txn.job_for_inode(job.inode_id)
                path = ns.path_of(txn, inode) if inode is not None else None
            _, ufs = ns.mounts.by_id(mount_id)
            if row is None or row.id != job.id or row.token != job.token:
                discard(ufs, staging)
                return
            if inode is None or path is None or inode.generation != job.generation:
                discard(ufs, staging)
                self.cancel(job)
                return
            mount, _, rel = ns.mounts.resolve(path)
            if mount.id != mount_id:
                raise MountError("file moved to another mount during upload; will retry", path=path)
            ns.persist_dirs(paths.split(path)[0])
            ns.latch(inode.id, path)
        try:
            crashpoints.reach("persist.before_move")
            with ufs_calls():
                ufs.move(staging, rel)
            crashpoints.reach("persist.after_move")
            try:
                st = retrying(lambda: ufs.status(rel))
            except UfsError:
                st = None  # the object is in place: record it, fingerprint learned later
            fingerprint = st.fingerprint if st is not None else None
            with ns.lock, ns.ms.transaction() as txn:
                fresh = txn.get_inode(inode.id)
                if fresh is not None:
                    fresh.state = PERSISTED
                    fresh.fingerprint = fingerprint
                    fresh.content_hash = digest
                    txn.update_inode(fresh)
                txn.delete_job(job.id)
        finally:
            ns.unlatch(inode.id)
        if fresh is not None:
            self.max_pending_s = max(self.max_pending_s, (now_ms() - row.created_ms) / 1000)
            self.stats["completed"] += 1
            self.stats["bytes"] += fresh.length
            if not fresh.pinned:
                ns.blocks.unpin(fresh.block_ids())

    def cancel(self, job: PersistJob) -> None:
        """Drop a job whose inode is gone, rewritten or no longer waiting to persist."""
        with self.ns.ms.transaction() as txn:
            row = txn.get_job(job.id)
            if row is not None:
                txn.delete_job(job.id)

    def _ended_by_a_change(self, job: PersistJob) -> str | None:
        """Why the job no longer matters, if it does not: another claim holds it now
        ("superseded", left to its holder), or its file was deleted or rewritten (the
        job is cancelled)."""
        with self.ns.ms.snapshot() as txn:
            row = txn.get_job(job.id)
            inode = txn.get_inode(job.inode_id)
        if row is None or row.token != job.token:
            return "superseded"
        if inode is None:
            return "the file was deleted"
        if inode.generation != job.generation:
            return "the file was rewritten"
        return None  # (a LOST file keeps its FAILED job: it revives the file)

    def fail(self, job: PersistJob, exc: BaseException) -> None:
        """Record a failed attempt: back to PENDING after a backoff, or FAILED."""
        message = f"{type(exc).__name__}: {exc}"
        ended = self._ended_by_a_change(job)
        if ended is not None:  # deleted or rewritten while it ran: nothing failed
            log.info("persist of inode %s ended: %s (%s)", job.inode_id, ended, message)
            if ended != "superseded":
                self.cancel(job)
            return
        lost = isinstance(exc, FileLost) and self.ns.blocks.sees_everything(
            self.ns.ms.shared_across_hosts
        )  # else another master's own store may hold the blocks: just retry later
        self.stats["failures"] += 1
        if self.ufs_errors.count(exc):  # every kind: unavailable, ENOSPC, EACCES, ...
            self.stats["ufs_errors"] += 1
        log.warning(
            "persist of inode %s attempt %s failed: %s", job.inode_id, job.attempts, message
        )
        with self.ns.ms.transaction() as txn:
            row = txn.get_job(job.id)
            if row is None or row.token != job.token:
                return
            row.last_error = message
            row.lease_owner = None
            row.lease_expires_ms = 0
            row.updated_ms = now_ms()
            if lost or row.attempts >= self.config.max_attempts:
                row.state = JobState.FAILED
            else:
                row.state = JobState.PENDING
                row.next_run_ms = now_ms() + int(self.backoff(row.attempts) * 1000)
            txn.update_job(row)
            if lost:
                inode = txn.get_inode(job.inode_id)
                if inode is not None:
                    inode.state = PersistenceState.LOST
                    txn.update_inode(inode)

    def backoff(self, attempts: int) -> float:
        base: float = min(
            self.config.backoff_max_s, self.config.backoff_initial_s * 2 ** (attempts - 1)
        )
        return base * self._jitter.uniform(0.5, 1.0)
