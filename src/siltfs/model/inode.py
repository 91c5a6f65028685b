"""Inodes, file infos, mounts, persist jobs: the records every layer passes around."""

from __future__ import annotations

import functools
import hashlib
import re
import stat
from dataclasses import asdict, dataclass, field
from typing import Any

from siltfs.model.enums import IntentKind, JobState, PersistenceState, TtlAction

ROOT_ID = 1
BLOCK_INDEX_BITS = 24


def block_id(inode_id: int, index: int) -> int:
    """Block ids derive from the inode id; an overwrite makes a new inode, so ids never repeat."""
    return (inode_id << BLOCK_INDEX_BITS) | index


def inode_of_block(bid: int) -> int:
    """The id of the inode a block belongs to (the inverse of :func:`block_id`)."""
    return bid >> BLOCK_INDEX_BITS


def content_digest() -> hashlib._Hash:
    """The hash of a file's content recorded on ingest: MD5 (an S3 ETag, not security)."""
    return hashlib.md5(usedforsecurity=False)


def block_count(length: int, block_size: int) -> int:
    return (length + block_size - 1) // block_size if length else 0


@dataclass(slots=True)  # slots: ls of a large directory makes one per entry
class Inode:
    id: int
    parent_id: int
    name: str
    is_dir: bool
    length: int = 0
    block_size: int = 0
    generation: int = 1
    state: PersistenceState = PersistenceState.NOT_PERSISTED
    created_ms: int = 0
    mtime_ms: int = 0
    pinned: bool = False
    ttl_ms: int | None = None
    ttl_action: TtlAction = TtlAction.DELETE
    mount_id: int | None = None  # set on mount points only
    fingerprint: str | None = None  # UFS fingerprint recorded at commit/import
    content_hash: str | None = None
    sync_ms: int | None = None  # last metadata sync of this entry (dirs: of its listing)
    attrs: str | None = None  # POSIX metadata as JSON (siltfs.model.posix); None: defaults
    shared: str | None = None  # blocks kept from earlier versions (encode_shared); None: none

    def block_ids(self) -> list[int]:
        """The ids of the file's blocks, in order: its own (:func:`block_id`) and, for a
        copy-on-write version, those it shares with the version before it."""
        n = block_count(self.length, self.block_size)
        first = self.id << BLOCK_INDEX_BITS
        if self.shared is None:
            return list(range(first, first + n))
        if n <= CACHED_MAPS_UP_TO:  # every layer asks for them: parsed once per version
            return list(_mapped_ids(first, n, self.shared))
        return _map_ids(first, n, self.shared)


CACHED_MAPS_UP_TO = 1 << 16  # blocks of a version whose block list is kept parsed


def _map_ids(first: int, n: int, shared: str) -> list[int]:
    """Block ids first..first+n-1, with the runs of *shared* (encode_shared) applied."""
    ids = list(range(first, first + n))
    for run in shared.split(";"):  # (decode_shared, without the dict)
        start, count, bid = map(int, run.split(":"))
        count = min(count, n - start)
        if count > 0:
            ids[start : start + count] = range(bid, bid + count)
    return ids


@functools.lru_cache(maxsize=256)
def _mapped_ids(first: int, n: int, shared: str) -> tuple[int, ...]:
    return tuple(_map_ids(first, n, shared))


def encode_shared(shared: dict[int, int]) -> str | None:
    """The ``shared`` column: runs of consecutive indices mapped to consecutive block ids,
    as ``first:count:first_id`` joined by ``;`` (an append to a large file is one run)."""
    runs: list[list[int]] = []
    for index in sorted(shared):
        bid = shared[index]
        last = runs[-1] if runs else None
        if last is not None and last[0] + last[1] == index and last[2] + last[1] == bid:
            last[1] += 1
        else:
            runs.append([index, 1, bid])
    return ";".join(f"{a}:{n}:{b}" for a, n, b in runs) or None


def decode_shared(text: str) -> dict[int, int]:
    """The inverse of :func:`encode_shared`."""
    out: dict[int, int] = {}
    for run in text.split(";"):
        first, count, bid = map(int, run.split(":"))
        for k in range(count):
            out[first + k] = bid + k
    return out


@dataclass(slots=True)
class FileInfo:
    """What stat/ls return."""

    path: str
    name: str
    id: int
    is_dir: bool
    length: int
    mtime: float
    block_size: int
    block_ids: list[int]
    persistence_state: PersistenceState
    cached_percent: int
    pinned: bool
    ttl: int | None
    ttl_action: TtlAction
    generation: int
    mount_point: bool
    fingerprint: str | None = None
    mode: int = 0o100644  # st_mode: type and permission bits (siltfs.model.posix)
    uid: int = 0
    gid: int = 0
    nlink: int = 1
    atime_ns: int = 0
    mtime_ns: int = 0
    ctime_ns: int = 0
    target: str | None = None  # a symlink's target (its length is the target's)
    rdev: int = 0
    checksum: str | None = None  # MD5 of the content, hex, when recorded on ingest
    created_ms: int = 0  # when this version was committed (fsspec ``created``)
    file_id: int = 0  # the file's identity across versions (its first version's id)

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)

    @property
    def persisted(self) -> bool:
        return self.persistence_state is PersistenceState.PERSISTED

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["persistence_state"] = self.persistence_state.value
        d["ttl_action"] = self.ttl_action.value
        return d


@dataclass
class MountInfo:
    id: int
    path: str
    uri: str
    options: dict[str, Any] = field(default_factory=dict)
    sync_interval_ms: int | None = None  # None: use the configured default
    read_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        """For output (JSON, the API): option values that may be credentials show as
        ``***``, and so does user info in the URI; the metastore keeps the real ones."""
        d = asdict(self)
        d["options"] = redact_options(self.options)
        d["uri"] = _USERINFO.sub(r"\1***@", self.uri)
        return d


SECRET_WORDS = ("key", "secret", "token", "password", "credential")
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]+@")


def is_secret_option(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_WORDS)


def redact_options(options: dict[str, Any]) -> dict[str, Any]:
    return {
        k: "***" if is_secret_option(k) else (redact_options(v) if isinstance(v, dict) else v)
        for k, v in options.items()
    }


@dataclass
class PersistJob:
    id: int
    inode_id: int
    generation: int
    state: JobState = JobState.PENDING
    attempts: int = 0
    last_error: str | None = None
    created_ms: int = 0
    updated_ms: int = 0
    next_run_ms: int = 0
    lease_owner: str | None = None
    lease_expires_ms: int = 0
    token: str | None = None  # names the staging object of the current attempt

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        return d


@dataclass
class Intent:
    """A UFS mutation recorded before it is made, so a crash can be rolled forward."""

    id: int
    kind: IntentKind  # a str from the metastore is parsed
    mount_id: int
    src: str  # mount-relative
    dst: str | None = None
    created_ms: int = 0

    def __post_init__(self) -> None:
        self.kind = IntentKind(self.kind)
