"""``POST /api/v1/posix/{op}``: chmod, chown, utime, extended attributes, symlinks and
special files (siltfs.client.posix), one route for the remote client's one primitive."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.model import paths
from siltfs.model.inode import FileInfo
from siltfs.server.models import PosixBody

PosixOp = Literal[
    "chmod", "chown", "utime", "setxattr", "removexattr", "getxattr", "listxattr", "mknod"
]


def posix_router(fs: EmbeddedFileSystem) -> APIRouter:
    router = APIRouter()

    @router.post("/posix/{op}")
    def posix(op: PosixOp, body: PosixBody) -> dict[str, Any]:
        """The operation's FileInfo; ``getxattr``: ``{"value": base64}``;
        ``listxattr``: ``{"names": [...]}``."""
        args = body.model_dump(exclude={"path"})
        result = fs.posix_op(op, paths.validate(body.path), args)
        if isinstance(result, FileInfo):
            return result.to_dict()
        if isinstance(result, str):
            return {"value": result}
        return {"names": list(result)}

    return router
