"""SigV4 and aws-chunked against AWS's published example ("Signature Calculations for the
Authorization Header: Transferring Payload in Multiple Chunks"): the seed signature and
each chunk signature must come out as AWS documents them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from siltfs.s3gw import sigv4
from siltfs.s3gw.chunked import ChunkDecoder
from siltfs.s3gw.credentials import KeyPair
from siltfs.s3gw.errors import S3Error

KEY = KeyPair("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGS = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
WHEN = datetime(2013, 5, 24, 0, 0, 30, tzinfo=UTC)


def headers(signature: str = SEED) -> dict[str, str]:
    return {
        "host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": "66824",
        "authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"
        "s3/aws4_request,SignedHeaders=content-encoding;content-length;host;"
        "x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
        f"Signature={signature}",
    }


def auth(now: datetime = WHEN, signature: str = SEED) -> sigv4.Auth:
    return sigv4.authenticate(
        "PUT",
        "/examplebucket/chunkObject.txt",
        [],
        headers(signature),
        {KEY.access_key: KEY}.get,
        now=now,
    )


def body(sigs: list[str]) -> bytes:
    a, b, c = (s.encode() for s in sigs)
    return (
        b"10000;chunk-signature="
        + a
        + b"\r\n"
        + b"a" * 65536
        + b"\r\n"
        + b"400;chunk-signature="
        + b
        + b"\r\n"
        + b"a" * 1024
        + b"\r\n"
        + b"0;chunk-signature="
        + c
        + b"\r\n\r\n"
    )


def test_seed_and_chunk_signatures_match_aws_example() -> None:
    a = auth()
    assert a.signature == SEED
    prev = a.signature
    for sig, data in zip(CHUNK_SIGS, [b"a" * 65536, b"a" * 1024, b""], strict=True):
        prev = a.chunk_signature(prev, hashlib.sha256(data).hexdigest())
        assert prev == sig


@pytest.mark.parametrize("step", [1, 7, 4096, 70000])
def test_decoder_in_any_pieces(step: int) -> None:
    raw = body(CHUNK_SIGS)
    assert len(raw) == 66824  # the example's Content-Length
    d = ChunkDecoder(auth())
    out = b"".join(b"".join(d.feed(raw[i : i + step])) for i in range(0, len(raw), step))
    d.finish()
    assert out == b"a" * 66560


def test_decoder_refuses_a_wrong_chunk_signature() -> None:
    bad = CHUNK_SIGS[:1] + ["0" * 64] + CHUNK_SIGS[2:]
    with pytest.raises(S3Error) as exc:
        ChunkDecoder(auth()).feed(body(bad))
    assert exc.value.code == "SignatureDoesNotMatch"


def test_decoder_refuses_a_truncated_body() -> None:
    d = ChunkDecoder(auth())
    d.feed(body(CHUNK_SIGS)[:60000])
    with pytest.raises(S3Error) as exc:
        d.finish()
    assert exc.value.code == "IncompleteBody"


def test_unsigned_trailer() -> None:
    d = ChunkDecoder(None)
    out = d.feed(b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n")
    d.finish()
    assert b"".join(out) == b"hello" and d.trailers == {"x-amz-checksum-crc32": "NhCmhg=="}


def test_header_signature_checks() -> None:
    with pytest.raises(S3Error) as exc:
        auth(signature="1" * 64)
    assert exc.value.code == "SignatureDoesNotMatch"
    with pytest.raises(S3Error) as exc:
        auth(now=WHEN + timedelta(minutes=16))
    assert exc.value.code == "RequestTimeTooSkewed"
    auth(now=WHEN + timedelta(minutes=14))
    with pytest.raises(S3Error) as exc:
        sigv4.authenticate("PUT", "/x", [], headers(), {}.get, now=WHEN)
    assert exc.value.code == "InvalidAccessKeyId"
    with pytest.raises(S3Error) as exc:
        sigv4.authenticate("GET", "/x", [], {"host": "h"}, {}.get, now=WHEN)
    assert exc.value.code == "AccessDenied"
