"""siltfs.testing.PosixFileStateMachine on the RemoteFileSystem against a real ``silt
master`` process (the session's ``master``): siltfs files against a real local directory,
the master's UFS (a local directory) checked at the end of each example.

Environment: ``SILT_POSIX_EXAMPLES`` and ``SILT_POSIX_STEPS`` for bigger runs.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from siltfs.client.remote import RemoteFileSystem
from siltfs.testing.posix_machine import DIVERGENCES, PosixFileStateMachine
from tests.servers import MasterProcess

EXAMPLES = int(os.environ.get("SILT_POSIX_EXAMPLES", "40"))
STEPS = int(os.environ.get("SILT_POSIX_STEPS", "30"))


def test_posix_machine_on_a_master(master: MasterProcess) -> None:
    class OnMaster(PosixFileStateMachine):
        # reported (see siltfs.testing.posix_state); the embedded client's alone are not
        known_divergences = frozenset(DIVERGENCES) - {
            "free-under-open-handles",
            "remote-unlinked-handle",  # remote readers hold their version (server.held)
            "unlinked-handle-commits",  # fixed: a handle knows its file by file_id
        }
        block_size = 16 * 1024  # (the master's default is 1 MiB: files of several blocks)

        def make_fs(self) -> Any:
            return RemoteFileSystem(master.url, master.token)

    run_state_machine_as_test(
        OnMaster,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
