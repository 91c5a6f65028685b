"""What ``check_consistency`` reports: divergence kinds, divergences, the report.

The checker itself is :mod:`siltfs.master.consistency`; these are the plain results every
client returns (the remote client rebuilds them from JSON), so they live below the
master.  Their JSON form (``to_dict``) is the wire format of ``POST /check_consistency``
and of ``silt check --json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class DivergenceKind(StrEnum):
    """What is wrong (see :mod:`siltfs.master.consistency` for each kind's repair)."""

    GHOST = "GHOST"
    MISSING_UFS_COPY = "MISSING_UFS_COPY"
    FINGERPRINT_MISMATCH = "FINGERPRINT_MISMATCH"
    ORPHANED_STAGING = "ORPHANED_STAGING"
    STUCK_JOB = "STUCK_JOB"
    FAILED_JOB = "FAILED_JOB"
    LOST = "LOST"
    QUARANTINED_INTENT = "QUARANTINED_INTENT"
    UNREPRESENTABLE_NAME = "UNREPRESENTABLE_NAME"


KINDS: tuple[DivergenceKind, ...] = tuple(DivergenceKind)


@dataclass
class Divergence:
    kind: DivergenceKind
    path: str
    detail: str
    repaired: bool = False
    action: str | None = None

    def __post_init__(self) -> None:
        self.kind = DivergenceKind(self.kind)  # a str from JSON, or a kind

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = str(self.kind)
        return d


@dataclass
class ConsistencyReport:
    path: str
    checked_entries: int = 0
    divergences: list[Divergence] = field(default_factory=list)
    repair: bool = False
    started_ms: int = 0
    finished_ms: int = 0

    @property
    def consistent(self) -> bool:
        return all(d.repaired for d in self.divergences) if self.repair else not self.divergences

    def by_kind(self) -> dict[str, int]:
        counts = {str(kind): 0 for kind in KINDS}
        for d in self.divergences:
            counts[str(d.kind)] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "consistent": self.consistent,
            "checked_entries": self.checked_entries,
            "repair": self.repair,
            "by_kind": self.by_kind(),
            "divergences": [d.to_dict() for d in self.divergences],
            "started_ms": self.started_ms,
            "finished_ms": self.finished_ms,
        }
