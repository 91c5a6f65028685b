"""siltfs.testing ships the suites: they import only the standard library, pytest,
Hypothesis and siltfs (never this repository's tests/), and importing siltfs.testing for
its fault injection needs neither pytest nor Hypothesis."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import siltfs.testing

TESTING = Path(siltfs.testing.__file__).parent
ALLOWED = {"siltfs", "pytest", "hypothesis"} | set(sys.stdlib_module_names)


def top_level_imports(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", sorted(p.name for p in TESTING.glob("*.py")))
def test_suite_modules_import_only_the_allowed(module: str) -> None:
    imported = top_level_imports(TESTING / module)
    assert imported <= ALLOWED, f"{module} imports {sorted(imported - ALLOWED)}"


def test_every_suite_is_exported() -> None:
    suites = ("UfsTests", "MetastoreTests", "FileSystemTests", "NamespaceStateMachine")
    for name in (*suites, "PosixFileStateMachine"):
        assert isinstance(getattr(siltfs.testing, name), type), name
    with pytest.raises(AttributeError):
        siltfs.testing.NoSuchSuite  # noqa: B018


def test_fault_injection_needs_no_test_dependency() -> None:
    src = Path(siltfs.__file__).resolve().parents[1]
    code = "import sys, siltfs.testing; print('pytest' in sys.modules, 'hypothesis' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["False", "False"]
