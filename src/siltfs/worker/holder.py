"""What holds blocks: the one interface of a worker's :class:`~siltfs.worker.blockstore.
BlockStore` and of a master's cluster view (:class:`~siltfs.master.cluster.Cluster`,
which holds them on its local store and its workers).

Writers, readers, the persister and the metrics use a block holder through this
protocol only; each implementation declares that it is one (checked by mypy).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TierUsage:
    tier: str
    capacity: int
    used: int
    blocks: int


class BlockHolder(Protocol):
    """Blocks by id: immutable contents, pinned while they are the only copy."""

    @property
    def pinned(self) -> set[int]: ...

    def pin(self, block_ids: Iterable[int]) -> None: ...

    def unpin(self, block_ids: Iterable[int]) -> None: ...

    def put(
        self,
        block_id: int,
        data: bytes | memoryview,
        *,
        durable: bool = False,
        ssd: bool = False,
    ) -> str: ...

    def get(self, block_id: int, *, promote: bool = False, wait: bool = False) -> bytes | None: ...

    def contains(self, block_id: int) -> bool: ...

    def tier_of(self, block_id: int) -> str | None: ...

    def cached_bytes(self, block_ids: Iterable[int]) -> int: ...

    def free(self, block_ids: Iterable[int]) -> int: ...

    def remove(self, block_ids: Iterable[int]) -> None: ...

    def all_block_ids(self) -> set[int]: ...

    def usage(self) -> list[TierUsage]: ...

    def flush_mem(self) -> None: ...
