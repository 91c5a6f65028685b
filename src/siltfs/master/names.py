"""The one name validator: may an entry be created (or renamed to) at a path?

Asked before any change -- write (every write type: a MUST_CACHE file may be persisted
later), mkdir (``mkdir -p`` for the whole path before any parent is created), touch,
rename (for a directory also its deepest descendant), mount point -- so a refused name
changes nothing.  The rules:

- the namespace's own (:func:`siltfs.model.paths.validate`: absolute, 255-byte names,
  4096-byte paths), which also hold for every descendant of a renamed directory;
- the reserved staging directory at a mount root;
- what the UFS of the target's mount can hold (:meth:`UnderFileSystem.check_path`):
  names that decode into a separator, backslash, NUL or '..' for every store, and the
  store's length limits (local: NAME_MAX and PATH_MAX of the full path, the mount's
  root directory included; S3: 1024-byte keys, the prefix included).
"""

from __future__ import annotations

from siltfs.errors import InvalidPath, PermissionDenied
from siltfs.master.mounts import MountTable
from siltfs.model import paths
from siltfs.model.inode import Inode, MountInfo
from siltfs.ufs.abc import UnderFileSystem

Below = list[tuple[str, bool]]  # (suffix relative to an entry, is a directory)


def writable_target(
    mounts: MountTable,
    staging_dir: str,
    path: str,
    *,
    new_name: bool = True,
    is_dir: bool = False,
    below: Below | None = None,
) -> tuple[MountInfo, UnderFileSystem, str]:
    """The mount, UFS and relative path of *path*, if entries may change there.

    *new_name*: *path* is about to be created or renamed to (a directory if *is_dir*,
    with the entries *below* it if it is moved there), so it must be a name the UFS can
    hold.  *new_name* False: an existing entry is changed or renamed away (an old bad
    name can still be renamed to a good one)."""
    mount, ufs, rel = mounts.resolve(path)
    if mount.read_only:
        raise PermissionDenied(f"mount {mount.path} is read-only", path=path)
    _not_staging(staging_dir, path, rel)
    if new_name:
        check_name(mount, ufs, path, rel, is_dir=is_dir, below=below or [])
    return mount, ufs, rel


def check_mount_point(mounts: MountTable, staging_dir: str, path: str) -> None:
    """A new mount point at *path* is a directory of the mount it lies in: the same rules
    (a read-only parent mount may still get a mount point)."""
    mount, ufs, rel = mounts.resolve(path)
    _not_staging(staging_dir, path, rel)
    check_name(mount, ufs, path, rel, is_dir=True, below=[])


def check_name(
    mount: MountInfo,
    ufs: UnderFileSystem,
    path: str,
    rel: str,
    *,
    is_dir: bool,
    below: Below,
) -> None:
    """InvalidPath naming *path*, the reason and the limit, unless the namespace and the
    UFS can hold an entry at *path* and everything *below* it."""
    for suffix, _ in below:
        size = len(path.encode("utf-8", "surrogateescape")) + 1 + len(suffix.encode())
        if suffix and size > paths.MAX_PATH_BYTES:
            raise InvalidPath(
                f"its entry {suffix!r} would have a path of {size} bytes, over the "
                f"{paths.MAX_PATH_BYTES} bytes a path may have",
                path=path,
            )
    try:
        ufs.check_path(rel, is_dir=is_dir, below=below)
    except InvalidPath as exc:
        raise InvalidPath(f"{exc.message} ({mount.uri})", path=path) from None


def longest_below(subtree: list[Inode]) -> Below:
    """The longest file and directory suffixes under ``subtree[0]`` (parents before
    children, as :meth:`Txn.subtree` returns them): what a length limit must hold."""
    if not subtree:
        return []
    suffix: dict[int, str] = {subtree[0].id: ""}
    longest: dict[bool, str] = {}
    for node in subtree[1:]:
        parent = suffix.get(node.parent_id)
        if parent is None:
            continue
        mine = f"{parent}/{node.name}" if parent else node.name
        suffix[node.id] = mine
        best = longest.get(node.is_dir)
        if best is None or len(mine.encode()) > len(best.encode()):
            longest[node.is_dir] = mine
    return [(s, is_dir) for is_dir, s in sorted(longest.items())]


def _not_staging(staging_dir: str, path: str, rel: str) -> None:
    if rel == staging_dir or rel.startswith(staging_dir + "/"):
        raise InvalidPath(f"{staging_dir!r} at a mount root is reserved for siltfs", path=path)
