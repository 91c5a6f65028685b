"""``silt bench``: siltfs against a baseline, measured in the same process run.

Suites (one module each; ``run(ctx) -> SuiteResult``):

- ``meta``: create+close, stat, ls, rename, delete through the embedded client
  against the same calls on the local file system.
- ``small``: 4 KiB files read cold (from the UFS) and cached, against fsspec
  ``simplecache`` over the same UFS.
- ``writeback``: ASYNC_THROUGH against THROUGH at the writer over a slow UFS, and the
  drain of the persist queue against what the UFS allows.
- ``read``: sequential and random reads of a cached file against ``open().read()`` of
  the same bytes from the page cache.

Suites that need the siltfs server (``remote-meta``, ``remote-read``) are listed in
:data:`PLANNED` until ``siltfs.server`` exists; adding one is a module here and a line in
:data:`SUITES`.  See ``docs/BENCHMARKS.md`` for the method and the latest results.
"""

from __future__ import annotations

SUITES: dict[str, str] = {
    "meta": "siltfs.bench.meta:run",
    "small": "siltfs.bench.small:run",
    "writeback": "siltfs.bench.writeback:run",
    "read": "siltfs.bench.read:run",
}

PLANNED: dict[str, str] = {
    "remote-meta": "metadata operations through the master's HTTP API (needs siltfs.server)",
    "remote-read": "reads through the worker's data API (needs siltfs.server)",
}

__all__ = ["PLANNED", "SUITES"]
