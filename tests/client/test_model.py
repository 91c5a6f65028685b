"""Model-based tests: the embedded siltfs against a plain dict model (``model_child.Model``).

``TestNamespaceModel`` is a Hypothesis state machine: writes of every write type,
mkdir, rename, delete, persist, free, background persistence, UFS faults, clean
restarts and changes made directly in the UFS followed by a metadata sync.  After every
step the namespace equals the model and every file reads back its bytes; after a
quiesce (faults cleared, everything persisted, ``wait_persisted``) the UFS holds exactly
the persisted namespace with the same bytes (I1, I2) and no staging object.

``test_kill_9_at_a_random_step`` runs seeded operation sequences in a child process,
kills it with SIGKILL at a random acknowledged step, reopens the home and checks that
every acknowledged operation survived (I3) and that the UFS converges (I1, I2).

siltfs runs persistence in background threads, so a race in siltfs makes a failure
that may not replay: Hypothesis then reports ``Flaky...`` / "Inconsistent data
generation" after printing the original error and its steps (the draws of every rule
have the same shape whatever the state, so this is never the test's own doing).

Environment: ``SILT_MODEL_EXAMPLES`` (Hypothesis examples, default 200),
``SILT_MODEL_STEPS`` (steps per example, default 30), ``SILT_MODEL_KILL_SEEDS`` (kill -9
sequences, default 10).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import siltfs
from siltfs import errors
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.model import paths
from siltfs.testing.faults import FaultInjectingUfs, inject_faults

from . import model_child as mc

CHILD = Path(__file__).with_name("model_child.py")
EXAMPLES = int(os.environ.get("SILT_MODEL_EXAMPLES", "200"))
STEPS = int(os.environ.get("SILT_MODEL_STEPS", "30"))

paths_st = st.lists(st.sampled_from(mc.NAMES), min_size=1, max_size=mc.MAX_DEPTH).map(
    lambda names: "/" + "/".join(names)
)


def targets(*sources: str) -> st.SearchStrategy[tuple[str, int, str]]:
    """(source, index, random path) for NamespaceModel.pick; *sources* weight the choice."""
    return st.tuples(st.sampled_from(sources), st.integers(0, 2**16), paths_st)


sizes_st = st.one_of(
    st.sampled_from([0, 1, mc.BLOCK_SIZE - 1, mc.BLOCK_SIZE, mc.BLOCK_SIZE + 1]),
    st.integers(min_value=0, max_value=mc.MAX_SIZE),
)


class NamespaceModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.home = Path(tempfile.mkdtemp(prefix="silt-model-"))
        self.fs = self._open()
        self.model = mc.Model()
        self.faults: FaultInjectingUfs | None = None
        self.error_rate = 0.0
        self.fault_seed = 0  # which random UFS calls fail
        self.faulty = False  # a fault may hit a foreground call (since the last clear)
        self.staging_may_leak = False  # a UFS delete of a staging object may have failed
        self.clean = True  # the last step and its invariant passed

    # plumbing -----------------------------------------------------------------
    def _open(self) -> EmbeddedFileSystem:
        return siltfs.connect(config=mc.config(self.home))

    def _faults(self) -> FaultInjectingUfs:
        if self.faults is None:
            self.faults = inject_faults(self.fs, seed=self.fault_seed)
        return self.faults

    @contextmanager
    def calm(self) -> Iterator[None]:
        """No random UFS errors while the test itself looks (the staging rules stay)."""
        if self.faults is not None:
            self.faults.error_rate = 0.0
        try:
            yield
        finally:
            if self.faults is not None:
                self.faults.error_rate = self.error_rate

    def apply(self, op: mc.Op) -> None:
        self.clean = False
        before = self.model
        out = op.expect(before)
        note(str(op))
        try:
            op.run(self.fs)
        except errors.UfsError:
            if not self.faulty:
                raise
            with self.calm():
                candidates = [before, *out.partial, out.after] if out.ok else [before]
                self.model = mc.settle(self.fs, candidates, out.uncertain)
            return
        except errors.SiltError as exc:
            if not isinstance(exc, out.errors):
                expected = [e.__name__ for e in out.errors] if out.errors else "success"
                raise AssertionError(f"{op}: raised {exc!r}, model expects {expected}") from exc
            return
        if not out.ok:
            raise AssertionError(f"{op}: succeeded, model expects one of {out.errors}")
        self.model = out.after

    def pick(self, at: tuple[str, int, str]) -> str:
        """*at* is (source, index, random path); source "entry", "file" or
        "cached_only" picks the index-th of those if there are any.  Every rule draws the
        same shape whatever the state, so background timing never changes the draws."""
        source, index, path = at
        choices = {
            "entry": self.model.entries(),
            "file": self.model.files,
            "cached_only": self.model.cached_only,
        }.get(source, ())
        return sorted(choices)[index % len(choices)] if choices else path

    def teardown(self) -> None:
        try:
            if self.clean:
                if self.faults is not None:
                    self.faults.clear()
                self.model = mc.quiesce(
                    self.fs, self.model, everything=True, staging_may_leak=self.staging_may_leak
                )
                mc.check(self.fs, self.model)
        finally:
            self.fs.close()
            shutil.rmtree(self.home, ignore_errors=True)

    # namespace and data -----------------------------------------------------------
    @rule(
        at=targets("random", "random", "file"),
        size=sizes_st,
        seed=st.integers(0, 2**16),
        write_type=st.sampled_from(mc.WRITE_TYPES),
    )
    def write(self, at: tuple[str, int, str], size: int, seed: int, write_type: str) -> None:
        path = self.pick(at)
        self.apply(mc.Op("write", path, size=size, seed=seed, write_type=write_type))

    @rule(path=paths_st, parents=st.booleans(), wt=st.sampled_from(["MUST_CACHE", "THROUGH"]))
    def mkdir(self, path: str, parents: bool, wt: str) -> None:
        self.apply(mc.Op("mkdir", path, flag=parents, write_type=wt))

    @rule(src=targets("entry", "entry", "random"), dst=targets("random", "random", "entry"))
    def rename(self, src: tuple[str, int, str], dst: tuple[str, int, str]) -> None:
        self.apply(mc.Op("rename", self.pick(src), dst=self.pick(dst)))

    @rule(at=targets("entry", "entry", "random"), recursive=st.booleans())
    def delete(self, at: tuple[str, int, str], recursive: bool) -> None:
        self.apply(mc.Op("delete", self.pick(at), flag=recursive))

    @rule(at=targets("cached_only", "entry", "random"))
    def persist(self, at: tuple[str, int, str]) -> None:
        self.apply(mc.Op("persist", self.pick(at)))

    @rule(at=targets("file", "entry", "random"))
    def free(self, at: tuple[str, int, str]) -> None:
        path = self.pick(at)
        if self.model.kind(path) == "file":
            with self.calm():
                state = self.fs.stat(path).persistence_state
            if state is mc.PERSISTED:
                self.model.persisted.add(path)  # from now on free must succeed
        self.apply(mc.Op("free", path))

    @rule()
    def run_jobs(self) -> None:
        self.apply(mc.Op("wait"))

    # faults and restarts -------------------------------------------------------------
    @rule(rate=st.sampled_from([0.1, 0.3]), seed=st.integers(0, 2**16))
    def inject_error_rate(self, rate: float, seed: int) -> None:
        self.clean = False
        self.error_rate = rate
        self.fault_seed = seed
        self._faults().set_error_rate(rate)
        self.faulty = self.staging_may_leak = True

    @rule(op=st.sampled_from(["move", "open_write"]), n=st.integers(1, 3))
    def fail_staging(self, op: str, n: int) -> None:
        self.clean = False
        self._faults().fail_next(op, n, mc.STAGING + "/*")
        self.faulty = True  # CACHE_THROUGH and THROUGH writes go through the staging area

    @rule()
    def clear_faults(self) -> None:
        self.clean = False
        if self.faults is not None:
            self.faults.clear()
        self.error_rate = 0.0
        self.faulty = False

    @rule()
    def restart(self) -> None:
        """Clean restart on the same home; random UFS errors continue on the new mount."""
        self.clean = False
        self.fs.close()
        self.fs = self._open()
        self.faults = None
        self.faulty = self.error_rate > 0
        if self.error_rate:
            self._faults().set_error_rate(self.error_rate)

    @rule()
    def quiesce(self) -> None:
        self.clean = False
        if self.faults is not None:
            self.faults.clear()
        self.error_rate = 0.0
        self.faulty = False
        self.model = mc.quiesce(
            self.fs, self.model, everything=False, staging_may_leak=self.staging_may_leak
        )
        if not self.staging_may_leak:
            return
        self.staging_may_leak = False  # staging was clean this time, or will be checked loosely
        root = self.fs.config.root_ufs_dir
        if (root / mc.STAGING).exists():
            self.staging_may_leak = True

    # changes made outside siltfs ---------------------------------------------------
    @rule(
        action=st.sampled_from(["create", "modify", "delete"]),
        path=paths_st,
        index=st.integers(0, 2**16),
        size=sizes_st,
        seed=st.integers(0, 2**16),
    )
    def external_change(self, action: str, path: str, index: int, size: int, seed: int) -> None:
        """Change the UFS under a persisted directory directly, then sync that directory
        (interval 0).  Only entries siltfs has PERSISTED are touched, so the model is exact."""
        self.clean = False
        root = self.fs.config.root_ufs_dir
        new = mc.payload(seed, size)
        with self.calm():
            if action == "create":
                parent = paths.split(path)[0]
                if self.model.kind(path) is not None or self.model.kind(parent) != "dir":
                    return
                if self._state(parent) is not mc.PERSISTED:
                    return
            else:
                files = [f for f in sorted(self.model.files) if self._state(f) is mc.PERSISTED]
                if not files:
                    return
                path = files[index % len(files)]
                parent = paths.split(path)[0]
            note(f"external {action} {path}")
            target = root / path.lstrip("/")
            assert target.parent.is_dir(), f"{parent} is PERSISTED but not in the UFS"
            if action == "create":
                assert not target.exists(), f"{path} is in the UFS but not in the namespace"
            else:
                assert target.is_file(), f"{path} is PERSISTED but not in the UFS"
            if action == "delete":
                target.unlink()
            else:
                tmp = self.home / "external.tmp"
                tmp.write_bytes(new)
                os.replace(tmp, target)  # a new inode: the fingerprint changes
            self.fs.sync_metadata(parent)
        if action == "delete":
            self.model.forget(path)
        else:
            self.model.files[path] = new
            self.model.persisted.add(path)
            self.model.cached_only.discard(path)

    def _state(self, path: str) -> mc.PersistenceState:
        return self.fs.stat(path).persistence_state

    # the invariant -----------------------------------------------------------------
    @invariant()
    def namespace_equals_model(self) -> None:
        with self.calm():
            mc.check(self.fs, self.model)
        self.clean = True


NamespaceModel.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestNamespaceModel = pytest.mark.slow(NamespaceModel.TestCase)


# kill -9 at a random acknowledged step -------------------------------------------------
KILL_SEEDS = range(int(os.environ.get("SILT_MODEL_KILL_SEEDS", "10")))
KILL_OPS = 30


def run_and_kill(home: Path, seed: int, kill_after: int) -> int:
    """Run the child; SIGKILL it once *kill_after* operations are acknowledged.  Returns
    how many were acknowledged in all (the child may have gone on before it died)."""
    env = dict(os.environ)
    env.pop("SILT_CRASH_AT", None)
    args = [sys.executable, str(CHILD), str(home), str(seed), str(KILL_OPS)]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None
    acked = 0
    lines: list[str] = []
    killed = False
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("ACK "):
            acked = int(line.split()[1]) + 1
        if not killed and (acked >= kill_after or line.startswith("DONE")):
            proc.send_signal(signal.SIGKILL)  # the rest of the output was acknowledged too
            killed = True
    rc = proc.wait(timeout=60)
    mismatches = [x for x in lines if x.startswith("MISMATCH")]
    assert not mismatches, mismatches
    assert rc == -signal.SIGKILL, f"child exited with {rc}: {lines[-3:]}"
    return acked


@pytest.mark.slow
@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_kill_9_at_a_random_step(tmp_path: Path, seed: int) -> None:
    home = tmp_path / "home"
    ops, models = mc.plan(seed, KILL_OPS)
    acked = run_and_kill(home, seed, random.Random(seed).randint(1, KILL_OPS))
    model = models[acked]
    candidates = [model]
    uncertain: frozenset[str] = frozenset()
    if acked < KILL_OPS:  # the operation running when the child died may have happened
        out = ops[acked].expect(model)
        if out.ok:
            candidates += [*out.partial, out.after]
        uncertain = out.uncertain
    fs = siltfs.connect(config=mc.config(home))
    try:
        model = mc.settle(fs, candidates, uncertain)
        mc.check(fs, model)
        model = mc.quiesce(fs, model, everything=True)
        mc.check(fs, model)
    finally:
        fs.close()
