"""The checksums S3 clients send (``x-amz-checksum-crc32/crc32c/crc64nvme/sha1/sha256``),
computed incrementally and rendered as S3 does: base64 of the big-endian CRC or of the
digest.  CRC32C comes from the ``crc32c`` package (as the block checksums do), CRC64NVME
from awscrt (what botocore itself uses for it)."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable
from typing import Any, Protocol

from siltfs.s3gw.errors import S3Error

ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def b64(self) -> str: ...


def _crc(name: str) -> tuple[Callable[[Any, int], int], int]:
    """The CRC function and width of *name* (CRC64NVME: awscrt, from the ``server`` extra)."""
    if name == "crc32":
        return zlib.crc32, 4
    if name == "crc32c":
        import crc32c

        return crc32c.crc32c, 4
    try:
        from awscrt import checksums as crt
    except ImportError as exc:
        raise S3Error(
            "InvalidRequest", f"{name.upper()} needs awscrt (pip install 'siltfs[server]')"
        ) from exc
    return crt.crc64nvme, 8


class _Crc:
    def __init__(self, name: str) -> None:
        self._value = 0
        self._fn, self._size = _crc(name)

    def update(self, data: bytes | memoryview, /) -> None:
        self._value = self._fn(data, self._value)

    def b64(self) -> str:
        return base64.b64encode(self._value.to_bytes(self._size, "big")).decode("ascii")


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
            f"checksum algorithm {name!r} is not supported (use CRC32, CRC32C, CRC64NVME, "
            "SHA1 or SHA256)",
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
