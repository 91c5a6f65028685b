"""check_consistency: prove (or disprove) that the namespace and the UFS agree.

Divergence kinds (``Divergence.kind``):

- ``GHOST`` — an entry in the UFS under a loaded directory that the namespace does not
  know (written outside siltfs, or left behind).  Repair imports it, or with
  ``remove_ghosts`` deletes it from the UFS.
- ``MISSING_UFS_COPY`` — a PERSISTED namespace entry with nothing in the UFS.  Repair
  re-persists a file from the cache if every block is cached, else marks it LOST; a
  directory is re-created.
- ``FINGERPRINT_MISMATCH`` — a PERSISTED file whose UFS fingerprint (size + etag/mtime)
  differs from the one recorded at commit, or whose type differs.  Repair takes the UFS
  version (metadata updated, stale cached blocks dropped).
- ``ORPHANED_STAGING`` — a staging object no live job or write owns.  Repair deletes it.
- ``STUCK_JOB`` — a RUNNING job whose lease expired (its runner died).  Repair makes it
  PENDING again.
- ``FAILED_JOB`` — a job that gave up after its attempts (data still pinned).  Repair
  re-queues it.
- ``LOST`` — a file whose only copy (the cache) was lost.  If its UFS path now holds a
  file, repair recovers it as PERSISTED; otherwise it stays reported.
- ``QUARANTINED_INTENT`` — a UFS step (rename, delete) recorded with a namespace change
  that the UFS refuses for good (see :mod:`siltfs.master.intents`).  Repair makes the
  namespace agree with the UFS (a refused rename goes back to the name the UFS holds).
- ``UNREPRESENTABLE_NAME`` — an entry whose name the UFS of its mount cannot hold
  (written by an older siltfs that did not check names).  Repair renames an unpersisted
  one in the namespace to a name the UFS can hold (its job then persists it there).

A file still TO_BE_PERSISTED (with a live job) is not a divergence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siltfs.errors import InvalidPath, SiltError
from siltfs.master.namespace import PERSISTED, now_ms
from siltfs.model import paths
from siltfs.model.consistency import KINDS, ConsistencyReport, Divergence, DivergenceKind
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import Inode
from siltfs.persist.sweep import tidy_staging
from siltfs.ufs.abc import FORBIDDEN_CHARS, FORBIDDEN_ENCODINGS, unrepresentable

if TYPE_CHECKING:
    from siltfs.master.namespace import Namespace
    from siltfs.persist.persister import Persister
    from siltfs.persist.queue import JobQueue
    from siltfs.persist.runner import PersistRunner

__all__ = ["KINDS", "Checker", "ConsistencyReport", "Divergence", "DivergenceKind"]


class Checker:
    def __init__(
        self,
        ns: Namespace,
        *,
        jobs: JobQueue,
        persister: Persister,
        runner: PersistRunner,
        repair: bool,
        remove_ghosts: bool,
    ) -> None:
        self.ns = ns
        self.jobs = jobs  # re-queues stuck and failed jobs
        self.persister = persister  # knows which staging objects are orphans
        self.runner = runner  # its jobs in flight are not stuck; woken by a re-persist
        self.repair = repair
        self.remove_ghosts = remove_ghosts

    def run(self, path: str) -> ConsistencyReport:
        report = ConsistencyReport(path=path, repair=self.repair, started_ms=now_ms())
        self._check_intents(report, path)  # first: a repair moves entries back
        root = self.ns.get(path)
        with self.ns.ms.snapshot() as txn:
            subtree = txn.subtree(root.id)
            jobs = {j.inode_id: j for j in txn.list_jobs()}
        paths_by_id = {root.id: path}
        for node in subtree[1:]:
            parent = paths_by_id.get(node.parent_id)
            if parent is not None:
                paths_by_id[node.id] = paths.join(parent, node.name)
        children: dict[int, dict[str, Inode]] = {}
        for node in subtree[1:]:
            children.setdefault(node.parent_id, {})[node.name] = node
        listed: list[tuple[Inode, str]] = []
        for node in subtree:
            node_path = paths_by_id.get(node.id)
            if node_path is None:
                continue
            report.checked_entries += 1
            self._check_entry(report, node, node_path, jobs)
            if node.is_dir and node.state is PERSISTED and node.sync_ms is not None:
                listed.append((node, node_path))
        # listings last: importing a ghost re-syncs its directory, which would drop a
        # PERSISTED entry missing from the UFS before its repair re-persists it
        for node, node_path in listed:
            self._check_listing(report, node, node_path, children.get(node.id, {}))
        self._check_jobs(report, path, jobs)
        self._check_staging(report, path)
        report.finished_ms = now_ms()
        return report

    def _add(
        self, report: ConsistencyReport, kind: DivergenceKind, path: str, detail: str
    ) -> Divergence:
        d = Divergence(kind, path, detail)
        report.divergences.append(d)
        return d

    def _check_entry(
        self, report: ConsistencyReport, node: Inode, path: str, jobs: dict[int, Any]
    ) -> None:
        mount, ufs, rel = self.ns.mounts.resolve(path)
        try:
            ufs.check_path(rel)
        except InvalidPath as exc:
            d = self._add(report, DivergenceKind.UNREPRESENTABLE_NAME, path, exc.message)
            if self.repair and node.state is not PERSISTED:
                d.repaired, d.action = True, self._rename_representable(node, path)
            return
        if node.state is PersistenceState.LOST:
            d = self._add(
                report, DivergenceKind.LOST, path, "cached data lost before it was persisted"
            )
            st = ufs.status(rel)
            if self.repair and st is not None and not st.is_dir:
                self._recover_lost(node, st.fingerprint, st.size)
                d.repaired, d.action = True, "recovered from a copy that reappeared in the UFS"
            return
        if node.state is not PERSISTED or (node.mount_id is not None and rel == ""):
            return
        st = ufs.status(rel)
        if st is None:
            d = self._add(
                report, DivergenceKind.MISSING_UFS_COPY, path, "PERSISTED but absent from the UFS"
            )
            if self.repair:
                d.repaired, d.action = True, self._repair_missing(node, path)
            return
        if not node.is_dir and not st.is_dir and node.fingerprint is None:
            if st.size == node.length:  # committed while the UFS could not say: learn it
                with self.ns.ms.transaction() as txn:
                    fresh = txn.get_inode(node.id)
                    if fresh is not None and fresh.fingerprint is None:
                        fresh.fingerprint = st.fingerprint
                        txn.update_inode(fresh)
                return
        if st.is_dir != node.is_dir or (not node.is_dir and st.fingerprint != node.fingerprint):
            what = "type" if st.is_dir != node.is_dir else f"{node.fingerprint} != {st.fingerprint}"
            d = self._add(
                report, DivergenceKind.FINGERPRINT_MISMATCH, path, f"UFS copy differs ({what})"
            )
            if self.repair:
                parent_path = paths.split(path)[0]
                parent = self.ns.get(parent_path)
                self._force_sync(parent, parent_path)
                d.repaired, d.action = True, "took the UFS version; stale cache dropped"

    def _check_intents(self, report: ConsistencyReport, path: str) -> None:
        for intent, where in self.ns.intents.quarantined():
            if not (paths.is_ancestor(path, where) or paths.is_ancestor(where, path)):
                continue
            kind = intent.kind.step
            detail = f"{kind} {intent.src!r} -> {intent.dst!r} refused for good by the UFS"
            d = self._add(report, DivergenceKind.QUARANTINED_INTENT, where, detail)
            if self.repair:
                d.repaired, d.action = True, self.ns.intents.repair_quarantined(intent)

    def _rename_representable(self, node: Inode, path: str) -> str:
        """Rename an unpersisted entry (metadata only) to a name its UFS can hold."""
        safe = representable(node.name)
        parent_path = paths.split(path)[0]
        with self.ns.lock:
            with self.ns.ms.transaction() as txn:
                candidate, n = safe, 1
                while txn.get_child(node.parent_id, candidate) is not None:
                    n += 1
                    candidate = f"{safe}.{n}"
                fresh = txn.get_inode(node.id)
                if fresh is None:
                    return "gone meanwhile"
                fresh.name = candidate
                txn.update_inode(fresh)
        return f"renamed to {paths.join(parent_path, candidate)}"

    def _check_listing(
        self, report: ConsistencyReport, node: Inode, path: str, known: dict[str, Inode]
    ) -> None:
        _, ufs, rel = self.ns.mounts.resolve(path)
        try:
            listing = ufs.list(rel)
        except SiltError:
            return  # reported as MISSING_UFS_COPY by the entry check
        hidden = {self.ns.config.persist.staging_dir} if rel == "" else set()
        ghosts = [st for st in listing if st.name not in known and st.name not in hidden]
        imported = False
        for st in ghosts:
            ghost_path = paths.join(path, st.name)
            kind = "directory" if st.is_dir else "file"
            d = self._add(
                report,
                DivergenceKind.GHOST,
                ghost_path,
                f"{kind} in the UFS unknown to the namespace",
            )
            if self.repair and self.remove_ghosts:
                ufs.delete(f"{rel}/{st.name}" if rel else st.name, recursive=True)
                d.repaired, d.action = True, "deleted from the UFS"
            elif self.repair:
                imported = True
                d.repaired, d.action = True, "imported into the namespace"
        if imported:
            self._force_sync(node, path)

    def _check_jobs(self, report: ConsistencyReport, path: str, jobs: dict[int, Any]) -> None:
        now = now_ms()
        live = {j.id for j in self.runner.inflight_jobs()}
        with self.ns.ms.snapshot() as txn:
            for job in jobs.values():
                inode = txn.get_inode(job.inode_id)
                job_path = self.ns.path_of(txn, inode) if inode is not None else None
                if job_path is None or not paths.is_ancestor(path, job_path):
                    continue
                if (
                    job.state is JobState.RUNNING
                    and job.lease_expires_ms <= now
                    and job.id not in live
                ):
                    d = self._add(
                        report, DivergenceKind.STUCK_JOB, job_path, f"job {job.id} lease expired"
                    )
                    if self.repair:
                        self.jobs.retry(job.id)
                        d.repaired, d.action = True, "job re-queued"
                elif job.state is JobState.FAILED:
                    detail = f"job {job.id} failed after {job.attempts} attempts: {job.last_error}"
                    d = self._add(report, DivergenceKind.FAILED_JOB, job_path, detail)
                    if self.repair:
                        self.jobs.retry(job.id)
                        d.repaired, d.action = True, "job re-queued"

    def _check_staging(self, report: ConsistencyReport, path: str) -> None:
        for mount in self.ns.mounts.all():
            if not (paths.is_ancestor(path, mount.path) or paths.is_ancestor(mount.path, path)):
                continue
            for name in self.persister.orphaned_staging(mount.id):
                staging_path = paths.join(
                    mount.path, f"{self.ns.config.persist.staging_dir}/{name}"
                )
                d = self._add(
                    report, DivergenceKind.ORPHANED_STAGING, staging_path, "no live job owns it"
                )
                if self.repair:
                    _, ufs = self.ns.mounts.by_id(mount.id)
                    ufs.delete(f"{self.ns.config.persist.staging_dir}/{name}", recursive=True)
                    tidy_staging(self.ns, ufs)
                    d.repaired, d.action = True, "deleted"

    # repairs --------------------------------------------------------------
    def _force_sync(self, directory: Inode, path: str) -> None:
        with self.ns.lock:
            with self.ns.ms.transaction() as txn:
                fresh = txn.get_inode(directory.id)
                if fresh is not None:
                    fresh.sync_ms = None
                    txn.update_inode(fresh)
                    directory = fresh
            self.ns.sync_dir(directory, path, 0)

    def _repair_missing(self, node: Inode, path: str) -> str:
        if node.is_dir:
            _, ufs, rel = self.ns.mounts.resolve(path)
            ufs.mkdirs(rel)
            return "re-created the directory"
        store = self.ns.blocks
        cached = all(store.contains(b) for b in node.block_ids())
        with self.ns.lock, self.ns.ms.transaction() as txn:
            fresh = txn.get_inode(node.id)
            if fresh is None:
                return "gone meanwhile"
            if cached:
                fresh.state = PersistenceState.TO_BE_PERSISTED
                txn.update_inode(fresh)
                txn.insert_job(fresh.id, fresh.generation, now_ms())
                store.pin(fresh.block_ids())
                self.runner.wake()
                return "re-persisting from the cache"
            fresh.state = PersistenceState.LOST
            txn.update_inode(fresh)
        return "marked LOST: no UFS copy and not fully cached"

    def _recover_lost(self, node: Inode, fingerprint: str, size: int) -> None:
        with self.ns.lock, self.ns.ms.transaction() as txn:
            fresh = txn.get_inode(node.id)
            if fresh is None:
                return
            self.ns.blocks.remove(fresh.block_ids())
            fresh.state = PERSISTED
            fresh.fingerprint = fingerprint
            fresh.length = size
            fresh.content_hash = None
            fresh.generation += 1
            txn.update_inode(fresh)
            job = txn.job_for_inode(fresh.id)
            if job is not None:
                txn.delete_job(job.id)


def representable(name: str) -> str:
    """*name* with what no UFS can hold replaced by ``_`` (``.``/``..`` prefixed)."""
    out = name
    for bad in (*FORBIDDEN_CHARS, *FORBIDDEN_ENCODINGS):
        low = out.lower()
        while bad in low:
            i = low.index(bad)
            out = out[:i] + "_" + out[i + len(bad) :]
            low = out.lower()
    return out if unrepresentable(out) is None else f"_{out}"
