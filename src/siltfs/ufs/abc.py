"""The UFS contract.

Paths given to a UFS are *relative to its root* ('' is the root itself, 'a/b' below it)
and already validated by the namespace; implementations must still refuse anything that
would leave the root (`..`, encoded separators, symlinks pointing out).  Every error is
raised as a :mod:`siltfs.errors` class (FileNotFound, UfsError, ...).
"""

from __future__ import annotations

import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from siltfs.errors import InvalidPath


@dataclass(frozen=True)
class UfsStatus:
    name: str  # last component ('' for the root)
    is_dir: bool
    size: int
    mtime: float | None
    fingerprint: str  # changes whenever the content may have changed (size + etag/mtime)


@dataclass(frozen=True)
class StoredAttrs:
    """POSIX attributes a UFS keeps with an object (S3: ``x-amz-meta-silt-*``); None:
    that one is not stored."""

    mode: int | None = None  # permission bits
    uid: int | None = None
    gid: int | None = None
    mtime_ns: int | None = None


@dataclass(frozen=True)
class IncompleteUpload:
    """An upload an object store started and never completed (an S3 multipart upload)."""

    rel: str  # where the object would appear, relative to the UFS root
    initiated: float | None  # epoch seconds


# Characters and escapes no adapter can store faithfully: fsspec and object-store URLs
# decode percent-escapes (some more than once), so "%2f" -- or "%252f", which decodes to
# "%2f" -- could become a separator in the store.
FORBIDDEN_CHARS = ("\\", "\x00")
FORBIDDEN_ENCODINGS = ("%2f", "%5c", "%00", "%2e%2e")


def unrepresentable(name: str) -> str | None:
    """Why no UFS can hold an entry called *name* (None if it can).

    The one rule for every under-storage: *name* is refused if it, or any form it
    decodes to by repeated percent-decoding, is empty, '.' or '..', contains a
    separator, a backslash or a NUL, or contains the escape of one of them (or of '..')."""
    if name in ("", ".", ".."):
        return f"{name!r} is not a name an under-storage can hold"
    for c in FORBIDDEN_CHARS:
        if c in name:
            return f"the name contains {c!r}, which under-storages cannot represent"
    form, depth = name, 0
    while True:
        low = form.lower()
        for e in FORBIDDEN_ENCODINGS:
            if e in low:
                how = "" if depth == 0 else f" once decoded {depth} time(s) ({form!r})"
                return (
                    f"the name contains {e!r}{how}, which under-storages decode into another name"
                )
        decoded = urllib.parse.unquote(form)
        if decoded == form:
            return None
        form, depth = decoded, depth + 1
        if form in (".", "..") or any(c in form for c in ("/", *FORBIDDEN_CHARS)):
            return f"the name decodes to {form!r}, which under-storages cannot hold as a name"


@dataclass(frozen=True)
class Limits:
    """Length limits of a store, in UTF-8 bytes (None: no limit of its own)."""

    name_bytes: int | None = None  # one name (a path component)
    path_bytes: int | None = None  # what the store keeps: full path or key, root included
    path_limit: str = ""  # how the limit is called in messages


NO_LIMITS = Limits()


class UnderFileSystem(ABC):
    uri: str
    limits: Limits = NO_LIMITS

    def stored_bytes(self, rel: str, *, is_dir: bool = False) -> int:
        """Length in bytes of what the store keeps for an entry at *rel* (its full path or
        key, the mount's root or prefix included).  Adapters with a root override it."""
        return len(rel.encode("utf-8", "surrogateescape"))

    def check_path(
        self, rel: str, *, is_dir: bool = False, below: Iterable[tuple[str, bool]] = ()
    ) -> None:
        """Raise InvalidPath (naming *rel*, the reason and the limit) if this store cannot
        hold an entry at *rel* -- nor, for a directory moved there, the entries *below* it
        (``(suffix, is_dir)`` relative to *rel*; the longest are enough).  The namespace
        calls it before any change that creates or renames an entry, so a name the store
        cannot take is refused with nothing changed; the adapters call it on every path
        they are given."""
        if rel == "":
            return
        limit = self.limits.name_bytes
        for name in rel.split("/"):
            reason = unrepresentable(name)
            if reason is not None:
                raise InvalidPath(reason, path=rel)
            size = len(name.encode("utf-8", "surrogateescape"))
            if limit is not None and size > limit:
                raise InvalidPath(
                    f"a name is {size} bytes, over the {limit} bytes a name may have in "
                    "this under-storage (NAME_MAX)",
                    path=rel,
                )
        if self.limits.path_bytes is None:
            return
        self._check_length(rel, rel, is_dir, "")
        for suffix, suffix_is_dir in below:
            if suffix:
                self._check_length(rel, f"{rel}/{suffix}", suffix_is_dir, suffix)

    def _check_length(self, rel: str, entry: str, is_dir: bool, suffix: str) -> None:
        limit = self.limits.path_bytes
        assert limit is not None
        n = self.stored_bytes(entry, is_dir=is_dir)
        if n > limit:
            what = f"its entry {suffix!r} would be" if suffix else "it would be"
            raise InvalidPath(
                f"{what} {n} bytes in the under-storage, over {self.limits.path_limit}",
                path=rel,
            )

    @abstractmethod
    def status(self, rel: str) -> UfsStatus | None:
        """Status of the entry, or None if nothing is there."""

    @abstractmethod
    def list(self, rel: str) -> list[UfsStatus]:
        """Entries directly below a directory; FileNotFound if it is not there."""

    @abstractmethod
    def mkdirs(self, rel: str) -> None:
        """Create the directory and its parents (no error if it exists)."""

    @abstractmethod
    def open_write(self, rel: str) -> BinaryIO:
        """A writable binary file; the object is complete when it is closed."""

    def write(self, rel: str, chunks: Iterable[bytes]) -> None:
        """Write a whole file from *chunks*; parents must exist or be implied by the store.

        Not atomic: callers that need atomicity write a staging object and move it.  On
        failure nothing is left at *rel* (implementations remove the partial object).
        """
        with self.open_write(rel) as f:
            for chunk in chunks:
                f.write(chunk)

    @abstractmethod
    def read_range(self, rel: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of a file."""

    @abstractmethod
    def move(self, src: str, dst: str) -> None:
        """Move a file or directory tree to *dst* (a file at *dst* is replaced)."""

    @abstractmethod
    def delete(self, rel: str, *, recursive: bool = False) -> None:
        """Delete a file or directory; no error if it is already gone."""

    keeps_attrs = False  # stored_attrs() may answer (one call per file: asked on import)

    def set_attributes(self, rel: str, attrs: StoredAttrs) -> None:
        """Give the file at *rel* these permission bits, modification time and owner
        where the store keeps them (a local directory: mode and mtime; an object store
        with user metadata: all four); others keep them only in the namespace.
        Default: nothing."""
        return None

    def stored_attrs(self, rel: str) -> StoredAttrs | None:
        """What :meth:`set_attributes` stored with the file at *rel* in a store that
        keeps them apart from its own metadata (``keeps_attrs``).  Default: None."""
        return None

    def abort_stale_uploads(
        self,
        prefix: str,
        older_than_s: float,
        keep: Callable[[IncompleteUpload], bool] | None = None,
    ) -> int:
        """Abort incomplete uploads (left by a process that died mid-upload) whose object
        would appear under the directory *prefix* ('' the root) and that started at least
        *older_than_s* seconds ago, except those *keep* claims.  *keep* is called only after the uploads are listed.
        Returns how many were aborted.  Stores without such uploads have none: 0."""
        return 0

    def close(self) -> None:
        """Release resources."""
