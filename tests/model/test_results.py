"""The result types clients get (model/consistency.py, model/jobs.py, IntentKind): their
JSON forms are the wire format and must stay what they were when they were plain str."""

from __future__ import annotations

import json

import pytest

from siltfs.model.consistency import KINDS, ConsistencyReport, Divergence, DivergenceKind
from siltfs.model.enums import IntentKind
from siltfs.model.inode import Intent
from siltfs.model.jobs import JobInfo


def test_divergence_kind_from_a_string_is_the_enum() -> None:
    d = Divergence("GHOST", "/a", "dir in the UFS")  # type: ignore[arg-type]  # as from JSON
    assert d.kind is DivergenceKind.GHOST
    with pytest.raises(ValueError):
        Divergence("NO_SUCH_KIND", "/a", "x")  # type: ignore[arg-type]


def test_report_json_is_unchanged() -> None:
    report = ConsistencyReport(
        path="/",
        checked_entries=3,
        repair=True,
        started_ms=1,
        finished_ms=2,
        divergences=[Divergence(DivergenceKind.LOST, "/f", "lost", True, "marked")],
    )
    by_kind = ", ".join(f'"{k}": {1 if k == "LOST" else 0}' for k in KINDS)
    assert json.dumps(report.to_dict()) == (
        '{"path": "/", "consistent": true, "checked_entries": 3, "repair": true, '
        f'"by_kind": {{{by_kind}}}, "divergences": [{{"kind": "LOST", "path": "/f", '
        '"detail": "lost", "repaired": true, "action": "marked"}], '
        '"started_ms": 1, "finished_ms": 2}'
    )
    assert all(type(k) is str for k in report.to_dict()["by_kind"])
    assert type(report.to_dict()["divergences"][0]["kind"]) is str


def test_kinds_are_every_divergence_kind_in_order() -> None:
    assert [str(k) for k in KINDS] == [
        "GHOST",
        "MISSING_UFS_COPY",
        "FINGERPRINT_MISMATCH",
        "ORPHANED_STAGING",
        "STUCK_JOB",
        "FAILED_JOB",
        "LOST",
        "QUARANTINED_INTENT",
        "UNREPRESENTABLE_NAME",
    ]


def test_job_info_json() -> None:
    job = JobInfo(7, "/a", 9, 1, "FAILED", 2, "boom", 1.5, 0.0, None)
    assert json.dumps(job.to_dict()) == (
        '{"id": 7, "path": "/a", "inode_id": 9, "generation": 1, "state": "FAILED", '
        '"attempts": 2, "last_error": "boom", "age_s": 1.5, "next_run_in_s": 0.0, '
        '"lease_owner": null}'
    )


@pytest.mark.parametrize("kind", [IntentKind.DELETE, IntentKind.RENAME, IntentKind.PLACED])
def test_intent_kind_quarantine_and_step(kind: IntentKind) -> None:
    q = kind.quarantine()
    assert q.quarantined and not kind.quarantined
    assert q == f"quarantined-{kind}" and q.quarantine() is q
    assert q.step is kind and kind.step is kind


def test_intent_parses_its_stored_kind() -> None:
    intent = Intent(1, "quarantined-rename", 2, "a", "b")  # type: ignore[arg-type]
    assert intent.kind is IntentKind.QUARANTINED_RENAME
    with pytest.raises(ValueError):
        Intent(1, "copy", 2, "a")  # type: ignore[arg-type]
