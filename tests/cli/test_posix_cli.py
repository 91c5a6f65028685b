"""``silt fs chmod/chown/touch -d/ln -s/readlink/truncate/xattr`` on a real home."""

from __future__ import annotations

import json
import stat
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
    return tmp_path / "home"


def test_metadata_commands(home: Path) -> None:
    for args in (
        ("touch", "-d", "2020-01-02T03:04:05", "/f"),
        ("chown", "12:34", "/f"),
        ("chmod", "4750", "/f"),
        ("ln", "-s", "f", "/l"),
        ("xattr", "-n", "user.k", "-v", "v1", "/f"),
    ):
        result = _silt(home, *args)
        assert result.exit_code == 0, (args, result.stderr)
    assert _silt(home, "readlink", "/l").stdout == "f\n"
    shown = _silt(home, "xattr", "--json", "/f")
    assert json.loads(shown.stdout) == {"user.k": "v1"}
    assert "-rwsr-x--- (4750)" in _silt(home, "stat", "/f").stdout
    fs = siltfs.connect(home=home)
    try:
        info = fs.stat("/f")
        assert stat.S_IMODE(info.mode) == 0o4750 and (info.uid, info.gid) == (12, 34)
        assert info.mtime_ns == 1577934245 * 10**9  # chown and chmod change only ctime
        assert fs.stat("/l").is_symlink
    finally:
        fs.close()
    assert _silt(home, "truncate", "-s", "3", "/f").exit_code == 0
    assert _silt(home, "xattr", "-n", "user.k", "-x", "/f").exit_code == 0
    assert _silt(home, "xattr", "/f").stdout == ""
    assert _silt(home, "cat", "/f").stdout_bytes == b"\0\0\0"


@pytest.mark.parametrize(
    "args",
    [
        ("chmod", "9z", "/f"),
        ("chmod", "17777", "/f"),
        ("chown", "x:y", "/f"),
        ("touch", "-d", "yesterday", "/g"),
        ("xattr", "-v", "x", "/f"),
    ],
)
def test_bad_input_changes_nothing(home: Path, args: tuple[str, ...]) -> None:
    assert _silt(home, "touch", "/f").exit_code == 0

    def listing() -> list[tuple[str, int, int, int, int]]:  # (not the persistence state)
        entries = json.loads(_silt(home, "ls", "-R", "--json", "/").stdout)
        return [(e["path"], e["length"], e["mode"], e["uid"], e["mtime_ns"]) for e in entries]

    before = listing()
    result = _silt(home, *args)
    assert result.exit_code == 1 and result.stderr.startswith("silt: error:")
    assert listing() == before
