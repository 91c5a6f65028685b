"""The members of a cluster as a master sees them: a worker's record (what its last
heartbeat said, the blocks it holds), and summaries over members (tier usage, the
dashboard's table).  :class:`~siltfs.master.cluster.Cluster` keeps the records."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from siltfs.worker.blockstore import TierUsage
from siltfs.worker.client import WorkerClient
from siltfs.worker.hostid import HOST_ID

LOCAL = "local"  # the id of the master's own block store among the members


@dataclass
class WorkerRecord:
    id: str
    url: str
    host_id: str
    block_dir: str
    boot_id: str
    client: WorkerClient
    last_seen: float = field(default_factory=time.monotonic)
    alive: bool = True
    tiers: list[TierUsage] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    misses: int = 0
    evictions: int = 0
    written_bytes: int = 0
    checksum_failures: int = 0
    blocks: dict[int, int] = field(default_factory=dict)  # block id -> size
    # blocks this master put there, with the worker's block-set version right after: a
    # heartbeat with an older version was taken before the put and must not drop them
    put_versions: dict[int, int] = field(default_factory=dict)
    # new, restarted or back from the dead: its next full block map is checked (pins,
    # orphans, LOST files whose blocks are back)
    check_blocks: bool = True

    def free_room(self, ssd_only: bool) -> int:
        return sum(t.capacity - t.used for t in self.tiers if t.tier == "SSD" or not ssd_only)

    def take_counters(self, report: dict[str, Any]) -> None:
        """The tier usage and counters of a heartbeat."""
        self.tiers = [
            TierUsage(t["tier"], int(t["capacity"]), int(t["used"]), int(t["blocks"]))
            for t in report.get("tiers", [])
        ]
        self.hits = {str(k): int(v) for k, v in report.get("hits", {}).items()}
        self.misses = int(report.get("misses", 0))
        self.evictions = int(report.get("evictions", 0))
        self.written_bytes = int(report.get("written_bytes", 0))
        self.checksum_failures = int(report.get("checksum_failures", 0))


def sum_usage(members: Iterable[Iterable[TierUsage]]) -> list[TierUsage]:
    """Capacity and use per tier, summed over *members* (the tiers of each)."""
    sums: dict[str, list[int]] = {}
    for tiers in members:
        for u in tiers:
            acc = sums.setdefault(u.tier, [0, 0, 0])
            acc[0] += u.capacity
            acc[1] += u.used
            acc[2] += u.blocks
    if not sums:
        sums = {"MEM": [0, 0, 0], "SSD": [0, 0, 0]}
    return [TierUsage(t, c, u, b) for t, (c, u, b) in sums.items()]


def _tiers(usage: Iterable[TierUsage]) -> list[dict[str, Any]]:
    return [
        {"tier": u.tier, "used_bytes": u.used, "capacity_bytes": u.capacity, "blocks": u.blocks}
        for u in usage
    ]


def overview(local: list[TierUsage] | None, workers: list[WorkerRecord]) -> list[dict[str, Any]]:
    """One entry per member: the master's own store (*local*, if it keeps one), then
    each worker."""
    now = time.monotonic()
    out: list[dict[str, Any]] = []
    if local is not None:
        out.append(
            {
                "id": LOCAL,
                "address": "(in the master)",
                "host": HOST_ID,
                "alive": True,
                "last_heartbeat_age_s": 0.0,
                "tiers": _tiers(local),
            }
        )
    for w in workers:
        out.append(
            {
                "id": w.id,
                "address": w.url,
                "host": w.host_id,
                "alive": w.alive,
                "last_heartbeat_age_s": round(now - w.last_seen, 3),
                "tiers": _tiers(w.tiers),
            }
        )
    return out
