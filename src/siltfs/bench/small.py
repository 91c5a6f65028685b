"""Suite ``small``: many 4 KiB files read cold and cached, against fsspec ``simplecache``.

The files are placed directly in a local directory that is siltfs's root UFS; siltfs
loads their metadata once (an untimed ``ls``).  Per round and side, every file is opened
and read twice: the first pass is a cache miss (siltfs: blocks come from the UFS and are
cached; simplecache: the file is copied into its cache directory), the second a hit.
Before each siltfs round ``free`` drops the cached blocks; each simplecache round gets a
fresh cache directory and file system instance.  Both sides read through their
``open(path, "rb").read()``.
"""

from __future__ import annotations

import shutil

import fsspec

from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    Stopwatch,
    SuiteResult,
    alternate,
    open_siltfs,
    payload,
)

SIZE = 4096
LABEL = "fsspec simplecache"


def run(ctx: BenchContext) -> SuiteResult:
    n = ctx.size(10_000, 1_000)
    ufs_dir = ctx.dir("ufs")
    data_dir = ufs_dir / "data"
    data_dir.mkdir()
    blob = payload(SIZE * 64, seed=2)
    ctx.log(f"placing {n:,} files of {SIZE} bytes in the UFS")
    local_paths = []
    for i in range(n):
        path = data_dir / f"f{i:05d}"
        off = (i % 63) * SIZE
        path.write_bytes(blob[off : off + SIZE])
        local_paths.append(str(path))
    names = [f"/data/f{i:05d}" for i in range(n)]
    fs = open_siltfs(ctx.dir("home"), ufs="file://" + str(ufs_dir))
    try:
        assert len(fs.ls("/data")) == n  # metadata loaded once, untimed

        def silt(r: int, w: Stopwatch) -> None:
            fs.free("/data")
            with w.time("cold", n):
                for p in names:
                    with fs.open(p, "rb") as f:
                        f.read()
            with w.time("hit", n):
                for p in names:
                    with fs.open(p, "rb") as f:
                        f.read()
            assert fs.stat(names[-1]).cached_percent == 100
            assert fs.read_bytes(names[7]) == blob[7 * SIZE : 8 * SIZE]

        def simplecache(r: int, w: Stopwatch) -> None:
            cache = ctx.dir(f"simplecache-{r}")
            sc = fsspec.filesystem(
                "simplecache",
                target_protocol="file",
                cache_storage=str(cache),
                skip_instance_cache=True,
            )
            with w.time("cold", n):
                for p in local_paths:
                    with sc.open(p, "rb") as f:
                        f.read()
            with w.time("hit", n):
                for p in local_paths:
                    with sc.open(p, "rb") as f:
                        f.read()
            shutil.rmtree(cache)

        samples = alternate(ctx.rounds, [(SILT, silt), (BASE, simplecache)], log=ctx.log)
    finally:
        fs.close()
    figures = [
        samples.figure(
            "cold",
            "cold read (cache miss) 4 KiB",
            "files/s",
            baseline_label=LABEL,
            target_ratio=1.0,
        ),
        samples.figure(
            "hit", "cached read (hit) 4 KiB", "files/s", baseline_label=LABEL, target_ratio=1.0
        ),
    ]
    return SuiteResult("small", figures, {"files": n, "file_size": SIZE, "rounds": ctx.rounds})
