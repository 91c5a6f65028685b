"""Sweep (protocol step 5): staging objects no live job or write owns are removed.

What a failed or killed upload leaves in ``<mount root>/<staging_dir>/`` -- staged
objects and, in object stores, incomplete multipart uploads -- is swept by the last
upload out of the pool, periodically by maintenance and on recovery.  An object is owned
while the job whose token it carries holds a live lease, or while the synchronous write
that made it is in flight in this process or (young, within ``persist.lease_s``) in a
process that is not known dead.  The staging directory is removed once empty.
"""

from __future__ import annotations

import logging
import time

from siltfs.config import PersistConfig
from siltfs.master.intents import retrying
from siltfs.master.namespace import Namespace, now_ms
from siltfs.model.enums import JobState
from siltfs.persist.staging import WRITE, StagingName
from siltfs.ufs.abc import IncompleteUpload, UnderFileSystem

log = logging.getLogger("siltfs.persist")


def discard(ufs: UnderFileSystem, staging: str) -> None:
    """Remove one staging object, leaving it to the sweeper if the UFS refuses."""
    try:
        retrying(lambda: ufs.delete(staging))
    except Exception:  # noqa: BLE001 - the sweeper will get it
        log.warning("could not remove staging object %s", staging)


def tidy_staging(ns: Namespace, ufs: UnderFileSystem) -> None:
    """Remove the mount's staging directory once it is empty, so an idle UFS holds
    exactly the user's files."""
    staging = ns.config.persist.staging_dir
    if ns.active_staging:
        return  # a synchronous write is about to put its object there
    try:
        if not retrying(lambda: ufs.list(staging)):
            retrying(lambda: ufs.delete(staging))
    except Exception:  # noqa: BLE001 - busy, gone or a racing upload: all fine
        pass


class Sweeper:
    def __init__(self, ns: Namespace, config: PersistConfig) -> None:
        self.ns = ns
        self.config = config

    def orphaned(self, mount_id: int) -> list[str]:
        """Names of staging objects in a mount that no live job or write owns."""
        _, ufs = self.ns.mounts.by_id(mount_id)
        try:  # list first: an object listed was created by a job claimed before this point
            entries = retrying(lambda: ufs.list(self.config.staging_dir))
        except Exception:  # noqa: BLE001 - no staging dir
            return []
        live = self._live_tokens()
        return [st.name for st in entries if not self._owned(st.name, st.mtime, live)]

    def _live_tokens(self) -> set[str]:
        """Tokens of running jobs whose lease has not expired."""
        now = now_ms()
        with self.ns.ms.snapshot() as txn:
            running = txn.list_jobs(JobState.RUNNING)
        return {j.token for j in running if j.lease_expires_ms > now and j.token}

    def _owned(self, name: str, mtime: float | None, live: set[str]) -> bool:
        """Whether a live job or write owns the staging object *name* (started at *mtime*)."""
        staged = StagingName.parse(name)
        if staged is None:
            return False  # not a staging object: nobody owns it
        if staged.token in live or staged.token in self.ns.active_staging:
            return True
        young = mtime is not None and time.time() - mtime < self.config.lease_s
        if staged.kind != WRITE or not young:
            return False
        writer = staged.writer()  # a synchronous write of another process may still own it
        return writer is None or not writer.is_dead()

    def abort_orphaned_uploads(self, ufs: UnderFileSystem) -> int:
        """Abort incomplete (multipart) uploads to staging that no live job or write owns:
        what an upload killed mid-way leaves in an object store.  Returns how many."""
        live: set[str] | None = None

        def keep(upload: IncompleteUpload) -> bool:
            nonlocal live
            if live is None:  # read after the listing, as in orphaned()
                live = self._live_tokens()
            return self._owned(upload.rel.rpartition("/")[2], upload.initiated, live)

        return ufs.abort_stale_uploads(self.config.staging_dir, 0.0, keep)

    def sweep(self) -> int:
        """Remove staging objects and abort incomplete staging uploads that no live job or
        write owns.  Returns how many."""
        removed = 0
        for mount in self.ns.mounts.all():
            _, ufs = self.ns.mounts.by_id(mount.id)
            for name in self.orphaned(mount.id):
                target = f"{self.config.staging_dir}/{name}"
                retrying(lambda: ufs.delete(target, recursive=True))  # noqa: B023
                removed += 1
            try:
                removed += retrying(lambda: self.abort_orphaned_uploads(ufs))  # noqa: B023
            except Exception as exc:  # noqa: BLE001 - the next sweep retries
                log.warning("aborting stale uploads in %s failed: %s", mount.uri, exc)
            tidy_staging(self.ns, ufs)
        return removed
