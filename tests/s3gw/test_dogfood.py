"""siltfs on siltfs: an embedded siltfs whose root UFS is ``s3://<bucket>/root`` on the
gateway, which serves another siltfs (the ``master`` fixture).  The seed scenario
(write /A/B/01 async, rename /A /C, failing first uploads, delete) must end with the
gateway's bucket holding exactly what the outer namespace says -- I1 and I2 through the
S3 API of siltfs itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import siltfs
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.client.remote import RemoteFileSystem
from siltfs.config import CacheConfig, PersistConfig, SiltConfig
from siltfs.errors import FileNotFound
from siltfs.testing import inject_faults
from tests.s3gw.gateway import ACCESS, REGION, SECRET, GatewayProcess

STAGING = ".silt_staging/*"


@pytest.fixture
def outer(gateway: GatewayProcess, bucket: str, tmp_path: Path) -> Iterator[EmbeddedFileSystem]:
    cfg = SiltConfig(
        home=tmp_path / "outer",
        cache=CacheConfig(block_size=64 * 1024),
        persist=PersistConfig(
            backoff_initial_s=0.01, backoff_max_s=0.05, poll_interval_s=0.01, max_attempts=100
        ),
        sync_interval_ms=0,
    )
    options = {"endpoint_url": gateway.url, "key": ACCESS, "secret": SECRET, "region": REGION}
    fs = siltfs.open_embedded(config=cfg, ufs=f"s3://{bucket}/root", ufs_options=options)
    yield fs
    fs.close()


def tree(s3: Any, bucket: str) -> set[str]:
    """The outer UFS as the gateway's keys make it (files, markers, implied directories)."""
    out: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="root/"):
        for obj in page.get("Contents", []):
            parts = obj["Key"][len("root/") :].rstrip("/").split("/")
            out.update("/".join(parts[: i + 1]) for i in range(len(parts)) if parts[0])
    return out


def test_seed_scenario_through_the_gateway(
    outer: EmbeddedFileSystem, s3: Any, bucket: str, fs: RemoteFileSystem
) -> None:
    faults = inject_faults(outer)
    faults.fail_next("open_write", 3, STAGING)  # the first three uploads fail
    outer.write_bytes("/A/B/01", b"payload")
    outer.rename("/A", "/C")
    outer.wait_persisted(timeout=60)
    assert faults.injected == 3
    assert tree(s3, bucket) == {"C", "C/B", "C/B/01"}
    assert s3.get_object(Bucket=bucket, Key="root/C/B/01")["Body"].read() == b"payload"
    assert fs.read_bytes(f"/{bucket}/root/C/B/01") == b"payload"  # in the inner namespace
    with pytest.raises(FileNotFound):
        outer.delete("/A", recursive=True)
    outer.delete("/C", recursive=True)
    outer.wait_persisted(timeout=60)
    assert tree(s3, bucket) == set()
    assert outer.ls("/") == []
    report = outer.check_consistency("/")
    assert report.divergences == []


def test_outer_files_of_several_blocks(outer: EmbeddedFileSystem, s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * 2000  # 512 000 bytes: 8 blocks of 64 KiB
    outer.write_bytes("/big/file", data, write_type="CACHE_THROUGH")
    assert s3.get_object(Bucket=bucket, Key="root/big/file")["Body"].read() == data
    outer.free("/big/file")
    assert outer.read_bytes("/big/file", 1000, 70000) == data[1000:70000]  # ranges from the UFS
    assert outer.check_consistency("/").divergences == []
