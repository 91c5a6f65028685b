"""The remote client's wire format: JSON answers of ``silt master`` rebuilt as the
embedded client's objects, and error answers as the same :mod:`siltfs.errors` class."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import httpx

from siltfs.errors import InvalidArgument, SiltError, error_class_for_code
from siltfs.model.consistency import ConsistencyReport, Divergence
from siltfs.model.enums import PersistenceState, TtlAction
from siltfs.model.inode import FileInfo, MountInfo
from siltfs.model.jobs import JobInfo

__all__ = [
    "RELEASE_HEADER",
    "API",
    "consistency_report",
    "content_range",
    "error_from_response",
    "file_info",
    "job_info",
    "master_urls",
    "mount_info",
]

API = "/api/v1"
RELEASE_HEADER = "X-Silt-Release"  # holds of closed readers let go of (server.held)


def file_info(d: dict[str, Any]) -> FileInfo:
    known = {f.name for f in fields(FileInfo)}
    kw = {k: v for k, v in d.items() if k in known}
    kw["persistence_state"] = PersistenceState(d["persistence_state"])
    kw["ttl_action"] = TtlAction(d["ttl_action"])
    return FileInfo(**kw)


def mount_info(d: dict[str, Any]) -> MountInfo:
    known = {f.name for f in fields(MountInfo)}
    return MountInfo(**{k: v for k, v in d.items() if k in known})


def job_info(d: dict[str, Any]) -> JobInfo:
    known = {f.name for f in fields(JobInfo)}
    return JobInfo(**{k: v for k, v in d.items() if k in known})


def consistency_report(d: dict[str, Any]) -> ConsistencyReport:
    known = {f.name for f in fields(Divergence)}
    return ConsistencyReport(
        path=d["path"],
        checked_entries=d["checked_entries"],
        repair=d["repair"],
        divergences=[
            Divergence(**{k: v for k, v in x.items() if k in known}) for x in d["divergences"]
        ],
        started_ms=d["started_ms"],
        finished_ms=d["finished_ms"],
    )


def error_from_response(response: httpx.Response) -> SiltError:
    """The SiltError a JSON error answer describes (SiltError if it is not one)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        text = response.text[:200].strip()
        return SiltError(f"HTTP {response.status_code} from the master: {text}")
    cls = error_class_for_code(body["code"])
    details = {k: v for k, v in body.items() if k not in ("code", "message", "path")}
    if cls is SiltError:
        details.setdefault("code", body["code"])
        details["status"] = response.status_code
    path = body.get("path") if isinstance(body.get("path"), str) else None
    return cls(str(body.get("message") or body["code"]), path, **details)


def content_range(value: str | None) -> tuple[int, int, int] | None:
    """``bytes a-b/n`` -> (a, b + 1, n)."""
    if value is None:
        return None
    unit, _, rest = value.strip().partition(" ")
    span, _, total = rest.partition("/")
    first, _, last = span.partition("-")
    if unit != "bytes" or not (first.isdigit() and last.isdigit() and total.isdigit()):
        return None
    return int(first), int(last) + 1, int(total)


def master_urls(url: object) -> list[str]:
    """One or several master URLs (a list, or comma-separated), checked."""
    items = url.split(",") if isinstance(url, str) else url
    if not isinstance(items, (list, tuple)) or not items:
        raise InvalidArgument(f"master URL must be http(s)://host:port, not {url!r}")
    out = []
    for item in items:
        u = item.strip() if isinstance(item, str) else item
        if not isinstance(u, str) or not u.startswith(("http://", "https://")):
            raise InvalidArgument(f"master URL must be http(s)://host:port, not {item!r}")
        out.append(u.rstrip("/"))
    return out
