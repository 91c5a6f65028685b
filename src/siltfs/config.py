"""Typed configuration.  One object, built once and passed down; nothing reads globals."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from siltfs.backends import METASTORE_BACKENDS, uri_scheme
from siltfs.errors import InvalidArgument, WrongType
from siltfs.model.enums import ReadType, WriteType

__all__ = [
    "CacheConfig",
    "ClusterConfig",
    "GiB",
    "MiB",
    "PersistConfig",
    "SecurityConfig",
    "SiltConfig",
    "config_from_dict",
    "default_home",
]

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class CacheConfig:
    """Worker block store: tier capacities in bytes.  The SSD tier lives under the home."""

    block_size: int = 16 * MiB
    mem_capacity: int = 1 * GiB
    ssd_capacity: int = 16 * GiB
    ssd_dir: Path | None = None  # default: <home>/cache/ssd


@dataclass(frozen=True)
class PersistConfig:
    """The ASYNC_THROUGH persist runner."""

    enabled: bool = True
    concurrency: int = 4
    max_attempts: int = 8
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 60.0
    lease_s: float = 30.0
    poll_interval_s: float = 0.05
    staging_dir: str = ".silt_staging"
    # FAILED jobs are retried on this slow schedule too (0 = only by `silt jobs retry`),
    # so a UFS that comes back gets everything persisted without anyone acting
    failed_retry_interval_s: float = 600.0


@dataclass(frozen=True)
class ClusterConfig:
    """Workers: how often they report, when the master gives up on one, replication."""

    local_worker: bool = True  # the master keeps a block store of its own
    heartbeat_interval_s: float = 1.0
    worker_timeout_s: float = 10.0  # no heartbeat for this long: the worker is dead
    replicas: int = 1  # copies of each unpersisted ASYNC_THROUGH block, on distinct workers


@dataclass(frozen=True)
class SecurityConfig:
    """What a master serving clients may do (see :mod:`siltfs.master.mount_policy`)."""

    # a serving master mounts only locations under these (default: <home>/ufs only);
    # local paths or object-store URIs such as "s3://bucket/prefix"
    mount_roots: tuple[str, ...] = ()
    restrict_mounts: bool = False  # set by `silt master`; the embedded API mounts anything


@dataclass(frozen=True)
class SiltConfig:
    """Everything an embedded siltfs needs.  ``home`` holds metastore, cache and root UFS."""

    home: Path = field(default_factory=lambda: default_home())
    default_write_type: WriteType = WriteType.ASYNC_THROUGH
    default_read_type: ReadType = ReadType.CACHE
    sync_interval_ms: int = -1
    ttl_check_interval_s: float = 1.0
    consistency_check_interval_s: float = 0.0  # periodic check_consistency("/"); 0 = off
    import_uid: int = 0  # owner of entries found in the UFS (not written through siltfs)
    import_gid: int = 0
    cache: CacheConfig = field(default_factory=CacheConfig)
    persist: PersistConfig = field(default_factory=PersistConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    # None: SQLite in <home>/metastore.db; "postgresql://..." (or "postgres://..."): a
    # database shared by several masters; otherwise a SQLite file (relative to home)
    metastore: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.home, str):
            object.__setattr__(self, "home", Path(self.home))

    @property
    def metastore_path(self) -> Path:
        return self.home / "metastore.db"

    @property
    def metastore_uri(self) -> str | Path:
        """What :func:`siltfs.metastore.open_metastore` opens: a PostgreSQL URI or a path."""
        if self.metastore is None:
            return self.metastore_path
        if uri_scheme(self.metastore) in METASTORE_BACKENDS:
            return self.metastore
        return self.home / Path(self.metastore).expanduser()

    @property
    def ssd_dir(self) -> Path:
        return self.cache.ssd_dir or (self.home / "cache" / "ssd")

    @property
    def root_ufs_dir(self) -> Path:
        return self.home / "ufs"

    def with_home(self, home: str | os.PathLike[str]) -> SiltConfig:
        return replace(self, home=Path(home))

    def validate(self) -> SiltConfig:
        if not isinstance(self.default_write_type, WriteType):
            raise WrongType(
                f"default_write_type must be a WriteType, not {self.default_write_type!r}"
            )
        if not isinstance(self.default_read_type, ReadType):
            raise WrongType(f"default_read_type must be a ReadType, not {self.default_read_type!r}")
        if self.cache.block_size <= 0:
            raise InvalidArgument(f"block_size must be positive, got {self.cache.block_size}")
        if self.cache.mem_capacity < 0 or self.cache.ssd_capacity < 0:
            raise InvalidArgument("tier capacities must not be negative")
        if self.persist.max_attempts < 1:
            raise InvalidArgument("persist.max_attempts must be at least 1")
        if not self.persist.failed_retry_interval_s >= 0:  # (NaN too)
            raise InvalidArgument("persist.failed_retry_interval_s must not be negative")
        if self.persist.concurrency < 1:
            raise InvalidArgument("persist.concurrency must be at least 1")
        for name in ("import_uid", "import_gid"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**32:
                raise InvalidArgument(f"{name} must be an id from 0 to 2**32-1, not {value!r}")
        if self.cluster.replicas < 1:
            raise InvalidArgument("cluster.replicas must be at least 1")
        if self.cluster.heartbeat_interval_s <= 0 or self.cluster.worker_timeout_s <= 0:
            raise InvalidArgument("cluster heartbeat interval and worker timeout must be positive")
        if self.metastore is not None:
            if not isinstance(self.metastore, str):
                raise WrongType(
                    f"metastore must be a postgresql:// URI or a path, not {self.metastore!r}"
                )
            if not self.metastore.strip():
                raise InvalidArgument("metastore must not be empty (leave it out for the default)")
            scheme = uri_scheme(self.metastore)
            if scheme is not None and scheme not in METASTORE_BACKENDS:
                raise InvalidArgument(
                    f"metastore: unsupported scheme {scheme!r} (postgresql:// or a file path)"
                )
        if self.sync_interval_ms < -1:
            raise InvalidArgument(
                f"sync_interval_ms must be -1, 0 or positive, got {self.sync_interval_ms}"
            )
        return self


def default_home() -> Path:
    env = os.environ.get("SILT_HOME")
    return Path(env) if env else Path.home() / ".silt"


def config_from_dict(data: dict[str, Any], base: SiltConfig | None = None) -> SiltConfig:
    """Build a config from a plain mapping (e.g. parsed TOML/JSON), validating keys."""
    cfg = base or SiltConfig()
    top: dict[str, Any] = {}
    names = {f.name for f in fields(SiltConfig)}
    for key, value in data.items():
        if key not in names:
            raise InvalidArgument(f"unknown configuration key {key!r}")
        if key == "cache":
            top[key] = replace(cfg.cache, **_checked(CacheConfig, value))
        elif key == "persist":
            top[key] = replace(cfg.persist, **_checked(PersistConfig, value))
        elif key == "cluster":
            top[key] = replace(cfg.cluster, **_checked(ClusterConfig, value))
        elif key == "security":
            top[key] = replace(cfg.security, **_checked(SecurityConfig, value))
        elif key == "metastore":
            if value is not None and not isinstance(value, str):
                raise WrongType(
                    f"configuration key 'metastore' must be a postgresql:// URI or a path, "
                    f"not {value!r}"
                )
            top[key] = value
        elif key == "home":
            if not isinstance(value, (str, os.PathLike)):
                raise WrongType(f"configuration key 'home' must be a path, not {value!r}")
            top[key] = Path(value)
        elif key == "default_write_type":
            top[key] = WriteType.parse(value)
        elif key == "default_read_type":
            top[key] = ReadType.parse(value)
        else:
            top[key] = _typed("", key, value, getattr(cfg, key))
    return replace(cfg, **top).validate()


def _typed(section: str, key: str, value: Any, default: Any) -> Any:
    """*value* if it has the type of the field's current *default*; else WrongType."""
    name = f"{section}.{key}" if section else key
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, tuple):
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:
        ok = True
    if not ok:
        raise WrongType(
            f"configuration key {name!r} must be {type(default).__name__}, not {value!r}"
        )
    return value


def _checked(cls: type[Any], value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WrongType(f"configuration section {cls.__name__} must be a mapping")
    names = {f.name for f in fields(cls)}
    for key in value:
        if key not in names:
            raise InvalidArgument(f"unknown configuration key {key!r} in {cls.__name__}")
    defaults = cls()
    out = {k: _typed(cls.__name__, k, v, getattr(defaults, k)) for k, v in value.items()}
    if "ssd_dir" in out and out["ssd_dir"] is not None:
        out["ssd_dir"] = Path(out["ssd_dir"])
    return out
