"""schemathesis (a real OpenAPI fuzzer) against a real ``silt master``: no server error,
every answer as the OpenAPI document says, and the namespace consistent afterwards.

Bounded: 15 examples per operation and 90 s for the whole run (2 cores).  ``POST
/workers/heartbeat`` is fuzzed too: workers register with the cluster secret, so the
fuzzer's admin token can only be refused (403) -- no fake worker gets into placement.
Excluded, and why:

- the check ``positive_data_acceptance``: the document cannot say that a directory cannot
  move into itself, that the root cannot be renamed or that a name longer than 255 bytes
  is refused -- those are 400 by the contract, schema-valid or not;
- the operation ``POST /wait_persisted``: a barrier that times out answers 504
  ``persist_timeout`` by contract, and whether the fuzzer's own uploads are still pending
  at its timeout depends on the machine's load.

413 counts as a rejection of invalid data (schemathesis's default list leaves it out): a
body over the 1 MiB limit is refused before it is parsed, as ``payload_too_large`` -- a
fuzzed setxattr value of 90,000 astral characters is such a body.

One worker (``-w 1``): with several threads, CPython 3.11.7's ``ast.parse`` (called by
Hypothesis to describe a filter) can raise ``SystemError: AST constructor recursion depth
mismatch`` (CPython gh-106905, fixed in 3.11.8), which schemathesis reports as a runtime
error of its coverage phase.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from siltfs.client.remote import RemoteFileSystem
from tests.servers import SILT_TOML, MasterProcess

DEFAULT_TOML = SILT_TOML.split("[security]")[0]  # a master as an operator gets it
REJECTIONS = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]


def test_the_api_survives_a_fuzzer_and_stays_consistent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "silt.toml").write_text(DEFAULT_TOML)
    master = MasterProcess(home).start()
    report = tmp_path / "report.json"
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f"[checks.negative_data_rejection]\nexpected-statuses = {json.dumps(REJECTIONS)}\n"
    )
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(config),
                "run",
                master.url + "/openapi.json",
                "-H",
                f"Authorization: Bearer {master.token}",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--exclude-path",
                "/api/v1/wait_persisted",
                "-n",
                "15",
                "--max-time",
                "90",
                "--seed",
                "16",
                "-w",
                "1",
                "--no-color",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        summary = run.stdout[-4000:]
        assert run.returncode == 0, summary + run.stderr[-2000:]
        assert "Server error" not in summary
        data = json.loads(report.read_text())
        assert data, summary
        fs = RemoteFileSystem(master.url, master.token)
        try:
            members = fs._get("/workers")
            assert [m["id"] for m in members] == ["local"], members  # no fake worker
            fs.wait_persisted("/", timeout=60)
            result = fs.check_consistency("/")
            assert result.consistent, result.to_dict()
        finally:
            fs.close()
    finally:
        master.stop()
