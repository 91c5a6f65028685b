"""Suite ``read``: reads of a cached file through the embedded client against the page cache.

One file of 1 GiB (quick: 64 MiB) is written twice with MUST_CACHE: one copy is read
once with CACHE_PROMOTE so its blocks sit in the MEM tier, the other stays on the SSD
tier.  The baseline is the same bytes in a local file, read once beforehand so they are
in the page cache.  Both sides read with ``open(...).read(4 MiB)`` in a loop
(sequential, MiB/s) and ``seek`` + ``read(4096)`` at the same random 4 KiB-aligned
offsets (reads/s) on a file opened once per round.

Remote reads (through the worker's data API) are the suite ``remote-read``, planned for
when ``siltfs.server`` exists.
"""

from __future__ import annotations

import random
from typing import IO, Any

from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    GiB,
    KiB,
    MiB,
    Stopwatch,
    SuiteResult,
    alternate,
    open_siltfs,
    payload,
)
from siltfs.model.enums import ReadType, WriteType

CHUNK = 4 * MiB
LABEL = "open().read(), page cache"


def read_all(f: IO[Any]) -> int:
    n = 0
    while chunk := f.read(CHUNK):
        n += len(chunk)
    return n


def run(ctx: BenchContext) -> SuiteResult:
    size = ctx.size(1 * GiB, 64 * MiB)
    randoms = ctx.size(20_000, 2_000)
    mib = size / MiB
    local = ctx.dir("local") / "big.bin"
    fs = open_siltfs(
        ctx.dir("home"), cache={"mem_capacity": size + 256 * MiB, "ssd_capacity": 4 * size}
    )
    try:
        ctx.log(f"writing {size // MiB:,} MiB three times (local, siltfs MEM, siltfs SSD)")
        data = payload(size, seed=4)
        local.write_bytes(data)
        for path in ("/mem.bin", "/ssd.bin"):
            with fs.open(path, "wb", write_type=WriteType.MUST_CACHE) as f:
                for start in range(0, size, CHUNK):
                    f.write(data[start : start + CHUNK])
        del data
        with fs.open("/mem.bin", "rb", read_type=ReadType.CACHE_PROMOTE) as f:
            assert read_all(f) == size
        with open(local, "rb") as f:
            assert read_all(f) == size  # now in the page cache
        master = fs.master
        tiers = {
            p: {master.tier_of_block(b) for b in fs.stat(p).block_ids}
            for p in ("/mem.bin", "/ssd.bin")
        }
        assert tiers == {"/mem.bin": {"MEM"}, "/ssd.bin": {"SSD"}}, tiers
        rng = random.Random(5)
        offsets = [rng.randrange(size // (4 * KiB)) * 4 * KiB for _ in range(randoms)]

        def silt(r: int, w: Stopwatch) -> None:
            for metric, path in (("seq_mem", "/mem.bin"), ("seq_ssd", "/ssd.bin")):
                with w.time(metric, mib), fs.open(path, "rb") as f:
                    assert read_all(f) == size
            with fs.open("/mem.bin", "rb") as f, w.time("random", randoms):
                for off in offsets:
                    f.seek(off)
                    f.read(4096)

        def page_cache(r: int, w: Stopwatch) -> None:
            for metric in ("seq_mem", "seq_ssd"):
                with w.time(metric, mib), open(local, "rb") as f:
                    assert read_all(f) == size
            with open(local, "rb") as f, w.time("random", randoms):
                for off in offsets:
                    f.seek(off)
                    f.read(4096)

        samples = alternate(ctx.rounds, [(SILT, silt), (BASE, page_cache)], log=ctx.log)
    finally:
        fs.close()
    label = f"{size // MiB:,} MiB"
    figures = [
        samples.figure(
            "seq_mem",
            f"sequential read {label}, MEM tier",
            "MiB/s",
            baseline_label=LABEL,
            target_ratio=0.8,
        ),
        samples.figure(
            "seq_ssd", f"sequential read {label}, SSD tier", "MiB/s", baseline_label=LABEL
        ),
        samples.figure("random", "random 4 KiB reads, MEM tier", "reads/s", baseline_label=LABEL),
    ]
    return SuiteResult(
        "read",
        figures,
        {
            "file_size": size,
            "read_chunk": CHUNK,
            "random_reads": randoms,
            "rounds": ctx.rounds,
            "block_size": fs.config.cache.block_size,
        },
    )
