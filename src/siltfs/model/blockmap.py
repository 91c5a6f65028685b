"""The block map of a copy-on-write version (``Inode.shared``): which of its blocks are
kept from earlier versions, by id.

A version of *n* blocks owns ids ``first + i`` (``first = inode id << 24``); the map
replaces some of them by the ids of blocks an earlier version wrote at the same index.
It is stored in one of two forms, both text:

* runs, ``index:count:first_id`` joined by ``;`` -- an append to a large file is one
  run, a patch two or three;
* ``z`` and the base64 of the zlib-compressed little-endian int64 array of
  ``id - index`` for every index (a version's blocks all give the same value, so runs
  of it compress) -- chosen when a file patched in many places would need more than
  :data:`RUNS_UP_TO` runs, since it is made and read with operations on whole lists,
  never a Python loop per block or per run.

Parsed maps are kept for the :data:`CACHED` versions used last, and a commit puts the
map it makes there (:func:`encode`), so a change to a large file parses nothing."""

from __future__ import annotations

import base64
import operator
import re
import sys
import threading
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable
from itertools import compress

__all__ = [
    "CACHED",
    "CACHED_UP_TO",
    "NOT_KEPT",
    "RUNS_UP_TO",
    "decode_kept",
    "decode_runs",
    "encode",
    "encode_kept",
    "encode_runs",
    "ids",
    "parse",
    "within",
]

RUNS_UP_TO = 32  # runs stored as text; more: the compressed array
CACHED = 256  # versions whose parsed block lists are kept
CACHED_UP_TO = 1 << 16  # blocks of a version whose block list is kept parsed
ARRAY = "z"
NOT_KEPT = -1  # (in the wire form: no block id minus its index is negative)
_SEPARATORS = re.compile("[:;]")
_BIG_ENDIAN = sys.byteorder == "big"
_cache: OrderedDict[tuple[int, int, str], tuple[int, ...]] = OrderedDict()
_lock = threading.Lock()


def ids(first: int, n: int, shared: str) -> list[int]:
    """The block ids of a version of *n* blocks owning ids from *first*, with *shared*
    (either form) applied."""
    if n > CACHED_UP_TO:
        return parse(first, n, shared)
    key = (first, n, shared)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return list(found)
    parsed = parse(first, n, shared)
    _remember(key, tuple(parsed))
    return parsed


def encode(first: int, n: int, shared: dict[int, int]) -> str | None:
    """The stored form of *shared* (index -> kept block id) for a version of *n* blocks
    owning ids from *first* (None: nothing kept); its block list is remembered."""
    block_ids = list(range(first, first + n))
    for index, bid in shared.items():
        if index < n:
            block_ids[index] = bid
    offsets = list(map(operator.sub, block_ids, range(n)))  # first where the block is own
    breaks = [0, *compress(range(1, n), map(operator.ne, offsets[1:], offsets))]
    if not n or (len(breaks) == 1 and offsets[0] == first):
        return None  # every block is the version's own
    text = None
    if len(breaks) <= 2 * RUNS_UP_TO + 1:  # (kept runs alternate with own ones at most)
        ends = [*breaks[1:], n]
        kept = [
            (b, e - b, b + offsets[b])
            for b, e in zip(breaks, ends, strict=True)
            if offsets[b] != first
        ]
        if len(kept) <= RUNS_UP_TO:
            text = ";".join(f"{b}:{c}:{i}" for b, c, i in kept)
    if text is None:
        text = ARRAY + _pack(array("q", offsets), base64.b64encode)
    if n <= CACHED_UP_TO:
        _remember((first, n, text), tuple(block_ids))
    return text


def within(shared: dict[int, int], n: int) -> bool:
    """Whether every index of *shared* is one of a version of *n* blocks."""
    return not shared or (min(shared) >= 0 and max(shared) < n)


def encode_runs(shared: dict[int, int]) -> str | None:
    """*shared* as runs; None if empty."""
    runs = _runs(shared)
    return None if runs is None else ";".join(map("{}:{}:{}".format, *runs))


def encode_kept(shared: dict[int, int], n: int) -> str:
    """The wire form of the blocks a change to a version of *n* blocks keeps (``POST
    /data/change``, where the new version's id is not known yet): runs, or -- past
    :data:`RUNS_UP_TO` of them -- ``z`` and the URL-safe base64 (unpadded) of the
    compressed int64 array of ``id - index``, :data:`NOT_KEPT` for a new block."""
    runs = _runs(shared)
    if runs is None:
        return ""
    if len(runs[0]) <= RUNS_UP_TO:
        return ";".join(map("{}:{}:{}".format, *runs))
    offsets = array("q", [NOT_KEPT]) * n
    for index, bid in shared.items():
        offsets[index] = bid - index
    return ARRAY + _pack(offsets, base64.urlsafe_b64encode).rstrip("=")


def decode_kept(text: str, n: int) -> dict[int, int]:
    """The inverse of :func:`encode_kept` for a version of *n* blocks; ValueError for
    anything malformed, out of range or negative (checked before a run is expanded)."""
    if not text.startswith(ARRAY):
        return _decode_runs(text, n)
    body = text[len(ARRAY) :]
    try:
        raw = zlib.decompressobj().decompress(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), 8 * n + 1
        )
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"kept blocks: {exc}") from exc
    if len(raw) != 8 * n:
        raise ValueError(f"kept blocks: {len(raw) // 8} entries for a {n}-block file")
    offsets = array("q")
    offsets.frombytes(raw)
    if _BIG_ENDIAN:
        offsets.byteswap()
    kept = list(compress(range(n), map(NOT_KEPT.__ne__, offsets)))
    out = dict(zip(kept, map(operator.add, kept, map(offsets.__getitem__, kept)), strict=True))
    if out and min(out.values()) < 0:
        raise ValueError("kept block ids must not be negative")
    return out


def _pack(offsets: array[int], b64: Callable[[bytes], bytes]) -> str:
    if _BIG_ENDIAN:
        offsets.byteswap()
    return b64(zlib.compress(offsets.tobytes(), 1)).decode("ascii")


def decode_runs(text: str) -> dict[int, int]:
    """The inverse of :func:`encode_runs`."""
    return _decode_runs(text, None)


def _decode_runs(text: str, n: int | None) -> dict[int, int]:
    """Runs ``first:count:first_id`` joined by ``;``, each checked (within *n* blocks
    when given) before it is expanded; ValueError otherwise."""
    out: dict[int, int] = {}
    for run in filter(None, text.split(";")):
        first, count, bid = map(int, run.split(":"))
        if first < 0 or count < 1 or bid < 0 or (n is not None and first + count > n):
            raise ValueError(f"kept blocks {run!r} out of range")
        out.update(zip(range(first, first + count), range(bid, bid + count), strict=True))
    return out


def _runs(shared: dict[int, int]) -> tuple[list[int], list[int], list[int]] | None:
    """Runs of consecutive indices kept as consecutive ids: (starts, counts, first ids)."""
    if not shared:
        return None
    keys = sorted(shared)
    offsets = list(map(operator.sub, map(shared.__getitem__, keys), keys))  # id - index
    steps = map(operator.sub, keys[1:], keys)
    moved = map(operator.ne, offsets[1:], offsets)
    breaks = [0, *compress(range(1, len(keys)), map(operator.or_, map((1).__ne__, steps), moved))]
    starts = [keys[b] for b in breaks]
    ends = [keys[b - 1] + 1 for b in breaks[1:]] + [keys[-1] + 1]
    counts = list(map(operator.sub, ends, starts))
    firsts = list(map(operator.add, starts, (offsets[b] for b in breaks)))
    return starts, counts, firsts


def parse(first: int, n: int, shared: str) -> list[int]:
    """What :func:`ids` returns, parsed from *shared* (nothing remembered)."""
    if shared.startswith(ARRAY):
        offsets = array("q")
        offsets.frombytes(zlib.decompress(base64.b64decode(shared[len(ARRAY) :])))
        if _BIG_ENDIAN:
            offsets.byteswap()
        if len(offsets) < n:  # (a map is made for its version's length; past it: own)
            offsets.extend([first] * (n - len(offsets)))
        return list(map(operator.add, offsets[:n], range(n)))
    block_ids = list(range(first, first + n))
    nums = list(map(int, _SEPARATORS.split(shared)))
    for start, count, bid in zip(nums[0::3], nums[1::3], nums[2::3], strict=True):
        count = min(count, n - start)
        if count > 0:
            block_ids[start : start + count] = range(bid, bid + count)
    return block_ids


def _remember(key: tuple[int, int, str], block_ids: tuple[int, ...]) -> None:
    with _lock:
        _cache[key] = block_ids
        _cache.move_to_end(key)
        while len(_cache) > CACHED:
            _cache.popitem(last=False)
