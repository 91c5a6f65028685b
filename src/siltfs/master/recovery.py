"""Recovery: bringing a home back to a consistent state after any kind of stop, and
keeping track of data that has no copy left.

On start: intents are rolled forward, leases of dead runners reclaimed
(:func:`siltfs.persist.recovery.reclaim_dead_leases`), unpersisted and pinned blocks
pinned again, files whose blocks no member holds marked LOST (once the cluster settled),
orphan blocks dropped and staging swept.  While running: a worker that stops
heartbeating takes its blocks with it (LOST, reported, never silent); blocks a worker
brings back are classified (pin, drop, revive a LOST file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from siltfs.master.cluster import Cluster
from siltfs.master.namespace import PERSISTED, Namespace, now_ms
from siltfs.metastore.abc import Metastore
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import Inode, inode_of_block
from siltfs.persist.persister import Persister
from siltfs.persist.recovery import reclaim_dead_leases

log = logging.getLogger("siltfs.master")


class Recovery:
    def __init__(self, ns: Namespace, persister: Persister, wake: Callable[[], None]) -> None:
        self.ns = ns
        self.ms: Metastore = ns.ms
        self.persister = persister
        self.wake = wake  # the runner: revived jobs are due
        self.lost_files = 0  # files marked LOST by this process
        self._lost_checked = False

    @property
    def blocks(self) -> Cluster:
        return self.ns.blocks

    def recover(self) -> dict[str, int]:
        """Bring the home back to a consistent state after any kind of stop."""
        report = {"intents": self.ns.replay_intents(), "leases": 0, "lost": 0, "orphans": 0}
        report["leases"] = reclaim_dead_leases(self.ms)
        with self.ms.snapshot() as txn:
            unpersisted = txn.inodes_in_state(PersistenceState.NOT_PERSISTED)
            unpersisted += txn.inodes_in_state(PersistenceState.TO_BE_PERSISTED)
            pinned = txn.pinned_inodes()
        for inode in unpersisted + pinned:
            self.blocks.pin(inode.block_ids())
        if self.blocks.settled():
            report["lost"] = self.mark_lost("cached blocks lost before the file was persisted")
        report["orphans"] = self.drop_orphan_blocks()
        report["staging"] = self.persister.sweep_staging()
        return report

    def mark_lost(self, reason: str) -> int:
        """Unpersisted files with a block no member holds any more become LOST, their
        jobs FAILED with *reason*: a loss is always reported, never silent."""
        self._lost_checked = True
        if not self.blocks.sees_everything(self.ms.shared_across_hosts):
            return 0  # other masters' own stores may hold what this one does not see
        with self.ms.snapshot() as txn:
            unpersisted = txn.inodes_in_state(PersistenceState.NOT_PERSISTED)
            unpersisted += txn.inodes_in_state(PersistenceState.TO_BE_PERSISTED)
        lost = [
            i
            for i in unpersisted
            if not i.is_dir and any(not self.blocks.contains(b) for b in i.block_ids())
        ]
        if not lost:
            return 0
        with self.ms.transaction() as txn:
            for stale in lost:
                inode = txn.get_inode(stale.id)
                if inode is None or inode.state not in (
                    PersistenceState.NOT_PERSISTED,
                    PersistenceState.TO_BE_PERSISTED,
                ):
                    continue
                inode.state = PersistenceState.LOST
                txn.update_inode(inode)
                lost_job = txn.job_for_inode(inode.id)
                if lost_job is not None:
                    lost_job.state = JobState.FAILED
                    lost_job.last_error = reason
                    txn.update_job(lost_job)
        log.error("%d unpersisted file(s) lost their cached blocks: %s", len(lost), reason)
        self.lost_files += len(lost)
        return len(lost)

    def classify_blocks(self, block_ids: Iterable[int]) -> tuple[set[int], set[int], list[Inode]]:
        """Cached blocks sorted by what their inode says: those to keep pinned (data not
        yet persisted, pinned files), orphans (the file is gone or was overwritten), and
        the LOST inodes among their owners."""
        by_inode: dict[int, list[int]] = {}
        for bid in block_ids:
            by_inode.setdefault(inode_of_block(bid), []).append(bid)
        pins: set[int] = set()
        orphans: set[int] = set()
        lost: list[Inode] = []
        sharers: dict[int, Inode] | None = None  # block id -> the later version sharing it
        with self.ms.snapshot() as txn:
            for inode_id, bids in by_inode.items():
                inode = txn.get_inode(inode_id)
                valid = set(inode.block_ids()) if inode is not None else set()
                for bid in bids:
                    owner = inode if bid in valid else None
                    if owner is None:  # a copy-on-write version may have kept it
                        if sharers is None:
                            sharers = {b: i for i in txn.sharing_inodes() for b in i.block_ids()}
                        owner = sharers.get(bid)
                    if owner is None:
                        orphans.add(bid)
                        continue
                    if owner.pinned or owner.state is not PERSISTED:
                        pins.add(bid)
                    if owner.state is PersistenceState.LOST and owner not in lost:
                        lost.append(owner)
        return pins, orphans, lost

    def needed_blocks(self, block_ids: list[int]) -> tuple[set[int], set[int]]:
        """Of blocks a (re)started worker holds: those to pin and the orphans.  A LOST
        file whose blocks are all back (a worker that was only unreachable) is revived."""
        pins, orphans, lost = self.classify_blocks(block_ids)
        self.revive([i for i in lost if all(self.blocks.contains(b) for b in i.block_ids())])
        return pins, orphans

    def revive(self, inodes: list[Inode]) -> None:
        if not inodes:
            return
        with self.ms.transaction() as txn:
            for stale in inodes:
                inode = txn.get_inode(stale.id)
                if inode is None or inode.state is not PersistenceState.LOST:
                    continue
                job = txn.job_for_inode(inode.id)
                inode.state = PersistenceState.NOT_PERSISTED
                if job is not None:  # it was on its way to the UFS: back in the queue
                    inode.state = PersistenceState.TO_BE_PERSISTED
                    job.state = JobState.PENDING
                    job.attempts = 0
                    job.last_error = None
                    job.next_run_ms = now_ms()
                    txn.update_job(job)
                txn.update_inode(inode)
        log.warning("%d LOST file(s) have all their blocks back; revived", len(inodes))
        self.wake()

    def check_workers(self) -> int:
        """Reap workers that stopped heartbeating; report files whose only copy died.
        Returns how many files were marked LOST."""
        dead = self.blocks.reap()
        if dead:
            names = ", ".join(f"{w.id} ({w.url})" for w, _ in dead)
            return self.mark_lost(f"worker {names} stopped heartbeating; it held the only copy")
        if not self._lost_checked and self.blocks.settled():
            return self.mark_lost("cached blocks lost before the file was persisted")
        return 0

    def drop_orphan_blocks(self) -> int:
        _, orphans, _ = self.classify_blocks(self.blocks.all_block_ids())
        self.blocks.remove(orphans)
        return len(orphans)
