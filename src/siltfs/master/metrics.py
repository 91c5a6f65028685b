"""Prometheus metrics of a master, computed when scraped (names documented in README)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from siltfs.model.consistency import KINDS
from siltfs.worker.metrics import CacheCollector

if TYPE_CHECKING:
    from siltfs.master.cluster import Cluster
    from siltfs.model.consistency import ConsistencyReport
    from siltfs.persist.persister import Persister
    from siltfs.persist.queue import JobQueue


class MasterCollector(Collector):
    def __init__(
        self,
        *,
        jobs: JobQueue,
        persister: Persister,
        blocks: Cluster,
        lost_files: Callable[[], int],
        last_check: Callable[[], ConsistencyReport | None],
    ) -> None:
        self.jobs = jobs
        self.persister = persister
        self.blocks = blocks
        self.lost_files = lost_files
        self.last_check = last_check

    def collect(self) -> Iterator[Metric]:
        counts = self.jobs.counts()
        queue = GaugeMetricFamily(
            "silt_persist_queue_jobs", "Persist jobs by state", labels=["state"]
        )
        for state, n in counts.items():
            queue.add_metric([state.lower()], n)
        yield queue
        yield GaugeMetricFamily(
            "silt_persist_oldest_pending_seconds",
            "Age of the oldest persist job not yet done (0 if none)",
            value=self.jobs.oldest_pending_age_s(),
        )
        p = self.persister.stats
        yield CounterMetricFamily(
            "silt_persist_completed",
            "Files committed to the UFS by the persister",
            value=p["completed"],
        )
        yield CounterMetricFamily(
            "silt_persist_failures",
            "Failed persist attempts (each retry counts)",
            value=p["failures"],
        )
        yield CounterMetricFamily(
            "silt_persist_bytes", "Bytes uploaded by committed persists", value=p["bytes"]
        )
        ufs_errors = CounterMetricFamily(
            "silt_ufs_errors",
            "UFS operations that raised during persists, by kind (errno name or exception class)",
            labels=["kind"],
        )
        for kind, n in sorted(self.persister.ufs_errors.snapshot().items()):
            ufs_errors.add_metric([kind], n)
        yield ufs_errors
        yield from CacheCollector(self.blocks).collect()
        yield CounterMetricFamily(
            "silt_lost_files",
            "Unpersisted files whose only cached copy was lost",
            value=self.lost_files(),
        )
        alive = sum(1 for w in self.blocks.overview() if w["alive"])
        yield GaugeMetricFamily("silt_workers_alive", "Live block-store members", value=alive)
        div = GaugeMetricFamily(
            "silt_consistency_divergences",
            "Divergences found by the last consistency check, by kind",
            labels=["kind"],
        )
        last = self.last_check()
        by_kind = last.by_kind() if last else dict.fromkeys(KINDS, 0)
        for kind, n in by_kind.items():
            div.add_metric([kind], n)
        yield div


def registry_for(collector: MasterCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()
