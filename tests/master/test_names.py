"""One name validator, before any change (issue 16, item 4).

Every operation that creates or renames an entry -- writes of all four write types,
mkdir, ``mkdir -p``, touch, rename of a file or a directory, mount -- refuses a name the
under-storage cannot hold with InvalidPath (HTTP 400 remotely), and NOTHING changes: the
namespace listing, the UFS listing, the mount table and the job list are the same after
as before.  Embedded (``siltfs.connect``) and remote (a real ``silt master`` with its
blocks on a real ``silt worker``).

The bad names: characters and escapes that decode into a separator, a backslash, a NUL
or ``..`` -- percent-encoded once, twice or three times -- and a name that fits the
namespace's 4096 bytes but whose local UFS path (the mount's root directory included)
would not fit the kernel's PATH_MAX.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import siltfs
from siltfs import errors
from siltfs.client.remote import RemoteFileSystem
from siltfs.model.paths import MAX_PATH_BYTES
from tests.client.conftest import fast_config, ufs_tree
from tests.s3server import S3Bucket
from tests.servers import MasterProcess, start_cluster

# the local file system's PATH_MAX counts the terminating NUL: 4095 bytes is the longest
LOCAL_PATH_MAX = 4096
ROOM = 16  # bytes an operation may add below the bad name (".../new/<name>/sub")

DANGEROUS: dict[str, str] = {
    "backslash": "bad\\name",
    "slash-encoded": "a%2fb",
    "slash-encoded-upper": "a%2Fb",
    "backslash-encoded": "a%5cb",
    "nul-encoded": "a%00b",
    "dotdot-encoded": "%2e%2e",
    "dotdot-encoded-inside": "x%2E%2Ey",
    "dotdot-half-encoded": ".%2e",
    "slash-double-encoded": "a%252fb",
    "backslash-double-encoded": "a%255Cb",
    "nul-double-encoded": "a%2500b",
    "dotdot-double-encoded": "%252e%252e",
    "slash-triple-encoded": "a%25252fb",
}
LONG = "over-local-path-max"
CASES = [*DANGEROUS, LONG]


@dataclass
class Target:
    """A file system under test, the UFS directory of its root mount and a fresh base."""

    fs: Any
    ufs_root: Path
    base: str
    lake: Path  # an empty directory to mount

    def snapshot(self) -> tuple[object, ...]:
        entries = sorted(
            (i.path, i.is_dir, i.persistence_state.value, i.length)
            for i in self.fs.ls(self.base, recursive=True)
        )
        mounts = sorted((m.path, m.uri) for m in self.fs.mounts())
        jobs = sorted((j.id, str(j.state)) for j in self.fs.jobs())
        return entries, ufs_tree(self.ufs_root), mounts, jobs, ufs_tree(self.lake)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterProcess]:
    master, worker = start_cluster(tmp_path_factory.mktemp("names"))
    yield master
    master.stop()
    worker.stop()


@pytest.fixture(params=["embedded", "remote"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    lake = tmp_path / "lake"
    lake.mkdir()
    if request.param == "embedded":
        fs: Any = siltfs.connect(config=fast_config(tmp_path / "home"))
        ufs_root = fs.config.root_ufs_dir
    else:
        master: MasterProcess = request.getfixturevalue("cluster")
        fs = RemoteFileSystem(master.url, master.token, timeout=60)
        ufs_root = master.home / "ufs"
    base = f"/t-{uuid.uuid4().hex[:10]}"
    fs.mkdir(base)
    try:
        yield Target(fs, ufs_root, base, lake)
    finally:
        fs.close()


def long_parent_and_name(t: Target) -> tuple[str, str]:
    """A parent directory (created here) and a name whose namespace path is valid but
    whose UFS path, the root mount's directory included, is longer than PATH_MAX."""
    assert len(str(t.ufs_root).encode()) > ROOM
    length = MAX_PATH_BYTES - ROOM  # what the namespace accepts, with room for more
    parent = t.base
    while length - len(parent.encode()) > 255:
        parent += "/" + "d" * min(200, length - len(parent) - 255)
    t.fs.mkdir(parent, parents=True)
    name = "n" * (length - len(parent) - 1)
    assert len((parent + "/" + name).encode()) == length
    assert len(str(t.ufs_root).encode()) + length >= LOCAL_PATH_MAX  # too long for the UFS
    return parent, name


Op = Callable[[Target, str, str], object]


def _write(wt: str) -> Op:
    return lambda t, parent, name: t.fs.write_bytes(f"{parent}/{name}", b"data", write_type=wt)


def _write_below(wt: str) -> Op:
    """The bad name is a directory the write would create implicitly."""
    return lambda t, parent, name: t.fs.write_bytes(f"{parent}/{name}/f", b"x", write_type=wt)


OPS: dict[str, Op] = {
    "write-MUST_CACHE": _write("MUST_CACHE"),
    "write-CACHE_THROUGH": _write("CACHE_THROUGH"),
    "write-THROUGH": _write("THROUGH"),
    "write-ASYNC_THROUGH": _write("ASYNC_THROUGH"),
    "write-implicit-dir-MUST_CACHE": _write_below("MUST_CACHE"),
    "write-implicit-dir-ASYNC_THROUGH": _write_below("ASYNC_THROUGH"),
    "write-implicit-dir-CACHE_THROUGH": _write_below("CACHE_THROUGH"),
    "mkdir": lambda t, parent, name: t.fs.mkdir(f"{parent}/{name}"),
    "mkdir-parents": lambda t, parent, name: t.fs.mkdir(f"{parent}/new/{name}", parents=True),
    "mkdir-parents-middle": lambda t, parent, name: t.fs.mkdir(
        f"{parent}/{name}/sub", parents=True
    ),
    "touch": lambda t, parent, name: t.fs.touch(f"{parent}/{name}"),
    "rename-persisted-file": lambda t, parent, name: t.fs.rename(
        f"{t.base}/ok", f"{parent}/{name}"
    ),
    "rename-cached-file": lambda t, parent, name: t.fs.rename(
        f"{t.base}/cached", f"{parent}/{name}"
    ),
    "rename-dir": lambda t, parent, name: t.fs.rename(f"{t.base}/dir", f"{parent}/{name}"),
    "mount": lambda t, parent, name: t.fs.mount(f"{parent}/{name}", "file://" + str(t.lake)),
}


def populate(t: Target) -> None:
    t.fs.write_bytes(f"{t.base}/ok", b"persisted", write_type="CACHE_THROUGH")
    t.fs.write_bytes(f"{t.base}/cached", b"cached", write_type="MUST_CACHE")
    t.fs.mkdir(f"{t.base}/dir")
    t.fs.write_bytes(f"{t.base}/dir/f", b"in dir", write_type="CACHE_THROUGH")
    t.fs.mkdir(f"{t.base}/dir/sub")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("op", list(OPS))
def test_a_name_the_ufs_cannot_hold_changes_nothing(target: Target, op: str, case: str) -> None:
    t = target
    populate(t)
    if case == LONG:
        parent, name = long_parent_and_name(t)
    else:
        parent, name = t.base, DANGEROUS[case]
    t.fs.wait_persisted(t.base, timeout=30)
    before = t.snapshot()
    with pytest.raises(errors.InvalidPath) as info:
        OPS[op](t, parent, name)
    exc = info.value
    assert type(exc) is errors.InvalidPath, f"{type(exc).__name__}: {exc}"
    assert exc.path is not None and exc.path.startswith(parent), exc.path
    if case == LONG:
        assert str(LOCAL_PATH_MAX) in exc.message and "PATH_MAX" in exc.message, exc.message
    assert t.snapshot() == before
    assert t.fs.read_bytes(f"{t.base}/ok") == b"persisted"
    assert t.fs.read_bytes(f"{t.base}/cached") == b"cached"
    report = t.fs.check_consistency(t.base)
    assert report.consistent, report.to_dict()


def test_the_longest_ufs_path_is_accepted(target: Target) -> None:
    """The limit is the kernel's, not a guess: one byte less than the refused path works
    for every write type, through the UFS and back."""
    t = target
    parent, name = long_parent_and_name(t)
    spare = LOCAL_PATH_MAX - 1 - len(str(t.ufs_root).encode()) - len(parent.encode()) - 1
    assert spare > 0
    name = name[: spare - 1]  # the UFS path is exactly 4095 bytes
    for i, wt in enumerate(["MUST_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH"]):
        t.fs.write_bytes(f"{parent}/{i}{name}", wt.encode(), write_type=wt)
    t.fs.persist(t.base)
    t.fs.wait_persisted(t.base, timeout=30)
    for i, wt in enumerate(["MUST_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH"]):
        local = t.ufs_root / f"{parent}/{i}{name}"[1:]
        assert len(str(local).encode()) <= LOCAL_PATH_MAX - 1
        assert local.read_bytes() == wt.encode()
    assert t.fs.check_consistency(t.base).consistent


def _deep_dir(t: Target) -> tuple[str, int]:
    """``<base>/dir`` holding a file as deep as the UFS allows: returns the deepest path
    and how many bytes longer a new name of the directory may be before it is too long."""
    root = len(str(t.ufs_root).encode())
    top = f"{t.base}/dir"
    deep = top
    budget = LOCAL_PATH_MAX - 1 - root - 40  # the deepest file leaves 40 bytes spare
    while budget - len(deep.encode()) > 255:
        deep += "/" + "e" * 200
    deep += "/" + "f" * (budget - len(deep.encode()) - 1)
    t.fs.mkdir(deep.rsplit("/", 1)[0], parents=True)
    t.fs.write_bytes(deep, b"deepest", write_type="CACHE_THROUGH")
    return deep, 40


@pytest.mark.parametrize("persisted", [True, False], ids=["persisted", "cached"])
def test_renaming_a_directory_checks_its_deepest_descendant(
    target: Target, persisted: bool
) -> None:
    """``dir`` -> a name 41 bytes longer: the directory's own path is short, but its
    deepest file would be one byte over PATH_MAX in the UFS."""
    t = target
    deep, spare = _deep_dir(t)
    if not persisted:
        t.fs.write_bytes(f"{t.base}/dir/cached", b"c", write_type="MUST_CACHE")
    t.fs.mkdir(f"{t.base}/other")
    t.fs.wait_persisted(t.base, timeout=30)
    before = t.snapshot()
    too_long = f"{t.base}/other/" + "r" * (len("dir") + spare + 1 - len("other/"))
    with pytest.raises(errors.InvalidPath) as info:
        t.fs.rename(f"{t.base}/dir", too_long)
    assert info.value.path is not None and info.value.path.startswith(too_long)
    assert "PATH_MAX" in info.value.message
    assert t.snapshot() == before
    fits = too_long[:-1]
    t.fs.rename(f"{t.base}/dir", fits)  # one byte shorter: the deepest file just fits
    moved = fits + deep[len(f"{t.base}/dir") :]
    assert t.fs.read_bytes(moved) == b"deepest"
    assert (t.ufs_root / moved[1:]).read_bytes() == b"deepest"
    assert t.fs.check_consistency(t.base).consistent


def test_renaming_a_directory_beyond_the_namespace_limit_changes_nothing(
    target: Target,
) -> None:
    """The namespace's own 4096 bytes hold for the deepest descendant too (here the
    mount point's long name makes the UFS paths shorter than the namespace's)."""
    t = target
    mnt = f"{t.base}/" + "m" * 200
    t.fs.mount(mnt, "file://" + str(t.lake))
    assert len(str(t.lake)) < 150
    top = f"{mnt}/dir"
    deep = top
    while MAX_PATH_BYTES - 10 - len(deep.encode()) > 255:
        deep += "/" + "g" * 200
    deep += "/" + "h" * (MAX_PATH_BYTES - 10 - len(deep.encode()) - 1)
    t.fs.mkdir(deep.rsplit("/", 1)[0], parents=True)
    t.fs.write_bytes(deep, b"deep", write_type="CACHE_THROUGH")
    before = t.snapshot()
    with pytest.raises(errors.InvalidPath) as info:
        t.fs.rename(top, f"{mnt}/" + "x" * 14)
    assert str(MAX_PATH_BYTES) in info.value.message
    assert t.snapshot() == before
    t.fs.rename(top, f"{mnt}/" + "x" * 13)
    assert t.fs.read_bytes(f"{mnt}/" + "x" * 13 + deep[len(top) :]) == b"deep"


def test_remote_answers_400_invalid_path(cluster: MasterProcess, tmp_path: Path) -> None:
    """On the wire: 400 with code invalid_path, never a 500 or a FAILED job later."""
    fs = RemoteFileSystem(cluster.url, cluster.token)
    base = f"/t-{uuid.uuid4().hex[:10]}"
    fs.mkdir(base)
    fs.write_bytes(f"{base}/ok", b"ok", write_type="CACHE_THROUGH")
    fs.close()
    bad = f"{base}/a%252fb"
    api = cluster.url + "/api/v1"
    calls = [
        ("PUT", "/data", {"params": {"path": bad, "write_type": "ASYNC_THROUGH"}, "content": b"x"}),
        ("PUT", "/data", {"params": {"path": bad, "write_type": "MUST_CACHE"}, "content": b"x"}),
        ("POST", "/mkdir", {"json": {"path": f"{base}/p/{bad[len(base) + 1 :]}", "parents": True}}),
        ("POST", "/touch", {"json": {"path": bad}}),
        ("POST", "/rename", {"json": {"src": f"{base}/ok", "dst": bad}}),
        ("POST", "/mount", {"json": {"path": bad, "uri": "file://" + str(tmp_path)}}),
    ]
    for method, route, kwargs in calls:
        r = httpx.request(method, api + route, headers=cluster.auth(), timeout=30, **kwargs)
        assert r.status_code == 400, (route, r.status_code, r.text)
        body = r.json()
        assert body["code"] == "invalid_path" and body["path"].startswith(base), body
    r = httpx.get(
        api + "/ls", params={"path": base, "recursive": "true"}, headers=cluster.auth(), timeout=30
    )
    assert [e["path"] for e in r.json()] == [f"{base}/ok"]


def test_mounting_a_root_the_kernel_refuses_as_too_long_changes_nothing(
    target: Target,
) -> None:
    """ENAMETOOLONG from the local adapter is InvalidPath (400), not a 409 or a 500."""
    t = target
    before = t.snapshot()
    too_long = str(t.lake) + "/" + "/".join(["x" * 250] * 17)
    with pytest.raises(errors.InvalidPath) as info:
        t.fs.mount(f"{t.base}/m", "file://" + too_long)
    assert "ENAMETOOLONG" in info.value.message and info.value.path == f"{t.base}/m"
    assert t.snapshot() == before


# S3: keys of at most 1024 bytes, the mount's prefix included -----------------------
S3_PREFIX = "pre/fix"
S3_OPS = [
    "write-MUST_CACHE",
    "write-CACHE_THROUGH",
    "write-THROUGH",
    "write-ASYNC_THROUGH",
    "write-implicit-dir-ASYNC_THROUGH",
    "mkdir",
    "mkdir-parents",
    "touch",
    "rename-persisted-file",
    "rename-cached-file",
    "rename-dir",
]


@pytest.fixture
def on_s3(target: Target, s3_bucket: S3Bucket) -> tuple[Target, S3Bucket, str]:
    """*target* with a bucket mounted at ``<base>/s3``, populated, and a parent directory
    under which a name of the returned length makes a key of exactly 1025 bytes."""
    mnt = f"{target.base}/s3"
    target.fs.mount(mnt, s3_bucket.uri(S3_PREFIX), options=s3_bucket.options)
    t = Target(target.fs, target.ufs_root, mnt, target.lake)
    populate(t)
    rel_parent = "/".join(["k" * 200] * 4)
    t.fs.mkdir(f"{mnt}/{rel_parent}", parents=True)
    t.fs.wait_persisted(mnt, timeout=30)
    return t, s3_bucket, f"{mnt}/{rel_parent}"


def _s3_name(parent: str, mnt: str, key_bytes: int) -> str:
    used = len(f"{S3_PREFIX}/{parent[len(mnt) + 1 :]}/".encode())
    return "n" * (key_bytes - used)


@pytest.mark.parametrize("op", S3_OPS)
def test_an_s3_key_over_1024_bytes_changes_nothing(
    on_s3: tuple[Target, S3Bucket, str], op: str
) -> None:
    t, bucket, parent = on_s3
    name = _s3_name(parent, t.base, 1025)
    if op == "mkdir-parents":
        name = name[:-4]  # ".../new/<name>": 1025 bytes again
    if op == "write-implicit-dir-ASYNC_THROUGH":
        name = name[:-2]  # "<name>/f": a file key of 1025 bytes
    before, keys = t.snapshot(), bucket.keys()
    with pytest.raises(errors.InvalidPath) as info:
        OPS[op](t, parent, name)
    assert "1024" in info.value.message, info.value.message
    assert info.value.path is not None and info.value.path.startswith(parent)
    assert t.snapshot() == before
    assert bucket.keys() == keys
    assert t.fs.check_consistency(t.base).consistent


def test_an_s3_key_of_1024_bytes_is_accepted(on_s3: tuple[Target, S3Bucket, str]) -> None:
    """A file's key may be 1024 bytes; a directory's marker (its key and '/') too."""
    t, bucket, parent = on_s3
    name = _s3_name(parent, t.base, 1024)
    t.fs.write_bytes(f"{parent}/{name}", b"at the limit", write_type="CACHE_THROUGH")
    key = f"{S3_PREFIX}/{parent[len(t.base) + 1 :]}/{name}"
    assert len(key.encode()) == 1024 and bucket.read(key) == b"at the limit"
    with pytest.raises(errors.InvalidPath):
        t.fs.mkdir(f"{parent}/d{name[1:]}")  # its marker would be 1025 bytes
    t.fs.mkdir(f"{parent}/d{name[2:]}")
    assert f"{key[: -len(name)]}d{name[2:]}/" in bucket.keys()
    assert t.fs.check_consistency(t.base).consistent
