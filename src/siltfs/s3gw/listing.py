"""ListObjects (v1, marker) and ListObjectsV2 (continuation token, start-after,
fetch-owner): keys in S3 order (UTF-8 byte order), prefix, any delimiter, common
prefixes, max-keys, encoding-type=url.

The namespace is a tree; S3 is a sorted key space.  Walking each directory's children
sorted by *key* -- a directory's key is its name plus ``/`` -- yields every key in
global order: all keys below directory ``d`` start with ``d/``, and no sibling name
compares inside that range.  The walk descends only into directories that can hold
keys of the prefix after the start key, and a directory whose key already contains the
delimiter after the prefix is one common prefix, not descended into.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from siltfs.model.inode import FileInfo
from siltfs.s3gw import keys
from siltfs.s3gw.buckets import owner
from siltfs.s3gw.conditions import iso_date
from siltfs.s3gw.context import Call, xml_response
from siltfs.s3gw.errors import S3Error, invalid_argument
from siltfs.s3gw.meta import MARKER, default_etag
from siltfs.s3gw.store import EMPTY_MD5, Store

MAX_KEYS = 1000


@dataclass
class Item:
    key: str  # a key, or a common prefix
    info: FileInfo | None  # None: a common prefix


def _sort_key(info: FileInfo) -> str:
    return info.name + "/" if info.is_dir else info.name


def walk(store: Store, bucket: str, prefix: str, delimiter: str, start: str) -> Iterator[Item]:
    """Keys and common prefixes of *bucket* after *start*, in order."""
    last_prefix: str | None = None
    for item in _walk(store, keys.bucket_path(bucket), "", prefix, delimiter, start):
        if item.info is None:
            if item.key == last_prefix:
                continue
            last_prefix = item.key
        yield item


def _group(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    i = key.find(delimiter, len(prefix))
    return None if i < 0 else key[: i + len(delimiter)]


def _walk(
    store: Store, path: str, base: str, prefix: str, delimiter: str, start: str
) -> Iterator[Item]:
    for info in sorted(store.children(path), key=_sort_key):
        key = base + _sort_key(info)
        if info.is_dir:
            if not (key.startswith(prefix) or prefix.startswith(key)):
                continue
            if start and key < start and not start.startswith(key):
                continue  # every key below sorts before the start
            group = _group(key, prefix, delimiter) if key.startswith(prefix) else None
            if group is not None:
                if group > start:
                    yield Item(group, None)
                continue
            if key.startswith(prefix) and key > start:
                if store.dir_state(info.path) == MARKER:
                    yield Item(key, info)
            yield from _walk(store, info.path, key, prefix, delimiter, start)
        else:
            if not key.startswith(prefix) or key <= start:
                continue
            group = _group(key, prefix, delimiter)
            if group is not None:
                if group > start:
                    yield Item(group, None)
                continue
            yield Item(key, info)


def page(
    store: Store, bucket: str, prefix: str, delimiter: str, start: str, max_keys: int
) -> tuple[list[Item], bool]:
    """Up to *max_keys* items and whether more follow."""
    store.bucket(bucket)
    out: list[Item] = []
    it = walk(store, bucket, prefix, delimiter, start)
    for item in it:
        if len(out) == max_keys:
            return out, True
        out.append(item)
    return out, False


def _contents(
    store: Store, items: list[Item], enc: Any, call: Call, with_owner: bool
) -> list[dict[str, Any]]:
    out = []
    for item in items:
        info = item.info
        if info is None:
            continue
        if info.is_dir:
            etag, size = EMPTY_MD5, 0
        else:
            meta = store.object_meta(info.path, info)
            etag, size = (meta.etag if meta else default_etag(info)), info.length
        entry: dict[str, Any] = {
            "Key": enc(item.key),
            "LastModified": iso_date(info.mtime),
            "ETag": f'"{etag}"',
            "Size": size,
            "StorageClass": "STANDARD",
        }
        if with_owner:
            entry["Owner"] = owner(call)
        out.append(entry)
    return out


def _encoder(call: Call) -> Any:
    kind = call.query.get("encoding-type")
    if kind is None:
        return lambda s: s
    if kind != "url":
        raise invalid_argument(f"Invalid Encoding Method specified in Request: {kind}")
    return lambda s: quote(s, safe="/")


def _common(items: list[Item], enc: Any) -> list[dict[str, str]]:
    return [{"Prefix": enc(i.key)} for i in items if i.info is None]


def _args(call: Call) -> tuple[str, str, int]:
    prefix = call.query.get("prefix", "")
    delimiter = call.query.get("delimiter", "")
    max_keys = call.int_param("max-keys", MAX_KEYS, 0, MAX_KEYS)
    return prefix, delimiter, max_keys


async def list_v1(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    prefix, delimiter, max_keys = _args(call)
    marker = call.query.get("marker", "")
    enc = _encoder(call)
    items, truncated = await run_in_threadpool(
        page, store, call.bucket, prefix, delimiter, marker, max_keys
    )
    contents = await run_in_threadpool(_contents, store, items, enc, call, True)
    tree: dict[str, Any] = {
        "Name": call.bucket,
        "Prefix": enc(prefix),
        "Marker": enc(marker),
        "MaxKeys": max_keys,
        "Delimiter": enc(delimiter) if delimiter else None,
        "IsTruncated": truncated,
        "NextMarker": enc(items[-1].key) if truncated and delimiter and items else None,
        "EncodingType": call.query.get("encoding-type"),
        "Contents": contents,
        "CommonPrefixes": _common(items, enc),
    }
    return xml_response("ListBucketResult", tree)


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii")


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect") from exc


async def list_v2(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    prefix, delimiter, max_keys = _args(call)
    token = call.query.get("continuation-token")
    start_after = call.query.get("start-after", "")
    start = max(start_after, _untoken(token)) if token else start_after
    enc = _encoder(call)
    with_owner = call.query.get("fetch-owner", "").lower() == "true"
    items, truncated = await run_in_threadpool(
        page, store, call.bucket, prefix, delimiter, start, max_keys
    )
    contents = await run_in_threadpool(_contents, store, items, enc, call, with_owner)
    tree: dict[str, Any] = {
        "Name": call.bucket,
        "Prefix": enc(prefix),
        "Delimiter": enc(delimiter) if delimiter else None,
        "MaxKeys": max_keys,
        "EncodingType": call.query.get("encoding-type"),
        "KeyCount": len(items),
        "ContinuationToken": token,
        "StartAfter": enc(start_after) if start_after else None,
        "IsTruncated": truncated,
        "NextContinuationToken": _token(items[-1].key) if truncated and items else None,
        "Contents": contents,
        "CommonPrefixes": _common(items, enc),
    }
    return xml_response("ListBucketResult", tree)
