"""The PostgreSQL metastore: the shared conformance suite, plus what only a database
shared by several masters needs (migrations, SKIP LOCKED claims, the advisory namespace
lock, latches across instances, errors)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from siltfs.config import SiltConfig, config_from_dict
from siltfs.errors import InvalidArgument, SiltError, Unavailable, WrongType
from siltfs.metastore import open_metastore
from siltfs.metastore.abc import Latch, Metastore
from siltfs.metastore.postgres import (
    MIGRATIONS,
    NAMESPACE_LOCK,
    SCHEMA_VERSION,
    PostgresMetastore,
    migrate,
    redact_dsn,
)
from siltfs.metastore.sqlite import SqliteMetastore
from siltfs.model.enums import JobState
from siltfs.testing.metastore import NOW, MetastoreTests, StoreFactory, make_tree
from siltfs.testing.postgres import free_port
from tests.pgserver import PostgresServer

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def make_pg(postgres_dsn: str) -> Iterator[Callable[..., PostgresMetastore]]:
    opened: list[PostgresMetastore] = []

    def factory(**kwargs: int) -> PostgresMetastore:
        store = PostgresMetastore(postgres_dsn, **kwargs)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


class TestPostgresMetastore(MetastoreTests):
    @pytest.fixture
    def make_store(self, make_pg: Callable[..., PostgresMetastore]) -> StoreFactory:
        return make_pg


def _versions(dsn: str) -> list[int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT version FROM silt_schema_version ORDER BY version")
        return [r[0] for r in rows]


# migrations ----------------------------------------------------------------------------
def test_migrations_are_versioned_and_idempotent(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        assert migrate(conn, MIGRATIONS[:1]) == 1  # a database of an older siltfs
        conn.execute("INSERT INTO silt_mounts (path, uri) VALUES ('/old', 'memory://old')")
    assert _versions(postgres_dsn) == [1]
    for _ in range(2):  # upgrades once, then finds nothing to do
        store = PostgresMetastore(postgres_dsn)
        try:
            assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
            with store.transaction() as txn:
                assert [m.path for m in txn.list_mounts()] == ["/old"]
                txn.add_latch(1, "/", "me", NOW + 1)  # the table of migration 2 is there
        finally:
            store.close()
    assert _versions(postgres_dsn) == list(range(1, SCHEMA_VERSION + 1))


def test_masters_starting_at_once_migrate_once(postgres_dsn: str) -> None:
    stores: list[PostgresMetastore] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        try:
            start.wait()
            stores.append(PostgresMetastore(postgres_dsn, pool_size=2))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert _versions(postgres_dsn) == list(range(1, SCHEMA_VERSION + 1))
        with stores[0].snapshot() as txn:
            assert txn.count_children(1) == 0  # one root, no duplicate rows
    finally:
        for store in stores:
            store.close()


def test_a_newer_schema_is_refused(make_pg: Callable[..., PostgresMetastore]) -> None:
    store = make_pg()
    with psycopg.connect(store.dsn) as conn:
        conn.execute(
            "INSERT INTO silt_schema_version VALUES (%s, 'from the future', 0)",
            (SCHEMA_VERSION + 1,),
        )
    with pytest.raises(SiltError, match="schema version"):
        make_pg()


# writers and claims across masters -----------------------------------------------------
def test_two_masters_claiming_never_share_a_job(make_pg: Callable[..., PostgresMetastore]) -> None:
    masters = [make_pg(pool_size=3), make_pg(pool_size=3)]
    tree = make_tree(masters[0], [f"f{i}" for i in range(80)])
    with masters[0].transaction() as txn:
        for inode in tree.values():
            txn.insert_job(inode.id, 1, NOW)
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claimer(store: Metastore, owner: str) -> None:
        try:
            start.wait()
            mine: list[int] = []
            while True:
                with store.transaction() as txn:
                    batch = txn.claim_jobs(owner, NOW, 10_000, 2)
                if not batch:
                    break
                mine += [j.id for j in batch]
            got[owner] = mine
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=claimer, args=(masters[i % 2], f"m{i % 2}-t{i}")) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    claimed = [i for ids in got.values() for i in ids]
    assert len(claimed) == len(set(claimed)) == 80
    with masters[1].snapshot() as txn:
        owners = {j.id: j.lease_owner for j in txn.list_jobs(JobState.RUNNING)}
    assert all(owners[i] == owner for owner, ids in got.items() for i in ids)


def test_claim_skips_rows_locked_by_another_session(
    make_pg: Callable[..., PostgresMetastore],
) -> None:
    store = make_pg()
    tree = make_tree(store, ["a", "b"])
    with store.transaction() as txn:
        ja = txn.insert_job(tree["a"].id, 1, NOW)
        jb = txn.insert_job(tree["b"].id, 1, NOW)
    with psycopg.connect(store.dsn) as other:  # holds a row lock on job a, uncommitted
        other.execute("SELECT 1 FROM silt_jobs WHERE id = %s FOR UPDATE", (ja.id,))
        with store.transaction() as txn:
            claimed = txn.claim_jobs("me", NOW, 1000, 10)  # does not wait for the lock
        assert [j.id for j in claimed] == [jb.id]
    with store.transaction() as txn:
        assert [j.id for j in txn.claim_jobs("me", NOW, 1000, 10)] == [ja.id]


def test_a_write_cannot_nest_in_a_snapshot(make_pg: Callable[..., PostgresMetastore]) -> None:
    store = make_pg()
    with store.snapshot():
        with pytest.raises(SiltError, match="read-only snapshot"):
            with store.transaction():
                pass
    with store.transaction() as outer:
        with store.snapshot() as inner:  # a read joins the write transaction
            assert inner is outer


def test_connections_dropped_by_the_server_are_replaced(
    make_pg: Callable[..., PostgresMetastore],
) -> None:
    store = make_pg(pool_size=4)
    make_tree(store, ["f"])
    with psycopg.connect(store.dsn, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    for _ in range(6):  # every pooled connection is dead: each use gets a live one
        with store.snapshot() as txn:
            assert txn.get_child(1, "f") is not None
        assert len(store.resolve_path(["f"])) == 2


# the namespace lock --------------------------------------------------------------------
def _held_elsewhere(dsn: str) -> bool:
    """True if some session holds the namespace lock (tried without waiting)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (NAMESPACE_LOCK,)).fetchone()
        assert row is not None
        if row[0]:
            conn.execute("SELECT pg_advisory_unlock(%s)", (NAMESPACE_LOCK,))
        return not row[0]


def test_namespace_lock_excludes_another_master(
    make_pg: Callable[..., PostgresMetastore], tmp_path: Path
) -> None:
    first, second = make_pg(), make_pg()
    lock1, lock2 = first.namespace_lock(tmp_path / "a"), second.namespace_lock(tmp_path / "b")
    order: list[str] = []
    entered = threading.Event()

    def other() -> None:
        with lock2:
            order.append("second")
            entered.set()

    with lock1:
        assert _held_elsewhere(first.dsn)
        t = threading.Thread(target=other)
        t.start()
        assert not entered.wait(0.2)
        order.append("first released")
    t.join()
    assert order == ["first released", "second"]
    assert not _held_elsewhere(first.dsn)


CHILD = """
import sys
from pathlib import Path
from siltfs.metastore.postgres import PostgresMetastore
lock = PostgresMetastore(sys.argv[1]).namespace_lock(Path("."))
lock.__enter__()
print("locked", flush=True)
sys.stdin.read()
"""


def test_namespace_lock_is_released_when_its_master_dies(
    make_pg: Callable[..., PostgresMetastore], tmp_path: Path
) -> None:
    store = make_pg()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store.dsn],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        assert _held_elsewhere(store.dsn)
        got = threading.Event()
        lock = store.namespace_lock(tmp_path)

        def waiter() -> None:
            with lock:
                got.set()

        t = threading.Thread(target=waiter, daemon=True)
        t.start()
        assert not got.wait(0.2)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert got.wait(30), "the lock of a killed master was never released"
        t.join()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


# latches across masters ----------------------------------------------------------------
def test_latches_are_visible_to_every_master(make_pg: Callable[..., PostgresMetastore]) -> None:
    first, second = make_pg(), make_pg()
    with first.transaction() as txn:
        txn.add_latch(42, "/d/f", "hostA:1:abc", NOW + 5000)
    assert second.list_latches(NOW) == [Latch(42, "/d/f", "hostA:1:abc", NOW + 5000)]
    with second.snapshot() as txn:
        assert txn.list_latches(NOW + 5000) == []
    with first.transaction() as txn:
        txn.remove_latch(42)
    assert second.list_latches(NOW) == []


# errors and the factory ----------------------------------------------------------------
def test_unreachable_server_names_the_redacted_dsn() -> None:
    dsn = f"postgresql://silt:s3cret@127.0.0.1:{free_port()}/silt"
    with pytest.raises(Unavailable) as info:
        PostgresMetastore(dsn, connect_timeout_s=2)
    text = str(info.value)
    assert "s3cret" not in text and "silt:***@127.0.0.1" in text
    assert info.value.path == redact_dsn(dsn)


def test_bad_dsn_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as info:
        PostgresMetastore("host=127.0.0.1 password=s3cret nonsense")
    assert "s3cret" not in str(info.value)


def test_unknown_database_is_unavailable(postgres_server: PostgresServer) -> None:
    with pytest.raises(Unavailable, match="no_such_db"):
        PostgresMetastore(postgres_server.dsn("no_such_db"))


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u@h/db?sslmode=require", "postgres://u@h/db?sslmode=require"),
        ("postgresql://h/db?user=u&password=pw", "postgresql://h/db?user=u&password=***"),
        ("host=h user=u password=pw dbname=d", "host=h user=u password=*** dbname=d"),
        ("host=h password='p w' dbname=d", "host=h password=*** dbname=d"),
    ],
)
def test_redact_dsn(dsn: str, shown: str) -> None:
    assert redact_dsn(dsn) == shown


def test_open_metastore_picks_the_backend(postgres_dsn: str, tmp_path: Path) -> None:
    pg = open_metastore(postgres_dsn)
    try:
        assert isinstance(pg, PostgresMetastore)
    finally:
        pg.close()
    alias = open_metastore(postgres_dsn.replace("postgresql://", "postgres://", 1))
    try:
        assert isinstance(alias, PostgresMetastore)
    finally:
        alias.close()
    for target in (tmp_path / "a.db", str(tmp_path / "b.db")):
        lite = open_metastore(target)
        try:
            assert isinstance(lite, SqliteMetastore)
        finally:
            lite.close()
    with pytest.raises(InvalidArgument, match="mysql"):
        open_metastore("mysql://h/db")


def test_config_metastore_key(tmp_path: Path) -> None:
    base = SiltConfig(home=tmp_path)
    assert base.metastore_uri == tmp_path / "metastore.db"
    dsn = "postgresql://silt@db.example:5432/silt"
    assert config_from_dict({"metastore": dsn}, base).metastore_uri == dsn
    assert config_from_dict({"metastore": "meta/m.db"}, base).metastore_uri == (
        tmp_path / "meta" / "m.db"
    )
    with pytest.raises(InvalidArgument, match="mysql"):
        config_from_dict({"metastore": "mysql://db/silt"}, base)
    with pytest.raises(InvalidArgument):
        config_from_dict({"metastore": " "}, base)
    with pytest.raises(WrongType):
        config_from_dict({"metastore": 5}, base)


def test_silt_master_names_an_unreachable_metastore(tmp_path: Path) -> None:
    dsn = f"postgresql://silt:s3cret@127.0.0.1:{free_port()}/silt?connect_timeout=2"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "siltfs.cli.main",
            "--home",
            str(tmp_path),
            "master",
            "--port",
            "0",
            "--metastore",
            dsn,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert done.returncode == 1, done.stderr
    assert "s3cret" not in done.stderr
    assert "silt:***@127.0.0.1" in done.stderr and "unavailable" in done.stderr


def test_an_unreachable_database_is_unavailable_until_it_is_back(
    postgres_database: str, postgres_server: PostgresServer
) -> None:
    store = PostgresMetastore(postgres_database, pool_size=3)
    try:
        make_tree(store, ["f"])
        name = psycopg.conninfo.conninfo_to_dict(store.dsn)["dbname"]
        with psycopg.connect(postgres_server.dsn(), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            for work in (store.snapshot, store.transaction):
                with pytest.raises(Unavailable, match="not currently accepting") as info:
                    with work() as txn:
                        txn.get_child(1, "f")
                assert info.value.path == store.where
            with pytest.raises(Unavailable):
                store.resolve_path(["f"])
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        with store.transaction() as txn:  # back: works again without a restart
            assert txn.get_child(1, "f") is not None
        assert len(store.resolve_path(["f"])) == 2
    finally:
        store.close()
