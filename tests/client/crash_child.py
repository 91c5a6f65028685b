"""Child process for crash tests: opens siltfs on a home, does one scenario, reports, waits.

Usage: python crash_child.py HOME SCENARIO [PERSIST]
It prints "WROTE <path> <hex>" as each write returns, "READY" when done, then blocks
until killed (or dies by itself at the crash point armed by SILT_CRASH_AT).
"""

from __future__ import annotations

import sys
from pathlib import Path

import siltfs
from siltfs.config import CacheConfig, PersistConfig, SiltConfig


def modify_versions() -> list[bytes]:
    """The versions scenario "modify" commits, in order (64 KiB blocks)."""
    v1 = bytes(range(256)) * (5 * 256 + 4)  # 5 blocks and a short one
    v2 = v1[:70000] + b"first" + v1[70005:]  # block 1 changed in place
    v3 = v2 + b"appended" * 10000  # the short block grows, new blocks follow
    v4 = v3[:100000]  # cut inside block 1
    return [v1, v2, v3, v4]


def modify(fs: siltfs.FileSystem) -> None:
    """A persisted file changed by one r+b handle, flushed after each change."""
    v1, v2, v3, v4 = modify_versions()
    fs.write_bytes("/m/f", v1, write_type="CACHE_THROUGH")
    print(f"WROTE /m/f {v1.hex()}", flush=True)
    with fs.open("/m/f", "r+b") as f:  # ASYNC_THROUGH: copy-on-write versions
        f.seek(70000)
        f.write(b"first")
        f.flush()
        print(f"WROTE /m/f {v2.hex()}", flush=True)
        f.seek(0, 2)
        f.write(b"appended" * 10000)
        f.flush()
        print(f"WROTE /m/f {v3.hex()}", flush=True)
        f.truncate(100000)
    print(f"WROTE /m/f {v4.hex()}", flush=True)


def main() -> None:
    home, scenario = Path(sys.argv[1]), sys.argv[2]
    persist = len(sys.argv) > 3 and sys.argv[3] == "persist"
    cfg = SiltConfig(
        home=home,
        cache=CacheConfig(block_size=64 * 1024),
        persist=PersistConfig(
            enabled=persist, backoff_initial_s=0.01, backoff_max_s=0.05, poll_interval_s=0.01
        ),
    )
    fs = siltfs.connect(config=cfg)
    if scenario == "async-writes":
        for i in range(20):
            data = (f"file {i} ".encode() * (i * 1000 + 1))[: i * 7000 + 3]
            fs.write_bytes(f"/w/{i:02d}", data)
            print(f"WROTE /w/{i:02d} {data.hex()}", flush=True)  # acknowledged
    elif scenario == "rename-persisted":
        fs.write_bytes("/A/B/01", b"persisted", write_type="CACHE_THROUGH")
        fs.rename("/A", "/C")  # dies at the armed crash point
    elif scenario == "modify":
        modify(fs)
    elif scenario == "delete-persisted":
        fs.write_bytes("/D/x", b"gone", write_type="CACHE_THROUGH")
        fs.delete("/D", recursive=True)
    print("READY", flush=True)
    if persist:
        fs.wait_persisted(timeout=60)
        print("PERSISTED", flush=True)
    sys.stdin.read()  # block until the parent kills us


if __name__ == "__main__":
    main()
