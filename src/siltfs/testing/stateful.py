"""A Hypothesis state machine: a FileSystem against a plain model of its namespace.

Random mkdir, writes of every write type, renames, deletes and reads under a directory
private to the run; after every step the listing equals the model, each read returns
the bytes last written, each failure is the error class the model predicts (and changes
nothing), and at the end -- after ``wait_persisted`` -- every file written with a write
type that persists is PERSISTED and reads back its bytes.

Subclass :class:`NamespaceStateMachine`, override :meth:`~NamespaceStateMachine.make_fs`
(and :meth:`~NamespaceStateMachine.close_fs` if closing is not enough), and run it (as
zarr's ``testing/stateful.py`` machines are)::

    class EmbeddedNamespace(NamespaceStateMachine):
        def make_fs(self):
            return siltfs.connect(config=SiltConfig(home=tempfile.mkdtemp()))

    TestEmbeddedNamespace = EmbeddedNamespace.TestCase
    TestEmbeddedNamespace.settings = settings(max_examples=20, stateful_step_count=20,
                                              deadline=None)

or, to use pytest fixtures, ``hypothesis.stateful.run_state_machine_as_test(cls,
settings=...)`` inside a test.  Needs Hypothesis (``pip install 'siltfs[test]'``).
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from siltfs import errors

__all__ = [
    "MAX_DEPTH",
    "NAMES",
    "Namespace",
    "NamespaceStateMachine",
    "PERSISTING",
    "ancestors",
    "below",
]

NAMES = ("a", "b", "c")
MAX_DEPTH = 3
PERSISTING = ("CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH")

rel_paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=MAX_DEPTH).map("/".join)
sizes = st.one_of(st.sampled_from([0, 1, 4096, 4097]), st.integers(0, 8192))

ErrorClasses = tuple[type[errors.SiltError], ...]


def ancestors(rel: str) -> list[str]:
    """Proper ancestors of *rel*, top-down: ``a``, ``a/b`` for ``a/b/c``."""
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def below(ancestor: str, rel: str) -> bool:
    return rel == ancestor or rel.startswith(ancestor + "/")


class Namespace:
    """The model: files (relative path -> bytes, write type) and directories."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.write_types: dict[str, str] = {}
        self.dirs: set[str] = set()

    def kind(self, rel: str) -> str | None:
        if rel == "" or rel in self.dirs:
            return "dir"
        return "file" if rel in self.files else None

    def entries(self) -> list[str]:
        return sorted([*self.dirs, *self.files])

    def file_ancestor(self, rel: str) -> str | None:
        return next((a for a in ancestors(rel) if a in self.files), None)

    def lookup_errors(self, rel: str) -> ErrorClasses:
        """What resolving *rel* raises, () if it exists."""
        if self.file_ancestor(rel):
            return (errors.NotADirectory,)
        return (errors.FileNotFound,) if self.kind(rel) is None else ()

    def add_parents(self, rel: str) -> None:
        self.dirs.update(ancestors(rel))

    def forget(self, rel: str) -> None:
        self.dirs = {d for d in self.dirs if not below(rel, d)}
        for f in [f for f in self.files if below(rel, f)]:
            del self.files[f], self.write_types[f]

    def move(self, src: str, dst: str) -> None:
        def moved(p: str) -> str:
            return dst + p[len(src) :] if below(src, p) else p

        self.dirs = {moved(d) for d in self.dirs}
        self.files = {moved(f): data for f, data in self.files.items()}
        self.write_types = {moved(f): wt for f, wt in self.write_types.items()}


class NamespaceStateMachine(RuleBasedStateMachine):
    """Override :meth:`make_fs`; the machine works under a fresh top-level directory."""

    write_types: tuple[str, ...] = ("MUST_CACHE", *PERSISTING)
    persist_timeout_s: float = 60.0

    def make_fs(self) -> Any:
        """The FileSystem under test (embedded or remote); one per example."""
        raise NotImplementedError("subclasses provide make_fs")

    def close_fs(self, fs: Any) -> None:
        fs.close()

    def __init__(self) -> None:
        super().__init__()
        self.fs = self.make_fs()
        self.root = f"/sm-{uuid.uuid4().hex[:10]}"
        self.fs.mkdir(self.root)
        self.model = Namespace()

    def full(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def expect(self, allowed: ErrorClasses, call: Any, *args: Any, **kwargs: Any) -> bool:
        """Run the call: True if it succeeded (*allowed* empty), False if it raised one
        of *allowed*; anything else fails the test."""
        note(f"{getattr(call, '__name__', call)}{args} {kwargs} expecting {allowed or 'success'}")
        try:
            call(*args, **kwargs)
        except errors.SiltError as exc:
            if not isinstance(exc, allowed):
                names = [e.__name__ for e in allowed] or "success"
                raise AssertionError(f"raised {exc!r}, the model expects {names}") from exc
            return False
        assert not allowed, f"succeeded, the model expects one of {allowed}"
        return True

    def pick(self, index: int, fallback: str) -> str:
        """The index-th existing entry, or *fallback* when there is none (same draws in
        every state)."""
        entries = self.model.entries()
        return entries[index % len(entries)] if entries else fallback

    # rules ---------------------------------------------------------------------------
    @rule(rel=rel_paths, size=sizes, seed=st.integers(0, 2**16), wt=st.integers(0, 2**8))
    def write(self, rel: str, size: int, seed: int, wt: int) -> None:
        write_type = self.write_types[wt % len(self.write_types)]
        data = seed.to_bytes(4, "big") * (size // 4) + b"x" * (size % 4)
        m = self.model
        allowed: ErrorClasses = ()
        if m.file_ancestor(rel):
            allowed = (errors.NotADirectory,)
        elif m.kind(rel) == "dir":
            allowed = (errors.IsADirectory,)
        if self.expect(allowed, self.fs.write_bytes, self.full(rel), data, write_type=write_type):
            m.add_parents(rel)
            m.files[rel], m.write_types[rel] = data, write_type

    @rule(rel=rel_paths, parents=st.booleans())
    def mkdir(self, rel: str, parents: bool) -> None:
        m = self.model
        kind = m.kind(rel)
        allowed: ErrorClasses = ()
        if m.file_ancestor(rel):
            allowed = (errors.NotADirectory,)
        elif kind == "file" or (kind == "dir" and not parents):
            allowed = (errors.FileExists,)
        elif not parents and any(m.kind(a) is None for a in ancestors(rel)):
            allowed = (errors.FileNotFound,)
        if self.expect(allowed, self.fs.mkdir, self.full(rel), parents=parents):
            m.add_parents(rel)
            m.dirs.add(rel)

    @rule(src=st.integers(0, 2**16), fallback=rel_paths, dst=rel_paths)
    def rename(self, src: int, fallback: str, dst: str) -> None:
        m = self.model
        source = self.pick(src, fallback)
        allowed: list[type[errors.SiltError]] = []
        if below(source, dst) and source != dst:
            allowed.append(errors.InvalidArgument)
        allowed.extend(m.lookup_errors(source))
        parent = dst.rpartition("/")[0]
        if source != dst:
            if m.file_ancestor(parent) or m.kind(parent) == "file":
                allowed.append(errors.NotADirectory)
            elif m.kind(parent) is None:
                allowed.append(errors.FileNotFound)
            elif m.kind(dst) is not None:
                allowed.append(errors.FileExists)
        if self.expect(tuple(allowed), self.fs.rename, self.full(source), self.full(dst)):
            m.move(source, dst)

    @rule(at=st.integers(0, 2**16), fallback=rel_paths, recursive=st.booleans())
    def delete(self, at: int, fallback: str, recursive: bool) -> None:
        m = self.model
        rel = self.pick(at, fallback)
        allowed = m.lookup_errors(rel)
        if not allowed and m.kind(rel) == "dir" and not recursive:
            if any(below(rel, e) and e != rel for e in m.entries()):
                allowed = (errors.DirectoryNotEmpty,)
        if self.expect(allowed, self.fs.delete, self.full(rel), recursive=recursive):
            m.forget(rel)

    @precondition(lambda self: bool(self.model.files))
    @rule(at=st.integers(0, 2**16))
    def read(self, at: int) -> None:
        files = sorted(self.model.files)
        rel = files[at % len(files)]
        assert self.fs.read_bytes(self.full(rel)) == self.model.files[rel], rel

    # checks --------------------------------------------------------------------------
    @invariant()
    def listing_equals_model(self) -> None:
        listed = {
            info.path: (info.is_dir, 0 if info.is_dir else info.length)
            for info in self.fs.ls(self.root, recursive=True)
        }
        model = {self.full(d): (True, 0) for d in self.model.dirs}
        model.update({self.full(f): (False, len(b)) for f, b in self.model.files.items()})
        assert listed == model

    def teardown(self) -> None:
        try:
            self.fs.wait_persisted(self.root, timeout=self.persist_timeout_s)
            for rel, data in self.model.files.items():
                info = self.fs.stat(self.full(rel))
                if self.model.write_types[rel] in PERSISTING:
                    assert info.persisted, f"{rel}: {info.persistence_state} after wait"
                assert self.fs.read_bytes(self.full(rel)) == data, rel
            self.fs.delete(self.root, recursive=True)
        finally:
            self.close_fs(self.fs)
