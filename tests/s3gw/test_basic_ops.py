"""boto3 against a real ``silt s3``: buckets, objects, metadata, ranges, conditionals."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from siltfs.client.remote import RemoteFileSystem


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_put_get_roundtrip_with_metadata(s3: Any, bucket: str, fs: RemoteFileSystem) -> None:
    data = b"hello gateway" * 1000
    put = s3.put_object(
        Bucket=bucket, Key="dir/sub/obj.txt", Body=data, ContentType="text/plain",
        CacheControl="max-age=60", ContentDisposition="attachment", ContentLanguage="en",
        Metadata={"color": "blue", "n": "1"},
    )  # fmt: skip
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
