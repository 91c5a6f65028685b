"""One name validator, before any change: every operation that creates or renames an
entry refuses a name the UFS cannot hold -- with nothing changed -- on every client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from siltfs import errors
from siltfs.client.base import FileSystem

BAD_NAMES = ["bad\\name", "a%2fb", "a%2Fb", "a%5cb", "a%00b", "%2e%2e", "x%2E%2Ey"]
WRITE_TYPES = ["MUST_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH"]


def _write(wt: str) -> Callable[[Any, str, str], None]:
    def op(fs: Any, base: str, name: str) -> None:
        fs.write_bytes(f"{base}/{name}", b"data", write_type=wt)

    return op


def _open(mode: str) -> Callable[[Any, str, str], None]:
    def op(fs: Any, base: str, name: str) -> None:
        with fs.open(f"{base}/{name}", mode) as f:
            f.write(b"data")

    return op


OPERATIONS: dict[str, Callable[[Any, str, str], None]] = {
    **{f"write-{wt}": _write(wt) for wt in WRITE_TYPES},
    "open-wb": _open("wb"),
    "open-xb": _open("xb"),
    "implicit-parent": lambda fs, base, name: fs.write_bytes(f"{base}/{name}/f", b"x"),
    "mkdir": lambda fs, base, name: fs.mkdir(f"{base}/{name}"),
    "mkdir-parents": lambda fs, base, name: fs.mkdir(f"{base}/{name}/sub", parents=True),
    "touch": lambda fs, base, name: fs.touch(f"{base}/{name}"),
    "rename-persisted-file": lambda fs, base, name: fs.rename(f"{base}/ok", f"{base}/{name}"),
    "rename-cached-file": lambda fs, base, name: fs.rename(f"{base}/cached", f"{base}/{name}"),
    "rename-dir": lambda fs, base, name: fs.rename(f"{base}/dir", f"{base}/{name}"),
}


def _state(fs: Any, base: str) -> tuple[list[tuple[str, str, int]], int]:
    entries = sorted(
        (i.path, i.persistence_state.value, i.length) for i in fs.ls(base, recursive=True)
    )
    return entries, len(fs.jobs())


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_a_name_the_ufs_cannot_hold_is_refused_and_nothing_changes(
    anyfs: FileSystem, base: str, op: str, name: str
) -> None:
    anyfs.write_bytes(f"{base}/ok", b"persisted", write_type="CACHE_THROUGH")
    anyfs.write_bytes(f"{base}/cached", b"cached", write_type="MUST_CACHE")
    anyfs.mkdir(f"{base}/dir")
    anyfs.write_bytes(f"{base}/dir/f", b"in dir", write_type="CACHE_THROUGH")
    anyfs.wait_persisted(base, timeout=30)
    before = _state(anyfs, base)
    with pytest.raises(errors.InvalidPath) as info:
        OPERATIONS[op](anyfs, base, name)
    assert info.value.path is not None and base in info.value.path
    assert _state(anyfs, base) == before
    assert anyfs.read_bytes(f"{base}/ok") == b"persisted"
    report = anyfs.check_consistency(base)
    assert report.consistent, report.to_dict()
