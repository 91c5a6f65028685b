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

import atexit
import datetime
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsspec.callbacks import DEFAULT_CALLBACK
from fsspec.implementations.local import trailing_sep
from fsspec.spec import AbstractFileSystem
from fsspec.utils import isfilelike, other_paths, stringify_path, tokenize

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


# -- one embedded client per home in this process ---------------------------------


@dataclass
class _Shared:
    client: EmbeddedFileSystem
    config: SiltConfig
    ufs: str | None
    ufs_options: dict[str, Any] | None
    refs: int = 0


_registry: dict[Path, _Shared] = {}
_registry_lock = threading.RLock()


def _effective_config(home: str | os.PathLike[str] | None, config: SiltConfig | None) -> SiltConfig:
    if config is not None and not isinstance(config, SiltConfig):
        raise WrongType(f"config must be a SiltConfig, not {type(config).__name__}")
    cfg = config or SiltConfig()
    if home is not None:
        if not isinstance(home, (str, os.PathLike)):
            raise WrongType(f"home must be a path, not {type(home).__name__}")
        cfg = cfg.with_home(home)
    return cfg.with_home(Path(cfg.home).expanduser().resolve())


def _acquire(
    home: str | os.PathLike[str] | None,
    ufs: str | None,
    ufs_options: dict[str, Any] | None,
    config: SiltConfig | None,
) -> tuple[Path, EmbeddedFileSystem]:
    import siltfs

    cfg = _effective_config(home, config)
    key = cfg.home
    with _registry_lock:
        shared = _registry.get(key)
        if shared is None:
            client = siltfs.open_embedded(key, ufs=ufs, ufs_options=ufs_options, config=cfg)
            shared = _registry[key] = _Shared(client, cfg, ufs, ufs_options)
        elif (shared.config, shared.ufs, shared.ufs_options) != (cfg, ufs, ufs_options):
            raise InvalidArgument(
                "this home is already open in this process with a different ufs, "
                "ufs_options or config; close that SiltFileSystem first or pass fs=",
                path=str(key),
            )
        shared.refs += 1
        return key, shared.client


def _served(
    home: str | os.PathLike[str] | None, config: SiltConfig | None, token: str | None
) -> tuple[str | None, str | None]:
    """The master to use instead of opening *home*: ``$SILT_MASTER`` when no home is
    given, else the master serving the home (``siltfs.home``); ``(None, token)`` if none."""
    import siltfs

    if home is None and config is None and os.environ.get("SILT_MASTER"):
        return os.environ["SILT_MASTER"], token
    served = siltfs.serving_master(home, config)
    if served is None:
        return None, token
    return served[0], token if token is not None else served[1]


def _release(key: Path, client: EmbeddedFileSystem) -> None:
    with _registry_lock:
        shared = _registry.get(key)
        if shared is None or shared.client is not client:
            return
        shared.refs -= 1
        if shared.refs > 0:
            return
        del _registry[key]
    client.close()


@atexit.register
def _close_all() -> None:
    """Shut embedded clients down cleanly at exit (users of pandas rarely close)."""
    with _registry_lock:
        clients = [s.client for s in _registry.values()]
        _registry.clear()
    for client in clients:
        try:
            client.close()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


def _forget_after_fork() -> None:
    # the child must not use (or close) the parent's metastore connection and threads
    _registry.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


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
        fs: EmbeddedFileSystem | RemoteFileSystem | None = None,
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
        self.client: EmbeddedFileSystem | RemoteFileSystem
        embedded_opts = (home, ufs, ufs_options, config)
        served = False
        if master is None and fs is None and ufs is None and ufs_options is None:
            master, token = _served(home, config, token)
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
            if not isinstance(fs, (EmbeddedFileSystem, RemoteFileSystem)):
                raise WrongType(f"fs must be a siltfs FileSystem, not {type(fs).__name__}")
            self.client = fs
        else:
            self._key, self.client = _acquire(home, ufs, ufs_options, config)
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
            _release(self._key, self.client)
        elif self._owns_remote:
            self.client.close()

    def __enter__(self) -> SiltFileSystem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _c(self) -> EmbeddedFileSystem | RemoteFileSystem:
        if self._closed:
            raise Unavailable("this SiltFileSystem is closed")
        return self.client

    @property
    def fsid(self) -> str:
        if isinstance(self.client, RemoteFileSystem):
            return f"{PROTOCOL}:{self.client.url}"
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
        p = self._strip_protocol(path)
        client = self._c
        if not isinstance(client, EmbeddedFileSystem):
            raise NotImplementedError("creation times are not served by the remote API")
        inode = client.master.lookup(p)
        if inode is None:
            raise FileNotFound("no such file or directory", path=p)
        return datetime.datetime.fromtimestamp(inode.created_ms / 1000, tz=datetime.UTC)

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
        with open(lpath, "rb") as fin, self.open(
            rpath, "xb" if mode == "create" else "wb", **kwargs
        ) as fout:  # fmt: skip
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
