"""What counts as a UFS error of a persist, and of which kind (``silt_ufs_errors_total``).

A failure counts when a UFS call raised it: anything an adapter translated (``UfsError``)
and anything that escapes a region of UFS calls marked with ``ufs_calls()`` — a raw
``OSError`` of any errno (ENOSPC from a local file's write or close, EACCES, EROFS, ...),
a timeout, or any other exception an adapter let through.  What the block cache raised
inside such a region (``not_ufs()``: a block that is gone, an unreachable worker) and
what the namespace decides (a file moved to another mount) are not UFS errors.

The kind is the errno name of the OS error behind the failure (``ENOSPC``) or, without
one, the class name of the innermost exception (``TimeoutError``, ``ClientError``).
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from siltfs.errors import SiltError, UfsError

_ORIGIN = "_silt_origin"  # set on an exception where it left a marked region


@contextmanager
def ufs_calls() -> Iterator[None]:
    """Mark what escapes as raised by the UFS (unless an inner region said otherwise)."""
    try:
        yield
    except Exception as exc:
        _mark(exc, "ufs")
        raise


@contextmanager
def not_ufs() -> Iterator[None]:
    """Mark what escapes as raised by something else (the block cache) even inside a
    ``ufs_calls()`` region."""
    try:
        yield
    except Exception as exc:
        _mark(exc, "other")
        raise


def _mark(exc: Exception, origin: str) -> None:
    if getattr(exc, _ORIGIN, None) is None:
        try:
            setattr(exc, _ORIGIN, origin)
        except AttributeError:  # (an exception type without a __dict__)
            pass


def from_ufs(exc: BaseException) -> bool:
    origin = getattr(exc, _ORIGIN, None)
    return origin == "ufs" or (origin is None and isinstance(exc, UfsError))


def kind_of(exc: BaseException) -> str:
    """``ENOSPC``, ``EACCES``, ... for an OS error (also one an adapter wrapped), else the
    innermost exception's class name."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__
    for e in chain:
        code = e.errno if isinstance(e, OSError) and not isinstance(e, SiltError) else None
        if code is not None and code in errno.errorcode:
            return errno.errorcode[code]
    return type(chain[-1]).__name__


class UfsErrorCounter:
    """UFS errors met by persists, by kind; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_kind: dict[str, int] = {}

    def count(self, exc: BaseException) -> bool:
        """Count *exc* if a UFS call raised it; returns whether it did."""
        if not from_ufs(exc):
            return False
        kind = kind_of(exc)
        with self._lock:
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        return True

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.by_kind)
