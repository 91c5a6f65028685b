"""The FileSystem suite, data: open in every mode (seek/tell/read(n)/readline/partial and
past-EOF reads, text), read_bytes ranges, the four write types, the read types and
put/get, through the public API only.  Part of :class:`siltfs.testing.FileSystemTests`."""

from __future__ import annotations

import errno
import io
import threading
from pathlib import Path
from typing import Any

import pytest

from siltfs import errors
from siltfs.model.enums import PersistenceState, ReadType, WriteType
from siltfs.model.inode import FileInfo
from siltfs.testing.fs_common import BLOCK, FileSystemFixtures, blob, fails

__all__ = ["DATA", "DataTests", "RANGES", "WRITE_TYPES"]

DATA = blob(3 * BLOCK + 17, seed=5)  # four blocks, the last one short


# read_bytes ranges ----------------------------------------------------------------------------
RANGES = [
    (None, None),
    (0, None),
    (6, None),
    (None, 5),
    (0, 5),
    (3, 8),
    (-5, None),
    (-5, -2),
    (None, -6),
    (-100, None),
    (5, 2),
    (5, 5),
    (11, None),
    (20, None),
    (0, 100),
    (-3, 100),
]


# write types ----------------------------------------------------------------------------------
WRITE_TYPES = {
    # write type: (state right after the write, cached percent)
    "MUST_CACHE": (PersistenceState.NOT_PERSISTED, 100),
    "CACHE_THROUGH": (PersistenceState.PERSISTED, 100),
    "THROUGH": (PersistenceState.PERSISTED, 0),
    "ASYNC_THROUGH": (PersistenceState.TO_BE_PERSISTED, 100),
}


class DataTests(FileSystemFixtures):
    """open in every mode, read_bytes ranges, write and read types, put/get."""

    # rb -----------------------------------------------------------------------------------------
    @pytest.mark.parametrize("write_type", ["MUST_CACHE", "THROUGH"])  # cached / only in the UFS
    def test_rb_seek_tell_read(self, fs: Any, base: str, write_type: str) -> None:
        p = f"{base}/f"
        fs.write_bytes(p, DATA, write_type=write_type)
        with fs.open(p, "rb") as f:
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

    def test_rb_readline_and_iteration(self, fs: Any, base: str) -> None:
        p = f"{base}/lines"
        fs.write_bytes(p, b"one\ntwo\n\nthree", write_type="MUST_CACHE")
        with fs.open(p, "rb") as f:
            assert f.readline() == b"one\n"
            assert f.readline(2) == b"tw"
            assert f.readlines() == [b"o\n", b"\n", b"three"]
            assert f.readline() == b""
        with fs.open(p, "rb") as f:
            assert list(f) == [b"one\n", b"two\n", b"\n", b"three"]
        with fs.open(p) as f:  # "rb" is the default mode
            assert f.read() == b"one\ntwo\n\nthree"

    def test_rb_of_an_empty_file(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/e", b"", write_type="CACHE_THROUGH")
        with fs.open(f"{base}/e", "rb") as f:
            assert f.read() == b"" and f.read(10) == b"" and f.readline() == b""
            assert f.seek(0, io.SEEK_END) == 0

    def test_open_for_read_errors(self, fs: Any, base: str) -> None:
        fs.mkdir(f"{base}/d")
        err = fails(errors.FileNotFound, f"{base}/missing", fs.open, f"{base}/missing", "rb")
        assert isinstance(err, FileNotFoundError) and err.errno == errno.ENOENT
        fails(errors.FileNotFound, f"{base}/missing", fs.open, f"{base}/missing", "r")
        err = fails(errors.IsADirectory, f"{base}/d", fs.open, f"{base}/d", "rb")
        assert isinstance(err, IsADirectoryError)

    # wb / xb ------------------------------------------------------------------------------------
    def test_wb_many_writes_and_buffers(self, fs: Any, base: str) -> None:
        p = f"{base}/w"
        with fs.open(p, "wb", write_type="MUST_CACHE") as f:
            assert f.writable() and not f.readable() and not f.seekable()
            assert f.write(b"abc") == 3
            assert f.write(bytearray(b"def")) == 3
            assert f.write(memoryview(b"ghi")) == 3
            for i in range(0, len(DATA), 700_000):
                f.write(DATA[i : i + 700_000])
            with pytest.raises(io.UnsupportedOperation):
                f.read()
        assert f.closed
        assert fs.read_bytes(p) == b"abcdefghi" + DATA
        assert fs.stat(p).length == 9 + len(DATA)

    def test_file_appears_only_at_close(self, fs: Any, base: str) -> None:
        p = f"{base}/late"
        f = fs.open(p, "wb", write_type="MUST_CACHE")
        f.write(b"x" * (BLOCK + 5))  # more than a block
        assert not fs.exists(p)
        f.close()
        assert fs.read_bytes(p) == b"x" * (BLOCK + 5)
        # an overwrite: the old version is served until the new one is committed
        g = fs.open(p, "wb", write_type="MUST_CACHE")
        g.write(b"new version")
        assert fs.read_bytes(p) == b"x" * (BLOCK + 5)
        g.close()
        assert fs.read_bytes(p) == b"new version"

    def test_write_creates_missing_parents(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/p/q/r.txt", b"r", write_type="CACHE_THROUGH")
        assert fs.stat(f"{base}/p").is_dir and fs.stat(f"{base}/p/q").is_dir
        with fs.open(f"{base}/s/t/u", "wb") as f:
            f.write(b"u")
        assert fs.read_bytes(f"{base}/s/t/u") == b"u"

    def test_overwrite_makes_a_new_version(self, fs: Any, base: str) -> None:
        first = fs.write_bytes(
            f"{base}/f", b"a much longer first version" * 100, write_type="CACHE_THROUGH"
        )
        with fs.open(f"{base}/f", "wb", write_type="MUST_CACHE") as f:
            f.write(b"short")
        second = fs.stat(f"{base}/f")
        assert (second.id, second.generation) != (first.id, first.generation)
        assert second.length == 5 and fs.read_bytes(f"{base}/f") == b"short"
        assert second.persistence_state is PersistenceState.NOT_PERSISTED

    def test_exclusive_create(self, fs: Any, base: str) -> None:
        p = f"{base}/new"
        with fs.open(p, "xb") as f:
            f.write(b"first")
        err = fails(errors.FileExists, p, fs.open, p, "xb")
        assert isinstance(err, FileExistsError)
        fails(errors.FileExists, p, fs.open, p, "x")
        assert fs.read_bytes(p) == b"first"

    def test_exclusive_create_race_loses_at_close(self, fs: Any, base: str) -> None:
        p = f"{base}/race"
        a = fs.open(p, "xb", write_type="MUST_CACHE")
        b = fs.open(p, "xb", write_type="MUST_CACHE")  # both pass the check at open
        a.write(b"winner")
        b.write(b"loser")
        a.close()
        fails(errors.FileExists, p, b.close)
        assert b.closed
        assert fs.read_bytes(p) == b"winner"

    def test_write_onto_a_directory(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/d/inside", b"x", write_type="MUST_CACHE")
        err = fails(errors.IsADirectory, f"{base}/d", fs.write_bytes, f"{base}/d", b"data")
        assert isinstance(err, IsADirectoryError)
        fails(errors.IsADirectory, f"{base}/d", fs.open, f"{base}/d", "wb")
        fails(errors.FileExists, f"{base}/d", fs.open, f"{base}/d", "xb")  # (O_EXCL: EEXIST)
        assert fs.read_bytes(f"{base}/d/inside") == b"x"

    def test_write_under_a_file(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/f", b"f", write_type="MUST_CACHE")
        for call in (
            lambda: fs.write_bytes(f"{base}/f/child", b"x"),
            lambda: fs.open(f"{base}/f/child", "wb"),
            lambda: fs.open(f"{base}/f/a/b", "xb"),
            lambda: fs.touch(f"{base}/f/child"),
        ):
            fails(errors.NotADirectory, f"{base}/f", call)
        assert [i.name for i in fs.ls(base)] == ["f"]

    def test_failed_write_inside_with_commits_what_was_written(self, fs: Any, base: str) -> None:
        with pytest.raises(RuntimeError), fs.open(f"{base}/partial", "wb") as f:
            f.write(b"x" * 10)
            raise RuntimeError("boom")
        # close() still runs on the way out: the file is complete or absent, never partial
        assert fs.read_bytes(f"{base}/partial") == b"x" * 10

    def test_custom_block_size(self, fs: Any, base: str) -> None:
        with fs.open(f"{base}/f", "wb", block_size=1000, write_type="MUST_CACHE") as f:
            f.write(b"q" * 2500)
        st = fs.stat(f"{base}/f")
        assert st.block_size == 1000 and len(st.block_ids) == 3
        assert fs.read_bytes(f"{base}/f") == b"q" * 2500
        assert fs.read_bytes(f"{base}/f", 990, 1010) == b"q" * 20

    def test_replicas_beyond_the_cluster(self, fs: Any, base: str) -> None:
        """Every backend has one block store: two replicas of an unpersisted block cannot be
        placed, and nothing of the write stays behind."""
        p = f"{base}/r"
        f = fs.open(p, "wb", write_type="MUST_CACHE", replicas=2)
        f.write(b"replicated")
        with pytest.raises(errors.ResourceExhausted) as err:
            f.close()
        assert isinstance(err.value, OSError) and err.value.errno == errno.ENOSPC
        assert (err.value.path or "").startswith("block ")  # the block store names the block
        assert not fs.exists(p)
        with fs.open(p, "wb", write_type="MUST_CACHE", replicas=1) as f:
            f.write(b"one copy")
        assert fs.read_bytes(p) == b"one copy"

    # text modes ---------------------------------------------------------------------------------
    def test_text_roundtrip(self, fs: Any, base: str) -> None:
        text = "héllo\nwörld ☃\n"
        with fs.open(f"{base}/t.txt", "w") as f:
            assert f.write(text) == len(text)
        assert fs.read_bytes(f"{base}/t.txt") == text.encode("utf-8")
        with fs.open(f"{base}/t.txt", "r") as f:
            assert f.readline() == "héllo\n" and f.read() == "wörld ☃\n" and f.read() == ""
        with fs.open(f"{base}/t.txt", "rt") as f:
            assert f.readlines() == ["héllo\n", "wörld ☃\n"]
        with fs.open(f"{base}/t.txt", "r") as f:
            assert list(f) == ["héllo\n", "wörld ☃\n"]

    def test_text_encoding_and_exclusive(self, fs: Any, base: str) -> None:
        with fs.open(f"{base}/l1", "xt", encoding="latin-1") as f:
            f.write("é")
        assert fs.read_bytes(f"{base}/l1") == b"\xe9"
        with fs.open(f"{base}/l1", "r", encoding="latin-1") as f:
            assert f.read() == "é"
        fails(errors.FileExists, f"{base}/l1", fs.open, f"{base}/l1", "x")
        fails(
            errors.InvalidArgument, f"{base}/n", fs.open, f"{base}/n", "w", encoding="no-such-codec"
        )
        fails(
            errors.InvalidArgument,
            f"{base}/l1",
            fs.open,
            f"{base}/l1",
            "r",
            encoding="no-such-codec",
        )
        assert not fs.exists(f"{base}/n")

    def test_read_bytes_ranges(self, fs: Any, base: str) -> None:
        data = b"hello world"
        fs.write_bytes(f"{base}/s", data, write_type="MUST_CACHE")
        for start, end in RANGES:
            assert fs.read_bytes(f"{base}/s", start, end) == data[start:end], (start, end)
            assert fs.cat(f"{base}/s", start=start, end=end) == data[start:end], (start, end)

    def test_read_bytes_ranges_of_a_large_file(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/big", DATA, write_type="CACHE_THROUGH")
        for start, end in [(BLOCK - 1, BLOCK + 1), (-BLOCK - 5, None), (2 * BLOCK, -3), (7, 9)]:
            assert fs.read_bytes(f"{base}/big", start, end) == DATA[start:end], (start, end)

    @pytest.mark.parametrize("write_type", list(WRITE_TYPES))
    def test_write_type_state_and_cache(self, fs: Any, base: str, write_type: str) -> None:
        state, cached = WRITE_TYPES[write_type]
        p = f"{base}/{write_type.lower()}"
        info = fs.write_bytes(p, DATA, write_type=write_type)
        assert isinstance(info, FileInfo) and info.length == len(DATA)
        if write_type == "ASYNC_THROUGH":  # the persist may already be done
            assert info.persistence_state in (state, PersistenceState.PERSISTED)
        else:
            assert info.persistence_state is state
        assert info.cached_percent == cached
        assert fs.read_bytes(p) == DATA
        fs.wait_persisted(p, timeout=30)
        after = fs.stat(p)
        persisted = write_type != "MUST_CACHE"
        assert after.persisted is persisted and (after.fingerprint is not None) is persisted

    def test_default_write_type_is_async_through(self, fs: Any, base: str) -> None:
        info = fs.write_bytes(f"{base}/x", b"1")
        assert info.persistence_state in (
            PersistenceState.TO_BE_PERSISTED,
            PersistenceState.PERSISTED,
        )
        fs.wait_persisted(f"{base}/x", timeout=30)
        assert fs.stat(f"{base}/x").persisted

    def test_write_type_spellings(self, fs: Any, base: str) -> None:
        for i, wt in enumerate(["must_cache", "cache-through", WriteType.THROUGH, "Async_Through"]):
            info = fs.write_bytes(f"{base}/{i}", b"x", write_type=wt)
            expected = WriteType.parse(wt)
            assert (info.persistence_state is PersistenceState.NOT_PERSISTED) is (
                expected is WriteType.MUST_CACHE
            )
        fails(
            errors.InvalidArgument,
            None,
            fs.write_bytes,
            f"{base}/bad",
            b"x",
            write_type="SOMETIMES",
        )
        assert not fs.exists(f"{base}/bad")

    def test_write_bytes_accepts_buffers(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/ba", bytearray(b"ba"), write_type="MUST_CACHE")
        fs.write_bytes(f"{base}/mv", memoryview(b"mv"), write_type="MUST_CACHE")
        assert fs.read_bytes(f"{base}/ba") == b"ba" and fs.read_bytes(f"{base}/mv") == b"mv"

    # read types -----------------------------------------------------------------------------------
    def test_no_cache_reads_without_caching(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/r", DATA, write_type="THROUGH")
        assert fs.read_bytes(f"{base}/r", read_type="NO_CACHE") == DATA
        with fs.open(f"{base}/r", "rb", read_type=ReadType.NO_CACHE) as f:
            f.seek(BLOCK)
            assert f.read(10) == DATA[BLOCK : BLOCK + 10]
        assert fs.stat(f"{base}/r").cached_percent == 0

    @pytest.mark.parametrize("read_type", ["CACHE", "CACHE_PROMOTE", None])
    def test_cache_reads_fill_the_cache(self, fs: Any, base: str, read_type: str | None) -> None:
        fs.write_bytes(f"{base}/r", DATA, write_type="THROUGH")
        assert fs.stat(f"{base}/r").cached_percent == 0
        assert fs.read_bytes(f"{base}/r", read_type=read_type) == DATA
        assert fs.stat(f"{base}/r").cached_percent == 100
        assert fs.read_bytes(f"{base}/r", read_type=read_type) == DATA  # from the cache

    def test_partial_read_caches_part_of_the_file(self, fs: Any, base: str) -> None:
        """A small read caches the blocks it touched: one block embedded, the 4 MiB range
        the remote reader fetches (so a file of six 1 MiB blocks) remotely."""
        data = blob(6 * BLOCK, seed=6)
        fs.write_bytes(f"{base}/r", data, write_type="THROUGH")
        with fs.open(f"{base}/r", "rb", read_type="CACHE") as f:
            f.seek(BLOCK + 10)
            assert f.read(5) == data[BLOCK + 10 : BLOCK + 15]
        assert 0 < fs.stat(f"{base}/r").cached_percent < 100
        assert fs.read_bytes(f"{base}/r", read_type="NO_CACHE") == data

    def test_read_type_spellings(self, fs: Any, base: str) -> None:
        fs.write_bytes(f"{base}/c", b"c", write_type="CACHE_THROUGH")
        assert fs.read_bytes(f"{base}/c", read_type="no_cache") == b"c"
        assert fs.read_bytes(f"{base}/c", read_type=ReadType.CACHE_PROMOTE) == b"c"
        assert fs.read_bytes(f"{base}/c", read_type="cache-promote") == b"c"
        fails(errors.InvalidArgument, None, fs.read_bytes, f"{base}/c", read_type="BOGUS")
        fails(errors.InvalidArgument, None, fs.open, f"{base}/c", "rb", read_type="")

    # put / get ----------------------------------------------------------------------------------
    def test_put_and_get(self, fs: Any, base: str, tmp_path: Path) -> None:
        local = tmp_path / "local.bin"
        local.write_bytes(DATA)
        seen: list[tuple[int, int]] = []
        info = fs.put(
            local,
            f"{base}/p",
            write_type="CACHE_THROUGH",
            progress=lambda d, t: seen.append((d, t)),
        )
        assert isinstance(info, FileInfo) and info == fs.stat(f"{base}/p")
        assert info.length == len(DATA) and info.persisted
        assert seen and seen[-1] == (len(DATA), len(DATA))
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        got: list[tuple[int, int]] = []
        target = tmp_path / "back.bin"
        target.write_bytes(b"old content, replaced")
        assert fs.get(f"{base}/p", target, progress=lambda d, t: got.append((d, t))) is None
        assert target.read_bytes() == DATA
        assert got and got[-1] == (len(DATA), len(DATA))
        fs.get(f"{base}/p", str(tmp_path / "as-str.bin"), read_type="NO_CACHE")
        assert (tmp_path / "as-str.bin").read_bytes() == DATA

    def test_put_overwrites_and_takes_str_paths(self, fs: Any, base: str, tmp_path: Path) -> None:
        local = tmp_path / "a.txt"
        local.write_bytes(b"first")
        first = fs.put(str(local), f"{base}/a", write_type="MUST_CACHE")
        local.write_bytes(b"second")
        second = fs.put(local, f"{base}/a", write_type="MUST_CACHE")
        assert second.id != first.id and fs.read_bytes(f"{base}/a") == b"second"
        empty = tmp_path / "empty"
        empty.write_bytes(b"")
        assert fs.put(empty, f"{base}/e").length == 0
        fs.get(f"{base}/e", tmp_path / "e-back")
        assert (tmp_path / "e-back").read_bytes() == b""

    def test_put_errors(self, fs: Any, base: str, tmp_path: Path) -> None:
        local = tmp_path / "local.bin"
        local.write_bytes(b"local")
        fs.mkdir(f"{base}/dir")
        fails(errors.IsADirectory, str(tmp_path), fs.put, tmp_path, f"{base}/x")
        fails(errors.IsADirectory, f"{base}/dir", fs.put, local, f"{base}/dir")
        fs.write_bytes(f"{base}/f", b"f", write_type="MUST_CACHE")
        fails(errors.NotADirectory, f"{base}/f", fs.put, local, f"{base}/f/x")
        with pytest.raises(FileNotFoundError):  # the local file: an OS error, as open() gives
            fs.put(tmp_path / "no-such-file", f"{base}/y")
        assert [i.name for i in fs.ls(base)] == ["dir", "f"]

    def test_get_errors_leave_nothing_behind(self, fs: Any, base: str, tmp_path: Path) -> None:
        fs.write_bytes(f"{base}/f", b"f", write_type="MUST_CACHE")
        fs.mkdir(f"{base}/d")
        out = tmp_path / "out"
        out.mkdir()
        fails(errors.FileNotFound, f"{base}/missing", fs.get, f"{base}/missing", out / "x")
        fails(errors.IsADirectory, f"{base}/d", fs.get, f"{base}/d", out / "x")
        missing_dir = out / "no" / "such"
        fails(errors.FileNotFound, str(missing_dir), fs.get, f"{base}/f", missing_dir / "x")
        assert list(out.iterdir()) == []  # no target, no temporary file

    # open files meet other changes ----------------------------------------------------------------
    def test_empty_write(self, fs: Any, base: str) -> None:
        f = fs.open(f"{base}/e", "wb", write_type="CACHE_THROUGH")
        f.close()
        st = fs.stat(f"{base}/e")
        assert st.length == 0 and st.block_ids == [] and st.persisted
        with pytest.raises(ValueError):
            f.write(b"x")  # closed
        f.close()  # twice is fine

    def test_reading_a_file_renamed_while_open(
        self, fs: Any, base: str, request: pytest.FixtureRequest
    ) -> None:
        fs.write_bytes(f"{base}/a", DATA, write_type="THROUGH")  # nothing cached
        with fs.open(f"{base}/a", "rb") as f:
            fs.rename(f"{base}/a", f"{base}/b")
            assert f.read() == DATA

    @pytest.mark.parametrize("write_type", ["MUST_CACHE", "THROUGH"])
    @pytest.mark.parametrize("change", ["overwrite", "delete"])
    def test_reading_a_file_replaced_or_deleted_while_open(
        self, fs: Any, base: str, request: pytest.FixtureRequest, write_type: str, change: str
    ) -> None:
        """Never bytes of two versions: a reader reads the version it opened to the end,
        or fails with FileNotFound (that version is gone).  A reader holds the cached
        blocks of its version, so a cached version stays readable (POSIX)."""
        p = f"{base}/f"
        fs.write_bytes(p, DATA, write_type=write_type)
        with fs.open(p, "rb") as f:
            if change == "overwrite":
                fs.write_bytes(p, b"new", write_type=write_type)
            else:
                fs.delete(p)
            try:
                got: bytes | None = f.read()
            except errors.FileNotFound as exc:
                assert type(exc) is errors.FileNotFound and exc.path == p
                got = None
        if got is not None:
            assert got == DATA
        if write_type == "MUST_CACHE":
            assert got == DATA
        if write_type == "THROUGH":
            assert got is None  # nothing cached, and the UFS object is gone

    def test_concurrent_writers_share_one_client(self, fs: Any, base: str) -> None:
        failures: list[BaseException] = []

        def writer(t: int) -> None:
            try:
                for i in range(10):
                    fs.write_bytes(f"{base}/t{t}/{i}", f"{t}:{i}".encode(), write_type="MUST_CACHE")
                    assert fs.read_bytes(f"{base}/t{t}/{i}") == f"{t}:{i}".encode()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        pool = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
        for th in pool:
            th.start()
        for th in pool:
            th.join(60)
        assert failures == []
        files = [i.path for i in fs.ls(base, recursive=True) if not i.is_dir]
        assert sorted(files) == sorted(f"{base}/t{t}/{i}" for t in range(4) for i in range(10))

    def test_overwrite_with_the_same_length_while_open_is_not_read(
        self, fs: Any, base: str
    ) -> None:
        """Same size, other bytes, nothing cached: still never the new bytes."""
        p = f"{base}/same"
        old = bytes(range(256)) * 16
        fs.write_bytes(p, old, write_type="THROUGH")
        with fs.open(p, "rb") as f:
            fs.write_bytes(p, old[::-1], write_type="THROUGH")
            with pytest.raises(errors.FileNotFound):
                f.read()
        assert fs.read_bytes(p) == old[::-1]
