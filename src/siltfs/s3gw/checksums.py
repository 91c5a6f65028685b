"""The checksums S3 clients send (``x-amz-checksum-crc32/crc32c/sha1/sha256``), computed
incrementally and rendered as S3 does: base64 of the big-endian CRC or of the digest."""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Protocol

import crc32c as _crc32c

from siltfs.s3gw.errors import S3Error

ALGORITHMS = ("crc32", "crc32c", "sha1", "sha256")


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def b64(self) -> str: ...


class _Crc:
    def __init__(self, fn: str) -> None:
        self._value = 0
        self._c = fn == "crc32c"

    def update(self, data: bytes | memoryview, /) -> None:
        if self._c:
            self._value = _crc32c.crc32c(data, self._value)
        else:
            self._value = zlib.crc32(data, self._value)

    def b64(self) -> str:
        return base64.b64encode(self._value.to_bytes(4, "big")).decode("ascii")


class _Digest:
    def __init__(self, name: str) -> None:
        self._h = hashlib.new(name)

    def update(self, data: bytes | memoryview, /) -> None:
        self._h.update(data)

    def b64(self) -> str:
        return base64.b64encode(self._h.digest()).decode("ascii")


def algorithm(name: str) -> str:
    """*name* (``CRC32``, ``crc32c``...) as one of :data:`ALGORITHMS`, or InvalidRequest."""
    low = name.strip().lower()
    if low not in ALGORITHMS:
        raise S3Error(
            "InvalidRequest",
            f"checksum algorithm {name!r} is not supported (use CRC32, CRC32C, SHA1 or SHA256)",
        )
    return low


def hasher(name: str) -> Hasher:
    name = algorithm(name)
    return _Crc(name) if name.startswith("crc") else _Digest(name)


def composite(name: str, part_values: list[str]) -> str:
    """The checksum of a multipart object of type COMPOSITE: the checksum of the parts'
    checksums (raw bytes, concatenated), ``-N``."""
    h = hasher(name)
    for value in part_values:
        h.update(base64.b64decode(value))
    return f"{h.b64()}-{len(part_values)}"


def md5_b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")
