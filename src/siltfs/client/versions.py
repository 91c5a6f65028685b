"""Versions of a file as the clients hand them around: the one a handle opened (the
base of a copy-on-write change) and a change to commit as the next one.

A change names only what differs from its base: the blocks written (their indices and,
lazily, their bytes) and, for every other block, the id of the base's block it keeps.
The core commits it as a new inode whose block map shares those ids (``Inode.shared``),
so appending to or patching a large file writes only the blocks touched."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from siltfs.model import blockmap
from siltfs.model.inode import BLOCK_INDEX_BITS, block_count

MAX_BLOCKS = 1 << BLOCK_INDEX_BITS  # block ids keep the index in 24 bits
# of each block list sent in a URL: two of them, percent-encoded at worst (12 bytes for a
# 4-byte character), fit the server's 256 KiB request head with the path beside them
MAX_CHANGE_TEXT = 8 * 1024

__all__ = [
    "MAX_BLOCKS",
    "MAX_CHANGE_TEXT",
    "Change",
    "Version",
    "block_lengths",
    "decode_indices",
    "encode_indices",
    "parse_change",
]


@dataclass(frozen=True)
class Version:
    """One committed version, as a reader opened it."""

    inode_id: int
    length: int
    block_size: int
    block_ids: tuple[int, ...]


@dataclass
class Change:
    """The next version of a file: *length* bytes in blocks of *block_size*; the blocks
    at *indices* (ascending) are new; *blocks()* yields their contents in that order
    (each as long as its block; callable again to send them again); *shared*: index ->
    block id kept."""

    length: int
    block_size: int
    indices: list[int]
    blocks: Callable[[], Iterable[bytes]]
    shared: dict[int, int]
    exclusive: bool = False


def block_lengths(length: int, block_size: int, indices: Iterable[int]) -> list[int]:
    """How long each of the blocks at *indices* of a *length*-byte file is (the last
    block is short); ValueError for an index past the end."""
    count = block_count(length, block_size)
    out = []
    for i in indices:
        if not 0 <= i < count:
            raise ValueError(f"block {i} is past the end of a {length}-byte file")
        out.append(min(block_size, length - i * block_size))
    return out


def encode_indices(indices: Iterable[int]) -> str:
    """Ascending block indices as runs, ``a-b`` or ``a``, joined by ``,``."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][1] + 1 == i:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


def decode_indices(text: str, count: int) -> list[int]:
    """The inverse of :func:`encode_indices`, for a file of *count* blocks; ValueError
    for anything else (an index out of range is refused before any list is built)."""
    out: list[int] = []
    for run in filter(None, text.split(",")):
        first, _, last = run.partition("-")
        a, b = int(first), int(last or first)
        if a < 0 or b < a or (out and a <= out[-1]):
            raise ValueError(f"block indices must ascend: {run!r}")
        if b >= count:
            raise ValueError(f"block {b} is past the end of a {count}-block file")
        out.extend(range(a, b + 1))
    return out


def parse_change(
    length: int, block_size: int, blocks: str, shared: str
) -> tuple[list[int], dict[int, int]]:
    """The new block indices and the kept blocks of a change sent as text
    (``POST /data/change``), checked against the file's size; ValueError otherwise."""
    count = block_count(length, block_size)
    if count > MAX_BLOCKS:
        raise ValueError(f"{count} blocks; a file has at most {MAX_BLOCKS}")
    indices = decode_indices(blocks, count)
    kept = blockmap.decode_kept(shared, count)  # (either form: runs, or the array)
    if kept.keys() & set(indices):
        raise ValueError("a block is both new and kept")
    return indices, kept
