"""One owner per home (siltfs.home): the lock, ``master.json``, and everything that would
open a home going through the master serving it -- with real processes."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

import siltfs
from siltfs import errors
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.client.remote import RemoteFileSystem
from siltfs.home import HomeLock, running_master
from tests.servers import SRC, MasterProcess


def silt(
    home: Path,
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    for key in ("SILT_MASTER", "SILT_TOKEN"):
        if key not in (env or {}):
            full.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "siltfs.cli.main", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def master(tmp_path: Path) -> Iterator[MasterProcess]:
    m = MasterProcess(tmp_path / "home").start()
    try:
        yield m
    finally:
        m.kill()


def test_a_home_has_one_owner_in_process(tmp_path: Path) -> None:
    home = tmp_path / "h"
    fs = siltfs.open_embedded(home)
    try:
        with pytest.raises(errors.HomeLocked) as info:
            siltfs.open_embedded(home)
        assert str(home) in str(info.value) and str(os.getpid()) in str(info.value)
        assert isinstance(info.value, BlockingIOError)
    finally:
        fs.close()
    again = siltfs.open_embedded(home)  # closing released the lock
    again.close()


def test_the_lock_is_released_when_its_process_dies(tmp_path: Path) -> None:
    home = tmp_path / "h"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, siltfs; fs = siltfs.open_embedded(sys.argv[1]); print('open', flush=True);"
            " sys.stdin.read()",
            str(home),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "open"
        with pytest.raises(errors.HomeLocked, match=str(child.pid)):
            HomeLock(home).acquire()
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        HomeLock(home).acquire().release()
    finally:
        if child.poll() is None:
            child.kill()


def test_the_cli_beside_a_master_goes_through_it_and_loses_nothing(
    master: MasterProcess,
) -> None:
    home = master.home
    info = running_master(home)
    assert info is not None and info.url == master.url
    assert master.proc is not None and info.pid == master.proc.pid
    assert stat.S_IMODE((home / "master.json").stat().st_mode) == 0o600
    remote = RemoteFileSystem(master.url, master.token)
    remote.write_bytes("/cached", b"only in the cache", write_type="MUST_CACHE")
    remote.write_bytes("/async", b"write-back")
    # the scenario of the issue: the CLI on the same home, without SILT_MASTER/SILT_TOKEN
    ls = silt(home, "fs", "ls", "--json", "/")
    assert ls.returncode == 0, ls.stderr
    states = {e["name"]: e["persistence_state"] for e in json.loads(ls.stdout)}
    assert states["cached"] == "NOT_PERSISTED"
    cat = silt(home, "fs", "cat", "/cached")
    assert cat.returncode == 0 and cat.stdout == "only in the cache", cat.stderr
    waited = silt(home, "fs", "wait-persisted", "/async", "--timeout", "30")
    assert waited.returncode == 0, waited.stderr
    assert remote.read_bytes("/cached") == b"only in the cache"
    assert remote.stat("/cached").persistence_state.value == "NOT_PERSISTED"
    # the Python API and fsspec do the same
    fs = siltfs.connect(home)
    try:
        assert isinstance(fs, RemoteFileSystem)
        assert fs.read_bytes("/cached") == b"only in the cache"
    finally:
        fs.close()
    sfs = fsspec.filesystem("silt", home=str(home), skip_instance_cache=True)
    try:
        assert sfs.cat("/cached") == b"only in the cache"
    finally:
        sfs.close()
    remote.close()


def test_a_second_master_on_a_held_home_fails_at_once_naming_the_holder(
    master: MasterProcess,
) -> None:
    again = silt(master.home, "master", "--port", "0", timeout=30)
    assert again.returncode == 1
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1, again.stderr
    assert master.proc is not None
    assert str(master.proc.pid) in lines[0] and master.url in lines[0]
    up = silt(master.home, "up", "--port", "1", timeout=30)  # refused before any port check
    assert up.returncode == 1 and master.url in up.stderr


def test_a_dead_masters_record_is_ignored(tmp_path: Path) -> None:
    m = MasterProcess(tmp_path / "home").start()
    RemoteFileSystem(m.url, m.token).write_bytes("/f", b"kept", write_type="CACHE_THROUGH")
    m.kill()  # kill -9: master.json stays, the kernel dropped the lock
    assert (m.home / "master.json").exists() and running_master(m.home) is None
    fs = siltfs.connect(m.home)
    try:
        assert isinstance(fs, EmbeddedFileSystem)
        assert fs.read_bytes("/f") == b"kept"
    finally:
        fs.close()


def test_the_use_it_line_works_without_silt_token(master: MasterProcess) -> None:
    RemoteFileSystem(master.url, master.token).write_bytes("/x", b"1")
    out = silt(master.home, "fs", "ls", "/", env={"SILT_MASTER": master.url})
    assert out.returncode == 0, out.stderr
    assert "x" in out.stdout


@pytest.mark.parametrize("value", ["localhost:19998", "127.0.0.1:1", "ftp://h:1", " , "])
def test_silt_master_must_be_a_url(tmp_path: Path, value: str) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = silt(tmp_path / "home", "fs", "ls", "/", env={"SILT_MASTER": value}, cwd=cwd)
    assert out.returncode == 1
    assert out.stderr.startswith("silt: error:") and "http" in out.stderr
    assert list(cwd.iterdir()) == [] and not (tmp_path / "home").exists()


def test_connect_and_fsspec_honour_silt_master(
    master: MasterProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SILT_MASTER", master.url)
    monkeypatch.setenv("SILT_TOKEN", master.token)
    monkeypatch.setenv("SILT_HOME", str(master.home.parent / "elsewhere"))
    fs = siltfs.connect()
    try:
        assert isinstance(fs, RemoteFileSystem)
        fs.write_bytes("/via-env", b"remote")
    finally:
        fs.close()
    sfs = fsspec.filesystem("silt", skip_instance_cache=True)
    try:
        assert sfs.cat("/via-env") == b"remote"
    finally:
        sfs.close()
    assert not (master.home.parent / "elsewhere").exists()


def _loose(home: Path) -> list[str]:
    """Entries under *home* readable by group or others -- the root UFS's user data and
    the operator's own silt.toml aside."""
    out = []
    for dirpath, dirnames, filenames in os.walk(home):
        rel = Path(dirpath).relative_to(home)
        if rel.parts[:1] == ("ufs",):
            continue
        for name in [*dirnames, *filenames, "."]:
            p = Path(dirpath) / name
            if p.is_symlink() or (rel == Path(".") and name == "silt.toml"):
                continue
            if stat.S_IMODE(p.stat().st_mode) & 0o077:
                out.append(f"{rel / name} {oct(stat.S_IMODE(p.stat().st_mode))}")
    return out


def test_an_embedded_home_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        home = tmp_path / "a" / "home"
        with siltfs.open_embedded(home) as fs:
            fs.write_bytes("/f", b"x" * 10, write_type="MUST_CACHE")
            fs.write_bytes("/g", b"y" * 10)
            fs.wait_persisted("/", timeout=30)
            assert (home / "metastore.db").exists()
            assert _loose(home) == []
    finally:
        os.umask(old)


def test_a_served_home_is_private(master: MasterProcess) -> None:
    remote = RemoteFileSystem(master.url, master.token)
    remote.write_bytes("/f", b"x", write_type="MUST_CACHE")
    remote.close()
    assert (master.home / "token").exists() and (master.home / "master.json").exists()
    assert _loose(master.home) == []
