"""Other S3 clients against a real ``silt s3``: s3fs (fsspec) and pyarrow's
S3FileSystem writing and reading a parquet dataset."""

from __future__ import annotations

from typing import Any

import pytest

from siltfs.client.remote import RemoteFileSystem
from tests.s3gw.gateway import ACCESS, REGION, SECRET, GatewayProcess


@pytest.fixture
def s3fs_fs(gateway: GatewayProcess) -> Any:
    import s3fs

    return s3fs.S3FileSystem(
        key=ACCESS,
        secret=SECRET,
        client_kwargs={"endpoint_url": gateway.url, "region_name": REGION},
        skip_instance_cache=True,
        use_listings_cache=False,
    )


def test_s3fs(s3fs_fs: Any, bucket: str, fs: RemoteFileSystem) -> None:
    s3 = s3fs_fs
    s3.pipe(f"{bucket}/dir/a.txt", b"alpha")
    with s3.open(f"{bucket}/dir/sub/b.bin", "wb", block_size=5 * 1024 * 1024) as f:
        f.write(b"b" * (11 * 1024 * 1024))  # a multipart upload
    assert s3.cat(f"{bucket}/dir/a.txt") == b"alpha"
    assert sorted(s3.ls(f"{bucket}/dir")) == [f"{bucket}/dir/a.txt", f"{bucket}/dir/sub"]
    assert s3.info(f"{bucket}/dir/sub/b.bin")["size"] == 11 * 1024 * 1024
    assert s3.isdir(f"{bucket}/dir/sub")
    assert sorted(s3.find(f"{bucket}")) == [f"{bucket}/dir/a.txt", f"{bucket}/dir/sub/b.bin"]
    assert s3.cat_file(f"{bucket}/dir/sub/b.bin", start=10, end=20) == b"b" * 10
    s3.mv(f"{bucket}/dir/a.txt", f"{bucket}/moved.txt")
    assert fs.read_bytes(f"/{bucket}/moved.txt") == b"alpha"
    s3.rm(f"{bucket}/dir", recursive=True)
    assert [i.name for i in fs.ls(f"/{bucket}")] == ["moved.txt"]


def test_pyarrow_dataset(gateway: GatewayProcess, bucket: str, fs: RemoteFileSystem) -> None:
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    s3 = pafs.S3FileSystem(
        access_key=ACCESS,
        secret_key=SECRET,
        endpoint_override=gateway.url.split("//")[1],
        scheme="http",
        region=REGION,
    )
    table = pa.table({"year": [2020, 2020, 2021, 2022], "v": [1.0, 2.0, 3.0, 4.0]})
    ds.write_dataset(
        table,
        f"{bucket}/data",
        format="parquet",
        filesystem=s3,
        partitioning=["year"],
        partitioning_flavor="hive",
    )
    back = ds.dataset(f"{bucket}/data", format="parquet", filesystem=s3, partitioning="hive")
    got = back.to_table().sort_by("v")
    assert got.column("v").to_pylist() == [1.0, 2.0, 3.0, 4.0]
    assert sorted(got.column("year").to_pylist()) == [2020, 2020, 2021, 2022]
    assert sorted(i.name for i in fs.ls(f"/{bucket}/data")) == [
        "year=2020",
        "year=2021",
        "year=2022",
    ]
    info = s3.get_file_info(pafs.FileSelector(f"{bucket}/data", recursive=True))
    assert sum(1 for i in info if i.type == pafs.FileType.File) == 3
