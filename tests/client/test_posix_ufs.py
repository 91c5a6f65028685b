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


def test_files_found_in_the_ufs_get_default_modes_and_the_configured_owner(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    ufs = tmp_path / "home" / "ufs"
    (ufs / "dir").mkdir(parents=True)
    (ufs / "dir" / "f").write_bytes(b"before siltfs")
    os.chmod(ufs / "dir" / "f", 0o600)  # the local file's own mode is not imported
    fs = make_fs(import_uid=1000, import_gid=100, sync_interval_ms=0)
    f, d = fs.stat("/dir/f"), fs.stat("/dir")
    assert (f.mode, f.uid, f.gid) == (0o100644, 1000, 100)
    assert (d.mode, d.uid, d.gid) == (0o040755, 1000, 100)
    assert fs.read_bytes("/dir/f") == b"before siltfs"
    fs.write_bytes("/dir/g", b"through siltfs", write_type="CACHE_THROUGH")
    assert fs.stat("/dir/g").uid == os.getuid()  # the writer's, not the import owner


def test_the_import_owner_is_checked(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    from siltfs.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="import_uid"):
        make_fs(import_uid=-1)
