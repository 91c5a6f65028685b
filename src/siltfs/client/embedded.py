"""The embedded FileSystem: master, block store and persister in this process."""

from __future__ import annotations

import io
from typing import Any

from siltfs.client.base import FileSystem
from siltfs.client.changes import change_writer
from siltfs.client.common import PieceReader, Progress, check_interval
from siltfs.client.posix import encode_value
from siltfs.client.streams import BlockReader, BlockWriter
from siltfs.client.versions import Change
from siltfs.errors import IsADirectory, Unavailable
from siltfs.home import HomeLock
from siltfs.master.master import Master
from siltfs.model import posix as px
from siltfs.model.consistency import ConsistencyReport
from siltfs.model.enums import JobState, ReadType, TtlAction, WriteType
from siltfs.model.inode import FileInfo, MountInfo
from siltfs.model.jobs import JobInfo

__all__ = ["EmbeddedFileSystem"]


class EmbeddedFileSystem(FileSystem):
    """The :class:`~siltfs.client.base.FileSystem` of a master in this process (its
    primitives call the master; ``master`` is that master, for servers and tests)."""

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
    def _wt(self, write_type: WriteType | None) -> WriteType:
        return self.config.default_write_type if write_type is None else write_type

    def _rt(self, read_type: ReadType | None) -> ReadType:
        return self.config.default_read_type if read_type is None else read_type

    # namespace ------------------------------------------------------------
    def _mkdir(self, p: str, parents: bool, exist_ok: bool, write_type: WriteType | None) -> None:
        self.master.mkdir(p, parents=parents, exist_ok=exist_ok, write_type=self._wt(write_type))

    def _ls(self, p: str, recursive: bool, sync_interval_ms: int | None) -> list[FileInfo]:
        return self.master.ls(p, recursive=recursive, sync_interval_ms=sync_interval_ms)

    def _stat(self, p: str, sync_interval_ms: int | None) -> FileInfo:
        return self.master.stat(p, sync_interval_ms)

    def _exists(self, p: str, sync_interval_ms: int | None) -> bool:
        try:
            return (
                self.master.lookup(p, sync_interval_ms=check_interval(sync_interval_ms)) is not None
            )
        except NotADirectoryError:
            return False

    def _rename(self, src: str, dst: str) -> None:
        self.master.rename(src, dst)

    def _delete(self, p: str, recursive: bool, unchecked: bool, namespace_only: bool) -> None:
        self.master.delete(
            p, recursive=recursive, unchecked=unchecked, namespace_only=namespace_only
        )

    def _sync_metadata(self, p: str, recursive: bool) -> None:
        if recursive:
            self.master.ls(p, recursive=True, sync_interval_ms=0)
        else:
            self.master.sync_metadata(p)

    # mounts ---------------------------------------------------------------
    def _mount(
        self,
        p: str,
        uri: str,
        options: dict[str, Any] | None,
        sync_interval_ms: int | None,
        read_only: bool,
    ) -> MountInfo:
        return self.master.mount(
            p, uri, options=options, sync_interval_ms=sync_interval_ms, read_only=read_only
        )

    def _unmount(self, p: str) -> None:
        self.master.unmount(p)

    def mounts(self) -> list[MountInfo]:
        return self.master.mounts_list()

    # data -----------------------------------------------------------------
    def _open_reader(
        self, p: str, read_type: ReadType | None, sync_interval_ms: int | None
    ) -> PieceReader:
        return BlockReader(self.master, p, self._rt(read_type), sync_interval_ms)

    def _commit_change(
        self, p: str, change: Change, write_type: WriteType | None, replicas: int | None,
        made: px.Creation,
    ) -> None:  # fmt: skip
        writer = change_writer(self.master, p, change, write_type, replicas, made)
        try:
            for index, data in zip(change.indices, change.blocks(), strict=True):
                writer.put(index, data)
            writer.commit()
        except BaseException:
            writer.abort()
            raise

    def _open_writer(
        self,
        p: str,
        write_type: WriteType | None,
        exclusive: bool,
        block_size: int | None,
        replicas: int | None,
        made: px.Creation,
    ) -> io.RawIOBase:
        bs = self.config.cache.block_size if block_size is None else block_size
        n = self.config.cluster.replicas if replicas is None else replicas
        return BlockWriter(self.master, p, self._wt(write_type), exclusive, bs, n, made)

    def _touch(self, p: str, write_type: WriteType | None) -> FileInfo:
        if self.master.lookup(p) is not None:
            info = self.stat(p)
            if info.is_dir:
                raise IsADirectory("is a directory", path=p)
            return info
        return self.write_bytes(p, b"", write_type=write_type)

    # persistence and cache -----------------------------------------------
    def _persist(self, p: str) -> int:
        return self.master.persist(p)

    def _wait_persisted(self, p: str, timeout: float | None) -> None:
        self.master.wait_persisted(p, timeout)

    def _free(self, p: str) -> int:
        return self.master.free(p)

    def _load(self, p: str, progress: Progress | None) -> int:
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

    def _set_attribute(
        self, p: str, pinned: bool | None, ttl: int | None, ttl_action: TtlAction | None
    ) -> FileInfo:
        return self.master.set_attribute(p, pinned=pinned, ttl=ttl, ttl_action=ttl_action)

    def _du(self, p: str) -> dict[str, Any]:
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
    def _check_consistency(self, p: str, repair: bool, remove_ghosts: bool) -> ConsistencyReport:
        return self.master.check_consistency(p, repair=repair, remove_ghosts=remove_ghosts)

    def _jobs(self, state: JobState | None) -> list[JobInfo]:
        return self.master.list_jobs(None if state is None else JobState.parse(state))  # type: ignore[arg-type]

    def _job(self, job_id: int) -> JobInfo:
        return self.master.show_job(job_id)

    def _path_of_inode(self, inode_id: int) -> str | None:
        return self.master.path_of_inode(inode_id)

    def _retry_failed(self) -> int:
        return self.master.retry_failed_jobs()

    def _retry_job(self, job_id: int) -> int:
        self._job(job_id)
        self.master.retry_job(job_id)
        return 1

    def _cancel_job(self, job_id: int) -> None:
        self._job(job_id)
        self.master.cancel_job(job_id)

    def metrics_text(self) -> str:
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
