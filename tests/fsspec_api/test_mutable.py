"""fsspec's ``silt`` on files that change: ``ab``/``r+b``/``w+b``, transactions, pyarrow's
append stream and random access, fsspec's ``blockcache::`` in front of siltfs."""

from __future__ import annotations

import io

import fsspec
import pyarrow.fs as pafs
import pytest

from siltfs.fsspec import SiltFileSystem


def test_append_update_and_truncate(silt_fs: SiltFileSystem) -> None:
    with silt_fs.open("/f", "ab") as f:
        f.write(b"hello")
    with silt_fs.open("/f", "ab") as f:
        f.write(b" world")
    assert silt_fs.cat_file("/f") == b"hello world"
    with silt_fs.open("/f", "r+b") as f:
        assert f.readable() and f.writable() and f.seekable()
        f.seek(6)
        f.write(b"W")
        f.seek(0)
        assert f.read(5) == b"hello"
        f.truncate(8)
        assert f.size == 8
    assert silt_fs.cat_file("/f") == b"hello Wo"
    with silt_fs.open("/f", "w+b") as f:
        f.write(b"abc")
        f.seek(1)
        assert f.read() == b"bc"
    assert silt_fs.cat_file("/f") == b"abc"
    assert silt_fs.info("/f")["size"] == 3


def test_a_transaction_holds_changes_until_commit(silt_fs: SiltFileSystem) -> None:
    silt_fs.pipe_file("/t", b"old")
    with silt_fs.transaction:
        with silt_fs.open("/t", "ab") as f:
            f.write(b"+new")
        assert silt_fs.cat_file("/t") == b"old"
    assert silt_fs.cat_file("/t") == b"old+new"
    f = silt_fs.open("/t", "r+b", autocommit=False)
    f.write(b"XXX")
    f.close()
    f.discard()
    assert silt_fs.cat_file("/t") == b"old+new"


def test_pyarrow_append_stream_and_random_access(silt_fs: SiltFileSystem) -> None:
    arrow = pafs.PyFileSystem(pafs.FSSpecHandler(silt_fs))
    with arrow.open_output_stream("/a.log") as out:
        out.write(b"first\n")
    with arrow.open_append_stream("/a.log") as out:
        out.write(b"second\n")
    with arrow.open_input_file("/a.log") as f:
        assert f.size() == 13
        f.seek(6)
        assert f.read(6) == b"second"
    assert silt_fs.cat_file("/a.log") == b"first\nsecond\n"


def test_blockcache_in_front_of_siltfs(silt_fs: SiltFileSystem, tmp_path: object) -> None:
    data = bytes(range(256)) * 4096
    silt_fs.pipe_file("/big", data)
    cached = fsspec.filesystem(
        "blockcache", fs=silt_fs, cache_storage=str(tmp_path), check_files=False
    )
    with cached.open("/big", "rb", block_size=65536) as f:
        f.seek(300_000)
        assert f.read(1000) == data[300_000:301_000]
        f.seek(-10, io.SEEK_END)
        assert f.read() == data[-10:]


def test_bad_modes_change_nothing(silt_fs: SiltFileSystem) -> None:
    with pytest.raises(FileNotFoundError):
        silt_fs.open("/missing", "r+b")
    with pytest.raises(ValueError, match="unsupported mode"):
        silt_fs.open("/missing", "rw+b")
    assert silt_fs.ls("/", detail=False) == []
