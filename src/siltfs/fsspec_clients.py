"""The embedded clients of ``silt://`` file systems: one per home in this process.

fsspec instances that differ only in ``write_type``/``read_type``, in the spelling of
``home`` or in the thread that created them share one
:class:`~siltfs.client.embedded.EmbeddedFileSystem` through this reference-counted
registry (:func:`acquire`, :func:`release`); the last release closes it, and so does
the interpreter's exit.  A forked child forgets its parent's clients.  :func:`master_for`
says which master to use instead when a home is served by one (``siltfs.home``).
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.config import SiltConfig
from siltfs.errors import InvalidArgument, WrongType

__all__ = ["acquire", "master_for", "release"]


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


def acquire(
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


def master_for(
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


def release(key: Path, client: EmbeddedFileSystem) -> None:
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
