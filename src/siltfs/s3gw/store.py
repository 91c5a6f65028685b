"""The namespace under the S3 model: buckets as top-level directories, keys as paths,
implicit parents created by a write and removed when a delete empties them, and reads
of one consistent version (bytes and metadata of the same inode)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from siltfs.client import FileSystem
from siltfs.errors import DirectoryNotEmpty, FileNotFound
from siltfs.model import paths
from siltfs.model.enums import WriteType
from siltfs.model.inode import FileInfo
from siltfs.s3gw import keys
from siltfs.s3gw.errors import S3Error, invalid_argument, no_such_bucket, no_such_key
from siltfs.s3gw.meta import IMPLICIT, MARKER, MetaStore, ObjectMeta, default_etag

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
OPEN_ATTEMPTS = 5


@dataclass
class Version:
    """One version of an object: its info, metadata and (for a read) an open stream."""

    info: FileInfo
    meta: ObjectMeta
    stream: IO[Any] | None = None

    @property
    def etag(self) -> str:
        return self.meta.etag

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


class Store:
    def __init__(self, fs: FileSystem, meta: MetaStore, write_type: WriteType) -> None:
        self.fs = fs
        self.meta = meta
        self.write_type = write_type

    # buckets -----------------------------------------------------------------
    def bucket(self, bucket: str) -> FileInfo:
        """The bucket's directory; NoSuchBucket if there is none."""
        try:
            info = self.fs.stat(keys.bucket_path(bucket))
        except FileNotFound:
            raise no_such_bucket(bucket) from None
        if not info.is_dir:
            raise no_such_bucket(bucket)
        return info

    def children(self, path: str) -> list[FileInfo]:
        return self.fs.ls(path)

    def mkdir(self, path: str) -> None:
        self.fs.mkdir(path)

    def remove_dir(self, path: str) -> None:
        """Delete an empty directory (DirectoryNotEmpty otherwise)."""
        self.fs.delete(path)

    def dir_state(self, path: str) -> str | None:
        return self.meta.dir_state(path)

    def object_meta(self, path: str, info: FileInfo) -> ObjectMeta | None:
        return self.meta.get(path, info)

    def bind_meta(self, bucket: str, key: str, meta: ObjectMeta) -> None:
        """Set the metadata of an object written without its MD5 known up front."""
        self.meta.put(keys.object_path(bucket, key), meta)

    def stat(self, path: str) -> FileInfo | None:
        try:
            return self.fs.stat(path)
        except FileNotFound:
            return None
        except NotADirectoryError:
            return None

    # writes ------------------------------------------------------------------
    def prepare_write(self, bucket: str, key: str) -> list[str]:
        """Check that *key* can be written in *bucket*; the directories the write will
        create (to be marked implicit afterwards), outermost first."""
        path = keys.object_path(bucket, key)
        resource = f"/{bucket}/{key}"
        existing = self.stat(path)
        if existing is not None and existing.is_dir and not keys.is_marker(key):
            raise invalid_argument(
                f"keys exist below {key}/; the namespace cannot hold an object of the same name",
                resource,
            )
        if existing is not None and not existing.is_dir and keys.is_marker(key):
            raise invalid_argument(
                f"an object {key.rstrip('/')} exists; the namespace cannot hold a directory of "
                "the same name",
                resource,
            )
        missing: list[str] = []
        parent = paths.split(path)[0]
        root = keys.bucket_path(bucket)
        while True:  # up to the first directory that exists (the bucket at the latest)
            info = self.stat(parent)
            if info is not None:
                if not info.is_dir:
                    if parent == root:
                        raise no_such_bucket(bucket)
                    name = keys.key_of(bucket, parent, False)
                    raise invalid_argument(
                        f"an object {name} exists; the namespace cannot hold keys below it",
                        resource,
                    )
                return missing[::-1]
            if parent == root:
                raise no_such_bucket(bucket)
            missing.append(parent)
            parent = paths.split(parent)[0]

    def mark_implicit(self, dirs: Iterable[str]) -> None:
        for d in dirs:
            info = self.stat(d)
            if info is not None and info.is_dir and self.meta.dir_state(d) is None:
                self.meta.set_dir_state(d, IMPLICIT)

    def write(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        chunks: bytes | Iterable[bytes],
        write_type: WriteType,
        missing: list[str],
    ) -> None:
        """Write an object (or a marker key's directory) whose checks passed."""
        path = keys.object_path(bucket, key)
        if keys.is_marker(key):
            if len(chunks) if isinstance(chunks, bytes) else any(len(c) for c in chunks):
                raise invalid_argument("a key ending in '/' is a directory; it holds no bytes")
            self.fs.mkdir(path, parents=True, exist_ok=True, write_type=write_type)
            self.mark_implicit(missing)
            self.meta.set_dir_state(path, MARKER)
            return
        self.meta.write(path, write_type, meta, chunks)
        self.mark_implicit(missing)

    # the gateway's own hidden files (multipart staging) ----------------------------
    def read_small(self, path: str) -> bytes | None:
        try:
            return self.fs.read_bytes(path)
        except (FileNotFound, NotADirectoryError):
            return None

    def write_small(self, path: str, data: bytes, write_type: WriteType) -> None:
        self.fs.write_bytes(path, data, write_type=write_type)

    def write_file(
        self, path: str, write_type: WriteType, meta: ObjectMeta, chunks: bytes | Iterable[bytes]
    ) -> None:
        self.meta.write(path, write_type, meta, chunks)

    def file_version(self, path: str) -> Version | None:
        """A hidden file and its metadata (None if it is gone or has none)."""
        info = self.stat(path)
        if info is None or info.is_dir:
            return None
        meta = self.meta.get(path, info)
        return None if meta is None else Version(info, meta)

    def open_read(self, path: str) -> IO[Any]:
        return self.fs.open(path, "rb")

    def remove_tree(self, path: str) -> None:
        """Delete *path* and everything below it."""
        try:
            self.fs.delete(path, recursive=True)
        except FileNotFound:
            pass

    # reads -------------------------------------------------------------------
    def version(self, bucket: str, key: str, *, open_stream: bool) -> Version:
        """The current version of *key* (NoSuchKey if none); with *open_stream*, with a
        stream on exactly that version's bytes (re-tried if an overwrite intervenes:
        ids never repeat, so the same id before and after the open is the same version)."""
        path = keys.object_path(bucket, key)
        for _ in range(OPEN_ATTEMPTS):
            info = self.stat(path)
            if info is None:
                self.bucket(bucket)  # NoSuchBucket rather than NoSuchKey
                raise no_such_key(bucket, key)
            if info.is_dir:
                if keys.is_marker(key) and self.meta.dir_state(path) == MARKER:
                    return Version(info, ObjectMeta(etag=EMPTY_MD5))
                raise no_such_key(bucket, key)
            if keys.is_marker(key):
                raise no_such_key(bucket, key)
            meta = self.meta.get(path, info) or ObjectMeta(etag=default_etag(info))
            if not open_stream:
                return Version(info, meta)
            try:
                stream = self.fs.open(path, "rb")
            except FileNotFound:
                continue
            again = self.stat(path)
            if again is not None and again.id == info.id:
                return Version(info, meta, stream)
            stream.close()
        raise S3Error("ServiceUnavailable", f"{path} changes too fast to be read", 503)

    # deletes -----------------------------------------------------------------
    def delete(self, bucket: str, key: str) -> None:
        """Delete *key* if it exists (S3: deleting a missing key succeeds), then the
        implicit parents it leaves empty."""
        path = keys.object_path(bucket, key)
        try:
            self._delete(bucket, key, path)
        except (FileNotFound, NotADirectoryError):
            return  # gone meanwhile (a concurrent delete): deleted is deleted

    def _delete(self, bucket: str, key: str, path: str) -> None:
        info = self.stat(path)
        if info is None:
            return
        if info.is_dir:
            if not keys.is_marker(key) or self.meta.dir_state(path) != MARKER:
                return
            if self.fs.ls(path):
                self.meta.set_dir_state(path, IMPLICIT)
                return
        elif keys.is_marker(key):
            return
        try:
            self.fs.delete(path)
        except FileNotFound:
            return
        except DirectoryNotEmpty:
            self.meta.set_dir_state(path, IMPLICIT)
            return
        self.remove_empty_parents(bucket, path)

    def remove_empty_parents(self, bucket: str, path: str) -> None:
        """Delete the implicit directories above *path* that are empty, bottom up.  A
        concurrent delete may remove them first (``aws s3 rm --recursive`` deletes in
        parallel): that is the same outcome."""
        try:
            self._remove_empty_parents(bucket, path)
        except (FileNotFound, NotADirectoryError):
            return

    def _remove_empty_parents(self, bucket: str, path: str) -> None:
        root = keys.bucket_path(bucket)
        parent = paths.split(path)[0]
        while parent != root:
            info = self.stat(parent)
            if info is None or not info.is_dir or self.meta.dir_state(parent) != IMPLICIT:
                return
            if self.fs.ls(parent):
                return
            try:
                self.fs.delete(parent)
            except (DirectoryNotEmpty, FileNotFound):
                return
            parent = paths.split(parent)[0]
