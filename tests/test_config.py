from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from siltfs.config import (
    CacheConfig,
    GiB,
    MiB,
    PersistConfig,
    SiltConfig,
    config_from_dict,
    default_home,
)
from siltfs.errors import InvalidArgument, WrongType
from siltfs.model.enums import ReadType, WriteType


def test_defaults(tmp_home: Path) -> None:
    cfg = SiltConfig()
    assert cfg.home == tmp_home
    assert cfg.default_write_type is WriteType.ASYNC_THROUGH
    assert cfg.default_read_type is ReadType.CACHE
    assert cfg.cache == CacheConfig()
    assert cfg.cache.block_size == 16 * MiB and cfg.cache.mem_capacity == 1 * GiB
    assert cfg.persist == PersistConfig()
    assert cfg.validate() is cfg


def test_home_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SILT_HOME", raising=False)
    assert default_home() == Path.home() / ".silt"
    monkeypatch.setenv("SILT_HOME", "")
    assert default_home() == Path.home() / ".silt"


def test_env_is_read_when_built_not_when_imported(
    tmp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = SiltConfig()
    other = tmp_path / "other"
    monkeypatch.setenv("SILT_HOME", str(other))
    assert SiltConfig().home == other
    assert first.home == tmp_home


def test_derived_paths(tmp_home: Path) -> None:
    cfg = SiltConfig()
    assert cfg.metastore_path == tmp_home / "metastore.db"
    assert cfg.ssd_dir == tmp_home / "cache" / "ssd"
    assert cfg.root_ufs_dir == tmp_home / "ufs"
    moved = cfg.with_home(tmp_home / "elsewhere")
    assert moved.home == tmp_home / "elsewhere"
    assert moved.metastore_path == tmp_home / "elsewhere" / "metastore.db"
    assert cfg.home == tmp_home  # frozen: with_home returns a copy
    explicit = config_from_dict({"cache": {"ssd_dir": str(tmp_home / "fast")}}, cfg)
    assert explicit.ssd_dir == tmp_home / "fast"
    assert isinstance(explicit.cache.ssd_dir, Path)


def test_config_is_frozen(tmp_home: Path) -> None:
    cfg = SiltConfig()
    with pytest.raises(AttributeError):
        cfg.home = Path("/x")  # type: ignore[misc]


def test_from_dict_full(tmp_home: Path) -> None:
    cfg = config_from_dict(
        {
            "home": str(tmp_home / "h"),
            "default_write_type": "cache-through",
            "default_read_type": "cache_promote",
            "sync_interval_ms": 0,
            "ttl_check_interval_s": 2.5,
            "cache": {"block_size": 1024, "mem_capacity": 0},
            "persist": {"max_attempts": 3, "enabled": False},
        }
    )
    assert cfg.home == tmp_home / "h"
    assert cfg.default_write_type is WriteType.CACHE_THROUGH
    assert cfg.default_read_type is ReadType.CACHE_PROMOTE
    assert cfg.sync_interval_ms == 0
    assert cfg.ttl_check_interval_s == 2.5
    assert cfg.cache.block_size == 1024 and cfg.cache.mem_capacity == 0
    assert cfg.cache.ssd_capacity == CacheConfig().ssd_capacity  # untouched keys keep defaults
    assert cfg.persist.max_attempts == 3 and cfg.persist.enabled is False
    assert cfg.persist.lease_s == PersistConfig().lease_s
    assert cfg.persist.failed_retry_interval_s == 600.0  # FAILED jobs retried every 10 min


def test_from_dict_keeps_base(tmp_home: Path) -> None:
    base = config_from_dict({"cache": {"block_size": 4096}, "persist": {"concurrency": 2}})
    cfg = config_from_dict({"cache": {"mem_capacity": 10}}, base)
    assert cfg.cache.block_size == 4096 and cfg.cache.mem_capacity == 10
    assert cfg.persist.concurrency == 2


@pytest.mark.parametrize(
    "data",
    [
        {"nope": 1},
        {"cache": {"nope": 1}},
        {"persist": {"block_size": 1}},
        {"default_write_type": "SOMETIMES"},
        {"default_read_type": "MUST_CACHE"},
        {"cache": {"block_size": 0}},
        {"cache": {"block_size": -1}},
        {"cache": {"mem_capacity": -1}},
        {"cache": {"ssd_capacity": -1}},
        {"persist": {"max_attempts": 0}},
        {"persist": {"concurrency": 0}},
        {"persist": {"failed_retry_interval_s": -1}},
        {"persist": {"failed_retry_interval_s": float("nan")}},
        {"sync_interval_ms": -2},
    ],
)
def test_from_dict_rejects(tmp_home: Path, data: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        config_from_dict(data)


@pytest.mark.parametrize("data", [{"cache": 5}, {"persist": ["x"]}, {"cache": None}])
def test_from_dict_section_must_be_mapping(tmp_home: Path, data: dict[str, Any]) -> None:
    with pytest.raises(WrongType):
        config_from_dict(data)


@pytest.mark.parametrize(
    "data",
    [
        {"sync_interval_ms": "5"},
        {"cache": {"block_size": "16"}},
        {"persist": {"max_attempts": None}},
        {"home": None},
    ],
)
def test_from_dict_wrong_value_type_is_wrong_type(tmp_home: Path, data: dict[str, Any]) -> None:
    with pytest.raises(WrongType):
        config_from_dict(data)


def test_validate_rejects_non_enum_types(tmp_home: Path) -> None:
    with pytest.raises(WrongType):
        SiltConfig(default_write_type="ASYNC_THROUGH").validate()  # type: ignore[arg-type]
    with pytest.raises(WrongType):
        SiltConfig(default_read_type=ReadType.CACHE.value).validate()  # type: ignore[arg-type]
