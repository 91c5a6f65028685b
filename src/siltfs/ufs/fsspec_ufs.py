"""An UnderFileSystem over any fsspec file system, rooted at a URI."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, BinaryIO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from siltfs import crashpoints
from siltfs.errors import (
    DirectoryNotEmpty,
    FileNotFound,
    InvalidPath,
    PermissionDenied,
    SiltError,
    UfsError,
)
from siltfs.ufs.abc import Limits, StoredAttrs, UfsStatus, UnderFileSystem

DEFAULT_NAME_MAX = 255
DEFAULT_PATH_MAX = 4096  # Linux; the kernel counts the terminating NUL in it


def _mtime(info: dict[str, Any]) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "created", "updated"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return datetime.fromisoformat(str(value)).timestamp()
        except ValueError:
            continue
    return None


def fingerprint_of(info: dict[str, Any]) -> str:
    tag = info.get("ETag") or info.get("etag") or info.get("md5") or info.get("checksum")
    if tag is None:
        t = _mtime(info)
        tag = "" if t is None else repr(t)
        if "ino" in info:
            tag += f"/{info['ino']}"
    return "{}:{}".format(int(info.get("size") or 0), str(tag).strip('"'))


def ufs_error(exc: Exception, rel: str, op: str, uri: str) -> SiltError:
    """The siltfs error for a third-party error *exc* of *op* on *rel* (under *uri*)."""
    if isinstance(exc, SiltError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return FileNotFound(f"not found in under-storage during {op}", path=rel)
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return InvalidPath(
            f"the under-storage refused the path as too long during {op} "
            f"(ENAMETOOLONG: {exc.strerror})",
            path=rel or uri,
        )
    return UfsError(f"{op} failed: {type(exc).__name__}: {exc}", path=rel)


@contextmanager
def mapped_errors(rel: str, op: str, uri: str) -> Iterator[None]:
    """The one place the fsspec-based adapters translate errors: any exception of the
    block that is not already a siltfs error becomes one (:func:`ufs_error`) naming
    *rel*; KeyboardInterrupt and the like pass untouched."""
    try:
        yield
    except SiltError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated at the boundary
        raise ufs_error(exc, rel, op, uri) from exc


class FsspecUfs(UnderFileSystem):
    """Rooted view of an fsspec file system.  ``uri`` like ``file:///srv/lake`` or ``memory://t``."""

    def __init__(self, uri: str, options: dict[str, Any] | None = None) -> None:
        self.uri = uri
        try:
            fs, root = fsspec.core.url_to_fs(uri, **(options or {}))
        except (ValueError, ImportError, TypeError) as exc:
            raise UfsError(f"cannot open under-storage: {exc}", path=uri) from exc
        self.fs = fs
        self.root: str = str(root).rstrip("/") if root not in ("/", "") else str(root)
        self.local = isinstance(fs, LocalFileSystem)
        if self.local:
            self.root = os.path.realpath(self.root)
            self.limits = local_limits(self.root)

    def stored_bytes(self, rel: str, *, is_dir: bool = False) -> int:
        full = self.root.rstrip("/") + "/" + rel if rel else self.root
        return len(full.encode("utf-8", "surrogateescape"))

    # path handling --------------------------------------------------------
    def _full(self, rel: str) -> str:
        if rel == "":
            return self.root
        self.check_path(rel)
        full: str = self.root.rstrip("/") + "/" + rel
        if self.local:
            real = os.path.realpath(full)
            if real != self.root and not real.startswith(self.root.rstrip("/") + "/"):
                raise PermissionDenied("path escapes the mount root (symlink)", path=rel)
        return full

    def _errors(self, rel: str, op: str) -> contextlib.AbstractContextManager[None]:
        """Third-party errors of *op* on *rel* as siltfs errors (:func:`mapped_errors`)."""
        return mapped_errors(rel, op, self.uri)

    def _status(self, info: dict[str, Any]) -> UfsStatus:
        name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
        is_dir = info.get("type") == "directory"
        return UfsStatus(
            name=name,
            is_dir=is_dir,
            size=0 if is_dir else int(info.get("size") or 0),
            mtime=_mtime(info),
            fingerprint="dir" if is_dir else fingerprint_of(info),
        )

    def _escapes(self, info: dict[str, Any]) -> bool:
        if not self.local or not info.get("islink"):
            return False
        real = os.path.realpath(str(info["name"]))
        return not real.startswith(self.root.rstrip("/") + "/")

    # operations -----------------------------------------------------------
    def status(self, rel: str) -> UfsStatus | None:
        full = self._full(rel)
        with self._errors(rel, "status"):
            try:
                info = self.fs.info(full)
            except (FileNotFoundError, NotADirectoryError):
                return None  # (a parent is a file: nothing can be at this path)
        if self._escapes(info):
            return None
        st = self._status(info)
        return UfsStatus("", st.is_dir, st.size, st.mtime, st.fingerprint) if rel == "" else st

    def list(self, rel: str) -> list[UfsStatus]:
        full = self._full(rel)
        with self._errors(rel, "list"):
            entries = self.fs.ls(full, detail=True)
            if not entries and not self.fs.isdir(full):
                raise FileNotFoundError(full)
        out = []
        base = full.rstrip("/")
        for info in entries:
            name = str(info["name"]).rstrip("/")
            if name == base or name.lstrip("/") == base.lstrip("/"):
                continue  # some stores list a directory as its own child
            if self._escapes(info):
                continue
            if info.get("islink"):  # take the type of what the link points at
                try:
                    info = {**self.fs.info(name), "name": name}
                except FileNotFoundError:
                    continue  # dangling link
            out.append(self._status(info))
        return out

    def mkdirs(self, rel: str) -> None:
        full = self._full(rel)
        with self._errors(rel, "mkdir"):
            self.fs.makedirs(full, exist_ok=True)

    def open_write(self, rel: str) -> BinaryIO:
        full = self._full(rel)
        with self._errors(rel, "write"):
            if self.local:
                return open(full, "wb")  # noqa: SIM115 - returned to the caller
            return self.fs.open(full, "wb")  # type: ignore[no-any-return]

    def write(self, rel: str, chunks: Iterable[bytes]) -> None:
        """Write a whole file; on any failure nothing is left at *rel*."""
        with self._errors(rel, "write"):
            try:
                super().write(rel, chunks)
            except BaseException:
                try:
                    self.fs.rm_file(self._full(rel))
                except Exception:  # noqa: BLE001 - nothing was created
                    pass
                raise

    def set_attributes(self, rel: str, attrs: StoredAttrs) -> None:
        """A local file gets mode and mtime (its owner stays the process's)."""
        if not self.local:
            return
        full = self._full(rel)
        with self._errors(rel, "set_attributes"):
            if attrs.mode is not None:
                os.chmod(full, attrs.mode & 0o7777)
            if attrs.mtime_ns is not None:
                os.utime(full, ns=(attrs.mtime_ns, attrs.mtime_ns))

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        full = self._full(rel)
        with self._errors(rel, "read"):
            if self.local:
                with open(full, "rb") as f:
                    f.seek(start)
                    return f.read(end - start)
            data = self.fs.cat_file(full, start=start, end=end)
        return bytes(data)

    def move(self, src: str, dst: str) -> None:
        s, d = self._full(src), self._full(dst)
        with self._errors(src, f"move to {dst}"):
            if self.local:
                os.replace(s, d)
            elif self.fs.isdir(s):
                self._move_tree(s, d)
            else:
                self.fs.mv(s, d)

    def _move_tree(self, s: str, d: str) -> None:
        """Object stores have no directory rename: move object by object, then drop the
        source.  Not atomic; the namespace records an intent first and rolls it forward."""
        self.fs.makedirs(d, exist_ok=True)
        for i, (dirpath, dirs, files) in enumerate(self.fs.walk(s)):
            rel = str(dirpath)[len(s) :].strip("/")
            target = f"{d}/{rel}" if rel else d
            for name in dirs:
                self.fs.makedirs(f"{target}/{name}", exist_ok=True)
            for name in files:
                self.fs.mv(f"{str(dirpath).rstrip('/')}/{name}", f"{target}/{name}")
                if i == 0:
                    crashpoints.reach("ufs.move_tree.partial")
        self.fs.rm(s, recursive=True)

    def delete(self, rel: str, *, recursive: bool = False) -> None:
        full = self._full(rel)
        with self._errors(rel, "delete"):
            try:
                if not self.fs.exists(full):
                    return
                if self.fs.isdir(full):
                    if recursive:
                        self.fs.rm(full, recursive=True)
                    elif self.fs.ls(full):
                        raise DirectoryNotEmpty("directory is not empty", path=rel)
                    else:
                        self.fs.rmdir(full)
                else:
                    self.fs.rm_file(full)
            except FileNotFoundError:
                return


def local_limits(root: str) -> Limits:
    """NAME_MAX and PATH_MAX of the local file system holding *root* (asked of the
    nearest existing directory; Linux's defaults if it cannot say)."""
    where = root
    while not os.path.isdir(where) and os.path.dirname(where) != where:
        where = os.path.dirname(where)
    try:
        name_max = os.pathconf(where, "PC_NAME_MAX")
        path_max = os.pathconf(where, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = DEFAULT_NAME_MAX, DEFAULT_PATH_MAX
    name_max = name_max if name_max > 0 else DEFAULT_NAME_MAX
    path_max = path_max if path_max > 0 else DEFAULT_PATH_MAX
    return Limits(
        name_bytes=name_max,
        path_bytes=path_max - 1,
        path_limit=f"the local file system's PATH_MAX of {path_max} bytes (the full path, "
        "the mount's root directory and the terminating NUL included)",
    )
