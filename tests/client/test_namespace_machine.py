"""siltfs.testing.NamespaceStateMachine on the embedded FileSystem (a fresh home per
example, fast persist retries).  The remote run is tests/server/test_namespace_machine.py."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import siltfs
from siltfs.testing import NamespaceStateMachine

from .conftest import fast_config


class EmbeddedNamespace(NamespaceStateMachine):
    def make_fs(self) -> Any:
        self.home = Path(tempfile.mkdtemp(prefix="silt-machine-"))
        return siltfs.connect(config=fast_config(self.home))

    def close_fs(self, fs: Any) -> None:
        fs.close()
        shutil.rmtree(self.home, ignore_errors=True)


EmbeddedNamespace.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEmbeddedNamespace = EmbeddedNamespace.TestCase


class BrokenNamespace(EmbeddedNamespace):
    """The machine can fail: a file system whose rename silently does nothing."""

    def make_fs(self) -> Any:
        fs = super().make_fs()
        fs.rename = lambda src, dst: None
        return fs


def test_the_machine_catches_a_file_system_that_lies() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            BrokenNamespace,
            settings=settings(
                max_examples=30,
                stateful_step_count=15,
                deadline=None,
                database=None,
                report_multiple_bugs=False,  # one AssertionError, not a group of them
                suppress_health_check=list(HealthCheck),
            ),
        )
