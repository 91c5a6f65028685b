"""Suite ``scale``: create and stat through the HTTP API on SQLite and on PostgreSQL,
with one master and with two masters sharing the database -- measured in one run.

A throwaway PostgreSQL cluster is started for the suite
(:func:`siltfs.testing.postgres.throwaway_postgres`; needs the server binaries).  Three
setups run side by side, each started fresh: ``silt master`` on SQLite; ``silt master
--metastore postgresql://...``; and two such masters on one database.  Per round and
setup, 4 client threads (one :class:`RemoteFileSystem` each; with two masters, two per
master) each ``touch`` *n* new empty files (MUST_CACHE, so the figure is the metadata
path, not the UFS) in a directory of their own, then ``stat`` them; figures are the
aggregate ops/s, medians over the rounds, setups alternating.  The SQLite master is the
baseline the PostgreSQL figures are compared with; no target: the figures are reported.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from siltfs.bench.remote_meta import Master, running_master
from siltfs.bench.runner import BenchContext, Figure, Samples, Stopwatch, SuiteResult, alternate
from siltfs.client.remote import RemoteFileSystem
from siltfs.testing.postgres import create_database, throwaway_postgres

CLIENTS = 4
SQLITE, PG1, PG2 = "SQLite, 1 master", "PostgreSQL, 1 master", "PostgreSQL, 2 masters"


def _parallel(
    clients: list[RemoteFileSystem], work: Callable[[int, RemoteFileSystem], None]
) -> None:
    errors: list[BaseException] = []

    def run(i: int, fs: RemoteFileSystem) -> None:
        try:
            work(i, fs)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _side(clients: list[RemoteFileSystem], n: int, tag: str) -> Callable[[int, Stopwatch], None]:
    def side(r: int, w: Stopwatch) -> None:
        def create(i: int, fs: RemoteFileSystem) -> None:
            base = f"/{tag}/r{r}/c{i}"
            fs.mkdir(base, parents=True)
            for j in range(n):
                fs.touch(f"{base}/f{j}", write_type="MUST_CACHE")

        def stat(i: int, fs: RemoteFileSystem) -> None:
            base = f"/{tag}/r{r}/c{i}"
            for j in range(n):
                fs.stat(f"{base}/f{j}")

        with w.time("create", n * len(clients)):
            _parallel(clients, create)
        with w.time("stat", n * len(clients)):
            _parallel(clients, stat)

    return side


@contextmanager
def _masters(
    stack: ExitStack, homes: list[Path], log: Callable[[str], None], args: tuple[str, ...]
) -> Iterator[list[Master]]:
    yield [stack.enter_context(running_master(h, log, args=args)) for h in homes]


def run(ctx: BenchContext) -> SuiteResult:
    n = ctx.size(400, 40)
    with ExitStack() as stack:
        server = stack.enter_context(throwaway_postgres())
        ctx.log(f"PostgreSQL {server.bin_dir.parent.name} on {server.host}:{server.port}")
        one_db, two_db = create_database(server), create_database(server)
        sqlite = stack.enter_context(_masters(stack, [ctx.dir("sqlite")], ctx.log, ()))
        pg1 = stack.enter_context(
            _masters(stack, [ctx.dir("pg1")], ctx.log, ("--metastore", one_db))
        )
        ufs = ctx.dir("shared-ufs")
        token = secrets.token_urlsafe(32)
        homes = [ctx.dir("pg2a"), ctx.dir("pg2b")]
        for home in homes:  # one cluster, one token
            (home / "token").write_text(token + "\n")
            (home / "token").chmod(0o600)
        pg2 = stack.enter_context(
            _masters(
                stack,
                homes,
                ctx.log,
                ("--metastore", two_db, "--ufs", f"file://{ufs}"),
            )
        )
        clients: dict[str, list[RemoteFileSystem]] = {
            SQLITE: [sqlite[0].client() for _ in range(CLIENTS)],
            PG1: [pg1[0].client() for _ in range(CLIENTS)],
            PG2: [RemoteFileSystem(pg2[i % 2].url, token) for i in range(CLIENTS)],
        }
        for group in clients.values():
            for c in group:
                stack.callback(c.close)
        samples = Samples()
        sides = [
            (name, _side(group, n, f"s{k}")) for k, (name, group) in enumerate(clients.items())
        ]
        alternate(ctx.rounds, sides, samples, log=ctx.log)
    figures = []
    for metric, what in (("create", "create (touch), remote"), ("stat", "stat, remote")):
        base = samples.median(SQLITE, metric)
        figures.append(
            Figure(f"{what}: {SQLITE}", "ops/s", base, rounds=samples.rounds(SQLITE, metric))
        )
        for name in (PG1, PG2):
            figures.append(
                Figure(
                    f"{what}: {name}",
                    "ops/s",
                    samples.median(name, metric),
                    baseline=base,
                    baseline_label=SQLITE,
                    rounds=samples.rounds(name, metric),
                )
            )
    return SuiteResult(
        "scale",
        figures,
        {
            "clients": CLIENTS,
            "files_per_client_per_round": n,
            "write_type": "MUST_CACHE",
            "rounds": ctx.rounds,
            "postgres": "throwaway cluster on 127.0.0.1, fsync off",
        },
    )
