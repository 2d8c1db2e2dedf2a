"""The DHT node core: server side (PING, FIND_NODE, PUT_RECORDS, GET_RECORDS) and client operations, sans-IO.

Theory of operation
-------------------
A driver (the simulator, or ``p2p``'s libp2p driver) feeds the node four kinds of input and drains its
outputs:

* ``handle_request(sender, msg, now)`` answers a peer's request synchronously (and adds the sender to the
  routing table when it lists addresses);
* ``handle_response(peer, msg, now)`` / ``handle_failure(peer, rid, now)`` end a request this node emitted
  (``SendRequest``); a request still open ``rpc_timeout`` after it was sent fails at ``handle_timer``, and a
  late reply to it is ignored;
* ``handle_timer(now)`` whenever ``now >= next_timer()``: request deadlines, lookup deadlines, record expiry,
  bucket refresh, record replication and the republishing of our own records;
* ``poll()`` returns the queued ``SendRequest``/``OpDone`` outputs in order.

Every operation is an ``Op`` with an id; the lookups are ``ClosestPeersIter`` s:

====================  ===================================================  ==========================
operation             steps                                                result (``OpDone``)
====================  ===================================================  ==========================
``find_node``         FIND_NODE lookup                                     ``Closest`` / ``Timeout``
``bootstrap``         add seeds, FIND_NODE(self) lookup, then refresh      ``Closest`` / ``Timeout``
                      every bucket farther than our closest neighbour
                      that is not full (internal lookups)
``get_records``       GET_RECORDS lookup (replies carry records and        ``Found`` / ``NotFound``
                      closer peers); follows one peer's page cursor        / ``Timeout``
``publish``           FIND_NODE lookup, then PUT_RECORDS to the k closest  ``Published`` / ``Timeout``
                      answered (and the local store if we are among them)
====================  ===================================================  ==========================

Internal operations (no ``OpDone``): bucket refresh (random FIND_NODE per bucket), replication of stored keys
every ``replicate_interval`` (skipped for a key another node pushed within the interval), republishing of own
records every ``republish_interval`` until they expire or ``unpublish``, and hand-off: when a new contact
enters the table and both it and we are among the k closest to a stored key, its records are PUT to it
directly.

Routing table upkeep: a full bucket asks us to probe its oldest contact (a PING), at most once per
``probe_interval``; the sender of a PING never becomes a pending entry (a probe must not cause another probe,
or probes would chain across the network); any failed request removes the peer (its bucket's pending
entry takes its place). Request and lookup deadlines sit in one heap with lazy deletion, so
``next_timer`` costs O(1) amortised, not a scan of everything in flight. Only peers that talked to us
directly enter the table, never the contacts listed in replies.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Any

from dht.config import DhtConfig, Rng
from dht.events import Closest, Found, NotFound, OpDone, Output, Published, Result, SendRequest, Timeout
from dht.keys import contact_id, id_int, intent_key
from dht.lookup import AtCapacity, ClosestPeersIter, Waiting
from dht.ops import (
    FIND,
    GET,
    HOLDING,
    K_BOOT,
    K_FIND,
    K_GET,
    K_PUBLISH,
    K_REFRESH,
    K_REPLICATE,
    NEVER,
    PAGE,
    PROBE,
    PUT,
    S_BAD,
    S_ERRORS,
    S_FAIL,
    S_HANDOFF,
    S_IGNORED,
    S_OPS,
    S_OPS_DONE,
    S_REQ_IN,
    S_REQ_OUT,
    S_RESP,
    STAT_NAMES,
    Op,
    Req,
    find_factory,
    get_factory,
    put_batches,
    put_factory,
)
from dht.routing import NUM_BUCKETS, AddResult, RoutingTable
from dht.store import RecordStore, open_record
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.intent import Action
from wire.limits import MAX_PEERS_PER_REPLY, MAX_RECORDS_PER_PAGE, MAX_RECORDS_PER_PUT
from wire.messages import (
    Contact,
    Error,
    FindNode,
    GetRecords,
    Nodes,
    Ping,
    Pong,
    PutRecords,
    PutResult,
    PutStatus,
    Records,
)


class Node:
    """One DHT node. See the module docstring."""

    __slots__ = (
        "_deadlines",
        "_inflight",
        "_next_op",
        "_ops",
        "_out",
        "_own",
        "_started",
        "_stats",
        "_store",
        "_t_refresh",
        "_t_replicate",
        "_t_republish",
        "_timer",
        "config",
        "contact",
        "id_int",
        "node_id",
        "pubkey",
        "rng",
        "table",
    )

    def __init__(
        self, pubkey: bytes, addrs: list[str], config: DhtConfig, rng: Rng, store: RecordStore | None = None
    ) -> None:
        """Args:
        pubkey: our ed25519 public key (32 bytes); the node id is its sha256.
        addrs: the multiaddrs we listen on (sent in our Contact).
        config: tunables (share one instance between many nodes).
        rng: randomness (request ids, refresh targets, timer jitter).
        store: a record store (e.g. with a persistent backend, already ``restore``d); created on first use
        if None.
        """
        self.pubkey = pubkey
        self.node_id = hashlib.sha256(pubkey).digest()
        self.contact = Contact(pubkey, list(addrs))
        self.id_int = contact_id(self.contact)
        self.config = config
        self.rng = rng
        self.table = RoutingTable(self.id_int, config)
        self._store = store
        self._own: dict[bytes, bytes] | None = None  # author + intent id -> our record
        self._inflight: dict[int, Req] = {}
        # (deadline, 0, rid) of requests and (deadline, 1, op id) of lookups; entries of requests or lookups
        # that ended are skipped when they reach the top (lazy deletion)
        self._deadlines: list[tuple[float, int, int]] = []
        self._ops: dict[int, Op] = {}
        self._out: list[Output] = []
        self._next_op = 0
        self._started = False
        self._t_refresh = NEVER
        self._t_replicate = NEVER
        self._t_republish = NEVER
        self._timer: float | None = None
        self._stats = [0] * len(STAT_NAMES)

    @property
    def store(self) -> RecordStore:
        """The record store (created on first access)."""
        if self._store is None:
            self._store = RecordStore(None, self.config)
        return self._store

    # ======================================================================================== server side

    def handle_request(self, sender: Contact, msg: Any, now: float) -> Any:
        """Answer a request from ``sender`` (who is added to the routing table if it lists addresses).

        Args:
            sender: the authenticated peer (its Contact as the driver knows it).
            msg: Ping | FindNode | PutRecords | GetRecords.
            now: current time.
        Returns:
            Pong | Nodes | PutResult | Records | Error.
        """
        self._start(now)
        self._stats[S_REQ_IN] += 1
        if sender.addrs and sender.pubkey != self.pubkey:
            self._add(sender, now, probe=not isinstance(msg, Ping))  # a probe never causes another probe
        reply: Any
        if isinstance(msg, Ping):
            reply = Pong(msg.rid)
        elif isinstance(msg, FindNode):
            n = min(self.config.k, MAX_PEERS_PER_REPLY)
            reply = Nodes(msg.rid, self.table.closest(id_int(msg.target), n, exclude=sender.pubkey))
        elif isinstance(msg, PutRecords):
            if len(msg.records) > MAX_RECORDS_PER_PUT:
                reply = Error(msg.rid, "too_many_records")
            else:
                store = self.store
                statuses = [store.put(msg.key, r, now) for r in msg.records]
                if len(store) and self._t_replicate == NEVER and self.config.replicate_interval > 0:
                    self._t_replicate = now + self._jitter(self.config.replicate_interval)
                reply = PutResult(msg.rid, statuses)
        elif isinstance(msg, GetRecords):
            reply = self._serve_get(sender, msg, now)
        else:
            reply = Error(getattr(msg, "rid", 0), "unsupported")
        self._timer = None
        return reply

    def _serve_get(self, sender: Contact, msg: GetRecords, now: float) -> Records | Error:
        records: list[bytes] = []
        cursor = None
        if self._store is not None:
            try:
                records, cursor = self._store.get(msg.key, now, msg.action, msg.since, msg.cursor, msg.limit)
            except RemoteProtocolError:
                return Error(msg.rid, "bad_cursor")
        peers: list[Contact] = []
        if msg.cursor is None:  # the first page also serves the lookup
            n = min(self.config.k, MAX_PEERS_PER_REPLY)
            peers = self.table.closest(id_int(msg.key), n, exclude=sender.pubkey)
        return Records(msg.rid, records, cursor, peers)

    # ======================================================================================== client side

    def handle_response(self, peer: bytes, msg: Any, now: float) -> None:
        """A reply to a request we emitted. Unknown or late (already timed out) replies are ignored.

        Args:
            peer: the public key of the peer that replied.
            msg: Pong | Nodes | PutResult | Records | Error.
            now: current time.
        """
        rid = getattr(msg, "rid", None)
        req = self._inflight.get(rid) if isinstance(rid, int) else None
        if req is None or req.peer.pubkey != peer:
            self._stats[S_IGNORED] += 1
            return
        self._pop_req(rid)  # type: ignore[arg-type]
        self._stats[S_RESP] += 1
        op = self._ops.get(req.op) if req.op else None
        if isinstance(msg, Error):
            self._stats[S_ERRORS] += 1
            self._end_request(req, op, now, failed=False)
            return
        kind = req.kind
        ok = (
            (kind == PROBE and isinstance(msg, Pong))
            or (kind == FIND and isinstance(msg, Nodes) and len(msg.peers) <= MAX_PEERS_PER_REPLY)
            or (
                kind in (GET, PAGE)
                and isinstance(msg, Records)
                and len(msg.peers) <= MAX_PEERS_PER_REPLY
                and len(msg.records) <= MAX_RECORDS_PER_PAGE
            )
            or (kind == PUT and isinstance(msg, PutResult) and len(msg.statuses) == req.size)
        )
        if not ok:
            self._stats[S_BAD] += 1
            self._fail(req, op, now)
            return
        self._add(req.peer, now)
        if kind == PROBE:
            self.table.probe_ok(peer)
            return
        if op is None:
            return
        if kind == FIND:
            assert op.it is not None
            op.it.on_success(peer, msg.peers)
            self._drive(op, now)
        elif kind in (GET, PAGE):
            self._got_records(op, req, msg, now)
        else:
            statuses = op.statuses if op.statuses is not None else {}
            op.statuses = statuses
            for st in msg.statuses:
                name = PutStatus(st).name
                statuses[name] = statuses.get(name, 0) + 1
            if any(st in HOLDING for st in msg.statuses):
                op.replicas += 1
            op.puts_pending -= 1
            self._maybe_done(op, now)

    def handle_failure(self, peer: bytes, rid: int, now: float) -> None:
        """A request we emitted failed (timeout, refused connection, undecodable reply). Idempotent.

        Args:
            peer: the peer's public key.
            rid: the request id.
            now: current time.
        """
        req = self._inflight.get(rid)
        if req is None or req.peer.pubkey != peer:
            return
        self._pop_req(rid)
        self._fail(req, self._ops.get(req.op) if req.op else None, now)

    def _fail(self, req: Req, op: Op | None, now: float) -> None:
        self._stats[S_FAIL] += 1
        self.table.remove(req.peer.pubkey)
        self._end_request(req, op, now, failed=True)

    def _end_request(self, req: Req, op: Op | None, now: float, failed: bool) -> None:
        """A request ended without a usable reply (failure, or an Error reply from a live peer)."""
        if op is None:
            return
        kind = req.kind
        if kind in (FIND, GET):
            assert op.it is not None
            op.it.on_failure(req.peer.pubkey)
            self._drive(op, now)
        elif kind == PAGE:
            op.pager = b""  # stop following the cursor
            self._maybe_done(op, now)
        elif kind == PUT:
            assert op.statuses is not None
            name = "FAILED" if failed else "ERROR"
            op.statuses[name] = op.statuses.get(name, 0) + 1
            op.puts_pending -= 1
            self._maybe_done(op, now)

    # ======================================================================================== operations

    def bootstrap(self, seeds: list[Contact], now: float) -> int:
        """Add ``seeds``, look ourselves up, then refresh the buckets that are not full.

        Returns:
            The op id; ``OpDone(Closest)`` after the self-lookup.
        """
        self._start(now)
        for c in seeds:
            if c.pubkey != self.pubkey:
                self._add(c, now)
        return self._lookup(K_BOOT, self.node_id, now, report=True, extra=seeds)

    def find_node(self, target: bytes, now: float) -> int:
        """Find the k closest peers to ``target`` (32 bytes). Returns the op id (``Closest`` or
        ``Timeout``)."""
        self._start(now)
        return self._lookup(K_FIND, target, now, report=True)

    def publish(self, record: bytes, now: float) -> int:
        """Store our signed intent ``record`` at the k closest nodes to its key; republish it until it
        expires.

        Returns:
            The op id (``Published`` or ``Timeout``).
        Raises:
            LocalProtocolError: the record does not verify or has expired.
        """
        try:
            _, intent = open_record(record)
        except RemoteProtocolError as exc:
            raise LocalProtocolError(f"cannot publish an invalid record: {exc}") from None
        if intent.expires <= now:
            raise LocalProtocolError("cannot publish an expired record")
        self._start(now)
        key = intent_key(intent.category, intent.cell, self.config.key_res)
        if self._own is None:
            self._own = {}
        rid = intent.author + intent.id
        prev = self._own.get(rid)
        if prev is None or open_record(prev)[1].seq <= intent.seq:
            self._own[rid] = record
        if self._t_republish == NEVER and self.config.republish_interval > 0:
            self._t_republish = now + self._jitter(self.config.republish_interval)
        return self._lookup(K_PUBLISH, key, now, report=True, records=[record])

    def unpublish(self, author: bytes, intent_id: bytes) -> None:
        """Stop republishing (author, intent_id). To withdraw, ``publish`` the withdrawn version first."""
        if self._own is not None:
            self._own.pop(author + intent_id, None)
            if not self._own:
                self._own = None
                self._t_republish = NEVER
                self._timer = None

    def own_records(self) -> list[bytes]:
        """The records we republish."""
        return list(self._own.values()) if self._own else []

    def get_records(self, key: bytes, now: float, action: Action | None = None, since: int = 0) -> int:
        """Collect the records under ``key`` from the k closest nodes.

        Args:
            key: 32-byte key (``intent_key``).
            now: current time.
            action: only records of this action.
            since: 0 for live records; > 0 for records stored at or after ``since`` (tombstones included).
        Returns:
            The op id (``Found``, ``NotFound`` or ``Timeout``).
        """
        self._start(now)
        return self._lookup(K_GET, key, now, report=True, action=action, since=since)

    def add_contact(self, contact: Contact, now: float) -> None:
        """Add a known contact (e.g. from a persisted routing table). May emit a probe PING."""
        self._start(now)
        if contact.pubkey != self.pubkey:
            self._add(contact, now)
        self._timer = None

    def poll(self) -> list[Output]:
        """Drain the queued outputs, in order."""
        out = self._out
        if out:
            self._out = []
        return out

    # ============================================================================================ timers

    def next_timer(self) -> float | None:
        """When ``handle_timer`` must next be called (None: nothing scheduled). Cached between inputs."""
        t = self._timer
        if t is None:
            t = min(self._t_refresh, self._t_replicate, self._t_republish)
            heap = self._deadlines
            while heap and not self._live_deadline(heap[0]):
                heapq.heappop(heap)
            if heap and heap[0][0] < t:
                t = heap[0][0]
            if self._store is not None:
                e = self._store.next_expiry()
                if e is not None and e < t:
                    t = e
            self._timer = t
        return None if t == NEVER else t

    def _live_deadline(self, entry: tuple[float, int, int]) -> bool:
        """Whether a deadline entry still stands (its request is in flight, its lookup still running)."""
        deadline, what, ident = entry
        if what == 0:
            req = self._inflight.get(ident)
            return req is not None and req.deadline == deadline
        op = self._ops.get(ident)
        return op is not None and op.it is not None and not op.it.finished and op.it.deadline == deadline

    def handle_timer(self, now: float) -> None:
        """Run everything due at ``now``: request and lookup deadlines, expiry, refresh, replication,
        republish."""
        self._timer = None
        heap = self._deadlines
        due: list[tuple[float, int, int]] = []
        while heap and heap[0][0] <= now:
            due.append(heapq.heappop(heap))
        for entry in due:  # in deadline order; an earlier one may end a later one's lookup
            if not self._live_deadline(entry):
                continue
            if entry[1] == 0:
                req = self._pop_req(entry[2])
                self._fail(req, self._ops.get(req.op) if req.op else None, now)
            else:
                self._drive(self._ops[entry[2]], now)
        if self._store is not None:
            self._store.expire(now)
        cfg = self.config
        if now >= self._t_refresh:
            self._t_refresh = now + self._jitter(cfg.refresh_interval)
            self._refresh(now, full_too=True)
        if now >= self._t_replicate:
            stored = self._store is not None and len(self._store) > 0
            self._t_replicate = now + self._jitter(cfg.replicate_interval) if stored else NEVER
            self._replicate(now)
        if now >= self._t_republish:
            self._t_republish = now + self._jitter(cfg.republish_interval)
            self._republish(now)
        self._timer = None

    def _start(self, now: float) -> None:
        if not self._started:
            self._started = True
            if self.config.refresh_interval > 0:
                self._t_refresh = now + self._jitter(self.config.refresh_interval)
            if self._store is not None and len(self._store) and self.config.replicate_interval > 0:
                self._t_replicate = now + self._jitter(self.config.replicate_interval)
        self._timer = None

    def _jitter(self, interval: float) -> float:
        """``interval`` +-10%, so that nodes started together don't act together."""
        return interval * (0.9 + 0.2 * self.rng.random())

    # ========================================================================================= internals

    def _new_op(self, kind: int, target: bytes, report: bool) -> Op:
        self._next_op += 1
        op = Op(self._next_op, kind, target, report)
        self._ops[op.id] = op
        self._stats[S_OPS] += 1
        return op

    def _lookup(
        self,
        kind: int,
        target: bytes,
        now: float,
        report: bool,
        records: list[bytes] | None = None,
        action: Action | None = None,
        since: int = 0,
        extra: list[Contact] | None = None,
    ) -> int:
        cfg = self.config
        op = self._new_op(kind, target, report)
        op.records = records or []
        op.action = action
        op.since = since
        if kind == K_GET:
            op.found = {}
        tint = id_int(target)
        seeds = self.table.closest(tint, cfg.k)
        if extra:
            seeds = seeds + extra  # asked even when the table refused them (e.g. the subnet rule)
        op.it = ClosestPeersIter(
            tint,
            seeds,
            now,
            k=cfg.k,
            alpha=cfg.alpha,
            rpc_timeout=cfg.rpc_timeout,
            lookup_timeout=cfg.lookup_timeout,
            exclude=self.pubkey,
        )
        heapq.heappush(self._deadlines, (op.it.deadline, 1, op.id))
        self._drive(op, now)
        self._timer = None
        return op.id

    def _send(self, peer: Contact, msg_factory: Any, kind: int, op: int, now: float, size: int = 0) -> None:
        rid = self.rng.getrandbits(64)
        while rid in self._inflight:
            rid = self.rng.getrandbits(64)
        deadline = now + self.config.rpc_timeout
        self._inflight[rid] = Req(peer, kind, op, deadline, size)
        heapq.heappush(self._deadlines, (deadline, 0, rid))
        if op and kind in (PAGE, PUT):
            self._ops[op].side += 1
        self._out.append(SendRequest(peer, msg_factory(rid)))
        self._stats[S_REQ_OUT] += 1
        self._timer = None

    def _drive(self, op: Op, now: float) -> None:
        """Hand out requests while the lookup allows; finish it when the iterator says so."""
        it = op.it
        if it is None or it.finished or op.id not in self._ops:
            return  # a late reply to a finished lookup changes nothing
        while True:
            st = it.next(now)
            if isinstance(st, Waiting):
                op.messages += 1
                if op.kind == K_GET:
                    self._send(st.peer, get_factory(op.target, op.action, op.since, None), GET, op.id, now)
                else:
                    self._send(st.peer, find_factory(op.target), FIND, op.id, now)
            elif isinstance(st, AtCapacity):
                return
            else:
                self._lookup_done(op, now, st.timed_out)
                return

    def _lookup_done(self, op: Op, now: float, timed_out: bool) -> None:
        it = op.it
        assert it is not None
        kind = op.kind
        if kind in (K_PUBLISH, K_REPLICATE):
            self._put_phase(op, now, timed_out)
        elif kind == K_GET:
            self._maybe_done(op, now)
        else:
            peers = it.closest()
            if not peers and (timed_out or op.messages):  # nobody answered
                self._finish(op, Timeout(op.target, it.hops(), op.messages))
            else:
                self._finish(op, Closest(op.target, peers, it.hops(), op.messages))
            if kind == K_BOOT and self.config.refresh_on_bootstrap:
                # the self-lookup covered our closest neighbour's bucket: refresh the ones farther out
                start = self.table.deepest_bucket()
                if peers:
                    start = max(start, (contact_id(peers[0]) ^ self.id_int).bit_length())
                self._refresh(now, full_too=False, start=start)

    def _put_phase(self, op: Op, now: float, timed_out: bool) -> None:
        it = op.it
        assert it is not None
        k = self.config.k
        peers = it.closest(k)
        op.statuses = {}
        if not peers and (timed_out or op.messages):  # nobody answered
            self._finish(op, Timeout(op.target, it.hops(), op.messages))
            return
        tint = id_int(op.target)
        among = len(peers) < k or (self.id_int ^ tint) < (contact_id(peers[-1]) ^ tint)
        if op.kind == K_PUBLISH and among:
            statuses = [self.store.put(op.target, r, now, pushed=False) for r in op.records]
            for st in statuses:
                op.statuses[st.name] = op.statuses.get(st.name, 0) + 1
            if any(st in HOLDING for st in statuses):
                op.replicas += 1
            if len(self.store) and self._t_replicate == NEVER and self.config.replicate_interval > 0:
                self._t_replicate = now + self._jitter(self.config.replicate_interval)
        batches = put_batches(op.records)
        for peer in peers:
            for batch in batches:
                op.messages += 1
                op.puts_pending += 1
                self._send(peer, put_factory(op.target, batch), PUT, op.id, now, len(batch))
        self._maybe_done(op, now)

    def _got_records(self, op: Op, req: Req, msg: Records, now: float) -> None:
        peer = req.peer.pubkey
        assert op.found is not None and op.it is not None
        added = 0
        key = op.target
        for record in msg.records:
            try:
                _, intent = open_record(record)
            except RemoteProtocolError:
                continue
            if intent.expires <= now or (op.action is not None and intent.action != op.action):
                continue
            if intent.withdrawn and op.since == 0:
                continue
            if intent_key(intent.category, intent.cell, self.config.key_res) != key:
                continue
            rid = intent.author + intent.id
            prev = op.found.get(rid)
            if prev is None or prev[0] < intent.seq:
                op.found[rid] = (intent.seq, record)
            added += 1
        if req.kind == GET:
            if msg.records:
                op.responders += 1
            op.it.on_success(peer, msg.peers)
        cfg = self.config
        if msg.cursor is not None and op.pager in (None, peer) and op.pages < cfg.max_get_pages:
            op.pager = peer  # follow this one peer's pages only
            op.pages += 1
            op.messages += 1
            self._send(req.peer, get_factory(key, op.action, op.since, msg.cursor), PAGE, op.id, now)
        if cfg.get_quorum and op.responders >= cfg.get_quorum:
            op.it.finish()
        if op.it.finished:
            self._maybe_done(op, now)
        else:
            self._drive(op, now)

    def _maybe_done(self, op: Op, now: float) -> None:
        """Finish ``op`` once its lookup is over and no put or page request of it is in flight."""
        if op.id not in self._ops or (op.it is not None and not op.it.finished):
            return
        if op.side:  # a put or page request of it is still in flight
            return
        it = op.it
        assert it is not None
        result: Result
        if op.kind == K_GET:
            assert op.found is not None
            if op.found:
                records = [rec for _, rec in op.found.values()]
                result = Found(op.target, records, it.hops(), op.messages, op.responders)
            elif not it.closest() and (it.timed_out or op.messages):  # nobody answered
                result = Timeout(op.target, it.hops(), op.messages)
            else:
                result = NotFound(op.target, it.closest(), it.hops(), op.messages)
        else:
            result = Published(op.target, op.replicas, dict(op.statuses or {}), it.hops(), op.messages)
        self._finish(op, result)

    def _finish(self, op: Op, result: Result) -> None:
        self._ops.pop(op.id, None)
        if not self._ops:
            self._ops = {}  # a dict never shrinks: drop the one that grew
        self._stats[S_OPS_DONE] += 1
        if op.report:
            self._out.append(OpDone(op.id, result))
        self._timer = None

    def _pop_req(self, rid: int) -> Req:
        """Take request ``rid`` out of the in-flight table (it ended)."""
        inflight = self._inflight
        req = inflight.pop(rid)
        if not inflight:
            self._inflight = {}  # a dict never shrinks: drop the one that grew
        if req.op and req.kind in (PAGE, PUT):
            op = self._ops.get(req.op)
            if op is not None:
                op.side -= 1
        self._timer = None
        return req

    def _add(self, contact: Contact, now: float, probe: bool = True) -> None:
        res, probe_peer = self.table.add(contact, now, probe)
        if res is AddResult.PENDING and probe_peer is not None:
            self._send(probe_peer, Ping, PROBE, 0, now)
        elif res is AddResult.ADDED and self._store is not None and self.config.handoff and len(self._store):
            self._handoff(contact, now)

    def _handoff(self, contact: Contact, now: float) -> None:
        """Push the records of each key for which both ``contact`` and we are among the k closest."""
        store = self._store
        assert store is not None
        k = self.config.k
        cid = contact_id(contact)
        table = self.table
        for key in store.stored_keys():
            tint = id_int(key)
            # both the newcomer and we must be among the k closest (of us and our table) to the key
            if table.count_closer(tint, cid ^ tint, k) >= k:
                continue
            if table.count_closer(tint, self.id_int ^ tint, k) >= k:
                continue
            records = [r.record for r in store.records(key) if r.expires > now]
            for batch in put_batches(records):
                self._send(contact, put_factory(key, batch), PUT, 0, now, len(batch))
                self._stats[S_HANDOFF] += 1

    def _refresh(self, now: float, full_too: bool, start: int | None = None) -> None:
        """A random lookup in each allocated bucket from ``start`` (default: the deepest) outwards (after
        bootstrap: only those not full)."""
        table = self.table
        k = self.config.k
        for index in range(table.deepest_bucket() if start is None else start, NUM_BUCKETS):
            if not full_too and len(table.bucket(index)) >= k:
                continue
            target = table.random_id_in_bucket(index, self.rng).to_bytes(32, "big")
            self._lookup(K_REFRESH, target, now, report=False)

    def _replicate(self, now: float) -> None:
        """Push every stored key's records to its current k closest, unless another node did so lately."""
        if self._store is None:
            return
        horizon = now - self.config.replicate_interval
        for key in self._store.stored_keys():
            if self._store.pushed_at(key) > horizon:
                continue
            records = [r.record for r in self._store.records(key) if r.expires > now]
            if records:
                self._lookup(K_REPLICATE, key, now, report=False, records=records)

    def _republish(self, now: float) -> None:
        if not self._own:
            self._t_republish = NEVER
            return
        by_key: dict[bytes, list[bytes]] = {}
        for rid, record in list(self._own.items()):
            _, intent = open_record(record)
            if intent.expires <= now:
                del self._own[rid]
                continue
            key = intent_key(intent.category, intent.cell, self.config.key_res)
            by_key.setdefault(key, []).append(record)
        for key, records in by_key.items():
            self._lookup(K_PUBLISH, key, now, report=False, records=records)
        if not self._own:
            self._own = None
            self._t_republish = NEVER

    # ======================================================================================= statistics

    def statistics(self) -> dict[str, int]:
        """Counters of this node (requests, failures, operations, table and store sizes)."""
        out = dict(zip(STAT_NAMES, self._stats, strict=True))
        out["contacts"] = len(self.table)
        out["inflight"] = len(self._inflight)
        out["ops_running"] = len(self._ops)
        out["records"] = len(self._store) if self._store is not None else 0
        out["own_records"] = len(self._own) if self._own else 0
        return out
