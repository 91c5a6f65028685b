"""Multipart uploads through boto3 against a real ``silt s3``: staging outside the
bucket, part checks, EntityTooSmall, UploadPartCopy, ListParts/ListMultipartUploads,
boto3's managed transfer (its default CRC32 checksums)."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from siltfs.client.remote import RemoteFileSystem

MiB = 1024 * 1024


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def staging(fs: RemoteFileSystem) -> list[str]:
    if not fs.exists("/.silt-s3-uploads"):
        return []
    return [i.name for i in fs.ls("/.silt-s3-uploads")]


def test_multipart_roundtrip(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"]
    up = s3.create_multipart_upload(
        Bucket=bucket, Key="big/obj", ContentType="app/x", Metadata={"m": "v"}
    )
    uid = up["UploadId"]
    assert uid in staging(fs)
    assert not fs.exists(f"/{bucket}/big")  # nothing in the bucket while uploading
    etags = []
    for i, data in enumerate(parts, 1):
        etags.append(
            s3.upload_part(Bucket=bucket, Key="big/obj", UploadId=uid, PartNumber=i, Body=data)[
                "ETag"
            ]
        )
    listed = s3.list_parts(Bucket=bucket, Key="big/obj", UploadId=uid)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big/obj", uid)]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])] == []
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big/obj",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]},
    )
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    got = s3.get_object(Bucket=bucket, Key="big/obj")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == done["ETag"]
    assert got["ContentType"] == "app/x" and got["Metadata"] == {"m": "v"}
    assert uid not in staging(fs)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="big/obj", UploadId=uid)
    assert code(exc) == "NoSuchUpload"


def test_part_checks(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"last")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=uid,
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]
            },
        )
    assert code(exc) == "EntityTooSmall"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=uid,
            MultipartUpload={
                "Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]
            },
        )
    assert code(exc) == "InvalidPartOrder"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0123"'}]},
        )
    assert code(exc) == "InvalidPart"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": e1}]},
        )
    assert code(exc) == "InvalidPart"
    for bad in (0, 10001):
        with pytest.raises(ClientError) as exc:
            s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=bad, Body=b"x")
        assert code(exc) == "InvalidArgument"
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="other", UploadId=uid, PartNumber=1, Body=b"x")
    assert code(exc) == "NoSuchUpload"
    assert not fs.exists(f"/{bucket}/k")  # every refusal left the key alone
    # a single small part is a complete object
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="k",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}]},
    )
    assert done["ETag"].endswith('-1"')
    assert fs.read_bytes(f"/{bucket}/k") == b"last"


def test_abort(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="gone", UploadId=uid, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=uid)
    assert uid not in staging(fs)
    assert not fs.exists(f"/{bucket}/gone")
    with pytest.raises(ClientError) as exc:
        s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=uid)
    assert code(exc) == "NoSuchUpload"
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="gone", UploadId="../../etc", PartNumber=1, Body=b"x")
    assert code(exc) == "NoSuchUpload"


def test_upload_part_copy(s3: Any, bucket: str) -> None:
    src = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    p1 = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=uid,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange=f"bytes=0-{5 * MiB - 1}",
    )
    p2 = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=uid,
        PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src"},
    )
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="dst",
        UploadId=uid,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
                {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]},
            ]
        },
    )
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src[: 5 * MiB] + src


def test_managed_transfer_with_default_checksums(s3: Any, bucket: str) -> None:
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(12 * MiB + 123)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_fileobj(io.BytesIO(data), bucket, "managed", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="managed", ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"')
    assert head["ContentLength"] == len(data)
    out = io.BytesIO()
    s3.download_fileobj(bucket, "managed", out, Config=cfg)
    assert out.getvalue() == data
    # single-part: the CRC32 boto3 sent is verified, kept and returned (and checked by boto3)
    s3.upload_fileobj(io.BytesIO(b"small"), bucket, "small")
    got = s3.get_object(Bucket=bucket, Key="small", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] and got["Body"].read() == b"small"
