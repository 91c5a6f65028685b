"""boto3 against a real ``silt s3``: buckets, objects, metadata, ranges, conditionals."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from siltfs.client.remote import RemoteFileSystem


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_put_get_roundtrip_with_metadata(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    data = b"hello gateway" * 1000
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/sub/obj.txt",
        Body=data,
        ContentType="text/plain",
        CacheControl="max-age=60",
        ContentDisposition="attachment",
        ContentLanguage="en",
        Metadata={"color": "blue", "n": "1"},
    )
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dir/sub/obj.txt")
    assert got["Body"].read() == data
    assert got["ContentType"] == "text/plain"
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "attachment"
    assert got["ContentLanguage"] == "en"
    assert got["Metadata"] == {"color": "blue", "n": "1"}
    assert got["ETag"] == put["ETag"]
    assert fs.read_bytes(f"/{bucket}/dir/sub/obj.txt") == data
    head = s3.head_object(Bucket=bucket, Key="dir/sub/obj.txt")
    assert head["ContentLength"] == len(data)
    assert head["Metadata"] == {"color": "blue", "n": "1"}


def test_buckets(s3: Any, fs: RemoteFileSystem) -> None:
    s3.create_bucket(Bucket="bkt-ops")
    assert fs.stat("/bkt-ops").is_dir
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "bkt-ops" in names
    assert not any(n.startswith(".") for n in names)  # the gateway's hidden directories
    s3.head_bucket(Bucket="bkt-ops")
    assert s3.get_bucket_location(Bucket="bkt-ops")["LocationConstraint"] is None
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket="bkt-ops")
    assert code(exc) == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket="bkt-ops", Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="bkt-ops")
    assert code(exc) == "BucketNotEmpty"
    assert fs.read_bytes("/bkt-ops/k") == b"x"
    s3.delete_object(Bucket="bkt-ops", Key="k")
    s3.delete_bucket(Bucket="bkt-ops")
    assert not fs.exists("/bkt-ops")
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket="bkt-ops")
    assert exc.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="bkt-ops")
    assert code(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="bkt-ops", Key="k", Body=b"x")
    assert code(exc) == "NoSuchBucket"
    assert not fs.exists("/bkt-ops")  # a write never creates a bucket
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket="Bad_Name")
    assert code(exc) == "InvalidBucketName"


def test_missing_key_and_delete_semantics(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="nope")
    assert code(exc) == "NoSuchKey"
    s3.delete_object(Bucket=bucket, Key="nope")  # S3: deleting a missing key succeeds
    s3.put_object(Bucket=bucket, Key="a/b/c/d.txt", Body=b"1")
    s3.put_object(Bucket=bucket, Key="a/e.txt", Body=b"2")
    s3.delete_object(Bucket=bucket, Key="a/b/c/d.txt")
    # implicit parents emptied by the delete are gone; /a still holds e.txt
    assert not fs.exists(f"/{bucket}/a/b")
    assert fs.exists(f"/{bucket}/a/e.txt")
    s3.delete_object(Bucket=bucket, Key="a/e.txt")
    assert fs.ls(f"/{bucket}") == []


def test_parallel_deletes_in_one_implicit_directory(
    s3: Any, bucket: str, fs: RemoteFileSystem
) -> None:
    """As ``aws s3 rm --recursive`` does: every delete succeeds although the others
    remove the implicit directories under it meanwhile."""
    names = [f"a/b/k{i:02d}" for i in range(24)]
    for name in names:
        s3.put_object(Bucket=bucket, Key=name, Body=b"x")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda k: s3.delete_object(Bucket=bucket, Key=k), names))
    assert {a["ResponseMetadata"]["HTTPStatusCode"] for a in answers} == {204}
    assert fs.ls(f"/{bucket}") == []


def test_explicit_directories_are_kept(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    fs.mkdir(f"/{bucket}/made-elsewhere")  # not made by the gateway: never removed by it
    s3.put_object(Bucket=bucket, Key="made-elsewhere/x", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="made-elsewhere/x")
    assert fs.stat(f"/{bucket}/made-elsewhere").is_dir
    # a marker key is an explicit directory: listed as a key, kept when emptied
    s3.put_object(Bucket=bucket, Key="folder/", Body=b"")
    s3.put_object(Bucket=bucket, Key="folder/f", Body=b"f")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["folder/", "folder/f"]
    s3.delete_object(Bucket=bucket, Key="folder/f")
    assert fs.stat(f"/{bucket}/folder").is_dir
    assert s3.get_object(Bucket=bucket, Key="folder/")["Body"].read() == b""
    s3.delete_object(Bucket=bucket, Key="folder/")
    assert not fs.exists(f"/{bucket}/folder")


def test_ranges(s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * 40
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes 10-19/{len(data)}"
    assert got["Body"].read() == data[10:20]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == data[-5:]
    assert (
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10000-")["Body"].read() == data[10000:]
    )
    assert (
        s3.get_object(Bucket=bucket, Key="r", Range=f"bytes=5-{10**9}")["Body"].read() == data[5:]
    )
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range=f"bytes={len(data)}-")
    assert code(exc) == "InvalidRange"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-")
    assert code(exc) == "InvalidRange"
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""


def test_conditionals(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")
    etag = put["ETag"]
    head = s3.head_object(Bucket=bucket, Key="c")
    modified = head["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"cond"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="c", IfUnmodifiedSince=datetime(2000, 1, 1, tzinfo=UTC))
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    got = s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=datetime(2000, 1, 1, tzinfo=UTC))
    assert got["Body"].read() == b"cond"


def test_response_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"o", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket,
        Key="o",
        ResponseContentType="application/json",
        ResponseContentDisposition="inline",
        ResponseCacheControl="no-cache",
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "no-cache"


def test_copy_object(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    s3.put_object(
        Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/x", Metadata={"a": "1"}
    )
    out = s3.copy_object(Bucket=bucket, Key="dst/copy", CopySource={"Bucket": bucket, "Key": "src"})
    got = s3.get_object(Bucket=bucket, Key="dst/copy")
    assert got["Body"].read() == b"copy me"
    assert got["ContentType"] == "text/x" and got["Metadata"] == {"a": "1"}
    assert out["CopyObjectResult"]["ETag"] == got["ETag"]
    s3.copy_object(
        Bucket=bucket,
        Key="src",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/y",
    )
    head = s3.head_object(Bucket=bucket, Key="src")
    assert head["Metadata"] == {"b": "2"} and head["ContentType"] == "text/y"
    assert fs.read_bytes(f"/{bucket}/src") == b"copy me"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"})
    assert code(exc) == "InvalidRequest"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(
            Bucket=bucket,
            Key="x",
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceIfMatch='"nope"',
        )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert not fs.exists(f"/{bucket}/x")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})
    assert code(exc) == "NoSuchKey"


def test_delete_objects(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d/{i}", Body=b"x")
    out = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": f"d/{i}"} for i in range(3)] + [{"Key": "d/../x"}]},
    )
    assert sorted(d["Key"] for d in out["Deleted"]) == ["d/0", "d/1", "d/2"]
    assert [(e["Key"], e["Code"]) for e in out["Errors"]] == [("d/../x", "InvalidArgument")]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/3"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert [i.name for i in fs.ls(f"/{bucket}/d")] == ["4"]


def test_write_type_per_request(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    s3.put_object(Bucket=bucket, Key="through", Body=b"t", Metadata={"silt-write-type": "THROUGH"})
    assert fs.stat(f"/{bucket}/through").persisted  # THROUGH: in the UFS before the answer
    assert s3.head_object(Bucket=bucket, Key="through")["Metadata"] == {}
    s3.put_object(Bucket=bucket, Key="cache", Body=b"c", Metadata={"silt-write-type": "MUST_CACHE"})
    assert fs.stat(f"/{bucket}/cache").persistence_state.value == "NOT_PERSISTED"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"c", Metadata={"silt-write-type": "NOPE"})
    assert code(exc) == "InvalidArgument"
    assert not fs.exists(f"/{bucket}/bad")
    s3.put_object(Bucket=bucket, Key="async", Body=b"a")
    fs.wait_persisted(f"/{bucket}/async", timeout=30)
    assert fs.stat(f"/{bucket}/async").persisted


def test_virtual_host_addressing(gateway: Any, bucket: str, s3: Any) -> None:
    # *.localhost does not resolve everywhere: sign for the virtual host, send to 127.0.0.1
    from tests.s3gw.gateway import signed

    host = f"{bucket}.localhost:{gateway.port}"
    r = signed(gateway, "PUT", "/v/h", host=host, data=b"vhost")
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="v/h")["Body"].read() == b"vhost"
    r = signed(gateway, "GET", "/v/h", host=host)
    assert r.status_code == 200 and r.content == b"vhost"
    r = signed(gateway, "GET", "/?list-type=2", host=host)
    assert r.status_code == 200 and b"<Key>v/h</Key>" in r.content


def test_metadata_lives_in_xattrs(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    import json

    s3.put_object(Bucket=bucket, Key="x/y/z", Body=b"meta", Metadata={"k": "v"}, ContentType="a/b")
    meta = json.loads(fs.getxattr(f"/{bucket}/x/y/z", "user.s3.meta"))
    assert meta["etag"] == hashlib.md5(b"meta").hexdigest()
    assert meta["user"] == {"k": "v"} and meta["headers"]["content-type"] == "a/b"
    assert fs.getxattr(f"/{bucket}/x", "user.s3.dir") == b"implicit"
    assert fs.stat(f"/{bucket}/x/y/z").checksum == meta["etag"]  # the core's MD5 agrees
    # an overwrite by another client replaces the metadata; the ETag is the core's MD5
    fs.write_bytes(f"/{bucket}/x/y/z", b"written elsewhere")
    head = s3.head_object(Bucket=bucket, Key="x/y/z")
    assert head["ETag"] == f'"{hashlib.md5(b"written elsewhere").hexdigest()}"'
    assert head["Metadata"] == {}
