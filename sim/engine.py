"""Discrete-event engine that drives sans-IO DHT node cores over a simulated network.

Theory of operation
-------------------
The engine owns a virtual clock and events ``(time, seq, kind, a, b, c)``; ``seq`` is a global counter,
so events at the same instant run in the order they were scheduled and a run is reproducible bit for bit
from its seeds. The wall clock is never read here. Events up to a *horizon* (``HORIZON_S`` past the
earliest far event when it was set) sit in one heap, later ones (the hourly jobs of every node, workload
steps scheduled ahead) in a second heap; when the first runs dry the horizon moves on and the far events
it now covers move over, in order. Every near event precedes every far one, so the order is the one heap's,
and the heap each event passes through stays small (the messages in flight and the near timers).

Nodes are numbered 0..n-1. Per-node state is kept in flat arrays (alive flag, armed timer time); the
node objects themselves are the real ``dht.node.Node`` cores (or anything with the same methods).

* **Sending.** After every call into a node the engine drains ``node.poll()``: each ``SendRequest``
  becomes a ``REQUEST`` event at the target after a one-way latency (unless the message is lost);
  each ``OpDone`` is handed to the callback registered for that ``(node, op_id)``. A request is
  routed by the peer's public key *and* address: a contact nobody has (a fake one) or one whose
  addresses are not the node's own (a liar's bogus addresses) is unreachable: silent by default (an
  attacker picks addresses that black-hole a dial), or refused after one median RTT
  (``unreachable_mode``).
* **Serving.** A ``REQUEST`` calls the target's ``handle_request`` synchronously and schedules the
  reply as a ``REPLY`` event back at the sender after the reverse latency (unless lost). A request to
  a dead node is answered, after one RTT, by a ``FAILURE`` event (``handle_failure``: "connection
  refused") when ``dead_mode == "refused"``, or by nothing when ``dead_mode == "silent"`` (the
  core's own RPC timer fires). A lost message is never reported: the core's timer times it out.
* **Timers.** Each node's next deadline (``node.next_timer()``) lives in the global heap as a
  ``TIMER`` event; the array ``armed[i]`` holds the deadline currently armed, and a popped timer whose
  time no longer matches it is stale and skipped (lazy invalidation). Re-arming happens after every
  event that touched the node.
* **Actions.** ``schedule(t, fn, arg)`` runs ``fn(arg)`` at virtual time ``t`` (workload steps).
* **Churn.** ``remove(i)`` makes node ``i`` leave: it stops answering, its core is dropped (only its
  contact stays, so that late requests to it are handled as to any dead node) and the operations it
  had started end with ``ABANDONED``. ``revive(i, core)`` brings the same identity back with a fresh
  core; ``add_node`` brings a new identity. Events of a previous life are harmless: replies and
  failures carry request ids the fresh core does not know, and stale timers are skipped.
"""

from __future__ import annotations

import heapq
import math
import random
from array import array
from collections.abc import Callable
from typing import Any, Protocol

from sim.latency import LatencyModel

REQUEST = 0
REPLY = 1
FAILURE = 2
TIMER = 3
ACTION = 4

INF = math.inf
#: Virtual seconds of events kept in the near heap (a few RPC timeouts: requests, replies and their timers).
HORIZON_S = 30.0

OpCallback = Callable[[int, Any, float], None]  # (node index, result, start time)


class Abandoned:
    """The result handed to an operation's callback when its node left before the operation ended."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABANDONED"


ABANDONED = Abandoned()


class Departed:
    """What stays of a node that left: its contact (requests to it fail like requests to a dead node)."""

    __slots__ = ("contact",)

    def __init__(self, contact: Any) -> None:
        self.contact = contact


class NodeCore(Protocol):
    """The sans-IO node interface the engine drives (``dht.node.Node``)."""

    contact: Any

    def handle_request(self, sender: Any, msg: Any, now: float) -> Any: ...
    def handle_response(self, peer_pubkey: bytes, reply: Any, now: float) -> None: ...
    def handle_failure(self, peer_pubkey: bytes, rid: int, now: float) -> None: ...
    def poll(self) -> list[Any]: ...
    def next_timer(self) -> float | None: ...
    def handle_timer(self, now: float) -> None: ...


class Engine:
    """The event loop, the network (latency, loss, dead nodes) and the node registry.

    Args:
        latency: the latency model (node coordinates are added to it by ``add_node``).
        rng: the network's RNG (loss draws).
        loss: probability that any one message (request or reply) is lost.
        dead_mode: ``"refused"`` (a request to a dead node fails after one RTT) or ``"silent"``.
        unreachable_mode: how a dial to a contact nobody runs, or to wrong addresses, ends: ``"silent"``
            (the core's RPC timeout) or ``"refused"`` (after one median RTT).
        start_time: the virtual clock's origin (a plausible unix time, so records' expiry checks work).
    """

    def __init__(
        self,
        latency: LatencyModel,
        rng: random.Random,
        loss: float = 0.0,
        dead_mode: str = "refused",
        start_time: float = 0.0,
        unreachable_mode: str = "silent",
    ) -> None:
        if not 0.0 <= loss < 1.0:
            raise ValueError(f"loss must be in [0, 1), got {loss}")
        if dead_mode not in ("refused", "silent"):
            raise ValueError(f"dead_mode must be 'refused' or 'silent', got {dead_mode!r}")
        if unreachable_mode not in ("refused", "silent"):
            raise ValueError(f"unreachable_mode must be 'refused' or 'silent', got {unreachable_mode!r}")
        self.unreachable_mode = unreachable_mode
        self.latency = latency
        self.rng = rng
        self.loss = loss
        self.dead_mode = dead_mode
        self.now = start_time
        self.start_time = start_time
        self.nodes: list[NodeCore] = []
        self.index: dict[bytes, int] = {}  # pubkey -> node number
        self.alive = bytearray()
        self.armed = array("d")
        self._heap: list[tuple[Any, ...]] = []  # events at or before ``_horizon``
        self._far: list[tuple[Any, ...]] = []  # events after it
        self._horizon = start_time + HORIZON_S
        self._seq = 0
        # node -> {op id -> (callback, start time)}: the operations a workload waits for
        self._ops: dict[int, dict[int, tuple[OpCallback, float]]] = {}
        self._n_ops = 0
        # counters
        self.events = 0
        self.requests_sent = 0
        self.replies_sent = 0
        self.lost = 0
        self.to_dead = 0
        self.stale_timers = 0
        self.timers_fired = 0
        self.unreachable = 0
        self.abandoned = 0
        self._by_class: dict[type, int] = {}

    # ------------------------------------------------------------------------------------ nodes

    def add_node(self, node: NodeCore) -> int:
        """Register a node core (alive, no timer armed yet).

        Returns:
            The node's number.
        """
        i = len(self.nodes)
        self.nodes.append(node)
        self.index[node.contact.pubkey] = i
        self.alive.append(1)
        self.armed.append(INF)
        self.latency.add_node()
        return i

    def kill(self, i: int) -> None:
        """Node ``i`` dies: it never answers or acts again (its pending events are dropped).

        The operations it had started end at once with ``ABANDONED``.
        """
        self.alive[i] = 0
        self.armed[i] = INF
        ops = self._ops.pop(i, None)
        if ops:
            self._n_ops -= len(ops)
            self.abandoned += len(ops)
            for callback, started in ops.values():
                callback(i, ABANDONED, started)

    def remove(self, i: int) -> None:
        """Node ``i`` leaves for good or until ``revive``: killed, and its core freed (memory)."""
        self.kill(i)
        self.nodes[i] = Departed(self.nodes[i].contact)  # type: ignore[call-overload]

    def revive(self, i: int, node: NodeCore) -> None:
        """The identity of node ``i`` comes back with a fresh ``node`` core (same public key).

        Raises:
            ValueError: node ``i`` is alive, or ``node`` has another public key.
        """
        if self.alive[i]:
            raise ValueError(f"node {i} is alive")
        if node.contact.pubkey != self.nodes[i].contact.pubkey:
            raise ValueError("a revived node keeps its public key (use add_node for a new identity)")
        self.nodes[i] = node
        self.alive[i] = 1
        self.armed[i] = INF

    def live_nodes(self) -> list[int]:
        """Numbers of the nodes still alive."""
        return [i for i, a in enumerate(self.alive) if a]

    # ---------------------------------------------------------------------------------- driving

    def call(self, i: int, fn: Callable[[Any, float], Any]) -> Any:
        """Call ``fn(node, now)`` on node ``i``, then deliver its outputs and re-arm its timer."""
        result = fn(self.nodes[i], self.now)
        self._drain(i)
        return result

    def start_op(self, i: int, starter: Callable[[Any, float], int], on_done: OpCallback) -> int:
        """Start an operation on node ``i``; ``on_done(i, result, start_time)`` runs at its OpDone.

        Args:
            i: the node number.
            starter: e.g. ``lambda node, now: node.find_node(target, now)``; returns the op id.
            on_done: the completion callback.

        Returns:
            The op id.
        """
        node = self.nodes[i]
        op_id = starter(node, self.now)
        ops = self._ops.get(i)
        if ops is None:
            ops = self._ops[i] = {}
        ops[op_id] = (on_done, self.now)
        self._n_ops += 1
        self._drain(i)
        return op_id

    def flush(self, i: int) -> None:
        """Deliver node ``i``'s queued outputs and re-arm its timer (after calling into it directly)."""
        self._drain(i)

    def schedule(self, t: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Run ``fn(arg)`` at virtual time ``t`` (not before now)."""
        self._push(max(t, self.now), ACTION, fn, arg, None)

    def pending_ops(self) -> int:
        """Operations started and not yet done."""
        return self._n_ops

    def run(self, until: float = INF, stop: Callable[[], bool] | None = None, max_events: int = 0) -> None:
        """Process events in time order.

        Args:
            until: stop before the first event later than this virtual time (the clock moves to it).
            stop: checked after every event; the loop ends when it returns True.
            max_events: stop after this many events (0 = no limit).
        """
        heap = self._heap
        pop = heapq.heappop
        n = 0
        far = self._far
        while heap or far:
            if not heap:
                self._advance()
            if heap[0][0] > until:
                break
            t, _seq, kind, a, b, c = pop(heap)
            self.now = t
            self.events += 1
            n += 1
            if kind == REQUEST:
                self._on_request(a, b, c)
            elif kind == REPLY:
                if self.alive[a]:
                    self.nodes[a].handle_response(b, c, t)
                    self._drain(a)
            elif kind == TIMER:
                if self.alive[a] and self.armed[a] == t:
                    self.armed[a] = INF
                    self.timers_fired += 1
                    self.nodes[a].handle_timer(t)
                    self._drain(a)
                else:
                    self.stale_timers += 1
            elif kind == FAILURE:
                if self.alive[a]:
                    self.nodes[a].handle_failure(b, c, t)
                    self._drain(a)
            else:  # ACTION
                a(b)
            if stop is not None and stop():
                return
            if max_events and n >= max_events:
                return
        if until != INF and self.now < until:
            self.now = until

    # --------------------------------------------------------------------------------- internals

    def _push(self, t: float, kind: int, a: Any, b: Any, c: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap if t <= self._horizon else self._far, (t, self._seq, kind, a, b, c))

    def _advance(self) -> None:
        """The near heap ran dry: move the horizon ``HORIZON_S`` past the earliest far event and the far
        events it now covers to the near heap (popped in order, so the list they form is a heap)."""
        far = self._far
        heap = self._heap
        pop = heapq.heappop
        self._horizon = horizon = far[0][0] + HORIZON_S
        while far and far[0][0] <= horizon:
            heap.append(pop(far))

    def _drain(self, i: int) -> None:
        node = self.nodes[i]
        for out in node.poll():
            peer = getattr(out, "peer", None)
            if peer is not None:
                self._send_request(i, peer, out.msg)
            else:
                ops = self._ops.get(i)
                entry = ops.pop(out.op_id, None) if ops else None
                if entry is not None:
                    self._n_ops -= 1
                    if not ops:
                        del self._ops[i]
                    entry[0](i, out.result, entry[1])
        t = node.next_timer()
        if t is None:
            if self.armed[i] != INF:
                self.armed[i] = INF
        elif t != self.armed[i]:
            self.armed[i] = t
            self._push(max(t, self.now), TIMER, i, None, None)

    def _send_request(self, src: int, peer: Any, msg: Any) -> None:
        self.requests_sent += 1
        cls = msg.__class__
        by_class = self._by_class
        by_class[cls] = by_class.get(cls, 0) + 1
        dst = self.index.get(peer.pubkey)
        if dst is None or peer.addrs != self.nodes[dst].contact.addrs:
            # nobody has this key (a fake contact), or not at these addresses (bogus ones): the dial fails
            # after one median RTT when refused, never when silent
            self.unreachable += 1
            if self.unreachable_mode == "refused":
                self._push(self.now + self.latency.median_rtt(), FAILURE, src, peer.pubkey, msg.rid)
            return
        if self.loss and self.rng.random() < self.loss:
            self.lost += 1
            return
        self._seq += 1
        t = self.now + self.latency.one_way(src, dst)
        queue = self._heap if t <= self._horizon else self._far
        heapq.heappush(queue, (t, self._seq, REQUEST, src, dst, msg))

    def _on_request(self, src: int, dst: int, msg: Any) -> None:
        if not self.alive[dst]:
            self.to_dead += 1
            if self.dead_mode == "refused" and self.alive[src]:
                self._push(
                    self.now + self.latency.one_way(dst, src),
                    FAILURE,
                    src,
                    self.nodes[dst].contact.pubkey,
                    msg.rid,
                )
            return
        if not self.alive[src]:
            return  # the asker died while its request was in flight: the server never sees it
        server = self.nodes[dst]
        reply = server.handle_request(self.nodes[src].contact, msg, self.now)
        self._drain(dst)
        if reply is None:
            return
        self.replies_sent += 1
        if self.loss and self.rng.random() < self.loss:
            self.lost += 1
            return
        self._seq += 1
        t = self.now + self.latency.one_way(dst, src)
        heapq.heappush(
            self._heap if t <= self._horizon else self._far,
            (t, self._seq, REPLY, src, server.contact.pubkey, reply),
        )

    @property
    def by_type(self) -> dict[str, int]:
        """Requests sent, by message class name."""
        return dict(sorted((cls.__name__, n) for cls, n in self._by_class.items()))

    def statistics(self) -> dict[str, Any]:
        """Counters of the run so far."""
        return {
            "events": self.events,
            "requests": self.requests_sent,
            "replies": self.replies_sent,
            "lost": self.lost,
            "to_dead": self.to_dead,
            "unreachable": self.unreachable,
            "abandoned": self.abandoned,
            "timers_fired": self.timers_fired,
            "stale_timers": self.stale_timers,
            "queued": len(self._heap) + len(self._far),
            "by_type": self.by_type,
            "virtual_s": self.now - self.start_time,
        }
