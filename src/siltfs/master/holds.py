"""Holds on blocks: a version an open handle still reads, or builds a copy-on-write
change on, keeps its blocks in the cache after it is replaced or deleted, until the
handle lets go.  In memory only: a restarted master has no open handles, and blocks no
version refers to are dropped by recovery as orphans."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable

__all__ = ["BlockHolds", "Holding"]


class BlockHolds:
    """Thread-safe.  :meth:`defer` filters a removal: held blocks wait for their release.

    A hold is the set of its blocks, made once (a set operation, not a count per block:
    a handle of a large file holds every block of its version at each commit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[int, frozenset[int]] = {}  # hold -> its block ids
        self._deferred: set[int] = set()  # removed while held
        self._ids = itertools.count(1)

    def hold(self, block_ids: Iterable[int]) -> int:
        """Hold *block_ids*; the token releases them."""
        ids = frozenset(block_ids)
        with self._lock:
            token = next(self._ids)
            self._holds[token] = ids
        return token

    def release(self, token: int) -> list[int]:
        """Let go of a hold; returns the blocks whose removal was waiting for it alone
        (an unknown token: nothing)."""
        with self._lock:
            ids = self._holds.pop(token, frozenset())
            free = self._deferred & ids
            for other in self._holds.values():
                if not free:
                    break
                free -= other
            self._deferred -= free
        return sorted(free)

    def defer(self, block_ids: Iterable[int]) -> list[int]:
        """Of blocks to be removed, those to remove now; the held ones wait."""
        ids = list(block_ids)
        with self._lock:
            held = self._held(ids)
            self._deferred |= held
        return [bid for bid in ids if bid not in held] if held else ids

    def adopt(self, block_ids: Iterable[int]) -> None:
        """A new version took these blocks: they are no longer to be removed."""
        with self._lock:
            if self._deferred:
                self._deferred.difference_update(block_ids)

    def held(self, block_ids: Iterable[int]) -> set[int]:
        """Those of *block_ids* some handle holds."""
        with self._lock:
            return self._held(block_ids)

    def _held(self, block_ids: Iterable[int]) -> set[int]:
        if not self._holds:
            return set()
        wanted = set(block_ids)
        out: set[int] = set()
        for ids in self._holds.values():
            out |= wanted & ids
        return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._holds)


class Holding:
    """What a block layer with :class:`BlockHolds` offers (mixed into the cluster)."""

    holds: BlockHolds

    def remove(self, block_ids: Iterable[int]) -> None:
        raise NotImplementedError

    def hold(self, block_ids: Iterable[int]) -> int:
        """Keep *block_ids* through a removal until :meth:`release`."""
        return self.holds.hold(block_ids)

    def release(self, token: int) -> None:
        self.remove(self.holds.release(token))

    def adopt(self, block_ids: Iterable[int]) -> None:
        """A new version shares these blocks: a removal waiting on a hold is cancelled."""
        self.holds.adopt(block_ids)

    def held(self, block_ids: Iterable[int]) -> set[int]:
        return self.holds.held(block_ids)
