"""The namespace lock: one writer at a time across threads *and* processes.

:class:`NamespaceLock` is re-entrant within a thread and excludes other threads of the
process with an ``RLock``; the first (outermost) acquisition also takes a cross-process
lock, released by the last exit.  The cross-process part is an flock on a file here
(processes of one host sharing a home); a metastore shared by several hosts returns a
subclass from :meth:`siltfs.metastore.abc.Metastore.namespace_lock` that overrides
:meth:`NamespaceLock._acquire`, :meth:`NamespaceLock._release` and
:meth:`NamespaceLock.close` (see :mod:`siltfs.metastore.postgres`).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType


class NamespaceLock:
    """Re-entrant within a thread; an flock on *path* (``<home>/namespace.lock``) across
    processes.  Subclasses pass ``path=None`` and provide their own cross-process lock."""

    def __init__(self, path: Path | None) -> None:
        self._fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._rlock = threading.RLock()
        self._depth = threading.local()

    # the cross-process part (called by the outermost enter / exit of the holding thread)
    def _acquire(self) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def _release(self) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def __enter__(self) -> NamespaceLock:
        self._rlock.acquire()
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            try:
                self._acquire()
            except BaseException:
                self._rlock.release()
                raise
        self._depth.n = depth + 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth.n -= 1
        try:
            if self._depth.n == 0:
                self._release()
        finally:
            self._rlock.release()

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            os.close(self._fd)
        except OSError:
            pass
        self._fd = None
