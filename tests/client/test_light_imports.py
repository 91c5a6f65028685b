"""A remote client is light: importing it loads no master and no metastore code.

Checked in a fresh interpreter (this one has loaded everything already).  Only
``siltfs.client.remote`` is held to it: ``siltfs.fsspec`` serves embedded homes too and
imports the embedded client (and so the master) when it is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = ("siltfs.master", "siltfs.metastore")


def loaded_after(statement: str) -> list[str]:
    code = f"{statement}; import sys; print('\\n'.join(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return [m for m in out.stdout.split() if m.startswith("siltfs.")]


@pytest.mark.parametrize(
    "statement",
    [
        "import siltfs.client.remote",
        "from siltfs.client import RemoteFileSystem",
        "import siltfs.client.wire",
        "import siltfs.model.consistency, siltfs.model.jobs",
    ],
)
def test_remote_client_loads_no_master_nor_metastore(statement: str) -> None:
    modules = loaded_after(statement)
    assert "siltfs.errors" in modules  # the check sees what was loaded
    heavy = [m for m in modules if m.startswith(HEAVY)]
    assert heavy == [], f"{statement!r} loaded {heavy}"


def test_the_embedded_client_does_load_the_master() -> None:
    """The check can fail: the embedded client is the counter-example."""
    modules = loaded_after("from siltfs.client import EmbeddedFileSystem")
    assert any(m.startswith("siltfs.master") for m in modules)


def test_old_import_paths_still_work() -> None:
    from siltfs.master import consistency, queue
    from siltfs.model import consistency as model_consistency
    from siltfs.model import jobs

    assert queue.JobInfo is jobs.JobInfo
    assert consistency.ConsistencyReport is model_consistency.ConsistencyReport
    assert consistency.Divergence is model_consistency.Divergence
    assert consistency.KINDS == model_consistency.KINDS
