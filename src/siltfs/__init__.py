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
    from siltfs.client.remote import RemoteFileSystem

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
    "open_embedded",
]


def connect(
    home: str | os.PathLike[str] | None = None,
    *,
    ufs: str | None = None,
    ufs_options: dict[str, Any] | None = None,
    config: SiltConfig | None = None,
    token: str | None = None,
) -> EmbeddedFileSystem | RemoteFileSystem:
    """Open siltfs.

    ``home``: a directory (embedded: metastore, cache and root UFS live there; default
    ``$SILT_HOME`` or ``~/.silt``) or a master URL ``http://host:port`` (remote client;
    ``token`` or ``$SILT_TOKEN``).  ``ufs``: a URI mounted at ``/`` instead of
    ``<home>/ufs`` (any fsspec URL).  ``config``: a :class:`SiltConfig`.
    """
    from siltfs.errors import InvalidArgument

    if isinstance(home, str) and home.startswith(("http://", "https://")):
        if ufs is not None or config is not None or ufs_options is not None:
            raise InvalidArgument(
                "ufs/config apply to an embedded home, not a master URL", path=home
            )
        from siltfs.client.remote import RemoteFileSystem

        return RemoteFileSystem(home, token=token)
    return open_embedded(home, ufs=ufs, ufs_options=ufs_options, config=config)


def open_embedded(
    home: str | os.PathLike[str] | None = None,
    *,
    ufs: str | None = None,
    ufs_options: dict[str, Any] | None = None,
    config: SiltConfig | None = None,
) -> EmbeddedFileSystem:
    """The embedded file system on *home* (see :func:`connect`)."""
    from siltfs.client.embedded import EmbeddedFileSystem
    from siltfs.errors import WrongType
    from siltfs.master.master import Master
    from siltfs.metastore.sqlite import SqliteMetastore
    from siltfs.worker.blockstore import BlockStore

    if config is not None and not isinstance(config, SiltConfig):
        raise WrongType(f"config must be a SiltConfig, not {type(config).__name__}")
    if ufs is not None and not isinstance(ufs, str):
        raise WrongType(f"ufs must be a URI string, not {type(ufs).__name__}")
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
