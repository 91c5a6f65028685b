"""Request bodies of the JSON routes: strict (no coercion) and closed (no unknown keys),
so a wrong type or a typo is a 400 ``invalid_argument`` instead of a silent guess.

A field typed ``Any`` is passed through unchanged to the FileSystem method, which checks
it exactly as it does for an embedded caller: the error then has the same class, the same
``path`` and the same precedence (a missing file before a bad value)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class PathBody(Body):
    path: str


class MkdirBody(Body):
    path: str
    parents: bool = False
    exist_ok: bool = False
    write_type: str | None = None


class DeleteBody(Body):
    path: str
    recursive: bool = False
    unchecked: bool = False
    namespace_only: bool = False


class RenameBody(Body):
    src: str
    dst: str


class MountBody(Body):
    path: str
    uri: Any  # checked by mount() (InvalidArgument naming the mount path)
    options: dict[str, Any] | None = None
    sync_interval_ms: int | None = None
    read_only: bool = False


class WaitBody(Body):
    path: str | None = None
    timeout: Any = None  # checked by wait_persisted() (InvalidArgument naming the path)


class SetAttributeBody(Body):
    path: str
    pinned: bool | None = None
    ttl: Any = None  # checked by set_attribute() after the path (InvalidArgument naming it)
    ttl_action: str | None = None


class SyncBody(Body):
    path: str = "/"
    recursive: bool = False


class CheckBody(Body):
    path: str = "/"
    repair: bool = False
    remove_ghosts: bool = False


class TouchBody(Body):
    path: str
    write_type: str | None = None


class WriteCheckBody(Body):
    path: str
    exclusive: bool = False


class TierBody(Body):
    tier: str
    capacity: int
    used: int
    blocks: int


class HeartbeatBody(Body):
    """A worker's report (see siltfs.worker.node)."""

    id: str
    url: str
    host_id: str
    block_dir: str
    boot_id: str
    version: int = 0
    tiers: list[TierBody] = []
    hits: dict[str, int] = {}
    misses: int = 0
    evictions: int = 0
    pinned: int = 0
    blocks: dict[str, int] | None = None
