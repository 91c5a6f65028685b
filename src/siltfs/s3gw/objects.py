"""Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects,
CopyObject.  Checks come first (key, bucket, conditions, the namespace's shape), then the
body is received and verified, then siltfs is written once; the answer is sent after the
siltfs stream is closed, so the object is as durable as its write type makes it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from siltfs.s3gw import ingest, keys, xml
from siltfs.s3gw.conditions import check_conditions, http_date, iso_date, parse_range
from siltfs.s3gw.context import STORED_HEADERS, WRITE_TYPE_HEADER, Call, xml_response
from siltfs.s3gw.errors import S3Error, invalid_argument, not_implemented
from siltfs.s3gw.meta import ObjectMeta
from siltfs.s3gw.store import Store, Version

READ_CHUNK = 1024 * 1024
MAX_USER_META = 2048
MAX_DELETE = 1000
OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def request_meta(headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(stored Content-*/Cache-Control/Expires headers, x-amz-meta-* by name) of a write."""
    stored: dict[str, str] = {}
    for name in STORED_HEADERS:
        value = headers.get(name)
        if name == "content-encoding" and value is not None:
            parts = [
                p.strip() for p in value.split(",") if p.strip() and p.strip() != "aws-chunked"
            ]
            value = ",".join(parts) or None
        if value is not None:
            stored[name] = value
    user = {
        name[len("x-amz-meta-") :]: value
        for name, value in headers.items()
        if name.startswith("x-amz-meta-") and name != WRITE_TYPE_HEADER
    }
    if sum(len(k) + len(v) for k, v in user.items()) > MAX_USER_META:
        raise S3Error("MetadataTooLarge", f"user metadata is larger than {MAX_USER_META} bytes")
    return stored, user


def _checksum_headers(meta: ObjectMeta) -> dict[str, str]:
    out = {f"x-amz-checksum-{name}": value for name, value in meta.checksums.items()}
    if out and meta.checksum_type:
        out["x-amz-checksum-type"] = meta.checksum_type
    return out


def object_headers(version: Version, call: Call) -> dict[str, str]:
    meta = version.meta
    headers = {
        "ETag": f'"{meta.etag}"',
        "Last-Modified": http_date(version.info.mtime),
        "Accept-Ranges": "bytes",
        "Content-Type": "binary/octet-stream",
    }
    for name, value in meta.headers.items():
        headers["-".join(p.capitalize() for p in name.split("-"))] = value
    for name, value in meta.user.items():
        headers[f"x-amz-meta-{name}"] = value
    for param, header in OVERRIDES.items():
        if param in call.query:
            headers[header] = call.query[param]
    if call.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
        headers.update(_checksum_headers(meta))
    if meta.parts:
        headers["x-amz-mp-parts-count"] = str(meta.parts)
    return headers


async def put_object(store: Store, call: Call) -> Response:
    assert call.bucket is not None and call.key is not None
    call.require_write()
    bucket, key = call.bucket, keys.check_key(call.key, call.bucket)
    if "x-amz-copy-source" in call.headers:
        return await copy_object(store, call)
    write_type = call.write_type()
    stored, user = request_meta(call.headers)
    missing = await run_in_threadpool(store.prepare_write, bucket, key)
    body = await ingest.receive(call.body, call.headers, call.auth)
    try:
        meta = ObjectMeta(
            etag=body.md5,
            headers=stored,
            user=user,
            checksums=body.checksums,
            checksum_type="FULL_OBJECT" if body.checksums else None,
            md5=body.md5,
        )
        await run_in_threadpool(store.write, bucket, key, meta, body.content(), write_type, missing)
    finally:
        body.close()
    return Response(b"", 200, headers={"ETag": f'"{body.md5}"', **_checksum_headers(meta)})


def _read(version: Version, start: int, end: int) -> Iterator[bytes]:
    stream = version.stream
    assert stream is not None
    try:
        if start:
            stream.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = stream.read(min(READ_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        version.close()


async def get_object(store: Store, call: Call, head: bool = False) -> Response:
    assert call.bucket is not None and call.key is not None
    bucket, key = call.bucket, keys.check_key(call.key, call.bucket)
    if "partNumber" in call.query:
        raise not_implemented("GetObject/HeadObject by partNumber")
    version = await run_in_threadpool(store.version, bucket, key, open_stream=not head)
    try:
        check_conditions(call.headers, version.etag, version.info.mtime)
        size = version.info.length if not version.info.is_dir else 0
        span = parse_range(call.headers.get("range"), size)
        headers = object_headers(version, call)
    except BaseException:
        await run_in_threadpool(version.close)
        raise
    start, end = span if span is not None else (0, size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        for name in [h for h in headers if h.startswith("x-amz-checksum-")]:
            del headers[name]  # the checksum is the whole object's
    if head or version.stream is None:
        await run_in_threadpool(version.close)
        return Response(b"", status, headers=headers)
    if end - start <= READ_CHUNK:  # small: one read, one send
        body = await run_in_threadpool(lambda: b"".join(_read(version, start, end)))
        return Response(body, status, headers=headers)
    return StreamingResponse(_read(version, start, end), status, headers=headers)


async def delete_object(store: Store, call: Call) -> Response:
    assert call.bucket is not None and call.key is not None
    call.require_write()
    key = keys.check_key(call.key, call.bucket)
    await run_in_threadpool(store.bucket, call.bucket)
    await run_in_threadpool(store.delete, call.bucket, key)
    return Response(b"", 204)


async def delete_objects(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    call.require_write()
    bucket = call.bucket
    doc = xml.parse(
        await ingest.read_document(call.body, call.headers, call.auth, xml.MAX_BODY), "Delete"
    )
    quiet = (xml.child_text(doc, "Quiet") or "").strip().lower() == "true"
    objects = doc.findall("Object")
    if not objects:
        raise S3Error("MalformedXML", "the <Delete> document names no <Object>")
    if len(objects) > MAX_DELETE:
        raise S3Error("MalformedXML", f"a DeleteObjects request names at most {MAX_DELETE} keys")
    await run_in_threadpool(store.bucket, bucket)
    deleted: list[xml.Tree] = []
    errors: list[xml.Tree] = []
    for obj in objects:
        key = xml.child_text(obj, "Key")
        if key is None:
            raise S3Error("MalformedXML", "an <Object> has no <Key>")
        try:
            keys.check_key(key, bucket)
            await run_in_threadpool(store.delete, bucket, key)
        except S3Error as err:
            errors.append({"Key": key, "Code": err.code, "Message": err.message})
            continue
        if not quiet:
            deleted.append({"Key": key})
    return xml_response("DeleteResult", {"Deleted": deleted, "Error": errors})


def copy_source(call: Call) -> tuple[str, str]:
    """(bucket, key) of ``x-amz-copy-source`` (``[/]bucket/key[?versionId=null]``)."""
    raw = call.headers["x-amz-copy-source"]
    source, _, version = raw.partition("?")
    if version and version not in ("versionId=null", "versionId="):
        raise not_implemented("copying a version (the gateway keeps no versions)")
    source = unquote(source).lstrip("/")
    bucket, sep, key = source.partition("/")
    if not sep or not key:
        raise invalid_argument(f"x-amz-copy-source must be bucket/key, not {raw!r}", call.resource)
    return keys.check_bucket(bucket), keys.check_key(key, bucket)


def spool_version(version: Version, start: int, end: int) -> ingest.Body:
    """Bytes [start, end) of *version* in a local spool, with their MD5: a copy reads its
    source completely before it writes (a failed read must not commit half an object)."""
    import hashlib

    md5 = hashlib.md5()
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=ingest.SPOOL_MEMORY)  # type: ignore[assignment]
    try:
        for chunk in _read(version, start, end) if version.stream is not None else ():
            md5.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    return ingest.Body(spool, end - start, md5.hexdigest())


async def copy_object(store: Store, call: Call) -> Response:
    assert call.bucket is not None and call.key is not None
    bucket, key = call.bucket, call.key
    src_bucket, src_key = copy_source(call)
    directive = call.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise invalid_argument(f"x-amz-metadata-directive must be COPY or REPLACE, not {directive}")
    if (src_bucket, src_key) == (bucket, key) and directive == "COPY":
        raise S3Error(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect "
            "location or encryption attributes.",
        )
    write_type = call.write_type()
    stored, user = request_meta(call.headers) if directive == "REPLACE" else ({}, {})
    version = await run_in_threadpool(store.version, src_bucket, src_key, open_stream=True)
    try:
        check_conditions(call.headers, version.etag, version.info.mtime, "x-amz-copy-source-if-")
        missing = await run_in_threadpool(store.prepare_write, bucket, key)
    except BaseException:
        await run_in_threadpool(version.close)
        raise
    src = version.meta
    size = 0 if version.info.is_dir else version.info.length
    body = await run_in_threadpool(spool_version, version, 0, size)
    try:
        meta = ObjectMeta(
            etag=src.etag,
            headers=src.headers if directive == "COPY" else stored,
            user=src.user if directive == "COPY" else user,
            checksums=src.checksums,
            checksum_type=src.checksum_type,
            parts=src.parts,
            md5=body.md5,
        )
        await run_in_threadpool(store.write, bucket, key, meta, body.content(), write_type, missing)
    finally:
        body.close()
    new = await run_in_threadpool(store.version, bucket, key, open_stream=False)
    result: dict[str, Any] = {"LastModified": iso_date(new.info.mtime), "ETag": f'"{meta.etag}"'}
    for name, value in meta.checksums.items():
        result[f"Checksum{name.upper()}"] = value
    return xml_response("CopyObjectResult", result)
