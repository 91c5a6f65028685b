"""Metadata stores: the abstract interface and its implementations."""

from siltfs.metastore.abc import Metastore, Txn

__all__ = ["Metastore", "Txn"]
