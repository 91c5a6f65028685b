"""The Metastore suite, part one: its fixtures and helpers, the root, inodes and mounts
(:class:`RecordTests`).  Use :class:`siltfs.testing.MetastoreTests`, which has every part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from siltfs.errors import FileExists, MountError
from siltfs.metastore.abc import Metastore, Txn
from siltfs.model import blockmap
from siltfs.model.enums import PersistenceState, TtlAction
from siltfs.model.inode import BLOCK_INDEX_BITS, ROOT_ID, Inode, MountInfo, block_id, share_blocks

__all__ = ["MetastoreFixtures", "NOW", "RecordTests", "make_tree", "new_inode"]

StoreFactory = Callable[[], Metastore]

NOW = 1_000_000


def new_inode(txn: Txn, parent_id: int, name: str, *, is_dir: bool = False, **kw: Any) -> Inode:
    inode = Inode(id=txn.allocate_ids(1), parent_id=parent_id, name=name, is_dir=is_dir, **kw)
    txn.insert_inode(inode)
    return inode


def make_tree(store: Metastore, spec: list[str]) -> dict[str, Inode]:
    """Create '/'-separated paths (a trailing '/' marks a directory); parents first."""
    made: dict[str, Inode] = {}
    with store.transaction() as txn:
        for path in spec:
            is_dir = path.endswith("/")
            path = path.rstrip("/")
            parent, _, name = path.rpartition("/")
            parent_id = made[parent].id if parent else ROOT_ID
            made[path] = new_inode(txn, parent_id, name, is_dir=is_dir)
    return made


class MetastoreFixtures:
    """``make_store`` (the subclass's) and ``store``, the fixtures every part uses."""

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        raise NotImplementedError("subclasses provide the make_store fixture")

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Metastore:
        return make_store()


class RecordTests(MetastoreFixtures):
    # root -----------------------------------------------------------------------------
    def test_root_exists(self, store: Metastore) -> None:
        with store.snapshot() as txn:
            root = txn.get_inode(ROOT_ID)
            assert root is not None
            assert root.id == ROOT_ID == 1
            assert root.is_dir
            assert root.name == ""
            assert txn.list_children(ROOT_ID) == []
            assert txn.count_children(ROOT_ID) == 0

    # inodes ---------------------------------------------------------------------------
    def test_insert_and_get_round_trips_every_field(self, store: Metastore) -> None:
        with store.transaction() as txn:
            ino = Inode(
                id=txn.allocate_ids(1),
                parent_id=ROOT_ID,
                name="data ü.csv",
                is_dir=False,
                length=123456789012,
                block_size=4096,
                generation=7,
                state=PersistenceState.TO_BE_PERSISTED,
                created_ms=1_700_000_000_000,
                mtime_ms=1_700_000_000_123,
                pinned=True,
                ttl_ms=1_800_000_000_000,
                ttl_action=TtlAction.FREE,
                mount_id=None,
                fingerprint="12:abc",
                content_hash="sha256:00ff",
                sync_ms=42,
            )
            txn.insert_inode(ino)
        with store.snapshot() as txn:
            assert txn.get_inode(ino.id) == ino
            assert txn.get_child(ROOT_ID, "data ü.csv") == ino
            assert txn.get_child(ROOT_ID, "data ü.CSV") is None
            assert txn.get_inode(ino.id + 1000) is None

    def test_list_children_sorted_and_counted(self, store: Metastore) -> None:
        names = ["b", "a", "c", "B", "a b", "z", "é"]
        tree = make_tree(store, ["d/", *[f"d/{n}" for n in names], "other/", "other/x"])
        d = tree["d"].id
        with store.snapshot() as txn:
            children = txn.list_children(d)
            assert [c.name for c in children] == sorted(names)
            assert all(c.parent_id == d for c in children)
            assert txn.count_children(d) == len(names)
            assert [c.name for c in txn.list_children(ROOT_ID)] == ["d", "other"]
            assert txn.count_children(ROOT_ID) == 2
            assert txn.list_children(tree["other/x"].id) == []
            assert txn.count_children(tree["other/x"].id) == 0

    def test_parent_and_name_are_unique(self, store: Metastore) -> None:
        tree = make_tree(store, ["a/", "a/f", "b/"])
        with pytest.raises(FileExists):
            with store.transaction() as txn:
                new_inode(txn, tree["a"].id, "f")
        with store.transaction() as txn:  # the same name elsewhere is fine
            new_inode(txn, tree["b"].id, "f")
        with pytest.raises(FileExists):  # so is renaming onto a taken name: it is not
            with store.transaction() as txn:
                moved = txn.get_child(tree["b"].id, "f")
                assert moved is not None
                txn.update_inode(replace(moved, parent_id=tree["a"].id))
        with store.snapshot() as txn:
            assert txn.count_children(tree["a"].id) == 1
            assert txn.count_subdirs(tree["a"].id) == 0
            assert txn.count_children(tree["b"].id) == 1
            assert txn.get_child(tree["a"].id, "f") == tree["a/f"]

    def test_update_renames_and_changes_fields(self, store: Metastore) -> None:
        tree = make_tree(store, ["src/", "src/f", "dst/"])
        f = tree["src/f"]
        changed = replace(
            f,
            parent_id=tree["dst"].id,
            name="g",
            length=10,
            block_size=4,
            generation=f.generation + 1,
            state=PersistenceState.PERSISTED,
            pinned=True,
            fingerprint="10:x",
        )
        with store.transaction() as txn:
            txn.update_inode(changed)
        with store.snapshot() as txn:
            assert txn.get_child(tree["src"].id, "f") is None
            assert txn.get_child(tree["dst"].id, "g") == changed
            assert txn.get_inode(f.id) == changed
            assert txn.count_children(tree["src"].id) == 0
        with store.transaction() as txn:  # the old name is free again
            new_inode(txn, tree["src"].id, "f")

    def test_delete_inodes_deletes_their_jobs(self, store: Metastore) -> None:
        tree = make_tree(store, ["d/", "d/f1", "d/f2", "keep"])
        with store.transaction() as txn:
            j1 = txn.insert_job(tree["d/f1"].id, 1, NOW)
            j2 = txn.insert_job(tree["d/f2"].id, 1, NOW)
            jk = txn.insert_job(tree["keep"].id, 1, NOW)
        with store.transaction() as txn:
            txn.delete_inodes([tree["d/f1"].id, tree["d/f2"].id, tree["d"].id])
        with store.snapshot() as txn:
            for name in ("d", "d/f1", "d/f2"):
                assert txn.get_inode(tree[name].id) is None
            assert txn.get_child(ROOT_ID, "d") is None
            assert txn.get_job(j1.id) is None and txn.get_job(j2.id) is None
            assert txn.job_for_inode(tree["d/f1"].id) is None
            assert txn.get_inode(tree["keep"].id) == tree["keep"]
            assert txn.get_job(jk.id) == jk
            assert [j.id for j in txn.list_jobs()] == [jk.id]

    def test_delete_many_inodes(self, store: Metastore) -> None:
        spec = ["big/"] + [f"big/f{i:04d}" for i in range(1200)]
        tree = make_tree(store, spec)
        ids = [tree[p.rstrip("/")].id for p in spec]
        with store.transaction() as txn:
            for i in ids[1::100]:
                txn.insert_job(i, 1, NOW)
        with store.transaction() as txn:
            txn.delete_inodes(ids)
        with store.snapshot() as txn:
            assert txn.list_children(ROOT_ID) == []
            assert txn.list_jobs() == []
            assert txn.get_inode(ids[-1]) is None

    def test_subtree_parents_before_children(self, store: Metastore) -> None:
        tree = make_tree(
            store, ["a/", "a/b/", "a/d", "a/b/c/", "a/b/e", "a/b/c/f", "a/g/", "x/", "x/y"]
        )
        with store.snapshot() as txn:
            sub = txn.subtree(tree["a"].id)
            assert sub[0] == tree["a"]
            assert {i.id for i in sub} == {tree[p].id for p in tree if p.startswith("a")}
            assert len(sub) == len({i.id for i in sub})
            seen = set()
            for inode in sub:
                if inode.id != tree["a"].id:
                    assert inode.parent_id in seen, f"{inode.name} listed before its parent"
                seen.add(inode.id)
            assert txn.subtree(tree["a/b/c/f"].id) == [tree["a/b/c/f"]]
            assert txn.subtree(10**9) == []
            whole = txn.subtree(ROOT_ID)
            assert whole[0].id == ROOT_ID
            assert sorted(i.id for i in whole) == sorted([ROOT_ID, *(i.id for i in tree.values())])

    def test_inodes_in_state_and_with_ttl(self, store: Metastore) -> None:
        with store.transaction() as txn:
            a = new_inode(txn, ROOT_ID, "a", state=PersistenceState.TO_BE_PERSISTED)
            b = new_inode(txn, ROOT_ID, "b", state=PersistenceState.TO_BE_PERSISTED, ttl_ms=5)
            new_inode(txn, ROOT_ID, "c", state=PersistenceState.PERSISTED)
            d = new_inode(txn, ROOT_ID, "d", state=PersistenceState.LOST, ttl_ms=9)
        with store.snapshot() as txn:
            pending = txn.inodes_in_state(PersistenceState.TO_BE_PERSISTED)
            assert sorted(i.id for i in pending) == [a.id, b.id]
            assert [i.id for i in txn.inodes_in_state(PersistenceState.LOST)] == [d.id]
            assert txn.inodes_in_state(PersistenceState.NOT_PERSISTED) == []
            assert sorted(i.id for i in txn.inodes_with_ttl()) == [b.id, d.id]

    def test_pinned_inodes(self, store: Metastore) -> None:
        with store.transaction() as txn:
            a = new_inode(txn, ROOT_ID, "a", pinned=True)
            new_inode(txn, ROOT_ID, "b")
            c = new_inode(txn, ROOT_ID, "c", is_dir=True, pinned=True)
        with store.snapshot() as txn:
            assert sorted(i.id for i in txn.pinned_inodes()) == [a.id, c.id]
        with store.transaction() as txn:
            txn.update_inode(replace(a, pinned=False))
        with store.snapshot() as txn:
            assert [i.id for i in txn.pinned_inodes()] == [c.id]

    def test_shared_block_map_round_trips(self, store: Metastore) -> None:
        """A copy-on-write version keeps the block map it was committed with."""
        with store.transaction() as txn:
            old = new_inode(txn, ROOT_ID, "old", length=4 * 10, block_size=10)
            new = new_inode(txn, ROOT_ID, "new", length=5 * 10, block_size=10)
            shared = {0: old.block_ids()[0], 1: old.block_ids()[1], 3: old.block_ids()[3]}
            share_blocks(new, shared)
            txn.update_inode(new)
        with store.snapshot() as txn:
            got = txn.get_inode(new.id)
            assert got is not None and got.shared == new.shared
            ids = got.block_ids()
            assert [ids[0], ids[1], ids[3]] == [shared[0], shared[1], shared[3]]
            assert ids[2] == block_id(new.id, 2) and ids[4] == block_id(new.id, 4)
            assert [i.id for i in txn.sharing_inodes()] == [new.id]
            assert txn.get_child(ROOT_ID, "old") is not None  # untouched
            assert txn.get_inode(old.id).shared is None  # type: ignore[union-attr]

    def test_scattered_block_map_round_trips(self, store: Metastore) -> None:
        """A version patched in many places stores its map compressed; it reads back the
        same in a process that never parsed it."""
        count = 4 * blockmap.RUNS_UP_TO
        with store.transaction() as txn:
            old = new_inode(txn, ROOT_ID, "old", length=count * 10, block_size=10)
            new = new_inode(txn, ROOT_ID, "new", length=count * 10 + 3, block_size=10)
            shared = {i: b for i, b in enumerate(old.block_ids()) if i % 3}
            share_blocks(new, shared)
            txn.update_inode(new)
        assert new.shared is not None and new.shared.startswith(blockmap.ARRAY)
        with store.snapshot() as txn:
            got = txn.get_inode(new.id)
        assert got is not None and got.shared == new.shared
        want = [shared.get(i, block_id(new.id, i)) for i in range(count + 1)]
        first = new.id << BLOCK_INDEX_BITS
        assert blockmap.parse(first, count + 1, got.shared) == want  # (not the remembered list)
        assert got.block_ids() == want

    def test_allocate_ids_monotonic_and_disjoint(self, store: Metastore) -> None:
        ranges = []
        for count in (1, 5, 1, 100, 3):
            with store.transaction() as txn:
                first = txn.allocate_ids(count)
            ranges.append(range(first, first + count))
        flat = [i for r in ranges for i in r]
        assert flat == sorted(flat)
        assert len(flat) == len(set(flat)) == 110
        assert min(flat) > ROOT_ID

    def test_allocate_ids_in_one_transaction(self, store: Metastore) -> None:
        with store.transaction() as txn:
            first = txn.allocate_ids(10)
            second = txn.allocate_ids(10)
        assert second >= first + 10

    # mounts ---------------------------------------------------------------------------
    def test_mounts_crud(self, store: Metastore) -> None:
        with store.transaction() as txn:
            assert txn.list_mounts() == []
            m1 = MountInfo(id=0, path="/z", uri="memory://z", options={"anon": True, "n": [1]})
            m2 = MountInfo(id=0, path="/a/b", uri="s3://bucket/p", sync_interval_ms=0)
            id1 = txn.insert_mount(m1)
            id2 = txn.insert_mount(m2)
            assert id1 != id2
        with store.snapshot() as txn:
            mounts = txn.list_mounts()
            assert [m.path for m in mounts] == ["/a/b", "/z"]
            assert mounts[0] == replace(m2, id=id2)
            assert mounts[1] == replace(m1, id=id1)
        with store.transaction() as txn:
            txn.update_mount(MountInfo(id=id1, path="/y", uri="memory://y", read_only=True))
        with store.snapshot() as txn:
            assert txn.list_mounts()[1] == MountInfo(
                id=id1, path="/y", uri="memory://y", read_only=True
            )
        with store.transaction() as txn:
            txn.delete_mount(id2)
        with store.snapshot() as txn:
            assert [m.id for m in txn.list_mounts()] == [id1]

    def test_mount_path_is_unique(self, store: Metastore) -> None:
        with store.transaction() as txn:
            txn.insert_mount(MountInfo(id=0, path="/m", uri="memory://one"))
        with pytest.raises(MountError):
            with store.transaction() as txn:
                txn.insert_mount(MountInfo(id=0, path="/m", uri="memory://two"))
        with store.snapshot() as txn:
            assert [m.uri for m in txn.list_mounts()] == ["memory://one"]
