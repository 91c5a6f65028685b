"""The gateway's object writer: a failure in the middle (a part that cannot be read
while a multipart upload is completed) aborts the write, so the key keeps its old
version and nothing half-written ever appears."""

from __future__ import annotations

from pathlib import Path

import pytest

import siltfs
from siltfs.model.enums import WriteType
from siltfs.s3gw.meta import MetaStore, ObjectMeta


def test_a_failed_write_leaves_the_key_as_it_was(tmp_path: Path) -> None:
    fs = siltfs.connect(home=tmp_path / "home")
    try:
        fs.mkdir("/bucket")
        store = MetaStore(fs)
        store.write("/bucket/k", WriteType.MUST_CACHE, ObjectMeta(etag="e1"), b"old object")
        with pytest.raises(OSError, match="part lost"):
            with store.writer("/bucket/k", WriteType.MUST_CACHE, ObjectMeta(etag="e2")) as f:
                f.write(b"first part of the new object")
                raise OSError("part lost")
        assert fs.read_bytes("/bucket/k") == b"old object"
        with pytest.raises(OSError):
            with store.writer("/bucket/new", WriteType.MUST_CACHE, ObjectMeta(etag="e")) as f:
                f.write(b"half")
                raise OSError("client went away")
        assert not fs.exists("/bucket/new")
    finally:
        fs.close()
