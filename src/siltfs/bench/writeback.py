"""Suite ``writeback``: ASYNC_THROUGH against THROUGH over a slow UFS, and the drain.

The root UFS is wrapped by :func:`siltfs.testing.inject_faults` with 20 ms of latency on
every UFS call.

1. Writer rates.  Per round, one batch of 64 KiB files is written ASYNC_THROUGH and one
   THROUGH (the order alternating); a rate is files whose ``close()`` returned per
   second.  The ASYNC_THROUGH batches add up to the whole file count; the persister
   drains them in the background all along, as it would in use.
2. Drain after the writes: from the last ``close()`` to ``wait_persisted`` returning.
3. Drain throughput, on a full queue: the persist uploads are held at a gate in the UFS
   wrapper while the same number of files is written again, then released; throughput
   is files over the time from the release to ``wait_persisted`` returning.  What the
   UFS allows: one persist takes *c* UFS calls of 20 ms and the runner runs
   *concurrency* persists at a time, so at most ``concurrency / (c * 0.02)`` files/s.
   *c* is counted with the wrapper's ``calls``: every UFS call of phase 3 over its files.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    Figure,
    KiB,
    Stopwatch,
    SuiteResult,
    alternate,
    open_siltfs,
    payload,
)
from siltfs.model.enums import PersistenceState, WriteType
from siltfs.testing.faults import inject_faults

if TYPE_CHECKING:
    from siltfs.client.embedded import EmbeddedFileSystem

LATENCY_S = 0.02
FILE_SIZE = 64 * KiB


def run(ctx: BenchContext) -> SuiteResult:
    total = ctx.size(2_000, 200)  # ASYNC_THROUGH files, over all rounds
    through_n = ctx.size(20, 5)  # THROUGH files per round
    rounds = ctx.rounds
    batches = [total // rounds + (1 if r < total % rounds else 0) for r in range(rounds)]
    data = payload(FILE_SIZE, seed=3)
    fs = open_siltfs(ctx.dir("home"))
    try:
        concurrency = fs.config.persist.concurrency
        commit = fs.config.persist.staging_dir + "/j"  # persist uploads: <staging>/j<inode>-...
        for r in range(rounds):  # directories exist (persisted) before the UFS slows down
            fs.mkdir(f"/async/r{r}", parents=True, write_type=WriteType.CACHE_THROUGH)
            fs.mkdir(f"/through/r{r}", parents=True, write_type=WriteType.CACHE_THROUGH)
        ufs = inject_faults(fs)
        ufs.set_latency(LATENCY_S)

        def write(path: str, wt: WriteType) -> None:
            with fs.open(path, "wb", write_type=wt) as f:
                f.write(data)

        def write_async(r: int, w: Stopwatch) -> None:
            with w.time("writer", batches[r]):
                for i in range(batches[r]):
                    write(f"/async/r{r}/f{i:05d}", WriteType.ASYNC_THROUGH)

        def write_through(r: int, w: Stopwatch) -> None:
            with w.time("writer", through_n):
                for i in range(through_n):
                    write(f"/through/r{r}/f{i:05d}", WriteType.THROUGH)

        samples = alternate(rounds, [(SILT, write_async), (BASE, write_through)], log=ctx.log)
        writes_end = time.perf_counter()
        ctx.log("draining the persist queue")
        calls_at_end = len(ufs.calls)
        fs.wait_persisted("/", timeout=max(300.0, total * 0.5))
        drain_after_s = time.perf_counter() - writes_end
        queued = sum(
            1 for op, rel in ufs.calls[calls_at_end:] if op == "move" and rel.startswith(commit)
        )
        ctx.log(f"holding the persister while {total:,} files are written, then releasing it")
        fs.mkdir("/held", write_type=WriteType.CACHE_THROUGH)
        mark = len(ufs.calls)
        gate = ufs.block("open_write", commit + "*")
        try:
            held_start = time.perf_counter()
            for i in range(total):
                write(f"/held/f{i:05d}", WriteType.ASYNC_THROUGH)
        finally:
            released = time.perf_counter()
            gate.release()
        held_writer = total / (released - held_start)
        fs.wait_persisted("/", timeout=max(300.0, total * 0.5))
        drain_s = time.perf_counter() - released
        held_calls = ufs.calls[mark:]
        commits = sum(1 for op, rel in held_calls if op == "move" and rel.startswith(commit))
        assert commits == total, (commits, total)
        calls_per_persist = len(held_calls) / total
        for d in [f"/async/r{r}" for r in range(rounds)] + ["/held"]:
            states = {i.persistence_state for i in fs.ls(d)}
            assert states == {PersistenceState.PERSISTED}, (d, states)
        isolated_persist, isolated_through = _calibrate(fs, ufs.calls, data)
    finally:
        fs.close()
    allowance = concurrency / (calls_per_persist * LATENCY_S)
    figures = [
        samples.figure(
            "writer",
            "ASYNC_THROUGH at the writer, 64 KiB",
            "files/s",
            baseline_label="THROUGH",
            target_ratio=20.0,
        ),
        Figure(
            "ASYNC_THROUGH at the writer, uploads held",
            "files/s",
            held_writer,
            rounds=1,
            note="phase 3: no persist commit competes with the writer",
        ),
        Figure(
            "drain after the writes",
            "s",
            drain_after_s,
            rounds=1,
            note=f"{queued} of {total} files were still queued when the writes ended",
        ),
        Figure(
            f"drain throughput, {total:,} queued",
            "files/s",
            total / drain_s,
            baseline=allowance,
            target_ratio=0.8,
            rounds=1,
            baseline_label=f"UFS: {concurrency}/({calls_per_persist:.2f} x 20 ms)",
        ),
    ]
    params = {
        "async_files": total,
        "through_files_per_round": through_n,
        "file_size": FILE_SIZE,
        "latency_s": LATENCY_S,
        "concurrency": concurrency,
        "rounds": rounds,
        "queued_after_writes": queued,
        "drain_after_writes_s": round(drain_after_s, 3),
        "held_drain_s": round(drain_s, 3),
        "held_writer_files_per_s": round(held_writer, 3),
        "ufs_calls_per_persist": round(calls_per_persist, 3),
        "ufs_allowance_files_per_s": round(allowance, 3),
        "ufs_calls_per_persist_isolated": isolated_persist,
        "ufs_calls_per_through_write_isolated": isolated_through,
    }
    return SuiteResult("writeback", figures, params)


def _calibrate(
    fs: EmbeddedFileSystem, calls: list[tuple[str, str]], data: bytes
) -> tuple[int, int]:
    """UFS calls of one persist and one THROUGH write with nothing else running."""
    before = len(calls)
    with fs.open("/async/r0/calibrate", "wb", write_type=WriteType.ASYNC_THROUGH) as f:
        f.write(data)
    fs.wait_persisted("/async/r0/calibrate", timeout=60)
    persist = len(calls) - before
    before = len(calls)
    with fs.open("/through/r0/calibrate", "wb", write_type=WriteType.THROUGH) as f:
        f.write(data)
    return persist, len(calls) - before
