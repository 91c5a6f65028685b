"""The UFS contract.

Paths given to a UFS are *relative to its root* ('' is the root itself, 'a/b' below it)
and already validated by the namespace; implementations must still refuse anything that
would leave the root (`..`, encoded separators, symlinks pointing out).  Every error is
raised as a :mod:`siltfs.errors` class (FileNotFound, UfsError, ...).
"""

from __future__ import annotations

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
class IncompleteUpload:
    """An upload an object store started and never completed (an S3 multipart upload)."""

    rel: str  # where the object would appear, relative to the UFS root
    initiated: float | None  # epoch seconds


# Characters and encodings no adapter can store faithfully: fsspec and object-store URLs
# decode percent-escapes, so "%2f" would become a separator in the store.
FORBIDDEN_CHARS = ("\\", "\x00")
FORBIDDEN_ENCODINGS = ("%2f", "%5c", "%00", "%2e%2e")


def unrepresentable(name: str) -> str | None:
    """Why no UFS can hold an entry called *name* (None if it can)."""
    if name in ("", ".", ".."):
        return f"{name!r} is not a name an under-storage can hold"
    for c in FORBIDDEN_CHARS:
        if c in name:
            return f"the name contains {c!r}, which under-storages cannot represent"
    low = name.lower()
    for e in FORBIDDEN_ENCODINGS:
        if e in low:
            return f"the name contains {e!r}, which under-storages decode into another name"
    return None


class UnderFileSystem(ABC):
    uri: str

    def check_path(self, rel: str) -> None:
        """Raise InvalidPath (naming *rel* and the reason) if this store cannot hold an
        entry at *rel*.  The namespace calls it before any change that creates or renames
        an entry, so a name the store cannot take is refused with nothing changed.
        Adapters with stricter rules extend it."""
        if rel == "":
            return
        for name in rel.split("/"):
            reason = unrepresentable(name)
            if reason is not None:
                raise InvalidPath(reason, path=rel)

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

    def set_attributes(self, rel: str, *, mode: int | None, mtime_ns: int | None) -> None:
        """Give the file at *rel* these permission bits and this modification time where
        the store keeps them (a local directory does); others keep them only in the
        namespace.  Default: nothing."""
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
