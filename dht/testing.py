"""An in-process network of DHT cores wired synchronously, with an explicit clock: for tests and small demos.

``InProcessNetwork`` delivers every ``SendRequest`` at once (the request is answered by the target's
``handle_request`` and the reply handed to the sender's ``handle_response`` at the same ``now``). A node
marked *down* refuses connections (immediate ``handle_failure``); a node marked *silent* never answers, so its
requests fail at the sender's ``rpc_timeout``, when the network's clock is advanced to the next timer; a node
marked *busy* answers every request with ``Error(rid, "busy")`` (a loaded peer: a soft failure).
``roundtrip_until_done`` (after aioquic's helper) runs the network until one operation's ``OpDone`` appears.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from dht.config import DhtConfig, Rng
from dht.events import OpDone, Result, SendRequest
from dht.node import Node
from wire.messages import Contact, Error


class InProcessNetwork:
    """Nodes by public key, a clock, and synchronous delivery."""

    def __init__(self, config: DhtConfig, rng: Rng, now: float = 0.0) -> None:
        self.config = config
        self.rng = rng
        self.now = now
        self.nodes: dict[bytes, Node] = {}
        self.down: set[bytes] = set()
        self.silent: set[bytes] = set()
        self.busy: set[bytes] = set()
        self.done: dict[tuple[bytes, int], Result] = {}
        self.messages = 0
        self._dirty: deque[Node] = deque()
        self._serial = 0
        #: optional hook: (sender pubkey, target pubkey, request, reply) -> reply actually delivered
        self.tamper: Any = None

    def add_node(self, pubkey: bytes | None = None, addrs: list[str] | None = None) -> Node:
        """Create a node (random 32-byte key unless given) listening on a distinct loopback-free address."""
        if pubkey is None:
            pubkey = self.rng.getrandbits(256).to_bytes(32, "big")
        self._serial += 1
        if addrs is None:
            s = self._serial
            addrs = [f"/ip4/{10 + (s >> 16) % 200}.{(s >> 8) & 255}.{s & 255}.1/tcp/4001"]  # one /24 each
        node = Node(pubkey, addrs, self.config, self.rng)
        self.nodes[pubkey] = node
        return node

    def touch(self, node: Node) -> None:
        """Mark ``node`` as possibly having outputs (call after driving it directly)."""
        self._dirty.append(node)

    def deliver(self) -> int:
        """Deliver outputs until none is left. Returns how many requests were delivered."""
        n = 0
        while self._dirty:
            node = self._dirty.popleft()
            for out in node.poll():
                if isinstance(out, OpDone):
                    self.done[(node.pubkey, out.op_id)] = out.result
                    continue
                assert isinstance(out, SendRequest)
                n += 1
                self._send(node, out)
                self._dirty.append(node)
        self.messages += n
        return n

    def _send(self, node: Node, out: SendRequest) -> None:
        target = self.nodes.get(out.peer.pubkey)
        if target is None or out.peer.pubkey in self.down:
            node.handle_failure(out.peer.pubkey, out.msg.rid, self.now)
            return
        if out.peer.pubkey in self.silent:
            return  # times out at the sender
        if out.peer.pubkey in self.busy:
            node.handle_response(out.peer.pubkey, Error(out.msg.rid, "busy"), self.now)
            return
        reply = target.handle_request(node.contact, out.msg, self.now)
        self._dirty.append(target)
        if self.tamper is not None:
            reply = self.tamper(node.pubkey, target.pubkey, out.msg, reply)
            if reply is None:
                node.handle_failure(out.peer.pubkey, out.msg.rid, self.now)
                return
        node.handle_response(target.pubkey, reply, self.now)

    def next_timer(self) -> float | None:
        times = [t for n in self.nodes.values() if (t := n.next_timer()) is not None]
        return min(times) if times else None

    def advance(self, until: float) -> None:
        """Run timers up to ``until`` (delivering what they emit), then set the clock to ``until``."""
        while True:
            self.deliver()
            t = self.next_timer()
            if t is None or t > until:
                break
            self.now = max(self.now, t)
            for node in self.nodes.values():
                nt = node.next_timer()
                if nt is not None and nt <= self.now:
                    node.handle_timer(self.now)
                    self._dirty.append(node)
        self.now = max(self.now, until)

    def bootstrap_all(self, seeds: list[Contact]) -> None:
        """Join every node through ``seeds``, one after the other."""
        for node in list(self.nodes.values()):
            op = node.bootstrap([s for s in seeds if s.pubkey != node.pubkey], self.now)
            roundtrip_until_done(self, node, op)


def roundtrip_until_done(net: InProcessNetwork, node: Node, op_id: int, max_time: float = 3600.0) -> Result:
    """Deliver and advance the clock until ``node``'s operation ``op_id`` is done; return its result.

    Raises:
        AssertionError: not done within ``max_time`` seconds of simulated time.
    """
    net.touch(node)
    deadline = net.now + max_time
    while True:
        net.deliver()
        key = (node.pubkey, op_id)
        if key in net.done:
            return net.done.pop(key)
        t = net.next_timer()
        if t is None or t > deadline:
            raise AssertionError(f"operation {op_id} not done by t={deadline}")
        net.now = max(net.now, t)
        for n in net.nodes.values():
            nt = n.next_timer()
            if nt is not None and nt <= net.now:
                n.handle_timer(net.now)
                net.touch(n)
