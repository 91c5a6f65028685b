"""UFS steps of namespace changes: intents carried out now, or rolled forward later.

A delete or rename of a persisted entry records an intent in the same metastore
transaction as the metadata change; the UFS step runs right after (retrying transient
errors).  If the UFS keeps failing, or the process dies first, the intent stays and is
rolled forward by maintenance, by ``wait_persisted`` or on restart.

An intent that can never be carried out -- the UFS refuses it for good (a name it cannot
hold, a path escaping the mount), as opposed to being unavailable -- is *quarantined*:
kept with kind ``quarantined-<kind>``, skipped by replay, reported by check_consistency
as ``QUARANTINED_INTENT`` and repaired there (:meth:`IntentLog.repair_quarantined`).  It
never stops a start-up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from siltfs import crashpoints
from siltfs.config import SiltConfig
from siltfs.errors import FileNotFound, MountError, SiltError, UfsError
from siltfs.master.locks import NamespaceLock
from siltfs.master.mounts import MountTable
from siltfs.metastore.abc import Metastore
from siltfs.model import paths
from siltfs.model.enums import IntentKind, PersistenceState
from siltfs.model.inode import Intent
from siltfs.ufs.abc import UnderFileSystem

log = logging.getLogger("siltfs.intents")
T = TypeVar("T")
PERSISTED = PersistenceState.PERSISTED


class IntentLog:
    def __init__(
        self, config: SiltConfig, metastore: Metastore, mounts: MountTable, lock: NamespaceLock
    ) -> None:
        self.config = config
        self.ms = metastore
        self.mounts = mounts
        self.lock = lock
        self.pending = False  # a UFS step was deferred: someone must roll it forward

    def mark_pending(self) -> None:
        """Another master left UFS steps unfinished: roll them forward at the next chance."""
        self.pending = True

    def carry_out(
        self,
        intent_id: int,
        action: Callable[[], None],
        *,
        after: str | None = None,
        attempts: int = 5,
    ) -> bool:
        """Do the UFS side of a committed namespace change, retrying transient UFS errors.
        If the UFS keeps failing, the intent stays and the maintenance thread rolls it
        forward later: the namespace change itself is already durable."""
        for attempt in range(attempts):
            try:
                action()
                break
            except FileNotFound:
                break  # already gone / already moved: the intent is satisfied
            except UfsError as exc:
                if attempt == attempts - 1:
                    log.warning("UFS step of intent %s deferred: %s", intent_id, exc)
                    self.pending = True
                    return False
                time.sleep(0.01 * 2**attempt)
            except SiltError as exc:  # refused for good: the change stands, the step waits
                self._quarantine_id(intent_id, exc)
                return False
        if after:
            crashpoints.reach(after)
        with self.ms.transaction() as txn:
            txn.delete_intent(intent_id)
        return True

    def _delete_unknown(self, ufs: UnderFileSystem, rel: str, path: str) -> None:
        """Roll a delete forward without touching what was written there since: UFS
        entries the namespace holds as PERSISTED (same fingerprint) stay, the rest goes."""
        chain = self.ms.resolve_path(paths.components(path))
        if len(chain) != len(paths.components(path)) + 1:
            ufs.delete(rel, recursive=True)  # nothing there now: the whole old tree goes
            return
        node = chain[-1]
        st = ufs.status(rel)
        if st is None:
            return
        if not node.is_dir or not st.is_dir:
            same = node.state is PERSISTED and node.fingerprint == st.fingerprint
            if not same and not (node.is_dir and st.is_dir):
                ufs.delete(rel, recursive=True)
            return
        with self.ms.snapshot() as txn:
            known = {c.name for c in txn.list_children(node.id)}
        for child in ufs.list(rel):
            child_rel = f"{rel}/{child.name}" if rel else child.name
            if child.name in known:
                self._delete_unknown(ufs, child_rel, paths.join(path, child.name))
            elif not (rel == "" and child.name == self.config.persist.staging_dir):
                ufs.delete(child_rel, recursive=True)

    def replay(self) -> int:
        """Roll forward UFS mutations recorded before a crash.  Returns how many."""
        with self.lock:
            with self.ms.snapshot() as txn:
                intents = txn.list_intents()
            done = 0
            intents = [i for i in intents if not i.kind.quarantined]
            for intent in intents:
                try:
                    mount, ufs = self.mounts.by_id(intent.mount_id)
                except MountError:
                    ufs = None  # unmounted meanwhile: nothing to do
                try:
                    if ufs is not None and intent.kind is IntentKind.DELETE:
                        target = (
                            mount.path if not intent.src else paths.join(mount.path, intent.src)
                        )
                        self._delete_unknown(ufs, intent.src, target)
                    elif ufs is not None and intent.kind is IntentKind.PLACED:
                        self._resync_parent(mount.path, intent.src)
                    elif (
                        ufs is not None
                        and intent.kind is IntentKind.RENAME
                        and intent.dst is not None
                    ):
                        if ufs.status(intent.src) is not None:
                            merge_move(ufs, intent.src, intent.dst)
                except UfsError as exc:
                    log.warning("intent %s not rolled forward yet: %s", intent.id, exc)
                    continue
                except SiltError as exc:
                    self._quarantine_id(intent.id, exc)
                    done += 1
                    continue
                with self.ms.transaction() as txn:
                    txn.delete_intent(intent.id)
                done += 1
            self.pending = done < len(intents)
            return done

    def _quarantine_id(self, intent_id: int, exc: SiltError) -> None:
        """Keep the intent aside (kind ``quarantined-<kind>``): it can never be carried out."""
        with self.ms.transaction() as txn:
            intent = next((i for i in txn.list_intents() if i.id == intent_id), None)
            if intent is None or intent.kind.quarantined:
                return
            txn.delete_intent(intent.id)
            txn.insert_intent(
                intent.kind.quarantine(),
                intent.mount_id,
                intent.src,
                intent.dst,
                intent.created_ms,
            )
        log.error(
            "intent %s (%s %r -> %r) quarantined, it can never be carried out: %s "
            "(check_consistency reports it; repair=True resolves it)",
            intent_id,
            intent.kind,
            intent.src,
            intent.dst,
            exc,
        )

    def quarantined(self) -> list[tuple[Intent, str]]:
        """Quarantined intents with the namespace path each concerns, newest first: the
        order to undo them in (``/a -> /b -> /c``: back to ``/b``, then to ``/a``).
        Quarantining re-inserts an intent, so its id says when it was quarantined and
        its creation time when it was made; the id only breaks ties."""
        with self.ms.snapshot() as txn:
            intents = [i for i in txn.list_intents() if i.kind.quarantined]
        intents.sort(key=lambda i: (i.created_ms, i.id), reverse=True)
        out = []
        for intent in intents:
            try:
                mount, _ = self.mounts.by_id(intent.mount_id)
                base = mount.path
            except MountError:
                base = paths.ROOT
            rel = intent.dst if intent.dst is not None else intent.src
            out.append((intent, paths.join(base, rel) if rel else base))
        return out

    def repair_quarantined(self, intent: Intent) -> str:
        """Make the namespace agree with the UFS again, losing nothing; returns the action.

        A rename the UFS refused: the entry goes back (metadata only) to its old name,
        which the UFS still holds -- unless that name is taken again, then it stays and
        only the intent goes (the entry is then reported by its name).  Anything else:
        the UFS never changed, so the intent is dropped and the parent re-listed."""
        kind = intent.kind.step
        with self.lock:
            try:
                mount, _ = self.mounts.by_id(intent.mount_id)
            except MountError:
                mount = None
            action = "dropped: its mount is gone"
            if mount is not None and kind is IntentKind.RENAME and intent.dst is not None:
                action = self._rename_back(mount.path, intent.src, intent.dst)
            elif mount is not None:
                self._resync_parent(mount.path, intent.src)
                action = "dropped: the UFS never changed; the directory is re-listed"
            with self.ms.transaction() as txn:
                txn.delete_intent(intent.id)
            return action

    def _rename_back(self, mount_path: str, src: str, dst: str) -> str:
        old = paths.join(mount_path, src) if src else mount_path
        new = paths.join(mount_path, dst) if dst else mount_path
        chain = self.ms.resolve_path(paths.components(new))
        old_parent, old_name = paths.split(old)
        parent_chain = self.ms.resolve_path(paths.components(old_parent))
        if len(chain) != len(paths.components(new)) + 1:
            return "dropped: the renamed entry is gone"
        if len(parent_chain) != len(paths.components(old_parent)) + 1:
            return f"kept at {new}: {old_parent} is gone"
        with self.ms.transaction() as txn:
            if txn.get_child(parent_chain[-1].id, old_name) is not None:
                return f"kept at {new}: {old} is taken"
            inode = txn.get_inode(chain[-1].id)
            assert inode is not None
            inode.parent_id = parent_chain[-1].id
            inode.name = old_name
            txn.update_inode(inode)
        return f"renamed back to {old}, the name the UFS holds"

    def settle_placed(self, intent_id: int) -> None:
        """A synchronous write failed around its move: whatever is at its path now is
        re-read from the UFS on next access (metadata sync), and the intent is done."""
        with self.ms.snapshot() as txn:
            intent = next((i for i in txn.list_intents() if i.id == intent_id), None)
        if intent is None:
            return
        mount, _ = self.mounts.by_id(intent.mount_id)
        self._resync_parent(mount.path, intent.src)
        with self.ms.transaction() as txn:
            txn.delete_intent(intent_id)

    def _resync_parent(self, mount_path: str, rel: str) -> None:
        """Make the directory holding *rel* re-list itself: the listing then imports or
        updates the entry (new fingerprint: cached blocks dropped)."""
        parent_rel = rel.rpartition("/")[0]
        parent = paths.join(mount_path, parent_rel) if parent_rel else mount_path
        chain = self.ms.resolve_path(paths.components(parent))
        if len(chain) == len(paths.components(parent)) + 1:
            with self.ms.transaction() as txn:
                node = txn.get_inode(chain[-1].id)
                if node is not None:
                    node.sync_ms = None
                    txn.update_inode(node)

    def settle(self, affected: tuple[str, ...]) -> None:
        """Before a namespace change at *affected* paths: roll deferred UFS steps forward;
        if one touching those paths still cannot be applied, refuse (UfsError) rather than
        let the old step land on the new entry later."""
        if not self.pending:
            return
        self.replay()
        if not self.pending:
            return
        with self.ms.snapshot() as txn:
            intents = txn.list_intents()
        for intent in intents:
            if intent.kind.quarantined:
                continue
            try:
                mount, _ = self.mounts.by_id(intent.mount_id)
            except MountError:
                continue
            touched = [intent.src] + ([intent.dst] if intent.dst is not None else [])
            for rel in touched:
                where = paths.join(mount.path, rel) if rel else mount.path
                for path in affected:
                    if paths.is_ancestor(where, path) or paths.is_ancestor(path, where):
                        raise UfsError(
                            f"an earlier {intent.kind} of {where} is not yet applied in the "
                            "under-storage (it is unavailable); retry later",
                            path=path,
                        )


def retrying(action: Callable[[], T], attempts: int = 5) -> T:
    """Run an idempotent UFS call, retrying transient UFS errors with backoff."""
    for attempt in range(attempts - 1):
        try:
            return action()
        except FileNotFound:
            raise
        except UfsError:
            time.sleep(0.01 * 2**attempt)
    return action()


def merge_move(ufs: UnderFileSystem, src: str, dst: str) -> None:
    """Finish an interrupted move: whatever is still at *src* goes under *dst* (entries
    already moved stay), then *src* is removed.  Idempotent."""
    dst_status = ufs.status(dst)
    if dst_status is None:
        parent = dst.rpartition("/")[0]
        if parent:
            ufs.mkdirs(parent)
        ufs.move(src, dst)
        return
    src_status = ufs.status(src)
    if src_status is None:
        return
    if not src_status.is_dir or not dst_status.is_dir:
        ufs.delete(dst, recursive=True)
        ufs.move(src, dst)
        return
    for child in ufs.list(src):
        merge_move(ufs, f"{src}/{child.name}", f"{dst}/{child.name}")
    ufs.delete(src, recursive=True)
