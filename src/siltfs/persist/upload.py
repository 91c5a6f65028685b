"""Upload (protocol step 2): a file's cached blocks streamed to its staging object.

Nothing under the file's own directory is touched before the commit; the staging object
lies outside every user directory (:mod:`siltfs.persist.staging`).
"""

from __future__ import annotations

from siltfs import pieces
from siltfs.errors import FileLost
from siltfs.master.ufs_errors import not_ufs, ufs_calls
from siltfs.model.inode import Inode, content_digest
from siltfs.persist.staging import STAGING_ATTEMPTS
from siltfs.ufs.abc import UnderFileSystem
from siltfs.worker.holder import BlockHolder


def stage(
    blocks: BlockHolder, ufs: UnderFileSystem, staging_dir: str, staging: str, inode: Inode
) -> str:
    """Stream the inode's cached blocks to *staging*; returns their MD5 (the one its
    writer recorded, if it did: the blocks pass their CRC-32C checks on the way)."""
    known = inode.content_hash
    digest = content_digest() if known is None else None
    for attempt in range(1, STAGING_ATTEMPTS + 1):
        try:
            with ufs_calls():  # (a local file's ENOSPC comes from write or close)
                if attempt > 1:  # usually the staging directory is there already
                    ufs.mkdirs(staging_dir)
                with ufs.open_write(staging) as f:
                    for bid in inode.block_ids():
                        with not_ufs():
                            data = blocks.get(bid, wait=True)
                            if data is None:
                                raise FileLost(
                                    f"cached block {bid} is missing", path=f"inode {inode.id}"
                                )
                        if digest is not None:
                            digest.update(data)
                        pieces.write(f, data)
            return digest.hexdigest() if digest is not None else str(known)
        except FileNotFoundError:
            if attempt == STAGING_ATTEMPTS:
                raise
            # no staging directory (yet), or another master tidied it away between
            # our mkdirs and open: create it, retry
            digest = content_digest() if known is None else None
    raise AssertionError("unreachable")
