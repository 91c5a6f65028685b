"""The state and the checks of :class:`~siltfs.testing.posix_machine.PosixFileStateMachine`
(its rules are in that module): the two sides, the open handles, what may be compared
when, the invariant run after every step, and the final check after a quiesce."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Any

from hypothesis import note
from hypothesis.stateful import RuleBasedStateMachine, invariant

from siltfs.testing.posix_sides import (
    Handle,
    Outcome,
    attempt,
    local_entry,
    read_all,
    same_outcome,
    silt_entry,
    ufs_files,
)

__all__ = ["DIR", "DIVERGENCES", "ENTRIES", "NAMES", "PosixMachineState"]

NAMES = ("a", "b", "c", "d/x")
DIR = "d"
ENTRIES = (*NAMES, DIR)

DIVERGENCES = {
    "unlinked-handle-commits": "the flush of a handle whose file was unlinked commits to the "
    "name the handle was opened with (or last committed to) if anything is there again -- a "
    "new file, a symlink, a file renamed there -- and replaces it; POSIX drops the change",
    "remote-unlinked-handle": "the remote client: a writable handle whose file was unlinked "
    "can neither read it nor write part of a block (FileNotFoundError: the master serves "
    "the version by path and inode, and it is gone); the embedded client's block holds "
    "keep it readable, as POSIX does",
}


class PosixMachineState(RuleBasedStateMachine):
    """The FileSystem and the local directory side by side; no rules of its own."""

    faults: bool = False  # the toggle_faults rule runs (an embedded FileSystem)
    restarts: bool = False  # the restart rule runs (reopen_fs)
    stale_reads_may_fail: bool = False  # an rb handle of a replaced version may be gone
    # divergences known and reported (names of DIVERGENCES): only those named here are
    # tolerated, or their case avoided; empty, the machine is strict
    known_divergences: frozenset[str] = frozenset()
    persist_timeout_s: float = 60.0
    block_size: int | None = None  # of the files written here (None: the FileSystem's)
    write_type: str | None = None  # of the handles opened here (None: the default)

    def make_fs(self) -> Any:
        """The FileSystem under test (embedded or remote); one per example."""
        raise NotImplementedError("subclasses provide make_fs")

    def close_fs(self, fs: Any) -> None:
        fs.close()

    def reopen_fs(self, fs: Any) -> Any:
        """Close *fs* and open it again on the same home (the ``restart`` rule)."""
        raise NotImplementedError("subclasses that set restarts provide reopen_fs")

    def ufs_root(self) -> Path | None:
        """The local directory of the UFS mounted at ``/`` (None: the UFS is not checked)."""
        for m in self.fs.mounts():
            if m.path == "/" and m.uri.startswith("file://"):
                return Path(m.uri.removeprefix("file://"))
        return None

    def __init__(self) -> None:
        super().__init__()
        self.fs = self.make_fs()
        self.root = f"/pm-{uuid.uuid4().hex[:10]}"
        self.tmp = Path(tempfile.mkdtemp(prefix="silt-posix-"))
        self.base = self.tmp / "base"
        self.handles: list[Handle] = []
        self.mtimes: dict[str, int] = {}  # set by utime, until the content changes
        self.fault_ufs: Any = None
        self.fault_seed = 0
        self.fault_rate = 0.0
        self.clean = True  # the last step and its checks passed
        os.mkdir(self.base)
        os.mkdir(self.base / DIR)
        self.fs.mkdir(self.root)
        self.fs.mkdir(self.spath(DIR))

    # plumbing -----------------------------------------------------------------------
    def spath(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def lpath(self, rel: str) -> Path:
        return self.base / rel

    def step(self, what: str) -> None:
        note(what)
        self.clean = False

    def silt_open(self, rel: str, mode: str) -> IO[bytes]:
        kwargs: dict[str, Any] = {}
        if mode != "rb":
            kwargs = {"block_size": self.block_size, "write_type": self.write_type}
        return self.fs.open(self.spath(rel), mode, **kwargs)  # type: ignore[no-any-return]

    def known(self, divergence: str) -> bool:
        assert divergence in DIVERGENCES, divergence
        return divergence in self.known_divergences

    def handle(self, at: int) -> Handle:
        return self.handles[at % len(self.handles)]

    def on(self, rel: str) -> list[Handle]:
        return [h for h in self.handles if h.path == rel]

    def pending(self, rel: str) -> bool:
        """A handle on *rel* has changes siltfs has not committed: not compared."""
        return any(h.writable and h.dirty for h in self.on(rel))

    def busy(self, rel: str) -> bool:
        """No operation by name: a streaming writer is open on *rel*, or a handle creates
        it (it exists locally, not yet in siltfs)."""
        return any(h.kind == "stream" or h.creating for h in self.on(rel))

    def haunted(self, rel: str) -> bool:
        """Nothing new at *rel* (known divergence unlinked-handle-commits): an open
        writable handle anchored there lost its file."""
        if not self.known("unlinked-handle-commits"):
            return False
        return any(h.writable and h.path is None and h.anchor == rel for h in self.handles)

    def would_haunt(self, rel: str) -> bool:
        """Unlinking *rel* would leave a handle anchored at a name that exists (ditto)."""
        if not self.known("unlinked-handle-commits"):
            return False
        return any(
            h.writable and h.anchor != rel and os.path.lexists(self.lpath(h.anchor))
            for h in self.on(rel)
        )

    def local_kind(self, rel: str) -> str | None:
        found = local_entry(self.lpath(rel))
        return found[0].kind if found else None

    def both(self, what: str, local: Any, silt: Any, *args: Any) -> tuple[Outcome, Outcome]:
        """``local(*args)`` and ``silt(*args)``: the same outcome."""
        lo, so = attempt(local, *args), attempt(silt, *args)
        same_outcome(what, lo, so)
        return lo, so

    def stale_ok(self, h: Handle, call: Any) -> Any:
        """A read through the rb handle *h*: its value, or None when the version it opened
        is gone and the client may say so (FileNotFoundError)."""
        try:
            return call()
        except FileNotFoundError:
            if not (h.stale and self.stale_reads_may_fail):
                raise
            note(f"  {h}: the version it opened is gone")
            return None

    def replaced(self, ino: int) -> None:
        """The local file *ino* has a new version (or none): its rb handles are stale."""
        for r in self.handles:
            if r.kind == "read" and r.ino == ino:
                r.stale = True

    def committed(self, h: Handle, t0: int) -> None:
        """*h*'s change is its file's version in siltfs now (dropped if it was unlinked);
        the commit began at *t0*: the file's mtime is at least that."""
        h.dirty = h.creating = False
        self.replaced(h.ino)
        if h.path is not None:
            h.anchor = h.path
            self.mtimes.pop(h.path, None)
            mtime = self.fs.stat(self.spath(h.path)).mtime_ns
            assert mtime >= t0, f"{h.path}: mtime {mtime} after a commit that began at {t0}"

    def close_handle(self, h: Handle) -> None:
        self.handles.remove(h)
        t0 = time.time_ns()
        try:
            h.silt.close()
        finally:
            h.local.close()
        if h.writable and h.dirty:
            self.committed(h, t0)

    # checks -------------------------------------------------------------------------
    @invariant()
    def sides_agree(self) -> None:
        for rel in ENTRIES:
            if not self.pending(rel):
                self.check_entry(rel)
        for d in ("", DIR):
            self.check_listing(d)
        for h in self.handles:
            self.check_handle(h)
        self.clean = True

    def check_entry(self, rel: str) -> None:
        lo, so = local_entry(self.lpath(rel)), silt_entry(self.fs, self.spath(rel))
        le = lo[0].compared() if lo else None
        se = so[0].compared() if so else None
        assert le == se, f"{rel}: local {le}, siltfs {se}"
        if lo is None or so is None:
            return
        if rel in self.mtimes:
            want = self.mtimes[rel]
            assert lo[1] == so[1] == want, f"{rel}: mtime local {lo[1]}, siltfs {so[1]}, {want}"
        if lo[0].kind == "file":
            got, local = self.fs.read_bytes(self.spath(rel)), self.lpath(rel).read_bytes()
            assert got == local, f"{rel}: siltfs reads {len(got)} bytes, local {len(local)}"

    def check_listing(self, d: str) -> None:
        if self.local_kind(d) != "dir":
            return
        prefix = f"{d}/" if d else ""
        local = {n for n in os.listdir(self.lpath(d)) if not self.pending(prefix + n)}
        silt = {i.name for i in self.fs.ls(self.spath(d)) if not self.pending(prefix + i.name)}
        assert local == silt, f"listing of {d or '.'}: local {sorted(local)}, siltfs {sorted(silt)}"

    def check_handle(self, h: Handle) -> None:
        """Read-your-writes: *h* reads what the local handle reads, at the same position
        (an rb handle: the bytes it opened)."""
        if h.kind == "read":
            got = self.stale_ok(h, lambda: read_all(h.silt))
            assert got is None or got == h.snapshot, f"{h}: reads {len(got or b'')} bytes"
        elif h.kind == "mutable":
            at, local_at = h.silt.tell(), h.local.tell()
            assert at == local_at, f"{h}: at {at}, local {local_at}"
            if h.readable:
                got, want = read_all(h.silt), read_all(h.local)
                assert got == want, f"{h}: reads {len(got)} bytes, local {len(want)}"

    def close_all(self) -> None:
        for h in list(self.handles):
            note(f"  {h}: close()")
            self.close_handle(h)

    def teardown(self) -> None:
        try:
            if self.clean:
                self.close_all()
                self.quiesce_and_check()
        finally:
            for h in self.handles:
                h.local.close()
                try:
                    h.silt.close()
                except Exception:  # noqa: BLE001 - already failing
                    pass
            if self.fault_ufs is not None:
                self.fault_ufs.clear()
            try:
                if self.clean:
                    self.fs.delete(self.root, recursive=True)
            finally:
                self.close_fs(self.fs)
                shutil.rmtree(self.tmp, ignore_errors=True)

    def quiesce_and_check(self) -> None:
        """Faults off, everything persisted: the sides agree, every file is PERSISTED, and
        the UFS holds the namespace (symlinks are namespace entries only)."""
        note("quiesce: faults off, wait_persisted")
        if self.fault_ufs is not None:
            self.fault_ufs.clear()
        if self.write_type == "MUST_CACHE":
            self.fs.persist(self.root)
        self.fs.wait_persisted(self.root, timeout=self.persist_timeout_s)
        self.sides_agree()
        expected: dict[str, bytes | None] = {}
        for info in self.fs.ls(self.root, recursive=True):
            rel = info.path.removeprefix(self.root + "/")
            if info.is_dir:
                expected[rel] = None
            elif not info.is_symlink:
                assert info.persisted, f"{rel}: {info.persistence_state} after wait_persisted"
                expected[rel] = self.lpath(rel).read_bytes()
        ufs = self.ufs_root()
        if ufs is None:
            return
        got = ufs_files(ufs / self.root.lstrip("/"))
        assert sorted(got) == sorted(expected), f"UFS {sorted(got)}, namespace {sorted(expected)}"
        for rel, data in expected.items():
            assert got[rel] == data, f"UFS copy of {rel}: {len(got[rel] or b'')} bytes"
