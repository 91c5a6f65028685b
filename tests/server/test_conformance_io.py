"""Conformance, data: open in every mode (seek/tell/read(n)/readline/partial and past-EOF
reads, text), read_bytes ranges, the four write types, the read types and put/get, on
every backend (``anyfs``), through the public API only."""

from __future__ import annotations

import errno
import io
import threading
from pathlib import Path

import pytest

from siltfs import errors
from siltfs.client.base import FileSystem
from siltfs.model.enums import PersistenceState, ReadType, WriteType
from siltfs.model.inode import FileInfo

from .conftest import BLOCK
from .test_conformance import blob, fails

DATA = blob(3 * BLOCK + 17, seed=5)  # four blocks, the last one short


# rb -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("write_type", ["MUST_CACHE", "THROUGH"])  # cached / only in the UFS
def test_rb_seek_tell_read(anyfs: FileSystem, base: str, write_type: str) -> None:
    p = f"{base}/f"
    anyfs.write_bytes(p, DATA, write_type=write_type)
    with anyfs.open(p, "rb") as f:
        assert f.readable() and f.seekable() and not f.writable()
        assert f.tell() == 0
        assert f.read(10) == DATA[:10] and f.tell() == 10
        assert f.read(0) == b"" and f.tell() == 10
        assert f.seek(5, io.SEEK_CUR) == 15 and f.read(5) == DATA[15:20]
        assert f.seek(BLOCK - 3) == BLOCK - 3
        assert f.read(6) == DATA[BLOCK - 3 : BLOCK + 3]  # across a block boundary
        assert f.seek(-7, io.SEEK_END) == len(DATA) - 7
        assert f.read(100) == DATA[-7:]  # a partial read at the end
        assert f.tell() == len(DATA)
        assert f.read(100) == b"" and f.read() == b""  # at EOF
        assert f.seek(len(DATA) + 100) == len(DATA) + 100  # past EOF
        assert f.read(5) == b"" and f.tell() == len(DATA) + 100
        f.seek(1)
        buf = bytearray(8)
        assert f.readinto(buf) == 8 and bytes(buf) == DATA[1:9]
        assert f.seek(0) == 0 and f.read() == DATA
        with pytest.raises(ValueError):
            f.seek(-1)
        with pytest.raises(io.UnsupportedOperation):
            f.write(b"x")
    assert f.closed
    with pytest.raises(ValueError):
        f.read()


def test_rb_readline_and_iteration(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/lines"
    anyfs.write_bytes(p, b"one\ntwo\n\nthree", write_type="MUST_CACHE")
    with anyfs.open(p, "rb") as f:
        assert f.readline() == b"one\n"
        assert f.readline(2) == b"tw"
        assert f.readlines() == [b"o\n", b"\n", b"three"]
        assert f.readline() == b""
    with anyfs.open(p, "rb") as f:
        assert list(f) == [b"one\n", b"two\n", b"\n", b"three"]
    with anyfs.open(p) as f:  # "rb" is the default mode
        assert f.read() == b"one\ntwo\n\nthree"


def test_rb_of_an_empty_file(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/e", b"", write_type="CACHE_THROUGH")
    with anyfs.open(f"{base}/e", "rb") as f:
        assert f.read() == b"" and f.read(10) == b"" and f.readline() == b""
        assert f.seek(0, io.SEEK_END) == 0


def test_open_for_read_errors(anyfs: FileSystem, base: str) -> None:
    anyfs.mkdir(f"{base}/d")
    err = fails(errors.FileNotFound, f"{base}/missing", anyfs.open, f"{base}/missing", "rb")
    assert isinstance(err, FileNotFoundError) and err.errno == errno.ENOENT
    fails(errors.FileNotFound, f"{base}/missing", anyfs.open, f"{base}/missing", "r")
    err = fails(errors.IsADirectory, f"{base}/d", anyfs.open, f"{base}/d", "rb")
    assert isinstance(err, IsADirectoryError)


# wb / xb ------------------------------------------------------------------------------------
def test_wb_many_writes_and_buffers(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/w"
    with anyfs.open(p, "wb", write_type="MUST_CACHE") as f:
        assert f.writable() and not f.readable() and not f.seekable()
        assert f.write(b"abc") == 3
        assert f.write(bytearray(b"def")) == 3
        assert f.write(memoryview(b"ghi")) == 3
        for i in range(0, len(DATA), 700_000):
            f.write(DATA[i : i + 700_000])
        with pytest.raises(io.UnsupportedOperation):
            f.read()
    assert f.closed
    assert anyfs.read_bytes(p) == b"abcdefghi" + DATA
    assert anyfs.stat(p).length == 9 + len(DATA)


def test_file_appears_only_at_close(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/late"
    f = anyfs.open(p, "wb", write_type="MUST_CACHE")
    f.write(b"x" * (BLOCK + 5))  # more than a block
    assert not anyfs.exists(p)
    f.close()
    assert anyfs.read_bytes(p) == b"x" * (BLOCK + 5)
    # an overwrite: the old version is served until the new one is committed
    g = anyfs.open(p, "wb", write_type="MUST_CACHE")
    g.write(b"new version")
    assert anyfs.read_bytes(p) == b"x" * (BLOCK + 5)
    g.close()
    assert anyfs.read_bytes(p) == b"new version"


def test_write_creates_missing_parents(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/p/q/r.txt", b"r", write_type="CACHE_THROUGH")
    assert anyfs.stat(f"{base}/p").is_dir and anyfs.stat(f"{base}/p/q").is_dir
    with anyfs.open(f"{base}/s/t/u", "wb") as f:
        f.write(b"u")
    assert anyfs.read_bytes(f"{base}/s/t/u") == b"u"


def test_overwrite_makes_a_new_version(anyfs: FileSystem, base: str) -> None:
    first = anyfs.write_bytes(f"{base}/f", b"a much longer first version" * 100,
                              write_type="CACHE_THROUGH")  # fmt: skip
    with anyfs.open(f"{base}/f", "wb", write_type="MUST_CACHE") as f:
        f.write(b"short")
    second = anyfs.stat(f"{base}/f")
    assert (second.id, second.generation) != (first.id, first.generation)
    assert second.length == 5 and anyfs.read_bytes(f"{base}/f") == b"short"
    assert second.persistence_state is PersistenceState.NOT_PERSISTED


def test_exclusive_create(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/new"
    with anyfs.open(p, "xb") as f:
        f.write(b"first")
    err = fails(errors.FileExists, p, anyfs.open, p, "xb")
    assert isinstance(err, FileExistsError)
    fails(errors.FileExists, p, anyfs.open, p, "x")
    assert anyfs.read_bytes(p) == b"first"


def test_exclusive_create_race_loses_at_close(anyfs: FileSystem, base: str) -> None:
    p = f"{base}/race"
    a = anyfs.open(p, "xb", write_type="MUST_CACHE")
    b = anyfs.open(p, "xb", write_type="MUST_CACHE")  # both pass the check at open
    a.write(b"winner")
    b.write(b"loser")
    a.close()
    fails(errors.FileExists, p, b.close)
    assert b.closed
    assert anyfs.read_bytes(p) == b"winner"


def test_write_onto_a_directory(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/d/inside", b"x", write_type="MUST_CACHE")
    err = fails(errors.IsADirectory, f"{base}/d", anyfs.write_bytes, f"{base}/d", b"data")
    assert isinstance(err, IsADirectoryError)
    fails(errors.IsADirectory, f"{base}/d", anyfs.open, f"{base}/d", "wb")
    fails(errors.IsADirectory, f"{base}/d", anyfs.open, f"{base}/d", "xb")
    assert anyfs.read_bytes(f"{base}/d/inside") == b"x"


def test_write_under_a_file(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/f", b"f", write_type="MUST_CACHE")
    for call in (
        lambda: anyfs.write_bytes(f"{base}/f/child", b"x"),
        lambda: anyfs.open(f"{base}/f/child", "wb"),
        lambda: anyfs.open(f"{base}/f/a/b", "xb"),
        lambda: anyfs.touch(f"{base}/f/child"),
    ):
        fails(errors.NotADirectory, f"{base}/f", call)
    assert [i.name for i in anyfs.ls(base)] == ["f"]


def test_failed_write_inside_with_commits_what_was_written(anyfs: FileSystem, base: str) -> None:
    with pytest.raises(RuntimeError), anyfs.open(f"{base}/partial", "wb") as f:
        f.write(b"x" * 10)
        raise RuntimeError("boom")
    # close() still runs on the way out: the file is complete or absent, never partial
    assert anyfs.read_bytes(f"{base}/partial") == b"x" * 10


def test_custom_block_size(anyfs: FileSystem, base: str) -> None:
    with anyfs.open(f"{base}/f", "wb", block_size=1000, write_type="MUST_CACHE") as f:
        f.write(b"q" * 2500)
    st = anyfs.stat(f"{base}/f")
    assert st.block_size == 1000 and len(st.block_ids) == 3
    assert anyfs.read_bytes(f"{base}/f") == b"q" * 2500
    assert anyfs.read_bytes(f"{base}/f", 990, 1010) == b"q" * 20


def test_replicas_beyond_the_cluster(anyfs: FileSystem, base: str) -> None:
    """Every backend has one block store: two replicas of an unpersisted block cannot be
    placed, and nothing of the write stays behind."""
    p = f"{base}/r"
    f = anyfs.open(p, "wb", write_type="MUST_CACHE", replicas=2)
    f.write(b"replicated")
    with pytest.raises(errors.ResourceExhausted) as err:
        f.close()
    assert isinstance(err.value, OSError) and err.value.errno == errno.ENOSPC
    assert (err.value.path or "").startswith("block ")  # the block store names the block
    assert not anyfs.exists(p)
    with anyfs.open(p, "wb", write_type="MUST_CACHE", replicas=1) as f:
        f.write(b"one copy")
    assert anyfs.read_bytes(p) == b"one copy"


# text modes ---------------------------------------------------------------------------------
def test_text_roundtrip(anyfs: FileSystem, base: str) -> None:
    text = "héllo\nwörld ☃\n"
    with anyfs.open(f"{base}/t.txt", "w") as f:
        assert f.write(text) == len(text)
    assert anyfs.read_bytes(f"{base}/t.txt") == text.encode("utf-8")
    with anyfs.open(f"{base}/t.txt", "r") as f:
        assert f.readline() == "héllo\n" and f.read() == "wörld ☃\n" and f.read() == ""
    with anyfs.open(f"{base}/t.txt", "rt") as f:
        assert f.readlines() == ["héllo\n", "wörld ☃\n"]
    with anyfs.open(f"{base}/t.txt", "r") as f:
        assert list(f) == ["héllo\n", "wörld ☃\n"]


def test_text_encoding_and_exclusive(anyfs: FileSystem, base: str) -> None:
    with anyfs.open(f"{base}/l1", "xt", encoding="latin-1") as f:
        f.write("é")
    assert anyfs.read_bytes(f"{base}/l1") == b"\xe9"
    with anyfs.open(f"{base}/l1", "r", encoding="latin-1") as f:
        assert f.read() == "é"
    fails(errors.FileExists, f"{base}/l1", anyfs.open, f"{base}/l1", "x")
    fails(errors.InvalidArgument, f"{base}/n", anyfs.open, f"{base}/n", "w",
          encoding="no-such-codec")  # fmt: skip
    fails(errors.InvalidArgument, f"{base}/l1", anyfs.open, f"{base}/l1", "r",
          encoding="no-such-codec")  # fmt: skip
    assert not anyfs.exists(f"{base}/n")


# read_bytes ranges ----------------------------------------------------------------------------
RANGES = [
    (None, None), (0, None), (6, None), (None, 5), (0, 5), (3, 8), (-5, None), (-5, -2),
    (None, -6), (-100, None), (5, 2), (5, 5), (11, None), (20, None), (0, 100), (-3, 100),
]  # fmt: skip


def test_read_bytes_ranges(anyfs: FileSystem, base: str) -> None:
    data = b"hello world"
    anyfs.write_bytes(f"{base}/s", data, write_type="MUST_CACHE")
    for start, end in RANGES:
        assert anyfs.read_bytes(f"{base}/s", start, end) == data[start:end], (start, end)
        assert anyfs.cat(f"{base}/s", start=start, end=end) == data[start:end], (start, end)


def test_read_bytes_ranges_of_a_large_file(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/big", DATA, write_type="CACHE_THROUGH")
    for start, end in [(BLOCK - 1, BLOCK + 1), (-BLOCK - 5, None), (2 * BLOCK, -3), (7, 9)]:
        assert anyfs.read_bytes(f"{base}/big", start, end) == DATA[start:end], (start, end)


# write types ----------------------------------------------------------------------------------
WRITE_TYPES = {
    # write type: (state right after the write, cached percent)
    "MUST_CACHE": (PersistenceState.NOT_PERSISTED, 100),
    "CACHE_THROUGH": (PersistenceState.PERSISTED, 100),
    "THROUGH": (PersistenceState.PERSISTED, 0),
    "ASYNC_THROUGH": (PersistenceState.TO_BE_PERSISTED, 100),
}


@pytest.mark.parametrize("write_type", list(WRITE_TYPES))
def test_write_type_state_and_cache(anyfs: FileSystem, base: str, write_type: str) -> None:
    state, cached = WRITE_TYPES[write_type]
    p = f"{base}/{write_type.lower()}"
    info = anyfs.write_bytes(p, DATA, write_type=write_type)
    assert isinstance(info, FileInfo) and info.length == len(DATA)
    if write_type == "ASYNC_THROUGH":  # the persist may already be done
        assert info.persistence_state in (state, PersistenceState.PERSISTED)
    else:
        assert info.persistence_state is state
    assert info.cached_percent == cached
    assert anyfs.read_bytes(p) == DATA
    anyfs.wait_persisted(p, timeout=30)
    after = anyfs.stat(p)
    persisted = write_type != "MUST_CACHE"
    assert after.persisted is persisted and (after.fingerprint is not None) is persisted


def test_default_write_type_is_async_through(anyfs: FileSystem, base: str) -> None:
    info = anyfs.write_bytes(f"{base}/x", b"1")
    assert info.persistence_state in (PersistenceState.TO_BE_PERSISTED, PersistenceState.PERSISTED)
    anyfs.wait_persisted(f"{base}/x", timeout=30)
    assert anyfs.stat(f"{base}/x").persisted


def test_write_type_spellings(anyfs: FileSystem, base: str) -> None:
    for i, wt in enumerate(["must_cache", "cache-through", WriteType.THROUGH, "Async_Through"]):
        info = anyfs.write_bytes(f"{base}/{i}", b"x", write_type=wt)
        expected = WriteType.parse(wt)
        assert (info.persistence_state is PersistenceState.NOT_PERSISTED) is (
            expected is WriteType.MUST_CACHE
        )
    fails(errors.InvalidArgument, None, anyfs.write_bytes, f"{base}/bad", b"x",
          write_type="SOMETIMES")  # fmt: skip
    assert not anyfs.exists(f"{base}/bad")


def test_write_bytes_accepts_buffers(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/ba", bytearray(b"ba"), write_type="MUST_CACHE")
    anyfs.write_bytes(f"{base}/mv", memoryview(b"mv"), write_type="MUST_CACHE")
    assert anyfs.read_bytes(f"{base}/ba") == b"ba" and anyfs.read_bytes(f"{base}/mv") == b"mv"


# read types -----------------------------------------------------------------------------------
def test_no_cache_reads_without_caching(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/r", DATA, write_type="THROUGH")
    assert anyfs.read_bytes(f"{base}/r", read_type="NO_CACHE") == DATA
    with anyfs.open(f"{base}/r", "rb", read_type=ReadType.NO_CACHE) as f:
        f.seek(BLOCK)
        assert f.read(10) == DATA[BLOCK : BLOCK + 10]
    assert anyfs.stat(f"{base}/r").cached_percent == 0


@pytest.mark.parametrize("read_type", ["CACHE", "CACHE_PROMOTE", None])
def test_cache_reads_fill_the_cache(anyfs: FileSystem, base: str, read_type: str | None) -> None:
    anyfs.write_bytes(f"{base}/r", DATA, write_type="THROUGH")
    assert anyfs.stat(f"{base}/r").cached_percent == 0
    assert anyfs.read_bytes(f"{base}/r", read_type=read_type) == DATA
    assert anyfs.stat(f"{base}/r").cached_percent == 100
    assert anyfs.read_bytes(f"{base}/r", read_type=read_type) == DATA  # from the cache


def test_partial_read_caches_part_of_the_file(anyfs: FileSystem, base: str) -> None:
    """A small read caches the blocks it touched: one block embedded, the 4 MiB range
    the remote reader fetches (so a file of six 1 MiB blocks) remotely."""
    data = blob(6 * BLOCK, seed=6)
    anyfs.write_bytes(f"{base}/r", data, write_type="THROUGH")
    with anyfs.open(f"{base}/r", "rb", read_type="CACHE") as f:
        f.seek(BLOCK + 10)
        assert f.read(5) == data[BLOCK + 10 : BLOCK + 15]
    assert 0 < anyfs.stat(f"{base}/r").cached_percent < 100
    assert anyfs.read_bytes(f"{base}/r", read_type="NO_CACHE") == data


def test_read_type_spellings(anyfs: FileSystem, base: str) -> None:
    anyfs.write_bytes(f"{base}/c", b"c", write_type="CACHE_THROUGH")
    assert anyfs.read_bytes(f"{base}/c", read_type="no_cache") == b"c"
    assert anyfs.read_bytes(f"{base}/c", read_type=ReadType.CACHE_PROMOTE) == b"c"
    assert anyfs.read_bytes(f"{base}/c", read_type="cache-promote") == b"c"
    fails(errors.InvalidArgument, None, anyfs.read_bytes, f"{base}/c", read_type="BOGUS")
    fails(errors.InvalidArgument, None, anyfs.open, f"{base}/c", "rb", read_type="")


# put / get ----------------------------------------------------------------------------------
def test_put_and_get(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    local = tmp_path / "local.bin"
    local.write_bytes(DATA)
    seen: list[tuple[int, int]] = []
    info = anyfs.put(local, f"{base}/p", write_type="CACHE_THROUGH",
                     progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert isinstance(info, FileInfo) and info == anyfs.stat(f"{base}/p")
    assert info.length == len(DATA) and info.persisted
    assert seen and seen[-1] == (len(DATA), len(DATA))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    got: list[tuple[int, int]] = []
    target = tmp_path / "back.bin"
    target.write_bytes(b"old content, replaced")
    assert anyfs.get(f"{base}/p", target, progress=lambda d, t: got.append((d, t))) is None
    assert target.read_bytes() == DATA
    assert got and got[-1] == (len(DATA), len(DATA))
    anyfs.get(f"{base}/p", str(tmp_path / "as-str.bin"), read_type="NO_CACHE")
    assert (tmp_path / "as-str.bin").read_bytes() == DATA


def test_put_overwrites_and_takes_str_paths(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    local = tmp_path / "a.txt"
    local.write_bytes(b"first")
    first = anyfs.put(str(local), f"{base}/a", write_type="MUST_CACHE")
    local.write_bytes(b"second")
    second = anyfs.put(local, f"{base}/a", write_type="MUST_CACHE")
    assert second.id != first.id and anyfs.read_bytes(f"{base}/a") == b"second"
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert anyfs.put(empty, f"{base}/e").length == 0
    anyfs.get(f"{base}/e", tmp_path / "e-back")
    assert (tmp_path / "e-back").read_bytes() == b""


def test_put_errors(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    local = tmp_path / "local.bin"
    local.write_bytes(b"local")
    anyfs.mkdir(f"{base}/dir")
    fails(errors.IsADirectory, str(tmp_path), anyfs.put, tmp_path, f"{base}/x")
    fails(errors.IsADirectory, f"{base}/dir", anyfs.put, local, f"{base}/dir")
    anyfs.write_bytes(f"{base}/f", b"f", write_type="MUST_CACHE")
    fails(errors.NotADirectory, f"{base}/f", anyfs.put, local, f"{base}/f/x")
    with pytest.raises(FileNotFoundError):  # the local file: an OS error, as open() gives
        anyfs.put(tmp_path / "no-such-file", f"{base}/y")
    assert [i.name for i in anyfs.ls(base)] == ["dir", "f"]


def test_get_errors_leave_nothing_behind(anyfs: FileSystem, base: str, tmp_path: Path) -> None:
    anyfs.write_bytes(f"{base}/f", b"f", write_type="MUST_CACHE")
    anyfs.mkdir(f"{base}/d")
    out = tmp_path / "out"
    out.mkdir()
    fails(errors.FileNotFound, f"{base}/missing", anyfs.get, f"{base}/missing", out / "x")
    fails(errors.IsADirectory, f"{base}/d", anyfs.get, f"{base}/d", out / "x")
    missing_dir = out / "no" / "such"
    fails(errors.FileNotFound, str(missing_dir), anyfs.get, f"{base}/f", missing_dir / "x")
    assert list(out.iterdir()) == []  # no target, no temporary file


# open files meet other changes ----------------------------------------------------------------
def test_empty_write(anyfs: FileSystem, base: str) -> None:
    f = anyfs.open(f"{base}/e", "wb", write_type="CACHE_THROUGH")
    f.close()
    st = anyfs.stat(f"{base}/e")
    assert st.length == 0 and st.block_ids == [] and st.persisted
    with pytest.raises(ValueError):
        f.write(b"x")  # closed
    f.close()  # twice is fine


def test_reading_a_file_renamed_while_open(
    anyfs: FileSystem, base: str, request: pytest.FixtureRequest
) -> None:
    anyfs.write_bytes(f"{base}/a", DATA, write_type="THROUGH")  # nothing cached
    with anyfs.open(f"{base}/a", "rb") as f:
        anyfs.rename(f"{base}/a", f"{base}/b")
        assert f.read() == DATA


@pytest.mark.parametrize("write_type", ["MUST_CACHE", "THROUGH"])
@pytest.mark.parametrize("change", ["overwrite", "delete"])
def test_reading_a_file_replaced_or_deleted_while_open(
    anyfs: FileSystem, base: str, request: pytest.FixtureRequest, write_type: str, change: str
) -> None:
    """Never bytes of two versions: the version that was opened is gone (FileNotFound)."""
    p = f"{base}/f"
    anyfs.write_bytes(p, DATA, write_type=write_type)
    with anyfs.open(p, "rb") as f:
        if change == "overwrite":
            anyfs.write_bytes(p, b"new", write_type=write_type)
        else:
            anyfs.delete(p)
        with pytest.raises(errors.FileNotFound) as err:
            f.read()
    assert type(err.value) is errors.FileNotFound and err.value.path == p


def test_concurrent_writers_share_one_client(anyfs: FileSystem, base: str) -> None:
    failures: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(10):
                anyfs.write_bytes(f"{base}/t{t}/{i}", f"{t}:{i}".encode(), write_type="MUST_CACHE")
                assert anyfs.read_bytes(f"{base}/t{t}/{i}") == f"{t}:{i}".encode()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    pool = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(60)
    assert failures == []
    files = [i.path for i in anyfs.ls(base, recursive=True) if not i.is_dir]
    assert sorted(files) == sorted(f"{base}/t{t}/{i}" for t in range(4) for i in range(10))


def test_overwrite_with_the_same_length_while_open_is_not_read(
    anyfs: FileSystem, base: str
) -> None:
    """Same size, other bytes, nothing cached: still never the new bytes."""
    p = f"{base}/same"
    old = bytes(range(256)) * 16
    anyfs.write_bytes(p, old, write_type="THROUGH")
    with anyfs.open(p, "rb") as f:
        anyfs.write_bytes(p, old[::-1], write_type="THROUGH")
        with pytest.raises(errors.FileNotFound):
            f.read()
    assert anyfs.read_bytes(p) == old[::-1]
