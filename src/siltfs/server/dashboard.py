"""The master's web dashboard: one static page plus one JSON route that feeds it.

- ``GET /dashboard`` serves ``static/dashboard.html`` and ``GET /dashboard/static/NAME``
  its script and stylesheet.  They are open (no token): they hold no data, only code.
  Everything is shipped in the wheel -- no CDN, no framework.
- ``GET /api/v1/overview`` (behind the token, like every ``/api`` route) answers what the
  page shows: workers and their tiers, the mount table, the persist queue (counts and the
  jobs not done, failed first), the last consistency check, version and uptime.

The page reads the token from its URL fragment (``/dashboard#token=...``; a fragment is
never sent to the server), keeps it in ``sessionStorage``, drops it from the address bar
and sends ``Authorization: Bearer <token>`` with every request.  The namespace browser
uses ``/api/v1/ls``.  Every string from the server is put in the page as text
(``textContent``), and the page's Content-Security-Policy forbids inline scripts, so a
file named ``<img src=x onerror=...>`` is just a name.
"""

from __future__ import annotations

import re
import socket
import time
from importlib import resources
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from siltfs import __version__
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.model.enums import JobState
from siltfs.model.inode import PersistJob

STATIC = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
#: jobs listed in the overview (failed first); the counts always cover every job
MAX_JOBS = 200
#: divergences of the last consistency check listed in the overview
MAX_DIVERGENCES = 200
_STATE_ORDER = {JobState.FAILED.value: 0, JobState.RUNNING.value: 1, JobState.PENDING.value: 2}
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _static(name: str) -> bytes:
    return (resources.files("siltfs.server") / "static" / name).read_bytes()


def workers_overview(master: Any) -> list[dict[str, Any]]:
    """The workers and their tiers: ``[{id, address, host, alive, last_heartbeat_age_s,
    tiers: [{tier, used_bytes, capacity_bytes, blocks}]}]``.

    A master with a cluster view answers from it (``master.cluster_overview()``); a
    master without one has a single worker: its own local block store
    (``master.tier_usage()``).
    """
    overview = getattr(master, "cluster_overview", None)
    if callable(overview):
        return list(overview())
    tiers = [
        {"tier": u.tier, "used_bytes": u.used, "capacity_bytes": u.capacity, "blocks": u.blocks}
        for u in master.tier_usage()
    ]
    host = socket.gethostname()
    return [
        {
            "id": "local",
            "address": "embedded",
            "host": host,
            "alive": True,
            "last_heartbeat_age_s": 0.0,
            "tiers": tiers,
        }
    ]


def tier_totals(workers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Usage per tier summed over the live workers (tiers in first-seen order)."""
    totals: dict[str, dict[str, Any]] = {}
    for worker in workers:
        if not worker.get("alive", True):
            continue
        for t in worker.get("tiers", []):
            total = totals.setdefault(
                t["tier"], {"tier": t["tier"], "used_bytes": 0, "capacity_bytes": 0, "blocks": 0}
            )
            for key in ("used_bytes", "capacity_bytes", "blocks"):
                total[key] += int(t.get(key, 0))
    return list(totals.values())


def _redact_uri(uri: str) -> str:
    """``s3://key:secret@bucket/x`` -> ``s3://***@bucket/x``."""
    return _USERINFO.sub(r"\1***@", uri)


def mounts_overview(fs: EmbeddedFileSystem) -> list[dict[str, Any]]:
    """The mount table; option *values* are left out (they may hold credentials)."""
    return [
        {
            "path": m.path,
            "uri": _redact_uri(m.uri),
            "read_only": m.read_only,
            "sync_interval_ms": m.sync_interval_ms,
            "option_keys": sorted(m.options),
        }
        for m in fs.mounts()
    ]


def queue_overview(master: Any, now_ms: int) -> dict[str, Any]:
    """Counts by state over every job not done, and the first MAX_JOBS of them (failed,
    then running, then pending; oldest first) with path, attempts, last error and age.
    Paths are resolved for the listed jobs only: a long queue costs one scan, not one
    path walk per job, every few seconds."""
    rows: list[PersistJob] = master.job_rows()
    active = [j for j in rows if j.state.value in _STATE_ORDER]
    counts = dict.fromkeys(_STATE_ORDER, 0)
    for j in active:
        counts[j.state.value] += 1
    pending = [j.created_ms for j in active if j.state is not JobState.FAILED]
    active.sort(key=lambda j: (_STATE_ORDER[j.state.value], j.created_ms, j.id))
    shown = active[:MAX_JOBS]
    where = master.paths_of_inodes([j.inode_id for j in shown])
    listed = [
        {
            "id": j.id,
            "state": j.state.value,
            "path": where[j.inode_id],
            "attempts": j.attempts,
            "last_error": j.last_error,
            "age_s": max(0.0, (now_ms - j.created_ms) / 1000),
            "updated_age_s": max(0.0, (now_ms - j.updated_ms) / 1000),
            "next_run_in_s": max(0.0, (j.next_run_ms - now_ms) / 1000),
        }
        for j in shown
    ]
    return {
        "counts": counts,
        "total": len(active),
        "oldest_pending_age_s": max(0.0, (now_ms - min(pending)) / 1000) if pending else 0.0,
        "jobs": listed,
    }


def consistency_overview(fs: EmbeddedFileSystem, now_ms: int) -> dict[str, Any] | None:
    report = fs.master.last_check
    if report is None:
        return None
    out = report.to_dict()
    out["divergences_total"] = len(report.divergences)
    out["divergences"] = out["divergences"][:MAX_DIVERGENCES]
    out["age_s"] = max(0.0, (now_ms - report.finished_ms) / 1000)
    out["duration_s"] = max(0.0, (report.finished_ms - report.started_ms) / 1000)
    return out


def overview(fs: EmbeddedFileSystem, started: float) -> dict[str, Any]:
    """Everything the dashboard shows, in one answer."""
    now = time.time()
    now_ms = int(now * 1000)
    workers = workers_overview(fs.master)
    return {
        "version": __version__,
        "uptime_s": round(max(0.0, now - started), 3),
        "now_ms": now_ms,
        "workers": workers,
        "tiers": tier_totals(workers),
        "mounts": mounts_overview(fs),
        "queue": queue_overview(fs.master, now_ms),
        "consistency": consistency_overview(fs, now_ms),
    }


def dashboard_router(fs: EmbeddedFileSystem, api_prefix: str) -> APIRouter:
    """``/dashboard`` (+ static files, open) and ``{api_prefix}/overview`` (token)."""
    router = APIRouter()
    started = time.time()
    page = _static("dashboard.html")
    assets = {name: (_static(name), media) for name, media in STATIC.items()}

    @router.get("/dashboard", include_in_schema=False)
    def dashboard() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

    @router.get("/dashboard/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in assets:
            raise HTTPException(404, f"no dashboard asset {name!r}")
        body, media = assets[name]
        return Response(body, media_type=media, headers=SECURITY_HEADERS)

    @router.get(api_prefix + "/overview")
    def get_overview() -> dict[str, Any]:
        """Workers/tiers, mounts, persist queue, last consistency check, version, uptime."""
        return overview(fs, started)

    return router
