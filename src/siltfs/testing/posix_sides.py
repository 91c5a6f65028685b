"""The two sides of :class:`~siltfs.testing.posix_machine.PosixFileStateMachine`: a
siltfs FileSystem and a real local directory -- their open handles, what a call on each
side gave, and what an entry looks like on each side.

Nothing here knows siltfs's internals: the siltfs side is seen through the public
FileSystem API only (``stat``, ``readlink``, ``read_bytes``, ``ls`` and the handles
``open`` returns), the local side through :mod:`os`.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ERROR_KINDS",
    "Entry",
    "Handle",
    "Outcome",
    "attempt",
    "local_entry",
    "read_all",
    "same_outcome",
    "silt_entry",
    "ufs_files",
]

# the failures both sides must agree on (siltfs errors subclass the built-ins); any other
# exception is a failure of the test at once.  UnsupportedOperation first: it is an
# OSError too.
ERROR_KINDS: tuple[type[Exception], ...] = (
    io.UnsupportedOperation,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
)


@dataclass(frozen=True)
class Outcome:
    """What one call gave: its value, or one of :data:`ERROR_KINDS`."""

    value: Any = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def kind(self) -> str:
        if self.error is None:
            return "success"
        return next(k.__name__ for k in ERROR_KINDS if isinstance(self.error, k))

    def __str__(self) -> str:
        return self.kind if self.error is None else f"{self.kind} ({self.error})"


def attempt(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Run *call*: its value, or the error if it is one of :data:`ERROR_KINDS`."""
    try:
        return Outcome(value=call(*args, **kwargs))
    except ERROR_KINDS as exc:
        return Outcome(error=exc)


def same_outcome(what: str, local: Outcome, silt: Outcome) -> None:
    """Both sides succeeded, or both failed with the same kind of error."""
    assert local.kind == silt.kind, f"{what}: local {local}, siltfs {silt}"


@dataclass
class Handle:
    """One file opened on both sides with the same mode.

    ``path`` is where the file is now (a handle follows its file through renames), None
    once it is unlinked.  ``dirty``: the siltfs handle holds changes it has not committed,
    so other siltfs callers still see the version before them while the local file
    already shows them -- the path is not compared until the handle commits.
    ``creating``: the file does not exist in siltfs until the handle's first commit.
    ``anchor``: the name it was opened with or last committed to (where siltfs commits
    when the file it opened is no longer there).
    ``snapshot`` (``rb``): the bytes when it was opened, what the siltfs handle keeps
    reading; ``stale`` (``rb``): that version was replaced or deleted since.  ``ino``: the
    local inode of the file, which identifies the file across renames."""

    mode: str
    path: str | None
    silt: IO[bytes]
    local: io.FileIO
    ino: int
    anchor: str
    snapshot: bytes = b""
    dirty: bool = False
    creating: bool = False
    stale: bool = False

    @property
    def kind(self) -> str:
        """``read`` (rb), ``stream`` (wb, xb: a new version written front to back, committed
        at close) or ``mutable`` (ab, r+b, w+b, a+b, x+b: committed at flush and close)."""
        if self.mode == "rb":
            return "read"
        return "stream" if self.mode in ("wb", "xb") else "mutable"

    @property
    def writable(self) -> bool:
        return self.mode != "rb"

    @property
    def readable(self) -> bool:
        return self.mode == "rb" or "+" in self.mode

    def __str__(self) -> str:
        flags = [f for f in ("dirty", "creating", "stale") if getattr(self, f)]
        return f"{self.mode} {self.path or '(unlinked)'}{' ' + ','.join(flags) if flags else ''}"


def read_all(f: IO[bytes]) -> bytes:
    """The whole content of an open handle; its position is left where it was."""
    pos = f.tell()
    try:
        f.seek(0)
        return f.read()
    finally:
        f.seek(pos)


@dataclass(frozen=True)
class Entry:
    """What both sides must agree on about one entry (``size``: files and symlinks)."""

    kind: str  # file, dir, symlink, other
    size: int
    perm: int  # mode & 0o7777
    uid: int
    gid: int
    target: str | None

    def compared(self) -> Entry:
        """Without what is not compared: a directory's size."""
        return replace(self, size=0) if self.kind == "dir" else self


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "file" if stat.S_ISREG(mode) else "other"


def local_entry(path: Path) -> tuple[Entry, int] | None:
    """The local entry at *path* (not following a symlink) and its mtime_ns."""
    try:
        s = os.lstat(path)
    except FileNotFoundError:
        return None
    kind = _kind(s.st_mode)
    target = os.readlink(path) if kind == "symlink" else None
    entry = Entry(kind, s.st_size, s.st_mode & 0o7777, s.st_uid, s.st_gid, target)
    return entry, s.st_mtime_ns


def silt_entry(fs: Any, path: str) -> tuple[Entry, int] | None:
    """The siltfs entry at *path* and its mtime_ns (``stat`` does not follow symlinks)."""
    try:
        info = fs.stat(path)
    except FileNotFoundError:
        return None
    kind = "dir" if info.is_dir else _kind(info.mode)
    target = None
    if kind == "symlink":
        target = fs.readlink(path)
        assert target == info.target, f"{path}: readlink {target!r}, stat {info.target!r}"
    entry = Entry(kind, info.length, info.mode & 0o7777, info.uid, info.gid, target)
    return entry, int(info.mtime_ns)


def ufs_files(root: Path) -> dict[str, bytes | None]:
    """Every entry under a local UFS directory: relative path to bytes (None: a dir)."""
    out: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = None if p.is_dir() else p.read_bytes()
    return out
