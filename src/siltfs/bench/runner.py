"""The benchmark harness: figures, alternating median-of-rounds timing, table and JSON.

A suite measures siltfs and its baseline in the same process, round after round, the
order of the two sides alternating from one round to the next; a figure is the median of
the per-round rates of each side.  Suites return :class:`SuiteResult`; :func:`run_suites`
times them, :func:`render_table` prints the table and :func:`report` builds the JSON.
"""

from __future__ import annotations

import gc
import importlib
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from siltfs import __version__

if TYPE_CHECKING:
    from siltfs.client.embedded import EmbeddedFileSystem

SCHEMA = "siltfs-bench/1"
SILT = "siltfs"
BASE = "baseline"
KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
Log = Callable[[str], None]


# figures ------------------------------------------------------------------
@dataclass
class Figure:
    """One measured quantity: siltfs against its baseline, with an optional target.

    ``target_ratio``: siltfs must reach this multiple of the baseline.  ``target_abs``:
    siltfs must reach this absolute value (in ``unit``).  Higher is better for every
    figure with a target; a figure without one is reported only.
    """

    name: str
    unit: str
    siltfs: float
    baseline: float | None = None
    baseline_label: str = ""
    target_ratio: float | None = None
    target_abs: float | None = None
    suite: str = ""
    rounds: int = 0
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.siltfs / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target_ratio is None and self.target_abs is None:
            return None
        ok = True
        if self.target_ratio is not None:
            ratio = self.ratio
            ok = ratio is not None and ratio >= self.target_ratio
        if self.target_abs is not None:
            ok = ok and self.siltfs >= self.target_abs
        return ok

    def target_text(self) -> str:
        parts = []
        if self.target_ratio is not None:
            parts.append(f">= {self.target_ratio:g}x")
        if self.target_abs is not None:
            t = self.target_abs
            parts.append(f">= {f'{t:,.0f}' if t == int(t) else number(t)} {self.unit}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "name": self.name,
            "unit": self.unit,
            "siltfs": self.siltfs,
            "baseline": self.baseline,
            "baseline_label": self.baseline_label,
            "ratio": self.ratio,
            "target_ratio": self.target_ratio,
            "target_abs": self.target_abs,
            "met": self.met,
            "rounds": self.rounds,
            "note": self.note,
        }


@dataclass
class SuiteResult:
    name: str
    figures: list[Figure]
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": round(self.seconds, 3),
            "params": self.params,
            "figures": [f.to_dict() for f in self.figures],
        }


# timing -------------------------------------------------------------------
class Samples:
    """Per-round rates, keyed by (side, metric)."""

    def __init__(self) -> None:
        self.rates: dict[tuple[str, str], list[float]] = {}

    def add(self, side: str, metric: str, count: float, seconds: float) -> None:
        self.rates.setdefault((side, metric), []).append(count / max(seconds, 1e-9))

    def median(self, side: str, metric: str) -> float:
        return statistics.median(self.rates[(side, metric)])

    def rounds(self, side: str, metric: str) -> int:
        return len(self.rates.get((side, metric), []))

    def figure(
        self, metric: str, name: str, unit: str, *, baseline_label: str = "", **kwargs: Any
    ) -> Figure:
        """A figure from the medians of *metric* (the baseline side if it was measured)."""
        has_base = (BASE, metric) in self.rates
        return Figure(
            name=name,
            unit=unit,
            siltfs=self.median(SILT, metric),
            baseline=self.median(BASE, metric) if has_base else None,
            baseline_label=baseline_label if has_base else "",
            rounds=self.rounds(SILT, metric),
            **kwargs,
        )


class Stopwatch:
    """Times sections of one side of one round into :class:`Samples`."""

    def __init__(self, samples: Samples, side: str) -> None:
        self.samples = samples
        self.side = side

    @contextmanager
    def time(self, metric: str, count: float) -> Iterator[None]:
        """Time the block as *count* operations (or bytes) of *metric*."""
        gc.collect()
        start = time.perf_counter()
        yield
        self.samples.add(self.side, metric, count, time.perf_counter() - start)


Side = Callable[[int, Stopwatch], None]


def alternate(
    rounds: int, sides: Sequence[tuple[str, Side]], samples: Samples | None = None, log: Log = print
) -> Samples:
    """Run every side once per round, reversing their order every other round."""
    samples = samples if samples is not None else Samples()
    for r in range(rounds):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for side, fn in order:
            log(f"round {r + 1}/{rounds}: {side}")
            fn(r, Stopwatch(samples, side))
    return samples


# context --------------------------------------------------------------------
@dataclass
class BenchContext:
    """What a suite gets: where to put its data, how big and how many rounds."""

    workdir: Path
    quick: bool = False
    rounds: int = 5
    log: Log = print

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def dir(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def payload(size: int, seed: int = 0) -> bytes:
    """*size* pseudo-random bytes (incompressible; a 64 MiB pattern repeated beyond that)."""
    rng = random.Random(seed)
    unit = rng.randbytes(min(size, 64 * MiB))
    if len(unit) == size:
        return unit
    reps, rest = divmod(size, len(unit))
    return unit * reps + unit[:rest]


def open_siltfs(
    home: Path,
    *,
    ufs: str | None = None,
    cache: dict[str, Any] | None = None,
    persist: dict[str, Any] | None = None,
) -> EmbeddedFileSystem:
    """An embedded siltfs on *home* with default configuration except *cache*/*persist*."""
    from dataclasses import replace

    import siltfs
    from siltfs.config import SiltConfig

    cfg = SiltConfig(home=home)
    if cache:
        cfg = replace(cfg, cache=replace(cfg.cache, **cache))
    if persist:
        cfg = replace(cfg, persist=replace(cfg.persist, **persist))
    return siltfs.open_embedded(config=cfg, ufs=ufs)


def default_rounds(quick: bool) -> int:
    return 3 if quick else 5


# running ------------------------------------------------------------------
SuiteFn = Callable[[BenchContext], SuiteResult]


def load_suite(spec: str) -> SuiteFn:
    module_name, _, attribute = spec.partition(":")
    fn: SuiteFn = getattr(importlib.import_module(module_name), attribute)
    return fn


def run_suites(
    names: Sequence[str],
    specs: dict[str, str],
    *,
    quick: bool,
    rounds: int | None,
    workdir: Path | None,
    keep: bool = False,
    log: Log = print,
) -> list[SuiteResult]:
    """Run the named suites, each in its own subdirectory of a fresh work directory."""
    base = Path(workdir) if workdir is not None else Path(os.environ.get("TMPDIR", "/tmp"))
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    root = base / f"silt-bench-{stamp}-{os.getpid()}"
    results = []
    try:
        for name in names:
            ctx = BenchContext(
                workdir=root / name,
                quick=quick,
                rounds=rounds or default_rounds(quick),
                log=_prefixed(log, name),
            )
            ctx.workdir.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            result = load_suite(specs[name])(ctx)
            result.seconds = time.perf_counter() - start
            for fig in result.figures:
                fig.suite = name
            results.append(result)
            if not keep:
                shutil.rmtree(ctx.workdir, ignore_errors=True)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return results


def _prefixed(log: Log, name: str) -> Log:
    def write(message: str) -> None:
        log(f"[{name}] {message}")

    return write


# output -------------------------------------------------------------------
def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:,.1f}"
    return f"{value:.2f}"


def render_table(results: Sequence[SuiteResult], console: Console) -> None:
    table = Table(title="silt bench", show_lines=False)
    table.add_column("figure")
    table.add_column("siltfs", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("target", justify="left")
    table.add_column("met?", justify="center")
    for i, result in enumerate(results):
        if i:
            table.add_section()
        for fig in result.figures:
            base = "-"
            if fig.baseline is not None:
                base = f"{number(fig.baseline)} ({fig.baseline_label})"
            ratio = "-" if fig.ratio is None else f"{fig.ratio:.2f}x"
            met = fig.met
            mark = Text("-") if met is None else Text("yes", "green") if met else Text("NO", "red")
            table.add_row(
                Text(f"{result.name}: {fig.name} [{fig.unit}]"),
                number(fig.siltfs),
                Text(base),
                ratio,
                Text(fig.target_text() or "-"),
                mark,
            )
    console.print(table)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_bytes": mem,
    }


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state() -> dict[str, Any]:
    """The commit the code comes from and whether src/ has uncommitted changes."""
    status = _git("status", "--porcelain", "--", str(Path(__file__).resolve().parents[1]))
    return {"commit": _git("rev-parse", "--short", "HEAD") or None, "dirty": bool(status)}


def report(results: Sequence[SuiteResult], *, quick: bool, rounds: int | None) -> dict[str, Any]:
    """The JSON document of a run."""
    figures = [f for r in results for f in r.figures]
    return {
        "schema": SCHEMA,
        "siltfs_version": __version__,
        "git": git_state(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "rounds": rounds or default_rounds(quick),
        "machine": machine_info(),
        "suites": [r.to_dict() for r in results],
        "summary": {
            "figures": len(figures),
            "with_target": sum(1 for f in figures if f.met is not None),
            "met": sum(1 for f in figures if f.met is True),
            "missed": [f"{f.suite}: {f.name}" for f in figures if f.met is False],
        },
    }
