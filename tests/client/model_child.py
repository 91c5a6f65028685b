"""The plain dict model of the siltfs namespace, the operations run against both, and (run as
a script) the child process of the kill -9 model test.

Shared by ``test_model.py``: the Hypothesis state machine drives :class:`Op` objects
through :meth:`Op.expect` (what the model says must happen) and :meth:`Op.run` (what
siltfs does); the kill -9 test replays the seeded :func:`plan` that the child executed.

Usage as a child: ``python model_child.py HOME SEED N_OPS``.  It opens siltfs on HOME,
runs the N_OPS operations of ``plan(SEED, N_OPS)``, prints ``ACK <i>`` as operation i
returns with the outcome the model predicted (``MISMATCH <i> <detail>`` and exit 3 if
not), then ``DONE``, and blocks until the parent kills it.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import siltfs
from siltfs import errors
from siltfs.config import CacheConfig, PersistConfig, SiltConfig
from siltfs.model import paths
from siltfs.model.enums import PersistenceState

NAMES = ("a", "b", "c")
MAX_DEPTH = 3
BLOCK_SIZE = 4 * 1024
MAX_SIZE = 10 * 1024
WRITE_TYPES = ("MUST_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH")
PERSISTED = PersistenceState.PERSISTED
NOT_PERSISTED = PersistenceState.NOT_PERSISTED
TO_BE_PERSISTED = PersistenceState.TO_BE_PERSISTED
STAGING = ".silt_staging"
QUIESCE_TIMEOUT_S = 10  # tiny files: normally milliseconds; well below persist.lease_s


def config(home: Path) -> SiltConfig:
    """Small blocks (multi-block files are common) and fast persist retries."""
    return SiltConfig(
        home=home,
        cache=CacheConfig(block_size=BLOCK_SIZE),
        persist=PersistConfig(backoff_initial_s=0.01, backoff_max_s=0.05, poll_interval_s=0.01),
    )


def payload(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def ancestors(path: str) -> list[str]:
    """Proper ancestors of *path* below the root, top-down: /a, /a/b for /a/b/c."""
    parts = paths.components(path)
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


def moved(path: str, src: str, dst: str) -> str:
    return dst + path[len(src) :]


# the model ---------------------------------------------------------------------------
@dataclass
class Model:
    """What the namespace must hold.  ``cached_only``: files written MUST_CACHE and not yet
    persist()ed (state NOT_PERSISTED); ``persisted``: files known to be PERSISTED."""

    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    cached_only: set[str] = field(default_factory=set)
    persisted: set[str] = field(default_factory=set)

    def copy(self) -> Model:
        return Model(dict(self.files), set(self.dirs), set(self.cached_only), set(self.persisted))

    def kind(self, path: str) -> str | None:
        if path == paths.ROOT or path in self.dirs:
            return "dir"
        return "file" if path in self.files else None

    def entries(self) -> dict[str, bool]:
        """path -> is_dir, as ``fs.ls('/', recursive=True)`` must report it."""
        out = {d: True for d in self.dirs}
        out.update({f: False for f in self.files})
        return out

    def under(self, path: str) -> list[str]:
        return sorted(e for e in self.entries() if paths.is_ancestor(path, e))

    def file_ancestor(self, path: str) -> str | None:
        return next((a for a in ancestors(path) if a in self.files), None)

    def missing_parents(self, path: str) -> list[str]:
        return [a for a in ancestors(path) if self.kind(a) is None]

    def lookup_errors(self, path: str) -> tuple[type[Exception], ...]:
        """The error resolving an existing *path* must raise, or () if it exists."""
        if self.file_ancestor(path):
            return (errors.NotADirectory,)
        if self.kind(path) is None:
            return (errors.FileNotFound,)
        return ()

    def with_dirs(self, new: list[str]) -> Model:
        m = self.copy()
        m.dirs.update(new)
        return m

    def forget(self, path: str) -> None:
        for e in self.under(path):
            self.dirs.discard(e)
            self.files.pop(e, None)
            self.cached_only.discard(e)
            self.persisted.discard(e)


@dataclass
class Outcome:
    """What an operation may do: succeed leaving ``after`` (if ``ok``), or raise one of
    ``errors`` leaving the model unchanged.  A failure midway (a UFS error, kill -9) may
    leave the model as before, as ``after`` or as one of ``partial``; ``uncertain`` files
    may or may not have left ``cached_only`` then."""

    after: Model
    errors: tuple[type[Exception], ...] = ()
    ok: bool = True
    partial: list[Model] = field(default_factory=list)
    uncertain: frozenset[str] = frozenset()


def fail(model: Model, *errs: type[Exception]) -> Outcome:
    return Outcome(after=model, errors=errs, ok=False)


# operations ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    kind: str  # write, mkdir, rename, delete, persist, free, wait
    path: str = "/"
    dst: str = ""
    size: int = 0
    seed: int = 0
    write_type: str = "ASYNC_THROUGH"
    flag: bool = False  # mkdir: parents; delete: recursive

    def __str__(self) -> str:
        extra = {
            "write": f" {self.size}B seed={self.seed} {self.write_type}",
            "mkdir": f" parents={self.flag} {self.write_type}",
            "rename": f" -> {self.dst}",
            "delete": f" recursive={self.flag}",
        }.get(self.kind, "")
        return f"{self.kind} {self.path}{extra}"

    @property
    def data(self) -> bytes:
        return payload(self.seed, self.size)

    def run(self, fs: Any) -> None:
        if self.kind == "write":
            fs.write_bytes(self.path, self.data, write_type=self.write_type)
        elif self.kind == "mkdir":
            fs.mkdir(self.path, parents=self.flag, write_type=self.write_type)
        elif self.kind == "rename":
            fs.rename(self.path, self.dst)
        elif self.kind == "delete":
            fs.delete(self.path, recursive=self.flag)
        elif self.kind == "persist":
            fs.persist(self.path)
        elif self.kind == "free":
            fs.free(self.path)
        elif self.kind == "wait":
            try:
                fs.wait_persisted("/", timeout=0.1)
            except (errors.PersistTimeout, errors.PersistFailed):
                pass
        else:
            raise ValueError(self.kind)

    def expect(self, m: Model) -> Outcome:
        return getattr(self, "_expect_" + self.kind)(m)  # type: ignore[no-any-return]

    def _expect_write(self, m: Model) -> Outcome:
        if m.file_ancestor(self.path):
            return fail(m, errors.NotADirectory)
        if m.kind(self.path) == "dir":
            return fail(m, errors.IsADirectory)
        new = m.missing_parents(self.path)
        partial = [m.with_dirs(new[:k]) for k in range(1, len(new) + 1)]
        after = m.with_dirs(new)
        after.files[self.path] = self.data
        after.cached_only.discard(self.path)
        after.persisted.discard(self.path)
        if self.write_type == "MUST_CACHE":
            after.cached_only.add(self.path)
        elif self.write_type in ("CACHE_THROUGH", "THROUGH"):
            after.persisted.add(self.path)
        return Outcome(after=after, partial=partial)

    def _expect_mkdir(self, m: Model) -> Outcome:
        if m.file_ancestor(self.path):
            return fail(m, errors.NotADirectory)
        kind = m.kind(self.path)
        if kind == "file" or (kind == "dir" and not self.flag):
            return fail(m, errors.FileExists)
        if kind == "dir":
            return Outcome(after=m)
        new = m.missing_parents(self.path)
        if new and not self.flag:
            return fail(m, errors.FileNotFound)
        new.append(self.path)
        return Outcome(
            after=m.with_dirs(new), partial=[m.with_dirs(new[:k]) for k in range(1, len(new))]
        )

    def _expect_rename(self, m: Model) -> Outcome:
        src, dst = self.path, self.dst
        errs: list[type[Exception]] = []
        if paths.is_ancestor(src, dst) and src != dst:
            errs.append(errors.InvalidArgument)
        errs.extend(m.lookup_errors(src))
        if src == dst:
            return fail(m, *errs) if errs else Outcome(after=m)
        parent = paths.split(dst)[0]
        if m.file_ancestor(parent) or m.kind(parent) == "file":
            errs.append(errors.NotADirectory)
        elif m.kind(parent) is None:
            errs.append(errors.FileNotFound)
        elif m.kind(dst) is not None:
            errs.append(errors.FileExists)
        if errs:
            return fail(m, *errs)
        after = m.copy()
        after.dirs = {moved(d, src, dst) if paths.is_ancestor(src, d) else d for d in m.dirs}
        after.files = {
            moved(f, src, dst) if paths.is_ancestor(src, f) else f: data
            for f, data in m.files.items()
        }
        for name in ("cached_only", "persisted"):
            old: set[str] = getattr(m, name)
            setattr(
                after, name, {moved(f, src, dst) if paths.is_ancestor(src, f) else f for f in old}
            )
        return Outcome(after=after)

    def _expect_delete(self, m: Model) -> Outcome:
        errs = m.lookup_errors(self.path)
        if errs:
            return fail(m, *errs)
        if m.kind(self.path) == "dir" and not self.flag and len(m.under(self.path)) > 1:
            return fail(m, errors.DirectoryNotEmpty)
        after = m.copy()
        after.forget(self.path)
        return Outcome(after=after)

    def _expect_persist(self, m: Model) -> Outcome:
        errs = m.lookup_errors(self.path)
        if errs:
            return fail(m, *errs)
        after = m.copy()
        scheduled = after.cached_only.intersection(m.under(self.path))
        after.cached_only -= scheduled
        return Outcome(after=after, uncertain=frozenset(scheduled))

    def _expect_free(self, m: Model) -> Outcome:
        errs = m.lookup_errors(self.path)
        if errs:
            return fail(m, *errs)
        if m.kind(self.path) == "file" and self.path in m.cached_only:
            return fail(m, errors.InvalidArgument)  # its cache is the only copy
        if m.kind(self.path) == "file" and self.path not in m.persisted:
            # ASYNC_THROUGH: refused until its persist has committed
            return Outcome(after=m, errors=(errors.InvalidArgument,), ok=True)
        return Outcome(after=m)

    def _expect_wait(self, m: Model) -> Outcome:
        return Outcome(after=m)


def random_path(rng: random.Random) -> str:
    depth = rng.randint(1, MAX_DEPTH)
    return "/" + "/".join(rng.choice(NAMES) for _ in range(depth))


def pick(rng: random.Random, m: Model, *, existing: float = 0.6) -> str:
    entries = sorted(m.entries())
    if entries and rng.random() < existing:
        return rng.choice(entries)
    return random_path(rng)


def next_op(rng: random.Random, m: Model) -> Op:
    kind = rng.choices(
        ["write", "mkdir", "rename", "delete", "persist", "free", "wait"],
        weights=[8, 2, 4, 3, 2, 1, 1],
    )[0]
    if kind == "write":
        size = rng.choice([0, 1, BLOCK_SIZE, BLOCK_SIZE + 1, rng.randint(0, MAX_SIZE)])
        return Op(
            "write",
            pick(rng, m, existing=0.3),
            size=size,
            seed=rng.randrange(2**16),
            write_type=rng.choice(WRITE_TYPES),
        )
    if kind == "mkdir":
        wt = rng.choice(["MUST_CACHE", "ASYNC_THROUGH"])
        return Op("mkdir", random_path(rng), flag=rng.random() < 0.8, write_type=wt)
    if kind == "rename":
        return Op("rename", pick(rng, m, existing=0.9), dst=pick(rng, m, existing=0.2))
    if kind == "delete":
        return Op("delete", pick(rng, m, existing=0.9), flag=rng.random() < 0.7)
    if kind in ("persist", "free"):
        return Op(kind, pick(rng, m, existing=0.9))
    return Op("wait")


def plan(seed: int, n: int) -> tuple[list[Op], list[Model]]:
    """The *n* operations of *seed* and the model before each and after the last
    (``models[i]`` is the model after the first i operations)."""
    rng = random.Random(seed)
    m = Model()
    ops: list[Op] = []
    models = [m]
    for _ in range(n):
        op = next_op(rng, m)
        m = op.expect(m).after
        ops.append(op)
        models.append(m)
    return ops, models


# observing siltfs ---------------------------------------------------------------------
def observe(fs: Any) -> tuple[dict[str, bool], dict[str, bytes], dict[str, PersistenceState]]:
    """(path -> is_dir, file bytes, persistence states) of the whole namespace."""
    infos = fs.ls("/", recursive=True)
    entries = {i.path: i.is_dir for i in infos}
    states = {i.path: i.persistence_state for i in infos}
    files = {i.path: fs.read_bytes(i.path) for i in infos if not i.is_dir}
    return entries, files, states


def describe_diff(want: dict[str, Any], got: dict[str, Any]) -> str:
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    return f"missing={missing} extra={extra} differ={changed}"


def state_errors(m: Model, states: dict[str, PersistenceState]) -> list[str]:
    out = []
    for f in m.files:
        state = states[f]
        if f in m.cached_only and state is not NOT_PERSISTED:
            out.append(f"{f}: written MUST_CACHE and not persisted, but {state}")
        elif f in m.persisted and state is not PERSISTED:
            out.append(f"{f}: was PERSISTED, now {state}")
        elif state not in (NOT_PERSISTED, TO_BE_PERSISTED, PERSISTED):
            out.append(f"{f}: {state}")
        elif f not in m.cached_only and state is NOT_PERSISTED:
            out.append(f"{f}: persist was asked, but {state}")
    return out


def check_states(m: Model, states: dict[str, PersistenceState]) -> None:
    wrong = state_errors(m, states)
    assert not wrong, "; ".join(wrong)


def check(fs: Any, m: Model) -> None:
    """The namespace equals the model and every file reads back its bytes."""
    entries, files, states = observe(fs)
    want = m.entries()
    assert entries == want, f"namespace differs from the model: {describe_diff(want, entries)}"
    for f, data in m.files.items():
        assert files[f] == data, f"{f}: read {len(files[f])} bytes, model has {len(data)}"
    check_states(m, states)


def settle(fs: Any, candidates: list[Model], uncertain: frozenset[str] = frozenset()) -> Model:
    """After an operation failed midway: the one candidate the namespace now equals."""
    entries, files, states = observe(fs)
    for c in candidates:
        if c.entries() == entries and c.files == files:
            c = c.copy()
            for f in uncertain & set(c.files):
                if states[f] is NOT_PERSISTED:
                    c.cached_only.add(f)
                else:
                    c.cached_only.discard(f)
            if not state_errors(c, states):
                return c
    diffs = "; ".join(describe_diff(c.entries(), entries) for c in candidates)
    odd = [f for f in files if all(c.files.get(f) != files[f] for c in candidates)]
    raise AssertionError(
        f"the namespace is in none of the {len(candidates)} allowed states: {diffs}; "
        f"files whose bytes match no allowed state: {odd}"
    )


def ufs_entries(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def quiesce(fs: Any, m: Model, *, everything: bool, staging_may_leak: bool = False) -> Model:
    """Persist what is only cached, wait, then the UFS must equal the persisted namespace.

    With *everything* the whole tree is persisted (``persist('/')``), so every namespace
    entry must be in the UFS; otherwise each file is persisted on its own and directories
    created MUST_CACHE with no file under them may stay NOT_PERSISTED (and not in the UFS).
    """
    if everything:
        fs.persist("/")
    else:
        for f in sorted(m.files):
            fs.persist(f)
    fs.wait_persisted("/", timeout=QUIESCE_TIMEOUT_S)
    m = m.copy()
    m.cached_only.clear()
    m.persisted = set(m.files)
    infos = fs.ls("/", recursive=True)
    states = {i.path: i.persistence_state for i in infos}
    check_states(m, states)
    if everything:
        left = sorted(p for p, s in states.items() if s is not PERSISTED)
        assert not left, f"persist('/') + wait_persisted left entries unpersisted: {left}"
    root = fs.config.root_ufs_dir
    tree = ufs_entries(root)
    staged = {e for e in tree if e == STAGING or e.startswith(STAGING + "/")}
    if not staging_may_leak:
        assert not staged, f"staging objects left after wait_persisted: {sorted(staged)}"
    namespace = {p.lstrip("/") for p, s in states.items() if s is PERSISTED}
    tree -= staged
    diff = describe_diff(dict.fromkeys(namespace), dict.fromkeys(tree))
    assert tree == namespace, f"UFS differs from the persisted namespace: {diff}"
    for f, data in m.files.items():
        got = (root / f.lstrip("/")).read_bytes()
        assert got == data, f"UFS copy of {f}: {len(got)} bytes, model has {len(data)}"
    return m


# the kill -9 child -------------------------------------------------------------------
def main() -> None:
    home, seed, n = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    ops, models = plan(seed, n)
    fs = siltfs.connect(config=config(home))
    for i, op in enumerate(ops):
        out = op.expect(models[i])
        try:
            op.run(fs)
        except errors.SiltError as exc:
            if not isinstance(exc, out.errors):
                print(f"MISMATCH {i} {op}: raised {exc!r}, expected {out.errors}", flush=True)
                sys.exit(3)
        else:
            if not out.ok:
                print(f"MISMATCH {i} {op}: succeeded, expected {out.errors}", flush=True)
                sys.exit(3)
        print(f"ACK {i}", flush=True)
    print("DONE", flush=True)
    sys.stdin.read()  # block until the parent kills us


if __name__ == "__main__":
    main()
