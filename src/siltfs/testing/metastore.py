"""Conformance tests every :class:`~siltfs.metastore.abc.Metastore` must pass.

Subclass :class:`MetastoreTests` in a ``test_*.py`` module (the class name must start
with ``Test``) and override the ``make_store`` fixture: it returns a factory that opens a
handle on *one* backing store private to the test (the first call creates it, later
calls reopen the same data) and closes every handle it opened at teardown::

    class TestMyMetastore(MetastoreTests):
        @pytest.fixture
        def make_store(self, tmp_path):
            opened = []
            def factory():
                opened.append(MyMetastore(tmp_path / "db"))
                return opened[-1]
            yield factory
            for store in opened:
                store.close()

Needs pytest (``pip install 'siltfs[test]'``).
"""

from __future__ import annotations

from siltfs.testing.metastore_jobs import TransactionTests
from siltfs.testing.metastore_records import (
    NOW,
    MetastoreFixtures,
    RecordTests,
    StoreFactory,
    make_tree,
    new_inode,
)

__all__ = [
    "NOW",
    "MetastoreFixtures",
    "MetastoreTests",
    "RecordTests",
    "StoreFactory",
    "TransactionTests",
    "make_tree",
    "new_inode",
]


class MetastoreTests(RecordTests, TransactionTests):
    """Every part of the Metastore contract."""
