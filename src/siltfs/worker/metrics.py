"""Prometheus metrics of a block store (a worker's, or a master's view of its cluster)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from siltfs.worker.blockstore import TierUsage


class CacheStats(Protocol):
    @property
    def hits(self) -> dict[str, int]: ...
    @property
    def misses(self) -> int: ...
    @property
    def written_bytes(self) -> int: ...
    @property
    def evictions(self) -> int: ...
    @property
    def pinned(self) -> set[int]: ...
    @property
    def checksum_failures(self) -> int: ...

    def usage(self) -> Iterable[TierUsage]: ...


class CacheCollector(Collector):
    def __init__(self, store: CacheStats) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        store = self.store
        hits = CounterMetricFamily(
            "silt_cache_hits", "Block reads served by a tier", labels=["tier"]
        )
        used = GaugeMetricFamily("silt_cache_used_bytes", "Bytes held per tier", labels=["tier"])
        cap = GaugeMetricFamily("silt_cache_capacity_bytes", "Capacity per tier", labels=["tier"])
        blocks = GaugeMetricFamily("silt_cache_blocks", "Blocks held per tier", labels=["tier"])
        for usage in store.usage():
            hits.add_metric([usage.tier], store.hits.get(usage.tier, 0))
            used.add_metric([usage.tier], usage.used)
            cap.add_metric([usage.tier], usage.capacity)
            blocks.add_metric([usage.tier], usage.blocks)
        yield from (hits, used, cap, blocks)
        yield CounterMetricFamily(
            "silt_cache_misses", "Block reads not found in any tier", value=store.misses
        )
        yield CounterMetricFamily(
            "silt_cache_written_bytes",
            "Block bytes written into the cache (every put, any tier)",
            value=store.written_bytes,
        )
        yield CounterMetricFamily(
            "silt_cache_evictions", "Blocks dropped to make room", value=store.evictions
        )
        yield CounterMetricFamily(
            "silt_block_checksum_failures",
            "Cached blocks that failed their checksums when read (each was dropped)",
            value=store.checksum_failures,
        )
        yield GaugeMetricFamily(
            "silt_cache_pinned_blocks",
            "Blocks that may not be evicted (pinned or unpersisted)",
            value=len(store.pinned),
        )
