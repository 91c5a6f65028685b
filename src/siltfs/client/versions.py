"""Versions of a file as the clients hand them around: the one a handle opened (the
base of a copy-on-write change) and a change to commit as the next one.

A change names only what differs from its base: the blocks written (their indices and,
lazily, their bytes) and, for every other block, the id of the base's block it keeps.
The core commits it as a new inode whose block map shares those ids (``Inode.shared``),
so appending to or patching a large file writes only the blocks touched."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from siltfs.model.inode import block_count

__all__ = ["Change", "Version", "block_lengths", "decode_indices", "encode_indices"]


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


def decode_indices(text: str) -> list[int]:
    """The inverse of :func:`encode_indices`; ValueError for anything else."""
    out: list[int] = []
    for run in filter(None, text.split(",")):
        first, _, last = run.partition("-")
        a, b = int(first), int(last or first)
        if a < 0 or b < a or (out and a <= out[-1]):
            raise ValueError(f"block indices must ascend: {run!r}")
        out.extend(range(a, b + 1))
    return out
