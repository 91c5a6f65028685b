"""Request bodies of the JSON routes: strict (no coercion) and closed (no unknown keys),
so a wrong type or a typo is a 400 ``invalid_argument`` instead of a silent guess."""

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
    uri: str
    options: dict[str, Any] | None = None
    sync_interval_ms: int | None = None
    read_only: bool = False


class WaitBody(Body):
    path: str | None = None
    timeout: float | None = None


class SetAttributeBody(Body):
    path: str
    pinned: bool | None = None
    ttl: int | None = None
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
