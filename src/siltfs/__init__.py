"""siltfs: a data-orchestration file system with write-back that never diverges.

>>> import siltfs
>>> fs = siltfs.connect()            # embedded, under $SILT_HOME (default ~/.silt)
>>> fs.write_bytes("/a/b.txt", b"hello")
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from siltfs.config import SiltConfig
from siltfs.model.enums import PersistenceState, ReadType, TtlAction, WriteType
from siltfs.model.inode import FileInfo, MountInfo

if TYPE_CHECKING:
    from siltfs.client.embedded import EmbeddedFileSystem

__version__ = "0.1.0"
__all__ = [
    "FileInfo",
    "MountInfo",
    "PersistenceState",
    "ReadType",
    "SiltConfig",
    "TtlAction",
    "WriteType",
    "connect",
]


def connect(
    home: str | os.PathLike[str] | None = None,
    *,
    ufs: str | None = None,
    ufs_options: dict[str, Any] | None = None,
    config: SiltConfig | None = None,
) -> EmbeddedFileSystem:
    """Open siltfs.

    ``home``: a directory (embedded: metastore, cache and root UFS live there; default
    ``$SILT_HOME`` or ``~/.silt``).  ``ufs``: a URI mounted at ``/`` instead of
    ``<home>/ufs`` (any fsspec URL).  ``config``: a :class:`SiltConfig`.
    """
    from siltfs.client.embedded import EmbeddedFileSystem
    from siltfs.errors import InvalidArgument, WrongType
    from siltfs.master.master import Master
    from siltfs.metastore.sqlite import SqliteMetastore
    from siltfs.worker.blockstore import BlockStore

    if config is not None and not isinstance(config, SiltConfig):
        raise WrongType(f"config must be a SiltConfig, not {type(config).__name__}")
    if ufs is not None and not isinstance(ufs, str):
        raise WrongType(f"ufs must be a URI string, not {type(ufs).__name__}")
    if isinstance(home, str) and home.startswith(("http://", "https://")):
        raise InvalidArgument(
            "remote masters are not supported by this build; connect to a home directory",
            path=home,
        )
    cfg = config or SiltConfig()
    if home is not None:
        if not isinstance(home, (str, os.PathLike)):
            raise WrongType(f"home must be a path, not {type(home).__name__}")
        cfg = cfg.with_home(home)
    cfg.validate()
    cfg.home.mkdir(parents=True, exist_ok=True)
    if ufs is None:
        cfg.root_ufs_dir.mkdir(parents=True, exist_ok=True)
        root_uri = "file://" + str(cfg.root_ufs_dir.resolve())
    else:
        root_uri = ufs
    metastore = SqliteMetastore(cfg.metastore_path)
    store = BlockStore(cfg.cache.mem_capacity, cfg.cache.ssd_capacity, cfg.ssd_dir)
    try:
        master = Master(cfg, metastore, store, root_uri=root_uri, root_options=ufs_options)
    except BaseException:
        metastore.close()
        raise
    master.start()
    return EmbeddedFileSystem(master)
