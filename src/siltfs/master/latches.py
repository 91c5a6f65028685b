"""Commit latches: paths whose persisted object is being moved into place in the UFS.

A commit moves its object outside the namespace lock; a rename, delete or overwrite of
that path waits for the move instead (:meth:`Namespace.exclusive`).  Latches live in the
metastore, so every master on it waits for the moves of the others.  This process's own
latches are also kept in memory (authoritative here, whatever the clock says) and a
condition wakes a waiter of this process at once; latches of other processes are polled
every ``POLL_S``, expire after ``persist.lease_s`` and are ignored at once if their owner
is a dead process of this host.
"""

from __future__ import annotations

import logging
import threading
import time

from siltfs.config import SiltConfig
from siltfs.errors import SiltError
from siltfs.metastore.abc import Metastore
from siltfs.model import paths
from siltfs.persist.identity import ProcessId, owner_is_dead

log = logging.getLogger("siltfs.namespace")


def now_ms() -> int:
    return int(time.time() * 1000)


class CommitLatches:
    POLL_S = 0.05  # how often latches of other processes are looked at again

    def __init__(self, config: SiltConfig, metastore: Metastore) -> None:
        self.config = config
        self.ms = metastore
        self._latched: dict[int, str] = {}
        self._cv = threading.Condition(threading.Lock())
        self._owner: str | None = None
        self._owner_lock = threading.Lock()

    @property
    def owner(self) -> str:
        """This process's identity on its latches (a ProcessId in owner form)."""
        with self._owner_lock:
            if self._owner is None:
                self._owner = ProcessId.current().owner()
            return self._owner

    def latch(self, inode_id: int, path: str) -> None:
        """Mark *path* as being committed to the UFS (call under the namespace lock)."""
        expires = now_ms() + int(self.config.persist.lease_s * 1000)
        with self._cv:
            self._latched[inode_id] = path
        try:
            with self.ms.transaction() as txn:
                txn.add_latch(inode_id, path, self.owner, expires)
        except BaseException:
            with self._cv:
                self._latched.pop(inode_id, None)
                self._cv.notify_all()
            raise

    def unlatch(self, inode_id: int) -> None:
        try:
            with self.ms.transaction() as txn:
                txn.remove_latch(inode_id)
        except SiltError as exc:  # it expires by itself; this process ignores it already
            log.warning("could not remove the commit latch of inode %s: %s", inode_id, exc)
        finally:
            with self._cv:
                self._latched.pop(inode_id, None)
                self._cv.notify_all()

    def busy(self, affected: tuple[str, ...]) -> str | None:
        """ "local" or "remote" if a latch (of this or another live process) lies at or
        under an *affected* path, else None.  Call under the namespace lock."""
        with self._cv:
            if self._local(affected):
                return "local"
        return "remote" if self._remote(affected) else None

    def wait(self, busy: str, affected: tuple[str, ...]) -> None:
        """Wait (outside the namespace lock) until a *busy* latch may have gone."""
        with self._cv:
            if busy == "remote":
                self._cv.wait(self.POLL_S)
            elif self._local(affected):
                self._cv.wait(0.1)

    def _local(self, affected: tuple[str, ...]) -> bool:
        """A latch of this process at or under an *affected* path (call under _cv)."""
        return any(paths.is_ancestor(a, p) for a in affected for p in self._latched.values())

    def _remote(self, affected: tuple[str, ...]) -> bool:
        """A live latch of another process at or under an *affected* path."""
        return any(
            latch.owner != self.owner
            and any(paths.is_ancestor(a, latch.path) for a in affected)
            and not owner_is_dead(latch.owner)
            for latch in self.ms.list_latches(now_ms())
        )
