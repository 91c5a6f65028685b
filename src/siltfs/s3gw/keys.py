"""Bucket names and object keys -> namespace paths, checked before anything changes.

A bucket is a top-level directory ``/<bucket>``; key ``a/b/c`` is the path
``/<bucket>/a/b/c``.  A key ending in ``/`` (``a/b/``) is a directory marker: the
directory itself.  Keys the namespace cannot hold are refused: longer than 1024 bytes
(KeyTooLongError), NUL, empty segments (``a//b``), ``.`` or ``..`` segments, a segment
longer than a name may be (InvalidArgument).
"""

from __future__ import annotations

import re

from siltfs.model import paths
from siltfs.s3gw.errors import S3Error, invalid_argument

MAX_KEY = 1024
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def is_bucket_name(name: str) -> bool:
    """S3's bucket naming rules (3-63 of ``a-z 0-9 . -``, no ``..``, not an IP address);
    top-level directories with other names are not buckets (the gateway's own hidden
    ``/.silt-s3*`` directories among them)."""
    return bool(_BUCKET.match(name)) and ".." not in name and not _IP.match(name)


def check_bucket(name: str) -> str:
    if not is_bucket_name(name):
        raise S3Error(
            "InvalidBucketName",
            "The specified bucket is not valid.",
            400,
            f"/{name}",
            BucketName=name,
        )
    return name


def bucket_path(bucket: str) -> str:
    return "/" + bucket


def check_key(key: str, bucket: str) -> str:
    """*key* if the namespace can hold it (see the module docstring)."""
    resource = f"/{bucket}/{key}"
    if not key:
        raise invalid_argument("the object key is empty", resource)
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY:
        raise S3Error(
            "KeyTooLongError", f"Your key is too long (over {MAX_KEY} bytes).", 400, resource[:120]
        )
    if "\x00" in key:
        raise invalid_argument(
            "the object key contains a NUL character", resource.replace("\x00", "\\0")
        )
    body = key[:-1] if key.endswith("/") else key
    for segment in body.split("/"):
        if segment == "":
            raise invalid_argument(
                f"the key {key!r} has an empty segment ('//' or a leading '/')", resource
            )
        if segment in (".", ".."):
            raise invalid_argument(f"the key {key!r} has a '{segment}' segment", resource)
        if len(segment.encode("utf-8", "surrogatepass")) > paths.MAX_NAME_BYTES:
            raise invalid_argument(
                f"a segment of the key is longer than {paths.MAX_NAME_BYTES} bytes", resource[:120]
            )
    try:
        paths.validate(object_path(bucket, key))
    except ValueError as exc:
        raise invalid_argument(f"the key cannot be stored: {exc}", resource[:120]) from exc
    return key


def object_path(bucket: str, key: str) -> str:
    """The namespace path of *key* (a marker key ``a/`` is the directory ``a``)."""
    return f"/{bucket}/{key.rstrip('/')}" if key.endswith("/") else f"/{bucket}/{key}"


def is_marker(key: str) -> bool:
    return key.endswith("/")


def key_of(bucket: str, path: str, is_dir: bool) -> str:
    """The key of namespace *path* in *bucket* (a directory's key ends with ``/``)."""
    rel = path[len(bucket) + 2 :]
    return rel + "/" if is_dir else rel
