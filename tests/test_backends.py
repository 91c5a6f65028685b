"""Backends chosen by scheme from one table per kind (siltfs.backends), imported lazily,
with the install hint when an optional dependency is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from siltfs.backends import METASTORE_BACKENDS, UFS_BACKENDS, Backend, uri_scheme
from siltfs.errors import InvalidArgument, UfsError
from siltfs.metastore import get_metastore_class, is_postgres_uri
from siltfs.metastore.sqlite import SqliteMetastore
from siltfs.ufs.fsspec_ufs import FsspecUfs
from siltfs.ufs.registry import get_ufs_class

SRC = Path(__file__).resolve().parents[1] / "src"


def run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_every_entry_names_a_class_that_imports() -> None:
    for scheme in UFS_BACKENDS:
        assert issubclass(get_ufs_class(scheme), FsspecUfs)  # type: ignore[arg-type]
    for scheme in METASTORE_BACKENDS:
        assert get_metastore_class(scheme).__name__ == "PostgresMetastore"  # type: ignore[attr-defined]


def test_lookup() -> None:
    from siltfs.ufs.s3 import S3Ufs

    assert get_ufs_class("S3") is S3Ufs and get_ufs_class("s3a") is S3Ufs
    assert get_ufs_class("file") is FsspecUfs and get_ufs_class("memory") is FsspecUfs
    assert get_metastore_class(None) is SqliteMetastore
    assert is_postgres_uri("postgres://h/db") and not is_postgres_uri("/tmp/m.db")
    assert uri_scheme("postgresql://x") == "postgresql" and uri_scheme("a/b.db") is None
    with pytest.raises(InvalidArgument, match="unsupported metastore URI scheme 'mysql'"):
        get_metastore_class("mysql")


def test_a_missing_module_is_our_error_with_the_hint() -> None:
    backend = Backend("siltfs_no_such_module:Thing", "pip install 'siltfs[thing]'")
    with pytest.raises(UfsError) as info:
        backend.load(UfsError, "a thing:// under-storage", "thing://x")
    assert "pip install 'siltfs[thing]'" in str(info.value)
    assert "siltfs_no_such_module" in str(info.value) and info.value.path == "thing://x"
    with pytest.raises(InvalidArgument, match="is not a class"):
        Backend("siltfs.errors:NO_SUCH").load(InvalidArgument, "x")


@pytest.mark.parametrize(
    ("blocked", "code", "error", "hint"),
    [
        (
            "s3fs",
            "from siltfs.ufs.registry import open_ufs; open_ufs('s3://b/p')",
            "UfsError",
            "pip install 'siltfs[s3]'",
        ),
        (
            "psycopg",
            "from siltfs.metastore import open_metastore; open_metastore('postgresql://h/d')",
            "InvalidArgument",
            "pip install 'siltfs[postgres]'",
        ),
    ],
)
def test_an_uninstalled_dependency_fails_only_its_scheme(
    blocked: str, code: str, error: str, hint: str
) -> None:
    """In a child where the package cannot be imported (``sys.modules[name] = None``)."""
    guard = f"import sys; sys.modules[{blocked!r}] = None\n"
    other = "from siltfs.ufs.registry import open_ufs; open_ufs('memory://ok')\n"
    out = run(
        guard + other + f"try:\n    {code}\nexcept Exception as e:\n"
        "    print(type(e).__name__, e.path, e)\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(error + " "), out.stdout
    assert hint in out.stdout


def test_no_import_cycle_between_the_ufs_modules() -> None:
    """fsspec_ufs does not know s3 (s3 builds on it); importing it loads neither s3 nor the
    registry."""
    out = run("import sys, siltfs.ufs.fsspec_ufs; print('\\n'.join(sorted(sys.modules)))")
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.split()
    assert "siltfs.ufs.fsspec_ufs" in loaded
    assert "siltfs.ufs.s3" not in loaded and "siltfs.ufs.registry" not in loaded
    source = (SRC / "siltfs" / "ufs" / "fsspec_ufs.py").read_text()
    assert "siltfs.ufs.s3" not in source and "siltfs.ufs.registry" not in source
