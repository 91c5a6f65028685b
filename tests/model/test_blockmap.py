"""The block map of copy-on-write versions: both stored forms give back the map made."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siltfs.client.versions import encode_indices, parse_change
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


@given(maps())
def test_kept_blocks_round_trip_on_the_wire(case: tuple[int, dict[int, int]]) -> None:
    n, shared = case
    text = blockmap.encode_kept(shared, n)
    assert blockmap.decode_kept(text, n) == shared
    indices, kept = parse_change(
        n * 10, 10, encode_indices(sorted(set(range(n)) - set(shared))), text
    )
    assert kept == shared and sorted(indices + list(kept)) == list(range(n))


def test_a_scattered_change_goes_compressed_and_url_safe() -> None:
    n = 400
    shared = {i: (3 << BLOCK_INDEX_BITS) | i for i in range(0, n, 2)}
    text = blockmap.encode_kept(shared, n)
    assert text.startswith(blockmap.ARRAY) and not set(text) & set("+/=%&;:")
    assert len(text) < len(blockmap.encode_runs(shared) or "") // 4


@pytest.mark.parametrize(
    "text",
    [
        blockmap.ARRAY + "!!!",  # not base64
        blockmap.ARRAY + "AAAA",  # not zlib
        blockmap.encode_kept({i: (3 << BLOCK_INDEX_BITS) | i for i in range(0, 200, 2)}, 200),
    ],
)
def test_malformed_or_mis_sized_kept_blocks_are_refused(text: str) -> None:
    """(The last: a map of 200 blocks for a file of 100.)"""
    with pytest.raises(ValueError):
        parse_change(100 * 10, 10, "", text)


def test_negative_kept_ids_are_refused() -> None:
    shared = {i: -5 - i if i == 4 else (3 << BLOCK_INDEX_BITS) | i for i in range(0, 200, 2)}
    with pytest.raises(ValueError, match="negative"):
        parse_change(200 * 10, 10, "", blockmap.encode_kept(shared, 200))
