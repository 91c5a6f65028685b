"""The namespace lock: one writer at a time across threads *and* processes on one home."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType


class NamespaceLock:
    """Re-entrant within a thread; an flock on ``<home>/namespace.lock`` across processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._rlock = threading.RLock()
        self._depth = threading.local()

    def __enter__(self) -> NamespaceLock:
        self._rlock.acquire()
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
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
        if self._depth.n == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._rlock.release()

    def close(self) -> None:
        try:
            os.close(self._fd)
        except OSError:
            pass
