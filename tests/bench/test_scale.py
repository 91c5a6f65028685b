"""``silt bench scale --quick``: SQLite vs PostgreSQL with 1 and 2 masters, one run.

It starts its own throwaway PostgreSQL cluster; nothing here asserts anything about speed.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from siltfs.cli.main import cli


def test_quick_scale_suite_writes_json(tmp_path: Path) -> None:
    out, work = tmp_path / "results.json", tmp_path / "work"
    args = [
        "bench",
        "scale",
        "--quick",
        "--rounds",
        "1",
        "--json",
        str(out),
        "--workdir",
        str(work),
    ]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [suite] = json.loads(out.read_text())["suites"]
    assert suite["name"] == "scale" and suite["params"]["clients"] == 4
    figures = {f["name"]: f for f in suite["figures"]}
    for metric in ("create (touch), remote", "stat, remote"):
        base = figures[f"{metric}: SQLite, 1 master"]
        assert base["siltfs"] > 0 and base["baseline"] is None
        for name in ("PostgreSQL, 1 master", "PostgreSQL, 2 masters"):
            fig = figures[f"{metric}: {name}"]
            assert fig["siltfs"] > 0 and fig["baseline"] == base["siltfs"]
            assert fig["baseline_label"] == "SQLite, 1 master" and fig["rounds"] == 1
    assert list(work.iterdir()) == []  # data removed, servers and PostgreSQL stopped
