"""Metrics (Prometheus text) and the periodic consistency checker."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.testing import inject_faults

from .conftest import with_persist


def samples(fs: EmbeddedFileSystem) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(fs.metrics_text()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_persist_and_cache_metrics(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(persist=with_persist(max_attempts=1))
    faults = inject_faults(fs)
    faults.fail_next("open_write", 1, ".silt_staging/j*")
    fs.master.runner.stop()
    fs.write_bytes("/a", b"x" * 1000)
    fs.write_bytes("/b", b"y" * 10)
    m = samples(fs)
    assert m[("silt_persist_queue_jobs", (("state", "pending"),))] == 2
    assert m[("silt_persist_oldest_pending_seconds", ())] >= 0
    assert m[("silt_cache_pinned_blocks", ())] == 2
    assert m[("silt_cache_written_bytes_total", ())] == 1010  # the two blocks put
    fs.read_bytes("/a")
    assert samples(fs)[("silt_cache_hits_total", (("tier", "SSD"),))] >= 1


def test_persist_counters(fs: EmbeddedFileSystem) -> None:
    faults = inject_faults(fs)
    faults.fail_next("open_write", 2, ".silt_staging/j*")
    fs.write_bytes("/a", b"x" * 1000)
    fs.wait_persisted(timeout=30)
    m = samples(fs)
    assert m[("silt_persist_completed_total", ())] == 1
    assert m[("silt_persist_bytes_total", ())] == 1000
    assert m[("silt_persist_failures_total", ())] == 2
    assert m[("silt_ufs_errors_total", (("kind", "InjectedFault"),))] == 2
    assert m[("silt_persist_queue_jobs", (("state", "pending"),))] == 0


def test_periodic_checker_exports_divergences(make_fs: Callable[..., EmbeddedFileSystem]) -> None:
    fs = make_fs(consistency_check_interval_s=0.05)
    fs.mkdir("/d")
    fs.ls("/d")
    (fs.config.root_ufs_dir / "d" / "ghost").write_bytes(b"outside")
    seen = fs.master.persister.changed
    for _ in range(200):  # wait for the checker thread's next round (bounded)
        report = fs.master.last_check
        if report is not None and report.divergences:
            break
        with seen:
            seen.wait(0.05)
    assert report is not None and [d.kind for d in report.divergences] == ["GHOST"]
    m = samples(fs)
    assert m[("silt_consistency_divergences", (("kind", "GHOST"),))] == 1
