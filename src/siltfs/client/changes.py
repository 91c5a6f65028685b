"""Committing a change to a file in the core (the embedded client, and the server for
remote ones): :class:`ChangeWriter` takes the blocks a change wrote and commits the next
version.

Written MUST_CACHE or ASYNC_THROUGH, the version is copy-on-write: only the new blocks
are put in the cache (pinned, as any unpersisted block), the others are the base's,
shared by id (``NewFile.shared``; the commit checks they are still there and pins them).
Written CACHE_THROUGH or THROUGH, the UFS needs the whole object: the version is written
in full, the unchanged blocks read from the cache.  Either way a block of the base that
is gone raises :class:`~siltfs.errors.StaleVersion` and nothing is committed (the client
then writes the version in full from its own reader)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from siltfs import crashpoints
from siltfs.client.streams import BlockWriter
from siltfs.client.versions import MAX_BLOCKS, Change, block_lengths
from siltfs.errors import InvalidArgument, StaleVersion
from siltfs.model import blockmap
from siltfs.model.enums import WriteType
from siltfs.model.inode import FileInfo, Inode, block_count, block_id
from siltfs.model.posix import Creation
from siltfs.persist.outbox import NewFile

if TYPE_CHECKING:
    from siltfs.master.master import Master

__all__ = ["COPY_ON_WRITE", "ChangeWriter", "change_writer"]

COPY_ON_WRITE = frozenset({WriteType.MUST_CACHE, WriteType.ASYNC_THROUGH})


class ChangeWriter:
    """``put`` each new block (ascending index), then ``commit``; ``abort`` drops it."""

    def __init__(
        self,
        master: Master,
        path: str,
        *,
        length: int,
        block_size: int,
        shared: dict[int, int],
        write_type: WriteType,
        exclusive: bool,
        replicas: int,
        creation: Creation | None,
    ) -> None:
        if length < 0 or block_size <= 0:
            raise InvalidArgument(
                f"a change of {length} bytes in blocks of {block_size}", path=path
            )
        count = block_count(length, block_size)
        if count > MAX_BLOCKS:
            raise InvalidArgument(f"{count} blocks; a file has at most {MAX_BLOCKS}", path=path)
        if not blockmap.within(shared, count):
            raise InvalidArgument(f"shared block index beyond the {count} blocks", path=path)
        self.master = master
        self.path = path
        self.length = length
        self.block_size = block_size
        self.shared = dict(shared)
        self.write_type = write_type
        self.exclusive = exclusive
        self.replicas = replicas
        self.creation = creation
        self._next = 0  # the next block index expected
        self._written: list[int] = []
        self._full: BlockWriter | None = None
        self._info: FileInfo | None = None
        self._inode: Inode | None = None
        if write_type in COPY_ON_WRITE:
            master.check_write(path, exclusive)
            self.inode_id = master.new_inode_id()
        else:
            self._full = BlockWriter(
                master, path, write_type, exclusive, block_size, replicas, creation
            )
            self.inode_id = self._full.inode_id

    def put(self, index: int, data: bytes | memoryview) -> None:
        """The content of new block *index* (after every lower one that is new)."""
        if index < self._next or index in self.shared:
            raise InvalidArgument(f"block {index} out of order or shared", path=self.path)
        (want,) = block_lengths(self.length, self.block_size, [index])
        if len(data) != want:
            raise InvalidArgument(f"block {index} is {len(data)} bytes, not {want}", path=self.path)
        self._fill_to(index)
        if self._full is not None:
            self._full.write(data)
        else:
            bid = block_id(self.inode_id, index)
            self.master.pin_blocks([bid])
            self._written.append(bid)
            self.master.put_block(
                bid,
                data,
                durable=self.write_type is WriteType.ASYNC_THROUGH,
                ssd=True,
                replicas=self.replicas,
            )
        self._next = index + 1

    def commit(self) -> None:
        """Commit the version (:meth:`describe` says what it is)."""
        count = block_count(self.length, self.block_size)
        self._check_kept(range(self._next, count))
        self._fill_to(count)
        if self._full is not None:
            self._full.close()
            self._info = self._full.info
        else:
            crashpoints.reach("change.after_blocks")
            self._inode = self.master.commit_new_file(
                NewFile(
                    path=self.path,
                    inode_id=self.inode_id,
                    length=self.length,
                    block_size=self.block_size,
                    write_type=self.write_type,
                    exclusive=self.exclusive,
                    creation=self.creation,
                    shared=self.shared or None,
                )
            )
            self._written.clear()
        crashpoints.reach("change.after_commit")

    def describe(self) -> FileInfo:
        """The committed version's FileInfo."""
        if self._info is None:
            if self._inode is None:
                raise RuntimeError("describe() before commit()")
            self._info = self.master.info(self._inode, self.path)
        return self._info

    def abort(self) -> None:
        if self._full is not None:
            self._full.abort()
        self.master.remove_blocks(self._written)
        self._written.clear()

    def _check_kept(self, indices: range) -> None:
        """Every block at *indices* must be shared (a set operation: a change to a file
        of many blocks names few)."""
        missing = set(indices).difference(self.shared)
        if missing:
            raise InvalidArgument(
                f"block {min(missing)} was neither written nor shared", path=self.path
            )

    def _fill_to(self, index: int) -> None:
        """Blocks before *index* must be shared; written in full, copied from the cache."""
        self._check_kept(range(self._next, index))
        full = self._full
        if full is None:  # copy-on-write: kept blocks stay where they are
            self._next = max(self._next, index)
            return
        for i in range(self._next, index):
            data = self.master.get_block(self.shared[i])
            if data is None or len(data) != block_lengths(self.length, self.block_size, [i])[0]:
                raise StaleVersion(
                    f"block {i} of the version this change builds on is not cached",
                    path=self.path,
                )
            full.write(data)
        self._next = max(self._next, index)


def change_writer(
    master: Master,
    path: str,
    change: Change,
    write_type: WriteType | None,
    replicas: int | None,
    creation: Creation | None,
) -> ChangeWriter:
    """The writer of *change* to *path* (write type and replicas: the configured ones
    when None); its blocks are put one by one."""
    config = master.config
    return ChangeWriter(
        master,
        path,
        length=change.length,
        block_size=change.block_size,
        shared=change.shared,
        write_type=config.default_write_type if write_type is None else write_type,
        exclusive=change.exclusive,
        replicas=config.cluster.replicas if replicas is None else replicas,
        creation=creation,
    )
