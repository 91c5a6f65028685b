"""Named crash points.

Code on the persistence and rename/delete paths calls :func:`reach` with a stable name.
Normally nothing happens.  A test harness can make the process die there with SIGKILL
(environment variable ``SILT_CRASH_AT=<name>`` in a child process) or run a hook (to
block until released, or raise).  The list of names is :data:`POINTS`.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

__all__ = ["POINTS", "crash_at", "reach", "set_hook"]

POINTS = (
    "persist.after_upload",  # staged object written, before the commit lock is taken
    "persist.before_move",  # inside the commit, parents created, before staging -> path
    "persist.after_move",  # staging moved into place, before the metastore commit
    "delete.after_metadata",  # namespace entry gone + intent recorded, before UFS delete
    "rename.after_metadata",  # namespace moved + intent recorded, before the UFS move
    "rename.after_ufs",  # UFS moved, before the intent is cleared
    "ufs.move_tree.partial",  # object-store directory move: first objects moved, not all
    "write.after_commit",  # inode + persist job committed, before close() returns
    "change.after_blocks",  # a change's new blocks cached, before its version is committed
    "change.after_commit",  # a change's version committed, before flush()/close() returns
)

_hooks: dict[str, Callable[[str], None]] = {}
_lock = threading.Lock()
_crash_at = os.environ.get("SILT_CRASH_AT", "")


def reach(name: str) -> None:
    if _crash_at and _crash_at == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if _hooks:
        with _lock:
            hook = _hooks.get(name)
        if hook is not None:
            hook(name)


def set_hook(name: str, hook: Callable[[str], None] | None) -> None:
    """Install (or with None remove) a hook run when *name* is reached."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}")
    with _lock:
        if hook is None:
            _hooks.pop(name, None)
        else:
            _hooks[name] = hook


def crash_at(name: str) -> None:
    """Arm SIGKILL at *name* in this process (used by the crash harness child)."""
    global _crash_at
    if name and name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}")
    _crash_at = name
