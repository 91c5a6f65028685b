"""The master's view of where blocks live: its own block store (if it keeps one) and
the workers that registered by heartbeat.

:class:`Cluster` offers the :class:`~siltfs.worker.blockstore.BlockStore` methods the
master and the embedded streams use (put/get/pin/unpin/free/remove/contains/
cached_bytes/usage), so the namespace, the persister and the readers/writers do not
care whether a block is in this process or on a worker across the network.

- Placement is capacity-aware: a block goes to the member with the most free room in
  the tier it needs; ``replicas=n`` puts it on *n* distinct members (ASYNC_THROUGH data
  that must survive the loss of a worker) or fails with ResourceExhausted.
- Locations come from the puts this master made and from each worker's heartbeat (its
  full block map whenever it changed), so several masters sharing workers all know.
- A worker silent for ``worker_timeout_s`` is dead: :meth:`reap` forgets its blocks and
  says which; the master then marks unpersisted files whose only copy was there LOST.
- Right after the master starts, workers have not reported yet: reads that find no
  copy wait for them (until ``worker_timeout_s`` after start) before calling it a miss.
- A copy that fails its checksums (:class:`~siltfs.errors.BlockCorrupted`, the member
  dropped it) is forgotten and the next holder is asked; the error is raised only if no
  member has a good copy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from siltfs.config import ClusterConfig
from siltfs.errors import (
    BlockCorrupted,
    NotEnoughWorkers,
    ResourceExhausted,
    SiltError,
    Unavailable,
)
from siltfs.master.cluster_stats import ClusterStatistics
from siltfs.master.holds import BlockHolds, Holding
from siltfs.master.members import LOCAL, WorkerRecord, overview, sum_usage
from siltfs.worker.blockstore import BlockStore, TierUsage
from siltfs.worker.checksums import crc
from siltfs.worker.client import WorkerClient
from siltfs.worker.holder import BlockHolder
from siltfs.worker.hostid import HOST_ID

log = logging.getLogger("siltfs.cluster")
__all__ = ["LOCAL", "Cluster", "WorkerRecord"]


class Cluster(ClusterStatistics, Holding):
    def __init__(
        self,
        local: BlockStore | None,
        config: ClusterConfig,
        token: str | None = None,
        *,
        is_needed: Callable[[list[int]], tuple[set[int], set[int]]] | None = None,
        expect_workers: bool = False,
    ) -> None:
        self.local = local
        self.config = config
        self.token = token
        self.workers: dict[str, WorkerRecord] = {}
        self.where: dict[int, set[str]] = {}  # block id -> remote worker ids
        self.pinned: set[int] = set()
        self.holds = BlockHolds()
        self._misses = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._started = time.monotonic()
        # given block ids a worker reported: (those to pin, those that are orphans)
        self.is_needed = is_needed
        self.expect_workers = expect_workers or local is None

    def sees_everything(self, shared_metastore: bool) -> bool:
        """Whether a block no member holds is really gone.  Not so when other masters
        sharing the metastore keep block stores of their own, which this one cannot see
        (run such masters with ``--no-local-worker`` and shared workers)."""
        return not (shared_metastore and self.local is not None)

    # membership -----------------------------------------------------------
    def settled(self) -> bool:
        """True once the cached blocks are known: at once without external workers,
        else when workers had ``worker_timeout_s`` after this master started to report."""
        if not self.expect_workers:
            return True
        return time.monotonic() - self._started >= self.config.worker_timeout_s

    def alive(self) -> list[WorkerRecord]:
        with self._lock:
            return [w for w in self.workers.values() if w.alive]

    def heartbeat(self, report: dict[str, Any]) -> dict[str, Any]:
        """Record a worker's heartbeat; the answer tells it what to pin and drop."""
        wid = str(report["id"])
        answer: dict[str, Any] = {"resync": False, "pin": [], "remove": []}
        with self._lock:
            w = self.workers.get(wid)
            rebooted = w is None or w.boot_id != report["boot_id"] or not w.alive
            if w is None or w.url != report["url"]:
                if w is not None:
                    w.client.close()
                w = WorkerRecord(
                    wid,
                    str(report["url"]),
                    str(report["host_id"]),
                    str(report["block_dir"]),
                    str(report["boot_id"]),
                    WorkerClient(str(report["url"]), self.token),
                )
                self.workers[wid] = w
                log.info("worker %s registered at %s", wid, w.url)
            elif not w.alive:
                log.warning("worker %s is back at %s", wid, w.url)
            if w.boot_id != report["boot_id"]:
                w.put_versions.clear()  # versions count again from 0 after a restart
            w.boot_id = str(report["boot_id"])
            w.last_seen = time.monotonic()
            w.alive = True
            w.take_counters(report)
            blocks = report.get("blocks")
            w.check_blocks = w.check_blocks or rebooted
            if blocks is None:
                if rebooted:
                    answer["resync"] = True  # we need its full block map
            else:
                blocks_now = {int(k): int(v) for k, v in blocks.items()}
                self._replace_blocks(w, blocks_now, int(report.get("version", 0)))
                check, w.check_blocks = w.check_blocks, False
                if check and self.is_needed is not None:
                    ids = list(w.blocks)
                    pins, orphans = self.is_needed(ids)
                    orphans -= self.pinned  # a write in flight pinned them first
                    answer["pin"] = sorted(pins | (self.pinned & set(ids)))
                    answer["remove"] = sorted(orphans)
                    for bid in orphans:
                        self._forget(w, bid)
            self._changed.notify_all()
        return answer

    def _replace_blocks(self, w: WorkerRecord, blocks: dict[int, int], version: int) -> None:
        newer = {b: w.blocks[b] for b, v in w.put_versions.items() if v > version and b in w.blocks}
        for bid in set(w.blocks) - set(blocks) - set(newer):
            self._forget(w, bid)
        for bid in blocks:
            self.where.setdefault(bid, set()).add(w.id)
        w.blocks = {**blocks, **newer}
        w.put_versions = {b: v for b, v in w.put_versions.items() if v > version}

    def _forget(self, w: WorkerRecord, bid: int) -> None:
        w.blocks.pop(bid, None)
        w.put_versions.pop(bid, None)
        holders = self.where.get(bid)
        if holders is not None:
            holders.discard(w.id)
            if not holders:
                del self.where[bid]

    def reap(self) -> list[tuple[WorkerRecord, set[int]]]:
        """Workers silent for longer than the timeout: marked dead, their blocks
        forgotten.  Returns each with the block ids it held."""
        now = time.monotonic()
        dead: list[tuple[WorkerRecord, set[int]]] = []
        with self._lock:
            for w in self.workers.values():
                if w.alive and now - w.last_seen > self.config.worker_timeout_s:
                    w.alive = False
                    held = set(w.blocks)
                    for bid in held:
                        self._forget(w, bid)
                    dead.append((w, held))
                    log.error(
                        "worker %s at %s stopped heartbeating (%.1f s): %d cached block(s) gone",
                        w.id,
                        w.url,
                        now - w.last_seen,
                        len(held),
                    )
        return dead

    def mark_unreachable(self, w: WorkerRecord) -> None:
        """A call to *w* failed: stop sending it work until it heartbeats again."""
        with self._lock:
            w.last_seen = min(w.last_seen, time.monotonic() - self.config.worker_timeout_s)

    # placement ------------------------------------------------------------
    def _holders(self, bid: int) -> list[WorkerRecord]:
        with self._lock:
            return [self.workers[i] for i in self.where.get(bid, ()) if self.workers[i].alive]

    def put(
        self,
        block_id: int,
        data: bytes | memoryview,
        *,
        durable: bool = False,
        ssd: bool = False,
        replicas: int = 1,
    ) -> str:
        """Store a block on *replicas* distinct members; returns the first one's tier."""
        if not self.workers and replicas <= 1:
            if self.local is None:
                raise ResourceExhausted(
                    "no worker has registered with this master yet", path=f"block {block_id}"
                )
            return self.local.put(block_id, data, durable=durable, ssd=ssd)
        ssd_only = durable or ssd
        candidates: list[tuple[int, BlockStore | WorkerRecord]] = []
        if self.local is not None:
            room = sum(
                u.capacity - u.used for u in self.local.usage() if u.tier == "SSD" or not ssd_only
            )
            candidates.append((room, self.local))
        candidates += [(w.free_room(ssd_only), w) for w in self.alive()]
        candidates.sort(key=lambda c: -c[0])
        if len(candidates) < replicas:  # before any byte is written
            raise NotEnoughWorkers(
                f"block needs {replicas} copies on distinct workers; "
                f"{len(candidates)} member(s) known",
                path=f"block {block_id}",
            )
        placed: list[str] = []
        last: SiltError | None = None
        pin = block_id in self.pinned
        whole: int | None = None  # the CRC-32C a worker checks the block against
        for _, member in candidates:
            if len(placed) >= replicas:
                break
            try:
                if isinstance(member, BlockStore):
                    placed.append(member.put(block_id, data, durable=durable, ssd=ssd))
                    continue
                whole = crc(data) if whole is None else whole
                tier, version = member.client.put(
                    block_id, data, durable=durable, ssd=ssd, pin=pin, crc32c=whole
                )
                placed.append(tier)
                with self._lock:
                    member.blocks[block_id] = len(data)
                    member.put_versions[block_id] = version
                    self.where.setdefault(block_id, set()).add(member.id)
            except Unavailable as exc:
                self.mark_unreachable(member)  # type: ignore[arg-type]
                last = exc
            except ResourceExhausted as exc:
                last = exc
        if len(placed) < replicas:
            self.remove([block_id])
            have = len(candidates)
            raise ResourceExhausted(
                f"block needs {replicas} cop{'y' if replicas == 1 else 'ies'} on distinct "
                f"workers; {have} member(s) known, {len(placed)} could take it"
                + (f" (last error: {last})" if last else ""),
                path=f"block {block_id}",
            )
        return placed[0]

    # access ---------------------------------------------------------------
    def get(self, block_id: int, *, promote: bool = False, wait: bool = False) -> bytes | None:
        """The block from whichever member holds it; None on a miss.  *wait*: if this
        master just started, give workers their first heartbeat to report the block
        (for data that has no other copy)."""
        local = self.local
        corrupt: list[BlockCorrupted] = []  # copies that failed their checksums
        if local is not None and (local.contains(block_id) or not self.expect_workers):
            try:
                data = local.get(block_id, promote=promote)
            except BlockCorrupted as exc:
                data = None
                corrupt.append(exc)
            if data is not None or (not self.workers and not corrupt):
                return data
        deadline = self._started + self.config.worker_timeout_s
        while True:
            tried = False
            for w in self._holders(block_id):
                tried = True
                data = self._read_from(w, block_id, promote, corrupt)
                if data is not None:
                    return data
            if wait and not tried and not corrupt:
                data = self._probe(block_id, promote, corrupt)
                if data is not None:
                    return data
            with self._lock:
                early = wait and self.expect_workers and time.monotonic() < deadline
                if tried or not early or corrupt:
                    if corrupt:
                        raise corrupt[0]
                    self._misses += 1
                    return None
                # just started: the workers may not have reported this block yet
                self._changed.wait(min(0.2, max(0.0, deadline - time.monotonic())))

    def read_range(
        self, block_id: int, offset: int, size: int, *, wait: bool = False
    ) -> bytes | None:
        """Part of a block: verified in range by this master's own store if it holds it."""
        local, corrupt = self.local, None
        if local is not None and local.contains(block_id):
            try:
                if (part := local.read_range(block_id, offset, size)) is not None:
                    return part
            except BlockCorrupted as exc:  # dropped: get() tries the other copies
                corrupt = exc
        data = self.get(block_id, wait=wait)
        if data is None and corrupt is not None:
            raise corrupt
        return None if data is None else data[offset : offset + size]

    def _probe(self, block_id: int, promote: bool, corrupt: list[BlockCorrupted]) -> bytes | None:
        """Ask every live worker directly: for data with no other copy, a location this
        master has not heard of yet (another master put it; the heartbeat is on its way)
        must not pass for a loss."""
        for w in self.alive():
            data = self._read_from(w, block_id, promote, corrupt)
            if data is not None:
                return data
        return None

    def _read_from(
        self, w: WorkerRecord, block_id: int, promote: bool, corrupt: list[BlockCorrupted]
    ) -> bytes | None:
        """The block from worker *w*, its location recorded as it turns out: known if it
        answered with the bytes, forgotten if it does not have it (or dropped it as
        corrupt: added to *corrupt*); None if it cannot be reached (marked so) or does
        not have it."""
        try:
            data = w.client.get(block_id, promote=promote)
        except Unavailable:
            self.mark_unreachable(w)
            return None
        except BlockCorrupted as exc:
            corrupt.append(BlockCorrupted(f"on worker {w.id}: {exc.message}", exc.path))
            data = None
        with self._lock:
            if data is None:
                self._forget(w, block_id)
            else:
                w.blocks[block_id] = len(data)
                self.where.setdefault(block_id, set()).add(w.id)
        return data

    def contains(self, block_id: int) -> bool:
        if self.local is not None and self.local.contains(block_id):
            return True
        return bool(self._holders(block_id))

    def tier_of(self, block_id: int) -> str | None:
        if self.local is not None and self.local.contains(block_id):
            return self.local.tier_of(block_id)
        return "REMOTE" if self._holders(block_id) else None

    def ssd_path(self, block_id: int) -> Any:
        return self.local.ssd_path(block_id) if self.local is not None else None

    def cached_bytes(self, block_ids: Iterable[int]) -> int:
        if not self.workers:
            return self.local.cached_bytes(block_ids) if self.local is not None else 0
        ids = list(block_ids)
        total = self.local.cached_bytes(ids) if self.local is not None else 0
        with self._lock:
            for bid in ids:
                if self.local is not None and self.local.contains(bid):
                    continue
                for wid in self.where.get(bid, ()):
                    w = self.workers[wid]
                    if w.alive:
                        total += w.blocks.get(bid, 0)
                        break
        return total

    def cached_bytes_many(self, lists: list[list[int]]) -> list[int]:
        """:meth:`cached_bytes` of several block lists (one ``ls``), in one go."""
        if not self.workers and self.local is not None:
            return self.local.cached_bytes_many(lists)
        return [self.cached_bytes(ids) for ids in lists]

    def locate(self, block_id: int) -> list[dict[str, Any]]:
        """Where a client may read a block: workers holding it, local ones first."""
        out: list[dict[str, Any]] = [
            {"worker": w.id, "url": w.url, "host_id": w.host_id, "block_dir": w.block_dir}
            for w in self._holders(block_id)
        ]
        if self.local is not None and self.local.tier_of(block_id) == "SSD":
            out.append(
                {
                    "worker": LOCAL,
                    "url": None,
                    "host_id": HOST_ID,
                    "block_dir": str(self.local.ssd.dir.resolve()),
                }
            )
        out.sort(key=lambda d: d["host_id"] != HOST_ID)
        return out

    # pinning and dropping ---------------------------------------------------
    def _by_worker(self, block_ids: Iterable[int]) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        with self._lock:
            for bid in block_ids:
                for wid in self.where.get(bid, ()):
                    groups.setdefault(wid, []).append(bid)
        return groups

    def _fan_out(self, action: str, block_ids: list[int]) -> int:
        done = 0
        for wid, ids in self._by_worker(block_ids).items():
            w = self.workers[wid]
            if not w.alive:
                continue
            try:
                result = getattr(w.client, action)(ids)
                done += result if isinstance(result, int) else 0
            except Unavailable:
                self.mark_unreachable(w)
            except SiltError as exc:
                log.warning("%s of %d block(s) on worker %s failed: %s", action, len(ids), wid, exc)
        return done

    def pin(self, block_ids: Iterable[int]) -> None:
        self._set_pinned(list(block_ids), True)

    def unpin(self, block_ids: Iterable[int]) -> None:
        self._set_pinned(list(block_ids), False)

    def _set_pinned(self, ids: list[int], pinned: bool) -> None:
        with self._lock:
            (self.pinned.update if pinned else self.pinned.difference_update)(ids)
        if self.local is not None:
            (self.local.pin if pinned else self.local.unpin)(ids)
        if self.workers:
            self._fan_out("pin" if pinned else "unpin", ids)

    def free(self, block_ids: Iterable[int]) -> int:
        """Drop unpinned blocks no open handle holds (a reader of the version, or of an
        older one sharing them, keeps them); returns how many were dropped."""
        ids = [b for b in block_ids if b not in self.pinned]
        held = self.holds.held(ids)
        if held:
            ids = [b for b in ids if b not in held]
        n = self.local.free(ids) if self.local is not None else 0
        if self.workers:
            n += self._fan_out("free", ids)
            with self._lock:
                for wid, group in self._by_worker(ids).items():
                    for bid in group:
                        self._forget(self.workers[wid], bid)
        return n

    def remove(self, block_ids: Iterable[int]) -> None:
        """Drop blocks from every member (those an open handle holds: at its release)."""
        ids = self.holds.defer(block_ids)
        with self._lock:
            self.pinned.difference_update(ids)
        if self.local is not None:
            self.local.remove(ids)
        if self.workers:
            groups = self._by_worker(ids)
            self._fan_out("remove", ids)
            with self._lock:
                for wid, group in groups.items():
                    for bid in group:
                        self._forget(self.workers[wid], bid)

    def all_block_ids(self) -> set[int]:
        ids = self.local.all_block_ids() if self.local is not None else set()
        with self._lock:
            return ids | set(self.where)

    def usage(self) -> list[TierUsage]:
        """Capacity and use per tier, summed over the live members."""
        members = [self.local.usage()] if self.local is not None else []
        return sum_usage(members + [w.tiers for w in self.alive()])

    def overview(self) -> list[dict[str, Any]]:
        """One entry per member (the dashboard's worker table)."""
        local = self.local.usage() if self.local is not None else None
        with self._lock:
            return overview(local, list(self.workers.values()))

    def flush_mem(self) -> None:
        if self.local is not None:
            self.local.flush_mem()

    def close(self) -> None:
        with self._lock:
            for w in self.workers.values():
                w.client.close()


_IS_A_HOLDER: type[BlockHolder] = Cluster  # (mypy checks the protocol)
