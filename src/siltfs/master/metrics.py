"""Prometheus metrics of a master, computed when scraped (names documented in README)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from siltfs.model.consistency import KINDS
from siltfs.worker.metrics import CacheCollector

if TYPE_CHECKING:
    from siltfs.master.master import Master


class MasterCollector(Collector):
    def __init__(self, master: Master) -> None:
        self.m = master

    def collect(self) -> Iterator[Metric]:
        m = self.m
        counts = m.jobs.counts()
        queue = GaugeMetricFamily(
            "silt_persist_queue_jobs", "Persist jobs by state", labels=["state"]
        )
        for state, n in counts.items():
            queue.add_metric([state.lower()], n)
        yield queue
        yield GaugeMetricFamily(
            "silt_persist_oldest_pending_seconds",
            "Age of the oldest persist job not yet done (0 if none)",
            value=m.jobs.oldest_pending_age_s(),
        )
        p = m.persister.stats
        yield CounterMetricFamily(
            "silt_persist_completed", "Files committed to the UFS by the persister",
            value=p["completed"],
        )  # fmt: skip
        yield CounterMetricFamily(
            "silt_persist_failures", "Failed persist attempts (each retry counts)",
            value=p["failures"],
        )  # fmt: skip
        yield CounterMetricFamily(
            "silt_persist_bytes", "Bytes uploaded by committed persists", value=p["bytes"]
        )
        ufs_errors = CounterMetricFamily(
            "silt_ufs_errors",
            "UFS operations that raised during persists, by kind (errno name or exception class)",
            labels=["kind"],
        )
        for kind, n in sorted(m.persister.ufs_errors.snapshot().items()):
            ufs_errors.add_metric([kind], n)
        yield ufs_errors
        yield from CacheCollector(m.store).collect()
        yield CounterMetricFamily(
            "silt_lost_files", "Unpersisted files whose only cached copy was lost",
            value=m.lost_files,
        )  # fmt: skip
        alive = sum(1 for w in m.store.overview() if w["alive"])
        yield GaugeMetricFamily("silt_workers_alive", "Live block-store members", value=alive)
        div = GaugeMetricFamily(
            "silt_consistency_divergences",
            "Divergences found by the last consistency check, by kind",
            labels=["kind"],
        )
        by_kind = m.last_check.by_kind() if m.last_check else dict.fromkeys(KINDS, 0)
        for kind, n in by_kind.items():
            div.add_metric([kind], n)
        yield div


def registry_for(master: Master) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MasterCollector(master))
    return registry


def exposition(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()
