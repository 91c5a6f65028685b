"""The ASYNC_THROUGH persistence protocol (see DESIGN.md, "Persistence protocol").

A job is keyed by inode id + generation.  It uploads the cached blocks to a staging
object outside every user directory, then commits under the namespace lock to the
inode's *current* path, or cancels itself if the inode is gone or was rewritten.
"""

from __future__ import annotations

import hashlib
import logging
import random
import socket
import threading
import time
from collections.abc import Callable

from siltfs import crashpoints
from siltfs.errors import FileLost, MountError, PersistFailed, PersistTimeout, UfsError
from siltfs.jobs.runner import owner_is_dead
from siltfs.master.intents import retrying
from siltfs.master.namespace import PERSISTED, Namespace, now_ms
from siltfs.master.posix import apply_to_ufs, is_special
from siltfs.master.ufs_errors import UfsErrorCounter, not_ufs, ufs_calls
from siltfs.model import paths
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import Inode, PersistJob, content_digest
from siltfs.ufs.abc import IncompleteUpload, UnderFileSystem

log = logging.getLogger("siltfs.persist")
HOST_TAG = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def writer_is_dead(token: str) -> bool:
    """True if a synchronous write's token names a process of this host that is gone."""
    host, _, rest = token.partition("h")
    pid, _, _ = rest.partition("p")
    if host != HOST_TAG or not pid.isdigit():
        return False
    return owner_is_dead(f"{socket.gethostname()}:{pid}:w")


TO_BE_PERSISTED = PersistenceState.TO_BE_PERSISTED
STAGING_ATTEMPTS = 5  # mkdirs + open of a staging object, against concurrent tidy-ups


class Persister:
    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.config = ns.config.persist
        self.changed = threading.Condition()
        self.stats = {"completed": 0, "failures": 0, "bytes": 0, "ufs_errors": 0}
        self.ufs_errors = UfsErrorCounter()  # the same, by kind (ENOSPC, EACCES, ...)
        self.max_pending_s = 0.0  # longest time from queued to committed, this process
        self._running = 0
        self._jitter = random.Random()
        self.sweeping = False
        self._running_lock = threading.Lock()

    # naming ---------------------------------------------------------------
    def staging_name(self, kind: str, inode: Inode, token: str) -> str:
        return f"{self.config.staging_dir}/{kind}{inode.id}-{inode.generation}-{token}"

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    # the job --------------------------------------------------------------
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
            self._notify()

    def _run_job(self, job: PersistJob) -> None:
        ms = self.ns.ms
        with ms.snapshot() as txn:
            inode = txn.get_inode(job.inode_id)
            row = txn.job_for_inode(job.inode_id)
            path = self.ns.path_of(txn, inode) if inode is not None else None
        if row is None or row.id != job.id or row.token != job.token:
            return  # superseded
        if inode is None or path is None or inode.generation != job.generation:
            self._cancel(job)
            return
        if inode.state is not TO_BE_PERSISTED:
            self._cancel(job)
            return
        if inode.is_dir:
            self._run_dir_job(job)
            return
        staging: str | None = None
        ufs: UnderFileSystem | None = None
        try:
            mount, ufs, _ = self.ns.mounts.resolve(path)
            assert job.token is not None
            staging = self.staging_name("j", inode, job.token)
            digest = self._stage(ufs, staging, inode)
            apply_to_ufs(ufs, staging, inode)
            crashpoints.reach("persist.after_upload")
            self.commit(job, mount.id, staging, digest)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
            if ufs is not None and staging is not None:
                self._discard(ufs, staging)
            self.fail(job, exc)

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
                    self._cancel(job)
                    return
                ns.persist_dirs(path)
                with ns.ms.transaction() as txn:
                    txn.delete_job(job.id)
        except Exception as exc:  # noqa: BLE001 - recorded on the job
            self.fail(job, exc)

    def _stage(self, ufs: UnderFileSystem, staging: str, inode: Inode) -> str:
        """Stream the inode's cached blocks to *staging*; returns their MD5 (the one its
        writer recorded, if it did: the blocks pass their CRC-32C checks on the way)."""
        known = inode.content_hash
        digest = content_digest() if known is None else None
        store = self.ns.store
        for attempt in range(1, STAGING_ATTEMPTS + 1):
            try:
                with ufs_calls():  # (a local file's ENOSPC comes from write or close)
                    if attempt > 1:  # usually the staging directory is there already
                        ufs.mkdirs(self.config.staging_dir)
                    with ufs.open_write(staging) as f:
                        for bid in inode.block_ids():
                            with not_ufs():
                                data = store.get(bid, wait=True)
                                if data is None:
                                    raise FileLost(
                                        f"cached block {bid} is missing", path=f"inode {inode.id}"
                                    )
                            if digest is not None:
                                digest.update(data)
                            f.write(data)
                return digest.hexdigest() if digest is not None else str(known)
            except FileNotFoundError:
                if attempt == STAGING_ATTEMPTS:
                    raise
                # no staging directory (yet), or another master tidied it away between
                # our mkdirs and open: create it, retry
                digest = content_digest()
        raise AssertionError("unreachable")

    def commit(self, job: PersistJob, mount_id: int, staging: str, digest: str) -> None:
        """Move the staged object to the inode's current path.  The checks run under the
        namespace lock; the UFS move runs outside it, with the path latched so that a
        rename, delete or overwrite touching it waits for the move to finish."""
        ns = self.ns
        with ns.lock:
            with ns.ms.snapshot() as txn:
                inode = txn.get_inode(job.inode_id)
                row = txn.job_for_inode(job.inode_id)
                path = ns.path_of(txn, inode) if inode is not None else None
            _, ufs = ns.mounts.by_id(mount_id)
            if row is None or row.id != job.id or row.token != job.token:
                self._discard(ufs, staging)
                return
            if inode is None or path is None or inode.generation != job.generation:
                self._discard(ufs, staging)
                self._cancel(job)
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
                ns.store.unpin(fresh.block_ids())

    def _cancel(self, job: PersistJob) -> None:
        with self.ns.ms.transaction() as txn:
            row = txn.get_job(job.id)
            if row is not None:
                txn.delete_job(job.id)

    def fail(self, job: PersistJob, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        lost = isinstance(exc, FileLost) and self.ns.store.sees_everything(
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

    # staging hygiene ------------------------------------------------------
    def _discard(self, ufs: UnderFileSystem, staging: str) -> None:
        try:
            retrying(lambda: ufs.delete(staging))
        except Exception:  # noqa: BLE001 - the sweeper will get it
            log.warning("could not remove staging object %s", staging)

    def remove_staging_dir_if_empty(self, ufs: UnderFileSystem) -> None:
        self.ns.tidy_staging(ufs)

    def orphaned_staging(self, mount_id: int) -> list[str]:
        """Names of staging objects in a mount that no live job or write owns."""
        _, ufs = self.ns.mounts.by_id(mount_id)
        try:  # list first: an object listed was created by a job claimed before this point
            entries = retrying(lambda: ufs.list(self.config.staging_dir))
        except Exception:  # noqa: BLE001 - no staging dir
            return []
        live = self._live_tokens()
        return [st.name for st in entries if not self._owned(st.name, st.mtime, live)]

    def _live_tokens(self) -> set[str]:
        """Tokens of running jobs whose lease has not expired."""
        now = now_ms()
        with self.ns.ms.snapshot() as txn:
            running = txn.list_jobs(JobState.RUNNING)
        return {j.token for j in running if j.lease_expires_ms > now and j.token}

    def _owned(self, name: str, mtime: float | None, live: set[str]) -> bool:
        """Whether a live job or write owns the staging object *name* (started at *mtime*)."""
        token = name.rsplit("-", 1)[-1]
        if token in live or token in self.ns.active_staging:
            return True
        young = mtime is not None and time.time() - mtime < self.config.lease_s
        # a synchronous write of another process may still own it
        return name.startswith("w") and young and not writer_is_dead(token)

    def abort_orphaned_uploads(self, ufs: UnderFileSystem) -> int:
        """Abort incomplete (multipart) uploads to staging that no live job or write owns:
        what an upload killed mid-way leaves in an object store.  Returns how many."""
        live: set[str] | None = None

        def keep(upload: IncompleteUpload) -> bool:
            nonlocal live
            if live is None:  # read after the listing, as in orphaned_staging
                live = self._live_tokens()
            return self._owned(upload.rel.rpartition("/")[2], upload.initiated, live)

        return ufs.abort_stale_uploads(self.config.staging_dir, 0.0, keep)

    def sweep_staging(self) -> int:
        """Remove staging objects and abort incomplete staging uploads that no live job or
        write owns.  Returns how many."""
        removed = 0
        for mount in self.ns.mounts.all():
            _, ufs = self.ns.mounts.by_id(mount.id)
            for name in self.orphaned_staging(mount.id):
                target = f"{self.config.staging_dir}/{name}"
                retrying(lambda: ufs.delete(target, recursive=True))  # noqa: B023
                removed += 1
            try:
                removed += retrying(lambda: self.abort_orphaned_uploads(ufs))  # noqa: B023
            except Exception as exc:  # noqa: BLE001 - the next sweep retries
                log.warning("aborting stale uploads in %s failed: %s", mount.uri, exc)
            self.remove_staging_dir_if_empty(ufs)
        return removed

    def schedule(self, path: str) -> int:
        """Queue every unpersisted file under *path* (and retry FAILED ones)."""
        ns = self.ns
        count = 0
        with ns.lock:
            root = ns.get(path)
            with ns.ms.snapshot() as txn:
                subtree = txn.subtree(root.id)
            for node in subtree:
                if node.is_dir:
                    if node.state is not PERSISTED and not _has_files(subtree, node):
                        with ns.ms.snapshot() as txn:
                            p = ns.path_of(txn, node)
                        if p is not None:
                            ns.writable(p)
                            ns.persist_dirs(p)
                    continue
                with ns.ms.transaction() as txn:
                    fresh = txn.get_inode(node.id)
                    if fresh is None or is_special(fresh):  # symlinks, FIFOs: namespace only
                        continue
                    job = txn.job_for_inode(node.id)
                    if fresh.state is PersistenceState.NOT_PERSISTED:
                        fresh.state = TO_BE_PERSISTED
                        txn.update_inode(fresh)
                        txn.insert_job(fresh.id, fresh.generation, now_ms())
                        count += 1
                    elif fresh.state is TO_BE_PERSISTED and (
                        job is None or job.state is JobState.FAILED
                    ):
                        txn.insert_job(fresh.id, fresh.generation, now_ms())
                        count += 1
        return count

    def pending_under(self, path: str) -> tuple[list[str], list[tuple[str, str]]]:
        """(paths still TO_BE_PERSISTED and not failed, [(path, error)] failed or lost)."""
        pending: list[str] = []
        failed: list[tuple[str, str]] = []
        with self.ns.ms.snapshot() as txn:
            for state in (TO_BE_PERSISTED, PersistenceState.LOST):
                for inode in txn.inodes_in_state(state):
                    p = self.ns.path_of(txn, inode)
                    if p is None or not paths.is_ancestor(path, p):
                        continue
                    job = txn.job_for_inode(inode.id)
                    if state is PersistenceState.LOST:
                        failed.append((p, "LOST: cached data is gone and no UFS copy exists"))
                    elif job is not None and job.state is JobState.FAILED:
                        failed.append((p, job.last_error or "failed"))
                    else:
                        pending.append(p)
        return sorted(pending), sorted(failed)

    def _settling(self, path: str, inflight: Callable[[], list[PersistJob]]) -> bool:
        """True while a running job still touches *path*: its file is under *path*, or its
        file is gone and the job is cleaning up its staging object."""
        jobs = inflight()
        if not jobs:
            return False
        with self.ns.ms.snapshot() as txn:
            for job in jobs:
                inode = txn.get_inode(job.inode_id)
                p = self.ns.path_of(txn, inode) if inode is not None else None
                if p is None or paths.is_ancestor(path, p):
                    return True
        return False

    def wait(
        self, path: str, timeout: float | None, inflight: Callable[[], list[PersistJob]]
    ) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pending, failed = self.pending_under(path)
            if self.ns.pending_intents:  # a rename/delete whose UFS step was deferred
                self.ns.replay_intents()
                if self.ns.pending_intents:
                    pending.append("(a deferred UFS rename or delete)")
            if not pending and (self.sweeping or self._settling(path, inflight)):
                pending = ["(an upload is still cleaning up its staging object)"]
            if not pending:
                if failed:
                    listing = "; ".join(f"{p} ({err})" for p, err in failed[:20])
                    raise PersistFailed(
                        f"{len(failed)} file(s) failed to persist: {listing}",
                        path=path, failed=[p for p, _ in failed],
                    )  # fmt: skip
                if not inflight():  # quiet: leave no empty staging directory behind
                    for mount in self.ns.mounts.all():
                        self.ns.tidy_staging(self.ns.mounts.by_id(mount.id)[1])
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise PersistTimeout(
                    f"{len(pending)} file(s) still pending after {timeout}s, e.g. {pending[0]}",
                    path=path, pending=pending[:100],
                )  # fmt: skip
            wait_s = 0.05 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic()))
            with self.changed:
                self.changed.wait(wait_s)


def _has_files(subtree: list[Inode], directory: Inode) -> bool:
    children: dict[int, list[Inode]] = {}
    for node in subtree:
        children.setdefault(node.parent_id, []).append(node)
    stack = [directory.id]
    while stack:
        for kid in children.get(stack.pop(), []):
            if not kid.is_dir:
                return True
            stack.append(kid.id)
    return False
