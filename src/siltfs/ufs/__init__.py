"""Under-file-systems: the abstract contract and the fsspec-backed implementation."""

from siltfs.ufs.abc import UfsStatus, UnderFileSystem

__all__ = ["UfsStatus", "UnderFileSystem"]
