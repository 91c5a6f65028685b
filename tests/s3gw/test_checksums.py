"""The checksums S3 clients send, on the CRC catalogue's check input "123456789"."""

from __future__ import annotations

import base64

import pytest

from siltfs.s3gw import checksums
from siltfs.s3gw.errors import S3Error

CHECK = {"crc32": 0xCBF43926, "crc32c": 0xE3069283, "crc64nvme": 0xAE8B14860A799888}


@pytest.mark.parametrize("name", sorted(CHECK))
def test_check_values_in_pieces(name: str) -> None:
    h = checksums.hasher(name.upper())
    for piece in (b"1234", b"5", b"6789"):
        h.update(piece)
    size = 8 if name == "crc64nvme" else 4
    assert base64.b64decode(h.b64()) == CHECK[name].to_bytes(size, "big")


def test_unknown_algorithm() -> None:
    with pytest.raises(S3Error) as exc:
        checksums.hasher("MD4")
    assert exc.value.code == "InvalidRequest"


def test_composite() -> None:
    a, b = checksums.hasher("crc32"), checksums.hasher("crc32")
    a.update(b"part one")
    b.update(b"part two")
    whole = checksums.hasher("crc32")
    whole.update(base64.b64decode(a.b64()) + base64.b64decode(b.b64()))
    assert checksums.composite("crc32", [a.b64(), b.b64()]) == whole.b64() + "-2"
