"""The worker block store: tiers, LRU eviction, pinning."""

from siltfs.worker.blockstore import BlockStore, TierUsage

__all__ = ["BlockStore", "TierUsage"]
