"""The statistics of the cluster view (:class:`siltfs.master.cluster.Cluster`): hits,
misses, bytes written, evictions and checksum failures summed over this master's own
store and every worker it knows."""

from __future__ import annotations

import threading

from siltfs.master.members import WorkerRecord
from siltfs.worker.blockstore import BlockStore

__all__ = ["ClusterStatistics"]


class ClusterStatistics:
    """Mixed into Cluster, which sets these attributes."""

    local: BlockStore | None
    workers: dict[str, WorkerRecord]
    _misses: int
    _lock: threading.RLock

    def alive(self) -> list[WorkerRecord]:
        raise NotImplementedError

    @property
    def hits(self) -> dict[str, int]:
        total = dict(self.local.hits) if self.local is not None else {}
        for w in self.alive():
            for tier, n in w.hits.items():
                total[tier] = total.get(tier, 0) + n
        return total

    @property
    def checksum_failures(self) -> int:
        """Blocks dropped for failing their checksums, here and on every worker known."""
        local = self.local.checksum_failures if self.local is not None else 0
        with self._lock:
            return local + sum(w.checksum_failures for w in self.workers.values())

    @property
    def misses(self) -> int:
        local = self.local.misses if self.local is not None else 0
        return local + self._misses

    @property
    def written_bytes(self) -> int:
        """Block bytes put into the cache, here and on every live worker."""
        local = self.local.written_bytes if self.local is not None else 0
        return local + sum(w.written_bytes for w in self.alive())

    @property
    def evictions(self) -> int:
        local = self.local.evictions if self.local is not None else 0
        return local + sum(w.evictions for w in self.alive())
