"""The block map of copy-on-write versions: both stored forms give back the map made."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from siltfs.model import blockmap
from siltfs.model.inode import BLOCK_INDEX_BITS

FIRST = 99 << BLOCK_INDEX_BITS  # the version's own ids start here


@st.composite
def maps(draw: st.DrawFn) -> tuple[int, dict[int, int]]:
    """A version of n blocks and what it keeps: block i of one of a few earlier versions."""
    n = draw(st.integers(1, 4 * blockmap.RUNS_UP_TO))
    versions = draw(st.lists(st.integers(1, 98), min_size=1, max_size=5))
    owner = draw(st.lists(st.sampled_from([0, *versions]), min_size=n, max_size=n))
    return n, {i: (v << BLOCK_INDEX_BITS) | i for i, v in enumerate(owner) if v}


def expected(n: int, shared: dict[int, int]) -> list[int]:
    return [shared.get(i, FIRST + i) for i in range(n)]


@given(maps())
def test_encoded_map_gives_back_every_block_id(case: tuple[int, dict[int, int]]) -> None:
    n, shared = case
    text = blockmap.encode(FIRST, n, shared)
    if not shared:
        assert text is None
        return
    assert text is not None
    assert blockmap.parse(FIRST, n, text) == expected(n, shared)  # as stored
    assert blockmap.ids(FIRST, n, text) == expected(n, shared)  # as remembered


@given(maps())
def test_runs_round_trip(case: tuple[int, dict[int, int]]) -> None:
    _, shared = case
    text = blockmap.encode_runs(shared)
    assert (text is None) == (not shared)
    if text is not None:
        assert blockmap.decode_runs(text) == shared
        assert ":" in text and not text.startswith(blockmap.ARRAY)


def test_scattered_map_is_stored_compressed_and_small() -> None:
    n = 1024
    shared = {i: ((1 + i % 7) << BLOCK_INDEX_BITS) | i for i in range(n) if i % 5}
    text = blockmap.encode(FIRST, n, shared)
    assert text is not None and text.startswith(blockmap.ARRAY)
    assert len(text) < len(blockmap.encode_runs(shared) or "")
    assert blockmap.parse(FIRST, n, text) == expected(n, shared)


def test_an_append_to_a_large_file_is_one_run() -> None:
    n = 1 << 20
    old = 7 << BLOCK_INDEX_BITS
    shared = {i: old + i for i in range(n - 1)}
    assert blockmap.encode(FIRST, n, shared) == f"0:{n - 1}:{old}"


def test_a_map_shorter_than_its_version_leaves_the_rest_own() -> None:
    """(A version longer than the map it was given: its later blocks are its own.)"""
    shared = {i: (5 << BLOCK_INDEX_BITS) | i for i in range(0, 200, 2)}
    text = blockmap.encode(FIRST, 200, shared)
    assert text is not None and text.startswith(blockmap.ARRAY)
    assert blockmap.parse(FIRST, 210, text) == expected(210, shared)
    assert blockmap.parse(FIRST, 100, text) == expected(100, shared)
