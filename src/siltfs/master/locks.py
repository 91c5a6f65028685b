"""The namespace lock (now provided by the metastore: see :mod:`siltfs.metastore.locks`
and :meth:`siltfs.metastore.abc.Metastore.namespace_lock`); re-exported here."""

from siltfs.metastore.locks import NamespaceLock

__all__ = ["NamespaceLock"]
