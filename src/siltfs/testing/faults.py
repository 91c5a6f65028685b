"""A UFS wrapper that injects errors, latency and blocking points, deterministically."""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from siltfs.errors import UfsError
from siltfs.ufs.abc import IncompleteUpload, StoredAttrs, UfsStatus, UnderFileSystem

__all__ = ["ErrorFactory", "FaultInjectingUfs", "Gate", "InjectedFault", "OPS", "inject_faults"]

OPS = ("status", "list", "mkdirs", "open_write", "read_range", "move", "delete")


class InjectedFault(UfsError):
    code = "ufs_error"


class Gate:
    """Blocks matching calls until released; tells the test when one has arrived."""

    def __init__(self, op: str, pattern: str) -> None:
        self.op = op
        self.pattern = pattern
        self._reached = threading.Event()
        self._released = threading.Event()
        self.hits = 0

    def matches(self, op: str, rel: str) -> bool:
        return op == self.op and fnmatch.fnmatchcase(rel, self.pattern)

    def enter(self) -> None:
        self.hits += 1
        self._reached.set()
        self._released.wait()

    def wait_reached(self, timeout: float = 10.0) -> bool:
        return self._reached.wait(timeout)

    def release(self) -> None:
        self._released.set()


# what a fault raises: by default an InjectedFault (a UfsError, as an adapter translates);
# a factory makes it anything else, e.g. ``lambda: OSError(errno.ENOSPC, "No space left")``
ErrorFactory = Callable[[], Exception]


@dataclass
class _FailNext:
    op: str
    pattern: str
    remaining: int
    error: ErrorFactory | None = None


class FaultInjectingUfs(UnderFileSystem):
    """Wraps any UnderFileSystem.  Every knob can be changed while the system runs."""

    def __init__(
        self,
        inner: UnderFileSystem,
        *,
        seed: int = 0,
        error_rate: float = 0.0,
        latency_s: float = 0.0,
        ops: Iterable[str] = OPS,
    ) -> None:
        self.inner = inner
        self.uri = inner.uri
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.error_rate = error_rate
        self.latency_s = latency_s
        self.fault_ops = set(ops)
        self.error: ErrorFactory | None = None
        self._fail_next: list[_FailNext] = []
        self._gates: list[Gate] = []
        self.calls: list[tuple[str, str]] = []
        self.injected = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    # knobs ----------------------------------------------------------------
    def set_error_rate(
        self, rate: float, ops: Iterable[str] | None = None, error: ErrorFactory | None = None
    ) -> None:
        self.error_rate = rate
        self.error = error
        if ops is not None:
            self.fault_ops = set(ops)

    def set_latency(self, seconds: float) -> None:
        self.latency_s = seconds

    def fail_next(
        self, op: str, n: int = 1, pattern: str = "*", error: ErrorFactory | None = None
    ) -> None:
        if op not in OPS:
            raise ValueError(f"unknown UFS operation {op!r}; one of {OPS}")
        with self._lock:
            self._fail_next.append(_FailNext(op, pattern, n, error))

    def block(self, op: str, pattern: str = "*") -> Gate:
        if op not in OPS:
            raise ValueError(f"unknown UFS operation {op!r}; one of {OPS}")
        gate = Gate(op, pattern)
        with self._lock:
            self._gates.append(gate)
        return gate

    def clear(self) -> None:
        """No more faults; open gates are released."""
        with self._lock:
            self.error_rate = 0.0
            self.error = None
            self.latency_s = 0.0
            self._fail_next.clear()
            gates, self._gates = self._gates, []
        for gate in gates:
            gate.release()

    # the hook ---------------------------------------------------------------
    def _before(self, op: str, rel: str) -> None:
        with self._lock:
            self.calls.append((op, rel))
            gate = next((g for g in self._gates if g.matches(op, rel)), None)
            fail = False
            error = self.error
            for rule in self._fail_next:
                if rule.remaining > 0 and rule.op == op and fnmatch.fnmatchcase(rel, rule.pattern):
                    rule.remaining -= 1
                    fail, error = True, rule.error
                    break
            if not fail and op in self.fault_ops and self.error_rate > 0:
                fail = self._rng.random() < self.error_rate
            latency = self.latency_s
        if gate is not None:
            gate.enter()
        if latency:
            time.sleep(latency)
        if fail:
            self.injected += 1
            if error is not None:
                raise error()
            raise InjectedFault(f"injected fault in {op}", path=rel)

    # the UFS contract -----------------------------------------------------
    def status(self, rel: str) -> UfsStatus | None:
        self._before("status", rel)
        return self.inner.status(rel)

    def list(self, rel: str) -> list[UfsStatus]:
        self._before("list", rel)
        return self.inner.list(rel)

    def mkdirs(self, rel: str) -> None:
        self._before("mkdirs", rel)
        self.inner.mkdirs(rel)

    def open_write(self, rel: str) -> BinaryIO:
        self._before("open_write", rel)
        return self.inner.open_write(rel)

    def set_attributes(self, rel: str, attrs: StoredAttrs) -> None:
        self._before("set_attributes", rel)
        self.inner.set_attributes(rel, attrs)

    @property
    def keeps_attrs(self) -> bool:  # type: ignore[override]
        return self.inner.keeps_attrs

    def stored_attrs(self, rel: str) -> StoredAttrs | None:
        self._before("status", rel)
        return self.inner.stored_attrs(rel)

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        self._before("read_range", rel)
        return self.inner.read_range(rel, start, end)

    def move(self, src: str, dst: str) -> None:
        self._before("move", src)
        self.inner.move(src, dst)

    def delete(self, rel: str, *, recursive: bool = False) -> None:
        self._before("delete", rel)
        self.inner.delete(rel, recursive=recursive)

    def abort_stale_uploads(
        self,
        prefix: str,
        older_than_s: float,
        keep: Callable[[IncompleteUpload], bool] | None = None,
    ) -> int:  # (no faults: only sweeps call it, and they must not shift seeded runs)
        return self.inner.abort_stale_uploads(prefix, older_than_s, keep)

    def close(self) -> None:
        self.inner.close()


def inject_faults(fs: Any, mount: str = "/", **kwargs: Any) -> FaultInjectingUfs:
    """Wrap the UFS of the mount at *mount* of an embedded FileSystem; returns the wrapper."""
    return fs.master.wrap_ufs(mount, lambda inner: FaultInjectingUfs(inner, **kwargs))  # type: ignore[no-any-return]
