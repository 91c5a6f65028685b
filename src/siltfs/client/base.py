"""The client contract: :class:`FileSystem`, which every siltfs client is.

Each public method is written here, once: it checks its arguments (path grammar, bools,
enums, ranges -- in one order, so both clients refuse bad input with the same error)
and hands the checked values to one *primitive*, a ``_name`` method each client
implements over its own transport (embedded: the master in this process; remote: the
master's HTTP API).  Methods that need no transport of their own (``read_bytes``,
``get``, the aliases, the POSIX metadata methods of
:class:`~siltfs.client.posix.PosixMethods`) are derived from other methods here.

A primitive receives checked values only: paths validated, bools checked, enums parsed
(``None`` meaning "the client's default"), a :class:`~siltfs.model.posix.Creation` for
new files.  ``_write_bytes`` and ``_put`` have a default (through ``_open_writer``) that
a client may replace with a faster one.  ``tests/client/test_parity.py`` holds both
clients to this class: the same public methods, all declared here, and every primitive
with the signature declared here.
"""

from __future__ import annotations

import codecs
import io
import os
from abc import abstractmethod
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, Self

from siltfs.client.common import (
    CHUNK,
    PieceReader,
    Progress,
    check_bool,
    check_interval,
    read_slice,
    save_to_local,
)
from siltfs.client.mutable import MUTABLE_KINDS, open_mutable
from siltfs.client.posix import PosixMethods, creation
from siltfs.client.versions import Change
from siltfs.errors import InvalidArgument, IsADirectory, WrongType
from siltfs.model import paths
from siltfs.model import posix as px
from siltfs.model.enums import JobState, ReadType, TtlAction, WriteType
from siltfs.model.inode import FileInfo, MountInfo

if TYPE_CHECKING:
    from siltfs.model.consistency import ConsistencyReport
    from siltfs.model.jobs import JobInfo

__all__ = ["FileSystem", "local_chunks"]

READ_BUFFER = 64 * 1024  # small: random reads copy little; large reads bypass it entirely
WRITE_BUFFER = 1024 * 1024
MAX_INODE_ID = 2**53 - 1  # what the HTTP API takes (and a JSON number holds exactly)


class FileSystem(PosixMethods):
    """Alluxio's FileSystem API in snake_case.  Paths are absolute namespace paths.

    POSIX metadata methods come from :class:`~siltfs.client.posix.PosixMethods`:
    chmod, chown, utime, symlink, readlink, mknod, truncate and the extended attributes
    (setxattr, getxattr, listxattr, removexattr).
    """

    # namespace ------------------------------------------------------------
    def mkdir(
        self, path: str, *, parents: bool = False, exist_ok: bool = False,
        write_type: WriteType | str | None = None,
    ) -> None:  # fmt: skip
        p = paths.validate(path)
        self._mkdir(
            p, check_bool(parents, "parents"), check_bool(exist_ok, "exist_ok"),
            _write_type(write_type),
        )  # fmt: skip

    makedirs = mkdir

    def ls(
        self, path: str = "/", *, recursive: bool = False, sync_interval_ms: int | None = None
    ) -> list[FileInfo]:
        return self._ls(
            paths.validate(path), check_bool(recursive, "recursive"),
            check_interval(sync_interval_ms),
        )  # fmt: skip

    def stat(self, path: str, *, sync_interval_ms: int | None = None) -> FileInfo:
        return self._stat(paths.validate(path), check_interval(sync_interval_ms))

    def exists(self, path: str, *, sync_interval_ms: int | None = None) -> bool:
        return self._exists(paths.validate(path), check_interval(sync_interval_ms))

    def path_of_inode(self, inode_id: int) -> str | None:
        """The current path of the entry whose ``FileInfo.id`` is *inode_id* (it follows
        renames), or None once it is deleted or replaced by a newer version."""
        if not isinstance(inode_id, int) or isinstance(inode_id, bool):
            raise WrongType(f"inode id must be an int, not {type(inode_id).__name__}")
        if not 0 <= inode_id <= MAX_INODE_ID:
            raise InvalidArgument(f"inode id must be in 0..{MAX_INODE_ID}, not {inode_id}")
        return self._path_of_inode(inode_id)

    def rename(self, src: str, dst: str) -> None:
        self._rename(paths.validate(src, what="source"), paths.validate(dst, what="destination"))

    mv = rename

    def delete(
        self, path: str, *, recursive: bool = False, unchecked: bool = False,
        namespace_only: bool = False,
    ) -> None:  # fmt: skip
        """Delete *path*.  *unchecked* also removes UFS entries siltfs never knew;
        *namespace_only* removes the entry from the namespace and leaves the UFS as is."""
        self._delete(
            paths.validate(path), check_bool(recursive, "recursive"),
            check_bool(unchecked, "unchecked"), check_bool(namespace_only, "namespace_only"),
        )  # fmt: skip

    rm = delete

    def sync_metadata(self, path: str = "/", *, recursive: bool = False) -> None:
        """Compare *path* (and with *recursive* everything below it) with the UFS now."""
        p = paths.validate(path)
        self._sync_metadata(p, check_bool(recursive, "recursive"))

    # mounts ---------------------------------------------------------------
    def mount(
        self, path: str, uri: str, *, options: dict[str, Any] | None = None,
        sync_interval_ms: int | None = None, read_only: bool = False,
    ) -> MountInfo:  # fmt: skip
        if options is not None and not isinstance(options, dict):
            raise WrongType("mount options must be a dict")
        return self._mount(
            paths.validate(path), uri, options, check_interval(sync_interval_ms),
            check_bool(read_only, "read_only"),
        )  # fmt: skip

    def unmount(self, path: str) -> None:
        self._unmount(paths.validate(path))

    @abstractmethod
    def mounts(self) -> list[MountInfo]: ...

    # data -----------------------------------------------------------------
    def open(
        self, path: str, mode: str = "rb", *, write_type: WriteType | str | None = None,
        read_type: ReadType | str | None = None, block_size: int | None = None,
        sync_interval_ms: int | None = None, encoding: str | None = None,
        replicas: int | None = None, perm: int | None = None, uid: int | None = None,
        gid: int | None = None, xattrs: dict[str, bytes] | None = None,
    ) -> IO[Any]:  # fmt: skip
        """``replicas``: copies of each block of an unpersisted write (MUST_CACHE,
        ASYNC_THROUGH) on distinct workers (default ``config.cluster.replicas``).
        ``perm``, ``uid``, ``gid``: of a new file (default ``0o666`` less the umask, this
        process's uid and gid; an overwrite keeps the old ones); ``xattrs``: replace the
        file's extended attributes when it is committed."""
        p = paths.validate(path)
        if not isinstance(mode, str):
            raise WrongType(f"mode must be a str, not {type(mode).__name__}", path=p)
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except (LookupError, TypeError) as exc:
                raise InvalidArgument(f"unknown encoding {encoding!r}", path=p) from exc
        kind = mode.replace("b", "").replace("t", "")
        buffered: IO[Any]
        if kind == "r":
            raw = self._open_reader(p, _read_type(read_type), check_interval(sync_interval_ms))
            buffered = io.BufferedReader(raw, buffer_size=READ_BUFFER)  # type: ignore[arg-type]
        elif kind in ("w", "x"):
            _check_positive(block_size, "block_size", p)
            _check_positive(replicas, "replicas", p)
            made = creation(p, perm, uid, gid, xattrs)
            wt = _write_type(write_type)
            buffered = self._writer(p, wt, kind == "x", block_size, replicas, made)
        elif kind in MUTABLE_KINDS:
            return open_mutable(self, p, mode, kind, encoding, {
                "write_type": _write_type(write_type), "block_size": block_size,
                "replicas": replicas, "perm": perm, "uid": uid, "gid": gid, "xattrs": xattrs,
            })  # fmt: skip
        else:
            raise InvalidArgument(
                f"unsupported mode {mode!r} (r, w, x, a, r+, w+, x+, a+; binary or text)",
                path=p,
            )
        if "b" in mode:
            return buffered
        return io.TextIOWrapper(buffered, encoding=encoding or "utf-8")  # type: ignore[arg-type]

    def _writer(
        self, p: str, write_type: WriteType | None, exclusive: bool, block_size: int | None,
        replicas: int | None, made: px.Creation,
    ) -> IO[bytes]:  # fmt: skip
        raw = self._open_writer(p, write_type, exclusive, block_size, replicas, made)
        return io.BufferedWriter(raw, buffer_size=WRITE_BUFFER)  # type: ignore[arg-type]

    def write_bytes(
        self, path: str, data: bytes, *, write_type: WriteType | str | None = None,
        xattrs: dict[str, bytes] | None = None,
    ) -> FileInfo:  # fmt: skip
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise WrongType(f"data must be bytes, not {type(data).__name__}", path=str(path))
        p = paths.validate(path)
        made = creation(p, None, None, None, xattrs)
        return self._write_bytes(p, data, _write_type(write_type), made)

    def read_bytes(
        self, path: str, start: int | None = None, end: int | None = None, *,
        read_type: ReadType | str | None = None,
    ) -> bytes:  # fmt: skip
        """Bytes [start, end) of the file; negative bounds count from the end."""
        return read_slice(lambda: self.open(path, "rb", read_type=read_type), path, start, end)

    cat = read_bytes

    def touch(self, path: str, *, write_type: WriteType | str | None = None) -> FileInfo:
        """An empty file at *path*, unless a file is there already (left as it is)."""
        p = paths.validate(path)
        return self._touch(p, _write_type(write_type))

    def put(
        self, local_path: str | os.PathLike[str], path: str, *,
        write_type: WriteType | str | None = None, progress: Progress | None = None,
    ) -> FileInfo:  # fmt: skip
        """Copy the local file *local_path* to *path*; *progress(done, total)* after each
        chunk."""
        local = os.fspath(local_path)
        if os.path.isdir(local):
            raise IsADirectory("is a local directory; put files one by one", path=local)
        total = os.path.getsize(local)
        p = paths.validate(path)
        return self._put(local, total, p, _write_type(write_type), progress)

    def get(
        self, path: str, local_path: str | os.PathLike[str], *,
        read_type: ReadType | str | None = None, progress: Progress | None = None,
    ) -> None:  # fmt: skip
        """Copy *path* to the local file *local_path*, replaced only when complete."""
        save_to_local(lambda: self.open(path, "rb", read_type=read_type), local_path, progress)

    # persistence and cache --------------------------------------------------
    def persist(self, path: str) -> int:
        """Schedule persist jobs for *path* (and below); how many were scheduled."""
        return self._persist(paths.validate(path))

    def wait_persisted(self, path: str | None = None, timeout: float | None = None) -> None:
        """Return once everything under *path* (default: all) is persisted, or raise
        when *timeout* seconds pass first."""
        p = paths.ROOT if path is None else paths.validate(path)
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
            raise InvalidArgument(f"timeout must be a non-negative number, not {timeout!r}", path=p)
        self._wait_persisted(p, timeout)

    def free(self, path: str) -> int:
        """Drop the cached blocks of persisted files under *path*; bytes freed."""
        return self._free(paths.validate(path))

    def load(self, path: str, *, progress: Progress | None = None) -> int:
        """Read everything under *path* into the cache; bytes read from the UFS."""
        return self._load(paths.validate(path), progress)

    def set_attribute(
        self, path: str, *, pinned: bool | None = None, ttl: int | None = None,
        ttl_action: TtlAction | str | None = None,
    ) -> FileInfo:  # fmt: skip
        if pinned is not None:
            check_bool(pinned, "pinned")
        action = None if ttl_action is None else TtlAction.parse(ttl_action)
        return self._set_attribute(paths.validate(path), pinned, ttl, action)  # type: ignore[arg-type]

    def du(self, path: str) -> dict[str, Any]:
        """Length, cached bytes, files and directories under *path*."""
        return self._du(paths.validate(path))

    # consistency and the persist queue ------------------------------------
    def check_consistency(
        self, path: str = "/", *, repair: bool = False, remove_ghosts: bool = False
    ) -> ConsistencyReport:
        """Compare namespace and UFS under *path*; with *repair*, fix what is found."""
        return self._check_consistency(
            paths.validate(path), check_bool(repair, "repair"),
            check_bool(remove_ghosts, "remove_ghosts"),
        )  # fmt: skip

    def jobs(self, state: JobState | str | None = None) -> list[JobInfo]:
        """Persist jobs (PENDING, RUNNING, FAILED), with path, attempts, last error, age."""
        return self._jobs(None if state is None else JobState.parse(state))  # type: ignore[arg-type]

    def job(self, job_id: int) -> JobInfo:
        return self._job(_job_id(job_id))

    def retry_job(self, job_id: int | None = None, *, all_failed: bool = False) -> int:
        """Re-run one job (by id) or every FAILED job; returns how many were re-queued."""
        if all_failed:
            return self._retry_failed()
        if job_id is None:
            raise InvalidArgument("give a job id or all_failed=True")
        return self._retry_job(_job_id(job_id))

    def cancel_job(self, job_id: int) -> None:
        """Cancel a persist job: the file stays NOT_PERSISTED, its data pinned."""
        self._cancel_job(_job_id(job_id))

    @abstractmethod
    def metrics_text(self) -> str:
        """Metrics in Prometheus text format (names in README, "Metrics")."""

    # lifecycle ------------------------------------------------------------
    @abstractmethod
    def close(self) -> None:
        """Release what the client holds; every later call fails with Unavailable."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # primitives: checked arguments in, one operation of the client's transport ----
    @abstractmethod
    def _mkdir(
        self, p: str, parents: bool, exist_ok: bool, write_type: WriteType | None
    ) -> None: ...

    @abstractmethod
    def _ls(self, p: str, recursive: bool, sync_interval_ms: int | None) -> list[FileInfo]: ...

    @abstractmethod
    def _stat(self, p: str, sync_interval_ms: int | None) -> FileInfo: ...

    @abstractmethod
    def _exists(self, p: str, sync_interval_ms: int | None) -> bool: ...

    @abstractmethod
    def _rename(self, src: str, dst: str) -> None: ...

    @abstractmethod
    def _delete(self, p: str, recursive: bool, unchecked: bool, namespace_only: bool) -> None: ...

    @abstractmethod
    def _sync_metadata(self, p: str, recursive: bool) -> None: ...

    @abstractmethod
    def _mount(
        self, p: str, uri: str, options: dict[str, Any] | None, sync_interval_ms: int | None,
        read_only: bool,
    ) -> MountInfo: ...  # fmt: skip

    @abstractmethod
    def _unmount(self, p: str) -> None: ...

    @abstractmethod
    def _open_reader(
        self, p: str, read_type: ReadType | None, sync_interval_ms: int | None
    ) -> PieceReader:
        """A seekable raw reader of the current version of *p*."""

    @abstractmethod
    def _open_writer(
        self, p: str, write_type: WriteType | None, exclusive: bool, block_size: int | None,
        replicas: int | None, made: px.Creation,
    ) -> io.RawIOBase:  # fmt: skip
        """A raw writer of the next version of *p*: committed by close, dropped by
        ``abort``; fails at once when *p* cannot be written (a directory, *exclusive*
        and taken)."""

    @abstractmethod
    def _commit_change(
        self, p: str, change: Change, write_type: WriteType | None, replicas: int | None,
        made: px.Creation,
    ) -> None:  # fmt: skip
        """Commit *change* as the next version of *p* (client.versions): copy-on-write
        where the write type caches first; StaleVersion if a block it keeps is gone."""

    def _write_bytes(
        self, p: str, data: bytes, write_type: WriteType | None, made: px.Creation
    ) -> FileInfo:
        f = self._writer(p, write_type, False, None, None, made)
        try:
            f.write(data)
        finally:
            f.close()
        return self.stat(p)

    @abstractmethod
    def _touch(self, p: str, write_type: WriteType | None) -> FileInfo: ...

    def _put(
        self, local: str, total: int, p: str, write_type: WriteType | None,
        progress: Progress | None,
    ) -> FileInfo:  # fmt: skip
        made = creation(p, None, None, None, None)
        with open(local, "rb") as src, self._writer(p, write_type, False, None, None, made) as dst:
            for chunk in local_chunks(src, total, progress):
                dst.write(chunk)
        return self.stat(p)

    @abstractmethod
    def _persist(self, p: str) -> int: ...

    @abstractmethod
    def _wait_persisted(self, p: str, timeout: float | None) -> None: ...

    @abstractmethod
    def _free(self, p: str) -> int: ...

    @abstractmethod
    def _load(self, p: str, progress: Progress | None) -> int: ...

    @abstractmethod
    def _set_attribute(
        self, p: str, pinned: bool | None, ttl: int | None, ttl_action: TtlAction | None
    ) -> FileInfo: ...

    @abstractmethod
    def _du(self, p: str) -> dict[str, Any]: ...

    @abstractmethod
    def _check_consistency(
        self, p: str, repair: bool, remove_ghosts: bool
    ) -> ConsistencyReport: ...

    @abstractmethod
    def _jobs(self, state: JobState | None) -> list[JobInfo]: ...

    @abstractmethod
    def _job(self, job_id: int) -> JobInfo: ...

    @abstractmethod
    def _path_of_inode(self, inode_id: int) -> str | None: ...

    @abstractmethod
    def _retry_job(self, job_id: int) -> int: ...

    @abstractmethod
    def _retry_failed(self) -> int: ...

    @abstractmethod
    def _cancel_job(self, job_id: int) -> None: ...


def local_chunks(src: IO[bytes], total: int, progress: Progress | None) -> Iterator[bytes]:
    """The rest of the open local file *src* in chunks; *progress(done, total)* once
    each has been used."""
    done = 0
    while chunk := src.read(CHUNK):
        yield chunk
        done += len(chunk)
        if progress:
            progress(done, total)


def _write_type(value: WriteType | str | None) -> WriteType | None:
    return None if value is None else WriteType.parse(value)  # type: ignore[return-value]


def _read_type(value: ReadType | str | None) -> ReadType | None:
    return None if value is None else ReadType.parse(value)  # type: ignore[return-value]


def _check_positive(value: int | None, name: str, path: str) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise InvalidArgument(f"{name} must be a positive int, not {value!r}", path=path)


def _job_id(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise WrongType(f"job id must be an int, not {type(value).__name__}")
    return value
