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
                                  ``                        PUT --quorum--> BACKGROUND --side_idle--> DONE``
================================  ==========================================================================

Events: ``LOOKUP_OVER`` the iterator finished (the closest have answered, nobody is left to ask, or the
lookup deadline passed); ``SIDE_IDLE`` no *side request* of the op (a get's page request, a publish's
PUT_RECORDS) is in flight any more; ``QUORUM`` ``publish_quorum`` replicas hold the records. A pair missing
from the table is a bug (``LocalProtocolError``); pairs mapping a phase to itself change nothing. Entering a
phase does its work: ``PUT`` sends PUT_RECORDS to the k closest that answered (and stores locally when this
node is among them); ``BACKGROUND`` reports ``Published`` at once while the other PUTs run on; ``DRAIN``
follows the page cursors of the closest replicas; ``DRAIN``, ``PUT`` and ``BACKGROUND`` fall through when
nothing is in flight; ``DONE`` builds the typed result (``dht.events``) and hands it to the node (an
``OpDone`` when the op reports and has not reported yet).

**When a get is complete.** Let q = min(``get_closest``, k). The get's iterator runs towards the q closest
peers (it is built with k = q), so its lookup ends once the q closest peers it knows have all answered and no
peer closer than the q-th is still unasked or in flight (or nobody is left to ask); peers that failed don't
count, nor do unresponsive ones (past their adaptive peer deadline: a lost request) up to k - q of them,
so the q that answered are still among the k closest known, where the records are stored. The get is then
*complete* when each of those q peers has also been read to its last page. Records
are stored at the k closest nodes of their key, so the q closest hold every record that reached all of its
replicas, and a record that missed some replicas (a node that joined after the publish, before its
hand-off) is found as long as one of the q closest holds it. Records are merged by (author, intent id),
highest seq wins, *tombstones included* (servers send them to plain gets too), and only then are withdrawn
intents dropped from a plain get's result: a stale replica can't bring a withdrawn intent back. Records that
don't verify, have expired, were created more than ``max_clock_skew`` in the future, are on the other side
of the action filter or are not under the key (any of ``keys_for_record``) are ignored, as the store does.

Pages: each peer's cursor is followed while that peer is among the q closest that answered (from its first
reply, alongside the lookup; after the lookup, only for the final q), at most ``max_get_pages`` pages per
peer and ``get_page_budget`` in all. ``Found.complete`` is False when the lookup timed out or a budget, a
failed page request or a backed-off peer cut one of the final q short (what was gathered is still reported).
``get_quorum`` > 0 keeps the older rule "stop once this many peers returned records" (not complete).

**Soft failures.** A request refused with an ``Error`` of code ``rate_limited`` or ``busy`` ends for its
operation (the iterator counts the peer as failed, a PUT counts ``BUSY``) but the node keeps the contact and
backs off from it (``dht.backoff.SOFT_FAILURE_BACKOFF_S``); while it backs off, lookups skip the peer (as
failed, without a request), publishes don't PUT to it (``BUSY``) and gets don't page it.

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
from dht.keys import contact_id, id_int, keys_for_record, with_id_work
from dht.lookup import CANDIDATES_PER_PATH, STRAGGLER_SHARE, ClosestPeersIter
from dht.lookup_states import AtCapacity, Waiting
from dht.requests import (
    FIND,
    GET,
    HOLDING,
    PAGE,
    PUT,
    S_BACKOFF_SKIPS,
    S_EARLY,
    S_OPS,
    S_OPS_DONE,
    S_PAGES,
    Req,
    find_factory,
    get_factory,
    put_batches,
    put_factory,
)
from dht.store import on_side, open_record
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.intent import Action
from wire.messages import Contact, Nodes, PutResult, PutStatus, Records

if TYPE_CHECKING:
    from dht.node import Node

#: A join's bucket refresh wanting n contacts stops after FILL_BUDGET * n requests (its bucket is sparse).
FILL_BUDGET = 2
# operation kinds
K_FIND, K_BOOT, K_REFRESH, K_GET, K_PUBLISH, K_REPLICATE = range(6)
KIND_NAMES = ("find", "bootstrap", "refresh", "get", "publish", "replicate")


class Phase(enum.IntEnum):
    """Where an operation is in its lifecycle."""

    LOOKUP = 0  # the iterator hands out requests (a get's page requests may run alongside)
    PUT = 1  # PUT_RECORDS in flight to the closest peers that answered
    BACKGROUND = 2  # a publish reported at its quorum; its other PUTs are still in flight
    DRAIN = 3  # a get's lookup is over; page requests of the closest replicas in flight
    DONE = 4  # the result is built; the op is forgotten


class Event(enum.IntEnum):
    LOOKUP_OVER = 0  # the iterator finished
    SIDE_IDLE = 1  # no page or PUT request of the op in flight
    QUORUM = 2  # publish_quorum replicas hold the records


_L, _P, _B, _D, _X = Phase.LOOKUP, Phase.PUT, Phase.BACKGROUND, Phase.DRAIN, Phase.DONE
_OVER, _IDLE, _QUORUM = Event.LOOKUP_OVER, Event.SIDE_IDLE, Event.QUORUM
#: family -> (phase, event) -> next phase
TRANSITIONS: dict[str, dict[tuple[Phase, Event], Phase]] = {
    "lookup": {(_L, _OVER): _X},
    "get": {(_L, _OVER): _D, (_L, _IDLE): _L, (_D, _IDLE): _X},
    "put": {(_L, _OVER): _P, (_P, _IDLE): _X, (_P, _QUORUM): _B, (_B, _QUORUM): _B, (_B, _IDLE): _X},
}
FAMILY = ("lookup", "lookup", "lookup", "get", "put", "put")  # by operation kind


class PageChain:
    """A get's reading of one peer's pages: its cursor (None: read to the end), pages asked, one in
    flight, cut short (budget, failure, back-off)."""

    __slots__ = ("busy", "contact", "cursor", "cut", "pages")

    def __init__(self, contact: Contact, cursor: bytes) -> None:
        self.contact = contact
        self.cursor: bytes | None = cursor
        self.pages = 0
        self.busy = False
        self.cut = False


class Op:
    """One running operation and what it has gathered so far."""

    __slots__ = (
        "action",
        "chains",
        "fill",
        "found",
        "holders",
        "id",
        "it",
        "job",
        "kind",
        "messages",
        "pages",
        "phase",
        "records",
        "report",
        "reported",
        "responders",
        "side",
        "since",
        "skipped",
        "statuses",
        "target",
    )

    def __init__(self, op_id: int, kind: int, target: bytes, report: bool) -> None:
        self.id = op_id
        self.kind = kind
        self.target = target
        self.report = report  # whether an OpDone is emitted
        self.reported = False  # it was (a publish reports at its quorum, before DONE)
        self.job = False  # started by a periodic job (dht.jobs counts them)
        self.phase = Phase.LOOKUP
        self.it: ClosestPeersIter | None = None
        self.messages = 0
        self.skipped = 0  # peers not asked because we were backing off from them
        self.records: list[bytes] = []  # publish/replicate: what to put
        # get: author + intent id -> (seq, record, withdrawn)
        self.found: dict[bytes, tuple[int, bytes, bool]] | None = None
        self.responders = 0
        self.action: Action | None = None
        self.since = 0
        self.chains: dict[bytes, PageChain] | None = None  # get: peer -> its page cursor
        self.pages = 0  # get: page requests sent
        self.side = 0  # page and PUT requests of this operation in flight
        self.holders: set[bytes] | None = None  # publish: peers holding the records (ourselves included)
        self.statuses: dict[str, int] | None = None
        self.fill: tuple[int, int] | None = None  # a join's bucket refresh: (bucket, contacts wanted)


def _count(statuses: dict[str, int], name: str, n: int = 1) -> None:
    statuses[name] = statuses.get(name, 0) + n


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

    def statistics(self) -> dict[str, int]:
        """Running operations by phase (``ops_lookup``, ``ops_put``, ``ops_background``, ``ops_drain``)."""
        counts = dict.fromkeys(("ops_lookup", "ops_put", "ops_background", "ops_drain"), 0)
        for op in self.ops.values():
            if op.phase is not Phase.DONE:
                counts["ops_" + op.phase.name.lower()] += 1
        return counts

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
        job: bool = False,
        fill: tuple[int, int] | None = None,
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
            job: started by a periodic job (``Jobs.op_ended`` is told when it ends).
            fill: a bucket refresh after a join: (bucket, n) — one path, ends once the bucket holds n.
        Returns:
            The op id.
        """
        node = self._node
        cfg = node.config
        self._next += 1
        op = Op(self._next, kind, target, report)
        op.job = job
        self.ops[op.id] = op
        node._stats[S_OPS] += 1
        op.records = records or []
        op.action = action
        op.since = since
        k = cfg.k
        op.fill = fill
        stragglers = None
        if kind == K_GET:
            op.found = {}
            k = min(cfg.get_closest, cfg.k)
            if k < cfg.k:  # the q closest that answer are still among the k replicas
                stragglers = max(k // STRAGGLER_SHARE, cfg.k - k)
        tint = id_int(target)
        seeds = node.table.closest(tint, cfg.k)
        if extra:
            seeds = seeds + extra
        paths = cfg.refresh_paths if kind == K_REFRESH else cfg.disjoint_paths
        op.it = self._new_iter(tint, seeds, now, k, fill is None, stragglers, paths)
        heapq.heappush(node._deadlines, (op.it.deadline, 1, op.id))
        self.drive(op, now)
        return op.id

    def _new_iter(
        self,
        tint: int,
        seeds: list[Contact],
        now: float,
        k: int,
        urgent: bool,
        stragglers: int | None,
        paths: int,
    ) -> ClosestPeersIter:
        """The lookup of an op: ``paths`` disjoint paths (a refresh's ``refresh_paths``, else
        ``disjoint_paths``) sharing ``alpha`` requests in flight, widening when stalled, or (a join's bucket
        refresh, not ``urgent``: every request adds at most one contact, so none is sent ahead) one request at
        a time. ``stragglers``: unresponsive peers among the k closest a path may finish without (None: the
        iterator's default)."""
        cfg = self._node.config
        paths = min(paths, k) if urgent else 1
        return ClosestPeersIter(
            tint,
            seeds,
            now,
            k=k,
            alpha=-(-cfg.alpha // paths) if urgent else 1,  # the paths share alpha (rounded up)
            rpc_timeout=cfg.rpc_timeout,
            lookup_timeout=cfg.lookup_timeout,
            exclude=self._node.pubkey,
            paths=paths,
            peer_timeout=cfg.rpc_timeout,  # each request's deadline is set when it is sent (``drive``)
            max_new=cfg.max_new_per_reply,
            widen=urgent,
            max_stragglers=stragglers,
            capacity=(CANDIDATES_PER_PATH + paths - 1) * cfg.k,  # a get's q < k: still room for k's worth
        )

    # ----------------------------------------------------------------------------------------- the lookup

    def drive(self, op: Op, now: float) -> None:
        """Hand out requests while the lookup allows; move on once the iterator has finished."""
        it = op.it
        if it is None or op.phase is not Phase.LOOKUP or op.id not in self.ops:
            return  # a late reply to a finished lookup changes nothing
        node = self._node
        while True:
            st = it.next(now)
            if isinstance(st, Waiting):
                if node._backoff and node.backed_off(st.peer.pubkey, now):
                    node._stats[S_BACKOFF_SKIPS] += 1
                    op.skipped += 1
                    it.on_failure(
                        st.peer.pubkey, blame=False
                    )  # skipped, not asked: the peer asked us to wait
                    continue
                op.messages += 1
                known = node.table.get(st.peer)
                peer = known or st.peer  # the addresses we know first
                if op.kind == K_GET:
                    rid = node._send(peer, get_factory(op.target, op.action, op.since, None), GET, op.id, now)
                else:
                    rid = node._send(peer, find_factory(op.target), FIND, op.id, now)
                deadline = now + node.peer_timeout(known is not None)
                it.set_deadline(st.peer.pubkey, deadline)
                node.peer_deadline(rid, deadline)
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
            op.it.on_success(req.peer.pubkey, with_id_work(msg.peers, self._node.config.id_puzzle_bits))
            fill = op.fill
            if fill is not None and (
                self._node.table.bucket_size(fill[0]) >= fill[1] or op.messages >= FILL_BUDGET * fill[1]
            ):
                op.it.finish()  # the bucket this refresh fills has enough contacts (or is sparse)
            self.drive(op, now)
        elif kind in (GET, PAGE):
            assert isinstance(msg, Records)
            self._got_records(op, req, msg, now)
        elif kind == PUT:
            assert isinstance(msg, PutResult) and op.statuses is not None
            for st in msg.statuses:
                _count(op.statuses, PutStatus(st).name)
            if any(st in HOLDING for st in msg.statuses):
                self._held(op, req.peer.pubkey, now)
            self._check_idle(op, now)

    def on_ended(self, req: Req, now: float, failed: bool, soft: bool = False) -> None:
        """A request of an op ended without a usable reply: it ``failed`` (timeout, refused, bad reply) or
        the peer answered with an ``Error`` (``soft``: rate_limited or busy)."""
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
            chain = op.chains.get(req.peer.pubkey) if op.chains else None
            if chain is not None:
                chain.busy, chain.cursor, chain.cut = False, None, True
            self._check_idle(op, now)
        elif kind == PUT:
            op.side -= 1
            assert op.statuses is not None
            _count(op.statuses, "BUSY" if soft else "FAILED" if failed else "ERROR")
            self._check_idle(op, now)

    def _got_records(self, op: Op, req: Req, msg: Records, now: float) -> None:
        """Merge a GET reply or page into the op's findings; follow cursors; drive the lookup."""
        node = self._node
        cfg = node.config
        peer = req.peer.pubkey
        found = op.found
        assert found is not None and op.it is not None
        key = op.target
        for record in msg.records:
            try:
                _, intent = open_record(record)
                if key not in keys_for_record(intent, cfg.key_res):
                    continue
            except (RemoteProtocolError, LocalProtocolError):
                continue
            if intent.expires <= now or intent.created > now + cfg.max_clock_skew:
                continue  # the store's checks: expired, or created in the future
            if not on_side(intent.action, op.action):  # a side filter, as the store's
                continue
            record_key = intent.author + intent.id
            prev = found.get(record_key)
            if prev is None or prev[0] < intent.seq:
                found[record_key] = (intent.seq, record, intent.withdrawn)
        if req.kind == GET:
            if msg.records:
                op.responders += 1
            if msg.cursor is not None:
                if op.chains is None:
                    op.chains = {}
                op.chains[peer] = PageChain(req.peer, msg.cursor)
            op.it.on_success(peer, with_id_work(msg.peers, cfg.id_puzzle_bits))
            if cfg.get_quorum and op.responders >= cfg.get_quorum:
                op.it.finish()
            self.drive(op, now)
        elif op.chains is not None and (chain := op.chains.get(peer)) is not None:
            chain.busy = False
            chain.cursor = msg.cursor
        if op.phase is not Phase.DONE:
            self._follow_pages(op, now)
            self._check_idle(op, now)

    def _follow_pages(self, op: Op, now: float) -> None:
        """Ask for the next page of every peer among the q closest that answered whose cursor is open."""
        chains = op.chains
        if not chains or op.it is None:
            return
        node = self._node
        cfg = node.config
        needed = {c.pubkey for c in op.it.closest()}  # the iterator's k is q
        for pk, chain in chains.items():
            if chain.busy or chain.cursor is None or pk not in needed:
                continue
            if (
                chain.pages >= cfg.max_get_pages
                or op.pages >= cfg.get_page_budget
                or node.backed_off(pk, now)
            ):
                chain.cursor, chain.cut = None, True
                continue
            chain.pages += 1
            chain.busy = True
            op.pages += 1
            node._stats[S_PAGES] += 1
            factory = get_factory(op.target, op.action, op.since, chain.cursor)
            self._send_side(op, chain.contact, factory, PAGE, now)

    def _held(self, op: Op, holder: bytes, now: float) -> None:
        """``holder`` holds the records: count it, and report at the quorum."""
        if op.holders is None:
            op.holders = set()
        op.holders.add(holder)
        quorum = self._node.config.publish_quorum
        if quorum and len(op.holders) >= quorum and op.phase in (Phase.PUT, Phase.BACKGROUND):
            self._fire(op, Event.QUORUM, now)

    # ------------------------------------------------------------------------------------------ phases

    def _send_side(self, op: Op, peer: Contact, factory: Any, kind: int, now: float, size: int = 0) -> None:
        op.messages += 1
        op.side += 1
        self._node._send(peer, factory, kind, op.id, now, size)

    def _check_idle(self, op: Op, now: float) -> None:
        if op.side == 0 and op.id in self.ops and op.phase is not Phase.DONE:
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
        elif new is Phase.BACKGROUND:
            self._node._stats[S_EARLY] += 1
            self._report(op, self._published(op))
        elif new is Phase.DRAIN:
            self._follow_pages(op, now)
            self._check_idle(op, now)
        elif new is Phase.DONE:
            self._done(op, now)

    def _put_phase(self, op: Op, now: float) -> None:
        node = self._node
        it = op.it
        assert it is not None
        k = node.config.k
        op.statuses = {}
        if not it.closest(1) and (it.timed_out or op.messages or op.skipped):  # nobody answered
            self._end(op, Timeout(op.target, it.hops(), op.messages), now)
            return
        # the k closest that answered or may still answer (a slow one gets the PUT too), at known addresses
        peers = [node.table.get(c) or c for c in it.closest(k, unresponsive=True)]
        tint = id_int(op.target)
        among = len(peers) < k or (node.id_int ^ tint) < (contact_id(peers[-1]) ^ tint)
        if op.kind == K_PUBLISH and among:
            statuses = node.put_local(op.target, op.records, now)
            for st in statuses:
                _count(op.statuses, st.name)
            if any(st in HOLDING for st in statuses):
                self._held(op, node.pubkey, now)
        batches = put_batches(op.records)
        for peer in peers:
            if node.backed_off(peer.pubkey, now):
                node._stats[S_BACKOFF_SKIPS] += 1
                _count(op.statuses, "BUSY", len(batches))
                continue
            for batch in batches:
                self._send_side(op, peer, put_factory(op.target, batch), PUT, now, len(batch))
        self._check_idle(op, now)

    def _published(self, op: Op) -> Published:
        assert op.it is not None
        replicas = len(op.holders) if op.holders else 0
        statuses = dict(op.statuses or {})
        return Published(op.target, replicas, statuses, op.it.hops(), op.messages, op.side)

    def _done(self, op: Op, now: float) -> None:
        """Build the result of an op whose lookup (and side requests) are over."""
        it = op.it
        assert it is not None
        result: Result
        if op.kind == K_GET:
            assert op.found is not None
            plain = op.since == 0
            records = [rec for _, rec, withdrawn in op.found.values() if not (plain and withdrawn)]
            if records:
                closest = {c.pubkey for c in it.closest()}
                cut = any(ch.cut for pk, ch in (op.chains or {}).items() if pk in closest)
                complete = not it.timed_out and not cut and not self._node.config.get_quorum
                result = Found(op.target, records, it.hops(), op.messages, op.responders, complete)
            elif not it.closest() and (it.timed_out or op.messages or op.skipped):  # nobody answered
                result = Timeout(op.target, it.hops(), op.messages)
            else:
                result = NotFound(op.target, it.closest(), it.hops(), op.messages)
        elif FAMILY[op.kind] == "put":
            result = self._published(op)
        else:
            peers = it.closest()
            if not peers and (it.timed_out or op.messages or op.skipped):  # nobody answered
                result = Timeout(op.target, it.hops(), op.messages)
            else:
                result = Closest(op.target, peers, it.hops(), op.messages)
        self._end(op, result, now)
        if op.kind == K_BOOT and self._node.config.refresh_on_bootstrap:
            # the self-lookup met our k closest neighbours, which fill every bucket up to the farthest
            # one's (all the network has there): refresh from that bucket outwards
            node = self._node
            start = node.table.deepest_bucket()
            peers = it.closest()
            if peers:
                start = max(start, (contact_id(peers[-1]) ^ node.id_int).bit_length() - 1)
            node.jobs.refresh(now, full_too=False, start=start)

    def _report(self, op: Op, result: Result) -> None:
        if op.report and not op.reported:
            op.reported = True
            self._node._report(op.id, result)

    def _end(self, op: Op, result: Result, now: float) -> None:
        op.phase = Phase.DONE
        if self.ops.pop(op.id, None) is None:
            return
        if not self.ops:
            self.ops = {}  # a dict never shrinks: drop the one that grew
        node = self._node
        node._stats[S_OPS_DONE] += 1
        self._report(op, result)
        if op.job:
            node.jobs.op_ended(now)
