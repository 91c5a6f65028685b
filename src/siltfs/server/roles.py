"""What each credential may do on the master's API, decided in one place.

- ``admin`` (the admin token in ``<home>/token``; workers use it too): everything.
- ``client`` (``silt token create``): the file system -- but not the mount table, not
  repairs, not the persist queue's retry and cancel, not worker registration.
- ``read_only`` (``silt token create --read-only``): reads, ``wait_persisted`` and a
  check without repair; nothing that changes anything.

A refused request is 403 ``permission_denied`` naming the operation.
"""

from __future__ import annotations

import re

ADMIN, CLIENT, READ_ONLY = "admin", "client", "read_only"
__all__ = ["ADMIN", "CLIENT", "READ_ONLY", "may_repair", "refusal"]

# operations (relative to the API prefix) only the admin token may call
ADMIN_ONLY = re.compile(
    r"^/(mount|unmount|workers/heartbeat|jobs/retry_failed|jobs/\d+/(retry|cancel))$"
)
# POST operations that change nothing (a check's repair is refused by its handler)
READ_POSTS = frozenset(
    {"/wait_persisted", "/check_consistency", "/data/check", "/posix/getxattr", "/posix/listxattr"}
)


def refusal(role: str, method: str, route: str) -> str | None:
    """Why *role* may not call ``method route`` (None if it may)."""
    if role == ADMIN:
        return None
    if method == "POST" and ADMIN_ONLY.match(route):
        return f"{method} {route} needs the admin token"
    if role == READ_ONLY and method not in ("GET", "HEAD") and route not in READ_POSTS:
        return f"{method} {route} changes the file system; this token is read-only"
    return None


def may_repair(role: str) -> bool:
    return role == ADMIN
