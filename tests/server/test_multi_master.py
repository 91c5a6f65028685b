"""Two masters on one PostgreSQL, sharing a worker and a UFS: concurrent creates,
renames and deletes through both; one master SIGKILLed mid-persist; the other takes
its jobs over when their leases expire; then I1-I5 hold."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import httpx

from siltfs import errors
from siltfs.client.remote import RemoteFileSystem
from tests.servers import SILT_TOML, MasterProcess, WorkerProcess

TOKEN = "two-masters-share-this-token"
SECRET = "and-this-cluster-secret"  # workers register with every master
LEASE_S = 2.0


def toml(poll_interval_s: float) -> str:
    return (
        SILT_TOML.replace("max_attempts = 2", "max_attempts = 20")
        .replace("poll_interval_s = 0.01", f"poll_interval_s = {poll_interval_s}")
        .replace("[persist]\n", f"[persist]\nlease_s = {LEASE_S}\n")
        + "\n[cluster]\nheartbeat_interval_s = 0.2\nworker_timeout_s = 3.0\n"
    )


def start_master(
    home: Path, dsn: str, ufs: Path, poll: float, env: dict[str, str]
) -> MasterProcess:
    home.mkdir(parents=True)
    (home / "silt.toml").write_text(toml(poll))
    for name, value in (("token", TOKEN), ("cluster-secret", SECRET)):
        (home / name).write_text(value + "\n")
        os.chmod(home / name, 0o600)
    args = ("--no-local-worker", "--metastore", dsn, "--ufs", f"file://{ufs}")
    return MasterProcess(home, args=args, env=env).start()


def ufs_tree(root: Path) -> dict[str, bytes | None]:
    """Every entry under the UFS root: files with their bytes, directories as None."""
    out: dict[str, bytes | None] = {}
    for p in root.rglob("*"):
        rel = "/" + str(p.relative_to(root))
        out[rel] = p.read_bytes() if p.is_file() else None
    return out


def namespace_tree(fs: RemoteFileSystem) -> dict[str, bytes | None]:
    return {
        i.path: (None if i.is_dir else fs.read_bytes(i.path)) for i in fs.ls("/", recursive=True)
    }


def workload(fs: RemoteFileSystem, top: str, seed: int, model: dict[str, bytes | None]) -> None:
    """Creates, overwrites, renames and deletes under *top* (and files in /shared),
    recording what must exist afterwards."""
    rng = random.Random(seed)
    fs.mkdir(top)
    model[top] = None
    for i in range(25):
        name = f"{top}/d{i % 4}/f{i}"
        data = rng.randbytes(rng.randrange(0, 200_000))
        fs.write_bytes(name, data, write_type=rng.choice(["CACHE_THROUGH", "THROUGH"]))
        model[f"{top}/d{i % 4}"] = None
        model[name] = data
        shared = f"/shared/{top.strip('/')}-{i}"
        fs.write_bytes(shared, data[:100], write_type="CACHE_THROUGH")
        model[shared] = data[:100]
        if i % 5 == 4:  # rename a directory with everything in it
            src, dst = f"{top}/d{i % 4}", f"{top}/moved{i}"
            fs.rename(src, dst)
            for key in [k for k in model if k == src or k.startswith(src + "/")]:
                model[dst + key[len(src) :]] = model.pop(key)
        if i % 7 == 6:
            victim = next(
                (k for k in sorted(model) if k.startswith(top + "/") and model[k] is not None), None
            )
            if victim is not None:
                fs.delete(victim)
                del model[victim]


def test_two_masters_one_database_one_killed_mid_persist(tmp_path: Path, postgres_dsn: str) -> None:
    ufs = tmp_path / "ufs"
    ufs.mkdir()
    # m1 dies (SIGKILL) the first time one of its persists is about to move a staged
    # object into place; m2 polls slowly, so m1 (woken by its own writes) claims first
    m1 = start_master(
        tmp_path / "m1", postgres_dsn, ufs, 0.01, {"SILT_CRASH_AT": "persist.before_move"}
    )
    m2 = start_master(tmp_path / "m2", postgres_dsn, ufs, 1.0, {})
    worker = WorkerProcess(tmp_path / "worker", [m1, m2]).start()
    try:
        c1 = RemoteFileSystem([m1.url, m2.url], TOKEN, timeout=20)  # fails over to m2
        c2 = RemoteFileSystem(m2.url, TOKEN, timeout=20)
        c2.mkdir("/shared")
        model: dict[str, bytes | None] = {"/shared": None}
        m_a: dict[str, bytes | None] = {}
        m_b: dict[str, bytes | None] = {}
        failures: list[BaseException] = []

        def run(fs: RemoteFileSystem, top: str, seed: int, m: dict[str, bytes | None]) -> None:
            try:
                workload(fs, top, seed, m)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [
            threading.Thread(target=run, args=(c1, "/a", 1, m_a)),
            threading.Thread(target=run, args=(c2, "/b", 2, m_b)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures
        model.update(m_a)
        model.update(m_b)
        # both masters see the same namespace, written concurrently through both
        assert namespace_tree(c1) == namespace_tree(c2) == model

        # ASYNC_THROUGH through m1: its runner claims them and is killed mid-persist
        pending = {f"/async/f{i}": random.Random(i).randbytes(50_000 + i) for i in range(12)}
        model["/async"] = None
        for path, data in pending.items():
            try:
                c1.write_bytes(path, data)  # acknowledged (by m1, or by m2 after failover)
            except errors.Unavailable:
                # m1 died during this very call: it happened or not, never partly
                if c2.exists(path):
                    assert c2.read_bytes(path) == data
                else:
                    continue
            model[path] = data
        assert m1.proc is not None and m1.proc.wait(30) == -9  # died at the crash point

        # m2 takes the jobs over once the dead master's leases expire; c1 fails over
        started = time.monotonic()
        c1.wait_persisted("/", timeout=60)
        assert c1.url == m2.url
        assert time.monotonic() - started >= 0  # (lease expiry is what let m2 claim them)
        c1.rename("/async", "/async2")
        for key in [k for k in model if k == "/async" or k.startswith("/async/")]:
            model["/async2" + key[len("/async") :]] = model.pop(key)
        c1.wait_persisted("/", timeout=60)

        # I1-I5 after quiesce: namespace == UFS byte for byte, every file persisted, no
        # staging left, no divergence, no job left
        assert namespace_tree(c2) == model
        assert ufs_tree(ufs) == model
        assert all(i.persisted for i in c2.ls("/", recursive=True))
        assert c2.check_consistency("/").divergences == []
        assert c2.jobs() == []
        metrics = httpx.get(m2.url + "/metrics").text
        assert "silt_persist_completed_total" in metrics
        c1.close()
        c2.close()
    finally:
        m1.kill()
        m2.kill()
        worker.kill()
