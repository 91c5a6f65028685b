"""Authentication against a real ``silt s3``: wrong and unknown keys, anonymous and
read-only access, presigned URLs (and their expiry), a skewed clock, signed aws-chunked
bodies, boto3's default aws-chunked CRC32 trailer over HTTPS, SIGHUP reloads, a
credentials file that is not private -- and after every refusal, nothing changed."""

from __future__ import annotations

import base64
import hashlib
import signal
import ssl
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from siltfs.client.remote import RemoteFileSystem
from siltfs.s3gw import sigv4
from siltfs.s3gw.credentials import KeyPair
from tests.s3gw.gateway import (
    ACCESS,
    CREDENTIALS,
    RO_ACCESS,
    RO_SECRET,
    SECRET,
    GatewayProcess,
    make_client,
    signed,
    write_credentials,
)
from tests.servers import SRC, MasterProcess


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_wrong_secret_and_unknown_key(gateway: GatewayProcess, bucket: str, snapshot: Any) -> None:
    before = snapshot()
    with pytest.raises(ClientError) as exc:
        make_client(gateway.url, ACCESS, "wrong").put_object(Bucket=bucket, Key="k", Body=b"x")
    assert code(exc) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as exc:
        make_client(gateway.url, "NOSUCHKEY", SECRET).put_object(Bucket=bucket, Key="k", Body=b"x")
    assert code(exc) == "InvalidAccessKeyId"
    r = httpx.put(f"{gateway.url}/{bucket}/k", content=b"x")
    assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content
    assert snapshot() == before


def test_read_only_key(gateway: GatewayProcess, s3: Any, bucket: str, snapshot: Any) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    ro = make_client(gateway.url, RO_ACCESS, RO_SECRET)
    assert ro.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert [o["Key"] for o in ro.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    before = snapshot()
    for op in (
        lambda: ro.put_object(Bucket=bucket, Key="k2", Body=b"y"),
        lambda: ro.delete_object(Bucket=bucket, Key="k"),
        lambda: ro.create_bucket(Bucket=bucket + "-ro"),
        lambda: ro.create_multipart_upload(Bucket=bucket, Key="m"),
    ):
        with pytest.raises(ClientError) as exc:
            op()
        assert code(exc) == "AccessDenied"
    assert snapshot() == before


@pytest.mark.parametrize("version", ["default", "s3v4"])
def test_presigned_get_and_put(
    gateway: GatewayProcess, bucket: str, fs: RemoteFileSystem, version: str
) -> None:
    # boto3's default presigned URL is still SigV2 (AWSAccessKeyId=...&Signature=...)
    s3 = make_client(gateway.url, **({} if version == "default" else {"signature_version": "s3v4"}))
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300
    )
    assert httpx.put(put_url, content=b"presigned body").status_code == 200
    assert fs.read_bytes(f"/{bucket}/pre") == b"presigned body"
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"})
    r = httpx.get(get_url)
    assert r.status_code == 200 and r.content == b"presigned body"
    assert ("X-Amz-Signature" in get_url) == (version == "s3v4")
    tampered = get_url.replace("/pre?", "/pre2?")
    assert b"SignatureDoesNotMatch" in httpx.get(tampered).content
    over = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "pre", "ResponseContentType": "text/x"}
    )
    assert httpx.get(over).headers["content-type"] == "text/x"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``clock(delta)``: botocore signs as if it were now + delta (its own signers and,
    with awscrt installed, the CRT ones)."""
    import importlib

    def set_clock(delta: timedelta) -> None:
        def fake(remove_tzinfo: bool = True) -> datetime:
            when = datetime.now(UTC) + delta
            return when.replace(tzinfo=None) if remove_tzinfo else when

        for name in ("botocore.auth", "botocore.crt.auth"):
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            monkeypatch.setattr(module, "get_current_datetime", fake)

    return set_clock


def test_expired_presign(s3: Any, bucket: str, clock: Any) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    clock(-timedelta(hours=2))
    url = make_client(s3.meta.endpoint_url, signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=3600
    )
    r = httpx.get(url)
    assert r.status_code == 403 and b"Request has expired" in r.content
    clock(-timedelta(minutes=30))
    url = make_client(s3.meta.endpoint_url, signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=3600
    )
    assert httpx.get(url).content == b"x"  # signed 30 min ago, valid for an hour


def test_skewed_clock(gateway: GatewayProcess, bucket: str, clock: Any, snapshot: Any) -> None:
    before = snapshot()
    clock(-timedelta(minutes=20))
    s3 = make_client(gateway.url)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="skewed", Body=b"x")
    assert code(exc) == "RequestTimeTooSkewed"
    assert snapshot() == before


def _chunked(auth: sigv4.Auth, pieces: list[bytes], tamper: int = -1) -> bytes:
    out = b""
    prev = auth.signature
    for i, piece in enumerate([*pieces, b""]):
        prev = auth.chunk_signature(prev, hashlib.sha256(piece).hexdigest())
        sig = "0" * 64 if i == tamper else prev
        out += f"{len(piece):x};chunk-signature={sig}\r\n".encode() + piece + b"\r\n"
    return out


def _streaming_put(
    gateway: GatewayProcess, bucket: str, key: str, pieces: list[bytes], tamper: int = -1
) -> httpx.Response:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD PutObject: botocore signs the headers (the
    seed), the chunks are signed from that seed."""
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    total = sum(len(p) for p in pieces)
    host = f"127.0.0.1:{gateway.port}"
    headers = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(total)}

    class Signer(botocore.auth.S3SigV4Auth):
        def payload(self, request: Any) -> str:
            return sigv4.STREAMING_SIGNED

    req = AWSRequest(method="PUT", url=f"http://{host}/{bucket}/{key}", headers=headers)
    Signer(Credentials(ACCESS, SECRET), "s3", "us-east-1").add_auth(req)
    sent = dict(req.headers.items())
    seed = sent["Authorization"].rsplit("Signature=", 1)[1]
    stamp = sent["X-Amz-Date"]
    scope = f"{stamp[:8]}/us-east-1/s3/aws4_request"
    auth = sigv4.Auth(
        KeyPair(ACCESS, SECRET),
        stamp,
        scope,
        sigv4.signing_key(SECRET, stamp[:8], "us-east-1", "s3"),
        seed,
        sigv4.STREAMING_SIGNED,
    )
    return httpx.put(
        gateway.url + f"/{bucket}/{key}", headers=sent, content=_chunked(auth, pieces, tamper)
    )


def test_signed_chunked_upload(
    gateway: GatewayProcess, bucket: str, fs: RemoteFileSystem, snapshot: Any
) -> None:
    pieces = [b"x" * 65536, b"y" * 1000]
    r = _streaming_put(gateway, bucket, "chunked", pieces)
    assert r.status_code == 200, r.text
    assert fs.read_bytes(f"/{bucket}/chunked") == b"".join(pieces)
    assert r.headers["etag"] == f'"{hashlib.md5(b"".join(pieces)).hexdigest()}"'
    before = snapshot()
    r = _streaming_put(gateway, bucket, "chunked", [b"z" * 100, b"w" * 10], tamper=1)
    assert r.status_code == 403 and b"SignatureDoesNotMatch" in r.content
    assert snapshot() == before
    assert fs.read_bytes(f"/{bucket}/chunked") == b"".join(pieces)


def test_unsigned_trailer_checksum_verified(
    gateway: GatewayProcess, bucket: str, snapshot: Any
) -> None:
    crc = base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")).decode()
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "5",
        "x-amz-trailer": "x-amz-checksum-crc32",
    }

    def put(checksum: str) -> httpx.Response:
        data = f"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:{checksum}\r\n\r\n".encode()
        return signed(
            gateway,
            "PUT",
            f"/{bucket}/t",
            data=data,
            headers=headers,
            payload_hash=sigv4.STREAMING_UNSIGNED_TRAILER,
        )

    before = snapshot()
    r = put("AAAAAA==")
    assert r.status_code == 400 and b"BadDigest" in r.content
    assert snapshot() == before
    r = put(crc)
    assert r.status_code == 200 and r.headers["x-amz-checksum-crc32"] == crc


@pytest.fixture(scope="module")
def tls_gateway(
    master: MasterProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, Path]]:
    from siltfs.tls import make_self_signed

    root = tmp_path_factory.mktemp("s3gw-tls")
    cert, key = make_self_signed(root / "tls")
    creds = write_credentials(root / "creds.toml")
    gw = GatewayProcess(
        root / "gw", creds, master=master, args=("--tls-cert", str(cert), "--tls-key", str(key))
    )
    gw.url = gw.url.replace("http://", "https://")
    gw.ready = lambda: _tls_ready(gw.url, cert)  # type: ignore[method-assign]
    yield gw.start(), cert
    gw.stop()


def _tls_ready(url: str, cert: Path) -> bool:
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        return httpx.get(url + "/", verify=ctx, timeout=1).status_code == 403
    except httpx.TransportError:
        return False


def test_boto3_default_checksum_trailer_over_https(
    tls_gateway: tuple[GatewayProcess, Path], bucket: str, fs: RemoteFileSystem
) -> None:
    import boto3

    gw, cert = tls_gateway
    s3 = boto3.client(
        "s3",
        endpoint_url=gw.url,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
        verify=str(cert),
    )
    sent: list[dict[str, str]] = []
    s3.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.append(
            {
                k.lower(): v.decode() if isinstance(v, bytes) else v
                for k, v in request.headers.items()
            }
        ),
    )
    data = b"over https" * 10000
    out = s3.put_object(Bucket=bucket, Key="tls", Body=data)
    (headers,) = sent  # boto3's default over HTTPS: aws-chunked with a CRC32 trailer
    assert headers["x-amz-content-sha256"] == sigv4.STREAMING_UNSIGNED_TRAILER
    assert headers["x-amz-trailer"] == "x-amz-checksum-crc32"
    assert out["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert fs.read_bytes(f"/{bucket}/tls") == data
    assert s3.get_object(Bucket=bucket, Key="tls", ChecksumMode="ENABLED")["Body"].read() == data
    s3.close()  # an idle TLS connection would hold up the gateway's graceful shutdown


def test_sighup_reloads_credentials(master: MasterProcess, tmp_path: Path) -> None:
    creds = write_credentials(tmp_path / "c.toml")
    gw = GatewayProcess(tmp_path / "gw", creds, master=master).start()
    try:
        make_client(gw.url).list_buckets()
        write_credentials(
            creds, '[[credentials]]\naccess_key = "NEWKEY"\nsecret_key = "newsecret"\n'
        )
        assert gw.proc is not None
        gw.proc.send_signal(signal.SIGHUP)
        new = make_client(gw.url, "NEWKEY", "newsecret")
        deadline = time.monotonic() + 20
        while True:  # the reload is asynchronous: poll (bounded) until it is in force
            try:
                new.list_buckets()
                break
            except ClientError:
                assert time.monotonic() < deadline, gw.log_text()
                time.sleep(0.05)
        with pytest.raises(ClientError) as exc:
            make_client(gw.url).list_buckets()
        assert code(exc) == "InvalidAccessKeyId"
        # a refused file (not private) keeps the keys in force
        write_credentials(creds, CREDENTIALS, mode=0o644)
        gw.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while "keeping the keys in force" not in gw.log_text():
            assert time.monotonic() < deadline, gw.log_text()
            time.sleep(0.05)
        new.list_buckets()
    finally:
        gw.stop()


def test_credentials_must_be_private(tmp_path: Path) -> None:
    creds = write_credentials(tmp_path / "c.toml", mode=0o644)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "siltfs.cli.main",
            "s3",
            "--home",
            str(tmp_path / "home"),
            "--port",
            "0",
            "--credentials",
            str(creds),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 1
    assert "chmod 600" in out.stderr and str(creds) in out.stderr
    assert not (tmp_path / "home").exists()  # refused before anything was opened
