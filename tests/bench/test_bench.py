"""``silt bench``: the command runs and its JSON has the documented shape.

Nothing here asserts anything about speed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from siltfs.bench.fusemount import fuse_available, rclone_path
from siltfs.bench.runner import BASE, SILT, Figure, Samples, Stopwatch, alternate
from siltfs.cli.main import cli

FIGURE_KEYS = {
    "suite",
    "name",
    "unit",
    "siltfs",
    "baseline",
    "baseline_label",
    "ratio",
    "target_ratio",
    "target_abs",
    "met",
    "rounds",
    "note",
}


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def test_quick_meta_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    work = tmp_path / "work"
    result = CliRunner().invoke(
        cli,
        ["bench", "meta", "--quick", "--rounds", "1", "--json", str(out), "--workdir", str(work)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "create+close empty" in result.stdout  # the table
    doc = json.loads(out.read_text())
    assert doc["schema"] == "siltfs-bench/1"
    assert doc["quick"] is True and doc["rounds"] == 1
    assert {"platform", "python", "cpus"} <= set(doc["machine"])
    [suite] = doc["suites"]
    assert suite["name"] == "meta"
    assert suite["seconds"] > 0 and suite["params"]["files_per_round"] > 0
    names = [f["name"] for f in suite["figures"]]
    assert names[:3] == ["create+close empty", "create+close 4 KiB", "stat"]
    for fig in suite["figures"]:
        assert set(fig) == FIGURE_KEYS
        assert fig["suite"] == "meta" and fig["rounds"] == 1
        assert isinstance(fig["siltfs"], float) and fig["siltfs"] > 0
        for key in ("baseline", "ratio", "target_ratio", "target_abs"):
            assert _number_or_none(fig[key]), (key, fig[key])
        assert fig["met"] in (True, False, None)
        assert (fig["met"] is None) == (fig["target_ratio"] is None and fig["target_abs"] is None)
    summary = doc["summary"]
    assert summary["figures"] == len(suite["figures"])
    assert summary["met"] + len(summary["missed"]) == summary["with_target"]
    assert list(work.iterdir()) == []  # generated data removed


def test_json_to_stdout_keeps_the_table_off_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["bench", "meta", "--quick", "--rounds", "1", "--json", "-", "--workdir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["name"] for s in doc["suites"]] == ["meta"]


def test_list_unknown_and_planned_suites() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["bench", "--list"])
    assert listing.exit_code == 0
    for name in ("meta", "small", "writeback", "read", "remote-meta", "remote-read", "mount"):
        assert name in listing.stdout
    assert "(planned)" not in listing.stdout  # the remote suites exist now
    unknown = runner.invoke(cli, ["bench", "nope"])
    assert unknown.exit_code == 2 and "unknown suite" in unknown.output


def test_quick_remote_suites_write_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    work = tmp_path / "work"
    args = ["bench", "remote-meta", "remote-read", "--quick", "--rounds", "1"]
    result = CliRunner().invoke(
        cli, [*args, "--json", str(out), "--workdir", str(work)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert [s["name"] for s in doc["suites"]] == ["remote-meta", "remote-read"]
    meta, read = doc["suites"]
    assert meta["params"]["clients"] == 8
    assert read["params"]["file_size"] == 32 * 1024 * 1024
    assert read["params"]["block_size"] == 64 * 1024 * 1024
    targets = {
        "stat, 8 concurrent clients": 0.4,
        "sequential read 32 MiB, remote over HTTP": 0.5,
        "sequential read 32 MiB, remote short-circuit": 0.8,
        "random 4 KiB reads, remote short-circuit": None,
        "random 4 KiB reads, remote over HTTP": None,
    }
    for suite in (meta, read):
        for fig in suite["figures"]:
            assert set(fig) == FIGURE_KEYS
            assert fig["suite"] == suite["name"] and fig["rounds"] == 1
            assert fig["siltfs"] > 0 and fig["baseline"] > 0 and fig["baseline_label"]
            assert fig["target_ratio"] == targets[fig["name"]]
            assert fig["met"] in ((True, False) if fig["target_ratio"] else (None,))
    assert [f["name"] for f in meta["figures"]] == ["stat, 8 concurrent clients"]
    assert [f["name"] for f in read["figures"]] == list(targets)[1:]
    assert list(work.iterdir()) == []  # generated data removed, servers stopped


def test_alternate_reverses_order_and_takes_medians() -> None:
    order: list[str] = []

    def side(name: str, seconds: list[float]) -> Any:
        def run(r: int, w: Stopwatch) -> None:
            order.append(name)
            w.samples.add(w.side, "op", 10, seconds[r])

        return run

    s: Samples = alternate(
        3, [(SILT, side(SILT, [1, 2, 4])), (BASE, side(BASE, [1, 1, 1]))], log=lambda _: None
    )
    assert order == [SILT, BASE, BASE, SILT, SILT, BASE]
    fig = s.figure("op", "op", "ops/s", baseline_label="b", target_ratio=1.0)
    assert fig.siltfs == pytest.approx(5.0) and fig.baseline == pytest.approx(10.0)
    assert fig.ratio == pytest.approx(0.5) and fig.met is False and fig.rounds == 3


def test_figure_targets() -> None:
    assert Figure("x", "ops/s", 10.0).met is None
    assert Figure("x", "ops/s", 10.0, target_abs=5).met is True
    assert Figure("x", "ops/s", 10.0, baseline=20.0, target_ratio=0.8).met is False
    both = Figure("x", "ops/s", 10.0, baseline=5.0, target_ratio=1.0, target_abs=20)
    assert both.met is False and both.target_text() == ">= 1x, >= 20 ops/s"
    assert Figure("x", "ops/s", 1.0, target_ratio=1.0).met is False  # no baseline


def test_quick_mount_suite_writes_json(tmp_path: Path) -> None:
    """``silt mount`` and ``rclone mount`` subprocesses, every figure, nothing left mounted."""
    if fuse_available() is not None or rclone_path() is None:
        if os.environ.get("SILT_REQUIRE_FUSE") == "1":
            pytest.fail(f"FUSE and rclone are required (test.sh installs them): {fuse_available()}")
        pytest.skip("FUSE or rclone not available")
    out = tmp_path / "results.json"
    work = tmp_path / "work"
    result = CliRunner().invoke(
        cli,
        ["bench", "mount", "--quick", "--rounds", "1", "--json", str(out), "--workdir", str(work)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    [suite] = json.loads(out.read_text())["suites"]
    assert suite["name"] == "mount"
    assert suite["params"]["file_size"] == 64 * 1024 * 1024
    assert suite["params"]["untar_files"] == 500
    assert suite["params"]["rclone"].startswith("rclone v")
    targets = {
        "sequential read 64 MiB, cached": (0.5, None),
        "sequential read 64 MiB, cached, vs rclone": (1.5, None),
        "sequential write 64 MiB, ASYNC_THROUGH": (0.4, None),
        "sequential write 64 MiB, ASYNC_THROUGH, vs rclone": (None, None),
        "untar 500 x 4 KiB": (None, None),
        "untar 500 x 4 KiB, vs rclone": (1.5, None),
        "stat, 4 threads, attr cache 1 s": (None, 20_000),
        "stat, 4 threads, attr cache 1 s, vs rclone": (None, None),
        "stat, 4 threads, timeouts 0": (None, 3_000),
    }
    assert [f["name"] for f in suite["figures"]] == list(targets)
    for fig in suite["figures"]:
        assert set(fig) == FIGURE_KEYS
        assert fig["suite"] == "mount" and fig["rounds"] == 1
        assert fig["siltfs"] > 0 and fig["baseline"] > 0
        assert fig["baseline_label"].startswith("rclone" if "rclone" in fig["name"] else "local")
        assert (fig["target_ratio"], fig["target_abs"]) == targets[fig["name"]]
    assert list(work.iterdir()) == []  # generated data removed
    mounted = Path("/proc/self/mounts").read_text()
    assert str(work) not in mounted  # every mount of the suite unmounted


def test_quick_mutable_suite_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    work = tmp_path / "work"
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            "mutable",
            "--quick",
            "--rounds",
            "1",
            "--json",
            str(out),
            "--workdir",
            str(work),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    [suite] = json.loads(out.read_text())["suites"]
    assert suite["name"] == "mutable"
    params = suite["params"]
    assert params["file_size"] == 64 * 1024 * 1024 and params["block_size"] == 1024 * 1024
    assert params["cache_written_bytes_append"] > 0 and params["cache_written_bytes_overwrite"] > 0
    targets = {
        "append 8 MiB in 4 KiB records to a cached 64 MiB file": (0.5, None),
        "random 4 KiB overwrite + flush, cached 64 MiB file": (0.3, None),
        "cache bytes per 4 KiB append record (blocks)": (None, None),
        "cache bytes per 4 KiB overwrite (blocks)": (None, None),
        "overwrite write amplification headroom": (None, 1.0),
    }
    assert [f["name"] for f in suite["figures"]] == list(targets)
    for fig in suite["figures"]:
        assert set(fig) == FIGURE_KEYS
        assert fig["suite"] == "mutable" and fig["rounds"] == 1
        assert fig["siltfs"] > 0
        assert (fig["target_ratio"], fig["target_abs"]) == targets[fig["name"]]
        if fig["target_ratio"] is not None:
            assert fig["baseline"] > 0 and fig["baseline_label"] == "local fs"
    assert list(work.iterdir()) == []  # generated data removed


def test_mutable_verify_raises_on_a_wrong_byte(tmp_path: Path) -> None:
    from siltfs.bench.mutable import RECORD, verify

    size, appended = 8 * RECORD, 2 * RECORD
    base, appends, patches = b"a" * size, b"b" * (appended + RECORD), b"c" * (256 * RECORD)
    files = {"append": tmp_path / "append", "overwrite": tmp_path / "overwrite"}
    files["append"].write_bytes(base + appends[:appended])
    files["overwrite"].write_bytes(base[:RECORD] + patches[:RECORD] + base[2 * RECORD :])
    args = (base, appends, patches, {RECORD: 0}, size, appended, 1)
    verify("local", lambda name: open(files[name], "rb"), *args)  # as written: no error
    broken = bytearray(files["overwrite"].read_bytes())
    broken[RECORD + 7] ^= 1
    files["overwrite"].write_bytes(bytes(broken))
    with pytest.raises(RuntimeError, match="overwrite at offset 4096 differs"):
        verify("local", lambda name: open(files[name], "rb"), *args)
