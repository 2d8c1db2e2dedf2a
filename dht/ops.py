"""The operations of the node core (find, bootstrap, get, publish, replicate, refresh) and their lifecycle.

Theory of operation
-------------------
Every operation is an ``Op``: an id, a kind, a target, and a *phase*. It begins with a lookup, an iterator
over the peers closest to the target (``dht.lookup.ClosestPeersIter``) that hands out FIND_NODE requests, or
GET_RECORDS for a get (their replies carry records as well as closer peers). What follows depends on the
kind, and the phases move by one table, ``TRANSITIONS[family][(phase, event)] -> phase``:

================================  ==========================================================================
family (kinds)                    phases
================================  ==========================================================================
lookup (find, bootstrap, refresh) ``LOOKUP --lookup_over--> DONE``
get                               ``LOOKUP --lookup_over--> DRAIN --side_idle--> DONE``
put (publish, replicate)          ``LOOKUP --lookup_over--> PUT --side_idle--> DONE``
================================  ==========================================================================

Events: ``LOOKUP_OVER`` the iterator finished (the closest have answered, nobody is left to ask, or the
lookup deadline passed); ``SIDE_IDLE`` no *side request* of the op (a get's page request, a publish's
PUT_RECORDS) is in flight any more. A pair missing from the table is a bug (``LocalProtocolError``), except
that ``SIDE_IDLE`` in ``LOOKUP`` changes nothing (a get's page finished while its lookup still runs).
Entering a phase does its work: ``PUT`` sends PUT_RECORDS to the k closest that answered (and stores locally
when this node is among them), ``DRAIN`` and ``PUT`` fall through at once when nothing is in flight, ``DONE``
builds the typed result (``dht.events``) and hands it to the node (``OpDone`` when the op reports).

A get follows one peer's page cursor: the first peer whose reply carried a cursor is asked for its next
pages (up to ``max_get_pages``) while the lookup runs; its pages are side requests.

The node (``dht.node``) owns the requests in flight and the deadlines; it calls ``on_reply`` with a reply
it has validated, ``on_ended`` when a request of an op failed or was refused, and ``drive`` when the op's
lookup deadline passed. The lookup iterator is created in one place (``_new_iter``), so another iterator
with the same interface (``next``, ``on_success``, ``on_failure``, ``finish``, ``finished``, ``timed_out``,
``closest``, ``hops``, ``deadline``) can take its place.
"""

from __future__ import annotations

import enum
import heapq
from typing import TYPE_CHECKING, Any

from dht.events import Closest, Found, NotFound, Published, Result, Timeout
from dht.keys import contact_id, id_int, intent_key
from dht.lookup import AtCapacity, ClosestPeersIter, Waiting
from dht.requests import (
    FIND,
    GET,
    HOLDING,
    PAGE,
    PUT,
    S_OPS,
    S_OPS_DONE,
    Req,
    find_factory,
    get_factory,
    put_batches,
    put_factory,
)
from dht.store import open_record
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.intent import Action
from wire.messages import Contact, Nodes, PutResult, PutStatus, Records

if TYPE_CHECKING:
    from dht.node import Node

# operation kinds
K_FIND, K_BOOT, K_REFRESH, K_GET, K_PUBLISH, K_REPLICATE = range(6)
KIND_NAMES = ("find", "bootstrap", "refresh", "get", "publish", "replicate")


class Phase(enum.IntEnum):
    """Where an operation is in its lifecycle."""

    LOOKUP = 0  # the iterator hands out requests (a get's page requests may run alongside)
    PUT = 1  # PUT_RECORDS in flight to the closest peers that answered
    DRAIN = 2  # a get's lookup is over; page requests still in flight
    DONE = 3  # the result is built; the op is forgotten


class Event(enum.IntEnum):
    LOOKUP_OVER = 0  # the iterator finished
    SIDE_IDLE = 1  # no page or PUT request of the op in flight


_L, _P, _D, _X = Phase.LOOKUP, Phase.PUT, Phase.DRAIN, Phase.DONE
_OVER, _IDLE = Event.LOOKUP_OVER, Event.SIDE_IDLE
#: family -> (phase, event) -> next phase
TRANSITIONS: dict[str, dict[tuple[Phase, Event], Phase]] = {
    "lookup": {(_L, _OVER): _X},
    "get": {(_L, _OVER): _D, (_L, _IDLE): _L, (_D, _IDLE): _X},
    "put": {(_L, _OVER): _P, (_L, _IDLE): _L, (_P, _IDLE): _X},
}
FAMILY = ("lookup", "lookup", "lookup", "get", "put", "put")  # by operation kind


class Op:
    """One running operation and what it has gathered so far."""

    __slots__ = (
        "action",
        "found",
        "id",
        "it",
        "kind",
        "messages",
        "pager",
        "pages",
        "phase",
        "records",
        "replicas",
        "report",
        "responders",
        "side",
        "since",
        "statuses",
        "target",
    )

    def __init__(self, op_id: int, kind: int, target: bytes, report: bool) -> None:
        self.id = op_id
        self.kind = kind
        self.target = target
        self.report = report  # whether an OpDone is emitted (jobs' operations don't report)
        self.phase = Phase.LOOKUP
        self.it: ClosestPeersIter | None = None
        self.messages = 0
        self.records: list[bytes] = []  # publish/replicate: what to put
        self.found: dict[bytes, tuple[int, bytes]] | None = None  # get: author+intent id -> (seq, record)
        self.responders = 0
        self.action: Action | None = None
        self.since = 0
        self.pager: bytes | None = None  # get: the peer whose cursor we follow (b"": stopped)
        self.pages = 0  # get: page requests sent
        self.side = 0  # page and PUT requests of this operation in flight
        self.replicas = 0
        self.statuses: dict[str, int] | None = None


class Operations:
    """The running operations of one node. See the module docstring."""

    __slots__ = ("_next", "_node", "ops")

    def __init__(self, node: Node) -> None:
        self._node = node
        self.ops: dict[int, Op] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self.ops)

    def get(self, op_id: int) -> Op | None:
        return self.ops.get(op_id)

    def lookup_live(self, op_id: int, deadline: float) -> bool:
        """Whether ``op_id``'s lookup still runs with this deadline (for the node's deadline heap)."""
        op = self.ops.get(op_id)
        return op is not None and op.it is not None and not op.it.finished and op.it.deadline == deadline

    # ------------------------------------------------------------------------------------------ starting

    def start(
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
        """Start an operation of ``kind`` on ``target`` with its lookup.

        Args:
            kind: K_FIND, K_BOOT, K_REFRESH, K_GET, K_PUBLISH or K_REPLICATE.
            target: 32-byte id or key.
            now: current time.
            report: emit an ``OpDone`` when it ends.
            records: publish/replicate: the records to put.
            action, since: get: the filters of GET_RECORDS.
            extra: contacts asked even if the routing table refused them (bootstrap seeds).
        Returns:
            The op id.
        """
        node = self._node
        cfg = node.config
        self._next += 1
        op = Op(self._next, kind, target, report)
        self.ops[op.id] = op
        node._stats[S_OPS] += 1
        op.records = records or []
        op.action = action
        op.since = since
        if kind == K_GET:
            op.found = {}
        tint = id_int(target)
        seeds = node.table.closest(tint, cfg.k)
        if extra:
            seeds = seeds + extra
        op.it = self._new_iter(tint, seeds, now)
        heapq.heappush(node._deadlines, (op.it.deadline, 1, op.id))
        self.drive(op, now)
        return op.id

    def _new_iter(self, tint: int, seeds: list[Contact], now: float) -> ClosestPeersIter:
        cfg = self._node.config
        return ClosestPeersIter(
            tint,
            seeds,
            now,
            k=cfg.k,
            alpha=cfg.alpha,
            rpc_timeout=cfg.rpc_timeout,
            lookup_timeout=cfg.lookup_timeout,
            exclude=self._node.pubkey,
        )

    # ----------------------------------------------------------------------------------------- the lookup

    def drive(self, op: Op, now: float) -> None:
        """Hand out requests while the lookup allows; move on once the iterator has finished."""
        it = op.it
        if it is None or op.phase is not Phase.LOOKUP or op.id not in self.ops:
            return  # a late reply to a finished lookup changes nothing
        send = self._node._send
        while True:
            st = it.next(now)
            if isinstance(st, Waiting):
                op.messages += 1
                if op.kind == K_GET:
                    send(st.peer, get_factory(op.target, op.action, op.since, None), GET, op.id, now)
                else:
                    send(st.peer, find_factory(op.target), FIND, op.id, now)
            elif isinstance(st, AtCapacity):
                return
            else:
                self._fire(op, Event.LOOKUP_OVER, now)
                return

    # --------------------------------------------------------------------------------------- the replies

    def on_reply(self, req: Req, msg: Any, now: float) -> None:
        """A validated reply (Nodes, Records or PutResult, matching ``req.kind``) to a request of an op."""
        op = self.ops.get(req.op)
        if op is None:
            return
        kind = req.kind
        if kind in (PAGE, PUT):
            op.side -= 1
        if kind == FIND:
            assert op.it is not None and isinstance(msg, Nodes)
            op.it.on_success(req.peer.pubkey, msg.peers)
            self.drive(op, now)
        elif kind in (GET, PAGE):
            assert isinstance(msg, Records)
            self._got_records(op, req, msg, now)
        elif kind == PUT:
            assert isinstance(msg, PutResult)
            statuses = op.statuses if op.statuses is not None else {}
            op.statuses = statuses
            for st in msg.statuses:
                name = PutStatus(st).name
                statuses[name] = statuses.get(name, 0) + 1
            if any(st in HOLDING for st in msg.statuses):
                op.replicas += 1
            self._check_idle(op, now)

    def on_ended(self, req: Req, now: float, failed: bool) -> None:
        """A request of an op ended without a usable reply: it ``failed`` (timeout, refused, bad reply) or
        the peer answered with an ``Error``."""
        op = self.ops.get(req.op)
        if op is None:
            return
        kind = req.kind
        if kind in (FIND, GET):
            assert op.it is not None
            op.it.on_failure(req.peer.pubkey)
            self.drive(op, now)
        elif kind == PAGE:
            op.side -= 1
            op.pager = b""  # stop following the cursor
            self._check_idle(op, now)
        elif kind == PUT:
            op.side -= 1
            assert op.statuses is not None
            name = "FAILED" if failed else "ERROR"
            op.statuses[name] = op.statuses.get(name, 0) + 1
            self._check_idle(op, now)

    def _got_records(self, op: Op, req: Req, msg: Records, now: float) -> None:
        peer = req.peer.pubkey
        assert op.found is not None and op.it is not None
        key = op.target
        key_res = self._node.config.key_res
        for record in msg.records:
            try:
                _, intent = open_record(record)
            except RemoteProtocolError:
                continue
            if intent.expires <= now or (op.action is not None and intent.action != op.action):
                continue
            if intent.withdrawn and op.since == 0:
                continue
            if intent_key(intent.category, intent.cell, key_res) != key:
                continue
            record_key = intent.author + intent.id
            prev = op.found.get(record_key)
            if prev is None or prev[0] < intent.seq:
                op.found[record_key] = (intent.seq, record)
        if req.kind == GET:
            if msg.records:
                op.responders += 1
            op.it.on_success(peer, msg.peers)
        cfg = self._node.config
        if msg.cursor is not None and op.pager in (None, peer) and op.pages < cfg.max_get_pages:
            op.pager = peer  # follow this one peer's pages only
            op.pages += 1
            self._send_side(op, req.peer, get_factory(key, op.action, op.since, msg.cursor), PAGE, now)
        if cfg.get_quorum and op.responders >= cfg.get_quorum:
            op.it.finish()
        if op.phase is Phase.LOOKUP:
            self.drive(op, now)
        self._check_idle(op, now)

    # ------------------------------------------------------------------------------------------ phases

    def _send_side(self, op: Op, peer: Contact, factory: Any, kind: int, now: float, size: int = 0) -> None:
        op.messages += 1
        op.side += 1
        self._node._send(peer, factory, kind, op.id, now, size)

    def _check_idle(self, op: Op, now: float) -> None:
        if op.side == 0 and op.id in self.ops:
            self._fire(op, Event.SIDE_IDLE, now)

    def _fire(self, op: Op, event: Event, now: float) -> None:
        """Move ``op`` by the transition table and do what entering the new phase does."""
        new = TRANSITIONS[FAMILY[op.kind]].get((op.phase, event))
        if new is None:
            raise LocalProtocolError(f"op {op.id}: no transition from {op.phase.name} on {event.name}")
        if new is op.phase:
            return
        op.phase = new
        if new is Phase.PUT:
            self._put_phase(op, now)
        elif new is Phase.DRAIN:
            self._check_idle(op, now)
        elif new is Phase.DONE:
            self._done(op, now)

    def _put_phase(self, op: Op, now: float) -> None:
        node = self._node
        it = op.it
        assert it is not None
        k = node.config.k
        peers = it.closest(k)
        op.statuses = {}
        if not peers and (it.timed_out or op.messages):  # nobody answered
            self._end(op, Timeout(op.target, it.hops(), op.messages))
            return
        tint = id_int(op.target)
        among = len(peers) < k or (node.id_int ^ tint) < (contact_id(peers[-1]) ^ tint)
        if op.kind == K_PUBLISH and among:
            statuses = node.put_local(op.target, op.records, now)
            for st in statuses:
                op.statuses[st.name] = op.statuses.get(st.name, 0) + 1
            if any(st in HOLDING for st in statuses):
                op.replicas += 1
        batches = put_batches(op.records)
        for peer in peers:
            for batch in batches:
                self._send_side(op, peer, put_factory(op.target, batch), PUT, now, len(batch))
        self._check_idle(op, now)

    def _done(self, op: Op, now: float) -> None:
        """Build the result of an op whose lookup (and side requests) are over."""
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
        elif FAMILY[op.kind] == "put":
            result = Published(op.target, op.replicas, dict(op.statuses or {}), it.hops(), op.messages)
        else:
            peers = it.closest()
            if not peers and (it.timed_out or op.messages):  # nobody answered
                result = Timeout(op.target, it.hops(), op.messages)
            else:
                result = Closest(op.target, peers, it.hops(), op.messages)
        self._end(op, result)
        if op.kind == K_BOOT and self._node.config.refresh_on_bootstrap:
            # the self-lookup covered our closest neighbour's bucket: refresh the ones farther out
            node = self._node
            start = node.table.deepest_bucket()
            peers = it.closest()
            if peers:
                start = max(start, (contact_id(peers[0]) ^ node.id_int).bit_length())
            node.jobs.refresh(now, full_too=False, start=start)

    def _end(self, op: Op, result: Result) -> None:
        op.phase = Phase.DONE
        if self.ops.pop(op.id, None) is None:
            return
        if not self.ops:
            self.ops = {}  # a dict never shrinks: drop the one that grew
        self._node._stats[S_OPS_DONE] += 1
        self._node._op_done(op, result)
