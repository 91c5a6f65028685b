"""Scheduling and the barrier (invariant I5): ``persist(path)`` queues every unpersisted
file under a path, ``wait_persisted(path, timeout)`` waits until nothing under it is
pending, raising :class:`~siltfs.errors.PersistFailed` for what failed or was lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from siltfs.errors import PersistFailed, PersistTimeout
from siltfs.master.namespace import PERSISTED, Namespace, now_ms
from siltfs.master.posix import is_special
from siltfs.model import paths
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import Inode, PersistJob
from siltfs.persist.sweep import tidy_staging

TO_BE_PERSISTED = PersistenceState.TO_BE_PERSISTED


def schedule(ns: Namespace, path: str) -> int:
    """Queue every unpersisted file under *path* (and retry FAILED ones): inode state and
    job in one transaction each, as the outbox does (protocol step 1)."""
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


def pending_under(ns: Namespace, path: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(paths still TO_BE_PERSISTED and not failed, [(path, error)] failed or lost)."""
    pending: list[str] = []
    failed: list[tuple[str, str]] = []
    with ns.ms.snapshot() as txn:
        for state in (TO_BE_PERSISTED, PersistenceState.LOST):
            for inode in txn.inodes_in_state(state):
                p = ns.path_of(txn, inode)
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


def _settling(ns: Namespace, path: str, inflight: Callable[[], list[PersistJob]]) -> bool:
    """True while a running job still touches *path*: its file is under *path*, or its
    file is gone and the job is cleaning up its staging object."""
    jobs = inflight()
    if not jobs:
        return False
    with ns.ms.snapshot() as txn:
        for job in jobs:
            inode = txn.get_inode(job.inode_id)
            p = ns.path_of(txn, inode) if inode is not None else None
            if p is None or paths.is_ancestor(path, p):
                return True
    return False


def wait(
    ns: Namespace,
    path: str,
    timeout: float | None,
    *,
    inflight: Callable[[], list[PersistJob]],
    sweeping: Callable[[], bool],
    changed: threading.Condition,
) -> None:
    """Block until nothing under *path* is pending (the barrier of I5)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pending, failed = pending_under(ns, path)
        if ns.pending_intents:  # a rename/delete whose UFS step was deferred
            ns.replay_intents()
            if ns.pending_intents:
                pending.append("(a deferred UFS rename or delete)")
        if not pending and (sweeping() or _settling(ns, path, inflight)):
            pending = ["(an upload is still cleaning up its staging object)"]
        if not pending:
            if failed:
                listing = "; ".join(f"{p} ({err})" for p, err in failed[:20])
                raise PersistFailed(
                    f"{len(failed)} file(s) failed to persist: {listing}",
                    path=path,
                    failed=[p for p, _ in failed],
                )
            if not inflight():  # quiet: leave no empty staging directory behind
                for mount in ns.mounts.all():
                    tidy_staging(ns, ns.mounts.by_id(mount.id)[1])
            return
        if deadline is not None and time.monotonic() >= deadline:
            raise PersistTimeout(
                f"{len(pending)} file(s) still pending after {timeout}s, e.g. {pending[0]}",
                path=path,
                pending=pending[:100],
            )
        wait_s = 0.05 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic()))
        with changed:
            changed.wait(wait_s)


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
