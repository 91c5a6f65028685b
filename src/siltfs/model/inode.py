"""Inodes, file infos, mounts, persist jobs: the records every layer passes around."""

from __future__ import annotations

import hashlib
import re
import stat
from dataclasses import asdict, dataclass, field
from typing import Any

from siltfs.model import blockmap
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
    shared: str | None = None  # blocks kept from earlier versions (model.blockmap); None: none

    def block_ids(self) -> list[int]:
        """The ids of the file's blocks, in order: its own (:func:`block_id`) and, for a
        copy-on-write version, those it shares with the version before it."""
        n = block_count(self.length, self.block_size)
        first = self.id << BLOCK_INDEX_BITS
        if self.shared is None:
            return list(range(first, first + n))
        return blockmap.ids(first, n, self.shared)  # (parsed once per version)


def share_blocks(inode: Inode, shared: dict[int, int]) -> None:
    """Make *inode* (a new version) keep the blocks *shared* (index -> id of the block an
    earlier version wrote at that index): sets ``inode.shared`` (:mod:`blockmap`)."""
    n = block_count(inode.length, inode.block_size)
    inode.shared = blockmap.encode(inode.id << BLOCK_INDEX_BITS, n, shared)


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
