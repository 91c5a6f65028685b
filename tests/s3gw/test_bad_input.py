"""Requests the gateway must refuse with the right S3 error, changing nothing: keys the
namespace cannot hold, a wrong Content-MD5 or checksum, a truncated body, too many keys
in one DeleteObjects, unsupported features."""

from __future__ import annotations

import base64
import socket
from typing import Any

import pytest
from botocore.exceptions import ClientError

from siltfs.client.remote import RemoteFileSystem
from tests.s3gw.gateway import GatewayProcess, signed


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("k" * 1025, "KeyTooLongError"),
        ("a/" + "é" * 512, "KeyTooLongError"),  # 1026 bytes in UTF-8
        ("a/../b", "InvalidArgument"),
        ("..", "InvalidArgument"),
        ("a/./b", "InvalidArgument"),
        ("a//b", "InvalidArgument"),
        ("/leading", "InvalidArgument"),
        ("x" * 256, "InvalidArgument"),  # one segment longer than a name may be
    ],
)
def test_keys_the_namespace_cannot_hold(
    s3: Any, bucket: str, snapshot: Any, key: str, error: str
) -> None:
    before = snapshot()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert code(exc) == error
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key=key)
    assert code(exc) == error
    assert snapshot() == before


def test_nul_in_key(gateway: GatewayProcess, bucket: str, snapshot: Any) -> None:
    before = snapshot()
    r = signed(gateway, "PUT", f"/{bucket}/a%00b", data=b"x")
    assert r.status_code == 400 and b"<Code>InvalidArgument</Code>" in r.content
    assert snapshot() == before


def test_object_and_directory_of_one_name(
    s3: Any, bucket: str, fs: RemoteFileSystem, snapshot: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"1")
    before = snapshot()
    for key in ("a", "a/b/c", "a/b/"):
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key=key, Body=b"" if key.endswith("/") else b"2")
        assert code(exc) == "InvalidArgument"
    assert snapshot() == before


def test_bad_content_md5(s3: Any, bucket: str, snapshot: Any) -> None:
    before = snapshot()
    wrong = base64.b64encode(b"0" * 16).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"data", ContentMD5=wrong)
    assert code(exc) == "BadDigest"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"data", ContentMD5="not-base64!")
    assert code(exc) == "InvalidDigest"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert code(exc) == "BadDigest"
    assert snapshot() == before
    right = base64.b64encode(__import__("hashlib").md5(b"data").digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=b"data", ContentMD5=right)


def test_wrong_payload_hash(gateway: GatewayProcess, bucket: str, snapshot: Any) -> None:
    before = snapshot()
    r = signed(gateway, "PUT", f"/{bucket}/h", data=b"abc", payload_hash="0" * 64)
    assert r.status_code == 400 and b"XAmzContentSHA256Mismatch" in r.content
    assert snapshot() == before


def test_truncated_body(gateway: GatewayProcess, bucket: str, s3: Any, snapshot: Any) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"old bytes")
    before = snapshot()
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tests.s3gw.gateway import ACCESS, SECRET

    host = f"127.0.0.1:{gateway.port}"
    req = AWSRequest(method="PUT", url=f"http://{host}/{bucket}/t", data=b"n" * 1000)
    S3SigV4Auth(Credentials(ACCESS, SECRET), "s3", "us-east-1").add_auth(req)
    head = f"PUT /{bucket}/t HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1000\r\n"
    head += "".join(
        f"{k}: {v}\r\n" for k, v in req.headers.items() if k.lower() != "content-length"
    )
    with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
        sock.sendall(head.encode() + b"\r\n" + b"n" * 400)  # 400 of the 1000 bytes
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(30)
        while sock.recv(65536):
            pass
    assert snapshot() == before
    assert s3.get_object(Bucket=bucket, Key="t")["Body"].read() == b"old bytes"


def test_delete_objects_limit(s3: Any, bucket: str, snapshot: Any) -> None:
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    before = snapshot()
    for n in (1001, 10000):
        with pytest.raises(ClientError) as exc:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep"}] * n})
        assert code(exc) == "MalformedXML"
    assert snapshot() == before


def test_malformed_documents(gateway: GatewayProcess, bucket: str, snapshot: Any) -> None:
    before = snapshot()
    for doc in (b"<Delete><Object>", b"<NotDelete/>", b"", b"<Delete></Delete>"):
        r = signed(gateway, "POST", f"/{bucket}?delete", data=doc)
        assert r.status_code == 400 and b"MalformedXML" in r.content, doc
    assert snapshot() == before


def test_unsupported_features(s3: Any, bucket: str, snapshot: Any) -> None:
    before = snapshot()
    calls = [
        lambda: s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        ),
        lambda: s3.put_bucket_policy(Bucket=bucket, Policy="{}"),
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket),
        lambda: s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={}),
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
        lambda: s3.get_bucket_website(Bucket=bucket),
        lambda: s3.list_object_versions(Bucket=bucket),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "NotImplemented"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") is None
    assert snapshot() == before
