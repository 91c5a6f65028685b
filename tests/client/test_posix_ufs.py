"""POSIX metadata on the UFS side: a local UFS file gets the file's permission bits and
mtime when it is committed (synchronously or by its persist job); the fingerprint
recorded includes them, so the next metadata sync sees no change."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from siltfs.client.embedded import EmbeddedFileSystem


@pytest.mark.parametrize("write_type", ["CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH"])
def test_mode_and_mtime_reach_a_local_ufs(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path, write_type: str
) -> None:
    fs = make_fs()
    with fs.open("/f", "wb", write_type=write_type, perm=0o640) as f:
        f.write(b"data")
    fs.wait_persisted("/", timeout=30)
    info = fs.stat("/f")
    local = tmp_path / "home" / "ufs" / "f"
    st = os.stat(local)
    assert stat.S_IMODE(st.st_mode) == 0o640 == stat.S_IMODE(info.mode)
    assert st.st_mtime_ns == info.mtime_ns
    before = fs.stat("/f")
    fs.sync_metadata("/")
    after = fs.stat("/f")
    assert (after.id, after.fingerprint) == (before.id, before.fingerprint)  # not "changed"
    assert fs.check_consistency("/").consistent
