"""Mount safety: locations resolved before overlap checks (``local://``, symlinks, chained
URLs refused), and a default ``silt master`` mounts only under its mount roots -- never
/etc, never its own home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import siltfs
from siltfs import errors
from siltfs.client.remote import RemoteFileSystem
from tests.servers import SILT_TOML, MasterProcess

DEFAULT_TOML = SILT_TOML.split("[security]")[0]


def start(home: Path, toml: str) -> MasterProcess:
    home.mkdir(parents=True)
    (home / "silt.toml").write_text(toml)
    return MasterProcess(home).start()


@pytest.fixture
def default_master(tmp_path: Path) -> Iterator[tuple[MasterProcess, RemoteFileSystem]]:
    m = start(tmp_path / "home", DEFAULT_TOML)
    fs = RemoteFileSystem(m.url, m.token)
    try:
        yield m, fs
    finally:
        fs.close()
        m.stop()


def refused(fs: RemoteFileSystem, uri: str, error: type[Exception]) -> str:
    before = [m.path for m in fs.mounts()]
    with pytest.raises(error) as info:
        fs.mount("/m", uri)
    assert [m.path for m in fs.mounts()] == before and not fs.exists("/m")
    return str(info.value)


def test_a_default_master_refuses_what_lies_outside_its_roots(
    default_master: tuple[MasterProcess, RemoteFileSystem], tmp_path: Path
) -> None:
    m, fs = default_master
    message = refused(fs, "file:///etc", errors.PermissionDenied)
    assert "/etc" in message and "mount_roots" in message
    refused(fs, "local:///etc", errors.PermissionDenied)
    for private in (m.home, m.home / "cache", m.home / "cache" / "ssd", m.home.parent):
        refused(fs, f"file://{private}", errors.PermissionDenied)
    outside = tmp_path / "outside"
    outside.mkdir()
    refused(fs, f"file://{outside}", errors.PermissionDenied)
    with pytest.raises(errors.FileNotFound):
        fs.read_bytes("/m/passwd")


def test_mount_roots_allow_what_the_operator_listed(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    (lake / "in").mkdir(parents=True)
    (lake / "in" / "f").write_bytes(b"lake data")
    (tmp_path / "elsewhere").mkdir()
    toml = DEFAULT_TOML + f'\n[security]\nmount_roots = ["{lake}"]\n'
    m = start(tmp_path / "home", toml)
    fs = RemoteFileSystem(m.url, m.token)
    try:
        fs.mount("/m", f"file://{lake}/in")
        assert fs.read_bytes("/m/f") == b"lake data"
        with pytest.raises(errors.PermissionDenied):
            fs.mount("/n", f"file://{tmp_path / 'elsewhere'}")
        with pytest.raises(errors.PermissionDenied):  # a link out of the root resolves out
            os.symlink("/etc", lake / "etc-link")
            fs.mount("/n", f"file://{lake}/etc-link")
    finally:
        fs.close()
        m.stop()


@pytest.mark.parametrize("alias", ["local://{root}/sub", "file://{link}/sub", "{root}/sub"])
def test_an_alias_of_a_mounted_location_overlaps(tmp_path: Path, alias: str) -> None:
    fs = siltfs.connect(tmp_path / "home")
    try:
        root = fs.config.root_ufs_dir
        (root / "sub").mkdir()
        os.symlink(root, tmp_path / "link")
        fs.mkdir("/alias")
        with pytest.raises(errors.MountError, match="overlaps"):
            fs.mount("/alias/x", alias.format(root=root, link=tmp_path / "link"))
    finally:
        fs.close()


def test_chained_urls_are_refused_not_a_server_error(
    default_master: tuple[MasterProcess, RemoteFileSystem], tmp_path: Path
) -> None:
    _, fs = default_master
    message = refused(fs, f"simplecache::file://{tmp_path}", errors.InvalidArgument)
    assert "chained" in message


def test_the_embedded_api_mounts_anything_its_user_can_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "anywhere"
    elsewhere.mkdir()
    (elsewhere / "f").write_bytes(b"mine")
    with siltfs.connect(tmp_path / "home") as fs:
        fs.mount("/m", f"file://{elsewhere}")
        assert fs.read_bytes("/m/f") == b"mine"
