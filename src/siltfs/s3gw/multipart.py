"""Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
ListMultipartUploads.

Uploads in progress live OUTSIDE every bucket, under the hidden top-level directory
``/.silt-s3-uploads/<upload id>/`` (not a bucket name, so never listed): ``upload.json``
(bucket, key, metadata, write type, checksum algorithm) and one file per part,
``part-00001`` ..., each with its MD5 and checksums as metadata.  Parts are written with
the upload's write type, so an acknowledged part is as durable as the object will be.
Complete checks the part list (order, ETags, 5 MiB minimum but for the last), then
streams the parts in order into the object in ONE write and deletes the upload's
directory.  No partial object is ever visible under the key.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from siltfs.model.enums import WriteType
from siltfs.s3gw import checksums, ingest, keys, xml
from siltfs.s3gw.buckets import owner
from siltfs.s3gw.conditions import check_conditions, iso_date
from siltfs.s3gw.context import Call, xml_response
from siltfs.s3gw.errors import S3Error, invalid_argument, no_such_upload
from siltfs.s3gw.meta import ObjectMeta
from siltfs.s3gw.objects import copy_source, request_meta, spool_version
from siltfs.s3gw.store import Store

UPLOADS = "/.silt-s3-uploads"
MIN_PART = 5 * 1024 * 1024
MAX_PARTS = 10000
READ_CHUNK = 1024 * 1024
_ID = re.compile(r"^[0-9a-f]{32}$")


def _dir(upload_id: str) -> str:
    return f"{UPLOADS}/{upload_id}"


def _part_path(upload_id: str, number: int) -> str:
    return f"{_dir(upload_id)}/part-{number:05d}"


def _record(store: Store, call: Call) -> dict[str, Any]:
    """The upload named by ``uploadId`` for this bucket and key (NoSuchUpload otherwise)."""
    upload_id = call.query.get("uploadId", "")
    if not _ID.match(upload_id):
        raise no_such_upload(upload_id)
    data = store.read_small(f"{_dir(upload_id)}/upload.json")
    if data is None:
        raise no_such_upload(upload_id)
    record: dict[str, Any] = json.loads(data)
    if record.get("bucket") != call.bucket or record.get("key") != call.key:
        raise no_such_upload(upload_id)
    record["id"] = upload_id
    return record


def _part_number(call: Call) -> int:
    value = call.query.get("partNumber", "")
    if not value.isdigit() or not 1 <= int(value) <= MAX_PARTS:
        raise invalid_argument(
            f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive", call.resource
        )
    return int(value)


async def create(store: Store, call: Call) -> Response:
    assert call.bucket is not None and call.key is not None
    call.require_write()
    bucket, key = call.bucket, keys.check_key(call.key, call.bucket)
    if keys.is_marker(key):
        raise invalid_argument(
            "a key ending in '/' is a directory; it holds no bytes", call.resource
        )
    write_type = call.write_type()
    stored, user = request_meta(call.headers)
    algorithm = call.headers.get("x-amz-checksum-algorithm")
    ctype = (call.headers.get("x-amz-checksum-type") or "COMPOSITE").upper()
    if ctype != "COMPOSITE":
        raise S3Error("InvalidRequest", f"checksum type {ctype} is not supported (COMPOSITE only)")
    await run_in_threadpool(store.prepare_write, bucket, key)
    upload_id = secrets.token_hex(16)
    record = {
        "bucket": bucket,
        "key": key,
        "initiated": time.time(),
        "headers": stored,
        "user": user,
        "write_type": write_type.value,
        "checksum_algorithm": checksums.algorithm(algorithm) if algorithm else None,
    }
    data = json.dumps(record).encode("utf-8")
    await run_in_threadpool(store.write_small, f"{_dir(upload_id)}/upload.json", data, write_type)
    headers = {"x-amz-checksum-algorithm": algorithm.upper()} if algorithm else {}
    if algorithm:
        headers["x-amz-checksum-type"] = "COMPOSITE"
    tree = {"Bucket": bucket, "Key": key, "UploadId": upload_id}
    return xml_response("InitiateMultipartUploadResult", tree, headers=headers)


def _write_type(record: dict[str, Any]) -> WriteType:
    return WriteType.parse(record["write_type"])  # type: ignore[return-value]


async def upload_part(store: Store, call: Call) -> Response:
    call.require_write()
    number = _part_number(call)
    record = await run_in_threadpool(_record, store, call)
    if "x-amz-copy-source" in call.headers:
        return await _upload_part_copy(store, call, record, number)
    body = await ingest.receive(call.body, call.headers, call.auth)
    try:
        meta = ObjectMeta(etag=body.md5, checksums=body.checksums, md5=body.md5)
        path = _part_path(record["id"], number)
        await run_in_threadpool(store.write_file, path, _write_type(record), meta, body.content())
    finally:
        body.close()
    headers = {"ETag": f'"{body.md5}"'}
    headers.update({f"x-amz-checksum-{k}": v for k, v in body.checksums.items()})
    return Response(b"", 200, headers=headers)


_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def _copy_range(spec: str | None, size: int) -> tuple[int, int]:
    """``x-amz-copy-source-range: bytes=first-last`` -> [first, last + 1) within *size*."""
    if spec is None:
        return 0, size
    m = _RANGE.match(spec.strip())
    if m is None or int(m.group(1)) > int(m.group(2)):
        raise invalid_argument(f"x-amz-copy-source-range {spec!r} must be bytes=first-last")
    first, last = int(m.group(1)), int(m.group(2))
    if last >= size:
        raise S3Error("InvalidRange", f"the range {spec!r} is outside the {size}-byte source", 416)
    return first, last + 1


async def _upload_part_copy(
    store: Store, call: Call, record: dict[str, Any], number: int
) -> Response:
    src_bucket, src_key = copy_source(call)
    version = await run_in_threadpool(store.version, src_bucket, src_key, open_stream=True)
    try:
        check_conditions(call.headers, version.etag, version.info.mtime, "x-amz-copy-source-if-")
        span = _copy_range(call.headers.get("x-amz-copy-source-range"), version.info.length)
    except BaseException:
        await run_in_threadpool(version.close)
        raise
    body = await run_in_threadpool(spool_version, version, *span)
    try:
        algorithm = record.get("checksum_algorithm")
        sums: dict[str, str] = {}
        if algorithm:
            h = checksums.hasher(algorithm)
            for chunk in body.chunks():
                h.update(chunk)
            sums[algorithm] = h.b64()
        meta = ObjectMeta(etag=body.md5, checksums=sums, md5=body.md5)
        path = _part_path(record["id"], number)
        await run_in_threadpool(store.write_file, path, _write_type(record), meta, body.content())
    finally:
        body.close()
    part = await run_in_threadpool(store.file_version, path)
    mtime = part.info.mtime if part else time.time()
    result: dict[str, Any] = {"ETag": f'"{body.md5}"', "LastModified": iso_date(mtime)}
    for name, value in sums.items():
        result[f"Checksum{name.upper()}"] = value
    return xml_response("CopyPartResult", result)


def _chosen_parts(
    store: Store, call: Call, record: dict[str, Any], doc: Any
) -> list[tuple[int, str, ObjectMeta, int]]:
    """(number, path, metadata, size) of each part named by the Complete document, checked."""
    chosen = []
    last = 0
    elements = doc.findall("Part")
    if not elements:
        raise S3Error("MalformedXML", "the <CompleteMultipartUpload> document names no <Part>")
    for el in elements:
        number_text = xml.child_text(el, "PartNumber")
        etag = (xml.child_text(el, "ETag") or "").strip().strip('"')
        if number_text is None or not number_text.strip().isdigit():
            raise S3Error("MalformedXML", "a <Part> has no valid <PartNumber>")
        number = int(number_text)
        if number <= last:
            raise S3Error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. "
                "The parts list must be specified in order by part number.",
            )
        last = number
        if not 1 <= number <= MAX_PARTS:
            raise invalid_argument(f"Part number must be between 1 and {MAX_PARTS}")
        path = _part_path(record["id"], number)
        part = store.file_version(path)
        if part is None or part.etag != etag:
            raise S3Error(
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may not have "
                "been uploaded, or the specified entity tag may not match the part's entity tag.",
                400,
                UploadId=record["id"],
                PartNumber=str(number),
                ETag=etag,
            )
        algorithm = record.get("checksum_algorithm")
        if algorithm:
            given = xml.child_text(el, f"Checksum{algorithm.upper()}")
            if given is not None and given.strip() != part.meta.checksums.get(algorithm):
                raise S3Error(
                    "InvalidPart", f"the {algorithm.upper()} of part {number} does not match"
                )
        chosen.append((number, path, part.meta, part.info.length))
    for number, _, _, size in chosen[:-1]:
        if size < MIN_PART:
            raise S3Error(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
                400,
                PartNumber=str(number),
                MinSizeAllowed=str(MIN_PART),
                ProposedSize=str(size),
            )
    return chosen


def _assemble(store: Store, paths: list[str], md5: Any) -> Iterator[bytes]:
    for path in paths:
        with store.open_read(path) as f:
            while chunk := f.read(READ_CHUNK):
                md5.update(chunk)
                yield chunk


def _complete(store: Store, call: Call, doc: Any) -> tuple[ObjectMeta, dict[str, Any]]:
    assert call.bucket is not None and call.key is not None
    record = _record(store, call)
    chosen = _chosen_parts(store, call, record, doc)
    md5s = b"".join(bytes.fromhex(meta.etag) for _, _, meta, _ in chosen)
    etag = f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"
    algorithm = record.get("checksum_algorithm")
    sums: dict[str, str] = {}
    if algorithm:
        values = [meta.checksums.get(algorithm) for _, _, meta, _ in chosen]
        if all(values):
            sums[algorithm] = checksums.composite(algorithm, [v for v in values if v])
    meta = ObjectMeta(
        etag=etag,
        headers=record.get("headers") or {},
        user=record.get("user") or {},
        checksums=sums,
        checksum_type="COMPOSITE" if sums else None,
        parts=len(chosen),
    )
    missing = store.prepare_write(call.bucket, call.key)
    whole = hashlib.md5()
    chunks = _assemble(store, [path for _, path, _, _ in chosen], whole)
    # the MD5 of the whole is known at the end: the metadata is bound to it right after
    # the write (until then it counts for nothing, and the object's ETag is that MD5)
    store.write(call.bucket, call.key, meta, chunks, _write_type(record), missing)
    meta.md5 = whole.hexdigest()
    store.bind_meta(call.bucket, call.key, meta)
    store.remove_tree(_dir(record["id"]))
    return meta, record


async def complete(store: Store, call: Call) -> Response:
    assert call.bucket is not None and call.key is not None
    call.require_write()
    keys.check_key(call.key, call.bucket)
    data = await ingest.read_document(call.body, call.headers, call.auth, xml.MAX_BODY)
    doc = xml.parse(data, "CompleteMultipartUpload")
    meta, _ = await run_in_threadpool(_complete, store, call, doc)
    tree: dict[str, Any] = {
        "Location": f"/{call.bucket}/{call.key}",
        "Bucket": call.bucket,
        "Key": call.key,
        "ETag": f'"{meta.etag}"',
    }
    for name, value in meta.checksums.items():
        tree[f"Checksum{name.upper()}"] = value
    if meta.checksums:
        tree["ChecksumType"] = "COMPOSITE"
    return xml_response("CompleteMultipartUploadResult", tree)


async def abort(store: Store, call: Call) -> Response:
    call.require_write()
    record = await run_in_threadpool(_record, store, call)
    await run_in_threadpool(store.remove_tree, _dir(record["id"]))
    return Response(b"", 204)


def _parts(store: Store, upload_id: str) -> list[tuple[int, Any]]:
    out = []
    for info in store.children(_dir(upload_id)):
        if info.is_dir or not info.name.startswith("part-"):
            continue
        part = store.file_version(info.path)
        if part is not None:
            out.append((int(info.name[5:]), part))
    return sorted(out, key=lambda p: p[0])


async def list_parts(store: Store, call: Call) -> Response:
    record = await run_in_threadpool(_record, store, call)
    marker = call.int_param("part-number-marker", 0, 0, MAX_PARTS)
    max_parts = call.int_param("max-parts", 1000, 0, 1000)
    parts = [p for p in await run_in_threadpool(_parts, store, record["id"]) if p[0] > marker]
    shown, truncated = parts[:max_parts], len(parts) > max_parts
    items = []
    for number, part in shown:
        item: dict[str, Any] = {
            "PartNumber": number,
            "LastModified": iso_date(part.info.mtime),
            "ETag": f'"{part.etag}"',
            "Size": part.info.length,
        }
        for name, value in part.meta.checksums.items():
            item[f"Checksum{name.upper()}"] = value
        items.append(item)
    tree: dict[str, Any] = {
        "Bucket": call.bucket,
        "Key": call.key,
        "UploadId": record["id"],
        "Initiator": owner(call),
        "Owner": owner(call),
        "StorageClass": "STANDARD",
        "PartNumberMarker": marker,
        "NextPartNumberMarker": shown[-1][0] if shown else None,
        "MaxParts": max_parts,
        "IsTruncated": truncated,
        "Part": items,
        "ChecksumAlgorithm": (record.get("checksum_algorithm") or "").upper() or None,
    }
    return xml_response("ListPartsResult", tree)


def _uploads(store: Store, bucket: str) -> list[dict[str, Any]]:
    out = []
    top = store.stat(UPLOADS)
    for info in store.children(UPLOADS) if top is not None else []:
        data = store.read_small(f"{info.path}/upload.json")
        if data is None or not _ID.match(info.name):
            continue
        record = json.loads(data)
        if record.get("bucket") == bucket:
            record["id"] = info.name
            out.append(record)
    return sorted(out, key=lambda r: (r["key"], r["initiated"]))


async def list_uploads(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    await run_in_threadpool(store.bucket, call.bucket)
    prefix = call.query.get("prefix", "")
    key_marker = call.query.get("key-marker", "")
    max_uploads = call.int_param("max-uploads", 1000, 0, 1000)
    uploads = [
        r
        for r in await run_in_threadpool(_uploads, store, call.bucket)
        if r["key"].startswith(prefix) and r["key"] > key_marker
    ]
    shown, truncated = uploads[:max_uploads], len(uploads) > max_uploads
    items = [
        {
            "Key": r["key"],
            "UploadId": r["id"],
            "Initiator": owner(call),
            "Owner": owner(call),
            "StorageClass": "STANDARD",
            "Initiated": iso_date(r["initiated"]),
        }
        for r in shown
    ]
    tree: dict[str, Any] = {
        "Bucket": call.bucket,
        "KeyMarker": key_marker,
        "UploadIdMarker": "",
        "NextKeyMarker": shown[-1]["key"] if truncated else None,
        "NextUploadIdMarker": shown[-1]["id"] if truncated else None,
        "Prefix": prefix,
        "MaxUploads": max_uploads,
        "IsTruncated": truncated,
        "Upload": items,
    }
    return xml_response("ListMultipartUploadsResult", tree)
