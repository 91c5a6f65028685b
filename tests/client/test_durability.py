"""kill -9 of the embedded process: nothing acknowledged is lost (I3), and recovery after
a crash at each named crash point leaves the namespace and the UFS in agreement."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.model.enums import PersistenceState

from .conftest import ufs_tree

CHILD = Path(__file__).with_name("crash_child.py")


def run_child(
    home: Path, scenario: str, *, persist: bool = False, crash_at: str | None = None
) -> tuple[dict[str, bytes], int]:
    env = dict(os.environ)
    env.pop("SILT_CRASH_AT", None)
    if crash_at:
        env["SILT_CRASH_AT"] = crash_at
    args = [sys.executable, str(CHILD), str(home), scenario] + (["persist"] if persist else [])
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None
    written: dict[str, bytes] = {}
    for line in proc.stdout:
        if line.startswith("WROTE "):
            _, path, hexdata = line.split()
            written[path] = bytes.fromhex(hexdata)
        if line.startswith("READY") and not persist:
            break
        if line.startswith("PERSISTED"):
            break
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    rc = proc.wait(timeout=60)
    return written, rc


def test_async_writes_survive_kill_9(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem]
) -> None:
    home = tmp_path / "home"
    written, rc = run_child(home, "async-writes")
    assert rc == -signal.SIGKILL
    assert len(written) == 20
    fs = make_fs(home=home)
    for path, data in written.items():
        assert fs.read_bytes(path) == data
        assert fs.stat(path).persistence_state is PersistenceState.TO_BE_PERSISTED
    fs.wait_persisted(timeout=60)
    root = fs.config.root_ufs_dir
    for path, data in written.items():
        assert (root / path.lstrip("/")).read_bytes() == data
    assert ufs_tree(root) == {"w"} | {p.lstrip("/") for p in written}


@pytest.mark.parametrize(
    "point", ["persist.after_upload", "persist.before_move", "persist.after_move"]
)
def test_crash_inside_persist_recovers(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem], point: str
) -> None:
    home = tmp_path / "home"
    written, rc = run_child(home, "async-writes", persist=True, crash_at=point)
    assert rc == -signal.SIGKILL  # died at the crash point, not by our hand
    assert written, "the crash point fired before any write was acknowledged"
    fs = make_fs(home=home)
    fs.wait_persisted(timeout=60)
    root = fs.config.root_ufs_dir
    for path, data in written.items():
        assert fs.read_bytes(path) == data
        assert (root / path.lstrip("/")).read_bytes() == data
    namespace = {i.path.lstrip("/") for i in fs.ls("/", recursive=True)}
    assert ufs_tree(root) == namespace  # nothing more (staging swept), nothing less


@pytest.mark.parametrize("point", ["rename.after_metadata", "rename.after_ufs"])
def test_crash_inside_rename_of_persisted_tree(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem], point: str
) -> None:
    home = tmp_path / "home"
    _, rc = run_child(home, "rename-persisted", crash_at=point)
    assert rc == -signal.SIGKILL
    fs = make_fs(home=home)
    assert fs.read_bytes("/C/B/01") == b"persisted"
    assert not fs.exists("/A")
    assert ufs_tree(fs.config.root_ufs_dir) == {"C", "C/B", "C/B/01"}


def test_crash_inside_delete_of_persisted_tree(
    tmp_path: Path, make_fs: Callable[..., EmbeddedFileSystem]
) -> None:
    home = tmp_path / "home"
    _, rc = run_child(home, "delete-persisted", crash_at="delete.after_metadata")
    assert rc == -signal.SIGKILL
    fs = make_fs(home=home, sync_interval_ms=0)
    assert not fs.exists("/D")  # no ghost re-imported from the UFS
    assert ufs_tree(fs.config.root_ufs_dir) == set()
