"""What every part of the FileSystem suite shares: its fixtures and helpers.

The suite's requirements of the file system the ``fs`` fixture returns: 1 MiB blocks
(:data:`BLOCK`), one block store (an unpersisted block has one possible holder), the TTL
check at its default interval, and a namespace the test may write anywhere in (each
test works under its own fresh directory, the ``base`` fixture).  ``fs`` may be shared
between tests; it must tolerate being closed by a test, and closed twice.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from siltfs import errors
from siltfs.client.remote import RemoteFileSystem

__all__ = ["BLOCK", "FileSystemFixtures", "blob", "fails", "is_remote"]

MiB = 1024 * 1024
BLOCK = MiB  # the block size the suite's file system must use


def blob(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def is_remote(fs: Any) -> bool:
    """For the few documented, inherent differences only (see the tests using it)."""
    return isinstance(fs, RemoteFileSystem)


def fails(
    cls: type[errors.SiltError],
    path: str | None,
    call: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> errors.SiltError:
    """``call(*args, **kwargs)`` raises exactly *cls* (not a subclass) carrying *path*."""
    with pytest.raises(errors.SiltError) as info:
        call(*args, **kwargs)
    err = info.value
    assert type(err) is cls, f"{type(err).__name__} ({err}) instead of {cls.__name__}"
    assert err.path == path, f"{cls.__name__}.path is {err.path!r}, expected {path!r}"
    assert err.message and isinstance(err.message, str)
    assert isinstance(err.details, dict)
    return err


class FileSystemFixtures:
    """``fs`` (the subclass's: an embedded or remote FileSystem) and ``base``."""

    @pytest.fixture
    def fs(self) -> Any:
        raise NotImplementedError("subclasses provide the fs fixture")

    @pytest.fixture
    def base(self, fs: Any) -> str:
        """A fresh directory for this test (a remote master may be shared by every test)."""
        path = f"/t-{uuid.uuid4().hex[:10]}"
        fs.mkdir(path)
        return path
