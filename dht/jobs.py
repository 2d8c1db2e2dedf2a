"""The periodic jobs of the node core: bucket refresh, replication of stored keys, republishing of our own
records, and hand-off of stored records to a newly seen close node.

Theory of operation
-------------------
Three timers, each re-armed with +-10% jitter (nodes started together must not act together; a simulator
that starts a whole converged network at one instant also calls ``stagger``: each node's first refresh,
replication and republish then fall uniformly within one interval, as in a network whose nodes have been
up for different lengths of time):

* **refresh** every ``refresh_interval``: a lookup of a random id in every allocated bucket (after a
  bootstrap, ``refresh(start=...)`` refreshes once the buckets beyond our closest neighbour that hold fewer
  than ``join_fill`` contacts, each with a one-path lookup that ends as soon as its bucket holds that many:
  every peer that answers it is a contact of that bucket, so a bucket costs about ``join_fill`` requests);
* **replicate** every ``replicate_interval`` while the store holds records: each stored key is looked up and
  its live records are PUT to its current k closest, unless another node pushed that key within the
  interval (it did the job for us);
* **republish** every ``republish_interval`` while we have own records: each key's own records are
  published again until they expire or ``untrack`` (an intent with ``extra_groups`` to each of its keys,
  ``keys_for_record``).

**Hand-off** runs on an event, not a timer: when a new contact enters the routing table and both it and we
are among the k closest (of us and our table) to a stored key, that key's records are PUT to it directly.

Bounded concurrency: replication and republishing don't start one lookup per key at once. Their
operations (``dht.ops``, reporting nothing) wait in one queue (a key at most once per kind) and at most
``MAX_JOB_OPS`` run at a time; the next starts when one ends. Hand-offs wait in a queue of (contact, key)
of at most ``MAX_HANDOFF_QUEUE`` (beyond it the oldest is dropped: the hourly replication covers it); the
next key's PUT requests go out only while fewer than ``MAX_HANDOFF_INFLIGHT`` hand-off requests are in flight
(a key of several batches sends them together). Records are read from the store when the work starts, not
when it is queued. The node owns the timers' place in ``next_timer``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from dht.config import Rng
from dht.keys import contact_id, id_int, keys_for_record
from dht.ops import K_PUBLISH, K_REFRESH, K_REPLICATE
from dht.requests import (
    HANDOFF,
    NEVER,
    S_HANDOFF,
    S_HANDOFF_DROPPED,
    S_JOBS_QUEUED,
    put_batches,
    put_factory,
)
from dht.routing import NUM_BUCKETS
from dht.store import open_record
from wire.messages import Contact

if TYPE_CHECKING:
    from dht.node import Node

#: Replication and republish operations (a lookup, then PUTs) running at once; the others wait.
MAX_JOB_OPS = 8
#: Hand-off PUT requests in flight before the next key waits (its batches go out together).
MAX_HANDOFF_INFLIGHT = 8
#: (contact, key) hand-offs waiting; beyond this the oldest is dropped (replication covers it later).
MAX_HANDOFF_QUEUE = 1024


class Jobs:
    """The periodic jobs of one node and the own records it republishes. See the module docstring."""

    __slots__ = (
        "_handoff_busy",
        "_handoffs",
        "_node",
        "_phase",
        "_pumping",
        "_queue",
        "_queued",
        "_running",
        "own",
        "t_refresh",
        "t_replicate",
        "t_republish",
    )

    def __init__(self, node: Node) -> None:
        self._node = node
        # the job queue (allocated on first use): (op kind, key), each at most once
        self._queue: deque[tuple[int, bytes]] | None = None
        self._queued: set[tuple[int, bytes]] | None = None
        self._running = 0  # job operations running
        self._pumping = False  # _pump is running (an op that ends at once must not recurse into it)
        self._handoffs: deque[tuple[Contact, bytes]] | None = None
        self._handoff_busy = 0  # hand-off PUT requests in flight
        self.own: dict[bytes, bytes] | None = None  # author + intent id -> our newest record
        # ``stagger``: fractions of an interval for the first replication / republish timer (None: jitter)
        self._phase: list[float | None] | None = None
        self.t_refresh = NEVER
        self.t_replicate = NEVER
        self.t_republish = NEVER

    def jitter(self, interval: float) -> float:
        """``interval`` +-10%, so that nodes started together don't act together."""
        return interval * (0.9 + 0.2 * self._node.rng.random())

    def start(self, now: float) -> None:
        """Arm the refresh timer, and the replication timer if the store already holds records."""
        cfg = self._node.config
        if cfg.refresh_interval > 0:
            self.t_refresh = now + self.jitter(cfg.refresh_interval)
        self.stored(now)

    def stagger(self, now: float, rng: Rng) -> None:
        """Put each periodic job at a random phase, as on a node that has been up for longer than its
        interval: the refresh timer (if armed) is drawn again uniformly in ``[now, now + interval)``; the
        replication and republish timers, when next armed, at a fraction of their interval drawn now
        (uniform in [0, 1)) instead of the interval +-10%. Then they run as usual.

        Args:
            now: the current time.
            rng: where the three fractions come from (refresh, replication, republish, in this order).
        """
        cfg = self._node.config
        u_refresh, u_replicate, u_republish = rng.random(), rng.random(), rng.random()
        if self.t_refresh != NEVER and cfg.refresh_interval > 0:
            self.t_refresh = now + u_refresh * cfg.refresh_interval
        self._phase = [u_replicate, u_republish]
        if self.t_replicate != NEVER and cfg.replicate_interval > 0:
            self.t_replicate = now + self._first(0, cfg.replicate_interval)
        if self.t_republish != NEVER and cfg.republish_interval > 0:
            self.t_republish = now + self._first(1, cfg.republish_interval)

    def _first(self, which: int, interval: float) -> float:
        """The delay of a timer armed now (``which``: 0 replication, 1 republish): its staggered phase the
        first time after ``stagger``, else the interval +-10%."""
        phase = self._phase
        u = None if phase is None else phase[which]
        if phase is None or u is None:
            return self.jitter(interval)
        phase[which] = None
        return u * interval

    def stored(self, now: float) -> None:
        """Records were stored: arm the replication timer if it isn't."""
        node = self._node
        store = node._store
        if (
            self.t_replicate == NEVER
            and node.config.replicate_interval > 0
            and store is not None
            and len(store)
        ):
            self.t_replicate = now + self._first(0, node.config.replicate_interval)

    def next_due(self) -> float:
        """The earliest job timer (NEVER if none is armed)."""
        return min(self.t_refresh, self.t_replicate, self.t_republish)

    def run_due(self, now: float) -> None:
        """Run the jobs whose timer has come."""
        node = self._node
        cfg = node.config
        if now >= self.t_refresh:
            self.t_refresh = now + self.jitter(cfg.refresh_interval)
            self.refresh(now, full_too=True)
        if now >= self.t_replicate:
            stored = node._store is not None and len(node._store) > 0
            self.t_replicate = now + self.jitter(cfg.replicate_interval) if stored else NEVER
            self.replicate(now)
        if now >= self.t_republish:
            self.t_republish = now + self.jitter(cfg.republish_interval)
            self.republish(now)

    # ------------------------------------------------------------------------------------- own records

    def track(self, record_key: bytes, record: bytes, seq: int, now: float) -> None:
        """Republish ``record`` (of author + intent id ``record_key``) from now on, unless a newer one is
        tracked."""
        if self.own is None:
            self.own = {}
        prev = self.own.get(record_key)
        if prev is None or open_record(prev)[1].seq <= seq:
            self.own[record_key] = record
        interval = self._node.config.republish_interval
        if self.t_republish == NEVER and interval > 0:
            self.t_republish = now + self._first(1, interval)

    def untrack(self, record_key: bytes) -> None:
        """Stop republishing the record of ``record_key``."""
        if self.own is not None:
            self.own.pop(record_key, None)
            if not self.own:
                self.own = None
                self.t_republish = NEVER

    # -------------------------------------------------------------------------------------------- jobs

    def refresh(self, now: float, full_too: bool, start: int | None = None) -> None:
        """A random lookup in each allocated bucket from ``start`` (default: the deepest) outwards (with
        ``full_too`` False: only those not full)."""
        node = self._node
        table = node.table
        k = node.config.k
        # after a join, a bucket needs only ``join_fill`` contacts: its refresh ends once it has them
        fill = min(node.config.join_fill, k) if not full_too and node.config.join_fill else 0
        for index in range(table.deepest_bucket() if start is None else start, NUM_BUCKETS):
            if not full_too and table.bucket_size(index) >= (fill or k):
                continue
            target = table.random_id_in_bucket(index, node.rng).to_bytes(32, "big")
            node.ops.start(K_REFRESH, target, now, report=False, fill=(index, fill) if fill else None)

    def replicate(self, now: float) -> None:
        """Push every stored key's records to its current k closest, unless another node did so lately."""
        node = self._node
        store = node._store
        if store is None:
            return
        horizon = now - node.config.replicate_interval
        for key in store.stored_keys():
            if store.pushed_at(key) <= horizon:
                self._enqueue(K_REPLICATE, key)
        self._pump(now)

    def republish(self, now: float) -> None:
        """Publish our live records again, one operation per key; forget the expired ones."""
        if not self.own:
            self.t_republish = NEVER
            return
        for key in self._own_by_key(now):
            self._enqueue(K_PUBLISH, key)
        if not self.own:
            self.own = None
            self.t_republish = NEVER
        self._pump(now)

    def _own_by_key(self, now: float) -> dict[bytes, list[bytes]]:
        """Our live records by key, each under every key it belongs under (the expired ones are forgotten)."""
        key_res = self._node.config.key_res
        by_key: dict[bytes, list[bytes]] = {}
        own = self.own or {}
        for record_key, record in list(own.items()):
            _, intent = open_record(record)
            if intent.expires <= now:
                del own[record_key]
                continue
            for key in keys_for_record(intent, key_res):
                by_key.setdefault(key, []).append(record)
        return by_key

    def _enqueue(self, kind: int, key: bytes) -> None:
        if self._queue is None or self._queued is None:
            self._queue, self._queued = deque(), set()
        item = (kind, key)
        if item not in self._queued:
            self._queued.add(item)
            self._queue.append(item)
            if self._running + len(self._queue) > MAX_JOB_OPS:
                self._node._stats[S_JOBS_QUEUED] += 1  # it will wait for a free slot

    def _pump(self, now: float) -> None:
        """Start queued job operations while fewer than MAX_JOB_OPS run."""
        queue, queued = self._queue, self._queued
        if queue is None or queued is None or self._pumping:
            return  # (an op that ends at once calls back here: the loop below goes on)
        node = self._node
        store = node._store
        self._pumping = True
        try:
            while queue and self._running < MAX_JOB_OPS:
                item = queue.popleft()
                queued.discard(item)
                kind, key = item
                if kind == K_REPLICATE:
                    if store is None or store.pushed_at(key) > now - node.config.replicate_interval:
                        continue  # another node pushed it meanwhile
                    records = [r.record for r in store.records(key) if r.expires > now]
                else:
                    records = self._own_by_key(now).get(key, [])
                if records:
                    self._running += 1
                    node.ops.start(kind, key, now, report=False, records=records, job=True)
        finally:
            self._pumping = False
        if not queue:
            self._queue = self._queued = None

    def op_ended(self, now: float) -> None:
        """A job operation ended: start the next one."""
        self._running -= 1
        self._pump(now)

    def handoff(self, contact: Contact, now: float) -> None:
        """Queue a push of the records of each key for which both ``contact`` and we are among the k
        closest (of us and our table)."""
        node = self._node
        store = node._store
        if store is None or not len(store) or node.backed_off(contact.pubkey, now):
            return
        k = node.config.k
        cid = contact_id(contact)
        table = node.table
        for key in store.stored_keys():
            tint = id_int(key)
            if table.count_closer(tint, cid ^ tint, k) >= k:
                continue
            if table.count_closer(tint, node.id_int ^ tint, k) >= k:
                continue
            if self._handoffs is None:
                self._handoffs = deque(maxlen=MAX_HANDOFF_QUEUE)
            if len(self._handoffs) >= MAX_HANDOFF_QUEUE:
                node._stats[S_HANDOFF_DROPPED] += 1  # the oldest leaves
            self._handoffs.append((contact, key))
        self._pump_handoffs(now)

    def _pump_handoffs(self, now: float) -> None:
        handoffs = self._handoffs
        if handoffs is None:
            return
        node = self._node
        store = node._store
        while handoffs and self._handoff_busy < MAX_HANDOFF_INFLIGHT and store is not None:
            contact, key = handoffs.popleft()
            if node.backed_off(contact.pubkey, now):
                continue
            records = [r.record for r in store.records(key) if r.expires > now]
            for batch in put_batches(records):
                self._handoff_busy += 1
                node._send(contact, put_factory(key, batch), HANDOFF, 0, now, len(batch))
                node._stats[S_HANDOFF] += 1
        if not handoffs:
            self._handoffs = None

    def handoff_ended(self, now: float) -> None:
        """A hand-off PUT request ended (reply, error or failure): send the next."""
        self._handoff_busy -= 1
        self._pump_handoffs(now)

    def statistics(self) -> dict[str, int]:
        """Job operations running and waiting, hand-offs waiting and in flight."""
        return {
            "job_ops_running": self._running,
            "job_ops_waiting": len(self._queue) if self._queue else 0,
            "handoffs_waiting": len(self._handoffs) if self._handoffs else 0,
            "handoff_requests_inflight": self._handoff_busy,
        }
