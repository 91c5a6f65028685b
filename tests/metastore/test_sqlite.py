from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from siltfs.errors import SiltError
from siltfs.metastore.abc import Metastore
from siltfs.metastore.sqlite import SqliteMetastore
from siltfs.testing.metastore import MetastoreTests, StoreFactory


class TestSqliteMetastore(MetastoreTests):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Iterator[StoreFactory]:
        opened: list[Metastore] = []
        path = tmp_path / "meta" / "metastore.db"

        def factory() -> Metastore:
            store = SqliteMetastore(path)
            opened.append(store)
            return store

        yield factory
        for store in opened:
            store.close()


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteMetastore(tmp_path / "m.db")
    store.close()
    with pytest.raises(SiltError):
        with store.transaction() as txn:
            txn.list_mounts()


def test_creates_parent_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "m.db"
    store = SqliteMetastore(path)
    try:
        assert path.exists()
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            conn.close()
    finally:
        store.close()
