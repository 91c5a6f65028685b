"""Libraries that change files in place or read with many threads, on siltfs embedded
and over a real master: h5py through ``open("w+b")``/``"r+b"``, pyarrow's
``open_append_stream``, DuckDB reading parquet from its thread pool."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import h5py
import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from siltfs.fsspec import SiltFileSystem


@pytest.fixture(params=["embedded", "remote"])
def sfs(request: pytest.FixtureRequest, silt_home: Path) -> Iterator[SiltFileSystem]:
    if request.param == "remote":
        master = request.getfixturevalue("silt_cluster")
        fs = SiltFileSystem(master=master.url, token=master.token, skip_instance_cache=True)
    else:
        fs = SiltFileSystem(home=str(silt_home), skip_instance_cache=True)
    try:
        yield fs
    finally:
        fs.close()


@pytest.fixture
def base() -> str:
    return f"/programs-{uuid.uuid4().hex[:10]}"  # the remote cluster is shared


def test_h5py_writes_and_updates_a_dataset(sfs: SiltFileSystem, base: str) -> None:
    data = np.arange(200_000, dtype="f8").reshape(2000, 100)
    path = f"{base}/d.h5"
    with sfs.open(path, "w+b") as f, h5py.File(f, "w") as h:
        h.create_dataset("x", data=data, chunks=(100, 100), compression="gzip")
        h.attrs["units"] = "m"
    with sfs.open(path, "r+b") as f, h5py.File(f, "r+") as h:  # seek + write in place
        h["x"][5, :] = -1.0
    expected = data.copy()
    expected[5, :] = -1.0
    with sfs.open(path, "rb") as f, h5py.File(f, "r") as h:
        assert np.array_equal(h["x"][:], expected) and h.attrs["units"] == "m"


def test_pyarrow_open_append_stream(sfs: SiltFileSystem, base: str) -> None:
    arrow = pafs.PyFileSystem(pafs.FSSpecHandler(sfs))
    path = f"{base}/log.bin"
    for record in (b"one\n", b"two\n", b"three\n"):
        with arrow.open_append_stream(path) as out:
            out.write(record)
    with arrow.open_input_stream(path) as src:
        assert src.read() == b"one\ntwo\nthree\n"


def _table(rows: int) -> Any:
    rng = np.random.default_rng(7)
    labels = [f"r{i % 1000}" for i in range(rows)]
    return pa.table({"id": np.arange(rows), "value": rng.random(rows), "label": labels})


def test_duckdb_reads_parquet_many_times_without_a_wrong_byte(
    sfs: SiltFileSystem, base: str
) -> None:
    table = _table(200_000)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=20_000)  # several row groups: parallel reads
    sfs.pipe(f"{base}/t.parquet", buffer.getvalue())
    con = duckdb.connect()
    con.execute("SET threads TO 4")
    con.register_filesystem(sfs)
    expected = (int(table["id"].to_numpy().sum()), round(float(table["value"].to_numpy().sum()), 6))
    query = f"SELECT sum(id), round(sum(value), 6) FROM read_parquet('silt://{base}/t.parquet')"
    for _ in range(200):
        assert con.execute(query).fetchone() == expected
    assert sfs.cat(f"{base}/t.parquet") == buffer.getvalue()


def test_one_reading_handle_shared_by_threads(sfs: SiltFileSystem, base: str) -> None:
    """Each thread seeks, then reads, interleaved with the others (DuckDB's pattern): a
    read starts where its own thread seeked; reads without a seek go on sequentially."""
    data = np.random.default_rng(3).bytes(3 * 1024 * 1024)
    sfs.pipe(f"{base}/shared.bin", data)
    wrong: list[tuple[int, int]] = []
    with sfs.open(f"{base}/shared.bin", "rb") as f:

        def worker(seed: int) -> None:
            rng = np.random.default_rng(seed)
            for _ in range(300):
                offset, size = int(rng.integers(0, len(data))), int(rng.integers(1, 200_000))
                f.seek(offset)
                if f.read(size) != data[offset : offset + size]:
                    wrong.append((offset, size))

        threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        f.seek(10)
        assert f.read(5) == data[10:15] and f.read(5) == data[15:20] and f.tell() == 20
    assert wrong == []
