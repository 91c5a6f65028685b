"""Conformance, errors: every bad input raises the same :mod:`siltfs.errors` class with the
same ``.path`` on every backend (``anyfs``), and changes nothing.  The embedded
FileSystem is the reference; ``tests/client/test_bad_input.py`` specifies it in depth."""

from __future__ import annotations

import errno
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siltfs import errors
from siltfs.client.base import FileSystem
from siltfs.testing.fs_common import fails

LONG_NAME = "/" + "n" * 256
LONG_MULTIBYTE_NAME = "/" + "é" * 128  # 256 bytes in UTF-8
LONG_PATH = "/" + "/".join(["d" * 100] * 41)  # 4141 bytes, every name valid

# (id, value, class, the .path of the error)
BAD_PATHS: list[tuple[str, object, type[errors.SiltError], str]] = [
    ("relative", "a/b", errors.InvalidPath, "a/b"),
    ("relative-dotdot", "../x", errors.InvalidPath, "../x"),
    ("dotdot", "/a/../b", errors.InvalidPath, "/a/../b"),
    ("dot", "/a/./b", errors.InvalidPath, "/a/./b"),
    ("nul", "/a\x00b", errors.InvalidPath, "/a\\0b"),
    ("empty-component", "/a//b", errors.InvalidPath, "/a//b"),
    ("double-slash", "//", errors.InvalidPath, "//"),
    ("empty", "", errors.InvalidPath, "''"),
    ("name-256-bytes", LONG_NAME, errors.NameTooLong, LONG_NAME[:80] + "..."),
    (
        "name-256-utf8-bytes",
        LONG_MULTIBYTE_NAME,
        errors.NameTooLong,
        LONG_MULTIBYTE_NAME[:80] + "...",
    ),
    ("path-over-4096", LONG_PATH, errors.NameTooLong, LONG_PATH[:80] + "..."),
    ("lone-surrogate", "/bad\udc80name", errors.InvalidPath, repr("/bad\udc80name")),
    ("none", None, errors.WrongType, "None"),
    ("int", 1, errors.WrongType, "1"),
    ("bytes", b"/x", errors.WrongType, "b'/x'"),
    ("list", ["/x"], errors.WrongType, "['/x']"),
]

Op = Callable[[Any, Any, "Env"], object]


class Env:
    def __init__(self, fs: FileSystem, base: str, tmp_path: Path) -> None:
        self.fs, self.base, self.tmp = fs, base, tmp_path
        self.local = tmp_path / "local.bin"
        self.local.write_bytes(b"local bytes")
        self.target = tmp_path / "got.bin"
        fs.write_bytes(f"{base}/existing", b"existing", write_type="CACHE_THROUGH")
        fs.write_bytes(f"{base}/dir/file", b"file", write_type="MUST_CACHE")

    def snapshot(self) -> tuple[object, ...]:
        listing = [
            (i.path, i.length, i.pinned, i.ttl) for i in self.fs.ls(self.base, recursive=True)
        ]
        return listing, sorted(p.name for p in self.tmp.iterdir()), self.fs.exists("/renamed")


@pytest.fixture
def env(anyfs: FileSystem, base: str, tmp_path: Path) -> Env:
    return Env(anyfs, base, tmp_path)


OPS: dict[str, Op] = {
    "mkdir": lambda fs, p, e: fs.mkdir(p),
    "mkdir-parents": lambda fs, p, e: fs.mkdir(p, parents=True, exist_ok=True),
    "makedirs": lambda fs, p, e: fs.makedirs(p, parents=True),
    "ls": lambda fs, p, e: fs.ls(p),
    "ls-recursive": lambda fs, p, e: fs.ls(p, recursive=True),
    "stat": lambda fs, p, e: fs.stat(p),
    "stat-sync": lambda fs, p, e: fs.stat(p, sync_interval_ms=0),
    "exists": lambda fs, p, e: fs.exists(p),
    "rename-src": lambda fs, p, e: fs.rename(p, "/renamed"),
    "rename-dst": lambda fs, p, e: fs.rename(f"{e.base}/existing", p),
    "mv": lambda fs, p, e: fs.mv(f"{e.base}/dir", p),
    "delete": lambda fs, p, e: fs.delete(p),
    "rm-recursive": lambda fs, p, e: fs.rm(p, recursive=True),
    "sync_metadata": lambda fs, p, e: fs.sync_metadata(p, recursive=True),
    "mount": lambda fs, p, e: fs.mount(p, "file://" + str(e.tmp)),
    "unmount": lambda fs, p, e: fs.unmount(p),
    "open-rb": lambda fs, p, e: fs.open(p, "rb"),
    "open-r": lambda fs, p, e: fs.open(p, "r"),
    "open-wb": lambda fs, p, e: fs.open(p, "wb"),
    "open-xb": lambda fs, p, e: fs.open(p, "xb"),
    "open-w": lambda fs, p, e: fs.open(p, "w"),
    "write_bytes": lambda fs, p, e: fs.write_bytes(p, b"data"),
    "write_bytes-through": lambda fs, p, e: fs.write_bytes(p, b"data", write_type="THROUGH"),
    "read_bytes": lambda fs, p, e: fs.read_bytes(p),
    "cat": lambda fs, p, e: fs.cat(p, 1, 2),
    "touch": lambda fs, p, e: fs.touch(p),
    "put": lambda fs, p, e: fs.put(e.local, p),
    "get": lambda fs, p, e: fs.get(p, e.target),
    "persist": lambda fs, p, e: fs.persist(p),
    "wait_persisted": lambda fs, p, e: fs.wait_persisted(p, timeout=5),
    "free": lambda fs, p, e: fs.free(p),
    "load": lambda fs, p, e: fs.load(p),
    "set_attribute-pin": lambda fs, p, e: fs.set_attribute(p, pinned=True),
    "set_attribute-ttl": lambda fs, p, e: fs.set_attribute(p, ttl=0, ttl_action="DELETE"),
    "du": lambda fs, p, e: fs.du(p),
    "check_consistency": lambda fs, p, e: fs.check_consistency(p, repair=True),
}


@pytest.mark.parametrize(
    ("path", "cls", "shown"), [pytest.param(v, c, s, id=i) for i, v, c, s in BAD_PATHS]
)
def test_bad_path_every_operation(
    env: Env, path: object, cls: type[errors.SiltError], shown: str
) -> None:
    before = env.snapshot()
    for name, op in OPS.items():
        if name == "wait_persisted" and path is None:
            env.fs.wait_persisted(path, timeout=5)  # None is the documented default: "/"
            continue
        err = fails(cls, shown, op, env.fs, path, env)
        expected = ValueError if issubclass(cls, errors.InvalidPath) else TypeError
        assert isinstance(err, expected), name
    assert env.snapshot() == before


# wrong types and bad values of the other arguments ---------------------------------------------
Case = tuple[str, Callable[[], object], type[errors.SiltError], str | None]


def bad_arguments(e: Env) -> list[Case]:
    """(name, call, error class, its .path) for every argument but the path."""
    fs, b = e.fs, e.base
    other = "file://" + str(e.tmp)
    return [
        # flags: WrongType, naming no path
        *[
            (f"flag-{name}", call, errors.WrongType, None)
            for name, call in [
                ("ls-recursive", lambda: fs.ls(b, recursive=1)),
                ("delete-recursive", lambda: fs.delete(f"{b}/dir", recursive="yes")),
                ("delete-unchecked", lambda: fs.delete(f"{b}/dir", unchecked=None)),
                ("delete-namespace_only", lambda: fs.delete(f"{b}/dir", namespace_only=0)),
                ("mkdir-parents", lambda: fs.mkdir(f"{b}/p/q", parents=[True])),
                ("mkdir-exist_ok", lambda: fs.mkdir(f"{b}/dir", exist_ok="")),
                ("mount-read_only", lambda: fs.mount(f"{b}/m", other, read_only=1)),
                ("set_attribute-pinned", lambda: fs.set_attribute(f"{b}/existing", pinned="yes")),
                ("sync_metadata-recursive", lambda: fs.sync_metadata(b, recursive=None)),
                ("check_consistency-repair", lambda: fs.check_consistency(b, repair=1)),
                (
                    "check_consistency-remove_ghosts",
                    lambda: fs.check_consistency(b, remove_ghosts=""),
                ),
            ]
        ],
        # sync intervals
        *[
            (f"{op}-interval-{v!r}", call, errors.InvalidArgument, None)
            for v in (-2, "0", 1.5, True)
            for op, call in [
                ("ls", lambda v=v: fs.ls(b, sync_interval_ms=v)),
                ("stat", lambda v=v: fs.stat(f"{b}/existing", sync_interval_ms=v)),
                ("exists", lambda v=v: fs.exists(f"{b}/existing", sync_interval_ms=v)),
                ("open", lambda v=v: fs.open(f"{b}/existing", "rb", sync_interval_ms=v)),
                ("mount", lambda v=v: fs.mount(f"{b}/m", other, sync_interval_ms=v)),
            ]
        ],
        # open
        *[
            (
                f"open-mode-{m!r}",
                lambda m=m: fs.open(f"{b}/existing", m),
                errors.InvalidArgument,
                f"{b}/existing",
            )
            for m in ("rw", "", "wx", "q", "ra", "r++", "aw")
        ],
        *[
            (
                f"open-mode-type-{m!r}",
                lambda m=m: fs.open(f"{b}/existing", m),
                errors.WrongType,
                f"{b}/existing",
            )
            for m in (None, 1, b"rb")
        ],
        *[
            (
                f"block_size-{v!r}",
                lambda v=v: fs.open(f"{b}/new", "wb", block_size=v),
                errors.InvalidArgument,
                f"{b}/new",
            )
            for v in (0, -1, "1024", 1.5, True)
        ],
        *[
            (
                f"replicas-{v!r}",
                lambda v=v: fs.open(f"{b}/new", "wb", replicas=v),
                errors.InvalidArgument,
                f"{b}/new",
            )
            for v in (0, -1, "2", True)
        ],
        (
            "encoding",
            lambda: fs.open(f"{b}/new", "w", encoding="no-such-codec"),
            errors.InvalidArgument,
            f"{b}/new",
        ),
        # data and ranges
        *[
            (f"data-{v!r}", lambda v=v: fs.write_bytes(f"{b}/new", v), errors.WrongType, f"{b}/new")
            for v in ("text", None, 1, ["b"], 3.5)
        ],
        (
            "data-existing",
            lambda: fs.write_bytes(f"{b}/existing", "text"),
            errors.WrongType,
            f"{b}/existing",
        ),
        *[
            (
                f"range-{k}",
                lambda k=k: fs.read_bytes(f"{b}/existing", **k),
                errors.WrongType,
                f"{b}/existing",
            )
            for k in ({"start": "1"}, {"end": "2"}, {"start": 1.5}, {"end": True})
        ],
        # mount
        *[
            (
                f"mount-options-{o!r}",
                lambda o=o: fs.mount(f"{b}/m", other, options=o),
                errors.WrongType,
                None,
            )
            for o in ("x", ["a"], 1)
        ],
        *[
            (
                f"mount-uri-{u!r}",
                lambda u=u: fs.mount(f"{b}/m", u),
                errors.InvalidArgument,
                f"{b}/m",
            )
            for u in ("", None, 5, b"file:///tmp")
        ],
        *[
            (f"mount-relative-{p}", lambda p=p: fs.mount(p, other), errors.InvalidPath, p)
            for p in ("lake2", "./x")
        ],
        ("mount-root", lambda: fs.mount("/", other), errors.MountError, "/"),
        # attributes
        *[
            (
                f"set_attribute-{k!r}",
                lambda k=k: fs.set_attribute(f"{b}/dir", **k),
                errors.InvalidArgument,
                f"{b}/dir",
            )
            for k in (
                {"ttl": -2},
                {"ttl": "10"},
                {"ttl": 1.5},
                {"ttl": True},
                {"pinned": True, "ttl": "bad"},
            )
        ],
        *[
            (
                f"set_attribute-{k!r}",
                lambda k=k: fs.set_attribute(f"{b}/dir", **k),
                errors.InvalidArgument,
                None,
            )
            for k in ({"ttl_action": "EXPLODE"}, {"ttl_action": 3})
        ],
        (
            "set_attribute-missing-bad-ttl",
            lambda: fs.set_attribute(f"{b}/nope", ttl="10"),
            errors.FileNotFound,
            f"{b}/nope",
        ),
        # wait_persisted
        *[
            (
                f"timeout-{t!r}",
                lambda t=t: fs.wait_persisted(b, timeout=t),
                errors.InvalidArgument,
                b,
            )
            for t in (-1, -0.001, "5", [1])
        ],
        # jobs
        ("jobs-state", lambda: fs.jobs("bogus"), errors.InvalidArgument, None),
        ("jobs-state-type", lambda: fs.jobs(3), errors.InvalidArgument, None),
        ("job-str", lambda: fs.job("1"), errors.WrongType, None),
        ("job-bool", lambda: fs.job(True), errors.WrongType, None),
        ("retry-str", lambda: fs.retry_job("1"), errors.WrongType, None),
        ("retry-none", lambda: fs.retry_job(), errors.InvalidArgument, None),
        ("cancel-float", lambda: fs.cancel_job(1.0), errors.WrongType, None),
        ("job-missing", lambda: fs.job(10**9), errors.JobNotFound, None),
        ("retry-missing", lambda: fs.retry_job(10**9), errors.JobNotFound, None),
        ("cancel-missing", lambda: fs.cancel_job(10**9), errors.JobNotFound, None),
    ]


def test_bad_arguments(env: Env) -> None:
    before = env.snapshot()
    wrong = []
    for name, call, cls, path in bad_arguments(env):
        try:
            fails(cls, path, call)
        except (AssertionError, pytest.fail.Exception) as exc:
            wrong.append(f"{name}: {str(exc).splitlines()[0]}")
    assert not wrong, "\n".join(wrong)
    assert env.snapshot() == before
    assert env.fs.stat(f"{env.base}/dir").ttl is None


BAD_WRITE_TYPES = ["BOGUS", "", "must cache", 5, object()]


@pytest.mark.parametrize("wt", BAD_WRITE_TYPES, ids=repr)
def test_bad_write_type(env: Env, wt: object) -> None:
    fs, b = env.fs, env.base
    before = env.snapshot()
    for call in (
        lambda: fs.write_bytes(f"{b}/new", b"x", write_type=wt),
        lambda: fs.open(f"{b}/new", "wb", write_type=wt),
        lambda: fs.open(f"{b}/new", "w", write_type=wt),
        lambda: fs.mkdir(f"{b}/new", write_type=wt),
        lambda: fs.touch(f"{b}/new", write_type=wt),
        lambda: fs.put(env.local, f"{b}/new", write_type=wt),
    ):
        fails(errors.InvalidArgument, None, call)
    assert env.snapshot() == before


def test_touch_existing_file_with_bad_write_type(env: Env, request: pytest.FixtureRequest) -> None:
    """A bad write type is refused even when touch has nothing to write."""
    fails(errors.InvalidArgument, None, env.fs.touch, f"{env.base}/existing", write_type="BOGUS")


@pytest.mark.parametrize("rt", ["BOGUS", "", "no cache please", 3], ids=repr)
def test_bad_read_type(env: Env, rt: object) -> None:
    fs, b = env.fs, env.base
    before = env.snapshot()
    for call in (
        lambda: fs.read_bytes(f"{b}/existing", read_type=rt),
        lambda: fs.open(f"{b}/existing", "rb", read_type=rt),
        lambda: fs.open(f"{b}/existing", "r", read_type=rt),
        lambda: fs.get(f"{b}/existing", env.target, read_type=rt),
    ):
        fails(errors.InvalidArgument, None, call)
    assert env.snapshot() == before


def test_argument_errors_come_before_namespace_errors(env: Env) -> None:
    """A call with a bad argument and a target that would fail fails on the argument."""
    fs, b = env.fs, env.base
    fails(errors.InvalidArgument, None, fs.open, f"{b}/dir", "wb", write_type="BOGUS")
    fails(errors.InvalidArgument, None, fs.open, f"{b}/existing", "xb", write_type="BOGUS")
    fails(errors.InvalidArgument, None, fs.put, env.local, f"{b}/dir", write_type="BOGUS")
    fails(errors.InvalidArgument, None, fs.open, f"{b}/nope", "rb", read_type="BOGUS")
    fails(errors.InvalidArgument, f"{b}/dir", fs.open, f"{b}/dir", "wb", block_size=0)
    fails(errors.InvalidArgument, f"{b}/nope", fs.open, f"{b}/nope", "rw")
    fails(errors.WrongType, None, fs.ls, f"{b}/nope", recursive=1)
    fails(errors.WrongType, f"{b}/nope", fs.read_bytes, f"{b}/nope", start="1")
    fails(errors.InvalidArgument, "/", fs.wait_persisted, "/", timeout=-1)


# the error objects themselves ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "builtin", "code", "status", "errno_value"),
    [
        (errors.FileNotFound, FileNotFoundError, "file_not_found", 404, errno.ENOENT),
        (errors.FileExists, FileExistsError, "file_exists", 409, errno.EEXIST),
        (errors.IsADirectory, IsADirectoryError, "is_a_directory", 409, errno.EISDIR),
        (errors.NotADirectory, NotADirectoryError, "not_a_directory", 409, errno.ENOTDIR),
        (errors.DirectoryNotEmpty, OSError, "directory_not_empty", 409, errno.ENOTEMPTY),
    ],
)
def test_namespace_errors_are_builtins_with_errno(
    env: Env,
    cls: type[errors.SiltError],
    builtin: type[Exception],
    code: str,
    status: int,
    errno_value: int,
) -> None:
    fs, b = env.fs, env.base
    call, path = {
        errors.FileNotFound: (lambda: fs.stat(f"{b}/nope"), f"{b}/nope"),
        errors.FileExists: (lambda: fs.mkdir(f"{b}/dir"), f"{b}/dir"),
        errors.IsADirectory: (lambda: fs.read_bytes(f"{b}/dir"), f"{b}/dir"),
        errors.NotADirectory: (lambda: fs.stat(f"{b}/existing/x"), f"{b}/existing"),
        errors.DirectoryNotEmpty: (lambda: fs.delete(f"{b}/dir"), f"{b}/dir"),
    }[cls]
    err = fails(cls, path, call)
    assert isinstance(err, builtin) and isinstance(err, OSError)
    assert (err.code, err.status, err.errno) == (code, status, errno_value)
    assert str(err) == f"{path}: {err.message}"
    assert err.filename == path
    assert err.to_dict()["code"] == code and err.to_dict()["path"] == path
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), again.path, again.message) == (cls, err.path, err.message)


def test_value_errors_are_builtins(env: Env) -> None:
    err = fails(errors.InvalidPath, "/a/../b", env.fs.stat, "/a/../b")
    assert isinstance(err, ValueError) and err.code == "invalid_path" and err.status == 400
    err = fails(errors.WrongType, "1", env.fs.stat, 1)
    assert isinstance(err, TypeError) and isinstance(err, errors.InvalidArgument)
    err = fails(
        errors.InvalidArgument, f"{env.base}/dir", env.fs.set_attribute, f"{env.base}/dir", ttl=-2
    )
    assert isinstance(err, ValueError) and err.code == "invalid_argument"
    err = fails(errors.JobNotFound, None, env.fs.job, 10**9)
    assert isinstance(err, LookupError) and err.code == "job_not_found"
