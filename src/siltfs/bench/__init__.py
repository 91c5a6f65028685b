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
- ``mutable``: appends and random 4 KiB overwrites (each flushed) of a cached file
  against the local file system, and the block bytes put into the cache per write.
- ``remote-meta``: stat through a ``silt master`` subprocess with 8 concurrent remote
  clients against raw HTTP ping-pong (``GET /health``) on the same server.
- ``remote-read``: a sequential read through the remote client against a raw loopback
  TCP transfer of the same bytes.
- ``scale``: remote create and stat on SQLite against PostgreSQL with one and with two
  masters (a throwaway PostgreSQL cluster is started).
- ``mount``: ``silt mount`` (FUSE) against the local file system and ``rclone mount``:
  sequential read and write, untar of small files, stat from 4 threads.
- ``s3``: boto3 against ``silt s3``: GET and PUT of a large object against raw loopback
  TCP, 4 KiB PutObject/GetObject from 8 threads against moto server.

Suites not written yet are listed in :data:`PLANNED` (none at the moment); adding one is
a module here and a line in :data:`SUITES`.  See ``docs/BENCHMARKS.md`` for the method and the latest results.
"""

from __future__ import annotations

SUITES: dict[str, str] = {
    "meta": "siltfs.bench.meta:run",
    "small": "siltfs.bench.small:run",
    "writeback": "siltfs.bench.writeback:run",
    "read": "siltfs.bench.read:run",
    "mutable": "siltfs.bench.mutable:run",
    "remote-meta": "siltfs.bench.remote_meta:run",
    "remote-read": "siltfs.bench.remote_read:run",
    "scale": "siltfs.bench.scale:run",
    "mount": "siltfs.bench.mount:run",
    "s3": "siltfs.bench.s3:run",
}

PLANNED: dict[str, str] = {}

__all__ = ["PLANNED", "SUITES"]
