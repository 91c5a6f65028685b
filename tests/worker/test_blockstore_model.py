"""Hypothesis stateful test: the block store against a plain dict model.

Whatever the sequence of operations, a block that is readable has the bytes last put,
pinned blocks stay readable (I3), tier accounting matches what is stored, and the SSD
directory holds exactly the SSD tier's blocks.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from siltfs.errors import ResourceExhausted
from siltfs.worker.blockstore import BlockStore

MEM, SSD = 40, 60


class BlockStoreModel(RuleBasedStateMachine):
    """Rules mirror what the worker does; invariants are what the namespace relies on."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="silt-bs-"))
        self.store = BlockStore(MEM, SSD, self.dir)
        self.model: dict[int, bytes] = {}  # last bytes successfully put per block
        self.pinned: set[int] = set()
        self.next_id = 1

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _known(self) -> list[int]:
        return sorted(self.model)

    @rule(
        size=st.integers(min_value=1, max_value=30),
        durable=st.booleans(),
        ssd=st.booleans(),
        pin=st.booleans(),
    )
    def put(self, size: int, durable: bool, ssd: bool, pin: bool) -> None:
        bid = self.next_id  # fresh ids only: block ids are never reused by the namespace
        self.next_id += 1
        payload = bytes([bid % 251]) * size
        if pin:
            self.store.pin([bid])
            self.pinned.add(bid)
        try:
            tier = self.store.put(bid, payload, durable=durable, ssd=ssd)
        except ResourceExhausted:
            assert not self.store.contains(bid)
            return
        assert tier in ("MEM", "SSD")
        if durable or ssd:
            assert tier == "SSD"
        self.model[bid] = payload

    @precondition(lambda self: self.model)
    @rule(data=st.data(), size=st.integers(min_value=1, max_value=30), ssd=st.booleans())
    def reput(self, data: st.DataObject, size: int, ssd: bool) -> None:
        """Write a known block again (a retried write): new bytes, or the old ones kept."""
        bid = data.draw(st.sampled_from(self._known()))
        payload = bytes([(bid + size) % 251]) * size
        try:
            self.store.put(bid, payload, ssd=ssd)
        except ResourceExhausted:
            return  # the old copy, if still there, must be intact (checked by invariant)
        self.model[bid] = payload

    @precondition(lambda self: self.model)
    @rule(data=st.data(), promote=st.booleans())
    def get(self, data: st.DataObject, promote: bool) -> None:
        bid = data.draw(st.sampled_from(self._known()))
        got = self.store.get(bid, promote=promote)
        assert got is None or got == self.model[bid]

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def toggle_pin(self, data: st.DataObject) -> None:
        bid = data.draw(st.sampled_from(self._known()))
        if bid in self.pinned:
            self.store.unpin([bid])
            self.pinned.discard(bid)
        elif self.store.contains(bid):
            self.store.pin([bid])
            self.pinned.add(bid)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def free(self, data: st.DataObject) -> None:
        bids = data.draw(st.lists(st.sampled_from(self._known()), max_size=4, unique=True))
        expected = sum(1 for b in bids if b not in self.pinned and self.store.contains(b))
        assert self.store.free(bids) == expected
        for b in bids:
            if b not in self.pinned:
                assert not self.store.contains(b)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        bid = data.draw(st.sampled_from(self._known()))
        self.store.remove([bid])
        self.pinned.discard(bid)
        del self.model[bid]
        assert not self.store.contains(bid)

    @rule()
    def restart(self) -> None:
        """A new process on the same SSD dir: MEM is lost, SSD kept, pins re-applied."""
        self.store.flush_mem()
        for bid in [b for b in self.model if self.store.tier_of(b) == "MEM"]:
            del self.model[bid]  # MEM does not survive a process; flush had no room
            self.pinned.discard(bid)
        self.store = BlockStore(MEM, SSD, self.dir)
        self.store.pin(self.pinned)

    @invariant()
    def readable_blocks_have_their_bytes(self) -> None:
        for bid, payload in self.model.items():
            got = self.store.get(bid)
            if bid in self.pinned:
                assert got == payload, f"pinned block {bid} lost"
            else:
                assert got is None or got == payload

    @invariant()
    def accounting_matches(self) -> None:
        for tier in self.store.tiers:
            assert 0 <= tier.used <= tier.capacity
            assert tier.used == sum(tier.sizes.values())
        assert set(self.store.mem.sizes).isdisjoint(self.store.ssd.sizes)
        names = {p.name for p in (self.dir / "blocks").iterdir()}
        on_disk = {int(n) for n in names if n.isdigit()}
        assert on_disk == set(self.store.ssd.sizes)
        assert names - {str(b) for b in on_disk} == {f"{b}.crc" for b in on_disk}
        assert list((self.dir / "tmp").iterdir()) == []


BlockStoreModel.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestBlockStoreModel = BlockStoreModel.TestCase
