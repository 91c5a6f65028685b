"""pandas and pyarrow read and write silt:// unchanged (real parquet files)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pytest.importorskip("pyarrow.parquet")
import numpy as np  # noqa: E402  (pandas brings numpy)
import pyarrow.dataset as ds  # noqa: E402
import pyarrow.fs as pafs  # noqa: E402

from siltfs.fsspec import SiltFileSystem  # noqa: E402


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64") + seed * rows,
            "value": rng.random(rows),
            "label": [f"row-{seed}-{i}" for i in range(rows)],
            "when": pd.date_range("2024-01-01", periods=rows, freq="min"),
        }
    )


@pytest.fixture(params=["ASYNC_THROUGH", "THROUGH", "remote"])
def options(request: pytest.FixtureRequest, silt_home: Path) -> Iterator[dict[str, str]]:
    if request.param == "remote":  # a real master + worker; each test in its own directory
        master = request.getfixturevalue("silt_cluster")
        opts = {"master": master.url, "token": master.token}
    else:
        opts = {"home": str(silt_home), "write_type": request.param}
    yield opts
    SiltFileSystem(**opts).close()  # the cached instance the URLs used


def test_pandas_parquet_round_trip(options: dict[str, str]) -> None:
    df = _frame(5000, 1)
    df.to_parquet("silt:///data/x.parquet", storage_options=options)
    back = pd.read_parquet("silt:///data/x.parquet", storage_options=options)
    pd.testing.assert_frame_equal(back, df)
    fs = SiltFileSystem(**options)
    assert fs.info("/data/x.parquet")["size"] > 0
    subset = pd.read_parquet(
        "silt:///data/x.parquet", columns=["id", "label"], storage_options=options
    )
    pd.testing.assert_frame_equal(subset, df[["id", "label"]])


def test_pandas_csv_round_trip(options: dict[str, str]) -> None:
    df = _frame(300, 2)
    df.to_csv("silt:///csv/x.csv.gz", index=False, storage_options=options)
    back = pd.read_csv("silt:///csv/x.csv.gz", parse_dates=["when"], storage_options=options)
    pd.testing.assert_frame_equal(back, df)


def test_pyarrow_dataset_over_a_directory(options: dict[str, str]) -> None:
    frames = [_frame(1000, i) for i in range(3)]
    for i, df in enumerate(frames):
        df.to_parquet(f"silt:///lake/part-{i}.parquet", storage_options=options)
    fs = SiltFileSystem(**options)
    expected = pd.concat(frames, ignore_index=True)

    dataset = ds.dataset("/lake", filesystem=fs, format="parquet")  # pyarrow wraps fsspec
    assert sorted(dataset.files) == [f"/lake/part-{i}.parquet" for i in range(3)]
    table = dataset.to_table()
    got = table.to_pandas().sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)

    handler = pafs.PyFileSystem(pafs.FSSpecHandler(fs))
    filtered = ds.dataset("/lake", filesystem=handler, format="parquet").to_table(
        filter=ds.field("id") >= 2000, columns=["id", "value"]
    )
    pd.testing.assert_frame_equal(
        filtered.to_pandas().sort_values("id", ignore_index=True),
        expected[expected["id"] >= 2000][["id", "value"]].reset_index(drop=True),
    )

    whole = pd.read_parquet("silt:///lake", storage_options=options)
    pd.testing.assert_frame_equal(whole.sort_values("id", ignore_index=True), expected)


def test_pyarrow_writes_a_dataset(options: dict[str, str]) -> None:
    fs = SiltFileSystem(**options)
    df = _frame(3000, 3).assign(part=lambda d: d["id"] % 3)
    ds.write_dataset(
        pa.Table.from_pandas(df, preserve_index=False),
        "/out",
        filesystem=fs,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("part", pa.int64())]), flavor="hive"),
    )
    assert fs.ls("/out", detail=False) == ["/out/part=0", "/out/part=1", "/out/part=2"]
    back = ds.dataset("/out", filesystem=fs, format="parquet", partitioning="hive").to_table()
    got = back.to_pandas().sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(got[df.columns.tolist()], df, check_dtype=False)
    fs.client.wait_persisted("/", timeout=30)
    assert fs.client.check_consistency("/").consistent
