"""S3 metadata kept with each object: ETag, checksums, the Content-* headers, Cache-Control,
Expires and ``x-amz-meta-*`` (:class:`ObjectMeta`), and whether a directory was created
implicitly by a key below it or explicitly by a marker key (``a/``).

Stored as extended attributes when the file system has them (``user.s3.meta``, a JSON
blob set atomically with the object's bytes; ``user.s3.dir``).  Until then
(:class:`MetaStore` checks ``setxattr``), a sidecar file per inode id under the hidden
``/.silt-s3-meta`` directory, written right after the object: an inode id is never
reused (an overwrite is a new inode), so a sidecar can only describe the version it was
written for; one orphaned by another client's delete or overwrite is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from siltfs.client import FileSystem
from siltfs.errors import FileNotFound
from siltfs.model.enums import WriteType
from siltfs.model.inode import FileInfo

META_XATTR = "user.s3.meta"
DIR_XATTR = "user.s3.dir"
SIDECAR_DIR = "/.silt-s3-meta"
IMPLICIT = "implicit"  # created by a key below it; removed when a delete empties it
MARKER = "marker"  # created by a marker key ``a/``: listed as that key, kept


@dataclass
class ObjectMeta:
    etag: str  # without quotes
    headers: dict[str, str] = field(default_factory=dict)  # content-type, cache-control, ...
    user: dict[str, str] = field(default_factory=dict)  # x-amz-meta-<name> -> value
    checksums: dict[str, str] = field(default_factory=dict)  # crc32 -> base64
    checksum_type: str | None = None  # FULL_OBJECT or COMPOSITE
    parts: int | None = None  # multipart: how many parts

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> ObjectMeta | None:
        try:
            d = json.loads(data)
            return cls(
                etag=str(d["etag"]), headers=dict(d.get("headers") or {}),
                user=dict(d.get("user") or {}), checksums=dict(d.get("checksums") or {}),
                checksum_type=d.get("checksum_type"), parts=d.get("parts"),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def fallback_etag(info: FileInfo) -> str:
    """An ETag for a file written outside the gateway (no stored MD5): unique per version,
    marked with ``-1`` so no client takes it for the MD5 of the bytes."""
    import hashlib

    ident = f"{info.id}:{info.generation}:{info.length}".encode()
    return hashlib.md5(ident).hexdigest() + "-1"


class MetaStore:
    """Reads and writes :class:`ObjectMeta` and directory states on *fs*."""

    def __init__(self, fs: FileSystem, write_type: WriteType) -> None:
        self.fs = fs
        self.write_type = write_type
        self.xattrs = hasattr(fs, "setxattr")

    # objects ----------------------------------------------------------------
    @contextmanager
    def writer(self, path: str, write_type: WriteType, meta: ObjectMeta) -> Iterator[IO[Any]]:
        """A binary stream writing *path* with *meta*; the metadata is in place when the
        ``with`` block ends."""
        if self.xattrs:
            f = self.fs.open(
                path, "wb", write_type=write_type, xattrs={META_XATTR: meta.to_bytes()}
            )  # type: ignore[call-arg]
        else:
            f = self.fs.open(path, "wb", write_type=write_type)
        with f:
            yield f
        if not self.xattrs:
            self._put_sidecar(self.fs.stat(path), {"meta": asdict(meta)})

    def write(
        self, path: str, write_type: WriteType, meta: ObjectMeta, chunks: Iterable[bytes]
    ) -> None:
        with self.writer(path, write_type, meta) as f:
            for chunk in chunks:
                f.write(chunk)

    def put(self, path: str, info: FileInfo, meta: ObjectMeta) -> None:
        """Attach *meta* to the version *info* of a file already written (multipart parts
        copied from another object, whose MD5 is known only at the end)."""
        if self.xattrs:
            self.fs.setxattr(path, META_XATTR, meta.to_bytes())  # type: ignore[union-attr]
        else:
            self._put_sidecar(info, {"meta": asdict(meta)})

    def get(self, path: str, info: FileInfo) -> ObjectMeta | None:
        """The metadata of the version *info* describes (None: written elsewhere)."""
        if self.xattrs:
            try:
                data = self.fs.getxattr(path, META_XATTR)  # type: ignore[union-attr]
            except FileNotFound:
                return None
            return ObjectMeta.from_bytes(data)
        side = self._sidecar(info)
        meta = side.get("meta")
        return ObjectMeta.from_bytes(json.dumps(meta).encode()) if isinstance(meta, dict) else None

    def forget(self, info: FileInfo) -> None:
        """Drop what was kept beside an entry just deleted (xattrs go with it)."""
        if not self.xattrs:
            try:
                self.fs.delete(self._sidecar_path(info))
            except FileNotFound:
                pass

    # directories -------------------------------------------------------------
    def dir_state(self, path: str, info: FileInfo) -> str | None:
        """IMPLICIT, MARKER, or None (made outside the gateway, or a bucket)."""
        if self.xattrs:
            try:
                return self.fs.getxattr(path, DIR_XATTR).decode()  # type: ignore[union-attr, no-any-return]
            except FileNotFound:
                return None
        state = self._sidecar(info).get("dir")
        return state if isinstance(state, str) else None

    def set_dir_state(self, path: str, info: FileInfo, state: str | None) -> None:
        if self.xattrs:
            if state is None:
                try:
                    self.fs.removexattr(path, DIR_XATTR)  # type: ignore[union-attr]
                except FileNotFound:
                    pass
            else:
                self.fs.setxattr(path, DIR_XATTR, state.encode())  # type: ignore[union-attr]
            return
        if state is None:
            self.forget(info)
        else:
            self._put_sidecar(info, {"dir": state})

    # the sidecar fallback ------------------------------------------------------
    def _sidecar_path(self, info: FileInfo) -> str:
        return f"{SIDECAR_DIR}/{info.id}"

    def _sidecar(self, info: FileInfo) -> dict[str, Any]:
        try:
            data = self.fs.read_bytes(self._sidecar_path(info))
        except FileNotFound:
            return {}
        try:
            value = json.loads(data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def _put_sidecar(self, info: FileInfo, value: dict[str, Any]) -> None:
        data = json.dumps(value, separators=(",", ":")).encode()
        self.fs.write_bytes(self._sidecar_path(info), data, write_type=self.write_type)
