"""Bucket operations: ListBuckets, CreateBucket (mkdir of a top-level directory),
HeadBucket, DeleteBucket (BucketNotEmpty), GetBucketLocation, and the few bucket
configuration reads that have a truthful answer (versioning: never enabled; ACL: the
owner's).  Every other configuration is NotImplemented."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from siltfs.errors import DirectoryNotEmpty, FileExists
from siltfs.s3gw import keys, xml
from siltfs.s3gw.conditions import iso_date
from siltfs.s3gw.context import Call, xml_response
from siltfs.s3gw.errors import S3Error
from siltfs.s3gw.store import Store

OWNER_ID = "siltfs"


def owner(call: Call) -> dict[str, str]:
    return {"ID": OWNER_ID, "DisplayName": call.auth.key.access_key}


async def list_buckets(store: Store, call: Call) -> Response:
    entries = await run_in_threadpool(store.children, "/")
    buckets = [
        {"Name": e.name, "CreationDate": iso_date(e.mtime)}
        for e in sorted(entries, key=lambda e: e.name)
        if e.is_dir and keys.is_bucket_name(e.name)
    ]
    return xml_response(
        "ListAllMyBucketsResult", {"Owner": owner(call), "Buckets": {"Bucket": buckets}}
    )


async def create_bucket(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    call.require_write()
    bucket = keys.check_bucket(call.bucket)
    path = keys.bucket_path(bucket)
    info = await run_in_threadpool(store.stat, path)
    if info is not None:
        raise _already_owned(bucket)
    try:
        await run_in_threadpool(store.mkdir, path)
    except FileExists:
        raise _already_owned(bucket) from None
    return Response(b"", 200, headers={"Location": f"/{bucket}"})


def _already_owned(bucket: str) -> S3Error:
    return S3Error(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        f"/{bucket}",
        BucketName=bucket,
    )


async def head_bucket(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    await run_in_threadpool(store.bucket, keys.check_bucket(call.bucket))
    return Response(b"", 200, headers={"x-amz-bucket-region": call.region})


async def delete_bucket(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    call.require_write()
    bucket = keys.check_bucket(call.bucket)
    await run_in_threadpool(store.bucket, bucket)
    try:
        await run_in_threadpool(store.remove_dir, keys.bucket_path(bucket))
    except DirectoryNotEmpty:
        raise S3Error(
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty",
            409,
            f"/{bucket}",
            BucketName=bucket,
        ) from None
    return Response(b"", 204)


async def get_location(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    await run_in_threadpool(store.bucket, call.bucket)
    # us-east-1 is the empty LocationConstraint in S3
    region = "" if call.region == "us-east-1" else call.region
    return Response(
        xml.text_document("LocationConstraint", region), 200, media_type="application/xml"
    )


async def get_versioning(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    await run_in_threadpool(store.bucket, call.bucket)
    return xml_response("VersioningConfiguration", {})


async def get_acl(store: Store, call: Call) -> Response:
    assert call.bucket is not None
    await run_in_threadpool(store.bucket, call.bucket)
    grant = {
        "Grantee": {"ID": OWNER_ID, "DisplayName": call.auth.key.access_key},
        "Permission": "FULL_CONTROL",
    }
    return xml_response(
        "AccessControlPolicy", {"Owner": owner(call), "AccessControlList": {"Grant": grant}}
    )
