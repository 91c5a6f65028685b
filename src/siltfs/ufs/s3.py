"""S3 (and S3-compatible stores) as an under-storage, through s3fs.

A flat keyspace made to behave like a directory tree:

- A directory is a *marker* object ``<prefix>/<dir>/`` (empty body) or, for entries
  written by other tools, implied by deeper keys.  ``mkdirs`` writes markers for the
  directory and every ancestor, so an empty directory exists, is listed and survives;
  deleting or moving away the last entry of a directory re-writes its marker, so a
  directory only implied by its children is not lost with them.
- The mount root (``s3://bucket`` or ``s3://bucket/prefix``) is a directory as long as
  the bucket exists.
- Renaming a directory copies and deletes object by object (markers included); not
  atomic, the namespace records an intent first and rolls an interrupted move forward.
- Files larger than the part size (``part_size``, default 50 MiB) are uploaded in
  parts; an upload that fails is aborted, one whose process died is left to
  :meth:`S3Ufs.abort_stale_uploads` (called by the staging sweep).

s3fs's listing cache is off: siltfs must see what other clients change.
"""

from __future__ import annotations

import functools
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, BinaryIO, cast

import s3fs  # optional (siltfs[s3]): siltfs.ufs.registry says how to install it

from siltfs import crashpoints
from siltfs.errors import (
    DirectoryNotEmpty,
    FileNotFound,
    InvalidArgument,
    InvalidPath,
    UfsError,
)
from siltfs.ufs.abc import IncompleteUpload, Limits, StoredAttrs, UfsStatus
from siltfs.ufs.fsspec_ufs import FsspecUfs, fingerprint_of, mapped_errors
from siltfs.ufs.s3_options import s3fs_options

SCHEMES = ("s3", "s3a")
META = "silt-"  # user metadata keys of POSIX attributes (x-amz-meta-silt-mode, ...)
MAX_KEY_BYTES = 1024  # S3's limit on an object key (UTF-8), the mount's prefix included
S3_LIMITS = Limits(
    path_bytes=MAX_KEY_BYTES,
    path_limit=f"S3's limit of {MAX_KEY_BYTES} bytes for an object key (the mount's prefix "
    "and, for a directory, its marker's trailing '/' included)",
)


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ("bucket", "a/b")."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise InvalidPath("not an s3:// URI", path=uri)
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    if not bucket or any(c in bucket for c in "\\\x00?#"):
        raise InvalidPath("S3 URI has no valid bucket name", path=uri)
    if prefix and any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in prefix.split("/")):
        raise InvalidPath("S3 URI prefix has an empty, '.' or '..' component", path=uri)
    return bucket, prefix


@functools.cache
def _session() -> Any:
    """One botocore session for every S3 mount: it caches the service model, so opening
    a mount (a new client) takes a few ms instead of ~100.  Clients, credentials and
    settings stay per mount."""
    from aiobotocore.session import AioSession  # type: ignore[import-untyped]

    return AioSession()


def _epoch(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


class _Upload:
    """An object being written.  Complete when closed; an error inside ``with`` aborts it
    instead (no partial object appears, a multipart upload is aborted, not completed)."""

    def __init__(self, f: Any, rel: str, uri: str):
        self._f = f
        self._rel = rel
        self._uri = uri

    @contextmanager
    def _aborting(self) -> Iterator[None]:
        """A failure aborts the upload and is translated (``mapped_errors``)."""
        with mapped_errors(self._rel, "write", self._uri):
            try:
                yield
            except Exception:
                self.abort()
                raise

    @property
    def closed(self) -> bool:
        return bool(self._f.closed)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        with self._aborting():
            return int(self._f.write(data))

    def flush(self) -> None:
        pass  # parts are uploaded as the buffer fills; the rest on close

    def close(self) -> None:
        if self._f.closed:
            return
        with self._aborting():
            self._f.close()

    def abort(self) -> None:
        """Drop what was written; best effort (the sweeper aborts what is left)."""
        try:
            self._f.discard()
        except Exception:  # noqa: BLE001 - abort_stale_uploads gets it later
            pass
        self._f.closed = True

    def __enter__(self) -> _Upload:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class S3Ufs(FsspecUfs):
    """``s3://bucket[/prefix]`` through s3fs, with directory semantics (see module doc)."""

    def __init__(self, uri: str, options: dict[str, Any] | None = None) -> None:
        self.uri = uri
        self.bucket, self.base = split_uri(uri)
        kwargs = s3fs_options(uri, options)
        try:
            self.fs = s3fs.S3FileSystem(session=_session(), **kwargs)
        except (ValueError, TypeError) as exc:
            raise UfsError(f"cannot open under-storage: {exc}", path=uri) from exc
        self.root = f"{self.bucket}/{self.base}" if self.base else self.bucket
        self.local = False
        self.limits = S3_LIMITS
        self.part_size: int = kwargs["default_block_size"]

    def stored_bytes(self, rel: str, *, is_dir: bool = False) -> int:
        """The key's length; a directory is kept as its marker ``<key>/``."""
        key = f"{self.base}/{rel}" if self.base else rel
        return len(key.encode("utf-8", "surrogateescape")) + (1 if is_dir and rel else 0)

    # keys -----------------------------------------------------------------
    def _key(self, rel: str) -> str:
        """The object key of *rel* (validated); '' is the bucket root."""
        full = self._full(rel)
        return full[len(self.bucket) + 1 :] if "/" in full else ""

    def _dir(self, rel: str) -> str:
        """The key prefix of a directory: its marker key, '' for the bucket root."""
        key = self._key(rel)
        return key + "/" if key else ""

    def _rel_of(self, key: str) -> str:
        base = self._dir("")
        return key[len(base) :].rstrip("/")

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        out: dict[str, Any] = self.fs.call_s3(method, Bucket=self.bucket, **kwargs)
        return out

    def _keys(self, prefix: str) -> Iterator[dict[str, Any]]:
        """Every object under a key prefix (no delimiter), page by page."""
        kwargs: dict[str, Any] = {"Prefix": prefix}
        while True:
            out = self._call("list_objects_v2", **kwargs)
            yield from out.get("Contents", [])
            token = out.get("NextContinuationToken")
            if not out.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token

    def _head(self, rel: str) -> dict[str, Any] | None:
        """The object at *rel* (a file), or None."""
        if rel == "":
            return None
        try:
            return self._call("head_object", Key=self._key(rel))
        except FileNotFoundError:
            return None

    def _mark(self, rel: str) -> None:
        """Write the directory marker of *rel* (not for the root: it always exists)."""
        if rel:
            self._call("put_object", Key=self._dir(rel), Body=b"")

    def _keep_parent(self, rel: str) -> None:
        """*rel* was removed from its directory: keep the directory (it may have been
        implied by its children only)."""
        self._mark(rel.rpartition("/")[0])

    def _delete_keys(self, keys: list[str]) -> None:
        for i in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[i : i + 1000]]
            out = self._call("delete_objects", Delete={"Objects": batch, "Quiet": True})
            errors = out.get("Errors") or []
            if errors:
                first = errors[0]
                raise OSError(
                    f"{len(errors)} object(s) not deleted, e.g. {first.get('Key')}: "
                    f"{first.get('Code')} {first.get('Message')}"
                )

    @staticmethod
    def _file_status(name: str, size: int, mtime: Any, etag: Any) -> UfsStatus:
        return UfsStatus(
            name=name,
            is_dir=False,
            size=int(size),
            mtime=_epoch(mtime),
            fingerprint=fingerprint_of({"size": size, "ETag": etag}),
        )

    # POSIX attributes as user metadata -------------------------------------------
    keeps_attrs = True

    def set_attributes(self, rel: str, attrs: StoredAttrs) -> None:
        """``x-amz-meta-silt-{mode,uid,gid,mtime-ns}``: the object is copied onto itself
        with the new metadata (S3 cannot change it in place; up to 5 GiB)."""
        a = attrs
        values = {"mode": a.mode, "uid": a.uid, "gid": a.gid, "mtime-ns": a.mtime_ns}
        meta = {f"{META}{k}": str(v) for k, v in values.items() if v is not None}
        if not meta:
            return
        key = self._key(rel)
        with self._errors(rel, "set_attributes"):
            self._call(
                "copy_object",
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                Metadata=meta,
                MetadataDirective="REPLACE",
            )

    def stored_attrs(self, rel: str) -> StoredAttrs | None:
        with self._errors(rel, "status"):
            head = self._head(rel)
        meta = (head or {}).get("Metadata") or {}

        def number(name: str) -> int | None:
            value = meta.get(f"{META}{name}")
            return int(value) if isinstance(value, str) and value.isdigit() else None

        found = StoredAttrs(number("mode"), number("uid"), number("gid"), number("mtime-ns"))
        return None if found == StoredAttrs() else found

    # operations -----------------------------------------------------------
    def status(self, rel: str) -> UfsStatus | None:
        with self._errors(rel, "status"):
            try:
                if rel == "":
                    self.fs.call_s3("head_bucket", Bucket=self.bucket)
                    return UfsStatus("", True, 0, None, "dir")
                head = self._head(rel)
                name = rel.rsplit("/", 1)[-1]
                if head is not None:
                    return self._file_status(
                        name, head["ContentLength"], head.get("LastModified"), head.get("ETag")
                    )
                out = self._call("list_objects_v2", Prefix=self._dir(rel), MaxKeys=1)
            except FileNotFoundError:
                return None
        return UfsStatus(name, True, 0, None, "dir") if out.get("Contents") else None

    def list(self, rel: str) -> list[UfsStatus]:
        prefix = self._dir(rel)
        files: dict[str, UfsStatus] = {}
        dirs: dict[str, UfsStatus] = {}
        marked = False
        kwargs: dict[str, Any] = {"Prefix": prefix, "Delimiter": "/"}
        with self._errors(rel, "list"):
            while True:
                out = self._call("list_objects_v2", **kwargs)
                for c in out.get("Contents", []):
                    name = c["Key"][len(prefix) :]
                    if not name:
                        marked = True  # the directory's own marker
                    elif name not in (".", ".."):
                        files[name] = self._file_status(
                            name, c.get("Size", 0), c.get("LastModified"), c.get("ETag")
                        )
                for p in out.get("CommonPrefixes", []):
                    name = p["Prefix"][len(prefix) :].rstrip("/")
                    if name and "/" not in name and name not in (".", ".."):
                        dirs[name] = UfsStatus(name, True, 0, None, "dir")
                token = out.get("NextContinuationToken")
                if not out.get("IsTruncated") or not token:
                    break
                kwargs["ContinuationToken"] = token
        if rel and not (marked or files or dirs):
            raise FileNotFound("not found in under-storage during list", path=rel)
        # a key 'x' next to keys 'x/...': the file wins, as in status()
        return list(files.values()) + [d for n, d in dirs.items() if n not in files]

    def mkdirs(self, rel: str) -> None:
        parts = rel.split("/") if rel else []
        with self._errors(rel, "mkdir"):
            self._key(rel)
            for i in range(1, len(parts) + 1):
                self._mark("/".join(parts[:i]))

    def open_write(self, rel: str) -> BinaryIO:
        full = self._full(rel)
        if rel == "":
            raise InvalidPath("cannot write the mount root as a file", path=rel)
        with self._errors(rel, "write"):
            f = self.fs.open(full, "wb", block_size=self.part_size)
        return cast(BinaryIO, _Upload(f, rel, self.uri))

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        full = self._full(rel)
        with self._errors(rel, "read"):
            if end > start:
                try:
                    return bytes(self.fs.cat_file(full, start=start, end=end))
                except FileNotFoundError:
                    raise
                except OSError:
                    pass  # e.g. a range starting at or after the end: 416 InvalidRange
            head = self._head(rel)
        if head is None:
            raise FileNotFound("not found in under-storage during read", path=rel)
        if end > start and start < int(head["ContentLength"]):
            raise UfsError("read failed", path=rel)  # the range was valid: a real failure
        return b""

    def move(self, src: str, dst: str) -> None:
        s_full, d_full = self._full(src), self._full(dst)
        with self._errors(src, f"move to {dst}"):
            if src == "" or dst == "":
                raise InvalidArgument("cannot move the mount root", path=src)
            if self._head(src) is not None:
                self.fs.cp_file(s_full, d_full)
                self._call("delete_object", Key=self._key(src))
                self._keep_parent(src)
                return
            self._move_dir(src, dst)

    def _move_dir(self, src: str, dst: str) -> None:
        """Copy + delete object by object: data first (the crash point ``ufs.move_tree.
        partial`` is after the first), then markers, deepest first, the source's own last.
        An interrupted move is finished by merging (``merge_move``) on replay."""
        s_prefix, d_prefix = self._dir(src), self._dir(dst)
        keys = [c["Key"] for c in self._keys(s_prefix)]
        if not keys:
            raise FileNotFound("not found in under-storage during move", path=src)
        self._mark(dst)
        data = [k for k in keys if not k.endswith("/")]
        markers = sorted((k for k in keys if k.endswith("/")), key=len, reverse=True)
        for i, key in enumerate(data):
            target = d_prefix + key[len(s_prefix) :]
            self.fs.cp_file(f"{self.bucket}/{key}", f"{self.bucket}/{target}")
            self._call("delete_object", Key=key)
            if i == 0:
                crashpoints.reach("ufs.move_tree.partial")
        for key in markers:
            self._call("put_object", Key=d_prefix + key[len(s_prefix) :], Body=b"")
            self._call("delete_object", Key=key)
        self._keep_parent(src)

    def delete(self, rel: str, *, recursive: bool = False) -> None:
        with self._errors(rel, "delete"):
            try:
                self._delete(rel, recursive)
            except FileNotFoundError:
                return

    def _delete(self, rel: str, recursive: bool) -> None:
        if self._head(rel) is not None:
            self._call("delete_object", Key=self._key(rel))
            self._keep_parent(rel)
            return
        prefix = self._dir(rel)
        if not recursive:
            out = self._call("list_objects_v2", Prefix=prefix, MaxKeys=2)
            keys = [c["Key"] for c in out.get("Contents", [])]
            if any(k != prefix for k in keys):
                raise DirectoryNotEmpty("directory is not empty", path=rel)
        else:
            keys = [c["Key"] for c in self._keys(prefix)]
        if not keys:
            return  # already gone
        self._delete_keys(keys)
        if rel:
            self._keep_parent(rel)

    def abort_stale_uploads(
        self,
        prefix: str,
        older_than_s: float,
        keep: Callable[[IncompleteUpload], bool] | None = None,
    ) -> int:
        key_prefix = self._dir(prefix)
        uploads: list[dict[str, Any]] = []
        with self._errors(prefix, "list uploads"):
            kwargs: dict[str, Any] = {"Prefix": key_prefix}
            while True:
                out = self._call("list_multipart_uploads", **kwargs)
                uploads.extend(out.get("Uploads", []))
                if not out.get("IsTruncated"):
                    break
                kwargs["KeyMarker"] = out.get("NextKeyMarker", "")
                kwargs["UploadIdMarker"] = out.get("NextUploadIdMarker", "")
        cutoff = time.time() - older_than_s
        aborted = 0
        for u in uploads:
            upload = IncompleteUpload(self._rel_of(u["Key"]), _epoch(u.get("Initiated")))
            if upload.initiated is not None and upload.initiated > cutoff:
                continue
            if keep is not None and keep(upload):
                continue
            with self._errors(upload.rel, "abort upload"):
                try:
                    self._call("abort_multipart_upload", Key=u["Key"], UploadId=u["UploadId"])
                except FileNotFoundError:
                    continue  # completed or aborted meanwhile
            aborted += 1
        return aborted
