"""Suite ``meta``: metadata operations through the embedded client against the local FS.

Per round and side: create+close *n* empty files, create+close *n* files of 4 KiB
(write type MUST_CACHE), stat all of them, rename the empty ones, delete all of them;
and list a directory of 10,000 entries (made once, before the rounds).  The baseline
does the same with ``os.open/write/close``, ``os.stat``, ``os.rename``, ``os.unlink``
and ``os.scandir`` plus a stat per entry (an ``ls -l``: what siltfs's ``ls`` returns).
The targets are absolute siltfs rates (issue #7); the ratio to the local FS is shown for
information.
"""

from __future__ import annotations

import os

from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    Figure,
    Samples,
    Stopwatch,
    SuiteResult,
    alternate,
    open_siltfs,
    payload,
)
from siltfs.model.enums import WriteType

MUST_CACHE = WriteType.MUST_CACHE
LOCAL = "local fs"
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


def run(ctx: BenchContext) -> SuiteResult:
    n = ctx.size(2_000, 300)  # files of each kind per round
    entries = ctx.size(10_000, 1_000)  # the listed directory
    listings = ctx.size(5, 3)  # listings of it per round
    data = payload(4096, seed=1)
    local_root = ctx.dir("local")
    fs = open_siltfs(ctx.dir("home"))
    try:
        ctx.log(f"making a directory of {entries:,} entries on both sides")
        fs.mkdir("/big", write_type=MUST_CACHE)
        for i in range(entries):
            fs.open(f"/big/f{i:05d}", "wb", write_type=MUST_CACHE).close()
        big = local_root / "big"
        big.mkdir()
        for i in range(entries):
            os.close(os.open(big / f"f{i:05d}", _FLAGS, 0o644))

        def silt(r: int, w: Stopwatch) -> None:
            d = f"/r{r}"
            fs.mkdir(d, write_type=MUST_CACHE)
            empty = [f"{d}/e{i:05d}" for i in range(n)]
            full = [f"{d}/d{i:05d}" for i in range(n)]
            moved = [f"{d}/m{i:05d}" for i in range(n)]
            with w.time("create_empty", n):
                for p in empty:
                    fs.open(p, "wb", write_type=MUST_CACHE).close()
            with w.time("create_4k", n):
                for p in full:
                    with fs.open(p, "wb", write_type=MUST_CACHE) as f:
                        f.write(data)
            with w.time("stat", 2 * n):
                for p in empty:
                    fs.stat(p)
                for p in full:
                    fs.stat(p)
            with w.time("ls", entries * listings):
                for _ in range(listings):
                    assert len(fs.ls("/big")) == entries
            with w.time("rename", n):
                for src, dst in zip(empty, moved, strict=True):
                    fs.rename(src, dst)
            with w.time("delete", 2 * n):
                for p in moved:
                    fs.delete(p)
                for p in full:
                    fs.delete(p)
            fs.delete(d)

        def local(r: int, w: Stopwatch) -> None:
            d = local_root / f"r{r}"
            d.mkdir()
            empty = [str(d / f"e{i:05d}") for i in range(n)]
            full = [str(d / f"d{i:05d}") for i in range(n)]
            moved = [str(d / f"m{i:05d}") for i in range(n)]
            with w.time("create_empty", n):
                for p in empty:
                    os.close(os.open(p, _FLAGS, 0o644))
            with w.time("create_4k", n):
                for p in full:
                    fd = os.open(p, _FLAGS, 0o644)
                    os.write(fd, data)
                    os.close(fd)
            with w.time("stat", 2 * n):
                for p in empty:
                    os.stat(p)
                for p in full:
                    os.stat(p)
            with w.time("ls", entries * listings):
                for _ in range(listings):
                    with os.scandir(big) as it:
                        listed = [(e.name, e.is_dir(), e.stat()) for e in it]
                    assert len(listed) == entries
            with w.time("rename", n):
                for src, dst in zip(empty, moved, strict=True):
                    os.rename(src, dst)
            with w.time("delete", 2 * n):
                for p in moved:
                    os.unlink(p)
                for p in full:
                    os.unlink(p)
            d.rmdir()

        samples = alternate(ctx.rounds, [(SILT, silt), (BASE, local)], log=ctx.log)
    finally:
        fs.close()
    return SuiteResult(
        "meta",
        _figures(samples, entries),
        {
            "files_per_round": n,
            "listed_entries": entries,
            "listings_per_round": listings,
            "write_type": "MUST_CACHE",
            "rounds": ctx.rounds,
        },
    )


def _figures(s: Samples, entries: int) -> list[Figure]:
    return [
        s.figure(
            "create_empty", "create+close empty", "files/s", baseline_label=LOCAL, target_abs=5_000
        ),
        s.figure(
            "create_4k", "create+close 4 KiB", "files/s", baseline_label=LOCAL, target_abs=5_000
        ),
        s.figure("stat", "stat", "ops/s", baseline_label=LOCAL, target_abs=50_000),
        s.figure(
            "ls",
            f"ls of {entries:,} entries",
            "entries/s",
            baseline_label=LOCAL,
            target_abs=200_000,
        ),
        s.figure("rename", "rename", "ops/s", baseline_label=LOCAL),
        s.figure("delete", "delete", "ops/s", baseline_label=LOCAL),
    ]
