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
    from siltfs.client.base import FileSystem
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
    "serving_master",
]


def connect(
    home: str | os.PathLike[str] | list[str] | None = None,
    *,
    ufs: str | None = None,
    ufs_options: dict[str, Any] | None = None,
    config: SiltConfig | None = None,
    token: str | None = None,
) -> FileSystem:
    """Open siltfs: a :class:`~siltfs.client.base.FileSystem`, embedded or remote.

    ``home``: a directory (embedded: metastore, cache and root UFS live there; default
    ``$SILT_HOME`` or ``~/.silt``) or a master URL ``http://host:port`` (remote client;
    ``token`` or ``$SILT_TOKEN``) -- or several (a list, or comma-separated) of masters
    sharing one metastore, tried in turn when one cannot be reached.  ``ufs``: a URI mounted at ``/`` instead of
    ``<home>/ufs`` (any fsspec URL).  ``config``: a :class:`SiltConfig`.

    With no *home*, ``$SILT_MASTER`` (an ``http(s)://`` URL or a comma-separated list)
    selects a remote master.  A home served by a running master (``<home>/master.json``,
    see :mod:`siltfs.home`) is used through that master with ``<home>/token``; opening
    it a second time would race its recovery against the master's live state.
    """
    from siltfs.errors import InvalidArgument

    if home is None and ufs is None and config is None and os.environ.get("SILT_MASTER"):
        home = os.environ["SILT_MASTER"]
    remote = isinstance(home, str) and home.startswith(("http://", "https://"))
    if remote or isinstance(home, (list, tuple)):
        if ufs is not None or config is not None or ufs_options is not None:
            raise InvalidArgument(
                "ufs/config apply to an embedded home, not a master URL", path=str(home)
            )
        return _remote(home, token)  # type: ignore[arg-type]
    served = serving_master(home, config)
    if served is not None:
        url, home_token = served
        return _remote(url, token if token is not None else home_token)
    return open_embedded(home, ufs=ufs, ufs_options=ufs_options, config=config)


def _remote(urls: str | list[str], token: str | None) -> RemoteFileSystem:
    from siltfs.client.remote import RemoteFileSystem
    from siltfs.client.wire import master_urls

    return RemoteFileSystem(master_urls(urls), token=token)


def serving_master(
    home: str | os.PathLike[str] | None, config: SiltConfig | None = None
) -> tuple[str, str | None] | None:
    """``(url, token)`` of the master serving *home* (or ``config.home``), if one runs.

    Everything that would open a home -- :func:`connect`, the CLI, fsspec ``home=`` --
    asks this first, so a home served by a master is used through it, never opened twice.
    """
    from pathlib import Path

    from siltfs.home import read_token, running_master

    if home is not None and not isinstance(home, (str, os.PathLike)):
        return None
    if config is not None and not isinstance(config, SiltConfig):
        return None  # open_embedded says what is wrong with it
    base = Path(home) if home is not None else (config.home if config else SiltConfig().home)
    info = running_master(base.expanduser())
    if info is None:
        return None
    return info.url, os.environ.get("SILT_TOKEN") or read_token(base.expanduser())


def open_embedded(
    home: str | os.PathLike[str] | None = None,
    *,
    ufs: str | None = None,
    ufs_options: dict[str, Any] | None = None,
    config: SiltConfig | None = None,
    token: str | None = None,
    expect_workers: bool = False,
) -> EmbeddedFileSystem:
    """The embedded file system on *home* (see :func:`connect`).

    For servers (``silt master``): *token* is the one workers are called with (the
    cluster secret); *expect_workers* says workers will register by heartbeat.  With
    ``config.cluster.local_worker`` false the master keeps no block store of its own.
    """
    from siltfs.client.embedded import EmbeddedFileSystem
    from siltfs.errors import WrongType
    from siltfs.home import HomeLock, private_dir
    from siltfs.master.master import Master
    from siltfs.metastore import open_metastore
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
    lock = HomeLock(cfg.home).acquire()  # one owner per home (siltfs.home)
    try:
        if ufs is None:
            private_dir(cfg.root_ufs_dir)
            root_uri = "file://" + str(cfg.root_ufs_dir.resolve())
        else:
            root_uri = ufs
        metastore = open_metastore(cfg.metastore_uri)
    except BaseException:
        lock.release()
        raise
    store = None
    try:
        if cfg.cluster.local_worker:
            store = BlockStore(cfg.cache.mem_capacity, cfg.cache.ssd_capacity, cfg.ssd_dir)
        master = Master(
            cfg,
            metastore,
            store,
            root_uri=root_uri,
            root_options=ufs_options,
            token=token,
            expect_workers=expect_workers,
        )
    except BaseException:
        metastore.close()
        lock.release()
        raise
    master.start()
    return EmbeddedFileSystem(master, home_lock=lock)
