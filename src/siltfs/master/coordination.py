"""Multi-master coordination: the namespace lock, taken once no commit in flight (of
any master on the metastore) writes at or under the paths a change affects.

A commit moves its object into place outside the namespace lock, with the path latched
(:mod:`siltfs.master.latches`); a rename, delete or overwrite of that path waits for the
move instead.  Deferred UFS steps touching the paths are rolled forward first
(:meth:`siltfs.master.intents.IntentLog.settle`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from siltfs.master.intents import IntentLog
from siltfs.master.latches import CommitLatches
from siltfs.master.locks import NamespaceLock


class Coordination:
    def __init__(self, lock: NamespaceLock, latches: CommitLatches, intents: IntentLog) -> None:
        self.lock = lock
        self.latches = latches
        self.intents = intents

    def latch(self, inode_id: int, path: str) -> None:
        """Mark *path* as being committed to the UFS (call under the lock)."""
        self.latches.latch(inode_id, path)

    def unlatch(self, inode_id: int) -> None:
        self.latches.unlatch(inode_id)

    @contextmanager
    def exclusive(self, *affected: str) -> Iterator[None]:
        """The namespace lock, once no latch lies at or under an *affected* path."""
        while True:
            self.lock.__enter__()
            try:
                busy = self.latches.busy(affected)
            except BaseException:
                self.lock.__exit__(None, None, None)
                raise
            if busy is None:
                break
            self.lock.__exit__(None, None, None)
            self.latches.wait(busy, affected)
        try:
            self.intents.settle(affected)
            yield
        finally:
            self.lock.__exit__(None, None, None)
