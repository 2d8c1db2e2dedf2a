"""The DHT node core, sans-IO: the server side (PING, FIND_NODE, PUT_RECORDS, GET_RECORDS), the public
operations, and the plumbing between them (requests in flight, deadlines, timers, routing-table upkeep).

Theory of operation
-------------------
A driver (the simulator, or ``p2p``'s libp2p driver) feeds the node four kinds of input and drains its
outputs:

* ``handle_request(sender, msg, now, observed_ip)`` answers a peer's request synchronously (and adds the
  sender to the routing table when it lists addresses; its subnet is the one of ``observed_ip``, the address
  the connection really came from, when the driver knows it);
* ``handle_response(peer, msg, now, observed_ip)`` / ``handle_failure(peer, rid, now)`` end a request this
  node emitted (``SendRequest``; ``rid`` is the request id); a request still open ``rpc_timeout`` after it
  was sent fails at ``handle_timer``, and a late reply to it is ignored. Every reply is a round-trip sample
  for the node's ``dht.rtt.PeerTimeouts``: a lookup stops waiting for a peer after ``peer_timeout()``
  (adaptive; then the estimate backs off) and may ask another, while the request stays open until
  ``rpc_timeout``;
* ``handle_timer(now)`` whenever ``now >= next_timer()``: request and lookup deadlines, record expiry and
  the periodic jobs;
* ``poll()`` returns the queued ``SendRequest``/``OpDone`` outputs in order.

The public operations and where they live:

====================  ===================================================  ==========================
operation             steps (``dht.ops``)                                  result (``OpDone``)
====================  ===================================================  ==========================
``find_node``         FIND_NODE lookup                                     ``Closest`` / ``Timeout``
``bootstrap``         add seeds, FIND_NODE(self) lookup, then refresh      ``Closest`` / ``Timeout``
                      every bucket farther than our closest neighbour
                      that is not full (internal lookups)
``get_records``       GET_RECORDS lookup (replies carry records and        ``Found`` / ``NotFound``
                      closer peers) until the ``get_closest`` closest      / ``Timeout``
                      answered, and their pages (the completeness rule)
``publish``           FIND_NODE lookup, then PUT_RECORDS to the k closest  ``Published`` / ``Timeout``
                      answered (and the local store if we are among them);
                      reported at ``publish_quorum`` replicas
====================  ===================================================  ==========================

The periodic jobs (refresh, replication, republishing, hand-off) are in ``dht.jobs``.

Soft failures: an ``Error`` reply with a code in ``SOFT_ERROR_CODES`` (``rate_limited``, ``busy``: a loaded
peer, e.g. a bootstrap node) ends that request for its operation, but the peer stays in the routing table and
the node backs off from it for ``SOFT_FAILURE_BACKOFF_S``: no lookup, PUT, page or hand-off request goes to
it meanwhile, and a probe of it counts as answered (it is alive). Any other ``Error`` reply also keeps the
peer (it answered); only failures (timeouts, refused connections, bad replies) remove it.

Routing table upkeep: a full bucket asks us to probe its oldest contact (a PING), at most once per
``probe_interval``; the sender of a PING never becomes a pending entry (a probe must not cause another probe,
or probes would chain across the network); a failed request removes the peer (its bucket's pending
entry takes its place) only if it was sent to the addresses the table holds: a lookup asks a known peer at
the addresses the table knows, and addresses a third party listed for it never evict it. Request and lookup
deadlines sit in one heap with lazy deletion, so
``next_timer`` costs O(1) amortised, not a scan of everything in flight. Only peers that talked to us
directly enter the table, never the contacts listed in replies; a known peer keeps the addresses it gave us.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Any

from dht.backoff import BackOff
from dht.config import DhtConfig, Rng
from dht.events import OpDone, Output, Result, SendRequest
from dht.jobs import Jobs
from dht.keys import contact_id, id_int, ip_group, keys_for_record, loopback_only
from dht.ops import K_BOOT, K_FIND, K_GET, K_PUBLISH, Operations
from dht.requests import (
    FIND,
    GET,
    HANDOFF,
    NEVER,
    PAGE,
    PROBE,
    PUT,
    S_BAD,
    S_ERRORS,
    S_FAIL,
    S_IGNORED,
    S_REQ_IN,
    S_REQ_OUT,
    S_RESP,
    S_SOFT,
    STAT_NAMES,
    MsgFactory,
    Req,
)
from dht.routing import AddResult, RoutingTable
from dht.rtt import PeerTimeouts
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

#: Error codes of a loaded but live peer: the request ends, the peer stays, and we back off from it.
SOFT_ERROR_CODES = frozenset({"rate_limited", "busy"})


class Node:
    """One DHT node. See the module docstring."""

    __slots__ = (
        "_backoff",
        "_deadlines",
        "_inflight",
        "_out",
        "_started",
        "_stats",
        "_store",
        "_timer",
        "config",
        "contact",
        "id_int",
        "jobs",
        "node_id",
        "ops",
        "pubkey",
        "rng",
        "rtt",
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
        # a node on loopback only (tests, the demo) has only local peers: loopback is no subnet to cap there
        self.table = RoutingTable(self.id_int, config, loopback_only(self.contact.addrs))
        self.rtt = PeerTimeouts(config.min_peer_timeout, config.rpc_timeout)
        self._store = store
        self.ops = Operations(self)
        self.jobs = Jobs(self)
        self._inflight: dict[int, Req] = {}
        # (deadline, 0, request id) of requests, (deadline, 1, op id) of lookups and (deadline, 2, request id)
        # of a lookup request's peer deadline; entries of requests or lookups that ended are skipped when they
        # reach the top (lazy deletion)
        self._deadlines: list[tuple[float, int, int]] = []
        self._out: list[Output] = []
        self._started = False
        self._timer: float | None = None
        self._stats = [0] * len(STAT_NAMES)
        self._backoff: BackOff | None = None  # peers we back off from (soft failures); None while empty

    @property
    def store(self) -> RecordStore:
        """The record store (created on first access)."""
        if self._store is None:
            self._store = RecordStore(None, self.config)
        return self._store

    # ======================================================================================== server side

    def handle_request(self, sender: Contact, msg: Any, now: float, observed_ip: str | None = None) -> Any:
        """Answer a request from ``sender`` (who is added to the routing table if it lists addresses).

        Args:
            sender: the authenticated peer (its Contact as the driver knows it).
            msg: Ping | FindNode | PutRecords | GetRecords.
            now: current time.
            observed_ip: the IP address the request's connection came from (None: unknown); its /24 (/48)
                is the sender's subnet for the routing table's per-subnet cap, whatever the sender claims.
        Returns:
            Pong | Nodes | PutResult | Records | Error.
        """
        if not self._started:
            self._start(now)
        self._timer = None
        self._stats[S_REQ_IN] += 1
        ping = isinstance(msg, Ping)
        if sender.addrs and sender.pubkey != self.pubkey:
            group = ip_group(observed_ip) if observed_ip else None
            self._add(sender, now, not ping, group)  # a probe never causes another probe
        reply: Any
        if ping:
            reply = Pong(msg.rid)
        elif isinstance(msg, FindNode):
            n = min(self.config.k, MAX_PEERS_PER_REPLY)
            peers = self.table.closest(id_int(msg.target), n, sender.pubkey, contact_id(sender))
            reply = Nodes(msg.rid, peers)
        elif isinstance(msg, PutRecords):
            if len(msg.records) > MAX_RECORDS_PER_PUT:
                reply = Error(msg.rid, "too_many_records")
            else:
                store = self.store
                statuses = [store.put(msg.key, r, now, origin=sender.pubkey) for r in msg.records]
                self.jobs.stored(now)
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
            peers = self.table.closest(id_int(msg.key), n, sender.pubkey, contact_id(sender))
        return Records(msg.rid, records, cursor, peers)

    def put_local(self, key: bytes, records: list[bytes], now: float) -> list[PutStatus]:
        """Store our own records in our store (a publish when we are among the k closest)."""
        store = self.store
        statuses = [store.put(key, r, now, pushed=False, origin=self.pubkey) for r in records]
        self.jobs.stored(now)
        return statuses

    # ======================================================================================== client side

    def handle_response(self, peer: bytes, msg: Any, now: float, observed_ip: str | None = None) -> None:
        """A reply to a request we emitted. Unknown or late (already timed out) replies are ignored.

        Args:
            peer: the public key of the peer that replied.
            msg: Pong | Nodes | PutResult | Records | Error.
            now: current time.
            observed_ip: the IP address of the connection the reply came on (None: unknown); as in
                ``handle_request``.
        """
        rid = getattr(msg, "rid", None)
        req = self._inflight.get(rid) if isinstance(rid, int) else None
        if req is None or req.peer.pubkey != peer:
            self._stats[S_IGNORED] += 1
            return
        self._pop_req(rid)  # type: ignore[arg-type]
        self._stats[S_RESP] += 1
        table = self.table
        known = table.get(req.peer)
        rtt = self.rtt
        sample = now - (req.deadline - self.config.rpc_timeout)
        (rtt.known if known is not None else rtt.first).observe(sample)  # rtt.observe(sample, known), inlined
        if isinstance(msg, Error):
            self._stats[S_ERRORS] += 1
            soft = msg.code in SOFT_ERROR_CODES
            if soft:
                self._stats[S_SOFT] += 1
                self._back_off(peer, now)
            if req.kind == PROBE:
                self.table.probe_ok(peer)  # it answered: alive
            self._end_request(req, now, failed=False, soft=soft)
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
            or (kind in (PUT, HANDOFF) and isinstance(msg, PutResult) and len(msg.statuses) == req.size)
        )
        if not ok:
            self._stats[S_BAD] += 1
            self._fail(req, now)
            return
        # a known peer keeps the addresses it gave us (a third party may have listed others for it)
        if known is not None and not observed_ip:
            table.touch(known)  # what ``_add`` does to it (UPDATED), without comparing keys
        else:
            self._add(known or req.peer, now, True, ip_group(observed_ip) if observed_ip else None)
        if kind == PROBE:
            self.table.probe_ok(peer)
        elif kind == HANDOFF:
            self.jobs.handoff_ended(now)
        elif req.op:
            self.ops.on_reply(req, msg, now)
        self._timer = None

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
        self._fail(req, now)

    def _fail(self, req: Req, now: float) -> None:
        self._stats[S_FAIL] += 1
        self.table.remove(req.peer.pubkey, req.peer.addrs)  # only if these are the addresses the table holds
        self._end_request(req, now, failed=True)

    def _end_request(self, req: Req, now: float, failed: bool, soft: bool = False) -> None:
        """A request ended without a usable reply (failure, or an Error reply from a live peer)."""
        if req.kind == HANDOFF:
            self.jobs.handoff_ended(now)
        elif req.op:
            self.ops.on_ended(req, now, failed, soft)
        self._timer = None

    def _back_off(self, peer: bytes, now: float) -> None:
        if self._backoff is None:
            self._backoff = BackOff()
        self._backoff.start(peer, now)

    def backed_off(self, peer: bytes, now: float) -> bool:
        """Whether we are backing off from ``peer`` (it answered rate_limited or busy lately)."""
        backoff = self._backoff
        if not backoff:
            return False
        if backoff.active(peer, now):
            return True
        if not backoff:
            self._backoff = None  # the last back-off ended: drop the table
        return False

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
        # seeds are asked even when the table refused them (e.g. the subnet rule)
        return self._run(self.ops.start(K_BOOT, self.node_id, now, report=True, extra=seeds))

    def find_node(self, target: bytes, now: float) -> int:
        """Find the k closest peers to ``target`` (32 bytes). Returns the op id (``Closest`` or
        ``Timeout``)."""
        self._start(now)
        return self._run(self.ops.start(K_FIND, target, now, report=True))

    def publish(self, record: bytes, now: float) -> int:
        """Store our signed ``record`` (an intent, our profile, or a rating we made) at the k closest nodes to
        its key; republish it until it expires.

        An intent with ``extra_groups`` belongs under several keys (``keys_for_record``): one publish op is
        started per key, all at once. The primary key's op (the category's own group) is the one returned
        and reported; the extra keys' ops run alongside without reporting (their outcome is not waited for;
        a key they missed is covered by the next republish, which goes to every key).

        Returns:
            The op id of the primary key's publish (``Published`` or ``Timeout``).
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
        key, *extra = keys_for_record(intent, self.config.key_res)
        self.jobs.track(intent.author + intent.id, record, intent.seq, now)
        op_id = self.ops.start(K_PUBLISH, key, now, report=True, records=[record])
        for other in extra:
            self.ops.start(K_PUBLISH, other, now, report=False, records=[record])
        return self._run(op_id)

    def unpublish(self, author: bytes, intent_id: bytes) -> None:
        """Stop republishing (author, intent_id). To withdraw, ``publish`` the withdrawn version first."""
        self.jobs.untrack(author + intent_id)
        self._timer = None

    def own_records(self) -> list[bytes]:
        """The records we republish."""
        own = self.jobs.own
        return list(own.values()) if own else []

    def get_records(self, key: bytes, now: float, action: Action | None = None, since: int = 0) -> int:
        """Collect the records under ``key`` from the k closest nodes.

        Args:
            key: 32-byte key (``intent_key``, ``profile_key``, ``reputation_key``).
            now: current time.
            action: only records of this action.
            since: 0 for live records; > 0 for records stored at or after ``since`` (tombstones included).
        Returns:
            The op id (``Found``, ``NotFound`` or ``Timeout``).
        """
        self._start(now)
        return self._run(self.ops.start(K_GET, key, now, report=True, action=action, since=since))

    def add_contact(self, contact: Contact, now: float) -> None:
        """Add a known contact (e.g. from a persisted routing table). May emit a probe PING."""
        self._start(now)
        if contact.pubkey != self.pubkey:
            self._add(contact, now)
        self._timer = None

    def stagger_jobs(self, now: float, rng: Rng) -> None:
        """Start the node with its periodic jobs at random phases (``Jobs.stagger``), as on a node that has
        been up for longer than their intervals: for a simulator that starts a whole converged network at
        once."""
        self._start(now)
        self.jobs.stagger(now, rng)
        self._timer = None

    def poll(self) -> list[Output]:
        """Drain the queued outputs, in order."""
        out = self._out
        if out:
            self._out = []
        return out

    def _run(self, op_id: int) -> int:
        self._timer = None
        return op_id

    def _report(self, op_id: int, result: Result) -> None:
        """Called by ``Operations`` when a reporting op has its result (once per op)."""
        self._out.append(OpDone(op_id, result))
        self._timer = None

    # ============================================================================================ timers

    def next_timer(self) -> float | None:
        """When ``handle_timer`` must next be called (None: nothing scheduled). Cached between inputs."""
        t = self._timer
        if t is None:
            t = self.jobs.next_due()
            heap = self._deadlines
            inflight = self._inflight
            while heap:
                entry = heap[0]
                if entry[1] == 0:  # ``_live_deadline`` of a request's deadline, inlined
                    req = inflight.get(entry[2])
                    if req is not None and req.deadline == entry[0]:
                        break
                elif self._live_deadline(entry):
                    break
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
        if what == 2:  # a request's peer deadline: it still matters while the request and its lookup run
            req = self._inflight.get(ident)
            op = self.ops.get(req.op) if req is not None and req.op else None
            return op is not None and op.it is not None and not op.it.finished
        return self.ops.lookup_live(ident, deadline)

    def peer_timeout(self, known: bool = True) -> float:
        """How long a lookup waits for one peer (``known``: in our routing table; else a first contact)
        before it may ask another (adaptive, see ``dht.rtt``)."""
        return self.rtt.timeout(known) if self.config.adaptive_timeouts else self.config.rpc_timeout

    def peer_deadline(self, rid: int, when: float) -> None:
        """Request ``rid`` of a lookup has a peer deadline at ``when``: then ``handle_timer`` backs the
        estimator off (as TCP doubles its RTO on a timeout) and drives the lookup, unless it answered."""
        if self.config.adaptive_timeouts:  # else the request's own deadline comes at the same time
            heapq.heappush(self._deadlines, (when, 2, rid))
            self._timer = None

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
                self._fail(self._pop_req(entry[2]), now)
            elif entry[1] == 2:  # a lookup request passed its peer deadline: back off, let the lookup move on
                req = self._inflight[entry[2]]
                # only a contact of our table that stays silent says the network (or we) are slow; a first
                # contact may be a stale or fake address a third party listed (a liar lists many), which says
                # nothing about round trips: backing off for it would let liars stretch every deadline to the
                # cap (its late reply, if any, is still a sample)
                if self.table.get(req.peer) is not None:
                    self.rtt.backoff(True)
                op = self.ops.get(req.op)
                if op is not None:
                    self.ops.drive(op, now)
            else:
                op = self.ops.get(entry[2])
                if op is not None:
                    self.ops.drive(op, now)
        if self._store is not None:
            self._store.expire(now)
        self.jobs.run_due(now)
        self._timer = None

    def _start(self, now: float) -> None:
        if not self._started:
            self._started = True
            self.jobs.start(now)
        self._timer = None

    # ========================================================================================= plumbing

    def _send(
        self, peer: Contact, msg_factory: MsgFactory, kind: int, op: int, now: float, size: int = 0
    ) -> int:
        """Emit a request to ``peer`` (``msg_factory`` builds it for a fresh request id) and track it.

        Returns:
            The request id.
        """
        rid = self.rng.getrandbits(64)
        while rid in self._inflight:
            rid = self.rng.getrandbits(64)
        deadline = now + self.config.rpc_timeout
        self._inflight[rid] = Req(peer, kind, op, deadline, size)
        heapq.heappush(self._deadlines, (deadline, 0, rid))
        self._out.append(SendRequest(peer, msg_factory(rid)))
        self._stats[S_REQ_OUT] += 1
        self._timer = None
        return rid

    def _pop_req(self, rid: int) -> Req:
        """Take request ``rid`` out of the in-flight table (it ended)."""
        inflight = self._inflight
        req = inflight.pop(rid)
        if not inflight:
            self._inflight = {}  # a dict never shrinks: drop the one that grew
        self._timer = None
        return req

    def _add(self, contact: Contact, now: float, probe: bool = True, group: bytes | None = None) -> None:
        res, probe_peer = self.table.add(contact, now, probe, group)
        if res is AddResult.PENDING and probe_peer is not None:
            if self.backed_off(probe_peer.pubkey, now):
                self.table.probe_ok(probe_peer.pubkey)  # it answered us lately (busy): alive
            else:
                self._send(probe_peer, Ping, PROBE, 0, now)
        elif res is AddResult.ADDED and self.config.handoff:
            self.jobs.handoff(contact, now)

    # ======================================================================================= statistics

    def statistics(self) -> dict[str, int]:
        """Counters of this node (requests, failures, operations, table and store sizes)."""
        out = dict(zip(STAT_NAMES, self._stats, strict=True))
        out["contacts"] = len(self.table)
        out["inflight"] = len(self._inflight)
        out["ops_running"] = len(self.ops)
        out["records"] = len(self._store) if self._store is not None else 0
        own = self.jobs.own
        out["own_records"] = len(own) if own else 0
        out["backing_off"] = len(self._backoff) if self._backoff else 0
        out.update(self.ops.statistics())
        out.update(self.jobs.statistics())
        out["peer_timeout_ms"] = round(self.peer_timeout(True) * 1000)
        out["first_contact_timeout_ms"] = round(self.peer_timeout(False) * 1000)
        out["rtt_samples"] = self.rtt.samples
        return out
