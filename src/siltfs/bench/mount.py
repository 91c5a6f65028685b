"""Suite ``mount``: ``silt mount`` against the local file system and ``rclone mount``.

Three sides in one run, their order alternating from round to round: ``silt mount`` of
a fresh embedded home (``--write-type ASYNC_THROUGH``, the mount's default 1 s attribute
and entry timeouts), a local directory on the same disk (the baseline), and -- when
``rclone`` is on PATH -- ``rclone mount SRC MNT --vfs-cache-mode writes`` of a local
directory on the same disk.  Both mounts run as subprocesses (:mod:`.fusemount`) and
are always unmounted at the end.  Measured, each as a ratio against the local directory
and against rclone:

1. **Sequential read of a cached file** (1 GiB; quick 64 MiB): ``open().read(4 MiB)``
   until EOF.  The file is in siltfs's block cache (written through the mount, then read
   once), in the page cache locally, and in the page cache under rclone's source (written
   there before rclone starts, so its directory cache sees it).
2. **Sequential write** of as many bytes, in 4 MiB ``write`` calls, timed until
   ``close()`` returns (no fsync on any side).  Untimed afterwards, each side's backing
   store must hold the file before the next side runs -- siltfs: ``user.silt.state`` is
   ``PERSISTED``; rclone: its source directory holds every byte (its upload starts 5 s
   after the close, rclone's default) -- and the file is deleted.
3. **Untar** of 10,000 (quick 500) files of 4 KiB in 100 directories with
   ``tar -x --no-same-owner`` (rclone cannot chown) into a new directory per round; the
   backing store must hold every file before the next side runs (siltfs: its UFS).
4. **stat** of a 4 KiB file from 4 threads at once (ops/s), on this mount (kernel
   attribute cache 1 s) and on a second ``silt mount`` of another home with
   ``--attr-timeout 0 --entry-timeout 0`` (every stat reaches siltfs).

Targets (issue 12): read >= 0.5x local and >= 1.5x rclone; write >= 0.4x local; untar
>= 1.5x rclone; stat >= 20,000/s with the attribute cache and >= 3,000/s without.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from siltfs.bench.fusemount import (
    FuseProcess,
    fuse_available,
    rclone_mount,
    rclone_path,
    silt_mount,
)
from siltfs.bench.read import CHUNK, read_all
from siltfs.bench.runner import (
    BASE,
    SILT,
    BenchContext,
    Figure,
    GiB,
    KiB,
    MiB,
    Samples,
    Side,
    Stopwatch,
    SuiteResult,
    alternate,
    payload,
)
from siltfs.errors import MountError, PersistTimeout

RCLONE = "rclone"
LOCAL_LABEL = "local fs"
RCLONE_LABEL = "rclone mount, vfs-cache writes"
SMALL = 4 * KiB
PER_DIR = 100
THREADS = 4
WAIT_S = 600.0
STATE_XATTR = "user.silt.state"
WRITE_ARGS = ("--write-type", "ASYNC_THROUGH")
ZERO_ARGS = (*WRITE_ARGS, "--attr-timeout", "0", "--entry-timeout", "0")


def _home(home: Path, size: int) -> Path:
    """An embedded home whose MEM tier holds the cached file and a written one."""
    (home / "silt.toml").write_text(f"[cache]\nmem_capacity = {2 * size + 256 * MiB}\n")
    return home


def _archive(path: Path, files: int) -> Path:
    """A tar of *files* files of 4 KiB, *PER_DIR* to a directory."""
    data = payload(files * SMALL, seed=12)
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        for d in range(0, files, PER_DIR):
            info = tarfile.TarInfo(f"d{d // PER_DIR:03d}")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_500_000_000
            tar.addfile(info)
        for i in range(files):
            info = tarfile.TarInfo(f"d{i // PER_DIR:03d}/f{i:05d}")
            info.size, info.mode, info.mtime = SMALL, 0o644, 1_500_000_000
            tar.addfile(info, io.BytesIO(data[i * SMALL : (i + 1) * SMALL]))
    return path


def _until(done: Callable[[], bool], what: str, path: Path) -> None:
    """Poll *done* (untimed; between measured sections) until it holds."""
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            raise PersistTimeout(f"{what} not done after {WAIT_S:g} s", path=str(path))
        time.sleep(0.05)


def _persisted(path: Path) -> None:
    """Wait until siltfs reports *path* (on the mount) PERSISTED."""
    _until(lambda: os.getxattr(path, STATE_XATTR) == b"PERSISTED", "persist", path)


def _count_files(root: Path) -> int:
    return sum(len(names) for _dir, _subdirs, names in os.walk(root))


def _write(path: Path, data: memoryview) -> None:
    with open(path, "wb") as f:
        for start in range(0, len(data), CHUNK):
            f.write(data[start : start + CHUNK])


def _stat_threads(path: Path, per_thread: int, w: Stopwatch, metric: str) -> None:
    """*THREADS* threads stat *path* *per_thread* times each, timed from a common start."""
    start = threading.Barrier(THREADS + 1)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                os.stat(path)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    with w.time(metric, THREADS * per_thread):
        start.wait()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]


class Target:
    """One side's directory and how to wait for its backing store."""

    def __init__(self, root: Path, store: Path | None, persisted: Callable[[Path, int], None]):
        self.root = root
        self.store = store  # where the side's files end up (None: root itself)
        self.persisted = persisted  # wait until the file at path (with size) is stored

    def stored_files(self, rel: str) -> int:
        return _count_files((self.store or self.root) / rel)


def _silt_persisted(path: Path, size: int) -> None:
    _persisted(path)


def _local_persisted(path: Path, size: int) -> None:
    return None


def _rclone_persisted(source: Path, mountpoint: Path) -> Callable[[Path, int], None]:
    def wait(path: Path, size: int) -> None:
        stored = source / path.relative_to(mountpoint)
        _until(lambda: stored.exists() and stored.stat().st_size == size, "rclone upload", path)

    return wait


def run(ctx: BenchContext) -> SuiteResult:
    why = fuse_available()
    if why is not None:
        raise MountError(f"suite mount needs FUSE: {why}")
    rclone = rclone_path()
    size = ctx.size(1 * GiB, 64 * MiB)
    files = ctx.size(10_000, 500)
    stats = ctx.size(25_000, 2_500)  # per thread, attribute cache on
    stats0 = ctx.size(2_500, 250)  # per thread, timeouts 0
    mib = size / MiB
    work = ctx.workdir
    archive = _archive(work / "files.tar", files)
    data = memoryview(payload(size, seed=11))
    samples = Samples()
    with ExitStack() as stack:

        def mount(proc: FuseProcess) -> Path:
            ctx.log(f"starting {proc.name}")
            return stack.enter_context(proc).mountpoint

        home, home0 = _home(ctx.dir("home"), size), _home(ctx.dir("home0"), size)
        mnt = mount(silt_mount(home, work / "mnt", *WRITE_ARGS, log=work / "mount.log"))
        mnt0 = mount(silt_mount(home0, work / "mnt0", *ZERO_ARGS, log=work / "mount0.log"))
        local = ctx.dir("local")
        targets = {
            SILT: Target(mnt, home / "ufs", _silt_persisted),
            BASE: Target(local, None, _local_persisted),
        }
        seeds = [mnt, local, mnt0]
        source = ctx.dir("rclone-src")
        if rclone is not None:  # rclone's files are its source's, there before it starts
            seeds.append(source)
        ctx.log(f"writing {size // MiB:,} MiB to each side, reading it once")
        for where in seeds:
            if where != mnt0:
                _write(where / "big.bin", data)
            (where / "stat.bin").write_bytes(bytes(SMALL))
        if rclone is not None:
            cache = ctx.dir("rclone-cache")
            rmnt = mount(rclone_mount(rclone, source, work / "rmnt", cache, work / "rclone.log"))
            targets[RCLONE] = Target(rmnt, source, _rclone_persisted(source, rmnt))
        for path in (mnt / "big.bin", mnt / "stat.bin", mnt0 / "stat.bin"):
            _persisted(path)
        for target in targets.values():
            with open(target.root / "big.bin", "rb") as f:
                assert read_all(f) == size

        def reader(name: str, target: Target) -> Side:
            def side(r: int, w: Stopwatch) -> None:
                with w.time("read", mib), open(target.root / "big.bin", "rb") as f:
                    n = read_all(f)
                assert n == size, (target.root, n)

            return side

        def writer(name: str, target: Target) -> Side:
            def side(r: int, w: Stopwatch) -> None:
                path = target.root / f"w{r}.bin"
                with w.time("write", mib):
                    _write(path, data)
                target.persisted(path, size)
                os.unlink(path)

            return side

        def untar(name: str, target: Target) -> Side:
            def side(r: int, w: Stopwatch) -> None:
                rel = f"untar/r{r}"
                dest = target.root / rel
                dest.mkdir(parents=True)
                cmd = ["tar", "-x", "--no-same-owner", "-f", str(archive), "-C", str(dest)]
                with w.time("untar", files):
                    subprocess.run(cmd, check=True, capture_output=True)
                _until(lambda: target.stored_files(rel) >= files, "storing untarred files", dest)
                assert target.stored_files(rel) == files, (dest, target.stored_files(rel))

            return side

        def stater(name: str, target: Target) -> Side:
            def side(r: int, w: Stopwatch) -> None:
                _stat_threads(target.root / "stat.bin", stats, w, "stat")
                if name != RCLONE:  # timeouts 0: a second silt mount; locally the same file
                    zero = mnt0 if name == SILT else target.root
                    _stat_threads(zero / "stat.bin", stats0, w, "stat0")

            return side

        for phase, make in (
            ("read", reader),
            ("write", writer),
            ("untar", untar),
            ("stat", stater),
        ):
            ctx.log(f"phase {phase}")
            sides = [(name, make(name, t)) for name, t in targets.items()]
            alternate(ctx.rounds, sides, samples, ctx.log)
    figures = _figures(samples, size, files, rclone is not None)
    params: dict[str, Any] = {
        "file_size": size,
        "read_write_chunk": CHUNK,
        "untar_files": files,
        "untar_file_size": SMALL,
        "stat_threads": THREADS,
        "stats_per_thread": stats,
        "stats_per_thread_timeouts_0": stats0,
        "rounds": ctx.rounds,
        "silt_mount_args": list(WRITE_ARGS),
        "silt_mount_args_timeouts_0": list(ZERO_ARGS),
        "rclone": _rclone_version(rclone) if rclone else None,
    }
    return SuiteResult("mount", figures, params)


def _figures(samples: Samples, size: int, files: int, with_rclone: bool) -> list[Figure]:
    label = f"{size // MiB:,} MiB"

    def pair(
        metric: str,
        name: str,
        unit: str,
        local: float | None = None,
        vs_rclone: float | None = None,
        absolute: float | None = None,
    ) -> list[Figure]:
        silt = samples.median(SILT, metric)
        rounds = samples.rounds(SILT, metric)
        out = [
            Figure(
                name,
                unit,
                silt,
                baseline=samples.median(BASE, metric),
                baseline_label=LOCAL_LABEL,
                target_ratio=local,
                target_abs=absolute,
                rounds=rounds,
            )
        ]
        if with_rclone and samples.rounds(RCLONE, metric):
            out.append(
                Figure(
                    f"{name}, vs rclone",
                    unit,
                    silt,
                    baseline=samples.median(RCLONE, metric),
                    baseline_label=RCLONE_LABEL,
                    target_ratio=vs_rclone,
                    rounds=rounds,
                )
            )
        return out

    return [
        *pair("read", f"sequential read {label}, cached", "MiB/s", local=0.5, vs_rclone=1.5),
        *pair("write", f"sequential write {label}, ASYNC_THROUGH", "MiB/s", local=0.4),
        *pair("untar", f"untar {files:,} x 4 KiB", "files/s", vs_rclone=1.5),
        *pair("stat", "stat, 4 threads, attr cache 1 s", "ops/s", absolute=20_000),
        *pair("stat0", "stat, 4 threads, timeouts 0", "ops/s", absolute=3_000),
    ]


def _rclone_version(rclone: str) -> str:
    done = subprocess.run([rclone, "version"], capture_output=True, text=True, timeout=30)
    return done.stdout.splitlines()[0] if done.stdout else "unknown"
