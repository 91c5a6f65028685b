"""The Metastore suite, part two: persist jobs, intents, commit latches, the namespace
lock and transactions (:class:`TransactionTests`).  Use :class:`siltfs.testing.MetastoreTests`.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from siltfs.errors import FileExists
from siltfs.metastore.abc import Latch, Metastore
from siltfs.model.enums import IntentKind, JobState
from siltfs.model.inode import ROOT_ID, MountInfo, PersistJob
from siltfs.testing.metastore_records import (
    NOW,
    MetastoreFixtures,
    StoreFactory,
    make_tree,
    new_inode,
)

__all__ = ["TransactionTests"]


class TransactionTests(MetastoreFixtures):
    # jobs -----------------------------------------------------------------------------
    def test_insert_job(self, store: Metastore) -> None:
        tree = make_tree(store, ["f"])
        with store.transaction() as txn:
            job = txn.insert_job(tree["f"].id, 3, NOW)
        assert job.inode_id == tree["f"].id and job.generation == 3
        assert job.state is JobState.PENDING and job.attempts == 0
        assert job.created_ms == job.updated_ms == job.next_run_ms == NOW
        assert job.last_error is None and job.token is None
        with store.snapshot() as txn:
            assert txn.get_job(job.id) == job
            assert txn.job_for_inode(tree["f"].id) == job
            assert txn.job_for_inode(tree["f"].id + 1000) is None
            assert txn.get_job(job.id + 1000) is None

    def test_insert_job_replaces_older_job_of_same_inode(self, store: Metastore) -> None:
        tree = make_tree(store, ["f", "g"])
        with store.transaction() as txn:
            old = txn.insert_job(tree["f"].id, 1, NOW)
            other = txn.insert_job(tree["g"].id, 1, NOW)
        with store.transaction() as txn:
            txn.update_job(replace(old, state=JobState.FAILED, attempts=8, last_error="boom"))
        with store.transaction() as txn:
            new = txn.insert_job(tree["f"].id, 2, NOW + 5)
        assert new.id != old.id, "a stale runner holding the old job id must not reach the new"
        assert new.generation == 2 and new.state is JobState.PENDING and new.attempts == 0
        with store.snapshot() as txn:
            assert txn.get_job(old.id) is None
            assert txn.job_for_inode(tree["f"].id) == new
            assert sorted(j.id for j in txn.list_jobs()) == sorted([new.id, other.id])

    def test_update_delete_and_list_jobs(self, store: Metastore) -> None:
        tree = make_tree(store, [f"f{i}" for i in range(5)])
        with store.transaction() as txn:
            jobs = [txn.insert_job(tree[f"f{i}"].id, 1, NOW + i) for i in range(5)]
        states = [JobState.PENDING, JobState.FAILED, JobState.DONE, JobState.FAILED]
        updated = []
        with store.transaction() as txn:
            for job, state in zip(jobs, states, strict=False):
                u = replace(
                    job,
                    state=state,
                    attempts=2,
                    last_error=f"e{job.id}",
                    updated_ms=NOW + 50,
                    next_run_ms=NOW + 60,
                    lease_owner="w1",
                    lease_expires_ms=NOW + 70,
                    token="t0k",
                    generation=4,
                )
                txn.update_job(u)
                updated.append(u)
            txn.delete_job(jobs[4].id)
        with store.snapshot() as txn:
            for u in updated:
                assert txn.get_job(u.id) == u
            assert txn.get_job(jobs[4].id) is None
            assert [j.id for j in txn.list_jobs()] == [j.id for j in jobs[:4]]
            assert [j.id for j in txn.list_jobs(JobState.FAILED)] == [jobs[1].id, jobs[3].id]
            assert [j.id for j in txn.list_jobs(JobState.DONE)] == [jobs[2].id]
            assert txn.list_jobs(JobState.RUNNING) == []

    def _jobs_in_every_situation(self, store: Metastore) -> dict[str, PersistJob]:
        situations = {
            "due": dict(state=JobState.PENDING, next_run_ms=NOW - 1),
            "due_now": dict(state=JobState.PENDING, next_run_ms=NOW),
            "future": dict(state=JobState.PENDING, next_run_ms=NOW + 1),
            "expired": dict(
                state=JobState.RUNNING, lease_owner="dead", lease_expires_ms=NOW - 1, token="old"
            ),
            "fresh": dict(
                state=JobState.RUNNING, lease_owner="live", lease_expires_ms=NOW + 1, token="cur"
            ),
            "failed": dict(state=JobState.FAILED, next_run_ms=0),
            "done": dict(state=JobState.DONE, next_run_ms=0),
            "cancelled": dict(state=JobState.CANCELLED, next_run_ms=0),
        }
        tree = make_tree(store, list(situations))
        out = {}
        with store.transaction() as txn:
            for name, changes in situations.items():
                job = txn.insert_job(tree[name].id, 1, NOW - 100)
                job = replace(job, attempts=1, **changes)  # type: ignore[arg-type]
                txn.update_job(job)
                out[name] = job
        return out

    def test_claim_jobs_leases_due_and_expired_only(self, store: Metastore) -> None:
        jobs = self._jobs_in_every_situation(store)
        with store.transaction() as txn:
            claimed = txn.claim_jobs("me", NOW, 500, 100)
        by_id = {j.id: j for j in claimed}
        expected = {jobs[n].id for n in ("due", "due_now", "expired")}
        assert set(by_id) == expected
        for job in claimed:
            before = next(j for j in jobs.values() if j.id == job.id)
            assert job.state is JobState.RUNNING
            assert job.lease_owner == "me"
            assert job.lease_expires_ms == NOW + 500
            assert job.attempts == before.attempts + 1
            assert job.token and job.token != before.token
            assert job.inode_id == before.inode_id and job.generation == before.generation
        with store.snapshot() as txn:
            for job in claimed:
                assert txn.get_job(job.id) == job
            for name in ("future", "fresh", "failed", "done", "cancelled"):
                assert txn.get_job(jobs[name].id) == jobs[name]
        with store.transaction() as txn:  # leases just taken are not due again
            assert txn.claim_jobs("other", NOW, 500, 100) == []
        with store.transaction() as txn:  # later, only what became due in between
            later = txn.claim_jobs("other", NOW + 499, 500, 100)
        assert {j.id for j in later} == {jobs["future"].id, jobs["fresh"].id}

    def test_claim_jobs_reclaims_after_lease_with_new_token(self, store: Metastore) -> None:
        tree = make_tree(store, ["f"])
        with store.transaction() as txn:
            txn.insert_job(tree["f"].id, 1, NOW)
        tokens = []
        for attempt in range(1, 4):
            now = NOW + (attempt - 1) * 1000
            with store.transaction() as txn:
                (job,) = txn.claim_jobs(f"w{attempt}", now, 1000, 10)
            assert job.attempts == attempt
            assert job.lease_owner == f"w{attempt}"
            tokens.append(job.token)
        assert len(set(tokens)) == 3 and None not in tokens

    def test_claim_jobs_respects_limit_and_order(self, store: Metastore) -> None:
        tree = make_tree(store, [f"f{i}" for i in range(6)])
        with store.transaction() as txn:
            for i in range(6):  # later inodes become due earlier
                job = txn.insert_job(tree[f"f{i}"].id, 1, NOW)
                txn.update_job(replace(job, next_run_ms=NOW - 10 * i))
        with store.transaction() as txn:
            first = txn.claim_jobs("a", NOW, 100, 2)
        assert [j.inode_id for j in first] == [tree["f5"].id, tree["f4"].id]
        with store.transaction() as txn:
            rest = txn.claim_jobs("b", NOW, 100, 10)
        assert len(rest) == 4
        assert not {j.id for j in first} & {j.id for j in rest}
        with store.transaction() as txn:
            assert txn.claim_jobs("c", NOW, 100, 0) == []

    def test_concurrent_claimers_never_share_a_job(self, store: Metastore) -> None:
        tree = make_tree(store, [f"f{i}" for i in range(60)])
        with store.transaction() as txn:
            for inode in tree.values():
                txn.insert_job(inode.id, 1, NOW)
        got: dict[str, list[int]] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def claimer(owner: str) -> None:
            try:
                start.wait()
                mine: list[int] = []
                while True:
                    with store.transaction() as txn:
                        batch = txn.claim_jobs(owner, NOW, 10_000, 3)
                    if not batch:
                        break
                    mine.extend(j.id for j in batch)
                got[owner] = mine
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        claimed = [i for ids in got.values() for i in ids]
        assert len(claimed) == len(set(claimed)) == 60
        with store.snapshot() as txn:
            owners = {j.id: j.lease_owner for j in txn.list_jobs(JobState.RUNNING)}
        assert len(owners) == 60
        for owner, ids in got.items():
            assert all(owners[i] == owner for i in ids)

    # intents --------------------------------------------------------------------------
    def test_intents_crud(self, store: Metastore) -> None:
        with store.transaction() as txn:
            i1 = txn.insert_intent("rename", 3, "a/b", "c/b", NOW)
            i2 = txn.insert_intent("delete", 4, "x", None, NOW + 1)
        assert i2 != i1
        with store.snapshot() as txn:
            intents = txn.list_intents()
        assert [(i.id, i.kind, i.mount_id, i.src, i.dst, i.created_ms) for i in intents] == [
            (i1, "rename", 3, "a/b", "c/b", NOW),
            (i2, "delete", 4, "x", None, NOW + 1),
        ]
        with store.transaction() as txn:
            txn.delete_intent(i1)
            txn.delete_intent(i1 + i2 + 100)  # unknown id: no error
        with store.snapshot() as txn:
            assert [i.id for i in txn.list_intents()] == [i2]

    @pytest.mark.parametrize("kind", list(IntentKind))
    def test_intent_kinds_are_stored_as_their_strings(
        self, store: Metastore, kind: IntentKind
    ) -> None:
        with store.transaction() as txn:
            txn.insert_intent(kind, 1, "x", None, NOW)
            txn.insert_intent(str(kind), 1, "y", None, NOW)
        with store.snapshot() as txn:
            stored = txn.list_intents()
        assert [i.kind for i in stored] == [kind, kind]
        assert all(i.kind is kind for i in stored)  # read back as the enum member

    # commit latches -------------------------------------------------------------------
    def test_latches_add_replace_remove_and_expire(self, store: Metastore) -> None:
        with store.transaction() as txn:
            assert txn.list_latches(NOW) == []
            txn.add_latch(7, "/a/b", "host:1:x", NOW + 100)
            txn.add_latch(3, "/c", "host:2:y", NOW + 1)
        with store.snapshot() as txn:
            assert txn.list_latches(NOW) == [
                Latch(3, "/c", "host:2:y", NOW + 1),
                Latch(7, "/a/b", "host:1:x", NOW + 100),
            ]
            assert txn.list_latches(NOW + 1) == [Latch(7, "/a/b", "host:1:x", NOW + 100)]
            assert txn.list_latches(NOW + 100) == []  # expired ones are ignored
        assert store.list_latches(NOW) == [
            Latch(3, "/c", "host:2:y", NOW + 1),
            Latch(7, "/a/b", "host:1:x", NOW + 100),
        ]
        with store.transaction() as txn:  # one latch per inode: a new one replaces it
            txn.add_latch(7, "/moved", "host:3:z", NOW + 200)
            txn.remove_latch(3)
            txn.remove_latch(12345)  # unknown: no error
        with store.snapshot() as txn:
            assert txn.list_latches(NOW) == [Latch(7, "/moved", "host:3:z", NOW + 200)]

    def test_latches_roll_back_with_their_transaction(self, store: Metastore) -> None:
        with store.transaction() as txn:
            txn.add_latch(1, "/kept", "o", NOW + 10)
        with pytest.raises(RuntimeError):
            with store.transaction() as txn:
                txn.add_latch(2, "/gone", "o", NOW + 10)
                txn.remove_latch(1)
                raise RuntimeError("abort")
        assert [latch.path for latch in store.list_latches(NOW)] == ["/kept"]

    def test_latches_are_shared_by_every_handle(self, make_store: StoreFactory) -> None:
        first, second = make_store(), make_store()
        with first.transaction() as txn:
            txn.add_latch(5, "/x/y", "owner-1", NOW + 10)
        assert second.list_latches(NOW) == [Latch(5, "/x/y", "owner-1", NOW + 10)]
        with second.transaction() as txn:
            txn.remove_latch(5)
        assert first.list_latches(NOW) == []

    def test_namespace_lock_is_reentrant_and_excludes_other_threads(
        self, store: Metastore, tmp_path: Path
    ) -> None:
        lock = store.namespace_lock(tmp_path)
        order: list[str] = []
        entered = threading.Event()

        def other() -> None:
            with lock:
                order.append("other")
                entered.set()

        try:
            with lock:
                with lock:  # re-entrant within a thread
                    t = threading.Thread(target=other)
                    t.start()
                    assert not entered.wait(0.1)
                order.append("released")
            t.join()
            assert order == ["released", "other"]
            with lock:  # usable again
                pass
        finally:
            lock.close()

    # transactions ---------------------------------------------------------------------
    def test_rollback_on_exception_leaves_nothing(self, store: Metastore) -> None:
        tree = make_tree(store, ["keep"])
        with store.transaction() as txn:
            keep_job = txn.insert_job(tree["keep"].id, 1, NOW)

        class Boom(Exception):
            pass

        with pytest.raises(Boom):
            with store.transaction() as txn:
                d = new_inode(txn, ROOT_ID, "d", is_dir=True)
                new_inode(txn, d.id, "f")
                txn.insert_job(d.id, 1, NOW)
                txn.insert_mount(MountInfo(id=0, path="/m", uri="memory://m"))
                txn.insert_intent("delete", 1, "x", None, NOW)
                txn.update_inode(replace(tree["keep"], name="renamed", length=5))
                txn.delete_job(keep_job.id)
                raise Boom
        with store.snapshot() as txn:
            assert [c.name for c in txn.list_children(ROOT_ID)] == ["keep"]
            assert txn.get_inode(tree["keep"].id) == tree["keep"]
            assert txn.list_jobs() == [keep_job]
            assert txn.list_mounts() == []
            assert txn.list_intents() == []

    def test_store_usable_after_failed_transaction(self, store: Metastore) -> None:
        make_tree(store, ["f"])
        with pytest.raises(FileExists):
            with store.transaction() as txn:
                new_inode(txn, ROOT_ID, "g")
                new_inode(txn, ROOT_ID, "f")
        with store.transaction() as txn:
            new_inode(txn, ROOT_ID, "h")
        with store.snapshot() as txn:
            assert [c.name for c in txn.list_children(ROOT_ID)] == ["f", "h"]

    def test_snapshot_is_consistent(self, store: Metastore) -> None:
        make_tree(store, ["a"])
        done = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                with store.transaction() as txn:
                    new_inode(txn, ROOT_ID, "b")
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                done.set()

        with store.snapshot() as txn:
            assert txn.count_children(ROOT_ID) == 1
            t = threading.Thread(target=writer)
            t.start()
            t.join()
            assert errors == []
            assert txn.count_children(ROOT_ID) == 1
            assert txn.get_child(ROOT_ID, "b") is None
        with store.snapshot() as txn:
            assert txn.count_children(ROOT_ID) == 2

    def test_data_survives_close_and_reopen(self, make_store: StoreFactory) -> None:
        first = make_store()
        tree = make_tree(first, ["d/", "d/f"])
        with first.transaction() as txn:
            job = txn.insert_job(tree["d/f"].id, 1, NOW)
            mount_id = txn.insert_mount(MountInfo(id=0, path="/m", uri="memory://m"))
            intent_id = txn.insert_intent("delete", mount_id, "x", None, NOW)
            last = txn.allocate_ids(10)
        first.close()
        second = make_store()
        with second.snapshot() as txn:
            assert txn.get_inode(ROOT_ID) is not None
            assert txn.get_child(ROOT_ID, "d") == tree["d"]
            assert txn.get_child(tree["d"].id, "f") == tree["d/f"]
            assert txn.get_job(job.id) == job
            assert [m.id for m in txn.list_mounts()] == [mount_id]
            assert [i.id for i in txn.list_intents()] == [intent_id]
        with second.transaction() as txn:
            assert txn.allocate_ids(1) >= last + 10
            assert txn.insert_job(tree["d"].id, 1, NOW).id > job.id

    def test_concurrent_writers(self, store: Metastore) -> None:
        threads_n, per_thread = 8, 200
        errors: list[BaseException] = []
        start = threading.Barrier(threads_n)

        def work(t: int) -> None:
            try:
                start.wait()
                for i in range(per_thread):
                    with store.transaction() as txn:
                        new_inode(txn, ROOT_ID, f"t{t}-{i}")
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        with store.snapshot() as txn:
            children = txn.list_children(ROOT_ID)
            assert txn.count_children(ROOT_ID) == threads_n * per_thread
        assert {c.name for c in children} == {
            f"t{t}-{i}" for t in range(threads_n) for i in range(per_thread)
        }
        assert len({c.id for c in children}) == threads_n * per_thread
