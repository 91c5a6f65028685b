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
    """Thread-safe.  :meth:`defer` filters a removal: held blocks wait for their release."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: dict[int, int] = {}  # block id -> holds on it
        self._tokens: dict[int, list[int]] = {}  # hold -> its block ids
        self._deferred: set[int] = set()  # removed while held
        self._ids = itertools.count(1)

    def hold(self, block_ids: Iterable[int]) -> int:
        """Hold *block_ids*; the token releases them."""
        ids = list(dict.fromkeys(block_ids))
        with self._lock:
            token = next(self._ids)
            self._tokens[token] = ids
            for bid in ids:
                self._count[bid] = self._count.get(bid, 0) + 1
        return token

    def release(self, token: int) -> list[int]:
        """Let go of a hold; returns the blocks whose removal was waiting for it alone
        (an unknown token: nothing)."""
        free: list[int] = []
        with self._lock:
            for bid in self._tokens.pop(token, []):
                left = self._count[bid] - 1
                if left:
                    self._count[bid] = left
                    continue
                del self._count[bid]
                if bid in self._deferred:
                    self._deferred.discard(bid)
                    free.append(bid)
        return free

    def defer(self, block_ids: Iterable[int]) -> list[int]:
        """Of blocks to be removed, those to remove now; the held ones wait."""
        now: list[int] = []
        with self._lock:
            for bid in block_ids:
                if bid in self._count:
                    self._deferred.add(bid)
                else:
                    now.append(bid)
        return now

    def adopt(self, block_ids: Iterable[int]) -> None:
        """A new version took these blocks: they are no longer to be removed."""
        with self._lock:
            self._deferred.difference_update(block_ids)

    def held(self, block_ids: Iterable[int]) -> set[int]:
        """Those of *block_ids* some handle holds."""
        with self._lock:
            return {bid for bid in block_ids if bid in self._count}

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)


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
