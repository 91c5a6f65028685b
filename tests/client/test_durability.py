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

from siltfs import crashpoints
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.model.enums import PersistenceState

from .conftest import ufs_tree, with_persist
from .crash_child import modify_versions

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
        if not line.endswith("\n"):
            break  # cut off by the SIGKILL: not acknowledged
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
    still = make_fs(home=home, persist=with_persist(enabled=False))  # look before persisting
    for path, data in written.items():
        assert still.read_bytes(path) == data
        assert still.stat(path).persistence_state is PersistenceState.TO_BE_PERSISTED
    still.close()
    fs = make_fs(home=home)
    fs.wait_persisted(timeout=60)
    root = fs.config.root_ufs_dir
    for path, data in written.items():
        assert (root / path.lstrip("/")).read_bytes() == data
    assert ufs_tree(root) == {"w"} | {p.lstrip("/") for p in written}


# Every crash point, killed with SIGKILL in a child process, then recovered by a restart
# on the same home.  ufs.move_tree.partial needs an object store that outlives the
# process; it is simulated in-process in test_jobs.py::test_interrupted_tree_move_rolls_forward
# (and with the real S3 endpoint once the scale-out issue lands).
SCENARIOS = [
    ("persist.after_upload", "async-writes", True),
    ("persist.before_move", "async-writes", True),
    ("persist.after_move", "async-writes", True),
    ("write.after_commit", "async-writes", False),
    ("delete.after_metadata", "delete-persisted", False),
    ("rename.after_metadata", "rename-persisted", False),
    ("rename.after_ufs", "rename-persisted", False),
    # a file changed in place (copy-on-write versions), killed at each step
    ("change.after_blocks", "modify", False),
    ("change.after_commit", "modify", False),
    ("persist.after_upload", "modify", True),
    ("persist.before_move", "modify", True),
    ("persist.after_move", "modify", True),
]
IN_PROCESS_ONLY = {"ufs.move_tree.partial"}


def test_every_crash_point_has_a_scenario() -> None:
    assert {point for point, _, _ in SCENARIOS} | IN_PROCESS_ONLY == set(crashpoints.POINTS)


def check_recovered(fs: EmbeddedFileSystem, written: dict[str, bytes]) -> None:
    """After restart + wait_persisted: acknowledged bytes intact, UFS == namespace, no
    staging, no intents, consistency check clean."""
    fs.wait_persisted(timeout=60)
    root = fs.config.root_ufs_dir
    for path, data in written.items():
        assert fs.read_bytes(path) == data
        assert (root / path.lstrip("/")).read_bytes() == data
    namespace = {i.path.lstrip("/") for i in fs.ls("/", recursive=True)}
    assert ufs_tree(root) == namespace
    with fs.master.ms.snapshot() as txn:
        assert txn.list_intents() == []
    assert fs.check_consistency("/").divergences == []


@pytest.mark.parametrize(
    ("point", "scenario", "persist"), SCENARIOS, ids=[f"{p}-{s}" for p, s, _ in SCENARIOS]
)
def test_kill_9_at_crash_point_recovers(
    tmp_path: Path,
    make_fs: Callable[..., EmbeddedFileSystem],
    point: str,
    scenario: str,
    persist: bool,
) -> None:
    home = tmp_path / "home"
    written, rc = run_child(home, scenario, persist=persist, crash_at=point)
    assert rc == -signal.SIGKILL  # died at the crash point, not by our hand
    fs = make_fs(home=home)
    if scenario == "modify":
        # the last version flushed, or the one being committed when it died; never a mix
        versions = modify_versions()
        last = versions.index(written["/m/f"])
        got = fs.read_bytes("/m/f")
        assert got in versions[last : last + 2]
        check_recovered(fs, {"/m/f": got})
    elif scenario == "async-writes":
        for path in [i.path for i in fs.ls("/w")]:  # a write that had not returned may
            assert fs.read_bytes(path) == written.get(path, fs.read_bytes(path))  # exist
        check_recovered(fs, written)
    elif scenario == "rename-persisted":
        assert fs.read_bytes("/C/B/01") == b"persisted"
        assert not fs.exists("/A")
        assert ufs_tree(fs.config.root_ufs_dir) == {"C", "C/B", "C/B/01"}
        check_recovered(fs, {"/C/B/01": b"persisted"})
    else:
        fs.close()  # one owner per home: reopen it with metadata sync on every access
        fs2 = make_fs(home=home, sync_interval_ms=0)
        assert not fs2.exists("/D")  # no ghost re-imported from the UFS
        assert ufs_tree(fs.config.root_ufs_dir) == set()
