"""``silt fs count``, ``silt fs checksum`` and ``silt fs cp`` on a real home."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import siltfs
from siltfs.cli.main import cli


def _silt(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), "fs", *args], catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SILT_MASTER", raising=False)
    home = tmp_path / "home"
    fs = siltfs.connect(home=home)
    try:
        fs.write_bytes("/d/a", b"alpha")
        fs.write_bytes("/d/sub/b", b"b" * 5000)
        fs.mkdir("/d/empty")
    finally:
        fs.close()
    return home


def _tree(home: Path, path: str) -> dict[str, bytes | None]:
    fs = siltfs.connect(home=home)
    try:
        return {
            i.path: None if i.is_dir else fs.read_bytes(i.path) for i in fs.ls(path, recursive=True)
        }
    finally:
        fs.close()


def test_count(home: Path) -> None:
    out = _silt(home, "count", "/d", "/d/a")
    assert out.exit_code == 0, out.stderr
    assert [line.split() for line in out.stdout.splitlines()] == [
        ["3", "2", "5005", "/d"],
        ["0", "1", "5", "/d/a"],
    ]
    shown = json.loads(_silt(home, "count", "--json", "/d/sub").stdout)
    assert shown == [{"path": "/d/sub", "directories": 1, "files": 1, "bytes": 5000}]
    missing = _silt(home, "count", "/nope")
    assert missing.exit_code != 0 and "/nope" in missing.stderr


def test_checksum(home: Path) -> None:
    out = _silt(home, "checksum", "/d/a", "/d/sub/b")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"MD5 {hashlib.md5(b'alpha').hexdigest()} /d/a",
        f"MD5 {hashlib.md5(b'b' * 5000).hexdigest()} /d/sub/b",
    ]
    rows = json.loads(_silt(home, "checksum", "--json", "/d/a").stdout)
    assert rows[0]["checksum"] == hashlib.md5(b"alpha").hexdigest() and rows[0]["recorded"]
    refused = _silt(home, "checksum", "/d/a", "/d")
    assert refused.exit_code != 0 and "/d: is a directory" in refused.stderr
    assert refused.stdout == ""  # every path is checked before anything is printed


def test_checksum_of_a_file_loaded_from_the_ufs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SILT_MASTER", raising=False)
    home = tmp_path / "fresh"
    siltfs.connect(home=home).close()  # the home and its root UFS directory, nothing listed
    (home / "ufs" / "outside.bin").write_bytes(b"written beside siltfs")
    out = _silt(home, "checksum", "--json", "/outside.bin")
    assert out.exit_code == 0, out.stderr
    row = json.loads(out.stdout)[0]
    assert row["checksum"] == hashlib.md5(b"written beside siltfs").hexdigest()
    assert row["recorded"] is False


def test_cp_file_and_tree(home: Path) -> None:
    assert _silt(home, "cp", "/d/a", "/copy").exit_code == 0
    assert _silt(home, "cp", "/d/a", "/d/sub").exit_code == 0  # into a directory
    assert _silt(home, "cp", "-R", "/d", "/e").exit_code == 0
    tree = _tree(home, "/")
    assert tree["/copy"] == b"alpha" and tree["/d/sub/a"] == b"alpha"
    assert {p[2:]: v for p, v in tree.items() if p.startswith("/e/")} == {
        p[2:]: v for p, v in tree.items() if p.startswith("/d/")
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cp", "/d", "/x"), "/d: is a directory (use -R"),
        (("cp", "-R", "/d", "/d/sub"), "inside the directory being copied"),
        (("cp", "-n", "/d/a", "/d/sub/b"), "/d/sub/b: already exists"),
        (("cp", "/d/a", "/d/a"), "the same file"),
        (("cp", "/nope", "/x"), "/nope"),
    ],
)
def test_cp_refusals_change_nothing(home: Path, args: tuple[str, ...], message: str) -> None:
    before = _tree(home, "/")
    out = _silt(home, *args)
    assert out.exit_code != 0 and message in out.stderr
    assert _tree(home, "/") == before
