"""The in-memory view of the mount table: which UFS serves which namespace path."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from siltfs.errors import MountError
from siltfs.master.mount_policy import storage_location
from siltfs.model import paths
from siltfs.model.inode import MountInfo
from siltfs.ufs.abc import UnderFileSystem

UfsOpener = Callable[[str, dict[str, Any]], UnderFileSystem]


def normalise_uri(uri: str) -> str:
    """A canonical spelling for overlap checks (see :func:`mount_policy.storage_location`).
    A chained root given at start (new mounts may not be chained) counts as its last link."""
    return storage_location(uri.rsplit("::", 1)[-1])


class MountTable:
    def __init__(self, opener: UfsOpener) -> None:
        self._opener = opener
        self._mounts: list[MountInfo] = []
        self._ufs: dict[int, UnderFileSystem] = {}
        self._lock = threading.Lock()

    def load(self, mounts: list[MountInfo]) -> None:
        with self._lock:
            self._mounts = sorted(mounts, key=lambda m: len(m.path), reverse=True)
            for m in self._mounts:
                if m.id not in self._ufs:
                    self._ufs[m.id] = self._opener(m.uri, m.options)
            live = {m.id for m in self._mounts}
            for mid in [k for k in self._ufs if k not in live]:
                self._ufs.pop(mid).close()

    def never_resync(self, default_interval: int) -> bool:
        """True when no mount (and not the default) asks to re-sync loaded directories."""
        return default_interval < 0 and all(
            m.sync_interval_ms is None or m.sync_interval_ms < 0 for m in self._mounts
        )

    def open(self, uri: str, options: dict[str, Any]) -> UnderFileSystem:
        """Open a UFS for *uri* without adding it to the table (to probe a new mount)."""
        return self._opener(uri, options)

    def wrap(
        self, mount_id: int, wrapper: Callable[[UnderFileSystem], UnderFileSystem]
    ) -> UnderFileSystem:
        """Replace a mount's UFS by ``wrapper(current)`` (fault injection in tests)."""
        with self._lock:
            wrapped = wrapper(self._ufs[mount_id])
            self._ufs[mount_id] = wrapped
            return wrapped

    def all(self) -> list[MountInfo]:
        with self._lock:
            return sorted(self._mounts, key=lambda m: m.path)

    def resolve(self, path: str) -> tuple[MountInfo, UnderFileSystem, str]:
        """The mount serving *path*, its UFS and the path relative to the mount root."""
        with self._lock:
            for m in self._mounts:
                if paths.is_ancestor(m.path, path):
                    return m, self._ufs[m.id], paths.relative(path, m.path)
        raise MountError("no mount serves this path", path=path)

    def by_id(self, mount_id: int) -> tuple[MountInfo, UnderFileSystem]:
        with self._lock:
            for m in self._mounts:
                if m.id == mount_id:
                    return m, self._ufs[m.id]
        raise MountError(f"mount {mount_id} does not exist")

    def at(self, path: str) -> MountInfo | None:
        with self._lock:
            for m in self._mounts:
                if m.path == path:
                    return m
        return None

    def check_new(self, path: str, uri: str) -> None:
        """Refuse a mount that overlaps an existing one (by namespace path or by URI)."""
        new_uri = normalise_uri(uri)
        for m in self.all():
            if m.path == path:
                raise MountError(f"already a mount point (of {m.uri})", path=path)
            if m.path != paths.ROOT and paths.is_ancestor(m.path, path):
                raise MountError(f"inside the mount {m.path} ({m.uri})", path=path)
            if paths.is_ancestor(path, m.path):
                raise MountError(f"would contain the mount {m.path}", path=path)
            old_uri = normalise_uri(m.uri)
            if new_uri.startswith(old_uri) or old_uri.startswith(new_uri):
                raise MountError(
                    f"{uri} overlaps the storage of mount {m.path} ({m.uri})", path=path
                )

    def close(self) -> None:
        with self._lock:
            for ufs in self._ufs.values():
                ufs.close()
            self._ufs.clear()
