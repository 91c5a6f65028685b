"""The embedded FileSystem: master, block store and persister in this process."""

from __future__ import annotations

import codecs
import io
import os
from typing import IO, Any

from siltfs.client.common import (
    CHUNK,
    Progress,
    check_bool,
    check_interval,
    read_slice,
    save_to_local,
)
from siltfs.client.mutable import MUTABLE_KINDS, open_mutable
from siltfs.client.posix import PosixMethods, creation, encode_value
from siltfs.client.streams import BlockReader, BlockWriter
from siltfs.errors import InvalidArgument, IsADirectory, Unavailable, WrongType
from siltfs.home import HomeLock
from siltfs.master.consistency import ConsistencyReport
from siltfs.master.master import Master
from siltfs.master.queue import JobInfo
from siltfs.model import paths
from siltfs.model.enums import JobState, ReadType, TtlAction, WriteType
from siltfs.model.inode import FileInfo, MountInfo


class EmbeddedFileSystem(PosixMethods):
    """Alluxio's FileSystem API in snake_case.  Paths are absolute namespace paths.

    POSIX metadata methods come from :class:`~siltfs.client.posix.PosixMethods`:
    chmod, chown, utime, symlink, readlink, mknod and the extended attributes
    (def setxattr, getxattr, listxattr, removexattr).
    """

    def __init__(self, master: Master, *, home_lock: HomeLock | None = None) -> None:
        self._master = master
        self.config = master.config
        self._closed = False
        self._home_lock = home_lock  # released by close (siltfs.home)

    @property
    def master(self) -> Master:
        if self._closed:
            raise Unavailable("this file system is closed", path=str(self.config.home))
        return self._master

    def posix_op(self, op: str, path: str, args: dict[str, Any]) -> Any:
        result = self.master.posix(op, path, args)
        return encode_value(result) if isinstance(result, bytes) else result

    # types ----------------------------------------------------------------
    def _wt(self, write_type: WriteType | str | None) -> WriteType:
        return self.config.default_write_type if write_type is None else WriteType.parse(write_type)  # type: ignore[return-value]

    def _rt(self, read_type: ReadType | str | None) -> ReadType:
        return self.config.default_read_type if read_type is None else ReadType.parse(read_type)  # type: ignore[return-value]

    # namespace ------------------------------------------------------------
    def mkdir(
        self,
        path: str,
        *,
        parents: bool = False,
        exist_ok: bool = False,
        write_type: WriteType | str | None = None,
    ) -> None:
        p = paths.validate(path)
        self.master.mkdir(
            p, parents=check_bool(parents, "parents"), exist_ok=check_bool(exist_ok, "exist_ok"),
            write_type=self._wt(write_type),
        )  # fmt: skip

    makedirs = mkdir

    def ls(
        self, path: str = "/", *, recursive: bool = False, sync_interval_ms: int | None = None
    ) -> list[FileInfo]:
        return self.master.ls(
            paths.validate(path), recursive=check_bool(recursive, "recursive"),
            sync_interval_ms=check_interval(sync_interval_ms),
        )  # fmt: skip

    def stat(self, path: str, *, sync_interval_ms: int | None = None) -> FileInfo:
        return self.master.stat(paths.validate(path), check_interval(sync_interval_ms))

    def exists(self, path: str, *, sync_interval_ms: int | None = None) -> bool:
        p = paths.validate(path)
        try:
            return (
                self.master.lookup(p, sync_interval_ms=check_interval(sync_interval_ms)) is not None
            )
        except NotADirectoryError:
            return False

    def rename(self, src: str, dst: str) -> None:
        self.master.rename(
            paths.validate(src, what="source"), paths.validate(dst, what="destination")
        )

    mv = rename

    def delete(
        self,
        path: str,
        *,
        recursive: bool = False,
        unchecked: bool = False,
        namespace_only: bool = False,
    ) -> None:
        """Delete *path*.  *unchecked* also removes UFS entries siltfs never knew;
        *namespace_only* removes the entry from the namespace and leaves the UFS as is."""
        self.master.delete(
            paths.validate(path), recursive=check_bool(recursive, "recursive"),
            unchecked=check_bool(unchecked, "unchecked"),
            namespace_only=check_bool(namespace_only, "namespace_only"),
        )  # fmt: skip

    rm = delete

    def sync_metadata(self, path: str = "/", *, recursive: bool = False) -> None:
        p = paths.validate(path)
        if check_bool(recursive, "recursive"):
            self.master.ls(p, recursive=True, sync_interval_ms=0)
        else:
            self.master.sync_metadata(p)

    # mounts ---------------------------------------------------------------
    def mount(
        self,
        path: str,
        uri: str,
        *,
        options: dict[str, Any] | None = None,
        sync_interval_ms: int | None = None,
        read_only: bool = False,
    ) -> MountInfo:
        if options is not None and not isinstance(options, dict):
            raise WrongType("mount options must be a dict")
        return self.master.mount(
            paths.validate(path), uri, options=options, sync_interval_ms=check_interval(sync_interval_ms),
            read_only=check_bool(read_only, "read_only"),
        )  # fmt: skip

    def unmount(self, path: str) -> None:
        self.master.unmount(paths.validate(path))

    def mounts(self) -> list[MountInfo]:
        return self.master.mounts_list()

    # data -----------------------------------------------------------------
    def open(
        self,
        path: str,
        mode: str = "rb",
        *,
        write_type: WriteType | str | None = None,
        read_type: ReadType | str | None = None,
        block_size: int | None = None,
        sync_interval_ms: int | None = None,
        encoding: str | None = None,
        replicas: int | None = None,
        perm: int | None = None,
        uid: int | None = None,
        gid: int | None = None,
        xattrs: dict[str, bytes] | None = None,
    ) -> IO[Any]:
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
        binary = "b" in mode
        if kind == "r":
            raw: io.RawIOBase = BlockReader(
                self.master, p, self._rt(read_type), check_interval(sync_interval_ms)
            )
            # small buffer: random reads copy little; large reads bypass it entirely
            buffered: IO[Any] = io.BufferedReader(raw, buffer_size=64 * 1024)  # type: ignore[arg-type]
        elif kind in ("w", "x"):
            bs = self.config.cache.block_size if block_size is None else block_size
            if not isinstance(bs, int) or isinstance(bs, bool) or bs <= 0:
                raise InvalidArgument(f"block_size must be a positive int, not {bs!r}", path=p)
            n = self.config.cluster.replicas if replicas is None else replicas
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise InvalidArgument(f"replicas must be a positive int, not {n!r}", path=p)
            made = creation(p, perm, uid, gid, xattrs)
            raw = BlockWriter(self.master, p, self._wt(write_type), kind == "x", bs, n, made)
            buffered = io.BufferedWriter(raw, buffer_size=1024 * 1024)  # type: ignore[arg-type]
        elif kind in MUTABLE_KINDS:
            return open_mutable(self, p, mode, kind, encoding, {
                "write_type": self._wt(write_type), "block_size": block_size,
                "replicas": replicas, "perm": perm, "uid": uid, "gid": gid, "xattrs": xattrs,
            })  # fmt: skip
        else:
            raise InvalidArgument(
                f"unsupported mode {mode!r} (r, w, x, a, r+, w+, x+, a+; binary or text)",
                path=p,
            )
        if binary:
            return buffered
        return io.TextIOWrapper(buffered, encoding=encoding or "utf-8")  # type: ignore[arg-type]

    def write_bytes(
        self, path: str, data: bytes, *, write_type: WriteType | str | None = None,
        xattrs: dict[str, bytes] | None = None,
    ) -> FileInfo:  # fmt: skip
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise WrongType(f"data must be bytes, not {type(data).__name__}", path=str(path))
        f = self.open(path, "wb", write_type=write_type, xattrs=xattrs)
        try:
            f.write(data)
        finally:
            f.close()
        return self.stat(path)

    def read_bytes(
        self, path: str, start: int | None = None, end: int | None = None, *,
        read_type: ReadType | str | None = None,
    ) -> bytes:  # fmt: skip
        return read_slice(lambda: self.open(path, "rb", read_type=read_type), path, start, end)

    cat = read_bytes

    def touch(self, path: str, *, write_type: WriteType | str | None = None) -> FileInfo:
        p = paths.validate(path)
        wt = self._wt(write_type)  # a bad write type is refused even with nothing to write
        if self.master.lookup(p) is not None:
            info = self.stat(p)
            if info.is_dir:
                raise IsADirectory("is a directory", path=p)
            return info
        return self.write_bytes(p, b"", write_type=wt)

    def put(
        self, local_path: str | os.PathLike[str], path: str, *,
        write_type: WriteType | str | None = None, progress: Progress | None = None,
    ) -> FileInfo:  # fmt: skip
        local = os.fspath(local_path)
        if os.path.isdir(local):
            raise IsADirectory("is a local directory; put files one by one", path=local)
        total = os.path.getsize(local)
        done = 0
        with open(local, "rb") as src, self.open(path, "wb", write_type=write_type) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        return self.stat(path)

    def get(
        self, path: str, local_path: str | os.PathLike[str], *,
        read_type: ReadType | str | None = None, progress: Progress | None = None,
    ) -> None:  # fmt: skip
        save_to_local(lambda: self.open(path, "rb", read_type=read_type), local_path, progress)

    # persistence and cache -----------------------------------------------
    def persist(self, path: str) -> int:
        return self.master.persist(paths.validate(path))

    def wait_persisted(self, path: str | None = None, timeout: float | None = None) -> None:
        p = paths.ROOT if path is None else paths.validate(path)
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
            raise InvalidArgument(f"timeout must be a non-negative number, not {timeout!r}", path=p)
        self.master.wait_persisted(p, timeout)

    def free(self, path: str) -> int:
        return self.master.free(paths.validate(path))

    def load(self, path: str, *, progress: Progress | None = None) -> int:
        p = paths.validate(path)
        targets = self.master.files_under(p)
        total = sum(inode.length for _, inode in targets)
        loaded = done = 0
        for file_path, _ in targets:
            reader = BlockReader(self.master, file_path, ReadType.CACHE, None)
            for idx in range(len(reader.inode.block_ids())):
                before = reader.bytes_from_ufs
                data = reader.block(idx)
                loaded += reader.bytes_from_ufs - before
                done += len(data)
                if progress:
                    progress(done, total)
        return loaded

    def set_attribute(
        self, path: str, *, pinned: bool | None = None, ttl: int | None = None,
        ttl_action: TtlAction | str | None = None,
    ) -> FileInfo:  # fmt: skip
        if pinned is not None:
            check_bool(pinned, "pinned")
        action = None if ttl_action is None else TtlAction.parse(ttl_action)
        return self.master.set_attribute(
            paths.validate(path),
            pinned=pinned,
            ttl=ttl,
            ttl_action=action,  # type: ignore[arg-type]
        )

    def du(self, path: str) -> dict[str, Any]:
        p = paths.validate(path)
        root = self.stat(p)
        infos = [root] if not root.is_dir else self.ls(p, recursive=True)
        files = [i for i in infos if not i.is_dir]
        cached = sum(self.master.cached_bytes(i.block_ids) for i in files)
        return {
            "path": p,
            "length": sum(i.length for i in files),
            "cached_bytes": cached,
            "files": len(files),
            "dirs": sum(1 for i in infos if i.is_dir),
        }

    # consistency and the persist queue ------------------------------------
    def check_consistency(
        self, path: str = "/", *, repair: bool = False, remove_ghosts: bool = False
    ) -> ConsistencyReport:
        """Compare namespace and UFS under *path*; with *repair*, fix what is found."""
        return self.master.check_consistency(
            paths.validate(path), repair=check_bool(repair, "repair"),
            remove_ghosts=check_bool(remove_ghosts, "remove_ghosts"),
        )  # fmt: skip

    def jobs(self, state: JobState | str | None = None) -> list[JobInfo]:
        """Persist jobs (PENDING, RUNNING, FAILED), with path, attempts, last error, age."""
        return self.master.list_jobs(None if state is None else JobState.parse(state))  # type: ignore[arg-type]

    def job(self, job_id: int) -> JobInfo:
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            raise WrongType(f"job id must be an int, not {type(job_id).__name__}")
        return self.master.show_job(job_id)

    def retry_job(self, job_id: int | None = None, *, all_failed: bool = False) -> int:
        """Re-run one job (by id) or every FAILED job; returns how many were re-queued."""
        if all_failed:
            return self.master.retry_failed_jobs()
        if job_id is None:
            raise InvalidArgument("give a job id or all_failed=True")
        self.job(job_id)
        self.master.retry_job(job_id)
        return 1

    def cancel_job(self, job_id: int) -> None:
        """Cancel a persist job: the file stays NOT_PERSISTED, its data pinned."""
        self.job(job_id)
        self.master.cancel_job(job_id)

    def metrics_text(self) -> str:
        """Metrics in Prometheus text format (names in README, "Metrics")."""
        return self.master.metrics_text()

    # lifecycle ------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._master.close()  # (and the metastore, and the cache kept warm)
        finally:
            if self._home_lock is not None:
                self._home_lock.release()

    def __enter__(self) -> EmbeddedFileSystem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
