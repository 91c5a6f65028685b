"""The FileSystem suite, copy-on-write versions: a change to a file keeps the blocks it
did not touch (the same block ids), writes only those it did, and never mixes two
versions -- for a reader that opened the old one, or for two writers.  Part of
:class:`siltfs.testing.FileSystemTests`."""

from __future__ import annotations

from typing import Any

from siltfs.testing.fs_common import BLOCK, FileSystemFixtures, blob

__all__ = ["VersionTests"]

CACHED = "MUST_CACHE"


def _same(before: list[int], after: list[int]) -> list[int]:
    """The indices whose block id is the same in both lists."""
    return [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a == b]


class VersionTests(FileSystemFixtures):
    """Copy-on-write: what a change shares with the version before it."""

    def test_append_keeps_every_full_block(self, fs: Any, base: str) -> None:
        p = f"{base}/log"
        data = blob(3 * BLOCK + 100, seed=11)
        fs.write_bytes(p, data, write_type=CACHED)
        before = fs.stat(p).block_ids
        with fs.open(p, "ab", write_type=CACHED) as f:
            f.write(b"x" * (BLOCK + 10))
        after = fs.stat(p)
        assert fs.read_bytes(p) == data + b"x" * (BLOCK + 10)
        assert after.length == len(data) + BLOCK + 10 and len(after.block_ids) == 5
        assert _same(before, after.block_ids) == [0, 1, 2]  # the short last block grew
        assert len(set(after.block_ids)) == 5

    def test_a_scattered_change_still_keeps_the_blocks_it_did_not_touch(
        self, fs: Any, base: str
    ) -> None:
        """A change to every other block of a file of many (its kept blocks are many
        runs, sent and stored compressed): the rest keep their ids, the content is right."""
        p, bs, count = f"{base}/scattered", 64 * 1024, 100
        data = bytearray(blob(count * bs, seed=19))
        with fs.open(p, "wb", write_type=CACHED, block_size=bs) as f:
            f.write(bytes(data))
        before = fs.stat(p).block_ids
        with fs.open(p, "r+b", write_type=CACHED, block_size=bs) as f:
            for i in range(0, count, 2):
                f.seek(i * bs + 7)
                f.write(b"changed")
                data[i * bs + 7 : i * bs + 14] = b"changed"
        after = fs.stat(p).block_ids
        assert fs.read_bytes(p) == bytes(data)
        assert _same(before, after) == list(range(1, count, 2))

    def test_a_write_in_place_replaces_only_the_blocks_it_touches(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        data = bytearray(blob(4 * BLOCK, seed=12))
        fs.write_bytes(p, bytes(data), write_type=CACHED)
        before = fs.stat(p).block_ids
        with fs.open(p, "r+b", write_type=CACHED) as f:
            f.seek(BLOCK + 5)
            f.write(b"patch")
            f.flush()  # one version ...
            mid = fs.stat(p).block_ids
            f.seek(3 * BLOCK - 2)
            f.write(b"edge")  # ... and another: across the boundary of blocks 2 and 3
        data[BLOCK + 5 : BLOCK + 10] = b"patch"
        data[3 * BLOCK - 2 : 3 * BLOCK + 2] = b"edge"
        assert fs.read_bytes(p) == bytes(data)
        after = fs.stat(p).block_ids
        assert _same(before, mid) == [0, 2, 3]
        assert _same(mid, after) == [0, 1]
        assert _same(before, after) == [0]

    def test_a_block_cut_and_grown_again_is_not_shared(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        data = blob(3 * BLOCK, seed=13)
        fs.write_bytes(p, data, write_type=CACHED)
        before = fs.stat(p).block_ids
        with fs.open(p, "r+b", write_type=CACHED) as f:
            f.truncate(BLOCK + BLOCK // 2)
            f.truncate(3 * BLOCK)
            f.seek(BLOCK)
            assert f.read(BLOCK) == data[BLOCK : BLOCK + BLOCK // 2] + bytes(BLOCK // 2)
        want = data[: BLOCK + BLOCK // 2] + bytes(3 * BLOCK - (BLOCK + BLOCK // 2))
        assert fs.read_bytes(p) == want
        assert _same(before, fs.stat(p).block_ids) == [0]

    def test_the_change_is_persisted_whole(self, fs: Any, base: str) -> None:
        """A change to a persisted file is persisted again; the upload ships the whole
        new version (kept blocks too), and a reader of the UFS sees it."""
        p = f"{base}/f"
        data = blob(2 * BLOCK + 7, seed=14)
        fs.write_bytes(p, data, write_type="CACHE_THROUGH")
        assert fs.stat(p).persisted
        with fs.open(p, "r+b", write_type="ASYNC_THROUGH") as f:
            f.seek(3)
            f.write(b"new")
        fs.wait_persisted(p, timeout=60)
        assert fs.stat(p).persisted
        fs.free(p)  # the blocks go: what is read comes from the UFS object
        assert fs.read_bytes(p) == data[:3] + b"new" + data[6:]

    def test_a_change_with_a_write_type_that_persists_now(self, fs: Any, base: str) -> None:
        """CACHE_THROUGH: the version is in the UFS when close returns (written whole)."""
        p = f"{base}/f"
        data = blob(2 * BLOCK + 7, seed=15)
        fs.write_bytes(p, data, write_type=CACHED)
        with fs.open(p, "ab", write_type="CACHE_THROUGH") as f:
            f.write(b"tail")
        st = fs.stat(p)
        assert st.persisted and st.length == len(data) + 4
        fs.free(p)
        assert fs.read_bytes(p) == data + b"tail"

    def test_a_reader_keeps_the_version_it_opened(self, fs: Any, base: str) -> None:
        """Never bytes of two versions: the reader reads its cached version to the end."""
        p = f"{base}/f"
        data = blob(3 * BLOCK, seed=16)
        fs.write_bytes(p, data, write_type=CACHED)
        with fs.open(p, "rb") as reader:
            assert reader.read(10) == data[:10]
            with fs.open(p, "r+b", write_type=CACHED) as f:
                f.write(b"X" * (3 * BLOCK))  # every block replaced
            rest = reader.read()
        assert rest == data[10:]
        assert fs.read_bytes(p) == b"X" * (3 * BLOCK)

    def test_free_leaves_what_open_readers_hold(self, fs: Any, base: str) -> None:
        """A reader opened before its file was persisted, and one of a version since
        replaced (sharing blocks with the new one), both read on after a free()."""
        p = f"{base}/f"
        data = blob(3 * BLOCK, seed=18)
        fs.write_bytes(p, data, write_type="ASYNC_THROUGH")
        early = fs.open(p, "rb")  # (it may see the file not yet persisted)
        old = fs.open(p, "rb")
        try:
            assert early.read(5) == data[:5] and old.read(5) == data[:5]
            with fs.open(p, "r+b", write_type="ASYNC_THROUGH") as f:
                f.seek(2 * BLOCK)
                f.write(b"changed")  # blocks 0 and 1 shared with the version `old` reads
            fs.wait_persisted(p, timeout=60)
            fs.free(p)
            assert early.read() == data[5:]
            assert old.read() == data[5:]
        finally:
            early.close()
            old.close()
        fs.free(p)  # let go: now it can go
        want = data[: 2 * BLOCK] + b"changed" + data[2 * BLOCK + 7 :]
        assert fs.read_bytes(p) == want

    def test_two_writers_last_close_wins_never_a_mix(self, fs: Any, base: str) -> None:
        p = f"{base}/f"
        data = blob(3 * BLOCK, seed=17)
        fs.write_bytes(p, data, write_type=CACHED)
        first = fs.open(p, "r+b", write_type=CACHED)
        second = fs.open(p, "r+b", write_type=CACHED)
        first.write(b"A" * 10)  # block 0
        second.seek(2 * BLOCK)
        second.write(b"B" * 10)  # block 2
        first.close()
        by_first = b"A" * 10 + data[10:]
        by_second = data[: 2 * BLOCK] + b"B" * 10 + data[2 * BLOCK + 10 :]
        assert fs.read_bytes(p) == by_first
        second.close()  # builds on the version both opened: the first's change goes
        assert fs.read_bytes(p) == by_second

    def test_an_unlinked_file_stays_readable_and_writable_through_its_handle(
        self, fs: Any, base: str
    ) -> None:
        p = f"{base}/f"
        data = blob(2 * BLOCK, seed=18)
        fs.write_bytes(p, data, write_type=CACHED)
        with fs.open(p, "r+b", write_type=CACHED) as f:
            f.write(b"a")  # a block changed before the unlink: held by the handle
            fs.delete(p)
            f.seek(1)
            f.write(b"b")
            f.seek(0)
            assert f.read(2) == b"ab"
            f.seek(BLOCK - 1)
            f.write(b"zz")  # copies in the rest of block 0 and the start of block 1
            f.seek(0)
            assert f.read() == b"ab" + data[2 : BLOCK - 1] + b"zz" + data[BLOCK + 1 :]
        assert not fs.exists(p)  # dropped at close, as POSIX drops it

    def test_a_handle_of_an_unlinked_file_never_replaces_what_is_made_there(
        self, fs: Any, base: str
    ) -> None:
        """Unlinked, then another file (or a symlink) made at its name: the handle's
        change is dropped (POSIX), it does not replace the new entry.  An overwrite of the
        same file is the same file: there the last close wins."""
        p = f"{base}/f"
        fs.write_bytes(p, b"old")
        f = fs.open(p, "r+b")
        fs.delete(p)
        fs.write_bytes(p, b"new file")
        f.write(b"XY")
        f.close()
        assert fs.read_bytes(p) == b"new file"
        g = fs.open(p, "r+b")
        fs.delete(p)
        fs.symlink("elsewhere", p)
        g.write(b"XY")
        g.close()
        assert fs.readlink(p) == "elsewhere"
        q = f"{base}/q"
        fs.write_bytes(q, b"one")
        h = fs.open(q, "r+b")
        fs.write_bytes(q, b"two!")  # a newer version of the same file
        h.write(b"X")
        h.close()
        assert fs.read_bytes(q) == b"Xne"  # built on the version it opened, committed
