"""What each credential may do, on a master's API and on a worker's, decided in one place.

On a master:

- ``admin`` (the admin token in ``<home>/token``): everything but worker registration.
- ``cluster`` (the cluster secret in ``<home>/cluster-secret``, which only masters and
  workers hold): worker registration (``POST /workers/heartbeat``) and ``/health``,
  nothing else -- it is no credential for the file system.
- ``client`` (``silt token create``): the file system -- but not the mount table, not
  repairs, not the persist queue's retry and cancel, not worker registration.
- ``read_only`` (``silt token create --read-only``): reads, ``wait_persisted`` and a
  check without repair; nothing that changes anything.

On a worker (which learns the admin and client tokens from its masters' heartbeat
answers, :mod:`siltfs.worker.credentials`):

- ``cluster``: everything (masters place, pin, unpin, free and drop blocks).
- ``admin`` and ``client``: block reads, and ``PUT`` of a block the worker does not hold,
  unpinned (replacing a cached block or pinning one is the cluster's alone: the handler
  refuses it).
- ``read_only``: block reads only.

A refused request is 403 ``permission_denied`` naming the operation.
"""

from __future__ import annotations

import re

from siltfs.model.roles import ADMIN, CLIENT, CLUSTER, READ_ONLY

__all__ = [
    "ADMIN",
    "CLIENT",
    "CLUSTER",
    "READ_ONLY",
    "may_repair",
    "may_manage_blocks",
    "refusal",
    "worker_refusal",
]

# operations (relative to the API prefix) only the admin token may call
ADMIN_ONLY = re.compile(r"^/(mount|unmount|jobs/retry_failed|jobs/\d+/(retry|cancel))$")
HEARTBEAT = "/workers/heartbeat"
# what the cluster secret may call on a master
CLUSTER_CALLS = frozenset({("POST", HEARTBEAT), ("GET", "/health")})
# POST operations that change nothing (a check's repair is refused by its handler)
READ_POSTS = frozenset(
    {
        "/wait_persisted",
        "/check_consistency",
        "/data/check",
        "/data/release",
        "/posix/getxattr",
        "/posix/listxattr",
    }
)
BLOCK = re.compile(r"^/blocks/[^/]+$")


def refusal(role: str, method: str, route: str) -> str | None:
    """Why *role* may not call ``method route`` on a master (None if it may)."""
    if role == CLUSTER:
        if (method, route) in CLUSTER_CALLS:
            return None
        return f"{method} {route}: the cluster secret only registers workers"
    if method == "POST" and route == HEARTBEAT:
        return f"{method} {route} needs the cluster secret (workers only)"
    if role == ADMIN:
        return None
    if method == "POST" and ADMIN_ONLY.match(route):
        return f"{method} {route} needs the admin token"
    if role == READ_ONLY and method not in ("GET", "HEAD") and route not in READ_POSTS:
        return f"{method} {route} changes the file system; this token is read-only"
    return None


def worker_refusal(role: str, method: str, route: str) -> str | None:
    """Why *role* may not call ``method route`` on a worker (None if it may)."""
    if role == CLUSTER or method in ("GET", "HEAD"):
        return None
    if method == "PUT" and BLOCK.match(route):
        if role == READ_ONLY:
            return f"{method} {route} stores a block; this token is read-only"
        return None
    return f"{method} {route} changes what the worker holds: the cluster secret only"


def may_repair(role: str) -> bool:
    return role == ADMIN


def may_manage_blocks(role: str) -> bool:
    """Whether *role* may replace or pin a block on a worker."""
    return role == CLUSTER
