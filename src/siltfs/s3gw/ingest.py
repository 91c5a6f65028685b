"""Request bodies in: decoded (``aws-chunked``), checked (payload SHA-256, Content-MD5,
``x-amz-checksum-*`` in a header or a trailer, chunk signatures, declared lengths) and
spooled, so nothing reaches the namespace before the whole body is known to be right.

A siltfs write commits when its stream closes: a body written straight through would
commit half an object when the client hangs up or a checksum turns out wrong, unless
the write is aborted (``siltfs.client.common.abort_writer``, which multipart completion
uses).  Bodies are spooled first -- the first :data:`SPOOL_MEMORY` bytes in memory, the
rest in a temporary file -- and written to siltfs once verified, in one write (streaming
them through an abortable writer instead is the next step for large PUTs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

from siltfs.s3gw import checksums
from siltfs.s3gw.chunked import ChunkDecoder
from siltfs.s3gw.errors import S3Error
from siltfs.s3gw.sigv4 import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    UNSIGNED,
    Auth,
)

SPOOL_MEMORY = 8 * 1024 * 1024
MAX_OBJECT = 5 * 1024**3  # S3's limit for one PUT
READ_CHUNK = 1024 * 1024


@dataclass
class Body:
    """A verified request body, ready to be written (:meth:`chunks`)."""

    spool: IO[bytes]
    size: int
    md5: str  # hex
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> base64

    def chunks(self) -> Iterator[bytes]:
        self.spool.seek(0)
        while chunk := self.spool.read(READ_CHUNK):
            yield chunk

    def content(self) -> bytes | Iterator[bytes]:
        """The body: bytes when it is small (one request to write it), else chunks."""
        if self.size <= SPOOL_MEMORY:
            self.spool.seek(0)
            return self.spool.read()
        return self.chunks()

    def close(self) -> None:
        self.spool.close()


def _wanted_checksums(headers: Mapping[str, str]) -> dict[str, str | None]:
    """Algorithms to compute -> the value the client gave in a header (None: in a
    trailer, or just asked for with ``x-amz-sdk-checksum-algorithm``)."""
    out: dict[str, str | None] = {}
    for name in checksums.ALGORITHMS:
        value = headers.get(f"x-amz-checksum-{name}")
        if value is not None:
            out[name] = value
    for trailer in (headers.get("x-amz-trailer") or "").split(","):
        trailer = trailer.strip().lower()
        if trailer.startswith("x-amz-checksum-"):
            out.setdefault(checksums.algorithm(trailer[len("x-amz-checksum-") :]), None)
        elif trailer:
            raise S3Error("InvalidRequest", f"unsupported trailing header {trailer!r}")
    sdk = headers.get("x-amz-sdk-checksum-algorithm")
    if sdk:
        out.setdefault(checksums.algorithm(sdk), None)
    return out


def _content_md5(headers: Mapping[str, str]) -> bytes | None:
    value = headers.get("content-md5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.") from exc
    if len(digest) != 16:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
    return digest


def _declared_length(headers: Mapping[str, str], streaming: bool) -> int | None:
    name = "x-amz-decoded-content-length" if streaming else "content-length"
    value = headers.get(name)
    if value is None:
        if streaming:
            raise S3Error("MissingContentLength", "x-amz-decoded-content-length is required", 411)
        return None
    if not value.isdigit():
        raise S3Error("InvalidArgument", f"{name} must be a number, not {value!r}")
    length = int(value)
    if length > MAX_OBJECT:
        raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    return length


async def receive(
    stream: AsyncIterator[bytes], headers: Mapping[str, str], auth: Auth, limit: int = MAX_OBJECT
) -> Body:
    """Read, decode and verify a request body (see the module docstring)."""
    payload = auth.payload_hash
    streaming = payload.startswith("STREAMING-")
    encodings = [e.strip() for e in (headers.get("content-encoding") or "").split(",")]
    if streaming and payload not in (
        STREAMING_SIGNED,
        STREAMING_SIGNED_TRAILER,
        STREAMING_UNSIGNED_TRAILER,
    ):
        raise S3Error("InvalidRequest", f"unsupported x-amz-content-sha256 {payload!r}")
    if not streaming and payload != UNSIGNED and not _is_sha256(payload):
        raise S3Error("InvalidArgument", "x-amz-content-sha256 must be a SHA-256 hex digest")
    expected_length = _declared_length(headers, streaming)
    wanted = _wanted_checksums(headers)
    md5_given = _content_md5(headers)
    decoder = None
    if streaming or "aws-chunked" in encodings:
        if not streaming:
            raise S3Error("InvalidRequest", "aws-chunked bodies need a STREAMING-* content hash")
        signed = payload != STREAMING_UNSIGNED_TRAILER
        decoder = ChunkDecoder(auth if signed else None, payload == STREAMING_SIGNED_TRAILER)
    hashers = {name: checksums.hasher(name) for name in wanted}
    md5 = hashlib.md5()
    sha = hashlib.sha256() if _is_sha256(payload) else None
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY, prefix="silt-s3-")
    size = 0
    try:
        async for raw in stream:
            if sha is not None:
                sha.update(raw)
            pieces = decoder.feed(raw) if decoder is not None else [raw]
            for piece in pieces:
                size += len(piece)
                if size > limit:
                    raise S3Error(
                        "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                    )
                md5.update(piece)
                for h in hashers.values():
                    h.update(piece)
                spool.write(piece)
        if decoder is not None:
            decoder.finish()
        if expected_length is not None and size != expected_length:
            raise S3Error(
                "IncompleteBody",
                f"You did not provide the number of bytes specified ({size} of {expected_length})",
            )
        if sha is not None and not hmac.compare_digest(sha.hexdigest(), payload.lower()):
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        if md5_given is not None and md5.digest() != md5_given:
            raise S3Error(
                "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
        computed = {name: h.b64() for name, h in hashers.items()}
        trailers = decoder.trailers if decoder is not None else {}
        for name, given in wanted.items():
            value = given if given is not None else trailers.get(f"x-amz-checksum-{name}")
            if value is not None and value != computed[name]:
                raise S3Error(
                    "BadDigest",
                    f"The {name.upper()} you specified did not match the calculated checksum.",
                )
    except BaseException:
        spool.close()
        raise
    return Body(spool, size, md5.hexdigest(), computed)


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


async def read_document(
    stream: AsyncIterator[bytes], headers: Mapping[str, str], auth: Auth, limit: int
) -> bytes:
    """A small request document (XML), verified like any body; MalformedXML if too big."""
    try:
        body = await receive(stream, headers, auth, limit)
    except S3Error as exc:
        if exc.code == "EntityTooLarge":
            raise S3Error(
                "MalformedXML", f"the request document is larger than {limit} bytes"
            ) from exc
        raise
    try:
        return b"".join(body.chunks())
    finally:
        body.close()
