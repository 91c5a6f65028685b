"""fsspec binding: ``silt://`` URLs for pandas, pyarrow, dask and anything else fsspec reaches.

>>> import fsspec
>>> fs = fsspec.filesystem("silt", home="/tmp/silt")            # embedded siltfs
>>> with fsspec.open("silt:///a.txt", "w", home="/tmp/silt") as f:
...     f.write("hello")

Storage options: ``home`` (embedded home directory), ``ufs`` / ``ufs_options`` (what is
mounted at ``/``), ``config`` (a :class:`siltfs.SiltConfig`), ``write_type`` and
``read_type`` (defaults for every file opened through this instance) or ``fs`` (an open
siltfs client, embedded or remote, to wrap; it is never closed by this class).
Remote: ``master`` (``http://host:port``, or a list of URLs to fail over between) and
``token`` (default ``$SILT_TOKEN``), e.g.
``fsspec.filesystem("silt", master="http://127.0.0.1:19998", token=...)``.

One process holds at most one embedded siltfs per home: fsspec instances with the same
options are the same object (fsspec's instance cache), and instances that differ only in
``write_type``/``read_type``, in the spelling of ``home`` or in the thread that created
them share one client through a reference-counted registry.  :meth:`SiltFileSystem.close`
releases the instance's share; the last one closes the client.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from fsspec.callbacks import DEFAULT_CALLBACK
from fsspec.implementations.local import trailing_sep
from fsspec.spec import AbstractFileSystem
from fsspec.utils import isfilelike, other_paths, stringify_path, tokenize

from siltfs.client.base import FileSystem
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.client.remote import RemoteFileSystem
from siltfs.client.wire import master_urls
from siltfs.config import SiltConfig
from siltfs.errors import (
    FileExists,
    FileNotFound,
    InvalidArgument,
    InvalidPath,
    IsADirectory,
    NotADirectory,
    Unavailable,
    WrongType,
)
from siltfs.fsspec_clients import acquire, master_for, release
from siltfs.fsspec_file import PROTOCOL, SiltFile
from siltfs.model import paths
from siltfs.model.enums import ReadType, WriteType
from siltfs.model.inode import FileInfo

__all__ = ["SiltFile", "SiltFileSystem"]

_GLOB_CHARS = frozenset("*?[")


def _has_magic(path: str) -> bool:
    return any(c in path for c in _GLOB_CHARS)


def _stat_dict(info: FileInfo) -> dict[str, Any]:
    return {
        "name": info.path,
        "size": 0 if info.is_dir else info.length,
        "type": "directory" if info.is_dir else "file",
        "mtime": info.mtime,
        "persistence_state": info.persistence_state.value,
        "cached_percent": info.cached_percent,
        "id": info.id,
        "generation": info.generation,
        "block_size": info.block_size,
        "pinned": info.pinned,
        "mount_point": info.mount_point,
    }


# -- the file system ------------------------------------------------------------------


class SiltFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """siltfs as an fsspec file system (protocol ``silt``), embedded mode."""

    protocol = PROTOCOL
    root_marker = "/"
    cachable = True

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        ufs: str | None = None,
        ufs_options: dict[str, Any] | None = None,
        config: SiltConfig | None = None,
        write_type: WriteType | str | None = None,
        read_type: ReadType | str | None = None,
        fs: FileSystem | None = None,
        master: str | list[str] | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._closed = True  # until a client is attached
        self._owns_remote = False
        self.write_type: WriteType | None = (
            None if write_type is None else WriteType.parse(write_type)  # type: ignore[assignment]
        )
        self.read_type: ReadType | None = (
            None if read_type is None else ReadType.parse(read_type)  # type: ignore[assignment]
        )
        self._key: Path | None = None
        self.client: FileSystem
        embedded_opts = (home, ufs, ufs_options, config)
        served = False
        if master is None and fs is None and ufs is None and ufs_options is None:
            master, token = master_for(home, config, token)
            served = master is not None
        if master is not None:
            if not served and (fs is not None or any(o is not None for o in embedded_opts)):
                raise InvalidArgument(
                    "master= is a remote siltfs; home=/ufs=/ufs_options=/config=/fs= do not apply"
                )
            self.client = RemoteFileSystem(master_urls(master), token)
            self._owns_remote = True
        elif fs is not None:
            if any(o is not None for o in embedded_opts):
                raise InvalidArgument("give either fs= or home=/ufs=/ufs_options=/config=")
            if not isinstance(fs, FileSystem):
                raise WrongType(f"fs must be a siltfs FileSystem, not {type(fs).__name__}")
            self.client = fs
        else:
            self._key, self.client = acquire(home, ufs, ufs_options, config)
        self._closed = False

    # lifecycle ------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Release this instance; the embedded client closes with its last user.

        A client passed in as ``fs=`` is left open.  The instance leaves fsspec's cache,
        so ``fsspec.filesystem("silt", ...)`` afterwards opens afresh."""
        if self._closed:
            return
        self._closed = True
        cache = type(self)._cache
        for token in [t for t, inst in list(cache.items()) if inst is self]:
            cache.pop(token, None)
        if self._key is not None:
            assert isinstance(self.client, EmbeddedFileSystem)
            release(self._key, self.client)
        elif self._owns_remote:
            self.client.close()

    def __enter__(self) -> SiltFileSystem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _c(self) -> FileSystem:
        if self._closed:
            raise Unavailable("this SiltFileSystem is closed")
        return self.client

    @property
    def fsid(self) -> str:
        if isinstance(self.client, RemoteFileSystem):
            return f"{PROTOCOL}:{self.client.url}"
        assert isinstance(self.client, EmbeddedFileSystem)
        return f"{PROTOCOL}:{self.client.config.home}"

    # paths ----------------------------------------------------------------
    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        """``silt:///a/b``, ``silt://a/b``, ``/a/b`` and ``a/b`` all name ``/a/b``."""
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = stringify_path(path)
        for prefix in (f"{PROTOCOL}://", f"{PROTOCOL}::"):
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
        path = path.rstrip("/")
        return path if path.startswith("/") else "/" + path

    def unstrip_protocol(self, name: str) -> str:
        return f"{PROTOCOL}://{self._strip_protocol(name)}"

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> dict[str, Any]:
        return {}

    # metadata ---------------------------------------------------------------
    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        p = self._strip_protocol(path)
        infos = self._c.ls(p, sync_interval_ms=kwargs.get("sync_interval_ms"))
        infos.sort(key=lambda i: i.path)
        if detail:
            return [_stat_dict(i) for i in infos]
        return [i.path for i in infos]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        p = self._strip_protocol(path)
        try:
            info = self._c.stat(p, sync_interval_ms=kwargs.get("sync_interval_ms"))
        except NotADirectory as exc:  # /file/child: not found, as fsspec callers expect
            raise FileNotFound(exc.message, path=p) from exc
        return _stat_dict(info)

    def exists(self, path: str, **kwargs: Any) -> bool:
        try:
            return self._c.exists(self._strip_protocol(path))
        except InvalidPath:
            return False

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        """One recursive listing instead of a walk of ``ls`` calls."""
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        p = self._strip_protocol(path)
        try:
            infos = self._c.ls(p, recursive=True)
        except (FileNotFound, NotADirectory, InvalidPath):
            infos = []
        out: dict[str, dict[str, Any]] = {}
        if len(infos) == 1 and infos[0].path == p and not infos[0].is_dir:
            out[p] = _stat_dict(infos[0])  # path is a file
        else:
            if withdirs and self.isdir(p):
                out[p] = self.info(p)
            base = len(paths.components(p))
            for info in infos:
                if maxdepth is not None and len(paths.components(info.path)) - base > maxdepth:
                    continue
                if info.is_dir and not withdirs:
                    continue
                out[info.path] = _stat_dict(info)
        names = sorted(out)
        if detail:
            return {name: out[name] for name in names}
        return names

    def created(self, path: str) -> datetime.datetime:
        """When the current version of *path* was committed."""
        created_ms = self._c.stat(self._strip_protocol(path)).created_ms
        return datetime.datetime.fromtimestamp(created_ms / 1000, tz=datetime.UTC)

    def modified(self, path: str) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.info(path)["mtime"], tz=datetime.UTC)

    def ukey(self, path: str) -> str:
        info = self.info(path)
        return str(tokenize(info["id"], info["generation"], info["size"], info["mtime"]))

    def checksum(self, path: str) -> int:
        return int(self.ukey(path), 16)

    # directories ------------------------------------------------------------
    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        p = self._strip_protocol(path)
        if self._c.exists(p):
            raise FileExists("already exists", path=p)
        self._c.mkdir(
            p, parents=create_parents, write_type=kwargs.get("write_type") or self.write_type
        )

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        p = self._strip_protocol(path)
        if not exist_ok and self._c.exists(p):
            raise FileExists("already exists", path=p)
        self._c.mkdir(p, parents=True, exist_ok=True, write_type=self.write_type)

    def rmdir(self, path: str) -> None:
        p = self._strip_protocol(path)
        if not self._c.stat(p).is_dir:
            raise NotADirectory("not a directory", path=p)
        self._c.delete(p)

    # deletion ---------------------------------------------------------------
    def rm_file(self, path: str) -> None:
        self._c.delete(self._strip_protocol(path))

    _rm = rm_file

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        items = path if isinstance(path, list) else [path]
        if recursive and maxdepth is None and not any(_has_magic(str(p)) for p in items):
            for item in items:
                self._delete_tree(self._strip_protocol(item))
            return
        for p in reversed(self.expand_path(path, recursive=recursive, maxdepth=maxdepth)):
            if p == self.root_marker:
                continue  # the root itself stays; its entries were deleted before it
            self._c.delete(p)

    def _delete_tree(self, p: str) -> None:
        if p == paths.ROOT:  # the root cannot go, its contents can
            for info in self._c.ls(p):
                self._c.delete(info.path, recursive=True)
        else:
            self._c.delete(p, recursive=True)

    # moving and copying -------------------------------------------------------
    def mv(
        self,
        path1: Any,
        path2: Any,
        recursive: bool = False,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Move by renaming (metadata only, never a copy).

        Destinations follow fsspec's ``copy``: into an existing directory (or one named
        with a trailing ``/``) under the source's name, else to the given name.  A whole
        directory moves whether or not ``recursive`` is set (a rename is not a walk); a
        directory moved onto an existing directory merges into it; an existing file at
        the destination is replaced.  ``maxdepth`` is refused: fsspec's copy-then-delete
        fallback would delete what lies deeper than it copied.
        """
        if maxdepth is not None:
            raise InvalidArgument("mv moves whole entries; maxdepth is not supported")
        if path1 == path2 or (
            isinstance(path1, str)
            and isinstance(path2, str)
            and self._strip_protocol(path1) == self._strip_protocol(path2)
        ):
            return
        if isinstance(path1, list) and isinstance(path2, list):
            sources: list[str] = [self._strip_protocol(p) for p in path1]
            targets: list[str] = list(path2)
        else:
            source_is_str = isinstance(path1, str)
            sources = self.expand_path(path1, recursive=False)
            dest_is_dir = isinstance(path2, str) and (trailing_sep(path2) or self.isdir(path2))
            exists = source_is_str and (
                (_has_magic(path1) and len(sources) == 1)
                or (not _has_magic(path1) and dest_is_dir and not trailing_sep(path1))
            )
            targets = other_paths(sources, path2, exists=exists, flatten=not source_is_str)
        for src, dst in zip(sources, targets, strict=True):
            self._move(src, self._strip_protocol(dst))

    def _move(self, src: str, dst: str) -> None:
        if src == dst:
            return
        src_info = self._c.stat(src)
        try:
            dst_info: FileInfo | None = self._c.stat(dst)
        except (FileNotFound, NotADirectory):
            dst_info = None
        if dst_info is None:
            if dst != paths.ROOT:
                parent = paths.split(dst)[0]
                self._c.mkdir(parent, parents=True, exist_ok=True, write_type=self.write_type)
            self._c.rename(src, dst)
        elif not src_info.is_dir and not dst_info.is_dir:
            self._c.delete(dst)  # replace an existing file, as fsspec's copy+rm would
            self._c.rename(src, dst)
        elif src_info.is_dir and dst_info.is_dir:
            if paths.is_ancestor(src, dst):
                raise InvalidArgument(f"cannot move a directory into itself ({dst})", path=src)
            for child in self._c.ls(src):
                self._move(child.path, paths.join(dst, child.name))
            self._c.delete(src)
        elif dst_info.is_dir:
            raise IsADirectory("destination is a directory", path=dst)
        else:
            raise NotADirectory("destination is a file; cannot replace it by a directory", dst)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        src, dst = self._strip_protocol(path1), self._strip_protocol(path2)
        if self._c.stat(src).is_dir:
            self.makedirs(dst, exist_ok=True)
            return
        with self.open(src, "rb", **kwargs) as fin, self.open(dst, "wb", **kwargs) as fout:
            while chunk := fin.read(self.blocksize):
                fout.write(chunk)

    # data -----------------------------------------------------------------------
    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> SiltFile:
        """Modes ``rb``, ``wb``, ``xb``, and to change a file ``ab``, ``r+b``, ``w+b``,
        ``a+b``, ``x+b`` (fsspec wraps text modes around them).  A write becomes visible
        at flush/close, or with ``autocommit=False`` (transactions) at commit.
        ``block_size`` is the siltfs block size of a new file; ``write_type`` and
        ``read_type`` override the instance defaults."""
        p = self._strip_protocol(path)
        if mode not in ("rb", "wb", "xb", "ab", "r+b", "w+b", "a+b", "x+b"):
            raise InvalidArgument(
                f"unsupported mode {mode!r} (rb, wb, xb, ab, r+b, w+b, a+b, x+b)", path=p
            )
        if mode == "rb":
            inner = self._c.open(p, "rb", read_type=kwargs.get("read_type") or self.read_type)
        else:
            wt = kwargs.get("write_type") or self.write_type
            inner = self._c.open(p, mode, write_type=wt, block_size=block_size)
        return SiltFile(self, p, mode, inner, autocommit=autocommit, block_size=block_size)

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        rt = kwargs.get("read_type") or self.read_type
        return self._c.read_bytes(self._strip_protocol(path), start, end, read_type=rt)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        with self.open(path, "xb" if mode == "create" else "wb", **kwargs) as f:
            f.write(value)

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        """Create an empty file; with ``truncate=False`` an existing file stays as it is
        (siltfs files are immutable, their mtime included)."""
        if truncate or not self.exists(path):
            self.open(path, "wb", **kwargs).close()
        elif self.isdir(path):
            raise IsADirectory("is a directory", path=self._strip_protocol(path))

    def put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Any = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        if os.path.isdir(lpath):
            self.makedirs(rpath, exist_ok=True)
            return
        with (
            open(lpath, "rb") as fin,
            self.open(rpath, "xb" if mode == "create" else "wb", **kwargs) as fout,
        ):
            callback.set_size(os.fstat(fin.fileno()).st_size)
            while chunk := fin.read(self.blocksize):
                fout.write(chunk)
                callback.relative_update(len(chunk))

    def get_file(
        self,
        rpath: str,
        lpath: Any,
        callback: Any = DEFAULT_CALLBACK,
        outfile: Any = None,
        **kwargs: Any,
    ) -> None:
        """Download to *lpath* (replaced atomically, parents created) or into *outfile*."""
        p = self._strip_protocol(rpath)
        if outfile is None and isfilelike(lpath):
            outfile = lpath
        if outfile is None and self._c.stat(p).is_dir:
            os.makedirs(lpath, exist_ok=True)
            return
        rt = kwargs.get("read_type") or self.read_type
        if outfile is not None:
            with self.open(p, "rb", read_type=rt) as fin:
                callback.set_size(fin.size)
                while chunk := fin.read(self.blocksize):
                    outfile.write(chunk)
                    callback.relative_update(len(chunk))
            return
        local = os.fspath(lpath)
        os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)

        def progress(done: int, total: int) -> None:
            callback.set_size(total)
            callback.absolute_update(done)

        self._c.get(p, local, read_type=rt, progress=progress)
