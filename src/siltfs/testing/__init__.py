"""What users of siltfs need to test against it: a fault-injecting UFS, crash points, and
the conformance suites siltfs's own backends pass.

from siltfs.testing import inject_faults
faults = inject_faults(fs)                      # wrap the root mount's UFS
faults.fail_next("move", 2, ".silt_staging/*")  # the next two commits fail
gate = faults.block("open_write", ".silt_staging/*")
...; gate.wait_reached(5); ...; gate.release()

The suites -- pytest classes to subclass, each overriding one factory fixture -- need
pytest and Hypothesis (``pip install 'siltfs[test]'``) and are imported when first named:

- :class:`UfsTests` (``make_ufs``): the UnderFileSystem contract (:mod:`siltfs.testing.ufs`).
- :class:`MetastoreTests` (``make_store``): the Metastore contract
  (:mod:`siltfs.testing.metastore`).
- :class:`FileSystemTests` (``fs``): the client contract every FileSystem -- embedded,
  remote -- keeps (:mod:`siltfs.testing.filesystem`).
- :class:`NamespaceStateMachine` (``make_fs``): a Hypothesis state machine checking a
  FileSystem against a model of its namespace (:mod:`siltfs.testing.stateful`).
- :class:`PosixFileStateMachine` (``make_fs``): a Hypothesis state machine checking a
  FileSystem's files, handles and POSIX metadata against a real local directory
  (:mod:`siltfs.testing.posix_machine`).
"""

from __future__ import annotations

from typing import Any

from siltfs.testing.faults import FaultInjectingUfs, Gate, InjectedFault, inject_faults

__all__ = [
    "FaultInjectingUfs",
    "FileSystemTests",
    "Gate",
    "InjectedFault",
    "MetastoreTests",
    "NamespaceStateMachine",
    "PosixFileStateMachine",
    "UfsTests",
    "inject_faults",
]

_SUITES = {
    "UfsTests": "siltfs.testing.ufs",
    "MetastoreTests": "siltfs.testing.metastore",
    "FileSystemTests": "siltfs.testing.filesystem",
    "NamespaceStateMachine": "siltfs.testing.stateful",
    "PosixFileStateMachine": "siltfs.testing.posix_machine",
}


def __getattr__(name: str) -> Any:
    if name in _SUITES:  # (pytest and hypothesis are test extras: import them on use)
        import importlib

        return getattr(importlib.import_module(_SUITES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
