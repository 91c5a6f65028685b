"""Bad input to every public method: each raises its specific siltfs error, names the
path, and leaves the namespace, the mount table and the UFS exactly as they were."""

from __future__ import annotations

import contextlib
import gc
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import siltfs
from siltfs import errors
from siltfs.client.embedded import EmbeddedFileSystem

from .conftest import ufs_tree

Op = Callable[[EmbeddedFileSystem, Any], object]


@dataclass
class Env:
    fs: EmbeddedFileSystem
    lake: Path
    local_file: Path
    local_target: Path

    def snapshot(self) -> tuple[object, ...]:
        return (
            self.fs.ls("/", recursive=True),
            self.fs.mounts(),
            ufs_tree(self.fs.config.root_ufs_dir),
            ufs_tree(self.lake),
            self.local_target.exists(),
        )


@pytest.fixture
def env(fs: EmbeddedFileSystem, tmp_path: Path) -> Env:
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "l").write_bytes(b"lake file")
    local = tmp_path / "local.bin"
    local.write_bytes(b"local bytes")
    fs.write_bytes("/existing", b"existing", write_type="CACHE_THROUGH")
    fs.write_bytes("/dir/file", b"file", write_type="CACHE_THROUGH")
    fs.write_bytes("/dir/cached", b"cached", write_type="MUST_CACHE")
    fs.mount("/lake", "file://" + str(lake))
    return Env(fs, lake, local, tmp_path / "got.bin")


# bad paths ---------------------------------------------------------------------------------
LONG_NAME = "/" + "n" * 256
LONG_MULTIBYTE_NAME = "/" + "é" * 128  # 256 bytes in UTF-8
LONG_PATH = "/" + "/".join(["d" * 100] * 41)  # 4141 bytes, every name valid

# (id, value, class, text the message must contain)
BAD_PATHS: list[tuple[str, object, type[errors.SiltError], str]] = [
    ("relative", "a/b", errors.InvalidPath, "a/b"),
    ("relative-dotdot", "../x", errors.InvalidPath, "../x"),
    ("dotdot", "/a/../b", errors.InvalidPath, "/a/../b"),
    ("dotdot-existing", "/dir/../existing", errors.InvalidPath, "/dir/../existing"),
    ("dot", "/a/./b", errors.InvalidPath, "/a/./b"),
    ("nul", "/a\x00b", errors.InvalidPath, "/a\\0b"),
    ("empty-component", "/a//b", errors.InvalidPath, "/a//b"),
    ("double-slash", "//", errors.InvalidPath, "//"),
    ("empty", "", errors.InvalidPath, "''"),
    ("name-256-bytes", LONG_NAME, errors.NameTooLong, LONG_NAME[:80]),
    ("name-256-utf8-bytes", LONG_MULTIBYTE_NAME, errors.NameTooLong, LONG_MULTIBYTE_NAME[:40]),
    ("path-over-4096", LONG_PATH, errors.NameTooLong, LONG_PATH[:80]),
    ("lone-surrogate", "/bad\udc80name", errors.InvalidPath, "bad"),
    ("none", None, errors.WrongType, "None"),
    ("int", 1, errors.WrongType, "1"),
    ("bytes", b"/x", errors.WrongType, "b'/x'"),
    ("list", ["/x"], errors.WrongType, "['/x']"),
]

OPS: dict[str, Op] = {
    "mkdir": lambda fs, p: fs.mkdir(p),
    "mkdir-parents": lambda fs, p: fs.mkdir(p, parents=True, exist_ok=True),
    "makedirs": lambda fs, p: fs.makedirs(p, parents=True),
    "ls": lambda fs, p: fs.ls(p),
    "ls-recursive": lambda fs, p: fs.ls(p, recursive=True),
    "stat": lambda fs, p: fs.stat(p),
    "stat-sync": lambda fs, p: fs.stat(p, sync_interval_ms=0),
    "exists": lambda fs, p: fs.exists(p),
    "rename-src": lambda fs, p: fs.rename(p, "/renamed"),
    "rename-dst": lambda fs, p: fs.rename("/existing", p),
    "mv": lambda fs, p: fs.mv("/dir", p),
    "delete": lambda fs, p: fs.delete(p),
    "delete-recursive": lambda fs, p: fs.delete(p, recursive=True),
    "rm": lambda fs, p: fs.rm(p, recursive=True),
    "sync_metadata": lambda fs, p: fs.sync_metadata(p, recursive=True),
    "mount": lambda fs, p: fs.mount(p, "memory://silt-bad-input-never-used"),
    "unmount": lambda fs, p: fs.unmount(p),
    "open-rb": lambda fs, p: fs.open(p, "rb"),
    "open-r": lambda fs, p: fs.open(p, "r"),
    "open-wb": lambda fs, p: fs.open(p, "wb"),
    "open-xb": lambda fs, p: fs.open(p, "xb"),
    "open-w": lambda fs, p: fs.open(p, "w"),
    "write_bytes": lambda fs, p: fs.write_bytes(p, b"data"),
    "write_bytes-through": lambda fs, p: fs.write_bytes(p, b"data", write_type="THROUGH"),
    "read_bytes": lambda fs, p: fs.read_bytes(p),
    "cat": lambda fs, p: fs.cat(p),
    "touch": lambda fs, p: fs.touch(p),
    "persist": lambda fs, p: fs.persist(p),
    "wait_persisted": lambda fs, p: fs.wait_persisted(p, timeout=5),
    "free": lambda fs, p: fs.free(p),
    "load": lambda fs, p: fs.load(p),
    "set_attribute-pin": lambda fs, p: fs.set_attribute(p, pinned=True),
    "set_attribute-ttl": lambda fs, p: fs.set_attribute(p, ttl=0, ttl_action="DELETE"),
    "du": lambda fs, p: fs.du(p),
}


@pytest.mark.parametrize("op", list(OPS), ids=list(OPS))
@pytest.mark.parametrize(
    ("path", "cls", "shown"),
    [pytest.param(v, c, s, id=i) for i, v, c, s in BAD_PATHS],
)
def test_bad_path(env: Env, op: str, path: object, cls: type[errors.SiltError], shown: str) -> None:
    before = env.snapshot()
    if op == "wait_persisted" and path is None:
        env.fs.wait_persisted(path, timeout=5)  # None is the documented default: the root
        assert env.snapshot() == before
        return
    with pytest.raises(cls) as info:
        OPS[op](env.fs, path)
    exc = info.value
    assert type(exc) is cls, f"{type(exc).__name__}: {exc}"
    if issubclass(cls, errors.InvalidPath):
        assert isinstance(exc, ValueError)
    else:
        assert isinstance(exc, TypeError)
    assert shown in str(exc)
    assert exc.path is not None
    del info, exc
    gc.collect()
    assert env.snapshot() == before


@pytest.mark.parametrize(
    ("path", "cls", "shown"),
    [pytest.param(v, c, s, id=i) for i, v, c, s in BAD_PATHS],
)
def test_bad_path_put_get(env: Env, path: object, cls: type[errors.SiltError], shown: str) -> None:
    before = env.snapshot()
    with pytest.raises(cls) as info:
        env.fs.put(env.local_file, path)  # type: ignore[arg-type]
    assert shown in str(info.value)
    with pytest.raises(cls) as info:
        env.fs.get(path, env.local_target)  # type: ignore[arg-type]
    assert shown in str(info.value)
    del info
    gc.collect()
    assert env.snapshot() == before
    assert env.local_file.read_bytes() == b"local bytes"
    assert [p.name for p in env.local_target.parent.iterdir() if p.name.startswith(".silt")] == []


# names the namespace takes but no UFS can hold (one rule, ufs/abc.py unrepresentable) -----
UNREPRESENTABLE: dict[str, str] = {
    "backslash": "/a\\b",
    "slash-encoded": "/a%2fb",
    "slash-double-encoded": "/a%252fb",
    "slash-triple-encoded": "/a%25252Fb",
    "backslash-double-encoded": "/a%255cb",
    "nul-double-encoded": "/a%2500b",
    "dotdot-encoded": "/%2e%2e",
    "dotdot-half-encoded": "/.%2e",
    "dotdot-double-encoded": "/%252E%252E",
    "parent-double-encoded": "/n%252fm/child",
    "in-second-mount": "/lake/x%255cy",
}
CREATING_OPS = [
    "mkdir",
    "mkdir-parents",
    "makedirs",
    "rename-dst",
    "mv",
    "mount",
    "open-wb",
    "open-xb",
    "open-w",
    "write_bytes",
    "write_bytes-through",
    "touch",
    "put",
]


@pytest.mark.parametrize("op", CREATING_OPS)
@pytest.mark.parametrize("case", list(UNREPRESENTABLE))
def test_unrepresentable_name(env: Env, op: str, case: str) -> None:
    """InvalidPath naming the path, and nothing changed: namespace, mounts, both UFS."""
    path = UNREPRESENTABLE[case]
    if op == "mount" and path.startswith("/lake/"):
        pytest.raises(errors.MountError, env.fs.mount, path, "memory://never")  # nested
        return
    before = env.snapshot()
    with pytest.raises(errors.InvalidPath) as info:
        if op == "put":
            env.fs.put(env.local_file, path)
        else:
            with contextlib.ExitStack() as stack:
                opened = OPS[op](env.fs, path)
                if isinstance(opened, io.IOBase):
                    stack.enter_context(opened)
    exc = info.value
    assert type(exc) is errors.InvalidPath, f"{type(exc).__name__}: {exc}"
    assert exc.path is not None and exc.path.startswith(path.rsplit("/", 1)[0] or "/")
    del info, exc
    gc.collect()
    assert env.snapshot() == before
    assert env.fs.jobs() == []


def test_good_paths_still_work(env: Env) -> None:
    """Sanity check of the fixture: the valid spellings of the same entries are fine."""
    fs = env.fs
    assert fs.read_bytes("/existing") == b"existing"
    assert fs.read_bytes("/dir/file/") == b"file"  # one trailing '/' is dropped
    fs.write_bytes("/" + "n" * 255, b"max name")
    assert fs.read_bytes("/" + "n" * 255) == b"max name"
    assert fs.read_bytes("/lake/l") == b"lake file"


# bad enumerations ------------------------------------------------------------------------------
BAD_WRITE_TYPES = ["BOGUS", "", "must cache", 5, object()]


@pytest.mark.parametrize("wt", BAD_WRITE_TYPES, ids=repr)
@pytest.mark.parametrize(
    "op",
    ["write_bytes", "open-wb", "open-w", "mkdir", "touch", "put"],
)
def test_bad_write_type(env: Env, op: str, wt: object) -> None:
    fs = env.fs
    calls: dict[str, Callable[[], object]] = {
        "write_bytes": lambda: fs.write_bytes("/new", b"x", write_type=wt),  # type: ignore[arg-type]
        "open-wb": lambda: fs.open("/new", "wb", write_type=wt),  # type: ignore[arg-type]
        "open-w": lambda: fs.open("/new", "w", write_type=wt),  # type: ignore[arg-type]
        "mkdir": lambda: fs.mkdir("/new", write_type=wt),  # type: ignore[arg-type]
        "touch": lambda: fs.touch("/new", write_type=wt),  # type: ignore[arg-type]
        "put": lambda: fs.put(env.local_file, "/new", write_type=wt),  # type: ignore[arg-type]
    }
    before = env.snapshot()
    with pytest.raises(errors.InvalidArgument) as info:
        calls[op]()
    assert isinstance(info.value, ValueError)
    del info
    gc.collect()
    assert env.snapshot() == before
    assert not fs.exists("/new")


@pytest.mark.parametrize("rt", ["BOGUS", "", "no cache please", 3], ids=repr)
@pytest.mark.parametrize("op", ["read_bytes", "open-rb", "open-r", "get"])
def test_bad_read_type(env: Env, op: str, rt: object) -> None:
    fs = env.fs
    calls: dict[str, Callable[[], object]] = {
        "read_bytes": lambda: fs.read_bytes("/existing", read_type=rt),  # type: ignore[arg-type]
        "open-rb": lambda: fs.open("/existing", "rb", read_type=rt),  # type: ignore[arg-type]
        "open-r": lambda: fs.open("/existing", "r", read_type=rt),  # type: ignore[arg-type]
        "get": lambda: fs.get("/existing", env.local_target, read_type=rt),  # type: ignore[arg-type]
    }
    before = env.snapshot()
    with pytest.raises(errors.InvalidArgument):
        calls[op]()
    assert env.snapshot() == before


def test_valid_enum_spellings_accepted(env: Env) -> None:
    fs = env.fs
    fs.write_bytes("/a", b"a", write_type="must_cache")
    fs.write_bytes("/b", b"b", write_type="cache-through")
    fs.write_bytes("/c", b"c", write_type=siltfs.WriteType.THROUGH)
    assert fs.read_bytes("/c", read_type="no_cache") == b"c"
    assert fs.read_bytes("/b", read_type=siltfs.ReadType.CACHE_PROMOTE) == b"b"


@pytest.mark.parametrize("mode", ["rw", "", "wx", "q", "ra", "r++", "aw", "abx"])
def test_bad_open_mode(env: Env, mode: str) -> None:
    before = env.snapshot()
    with pytest.raises(errors.InvalidArgument) as info:
        env.fs.open("/existing", mode)
    assert "/existing" in str(info.value)
    with pytest.raises(errors.InvalidArgument):
        env.fs.open("/brand-new", mode)
    del info
    gc.collect()
    assert env.snapshot() == before
    assert env.fs.read_bytes("/existing") == b"existing"


@pytest.mark.parametrize("mode", [None, 1, b"rb"], ids=repr)
def test_open_mode_wrong_type(env: Env, mode: object) -> None:
    before = env.snapshot()
    with pytest.raises(errors.WrongType):
        env.fs.open("/existing", mode)  # type: ignore[arg-type]
    assert env.snapshot() == before


@pytest.mark.parametrize("block_size", [0, -1, "1024", 1.5, True], ids=repr)
def test_bad_block_size(env: Env, block_size: object) -> None:
    before = env.snapshot()
    with pytest.raises(errors.InvalidArgument):
        env.fs.open("/new", "wb", block_size=block_size)  # type: ignore[arg-type]
    gc.collect()
    assert env.snapshot() == before


def test_unknown_encoding_leaves_nothing(env: Env) -> None:
    before = env.snapshot()
    with pytest.raises((errors.InvalidArgument, LookupError)):
        env.fs.open("/new", "w", encoding="no-such-codec")
    gc.collect()
    assert env.snapshot() == before
    assert not env.fs.exists("/new")


# flags ------------------------------------------------------------------------------------------
BAD_FLAGS = [1, 0, "yes", "", None, [True]]


@pytest.mark.parametrize("value", BAD_FLAGS, ids=repr)
@pytest.mark.parametrize(
    "op",
    [
        "ls-recursive",
        "delete-recursive",
        "rm-recursive",
        "mkdir-parents",
        "mkdir-exist_ok",
        "mount-read_only",
        "set_attribute-pinned",
    ],
)
def test_flag_wrong_type(env: Env, op: str, value: object) -> None:
    fs = env.fs
    calls: dict[str, Callable[[], object]] = {
        "ls-recursive": lambda: fs.ls("/dir", recursive=value),  # type: ignore[arg-type]
        "delete-recursive": lambda: fs.delete("/dir", recursive=value),  # type: ignore[arg-type]
        "rm-recursive": lambda: fs.rm("/existing", recursive=value),  # type: ignore[arg-type]
        "mkdir-parents": lambda: fs.mkdir("/p/q", parents=value),  # type: ignore[arg-type]
        "mkdir-exist_ok": lambda: fs.mkdir("/dir", exist_ok=value),  # type: ignore[arg-type]
        "mount-read_only": lambda: fs.mount(
            "/m", "file://" + str(env.lake.parent / "x"), read_only=value
        ),  # type: ignore[arg-type]
        "set_attribute-pinned": lambda: fs.set_attribute("/existing", pinned=value),  # type: ignore[arg-type]
    }
    before = env.snapshot()
    if op == "set_attribute-pinned" and value is None:
        calls[op]()  # pinned=None is the documented default: leave unchanged
        assert env.snapshot() == before
        return
    with pytest.raises(errors.WrongType) as info:
        calls[op]()
    assert isinstance(info.value, TypeError)
    assert env.snapshot() == before


@pytest.mark.parametrize("value", [1, "yes", None], ids=repr)
def test_sync_metadata_recursive_wrong_type(env: Env, value: object) -> None:
    with pytest.raises(errors.WrongType):
        env.fs.sync_metadata("/", recursive=value)  # type: ignore[arg-type]


# other arguments -----------------------------------------------------------------------------
@pytest.mark.parametrize("timeout", [-1, -0.001, "5", [1]], ids=repr)
def test_wait_persisted_bad_timeout(env: Env, timeout: object) -> None:
    with pytest.raises(errors.InvalidArgument):
        env.fs.wait_persisted("/", timeout=timeout)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgument):
        env.fs.wait_persisted(timeout=timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", ["text", None, 1, ["b"], 3.5], ids=repr)
def test_write_bytes_wrong_data_type(env: Env, data: object) -> None:
    before = env.snapshot()
    with pytest.raises(errors.WrongType) as info:
        env.fs.write_bytes("/new", data)  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError)
    assert "/new" in str(info.value)
    with pytest.raises(errors.WrongType):
        env.fs.write_bytes("/existing", data)  # type: ignore[arg-type]
    assert env.snapshot() == before
    assert env.fs.read_bytes("/existing") == b"existing"


def test_write_bytes_accepts_buffers(env: Env) -> None:
    env.fs.write_bytes("/ba", bytearray(b"ba"))
    env.fs.write_bytes("/mv", memoryview(b"mv"))
    assert env.fs.read_bytes("/ba") == b"ba"
    assert env.fs.read_bytes("/mv") == b"mv"


@pytest.mark.parametrize("path", ["lake2", "a/b", "./x", "../x"])
def test_mount_relative_path(env: Env, tmp_path: Path, path: str) -> None:
    other = tmp_path / "other"
    other.mkdir()
    before = env.snapshot()
    with pytest.raises(errors.InvalidPath) as info:
        env.fs.mount(path, "file://" + str(other))
    assert path in str(info.value)
    assert env.snapshot() == before


@pytest.mark.parametrize("uri", ["", None, 5, b"file:///tmp"], ids=repr)
def test_mount_bad_uri(env: Env, uri: object) -> None:
    before = env.snapshot()
    with pytest.raises(errors.InvalidArgument):
        env.fs.mount("/m", uri)  # type: ignore[arg-type]
    assert env.snapshot() == before


@pytest.mark.parametrize("options", ["x", ["a"], 1], ids=repr)
def test_mount_bad_options(env: Env, tmp_path: Path, options: object) -> None:
    other = tmp_path / "other"
    other.mkdir()
    before = env.snapshot()
    with pytest.raises(errors.WrongType):
        env.fs.mount("/m", "file://" + str(other), options=options)  # type: ignore[arg-type]
    assert env.snapshot() == before


@pytest.mark.parametrize("interval", [-2, "0", 1.5, True, [0]], ids=repr)
@pytest.mark.parametrize("op", ["ls", "stat", "exists", "open", "mount"])
def test_bad_sync_interval(env: Env, tmp_path: Path, op: str, interval: object) -> None:
    fs = env.fs
    other = tmp_path / "other"
    other.mkdir(exist_ok=True)
    calls: dict[str, Callable[[], object]] = {
        "ls": lambda: fs.ls("/", sync_interval_ms=interval),  # type: ignore[arg-type]
        "stat": lambda: fs.stat("/existing", sync_interval_ms=interval),  # type: ignore[arg-type]
        "exists": lambda: fs.exists("/existing", sync_interval_ms=interval),  # type: ignore[arg-type]
        "open": lambda: fs.open("/existing", "rb", sync_interval_ms=interval),  # type: ignore[arg-type]
        "mount": lambda: fs.mount("/m", "file://" + str(other), sync_interval_ms=interval),  # type: ignore[arg-type]
    }
    before = env.snapshot()
    with pytest.raises(errors.InvalidArgument):
        calls[op]()
    assert env.snapshot() == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ttl": -2},
        {"ttl": "10"},
        {"ttl": 1.5},
        {"ttl": True},
        {"ttl_action": "EXPLODE"},
        {"ttl_action": 3},
        {"pinned": True, "ttl": "bad"},
    ],
    ids=repr,
)
def test_set_attribute_bad_values(env: Env, kwargs: dict[str, object]) -> None:
    before = env.snapshot()
    with pytest.raises(errors.InvalidArgument):
        env.fs.set_attribute("/dir", **kwargs)  # type: ignore[arg-type]
    assert env.snapshot() == before
    st = env.fs.stat("/dir")
    assert st.pinned is False and st.ttl is None


@pytest.mark.parametrize("kwargs", [{"start": "1"}, {"end": "2"}, {"start": 1.5}], ids=repr)
def test_read_bytes_bad_range(env: Env, kwargs: dict[str, object]) -> None:
    with pytest.raises(errors.WrongType):
        env.fs.read_bytes("/existing", **kwargs)  # type: ignore[arg-type]


# connect -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{"home": 1}, {"ufs": 1}, {"ufs": b"memory://x"}, {"config": "cfg"}, {"config": {}}],
    ids=repr,
)
def test_connect_wrong_types(kwargs: dict[str, object]) -> None:
    with pytest.raises(errors.WrongType):
        siltfs.connect(**kwargs)  # type: ignore[arg-type]
