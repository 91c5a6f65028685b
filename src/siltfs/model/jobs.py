"""What a client is told about a persist job (``fs.jobs()``, ``silt jobs``, ``GET /jobs``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class JobInfo:
    """One persist job as clients see it; ``to_dict`` is its JSON form on the wire."""

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
