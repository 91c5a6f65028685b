"""What ``silt jobs`` shows of a persist job (the queue itself: :mod:`siltfs.persist.queue`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class JobInfo:
    id: int
    path: str | None
    inode_id: int
    generation: int
    state: str
    attempts: int
    last_error: str | None
    age_s: float
    next_run_in_s: float
    lease_owner: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
