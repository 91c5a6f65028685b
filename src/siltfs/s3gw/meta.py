"""S3 metadata kept with each object as extended attributes of its file:

- ``user.s3.meta``: a JSON blob (:class:`ObjectMeta`: ETag, checksums, the Content-*
  headers, Cache-Control, Expires, ``x-amz-meta-*``, the part count of a multipart
  object), set atomically with the bytes (``open(path, "wb", xattrs=...)``), so it always
  describes the version it was written with.  An overwrite by another client that sets no
  attributes keeps the old ones, so the blob names the MD5 of the bytes it describes
  (``md5``) and counts only while that is the file's content checksum (the MD5 siltfs
  records on ingest, ``FileInfo.checksum``).
- ``user.s3.dir`` on a directory: ``implicit`` (created by a key below it, removed when a
  delete empties it) or ``marker`` (created by a marker key ``a/``: listed as that key,
  kept).  A directory without it was made outside the gateway and is never removed by it.

A file written by another client has no ``user.s3.meta``; its ETag is the MD5 siltfs
recorded on ingest (``FileInfo.checksum``), else an opaque per-version tag.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from siltfs.client import FileSystem
from siltfs.client.common import abort_writer
from siltfs.errors import AttributeNotFound
from siltfs.model.enums import WriteType
from siltfs.model.inode import FileInfo

META_XATTR = "user.s3.meta"
DIR_XATTR = "user.s3.dir"
IMPLICIT = "implicit"
MARKER = "marker"


@dataclass
class ObjectMeta:
    etag: str  # without quotes
    headers: dict[str, str] = field(default_factory=dict)  # content-type, cache-control, ...
    user: dict[str, str] = field(default_factory=dict)  # x-amz-meta-<name> -> value
    checksums: dict[str, str] = field(default_factory=dict)  # crc32 -> base64
    checksum_type: str | None = None  # FULL_OBJECT or COMPOSITE
    parts: int | None = None  # multipart: how many parts
    md5: str | None = None  # MD5 of the bytes described (binds the blob to one content)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> ObjectMeta | None:
        try:
            d = json.loads(data)
            return cls(
                etag=str(d["etag"]),
                headers=dict(d.get("headers") or {}),
                user=dict(d.get("user") or {}),
                checksums=dict(d.get("checksums") or {}),
                checksum_type=d.get("checksum_type"),
                parts=d.get("parts"),
                md5=d.get("md5"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def default_etag(info: FileInfo) -> str:
    """The ETag of a file without gateway metadata: the MD5 siltfs recorded on ingest,
    else a tag unique per version, marked ``-1`` so no client takes it for an MD5."""
    if info.checksum:
        return info.checksum
    ident = f"{info.id}:{info.generation}:{info.length}".encode()
    return hashlib.md5(ident).hexdigest() + "-1"


class MetaStore:
    """Reads and writes :class:`ObjectMeta` and directory states on *fs*."""

    def __init__(self, fs: FileSystem) -> None:
        self.fs = fs

    @contextmanager
    def writer(self, path: str, write_type: WriteType, meta: ObjectMeta) -> Iterator[IO[Any]]:
        """A binary stream writing *path*; *meta* is committed with the bytes when the
        block ends, and nothing at all when it raises (the write is aborted)."""
        f = self.fs.open(path, "wb", write_type=write_type, xattrs={META_XATTR: meta.to_bytes()})
        try:
            yield f
        except BaseException:
            abort_writer(f)
            raise
        f.close()

    def write(
        self, path: str, write_type: WriteType, meta: ObjectMeta, content: bytes | Iterable[bytes]
    ) -> None:
        """Write *content* (bytes: in one call; else chunk by chunk) with *meta*."""
        if isinstance(content, bytes):
            xattrs = {META_XATTR: meta.to_bytes()}
            self.fs.write_bytes(path, content, write_type=write_type, xattrs=xattrs)
            return
        with self.writer(path, write_type, meta) as f:
            for chunk in content:
                f.write(chunk)

    def put(self, path: str, meta: ObjectMeta) -> None:
        """Replace the metadata of a file already written."""
        self.fs.setxattr(path, META_XATTR, meta.to_bytes())

    def get(self, path: str, info: FileInfo) -> ObjectMeta | None:
        """The metadata of *path* if it describes the content *info* describes."""
        try:
            meta = ObjectMeta.from_bytes(self.fs.getxattr(path, META_XATTR))
        except AttributeNotFound:
            return None
        if meta is None or (info.checksum is not None and meta.md5 != info.checksum):
            return None  # left behind by an overwrite elsewhere, or not yet bound
        return meta

    def dir_state(self, path: str) -> str | None:
        """IMPLICIT, MARKER, or None (made outside the gateway, or a bucket)."""
        try:
            return self.fs.getxattr(path, DIR_XATTR).decode("utf-8", "replace")
        except AttributeNotFound:
            return None

    def set_dir_state(self, path: str, state: str | None) -> None:
        if state is not None:
            self.fs.setxattr(path, DIR_XATTR, state.encode())
            return
        try:
            self.fs.removexattr(path, DIR_XATTR)
        except AttributeNotFound:
            pass
