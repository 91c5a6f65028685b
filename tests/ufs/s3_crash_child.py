"""Child process for S3 crash tests: siltfs with its root on S3, one scenario, then waits.

Usage: python s3_crash_child.py HOME URI ENDPOINT KEY SECRET
Scenario: persist a small tree under /A (CACHE_THROUGH), print "READY", rename /A to /C
(dies at the crash point armed by SILT_CRASH_AT, e.g. ufs.move_tree.partial), print
"RENAMED" and block until killed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import siltfs
from siltfs.config import CacheConfig, PersistConfig, SiltConfig

FILES = {
    "/A/top": b"top",
    "/A/B/01": b"one",
    "/A/B/02": b"two" * 1000,
    "/A/B/03": b"three",
    "/A/D/deep/04": b"four",
}
EMPTY_DIRS = ["/A/E"]


def main() -> None:
    home, uri, endpoint, key, secret = sys.argv[1:6]
    cfg = SiltConfig(
        home=Path(home),
        cache=CacheConfig(block_size=64 * 1024),
        persist=PersistConfig(backoff_initial_s=0.01, backoff_max_s=0.05, poll_interval_s=0.01),
    )
    options = {"endpoint_url": endpoint, "key": key, "secret": secret, "region": "us-east-1"}
    fs = siltfs.connect(config=cfg, ufs=uri, ufs_options=options)
    for path, data in FILES.items():
        fs.write_bytes(path, data, write_type="CACHE_THROUGH")
    for path in EMPTY_DIRS:
        fs.mkdir(path, write_type="CACHE_THROUGH")
    print("READY", flush=True)
    fs.rename("/A", "/C")  # dies at the armed crash point
    print("RENAMED", flush=True)
    sys.stdin.read()  # block until the parent kills us


if __name__ == "__main__":
    main()
