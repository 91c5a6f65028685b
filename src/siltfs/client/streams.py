"""File objects: a block writer (per write type) and a block reader (per read type)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, BinaryIO

from siltfs.client.common import PieceReader
from siltfs.client.versions import Version
from siltfs.errors import (
    BlockCorrupted,
    FileLost,
    FileNotFound,
    ResourceExhausted,
    SiltError,
    UfsError,
)
from siltfs.model.enums import PersistenceState, ReadType, WriteType
from siltfs.model.inode import Inode, block_id, content_digest
from siltfs.model.posix import Creation
from siltfs.persist.identity import ProcessId
from siltfs.persist.outbox import NewFile
from siltfs.persist.staging import WRITE, StagingName, open_staging

if TYPE_CHECKING:
    from siltfs.master.master import Master

__all__ = ["BlockReader", "BlockWriter"]


class BlockWriter(io.RawIOBase):
    """Writes a new file block by block; the file appears only when close() succeeds."""

    def __init__(
        self,
        master: Master,
        path: str,
        write_type: WriteType,
        exclusive: bool,
        block_size: int,
        replicas: int = 1,
        creation: Creation | None = None,
    ) -> None:
        super().__init__()
        master.check_write(path, exclusive)
        self.creation = creation
        self.replicas = replicas
        self.master = master
        self.path = path
        self.write_type = write_type
        self.exclusive = exclusive
        self.block_size = block_size
        self.inode_id = master.new_inode_id()
        self._buf = bytearray()
        self._index = 0
        self._length = 0
        self._hash = content_digest()
        self._written: list[int] = []
        self._ufs_file: BinaryIO | None = None
        self._staging: str | None = None
        self._token = ProcessId.current().token()  # a dead writer's object is swept at once
        self._done = False
        if write_type.persists_sync:
            ufs = master.writable_ufs(path)
            staging_dir = master.config.persist.staging_dir
            self._ufs = ufs
            self._staging = StagingName(WRITE, self.inode_id, 1, self._token).rel(staging_dir)
            master.staging_begin(self._token)
            try:
                self._ufs_file = open_staging(ufs, staging_dir, self._staging)
            except BaseException:
                self._done = True  # nothing to commit when the finalizer closes us
                master.staging_end(self._token)
                raise

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed file")
        view = memoryview(data).cast("B")
        size = len(view)
        bs = self.block_size
        try:
            self._length += size
            if self._buf:  # fill the partial block first
                take = min(size, bs - len(self._buf))
                self._buf += view[:take]
                view = view[take:]
                if len(self._buf) == bs:
                    full, self._buf = self._buf, bytearray()
                    self._flush_block(memoryview(full))
            while len(view) >= bs:  # whole blocks straight from the caller's buffer
                self._flush_block(view[:bs])
                view = view[bs:]
            if view:
                self._buf += view
        except BaseException:
            self._abort()
            raise
        return size

    def _flush_block(self, data: bytes | memoryview) -> None:
        bid = block_id(self.inode_id, self._index)
        wt = self.write_type
        if wt in (WriteType.MUST_CACHE, WriteType.ASYNC_THROUGH):
            self.master.pin_blocks([bid])
            self._written.append(bid)
            self.master.put_block(
                bid, data, durable=wt is WriteType.ASYNC_THROUGH, ssd=True, replicas=self.replicas
            )
        elif wt is WriteType.CACHE_THROUGH:
            self._written.append(bid)
            try:
                self.master.put_block(bid, data)
            except ResourceExhausted:
                pass  # the UFS copy is authoritative; the block is simply not cached
        if self._ufs_file is not None:
            self._ufs_file.write(data)
        self._hash.update(data)
        self._index += 1

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._done:
                self._finish()
        finally:
            super().close()

    def _finish(self) -> None:
        try:
            if self._buf:
                self._flush_block(bytes(self._buf))
                self._buf.clear()
            if self._ufs_file is not None:
                self._ufs_file.close()
                self._ufs_file = None
            self.info = self.master.complete_write(
                NewFile(
                    path=self.path,
                    inode_id=self.inode_id,
                    length=self._length,
                    block_size=self.block_size,
                    write_type=self.write_type,
                    exclusive=self.exclusive,
                    staging_rel=self._staging,
                    content_hash=self._hash.hexdigest(),
                    creation=self.creation,
                )
            )
            self._done = True
        except BaseException:
            self._abort()
            raise
        finally:
            self.master.staging_end(self._token)

    def abort(self) -> None:
        """Drop this unfinished write: nothing of it is committed."""
        self._abort()

    def _abort(self) -> None:
        """Nothing of a failed write stays behind: blocks and staged object removed."""
        if self._done:
            return
        self._done = True
        self.master.remove_blocks(self._written)
        if self._ufs_file is not None:
            try:
                self._ufs_file.close()
            except Exception:  # noqa: BLE001 - already failing
                pass
            self._ufs_file = None
        if self._staging is not None:
            try:
                self._ufs.delete(self._staging)
            except SiltError:
                pass
            self.master.tidy_staging(self._ufs)
        self.master.staging_end(self._token)
        super().close()


SMALL_READ = 1024 * 1024  # below this, a read of an uncached block reads just its range


class BlockReader(PieceReader):
    """Reads a file from the cache where blocks are cached and from the UFS elsewhere.

    A cached block that fails its checksums (dropped by the store that held it) is read
    from the UFS and cached again when the file is persisted -- the reader does not
    notice; an unpersisted file has lost it: it becomes LOST and the read raises
    :class:`~siltfs.errors.BlockCorrupted`."""

    _hold: int | None = None

    def __init__(
        self, master: Master, path: str, read_type: ReadType, sync_interval_ms: int | None
    ):
        super().__init__()
        res = master.resolve(path, sync_interval_ms)
        if res.inode.is_dir:
            from siltfs.errors import IsADirectory

            raise IsADirectory("is a directory", path=path)
        if res.inode.state is PersistenceState.LOST:
            raise FileLost("cached data lost before it was persisted", path=path)
        self.master = master
        self.path = path
        self.inode: Inode = res.inode
        self._ids = res.inode.block_ids()  # this version's (copy-on-write: some shared)
        # its cached blocks stay while this reader is open, even if it is replaced
        self._hold = master.hold_blocks(self._ids) if self._ids else None
        self.read_type = read_type
        self._ufs = res.ufs
        self._rel = res.rel
        self._pos = 0
        self._cur: tuple[int, bytes] | None = None
        self.bytes_from_ufs = 0

    @property
    def size(self) -> int:
        return self.inode.length

    def version(self) -> Version:
        i = self.inode
        return Version(i.id, i.length, i.block_size, tuple(self._ids))

    def close(self) -> None:
        if self._hold is not None:
            self.master.release_blocks(self._hold)
            self._hold = None
        super().close()

    def _total(self) -> int:
        return self.inode.length

    def _piece_size(self) -> int:
        return self.inode.block_size

    def _piece(self, idx: int) -> bytes:
        return self.block(idx)

    def _piece_into(self, idx: int, offset: int, out: memoryview) -> int:
        """A small read of a block not held here is read from the cache in range, its
        checksums checked for that range only; anything else goes through :meth:`block`."""
        held = self._cur is not None and self._cur[0] == idx
        if not held and len(out) < SMALL_READ and self.read_type is not ReadType.CACHE_PROMOTE:
            try:
                part = self.master.read_block_range(
                    self._ids[idx],
                    offset,
                    len(out),
                    wait=self.inode.state is not PersistenceState.PERSISTED,
                )
            except BlockCorrupted as exc:
                self._corrupt(idx, exc)  # (raises unless the UFS has the file)
                part = None  # dropped: block() re-reads it from the UFS
            if part:
                out[: len(part)] = part
                return len(part)
        return super()._piece_into(idx, offset, out)

    def block(self, idx: int) -> bytes:
        if self._cur is not None and self._cur[0] == idx:
            return self._cur[1]
        bid = self._ids[idx]
        try:
            data = self.master.get_block(
                bid,
                promote=self.read_type is ReadType.CACHE_PROMOTE,
                wait=self.inode.state is not PersistenceState.PERSISTED,
            )
        except BlockCorrupted as exc:
            self._corrupt(idx, exc)
            data = None  # re-read from the UFS and cached again below
        if data is None:
            data = self._from_ufs(idx)
            if self.read_type is not ReadType.NO_CACHE:
                try:
                    self.master.put_block(bid, data)
                except ResourceExhausted:
                    pass
        self._cur = (idx, data)
        return data

    def _corrupt(self, idx: int, exc: BlockCorrupted) -> None:
        """A cached block failed its checksums (and was dropped): the data is lost
        unless the file is persisted (then the caller re-reads it from the UFS)."""
        if self.inode.state is not PersistenceState.PERSISTED:
            self.master.mark_lost(f"{exc}; it was the only copy")
            raise BlockCorrupted(
                f"cached block {idx} is corrupt ({exc}); the file is not persisted, "
                "so that data is lost",
                path=self.path,
            ) from exc

    def _from_ufs(self, idx: int) -> bytes:
        if self.inode.state is not PersistenceState.PERSISTED:
            self._check_version()
            raise FileLost(
                f"block {idx} is not cached and the file is not persisted ({self.inode.state.value})",
                path=self.path,
            )
        bs = self.inode.block_size
        start = idx * bs
        end = min(self.inode.length, start + bs)
        try:
            data = self._ufs.read_range(self._rel, start, end)
        except FileNotFound:
            self._relocate()
            data = self._ufs.read_range(self._rel, start, end)
        if len(data) != end - start or not self._same_object():
            self._check_version()
            raise UfsError(
                "the file changed in the under-storage since its metadata was loaded; "
                "sync metadata and retry",
                path=self.path,
            )
        self.bytes_from_ufs += len(data)
        return data

    def _check_version(self) -> None:
        """FileNotFound if the version this reader opened is gone (overwritten, deleted):
        a reader never returns bytes of two versions."""
        fresh = self.master.inode(self.inode.id)
        if fresh is None or fresh.generation != self.inode.generation:
            raise FileNotFound("changed since it was opened (that version is gone)", path=self.path)

    def _same_object(self) -> bool:
        """Whether the UFS object just read is still the one this version recorded (read
        first, then check: an object replaced before the read shows here)."""
        if self.inode.fingerprint is None:
            return True
        st = self._ufs.status(self._rel)
        if st is not None and st.fingerprint == self.inode.fingerprint:
            return True
        fresh = self.master.inode(self.inode.id)  # recorded anew since (a rename, a sync)?
        if fresh is None or fresh.generation != self.inode.generation:
            return False
        self.inode = fresh
        return st is not None and (fresh.fingerprint is None or st.fingerprint == fresh.fingerprint)

    def _relocate(self) -> None:
        """The file moved (renamed) while open: find its current path by inode id."""
        path = self.master.path_of_inode(self.inode.id)
        if path is None:
            raise FileNotFound("file was deleted while open", path=self.path)
        self._ufs, self._rel = self.master.ufs_of(path)
