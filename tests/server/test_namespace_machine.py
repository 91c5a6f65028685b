"""siltfs.testing.NamespaceStateMachine on the RemoteFileSystem against a real
``silt master`` process (the session's ``master``), with bounded examples (~20 x 20
steps) so that it stays well under a minute."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from siltfs.client.remote import RemoteFileSystem
from siltfs.testing import NamespaceStateMachine
from tests.servers import MasterProcess


def test_namespace_machine_on_a_master(master: MasterProcess) -> None:
    class OnMaster(NamespaceStateMachine):
        def make_fs(self) -> Any:
            return RemoteFileSystem(master.url, master.token)

    run_state_machine_as_test(
        OnMaster,
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
