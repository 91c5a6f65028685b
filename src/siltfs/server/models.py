"""Request bodies of the JSON routes: strict (no coercion) and closed (no unknown keys),
so a wrong type or a typo is a 400 ``invalid_argument`` instead of a silent guess.

A field typed ``Any`` is passed through unchanged to the FileSystem method, which checks
it exactly as it does for an embedded caller: the error then has the same class, the same
``path`` and the same precedence (a missing file before a bad value)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from siltfs.model.paths import MAX_PATH_BYTES

# Integers on the wire are range-checked (400 invalid_argument, never a 500 from an
# overflow deeper down) and the ranges are part of the OpenAPI document.
# 2**53 - 1: exact in every JSON parser (a double), and below BIGINT's limit
MAX_INT = 2**53 - 1
MAX_BLOCK_SIZE = 1 << 30
MAX_REPLICAS = 64
# absolute; no empty, '.' or '..' component; no NUL or backslash; no percent-encoded
# separator, NUL or '..' (names no UFS can hold) -- the rest is checked by the namespace
_NAME = r"(?!\.\.?(?:/|$))(?![^/]*%(?:2[fF]|5[cC]|00|2[eE]%2[eE]))[^/\x00\\]+"
PATH_PATTERN = rf"^/(?:{_NAME}(?:/{_NAME})*)?/?$"
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
SyncIntervalMs = Annotated[int, Field(ge=-1, le=MAX_INT)]
# the pattern is documented, not enforced here: the namespace checks every path and says
# why (InvalidPath naming it), exactly as for an embedded caller
_PATH_DOC: dict[str, Any] = {"pattern": PATH_PATTERN}
NsPath = Annotated[str, Field(min_length=1, max_length=MAX_PATH_BYTES, json_schema_extra=_PATH_DOC)]
WorkerId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
WorkerUrl = Annotated[
    str,
    Field(min_length=8, max_length=2048, pattern=r"^https?://[A-Za-z0-9.:\[\]-]+(/[!-~]*)?$"),
]


def enum_or_null(*values: str) -> Any:
    """A str field documented as one of *values* (or null); the FileSystem method checks
    it, so an embedded and a remote caller get the same error."""
    return Field(
        default=None, json_schema_extra={"anyOf": [{"enum": list(values)}, {"type": "null"}]}
    )


WRITE_TYPES = ("MUST_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH")
READ_TYPES = ("NO_CACHE", "CACHE", "CACHE_PROMOTE")
# a bool is an int to Python, and wait_persisted(timeout=True) waits 1 s on every client
NUMBER_OR_NULL: dict[str, Any] = {
    "anyOf": [{"type": "number", "minimum": 0}, {"type": "boolean"}, {"type": "null"}]
}


# the same ranges for query and path parameters
PathQuery = Annotated[
    str, Query(min_length=1, max_length=MAX_PATH_BYTES, json_schema_extra=_PATH_DOC)
]
OptionalPathQuery = Annotated[
    str | None, Query(min_length=1, max_length=MAX_PATH_BYTES, json_schema_extra=_PATH_DOC)
]
SyncQuery = Annotated[int | None, Query(ge=-1, le=MAX_INT)]
InodeQuery = Annotated[int | None, Query(alias="inode", ge=0, le=MAX_INT)]
BlockSizeQuery = Annotated[int | None, Query(ge=1, le=MAX_BLOCK_SIZE)]
ReplicasQuery = Annotated[int | None, Query(ge=1, le=MAX_REPLICAS)]
PermQuery = Annotated[int | None, Query(ge=0, le=0o7777)]  # of a new file
OwnerQuery = Annotated[int | None, Query(ge=0, le=2**32 - 1)]  # uid or gid of a new file
XattrsQuery = Annotated[str | None, Query(max_length=8192)]  # JSON: name -> base64 value
JobId = Annotated[int, PathParam(ge=0, le=MAX_INT)]
InodeId = Annotated[int, Query(ge=0, le=MAX_INT)]
WriteTypeQuery = Annotated[str | None, Query(json_schema_extra={"enum": list(WRITE_TYPES)})]
ReadTypeQuery = Annotated[str | None, Query(json_schema_extra={"enum": list(READ_TYPES)})]
StateQuery = Annotated[
    str | None, Query(json_schema_extra={"enum": ["pending", "running", "failed"]})
]
BlockId = Annotated[int, PathParam(ge=0, le=MAX_INT)]


class ErrorBody(BaseModel):
    """Every error: a stable code (siltfs.errors), a message naming the reason, the path."""

    code: str
    message: str
    path: str | None = None


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class PathBody(Body):
    path: NsPath


class MkdirBody(Body):
    path: NsPath
    parents: bool = False
    exist_ok: bool = False
    write_type: str | None = enum_or_null(*WRITE_TYPES)


class DeleteBody(Body):
    path: NsPath
    recursive: bool = False
    unchecked: bool = False
    namespace_only: bool = False


class RenameBody(Body):
    src: NsPath
    dst: NsPath


class MountBody(Body):
    path: NsPath
    uri: Any = Field(json_schema_extra={"type": "string", "minLength": 1})  # mount() checks it
    options: dict[str, Any] | None = None
    sync_interval_ms: SyncIntervalMs | None = None
    read_only: bool = False


class WaitBody(Body):
    path: NsPath | None = None
    timeout: Any = Field(default=None, json_schema_extra=NUMBER_OR_NULL)  # wait_persisted() checks


class SetAttributeBody(Body):
    path: NsPath
    pinned: bool | None = None
    ttl: Any = Field(  # checked by set_attribute() after the path (InvalidArgument naming it)
        default=None,
        json_schema_extra={
            "anyOf": [{"type": "integer", "minimum": -1, "maximum": 2**53 - 1}, {"type": "null"}]
        },
    )
    ttl_action: str | None = enum_or_null("DELETE", "FREE")


class SyncBody(Body):
    path: NsPath = "/"
    recursive: bool = False


class CheckBody(Body):
    path: NsPath = "/"
    repair: bool = False
    remove_ghosts: bool = False


class TouchBody(Body):
    path: NsPath
    write_type: str | None = enum_or_null(*WRITE_TYPES)


class ReleaseBody(Body):
    holds: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=1024)]


class WriteCheckBody(Body):
    path: NsPath
    exclusive: bool = False


class TierBody(Body):
    tier: Annotated[str, Field(pattern="^(MEM|SSD)$")]
    capacity: Count
    used: Count
    blocks: Count


class HeartbeatBody(Body):
    """A worker's report (see siltfs.worker.node)."""

    id: WorkerId
    url: WorkerUrl
    host_id: Annotated[str, Field(max_length=256)]
    block_dir: Annotated[str, Field(max_length=4096)]
    boot_id: Annotated[str, Field(max_length=256)]
    version: Count = 0
    tiers: Annotated[list[TierBody], Field(max_length=8)] = []
    hits: dict[str, Count] = {}
    misses: Count = 0
    evictions: Count = 0
    written_bytes: Count = 0
    pinned: Count = 0
    checksum_failures: Count = 0
    credentials_version: Annotated[str, Field(max_length=64)] | None = None
    blocks: dict[Annotated[str, Field(pattern="^[0-9]{1,19}$")], Count] | None = None


Int64 = Annotated[int, Field(ge=-(2**63) + 1, le=2**63 - 1)]
OwnerId = Annotated[int, Field(ge=0, le=2**32 - 1)]


class PosixBody(Body):
    """One POSIX metadata operation (siltfs.client.posix): the fields it needs."""

    path: NsPath
    mode: Annotated[int, Field(ge=0, le=0o177777)] | None = None
    uid: OwnerId | None = None
    gid: OwnerId | None = None
    atime_ns: Int64 | None = None
    mtime_ns: Int64 | None = None
    name: Annotated[str, Field(min_length=6, max_length=255, pattern=r"^user\.")] | None = None
    value: Annotated[str, Field(max_length=90_000)] | None = None  # base64
    target: Annotated[str, Field(min_length=1, max_length=4095)] | None = None
    rdev: Annotated[int, Field(ge=0, le=MAX_INT)] | None = None
