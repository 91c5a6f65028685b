"""polars (its own Rust object-store client, not fsspec) reading parquet that siltfs
holds, through a real ``silt s3``: ``read_parquet`` and ``scan_parquet`` with
``storage_options``, and ``write_parquet`` back."""

from __future__ import annotations

import io
from typing import Any

import polars as pl

from siltfs.client.remote import RemoteFileSystem
from tests.s3gw.gateway import ACCESS, REGION, SECRET, GatewayProcess


def options(gateway: GatewayProcess) -> dict[str, str]:
    return {
        "aws_endpoint_url": gateway.url,
        "aws_access_key_id": ACCESS,
        "aws_secret_access_key": SECRET,
        "aws_region": REGION,
        "aws_allow_http": "true",
    }


def frame() -> Any:
    return pl.DataFrame({"id": list(range(10_000)), "name": [f"n{i % 97}" for i in range(10_000)]})


def test_read_and_scan_parquet(gateway: GatewayProcess, bucket: str, fs: RemoteFileSystem) -> None:
    df = frame()
    buffer = io.BytesIO()
    df.write_parquet(buffer)
    fs.write_bytes(f"/{bucket}/data/part-0.parquet", buffer.getvalue())
    url = f"s3://{bucket}/data/part-0.parquet"
    assert pl.read_parquet(url, storage_options=options(gateway)).equals(df)
    lazy = pl.scan_parquet(f"s3://{bucket}/data/*.parquet", storage_options=options(gateway))
    total = lazy.filter(pl.col("id") % 2 == 0).select(pl.col("id").sum()).collect()
    assert total.item() == sum(range(0, 10_000, 2))


def test_write_parquet(gateway: GatewayProcess, bucket: str, fs: RemoteFileSystem) -> None:
    df = frame()
    df.write_parquet(f"s3://{bucket}/out/df.parquet", storage_options=options(gateway))
    assert pl.read_parquet(io.BytesIO(fs.read_bytes(f"/{bucket}/out/df.parquet"))).equals(df)
