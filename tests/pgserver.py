"""A throwaway PostgreSQL cluster for the test session, and a fresh store per test.

``postgres_server`` runs ``initdb`` + ``pg_ctl start`` from the PostgreSQL binaries
(``/usr/lib/postgresql/<version>/bin``, installed with apt if missing; the code is
:mod:`siltfs.testing.postgres`) on a free port of
127.0.0.1, with fsync off; as root, the server runs as the ``postgres`` user.  It is
stopped (``-m immediate``) and removed at the end of the session.

``postgres_dsn`` gives one test a fresh, empty schema of the session's test database
(``?options=-csearch_path=<schema>``: everything siltfs creates lands there), because
``CREATE DATABASE`` copies a template and takes up to half a second on a busy disk, a
schema a few milliseconds.  At teardown every other session on the test database is
ended (as ``DROP DATABASE ... WITH (FORCE)`` would) and the schema dropped.  Advisory
locks are per database, so tests on one server run one at a time (one server per pytest
process).  ``postgres_database`` gives a test a database of its own instead, for
database-wide changes (``ALTER DATABASE``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from siltfs.testing.postgres import PostgresServer, PostgresUnavailable, throwaway_postgres

TEST_DB = "silt_tests"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's server (see siltfs.testing.postgres).  Without server binaries the
    PostgreSQL tests skip -- or fail when ``SILT_REQUIRE_POSTGRES=1`` (``./test.sh``)."""
    try:
        cluster = throwaway_postgres()
        server = cluster.__enter__()
    except PostgresUnavailable as exc:
        if os.environ.get("SILT_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(str(exc))
    try:
        import psycopg

        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{TEST_DB}"')
        yield server
    finally:
        cluster.__exit__(None, None, None)


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """The DSN of a new, empty schema private to this test (dropped afterwards)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = postgres_server.dsn(TEST_DB)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{dsn}?options=-csearch_path%3D{schema}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The DSN of a new, empty database private to this test (dropped afterwards)."""
    import psycopg

    name = f"silt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.dsn(name)
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
