"""The metastore contract.

A metastore holds inodes (keyed by id, unique on parent id + name), the mount table,
persist jobs, UFS intents and commit latches.  All work happens inside a :class:`Txn`;
a transaction from :meth:`Metastore.transaction` is serialisable with every other
writer (of every process using the store), one from :meth:`Metastore.snapshot` is a
consistent read.  Implementations must be safe to use from many threads at once.

Coordination between masters goes through the metastore too:
:meth:`Metastore.namespace_lock` is the lock every namespace mutation holds, and latches
(:meth:`Txn.add_latch`) mark paths whose persisted object is being moved into place in
the UFS, so that several masters on one shared metastore (PostgreSQL) wait for each
other's commits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from siltfs.metastore.locks import NamespaceLock
from siltfs.model.enums import JobState, PersistenceState
from siltfs.model.inode import ROOT_ID, Inode, Intent, MountInfo, PersistJob


@dataclass(frozen=True)
class Latch:
    """A path being committed to the UFS by *owner* (a runner identity) until *expires_ms*."""

    inode_id: int
    path: str
    owner: str
    expires_ms: int


class Txn(ABC):
    # inodes ---------------------------------------------------------------
    @abstractmethod
    def get_inode(self, inode_id: int) -> Inode | None: ...

    @abstractmethod
    def get_child(self, parent_id: int, name: str) -> Inode | None: ...

    @abstractmethod
    def list_children(self, parent_id: int) -> list[Inode]: ...

    def resolve_path(self, names: Sequence[str]) -> list[Inode]:
        """The root and the inodes along *names*, stopping before the first missing one
        (so ``len(result) == len(names) + 1`` iff the whole path exists).  Backends may
        answer it in one query."""
        root = self.get_inode(ROOT_ID)
        assert root is not None
        chain = [root]
        for name in names:
            if not chain[-1].is_dir:
                break
            child = self.get_child(chain[-1].id, name)
            if child is None:
                break
            chain.append(child)
        return chain

    @abstractmethod
    def count_children(self, parent_id: int) -> int: ...

    def count_subdirs(self, parent_id: int) -> int:
        """How many children of *parent_id* are directories (a directory's nlink is 2 +
        this).  Backends may answer it in one query."""
        return sum(1 for c in self.list_children(parent_id) if c.is_dir)

    @abstractmethod
    def insert_inode(self, inode: Inode) -> None:
        """Insert; raises FileExists if (parent_id, name) is taken."""

    @abstractmethod
    def update_inode(self, inode: Inode) -> None: ...

    @abstractmethod
    def delete_inodes(self, ids: Sequence[int]) -> None:
        """Delete inodes and every persist job that refers to them."""

    @abstractmethod
    def subtree(self, inode_id: int) -> list[Inode]:
        """The inode and all its descendants, parents before children."""

    @abstractmethod
    def inodes_in_state(self, state: PersistenceState) -> list[Inode]: ...

    @abstractmethod
    def inodes_with_ttl(self) -> list[Inode]: ...

    @abstractmethod
    def pinned_inodes(self) -> list[Inode]: ...

    @abstractmethod
    def sharing_inodes(self) -> list[Inode]:
        """Files whose blocks include some of an earlier version (``shared`` set)."""

    @abstractmethod
    def allocate_ids(self, count: int) -> int:
        """Reserve *count* consecutive inode ids; return the first."""

    # mounts ---------------------------------------------------------------
    @abstractmethod
    def list_mounts(self) -> list[MountInfo]: ...

    @abstractmethod
    def insert_mount(self, mount: MountInfo) -> int: ...

    @abstractmethod
    def update_mount(self, mount: MountInfo) -> None: ...

    @abstractmethod
    def delete_mount(self, mount_id: int) -> None: ...

    # persist jobs ---------------------------------------------------------
    @abstractmethod
    def insert_job(self, inode_id: int, generation: int, now_ms: int) -> PersistJob:
        """Insert a PENDING job; replaces any older job row of the same inode."""

    @abstractmethod
    def get_job(self, job_id: int) -> PersistJob | None: ...

    @abstractmethod
    def job_for_inode(self, inode_id: int) -> PersistJob | None: ...

    @abstractmethod
    def update_job(self, job: PersistJob) -> None: ...

    @abstractmethod
    def delete_job(self, job_id: int) -> None: ...

    @abstractmethod
    def list_jobs(self, state: JobState | None = None) -> list[PersistJob]: ...

    @abstractmethod
    def claim_jobs(self, owner: str, now_ms: int, lease_ms: int, limit: int) -> list[PersistJob]:
        """Lease up to *limit* due jobs: PENDING with next_run <= now, or RUNNING whose
        lease expired.  Each gets state RUNNING, a fresh token and attempts + 1."""

    # intents --------------------------------------------------------------
    @abstractmethod
    def insert_intent(
        self, kind: str, mount_id: int, src: str, dst: str | None, now_ms: int
    ) -> int: ...

    @abstractmethod
    def delete_intent(self, intent_id: int) -> None: ...

    @abstractmethod
    def list_intents(self) -> list[Intent]: ...

    # commit latches -------------------------------------------------------
    @abstractmethod
    def add_latch(self, inode_id: int, path: str, owner: str, expires_ms: int) -> None:
        """Latch *path* for *inode_id* (replacing that inode's previous latch)."""

    @abstractmethod
    def remove_latch(self, inode_id: int) -> None:
        """Drop the latch of *inode_id* (no error if there is none)."""

    @abstractmethod
    def list_latches(self, now_ms: int) -> list[Latch]:
        """Latches not yet expired at *now_ms* (``expires_ms > now_ms``), by inode id."""


class Metastore(ABC):
    #: True when other hosts may share it (PostgreSQL): another master's block store,
    #: which this one cannot see, may hold data this one finds missing.
    shared_across_hosts = False

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Txn]:
        """A read-write transaction, committed on normal exit, rolled back on error."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[Txn]:
        """A read-only consistent view."""

    def resolve_path(self, names: Sequence[str]) -> list[Inode]:
        """:meth:`Txn.resolve_path` as one consistent read."""
        with self.snapshot() as txn:
            return txn.resolve_path(names)

    def list_latches(self, now_ms: int) -> list[Latch]:
        """:meth:`Txn.list_latches` as one consistent read."""
        with self.snapshot() as txn:
            return txn.list_latches(now_ms)

    def namespace_lock(self, home: Path) -> NamespaceLock:
        """The namespace lock of every master on this metastore: re-entrant within a
        thread, exclusive across threads and processes.  Default: an flock on
        ``<home>/namespace.lock`` (processes sharing one home on one host)."""
        return NamespaceLock(home / "namespace.lock")

    @abstractmethod
    def close(self) -> None: ...
