"""Staging objects: where an upload goes before it is moved to the file's path.

Every staging object lies in ``<mount root>/<persist.staging_dir>/`` -- outside every user
directory -- and is named by one value type, :class:`StagingName`, formatted and parsed
here only.  The stored format (existing homes hold such objects) is::

    <kind><inode id>-<generation>-<token>

*kind* is ``j`` for a persist job (token: the job row's token) and ``w`` for a synchronous
write (token: the writer's :class:`~siltfs.persist.identity.ProcessId` in token form, so a
dead writer's object can be swept at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Literal

from siltfs.errors import FileNotFound
from siltfs.persist.identity import ProcessId
from siltfs.ufs.abc import UnderFileSystem

JOB: Literal["j"] = "j"
WRITE: Literal["w"] = "w"
STAGING_ATTEMPTS = 5  # mkdirs + open of a staging object, against concurrent tidy-ups


@dataclass(frozen=True)
class StagingName:
    kind: Literal["j", "w"]
    inode_id: int
    generation: int
    token: str

    def __str__(self) -> str:
        return f"{self.kind}{self.inode_id}-{self.generation}-{self.token}"

    def rel(self, staging_dir: str) -> str:
        """The object's path relative to the mount root."""
        return f"{staging_dir}/{self}"

    @classmethod
    def parse(cls, name: str) -> StagingName | None:
        """The name of a staging object (its base name or its path), or None if *name* is
        not one (anything else found in a staging directory)."""
        base = name.rpartition("/")[2]
        kind, body = base[:1], base[1:]
        parts = body.split("-", 2)
        if kind not in (JOB, WRITE) or len(parts) != 3:
            return None
        inode, generation, token = parts
        if not inode.isdigit() or not generation.isdigit() or not token or "-" in token:
            return None
        return cls(JOB if kind == JOB else WRITE, int(inode), int(generation), token)

    def writer(self) -> ProcessId | None:
        """The writing process of a synchronous write's object (None for a job's)."""
        return ProcessId.parse_token(self.token) if self.kind == WRITE else None


def open_staging(ufs: UnderFileSystem, staging_dir: str, rel: str) -> BinaryIO:
    """Open the staging object *rel* for writing, creating the staging directory when a
    tidy-up (of this or another master) removed it just now."""
    for _ in range(STAGING_ATTEMPTS - 1):
        try:
            return ufs.open_write(rel)
        except FileNotFound:
            ufs.mkdirs(staging_dir)
    return ufs.open_write(rel)
