"""The ``silt`` command line against a real embedded siltfs (SQLite, local UFS, no mocks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import siltfs
from siltfs.cli.main import cli

Silt = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SILT_MASTER", raising=False)
    monkeypatch.delenv("SILT_HOME", raising=False)
    return tmp_path / "home"


@pytest.fixture
def silt(home: Path) -> Silt:
    """Run ``silt --home <home> fs ARGS...``; by default assert it succeeded."""
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(cli, ["--home", str(home), "fs", *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result

    return run


def _error_line(result: Result) -> str:
    """The single error line of a failed command (and nothing on stdout)."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("silt: error: ")
    assert "Traceback" not in result.output
    return lines[0]


def _local(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _stat(silt: Silt, path: str) -> dict[str, object]:
    info = json.loads(silt("stat", "--json", path).stdout)
    assert isinstance(info, dict)
    return info


def test_mkdir_parents_and_ls(silt: Silt) -> None:
    silt("mkdir", "-p", "/a/b/c", "/x")
    silt("mkdir", "-p", "/a/b/c")  # exists: fine with -p
    top = silt("ls", "/").stdout.split()
    assert "/a" in top and "/x" in top
    deep = silt("ls", "-R", "/a").stdout.split()
    assert sorted(deep) == ["/a/b", "/a/b/c"]
    again = silt("mkdir", "/a", ok=False)
    assert "/a" in _error_line(again)


def test_put_cat_round_trip(silt: Silt, tmp_path: Path) -> None:
    data = os.urandom(300_000) + b"\x00\n\xff"
    local = _local(tmp_path, "blob.bin", data)
    silt("mkdir", "/data")
    silt("put", "--write-type", "must_cache", str(local), "/data/blob.bin")
    assert silt("cat", "/data/blob.bin").stdout_bytes == data
    assert silt("cat", "--read-type", "NO_CACHE", "/data/blob.bin").stdout_bytes == data
    # into an existing directory, under the alias
    silt("copyFromLocal", "--write-type", "CACHE_THROUGH", str(local), "/data")
    assert silt("cat", "/data/blob.bin").stdout_bytes == data
    out = tmp_path / "out.bin"
    silt("get", "/data/blob.bin", str(out))
    assert out.read_bytes() == data
    outdir = tmp_path / "outdir"
    outdir.mkdir()
    silt("copyToLocal", "/data/blob.bin", str(outdir))
    assert (outdir / "blob.bin").read_bytes() == data


def test_put_and_get_directory_recursively(silt: Silt, tmp_path: Path) -> None:
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "one.txt").write_bytes(b"one")
    (src / "sub" / "two.txt").write_bytes(b"two")
    assert "use -R" in _error_line(silt("put", str(src), "/tree", ok=False))
    silt("put", "-R", str(src), "/tree")
    assert silt("cat", "/tree/sub/two.txt").stdout_bytes == b"two"
    back = tmp_path / "back"
    silt("get", "-R", "/tree", str(back))
    assert (back / "one.txt").read_bytes() == b"one"
    assert (back / "sub" / "two.txt").read_bytes() == b"two"


def test_local_path_errors(silt: Silt, tmp_path: Path) -> None:
    line = _error_line(silt("put", str(tmp_path / "nope.txt"), "/nope.txt", ok=False))
    assert "nope.txt" in line
    silt("touch", "/t")
    line = _error_line(silt("get", "/t", str(tmp_path / "no" / "dir" / "t"), ok=False))
    assert str(tmp_path / "no" / "dir") in line and ".silt" not in line


def test_ls_long_and_json(silt: Silt, tmp_path: Path) -> None:
    silt("mkdir", "/d")
    silt("put", "--write-type", "MUST_CACHE", str(_local(tmp_path, "f", b"x" * 1234)), "/d/f")
    lines = silt("ls", "-l", "/d").stdout.splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("-rw-")
    assert line.endswith("/d/f")
    assert " 1234 " in line
    assert "NOT_PERSISTED" in line
    assert "100%" in line
    assert silt("ls", "-l", "/").stdout.startswith("drwx")
    entries = json.loads(silt("ls", "--json", "/d").stdout)
    assert [e["path"] for e in entries] == ["/d/f"]
    assert entries[0]["length"] == 1234
    assert entries[0]["is_dir"] is False
    assert entries[0]["persistence_state"] == "NOT_PERSISTED"


def test_stat_json_fields(silt: Silt, tmp_path: Path) -> None:
    silt("put", "--write-type", "MUST_CACHE", str(_local(tmp_path, "f", b"hello")), "/f")
    info = _stat(silt, "/f")
    for key in (
        "path",
        "name",
        "id",
        "is_dir",
        "length",
        "mtime",
        "block_size",
        "block_ids",
        "persistence_state",
        "cached_percent",
        "pinned",
        "ttl",
        "ttl_action",
        "generation",
        "mount_point",
    ):
        assert key in info, key
    assert info["path"] == "/f" and info["name"] == "f"
    assert info["length"] == 5 and info["is_dir"] is False
    assert info["cached_percent"] == 100
    human = silt("stat", "/f").stdout
    assert "/f" in human and "NOT_PERSISTED" in human


def test_touch_mv_rm(silt: Silt) -> None:
    silt("mkdir", "/src", "/dst")
    silt("touch", "--write-type", "MUST_CACHE", "/src/t")
    assert _stat(silt, "/src/t")["length"] == 0
    silt("mv", "/src/t", "/src/u")
    assert "/src/t" in _error_line(silt("stat", "/src/t", ok=False))
    silt("mv", "/src/u", "/dst")  # into the existing directory
    assert silt("ls", "/dst").stdout.split() == ["/dst/u"]
    silt("touch", "/src/v")
    assert _error_line(silt("rm", "/src", ok=False))  # not empty, needs -R
    silt("rm", "-R", "/src")
    silt("rm", "-r", "/dst")
    assert silt("ls", "/").stdout.split() == []


def test_errors_are_one_line(silt: Silt) -> None:
    line = _error_line(silt("cat", "/missing/file.txt", ok=False))
    assert "/missing/file.txt" in line
    line = _error_line(silt("mkdir", "relative/dir", ok=False))
    assert "relative/dir" in line and "absolute" in line
    line = _error_line(silt("head", "/", ok=False))
    assert "directory" in line


def test_usage_error_is_exit_2(silt: Silt) -> None:
    assert silt("ls", "--bogus", ok=False).exit_code == 2
    assert silt("put", "--write-type", "SOMETIMES", "/a", "/b", ok=False).exit_code == 2
    assert silt("mount", "-o", "novalue", "/m", "file:///tmp", ok=False).exit_code == 2


def test_head_and_tail(silt: Silt, tmp_path: Path) -> None:
    data = bytes(range(256)) * 20
    silt("put", "--write-type", "MUST_CACHE", str(_local(tmp_path, "f", data)), "/f")
    assert silt("head", "-c", "10", "/f").stdout_bytes == data[:10]
    assert silt("head", "/f").stdout_bytes == data[:1024]
    assert silt("head", "-c", "999999", "/f").stdout_bytes == data
    assert silt("tail", "-c", "7", "/f").stdout_bytes == data[-7:]
    assert silt("tail", "--read-type", "cache_promote", "/f").stdout_bytes == data[-1024:]
    assert silt("tail", "-c", "0", "/f").stdout_bytes == b""
    silt("touch", "/empty")
    assert silt("head", "/empty").stdout_bytes == b""
    assert silt("tail", "/empty").stdout_bytes == b""


def test_du(silt: Silt, tmp_path: Path) -> None:
    silt("mkdir", "-p", "/du/sub")
    silt("put", "--write-type", "MUST_CACHE", str(_local(tmp_path, "a", b"a" * 100)), "/du/a")
    silt("put", "--write-type", "MUST_CACHE", str(_local(tmp_path, "b", b"b" * 50)), "/du/sub/b")
    total = json.loads(silt("du", "-s", "--json", "/du").stdout)
    assert total["length"] == 150
    assert total["cached_bytes"] == 150
    assert total["files"] == 2
    rows = json.loads(silt("du", "--json", "/du").stdout)
    assert {r["path"]: r["length"] for r in rows} == {"/du/a": 100, "/du/sub": 50}
    human = silt("du", "/du").stdout
    assert "/du/sub" in human


def test_pin_unpin_and_ttl(silt: Silt) -> None:
    silt("touch", "/p")
    silt("pin", "/p")
    assert _stat(silt, "/p")["pinned"] is True
    silt("unpin", "/p")
    assert _stat(silt, "/p")["pinned"] is False
    silt("setTtl", "/p", "3600000", "--action", "free")
    info = _stat(silt, "/p")
    assert info["ttl"] == 3600000 and info["ttl_action"] == "FREE"
    silt("setTtl", "/p", "7200000", "--action", "DELETE")
    info = _stat(silt, "/p")
    assert info["ttl"] == 7200000 and info["ttl_action"] == "DELETE"
    silt("unsetTtl", "/p")
    assert _stat(silt, "/p")["ttl"] is None


def test_mount_a_local_directory(silt: Silt, tmp_path: Path) -> None:
    ext = tmp_path / "external"
    (ext / "sub").mkdir(parents=True)
    (ext / "a.txt").write_bytes(b"outside")
    (ext / "sub" / "b.txt").write_bytes(b"beneath")
    silt("mount", "/ext", ext.as_uri())
    assert sorted(silt("ls", "/ext").stdout.split()) == ["/ext/a.txt", "/ext/sub"]
    assert silt("cat", "/ext/a.txt").stdout_bytes == b"outside"
    assert silt("cat", "/ext/sub/b.txt").stdout_bytes == b"beneath"
    assert _stat(silt, "/ext")["mount_point"] is True

    ro = tmp_path / "readonly"
    ro.mkdir()
    (ro / "c.txt").write_bytes(b"c")
    silt("mount", "--read-only", "--sync-interval", "0", "/ro", ro.as_uri())
    assert silt("ls", "/ro").stdout.split() == ["/ro/c.txt"]
    table = {m["path"]: m for m in json.loads(silt("mounts", "--json").stdout)}
    assert table["/ext"]["read_only"] is False
    assert table["/ro"]["read_only"] is True
    assert table["/ro"]["sync_interval_ms"] == 0
    assert "/ext" in silt("mounts").stdout

    silt("unmount", "/ro")
    assert "/ro" not in {m["path"] for m in json.loads(silt("mounts", "--json").stdout)}
    assert (ro / "c.txt").read_bytes() == b"c"  # the under-storage is untouched


def test_async_write_then_wait_persisted(silt: Silt, home: Path, tmp_path: Path) -> None:
    data = b"write-back " * 1000
    silt("mkdir", "/async")
    silt("put", "--write-type", "ASYNC_THROUGH", str(_local(tmp_path, "f", data)), "/async/f")
    silt("wait-persisted", "/async/f", "--timeout", "30")
    assert (home / "ufs" / "async" / "f").read_bytes() == data
    assert _stat(silt, "/async/f")["persistence_state"] == "PERSISTED"
    silt("wait-persisted", "--timeout", "30")


def test_persist_free_load_json(silt: Silt, home: Path, tmp_path: Path) -> None:
    data = b"z" * 10_000
    silt("put", "--write-type", "MUST_CACHE", str(_local(tmp_path, "f", data)), "/m")
    assert json.loads(silt("persist", "--json", "/m").stdout)["scheduled"] == 1
    silt("wait-persisted", "/m", "--timeout", "30")
    assert (home / "ufs" / "m").read_bytes() == data
    freed = json.loads(silt("free", "--json", "/m").stdout)
    assert freed == {"path": "/m", "freed_bytes": len(data)}
    assert _stat(silt, "/m")["cached_percent"] == 0
    loaded = json.loads(silt("load", "--json", "/m").stdout)
    assert loaded == {"path": "/m", "loaded_bytes": len(data)}
    assert "bytes" in silt("free", "/m").stdout
    assert "loaded 10000 bytes" in silt("load", "/m").stdout


def test_load_survives_the_command(silt: Silt, tmp_path: Path) -> None:
    silt("put", "--write-type", "CACHE_THROUGH", str(_local(tmp_path, "f", b"y" * 5000)), "/m")
    silt("free", "/m")
    silt("load", "/m")
    assert _stat(silt, "/m")["cached_percent"] == 100


def test_check_consistency(silt: Silt, tmp_path: Path, home: Path) -> None:
    silt("put", "--write-type", "CACHE_THROUGH", str(_local(tmp_path, "f", b"ok")), "/ok")
    report = json.loads(silt("check-consistency", "--json", "/").stdout)
    assert report["consistent"] and report["divergences"] == []
    assert "consistent" in silt("check-consistency", "/").stdout
    (home / "ufs" / "ghost").write_bytes(b"outside")
    found = silt("check-consistency", "--json", "/", ok=False)
    assert found.exit_code == 3  # divergences remain
    report = json.loads(found.stdout)
    assert [(d["kind"], d["path"]) for d in report["divergences"]] == [("GHOST", "/ghost")]
    text = silt("check-consistency", "/", ok=False)
    assert text.exit_code == 3 and "GHOST" in text.stdout
    silt("check-consistency", "--repair", "--remove-ghosts", "/")  # all repaired: exit 0
    assert not (home / "ufs" / "ghost").exists()
    assert json.loads(silt("check-consistency", "--json", "/").stdout)["consistent"]


def test_check_consistency_exits_3_while_a_divergence_cannot_be_repaired(
    silt: Silt, tmp_path: Path, home: Path
) -> None:
    """A MUST_CACHE file whose only copy (its cached blocks) is gone is LOST: no repair
    brings it back, so even --repair exits 3; a check that cannot run exits 1."""
    silt("put", "--write-type", "MUST_CACHE", str(_local(tmp_path, "m", b"only here")), "/m")
    for block in (home / "cache").rglob("blocks/*"):
        block.unlink()
    for args in (["/"], ["--repair", "/"], ["--repair", "--json", "/"]):
        result = silt("check-consistency", *args, ok=False)
        assert result.exit_code == 3 and "LOST" in result.stdout, (args, result.stdout)
    failed = silt("check-consistency", "/nope", ok=False)
    assert failed.exit_code == 1 and "no such file or directory" in failed.stderr


def test_help_lists_commands(silt: Silt) -> None:
    text = silt("--help").stdout
    for name in ("ls", "copyFromLocal", "setTtl", "wait-persisted", "check-consistency"):
        assert name in text


def test_console_entry_in_subprocess(tmp_path: Path) -> None:
    src = str(Path(siltfs.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k not in ("SILT_MASTER", "SILT_HOME")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    home = str(tmp_path / "home")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "siltfs.cli.main", "--home", home, "fs", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    failed = run("cat", "/no/such/file")
    assert failed.returncode == 1
    assert failed.stdout == ""
    lines = failed.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("silt: error: ")
    assert "/no/such/file" in lines[0]

    assert run("mkdir", "/made").returncode == 0
    listed = run("ls", "/")
    assert listed.returncode == 0 and listed.stdout.split() == ["/made"]

    usage = run("ls", "--no-such-option")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_jobs_commands(home: Path) -> None:
    runner = CliRunner()

    def jobs(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, ["--home", str(home), "jobs", *args], catch_exceptions=False)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    home.mkdir()
    (home / "silt.toml").write_text("[persist]\nenabled = false\n")  # no persister runs
    CliRunner().invoke(cli, ["--home", str(home), "fs", "touch", "/queued"])
    [job] = json.loads(jobs("ls", "--json").stdout)
    assert job["path"] == "/queued" and job["state"] == "PENDING"
    assert "/queued" in jobs("ls", "--state", "pending").stdout
    assert json.loads(jobs("ls", "--state", "failed", "--json").stdout) == []
    assert json.loads(jobs("show", "--json", str(job["id"])).stdout)["id"] == job["id"]
    assert "1 job(s) re-queued" in jobs("retry", str(job["id"])).stdout
    jobs("retry", code=2)
    jobs("cancel", str(job["id"]))
    assert json.loads(jobs("ls", "--json").stdout) == []
    err = jobs("show", "999", code=1).stderr
    assert "999" in err and len(err.strip().splitlines()) == 1
