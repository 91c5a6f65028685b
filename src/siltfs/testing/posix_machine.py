"""A Hypothesis state machine: siltfs files against the same files in a real local directory.

:class:`PosixFileStateMachine` runs every operation twice -- on a siltfs FileSystem under
a directory private to the run, and with :mod:`os` in a fresh local temporary directory
-- and after every step compares the two.  The local file system is the oracle.  The
names are ``a``, ``b``, ``c`` and ``d/x`` (``d`` is a directory that is always there);
a run starts with ``a``, ``b`` and ``d/x`` of random lengths and one handle open.

Operations: open a handle (``rb``, ``wb``, ``xb``, ``ab``, ``r+b``, ``w+b``, ``a+b``,
``x+b``; at most three open; both sides succeed or fail with the same kind of error);
through a handle: write at an offset (past the end: a hole), read at an offset with
``seek(0, 2)`` compared first, truncate, flush, close; by name: truncate, rename,
unlink (with handles open or not), chmod, chown, utime, symlink; ``free`` after
``wait_persisted`` (the next reads come from the UFS).  With ``faults``: UFS uploads and
moves of persists fail (and are retried); with ``restarts``: every handle closed, the
FileSystem closed and opened again.

Compared after every step (``PosixMachineState.sides_agree``):

- every name: exists, kind (file, directory, symlink), size, permission bits
  (``mode & 0o7777``), uid, gid, a symlink's target, a file's bytes (``read_bytes``),
  the listing of both directories, and after ``utime`` the mtime_ns (until the content
  changes);
- every open handle: an ``rb`` handle reads the version it opened (the remote client
  may raise FileNotFoundError instead once that version is gone:
  ``stale_reads_may_fail``); any other readable handle reads what the local handle
  reads (read-your-writes); both are at the same position;
- a commit (flush or close of a changed file; a truncate by name) leaves the file's
  mtime_ns at least the time just before it; chmod, chown and utime its ctime_ns.  atime
  is not compared, nor mtime or ctime values across the sides (they are set at
  different moments: a local write, a siltfs commit);
- at the end, every handle closed, faults off, ``wait_persisted``: all of that again,
  every file PERSISTED, and the UFS (``ufs_root``) holds exactly the namespace's files
  and directories with their bytes (symlinks are namespace entries only).

Where siltfs's documented semantics (docs/DESIGN.md, README) differ from a local file
system, the machine holds siltfs to them instead of comparing:

- close-to-open: a change through a handle is visible to others at flush or close
  (``wb``, ``xb``: at close); until then siltfs shows the version before it while the
  local file has it already, so a name with uncommitted changes is not compared (its
  handle is);
- siltfs is "last close wins" (each handle builds on the version it opened) where a
  local file is shared: at most one writable handle per name, any number of ``rb``
  handles (compared with the bytes at their open), a truncate by name only with no
  writable handle open on the name;
- ``rename`` never replaces an existing destination (FileExists; the POSIX mount
  replaces with delete + rename): the local rename runs only when the name is free;
- siltfs never resolves symlinks: no open, chmod or truncate of a symlink (the local
  call would follow it); chown and utime act on the link itself on both sides;
- the streaming writer (``wb``, ``xb``) cannot seek, tell or truncate, and commits at
  close to the name it was opened with: no rename, unlink or other change of that name
  while one is open, nor of a name a handle creates until its first commit.

Divergences found and reported are named in :data:`~siltfs.testing.posix_state.
DIVERGENCES`; a subclass tolerates (or avoids) only those it lists in
``known_divergences``.

Subclass, override ``make_fs`` (``close_fs``; ``reopen_fs`` for restarts), set the knobs,
and run it as :class:`~siltfs.testing.stateful.NamespaceStateMachine` is run.  Give the
FileSystem blocks of 64 KiB or less so that offsets and sizes span several.  Needs
Hypothesis (``pip install 'siltfs[test]'``).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import IO, Any

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from siltfs.testing.posix_sides import Handle, attempt, same_outcome
from siltfs.testing.posix_state import DIR, DIVERGENCES, ENTRIES, NAMES, PosixMachineState

__all__ = ["BLOCK", "DIVERGENCES", "MODES", "NAMES", "PosixFileStateMachine"]

MODES = ("rb", "wb", "xb", "ab", "r+b", "w+b", "a+b", "x+b")
MAX_HANDLES = 3
BLOCK = 64 * 1024  # offsets and sizes are drawn around multiples of this
FAULT_OPS = ("open_write",)  # a persist's upload (no foreground call of ASYNC_THROUGH)
STAGING_MOVES = ".silt_staging/*"  # a persist's upload moved into place

offsets = st.one_of(
    st.sampled_from([0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 3 * BLOCK + 5]),
    st.integers(0, 4 * BLOCK),
)
sizes = st.one_of(
    st.sampled_from([0, 1, BLOCK - 1, BLOCK, BLOCK + 1]), st.integers(0, BLOCK + BLOCK // 2)
)
file_lengths = st.one_of(st.just(0), st.integers(1, 4 * BLOCK))
handle_at = st.integers(0, 2**16)  # the index-th open handle (same draws in every state)
seeds = st.integers(0, 2**16)
perms = st.one_of(
    st.sampled_from([0o644, 0o600, 0o755, 0o000, 0o4755, 0o2755, 0o6745, 0o1777]),
    st.integers(0, 0o7777),
)
owners = st.sampled_from([-1, 0, 1000, 65534])
times_ns = st.one_of(st.sampled_from([0, 1, 10**18]), st.integers(0, 4 * 10**18))
link_targets = st.sampled_from(["a", "b", "../a", "d/x", "/elsewhere/f", "nowhere"])

SKIP_BUSY = "  skipped: a streaming writer is open on it, or a handle creates it"
SKIP_HAUNTED = "  skipped: known divergence unlinked-handle-commits"


def payload(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def read_up_to(f: IO[bytes], size: int) -> bytes:
    """*size* bytes, fewer only at the end (a raw read may return less)."""
    out = bytearray()
    while len(out) < size and (chunk := f.read(size - len(out))):
        out += chunk
    return bytes(out)


class PosixFileStateMachine(PosixMachineState):
    """Override :meth:`make_fs`; the machine works under a fresh top-level directory."""

    # handles ------------------------------------------------------------------------
    @initialize(
        lengths=st.tuples(file_lengths, file_lengths, file_lengths),
        seed=seeds,
        rel=st.sampled_from(NAMES),
        mode=st.sampled_from(MODES),
    )
    def start(self, lengths: tuple[int, int, int], seed: int, rel: str, mode: str) -> None:
        """Files a, b and d/x (length 0: none), then one handle open."""
        for i, (name, length) in enumerate(zip(("a", "b", "d/x"), lengths, strict=True)):
            if length:
                note(f"{name}: {length} bytes")
                data = payload(seed + i, length)
                self.lpath(name).write_bytes(data)
                with self.silt_open(name, "wb") as f:
                    f.write(data)
        self.open_handle(rel, mode)

    @precondition(lambda self: len(self.handles) < MAX_HANDLES)
    @rule(rel=st.sampled_from(ENTRIES), mode=st.sampled_from(MODES))
    def open_handle(self, rel: str, mode: str) -> None:
        self.step(f"open({rel!r}, {mode!r})")
        local = self.lpath(rel)
        if self.local_kind(rel) == "symlink":
            return note("  skipped: a symlink (the local open would follow it)")
        if self.pending(rel):
            return note("  skipped: a handle on it has uncommitted changes")
        if mode != "rb" and any(h.writable for h in self.on(rel)):
            return note("  skipped: one writable handle per name")
        if mode not in ("rb", "r+b") and not os.path.lexists(local) and self.haunted(rel):
            return note(SKIP_HAUNTED)
        existed = local.is_file()
        snapshot = local.read_bytes() if existed and mode == "rb" else b""
        lo = attempt(open, local, mode, buffering=0)
        so = attempt(self.silt_open, rel, mode)
        if lo.kind != so.kind:
            for opened in (lo, so):
                if opened.ok:
                    opened.value.close()
        same_outcome(f"open({rel!r}, {mode!r})", lo, so)
        if not lo.ok:
            return
        dirty = mode in ("wb", "xb", "w+b", "x+b") or (mode != "rb" and not existed)
        ino = os.fstat(lo.value.fileno()).st_ino
        h = Handle(mode, rel, so.value, lo.value, ino, rel, snapshot, dirty, dirty and not existed)
        self.handles.append(h)

    @precondition(lambda self: bool(self.handles))
    @rule(at=handle_at, offset=offsets, size=sizes, seed=seeds)
    def write(self, at: int, offset: int, size: int, seed: int) -> None:
        h = self.handle(at)
        data = payload(seed, size)
        if h.kind == "stream":  # the streaming writer writes on where it is
            self.step(f"{h}: write {size} bytes")
        else:
            self.step(f"{h}: seek({offset}), write {size} bytes")
            lo, so = self.both("seek", h.local.seek, h.silt.seek, offset)
            assert lo.value == so.value, f"seek: local {lo.value}, siltfs {so.value}"
        lo, so = self.both("write", h.local.write, h.silt.write, data)
        if lo.ok:
            assert lo.value == so.value == size, f"wrote: local {lo.value}, siltfs {so.value}"
            h.dirty = h.dirty or size > 0
        self.check_handle(h)

    @precondition(lambda self: bool(self.handles))
    @rule(at=handle_at, offset=offsets, size=sizes)
    def read(self, at: int, offset: int, size: int) -> None:
        """``seek(0, 2)`` (compared), then ``seek(offset)`` and ``read(size)``."""
        h = self.handle(at)
        self.step(f"{h}: seek(0, 2), seek({offset}), read({size})")
        if h.kind == "read":

            def pread() -> bytes:
                assert h.silt.seek(0, 2) == len(h.snapshot), f"{h}: seek(0, 2)"
                h.silt.seek(offset)
                return h.silt.read(size)

            got = self.stale_ok(h, pread)
            want = h.snapshot[offset : offset + size]
            assert got is None or got == want, f"read {len(got or b'')} bytes, not {len(want)}"
            return
        if h.kind == "mutable":  # (the streaming writer cannot seek)
            lo, so = self.both("seek(0, 2)", h.local.seek, h.silt.seek, 0, 2)
            assert lo.value == so.value, f"seek(0, 2): local {lo.value}, siltfs {so.value}"
            self.both("seek", h.local.seek, h.silt.seek, offset)
        lo, so = attempt(read_up_to, h.local, size), attempt(read_up_to, h.silt, size)
        same_outcome("read", lo, so)
        if lo.ok:
            assert lo.value == so.value, f"read: local {len(lo.value)}, siltfs {len(so.value)}"

    @precondition(lambda self: bool(self.handles))
    @rule(at=handle_at, size=offsets)
    def truncate(self, at: int, size: int) -> None:
        h = self.handle(at)
        self.step(f"{h}: truncate({size})")
        if h.kind == "stream":
            return note("  skipped: siltfs's streaming writer cannot truncate")
        lo, so = self.both("truncate", h.local.truncate, h.silt.truncate, size)
        if lo.ok:
            assert lo.value == so.value, f"truncate: local {lo.value}, siltfs {so.value}"
            h.dirty = True
        self.check_handle(h)

    @precondition(lambda self: bool(self.handles))
    @rule(at=handle_at)
    def flush(self, at: int) -> None:
        h = self.handle(at)
        self.step(f"{h}: flush()")
        t0 = time.time_ns()
        self.both("flush", h.local.flush, h.silt.flush)
        if h.kind == "mutable" and h.dirty:
            self.committed(h, t0)

    @precondition(lambda self: bool(self.handles))
    @rule(at=handle_at)
    def close(self, at: int) -> None:
        h = self.handle(at)
        self.step(f"{h}: close()")
        self.close_handle(h)

    # by name ------------------------------------------------------------------------
    @rule(rel=st.sampled_from(ENTRIES), size=offsets)
    def truncate_path(self, rel: str, size: int) -> None:
        self.step(f"truncate({rel!r}, {size})")
        if self.local_kind(rel) == "symlink":
            return note("  skipped: a symlink (the local truncate would follow it)")
        if any(h.writable for h in self.on(rel)):
            return note("  skipped: a writable handle is open on it")
        t0 = time.time_ns()
        lo = attempt(os.truncate, self.lpath(rel), size)
        so = attempt(self.fs.truncate, self.spath(rel), size)
        same_outcome(f"truncate({rel!r})", lo, so)
        if lo.ok:
            self.mtimes.pop(rel, None)
            self.replaced(os.lstat(self.lpath(rel)).st_ino)
            assert so.value.mtime_ns >= t0, f"{rel}: mtime {so.value.mtime_ns} < {t0}"

    @rule(src=st.sampled_from(NAMES), dst=st.sampled_from(NAMES))
    def rename(self, src: str, dst: str) -> None:
        self.step(f"rename({src!r}, {dst!r})")
        if self.busy(src) or self.busy(dst):
            return note(SKIP_BUSY)
        if src != dst and self.haunted(dst):
            return note(SKIP_HAUNTED)
        s, d = self.spath(src), self.spath(dst)
        if src != dst and os.path.lexists(self.lpath(src)) and os.path.lexists(self.lpath(dst)):
            so = attempt(self.fs.rename, s, d)  # siltfs never replaces: the local side stays
            assert isinstance(so.error, FileExistsError), f"rename over {dst}: siltfs {so}"
            return
        lo = attempt(os.rename, self.lpath(src), self.lpath(dst))
        so = attempt(self.fs.rename, s, d)
        same_outcome(f"rename({src!r}, {dst!r})", lo, so)
        if lo.ok and src != dst:
            for h in self.on(src):
                h.path = dst
            if src in self.mtimes:
                self.mtimes[dst] = self.mtimes.pop(src)

    @rule(rel=st.sampled_from(NAMES))
    def unlink(self, rel: str) -> None:
        self.step(f"unlink({rel!r})")
        if self.busy(rel):
            return note(SKIP_BUSY)
        if self.would_haunt(rel):
            return note(SKIP_HAUNTED)
        if self.known("remote-unlinked-handle") and any(h.writable for h in self.on(rel)):
            return note("  skipped: known divergence remote-unlinked-handle")
        local = self.lpath(rel)
        ino = os.lstat(local).st_ino if os.path.lexists(local) else None
        lo = attempt(os.unlink, local)
        so = attempt(self.fs.delete, self.spath(rel))
        same_outcome(f"unlink({rel!r})", lo, so)
        if lo.ok:
            assert ino is not None
            self.mtimes.pop(rel, None)
            self.replaced(ino)
            for h in self.on(rel):
                h.path = None

    @rule(rel=st.sampled_from(ENTRIES), mode=perms)
    def chmod(self, rel: str, mode: int) -> None:
        self.step(f"chmod({rel!r}, {mode:#o})")
        if self.local_kind(rel) == "symlink":
            return note("  skipped: a symlink (Linux has no lchmod)")
        if self.busy(rel):
            return note(SKIP_BUSY)
        self.change_metadata(
            f"chmod({rel!r})",
            rel,
            lambda: os.chmod(self.lpath(rel), mode),
            lambda: self.fs.chmod(self.spath(rel), mode),
        )

    @rule(rel=st.sampled_from(ENTRIES), uid=owners, gid=owners)
    def chown(self, rel: str, uid: int, gid: int) -> None:
        self.step(f"chown({rel!r}, {uid}, {gid})")
        if self.busy(rel):
            return note(SKIP_BUSY)
        self.change_metadata(
            f"chown({rel!r})",
            rel,
            lambda: os.chown(self.lpath(rel), uid, gid, follow_symlinks=False),
            lambda: self.fs.chown(self.spath(rel), uid, gid),
        )

    @rule(rel=st.sampled_from(ENTRIES), atime=times_ns, mtime=times_ns)
    def utime(self, rel: str, atime: int, mtime: int) -> None:
        self.step(f"utime({rel!r}, ns=({atime}, {mtime}))")
        if self.busy(rel):
            return note(SKIP_BUSY)
        done = self.change_metadata(
            f"utime({rel!r})",
            rel,
            lambda: os.utime(self.lpath(rel), ns=(atime, mtime), follow_symlinks=False),
            lambda: self.fs.utime(self.spath(rel), ns=(atime, mtime)),
        )
        if done and rel != DIR:  # (a directory's mtime moves with its entries)
            self.mtimes[rel] = mtime

    def change_metadata(
        self, what: str, rel: str, local: Callable[[], Any], silt: Callable[[], Any]
    ) -> bool:
        """A metadata change on both sides: the same outcome, and on success a siltfs
        ctime from no earlier than the call.  Whether it succeeded."""
        t0 = time.time_ns()
        lo, so = attempt(local), attempt(silt)
        same_outcome(what, lo, so)
        if so.ok:
            assert so.value.ctime_ns >= t0, f"{rel}: ctime {so.value.ctime_ns} < {t0}"
        return so.ok

    @rule(rel=st.sampled_from(NAMES), link=link_targets)
    def symlink(self, rel: str, link: str) -> None:
        self.step(f"symlink({link!r}, {rel!r})")
        if self.busy(rel):
            return note(SKIP_BUSY)
        if self.haunted(rel):
            return note(SKIP_HAUNTED)
        lo = attempt(os.symlink, link, self.lpath(rel))
        so = attempt(self.fs.symlink, link, self.spath(rel))
        same_outcome(f"symlink({rel!r})", lo, so)
        if lo.ok:
            self.mtimes.pop(rel, None)

    @rule()
    def evict(self) -> None:
        """Wait until everything is persisted, then drop it from the cache: the next reads
        come from the UFS.  (No local counterpart: nothing may change.)"""
        self.step("wait_persisted, free")
        self.fs.wait_persisted(self.root, timeout=self.persist_timeout_s)
        self.fs.free(self.root)

    # faults and restarts -------------------------------------------------------------
    @precondition(lambda self: self.faults)
    @rule(rate=st.sampled_from([0.0, 0.3, 0.6]), moves=st.integers(0, 3), seed=st.integers(0, 99))
    def toggle_faults(self, rate: float, moves: int, seed: int) -> None:
        """Persist uploads fail at *rate*, the next *moves* moves into place fail (a
        persist retries them); 0 and 0: no faults."""
        self.step(f"faults: uploads fail at {rate}, the next {moves} moves fail")
        from siltfs.testing.faults import inject_faults

        if self.fault_ufs is None:
            self.fault_seed = seed
            self.fault_ufs = inject_faults(self.fs, seed=seed)
        self.fault_ufs.clear()
        self.fault_rate = rate
        self.fault_ufs.set_error_rate(rate, ops=FAULT_OPS)
        if moves:
            self.fault_ufs.fail_next("move", moves, STAGING_MOVES)

    @precondition(lambda self: self.restarts)
    @rule()
    def restart(self) -> None:
        """Close every handle (a close commits), close the FileSystem, open it again."""
        self.step("restart")
        self.close_all()
        self.fs = self.reopen_fs(self.fs)
        self.fault_ufs = None
        if self.fault_rate:
            from siltfs.testing.faults import inject_faults

            self.fault_ufs = inject_faults(self.fs, seed=self.fault_seed)
            self.fault_ufs.set_error_rate(self.fault_rate, ops=FAULT_OPS)
