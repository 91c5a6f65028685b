"""One persist job from claim to commit (protocol steps 2-3), and the persister that
the master wires to the runner: it uploads, commits or fails each job the runner hands
it, sweeps staging when the last upload leaves, and answers the barrier."""

from __future__ import annotations

import logging
import threading

from siltfs import crashpoints
from siltfs.master.namespace import Namespace
from siltfs.master.posix import apply_to_ufs
from siltfs.master.ufs_errors import UfsErrorCounter
from siltfs.model.enums import PersistenceState
from siltfs.model.inode import PersistJob
from siltfs.persist import barrier
from siltfs.persist.commit import Committer
from siltfs.persist.runner import PersistRunner
from siltfs.persist.staging import JOB, StagingName
from siltfs.persist.sweep import Sweeper, discard
from siltfs.persist.upload import stage
from siltfs.ufs.abc import UnderFileSystem

log = logging.getLogger("siltfs.persist")
TO_BE_PERSISTED = PersistenceState.TO_BE_PERSISTED


class Persister:
    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.config = ns.config.persist
        self.changed = threading.Condition()  # notified when a job or a delete finished
        self.committer = Committer(ns, self.config)
        self.sweeper = Sweeper(ns, self.config)
        self.sweeping = False
        self._running = 0
        self._running_lock = threading.Lock()

    @property
    def stats(self) -> dict[str, int]:
        return self.committer.stats

    @property
    def ufs_errors(self) -> UfsErrorCounter:
        return self.committer.ufs_errors

    @property
    def max_pending_s(self) -> float:
        return self.committer.max_pending_s

    def notify(self) -> None:
        """Wake the barrier's waiters: something they wait for may have changed."""
        with self.changed:
            self.changed.notify_all()

    # the job (the runner's work) -----------------------------------------------
    def run_job(self, job: PersistJob) -> None:
        with self._running_lock:
            self._running += 1
        try:
            self._run_job(job)
        finally:
            with self._running_lock:
                last = self._running == 1
                if last:
                    self.sweeping = True
            if last:  # the last upload out sweeps what failed uploads left in staging
                try:
                    self.sweep_staging()
                except Exception as exc:  # noqa: BLE001 - the periodic sweep retries
                    log.warning("staging sweep failed: %s", exc)
            with self._running_lock:
                self._running -= 1
                self.sweeping = False
            self.notify()

    def _run_job(self, job: PersistJob) -> None:
        ns = self.ns
        with ns.ms.snapshot() as txn:
            inode = txn.get_inode(job.inode_id)
            row = txn.job_for_inode(job.inode_id)
            path = ns.path_of(txn, inode) if inode is not None else None
        if row is None or row.id != job.id or row.token != job.token:
            return  # superseded
        if inode is None or path is None or inode.generation != job.generation:
            self.committer.cancel(job)
            return
        if inode.state is not TO_BE_PERSISTED:
            self.committer.cancel(job)
            return
        if inode.is_dir:
            self._run_dir_job(job)
            return
        staging: str | None = None
        ufs: UnderFileSystem | None = None
        try:
            mount, ufs, _ = ns.mounts.resolve(path)
            assert job.token is not None
            name = StagingName(JOB, inode.id, inode.generation, job.token)
            staging = name.rel(self.config.staging_dir)
            digest = stage(ns.blocks, ufs, self.config.staging_dir, staging, inode)
            apply_to_ufs(ufs, staging, inode)
            crashpoints.reach("persist.after_upload")
            self.committer.commit(job, mount.id, staging, digest)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
            if ufs is not None and staging is not None:
                discard(ufs, staging)
            self.committer.fail(job, exc)

    def _run_dir_job(self, job: PersistJob) -> None:
        """A directory created ASYNC_THROUGH: create it (and its parents) at its current path."""
        ns = self.ns
        try:
            with ns.lock:
                with ns.ms.snapshot() as txn:
                    inode = txn.get_inode(job.inode_id)
                    row = txn.job_for_inode(job.inode_id)
                    path = ns.path_of(txn, inode) if inode is not None else None
                if row is None or row.id != job.id or row.token != job.token:
                    return
                if inode is None or path is None or inode.state is not TO_BE_PERSISTED:
                    self.committer.cancel(job)
                    return
                ns.persist_dirs(path)
                with ns.ms.transaction() as txn:
                    txn.delete_job(job.id)
        except Exception as exc:  # noqa: BLE001 - recorded on the job
            self.committer.fail(job, exc)

    # staging ------------------------------------------------------------------
    def orphaned_staging(self, mount_id: int) -> list[str]:
        return self.sweeper.orphaned(mount_id)

    def sweep_staging(self) -> int:
        return self.sweeper.sweep()

    # scheduling and the barrier ---------------------------------------------------
    def schedule(self, path: str) -> int:
        return barrier.schedule(self.ns, path)

    def wait(self, path: str, timeout: float | None, runner: PersistRunner) -> None:
        barrier.wait(
            self.ns,
            path,
            timeout,
            inflight=runner.inflight_jobs,
            sweeping=lambda: self.sweeping,
            changed=self.changed,
        )
