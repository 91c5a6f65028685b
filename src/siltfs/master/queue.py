"""What ``silt jobs`` shows of a persist job, under its old name (the type:
:mod:`siltfs.model.jobs`; the queue itself: :mod:`siltfs.persist.queue`)."""

from __future__ import annotations

from siltfs.model.jobs import JobInfo

__all__ = ["JobInfo"]
