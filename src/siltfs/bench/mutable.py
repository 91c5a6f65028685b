"""Suite ``mutable``: appends and in-place overwrites of a cached file against the local fs.

Two files of 1 GiB (quick: 64 MiB) are made once, before timing, on both sides: on
siltfs written MUST_CACHE with 1 MiB blocks (cached, nothing uploaded), locally plain
files.  Every siltfs handle below is opened MUST_CACHE with ``block_size`` 1 MiB.

1. Append.  Per round: ``open(path, "ab")``, 4 KiB records adding up to 64 MiB (quick:
   8 MiB), ``close()`` (on siltfs the close commits the new version); MiB/s of appended
   bytes, open and close included.
2. Random overwrite.  Per round: ``open(path, "r+b")``, then 200 (quick: 50) 4 KiB writes
   at seeded random 4 KiB-aligned offsets, each made durable at once: locally
   ``flush()`` + ``os.fsync``, on siltfs ``flush()`` (which commits a version); writes/s.
3. Bytes put into the cache (``silt_cache_written_bytes_total`` in ``metrics_text()``),
   counted around every siltfs round and divided by the records or writes and by the block
   size: blocks written per append record and per overwrite (reported), and the overwrite
   headroom ``2 / blocks per write`` (target >= 1: at most two blocks per 4 KiB write).

Afterwards both sides are read back (lengths, appended records, every overwritten offset
and some untouched ones) and compared with what was written; a mismatch raises.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    Figure,
    GiB,
    KiB,
    MiB,
    Stopwatch,
    SuiteResult,
    alternate,
    open_siltfs,
    payload,
)
from siltfs.model.enums import WriteType

if TYPE_CHECKING:
    from siltfs.client.embedded import EmbeddedFileSystem

RECORD = 4 * KiB
BLOCK = 1 * MiB
CHUNK = 4 * MiB
COUNTER = "silt_cache_written_bytes_total"
LABEL = "local fs"
MUST_CACHE = WriteType.MUST_CACHE


def cache_written(fs: EmbeddedFileSystem) -> int:
    """The value of ``silt_cache_written_bytes_total`` in the Prometheus text of *fs*."""
    for line in fs.metrics_text().splitlines():
        name, _, value = line.partition(" ")
        if name == COUNTER:
            return int(float(value))
    raise RuntimeError(f"{COUNTER} not in metrics_text()")


def write_all(f: IO[Any], data: bytes) -> None:
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        f.write(view[start : start + CHUNK])


def run(ctx: BenchContext) -> SuiteResult:
    size = ctx.size(1 * GiB, 64 * MiB)
    appended = ctx.size(64 * MiB, 8 * MiB)
    overwrites = ctx.size(200, 50)
    rounds = ctx.rounds
    records = appended // RECORD
    slots = size // RECORD
    local_dir = ctx.dir("local")
    local = {"append": local_dir / "append.bin", "overwrite": local_dir / "overwrite.bin"}
    remote = {"append": "/append.bin", "overwrite": "/overwrite.bin"}
    # round r appends appends[r * RECORD : r * RECORD + appended]: every round's bytes differ
    appends = payload(appended + rounds * RECORD, seed=21)
    patches = payload(256 * RECORD, seed=22)  # write k of the run puts patch k % 256
    plans: list[list[tuple[int, int]]] = []  # per round: (offset, patch index)
    expected: dict[int, int] = {}  # offset -> patch index, the last write there
    for r in range(rounds):
        rng = random.Random(23 + r)
        plan = [
            (rng.randrange(slots) * RECORD, (r * overwrites + i) % 256) for i in range(overwrites)
        ]
        plans.append(plan)
        expected.update(plan)
    written = {"append": 0, "overwrite": 0}  # cache bytes put by the timed siltfs rounds
    fs = open_siltfs(ctx.dir("home"))
    try:
        ctx.log(f"writing 2 x {size // MiB:,} MiB on each side (siltfs: MUST_CACHE, 1 MiB blocks)")
        base = payload(size, seed=20)
        for name in ("append", "overwrite"):
            with open(local[name], "wb") as lf:
                write_all(lf, base)
            with fs.open(remote[name], "wb", write_type=MUST_CACHE, block_size=BLOCK) as sf:
                write_all(sf, base)
            assert fs.stat(remote[name]).cached_percent == 100

        def append(r: int, f: IO[Any]) -> None:
            view = memoryview(appends)[r * RECORD : r * RECORD + appended]
            for start in range(0, appended, RECORD):
                f.write(view[start : start + RECORD])

        def silt(r: int, w: Stopwatch) -> None:
            before = cache_written(fs)
            with w.time("append", appended / MiB):
                with fs.open(remote["append"], "ab", write_type=MUST_CACHE, block_size=BLOCK) as f:
                    append(r, f)
            middle = cache_written(fs)
            written["append"] += middle - before
            with w.time("overwrite", overwrites):
                with fs.open(
                    remote["overwrite"], "r+b", write_type=MUST_CACHE, block_size=BLOCK
                ) as f:
                    for offset, k in plans[r]:
                        f.seek(offset)
                        f.write(patches[k * RECORD : (k + 1) * RECORD])
                        f.flush()
            written["overwrite"] += cache_written(fs) - middle

        def local_fs(r: int, w: Stopwatch) -> None:
            with w.time("append", appended / MiB), open(local["append"], "ab") as f:
                append(r, f)
            with w.time("overwrite", overwrites), open(local["overwrite"], "r+b") as f:
                for offset, k in plans[r]:
                    f.seek(offset)
                    f.write(patches[k * RECORD : (k + 1) * RECORD])
                    f.flush()
                    os.fsync(f.fileno())

        samples = alternate(rounds, [(SILT, silt), (BASE, local_fs)], log=ctx.log)
        ctx.log("reading both sides back")
        openers: dict[str, Callable[[str], IO[bytes]]] = {
            SILT: lambda name: fs.open(remote[name], "rb"),
            BASE: lambda name: open(local[name], "rb"),
        }
        for side, opener in openers.items():
            verify(side, opener, base, appends, patches, expected, size, appended, rounds)
        block_size = fs.stat(remote["overwrite"]).block_size
    finally:
        fs.close()
    if block_size != BLOCK:
        raise RuntimeError(f"/overwrite.bin has {block_size}-byte blocks, not {BLOCK}")
    append_blocks = written["append"] / (rounds * records) / BLOCK
    overwrite_blocks = written["overwrite"] / (rounds * overwrites) / BLOCK
    label = f"{size // MiB:,} MiB"
    note = "siltfs: MUST_CACHE, block size 1 MiB"
    figures = [
        samples.figure(
            "append",
            f"append {appended // MiB:,} MiB in 4 KiB records to a cached {label} file",
            "MiB/s",
            baseline_label=LABEL,
            target_ratio=0.5,
            note=note + "; open and close timed (close commits on siltfs)",
        ),
        samples.figure(
            "overwrite",
            f"random 4 KiB overwrite + flush, cached {label} file",
            "writes/s",
            baseline_label=LABEL,
            target_ratio=0.3,
            note=note + "; siltfs flush() commits, local flush() + fsync",
        ),
        Figure(
            "cache bytes per 4 KiB append record (blocks)",
            "blocks",
            append_blocks,
            rounds=rounds,
            note=f"{COUNTER} over the append rounds / records / 1 MiB",
        ),
        Figure(
            "cache bytes per 4 KiB overwrite (blocks)",
            "blocks",
            overwrite_blocks,
            rounds=rounds,
            note=f"{COUNTER} over the overwrite rounds / writes / 1 MiB",
        ),
        Figure(
            "overwrite write amplification headroom",
            "x",
            2 / overwrite_blocks if overwrite_blocks > 0 else float("inf"),
            target_abs=1.0,
            rounds=rounds,
            note="2 / blocks per overwrite: >= 1 means at most 2 blocks put per 4 KiB write",
        ),
    ]
    params = {
        "file_size": size,
        "appended_per_round": appended,
        "record_size": RECORD,
        "overwrites_per_round": overwrites,
        "block_size": BLOCK,
        "rounds": rounds,
        "cache_written_bytes_append": written["append"],
        "cache_written_bytes_overwrite": written["overwrite"],
    }
    return SuiteResult("mutable", figures, params)


def verify(
    side: str,
    opener: Callable[[str], IO[bytes]],
    base: bytes,
    appends: bytes,
    patches: bytes,
    expected: dict[int, int],
    size: int,
    appended: int,
    rounds: int,
) -> None:
    """Read *side*'s files back and compare with what was written; raise on a mismatch."""

    def check(f: IO[bytes], offset: int, want: bytes, what: str) -> None:
        f.seek(offset)
        got = f.read(len(want))
        if got != want:
            raise RuntimeError(f"mutable: {side} {what} at offset {offset} differs")

    rng = random.Random(24)
    with opener("append") as f:
        length = f.seek(0, os.SEEK_END)
        if length != size + rounds * appended:
            raise RuntimeError(f"mutable: {side} append file is {length} bytes long")
        for offset in (
            0,
            size - RECORD,
            *(rng.randrange(size // RECORD) * RECORD for _ in range(8)),
        ):
            check(f, offset, base[offset : offset + RECORD], "original content")
        for r in range(rounds):
            start = size + r * appended
            picks = {
                0,
                appended - RECORD,
                *(rng.randrange(appended // RECORD) * RECORD for _ in range(8)),
            }
            for at in sorted(picks):
                src = r * RECORD + at
                check(f, start + at, appends[src : src + RECORD], f"round {r} record")
    with opener("overwrite") as f:
        length = f.seek(0, os.SEEK_END)
        if length != size:
            raise RuntimeError(f"mutable: {side} overwrite file is {length} bytes long")
        for offset, k in sorted(expected.items()):
            check(f, offset, patches[k * RECORD : (k + 1) * RECORD], "overwrite")
        untouched = [o for o in range(0, size, RECORD) if o not in expected]
        for offset in rng.sample(untouched, min(16, len(untouched))):
            check(f, offset, base[offset : offset + RECORD], "untouched content")
