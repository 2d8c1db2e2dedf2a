"""The DHT driver: runs the sans-IO ``dht.Node`` over a ``P2PHost`` on ``/metaspace/kad/1.0.0``.

Theory of operation
-------------------
The core never does I/O; this driver does it for it. Three things feed the core:

* **Inbound requests.** Requests arrive on ``/metaspace/kad-mux/1.0.0`` (many per stream, with ids: see
  :mod:`p2p.mux`) or on ``/metaspace/kad/1.0.0`` (one per stream: older peers and js-libp2p clients); both
  hand us the request bytes with the authenticated peer id. A banned peer is disconnected. We decode the
  request (bad bytes fail that request: the stream is reset, or the mux stream answers ``FAIL``), then
  rate-limit the peer: over its rate, or with too many connections up, the reply is an ``Error`` with the
  request's own ``rid`` and the code ``rate_limited`` / ``busy`` (``SOFT_ERRORS``), which the requester's core
  treats as "alive but loaded": it keeps us in its table. Otherwise we build the sender's ``Contact`` from its
  authenticated key and the listen addresses it claims, and answer with ``node.handle_request``.
* **Replies and failures.** Every ``SendRequest`` the core emits becomes a task that sends the request
  through ``p2p.rpc_client.RpcClient`` (the peer's multiplexed stream, or a stream of its own for peers
  without it) and reports either ``handle_response`` (a reply, or an ``Error`` with the request's rid) or
  ``handle_failure`` (refused, timed out, broken, malformed reply) — dead peers are reported so the routing
  table can replace them. An ``Error`` with ``rid`` 0 and a soft code (what servers before multiplexing
  sent) counts as an ``Error`` to this request.
* **Timers.** One task sleeps until ``node.next_timer()`` (or until something changes it) and then calls
  ``handle_timer``. Republish, replication, bucket refresh and record hand-off all happen there.

After each of these the driver drains ``node.poll()``: new requests are started, finished operations wake
their waiters. ``now`` is trio's clock shifted to Unix time once at start (records expire in Unix time),
so tests can run the driver under ``trio.testing.MockClock``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import multiaddr
import trio

from dht.config import DhtConfig
from dht.events import Closest, Found, NotFound, OpDone, Published, Result, SendRequest, Timeout
from dht.node import Node
from p2p.framing import serve_rpc_caller
from p2p.host import P2PError, split_peer_multiaddr
from p2p.mux_server import MuxServer
from p2p.ratelimit import RateLimiter
from p2p.relay_client import parse_circuit
from p2p.rpc_client import RpcClient
from p2p.storage import ServeHook
from p2p.transport import Caller, Transport
from wire.errors import RemoteProtocolError
from wire.identity import pubkey_from_text, pubkey_to_text
from wire.intent import Action
from wire.limits import MAX_ADDR_LEN, MAX_ADDRS_PER_PEER
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
    decode_message,
    encode_message,
)

log = logging.getLogger(__name__)

#: One request per stream (multistream-select per request): older peers and js-libp2p clients.
KAD_PROTOCOL = "/metaspace/kad/1.0.0"
#: Many requests per long-lived stream, with request ids (``p2p.mux``).
KAD_MUX_PROTOCOL = "/metaspace/kad-mux/1.0.0"
#: Extra time an operation waiter allows beyond the core's own lookup timeout before giving up.
OP_GRACE_S = 5.0
#: ``Error`` codes that mean "alive, but not now": the requester keeps the peer and backs off.
SOFT_ERRORS = frozenset({"rate_limited", "busy"})
_REQUESTS = (Ping, FindNode, PutRecords, GetRecords)
_REPLY_OF: dict[type, type] = {Ping: Pong, FindNode: Nodes, PutRecords: PutResult, GetRecords: Records}


#: Undocumented test hook: a JSON object of ``DhtConfig`` fields that overrides the configuration of a node
#: started by ``metaspace peer`` or ``metaspace bootstrap`` (the integration tests use a small ``k`` and short
#: republish/replicate intervals). Not for production use.
CONFIG_ENV = "METASPACE_DHT_OVERRIDES"


def config_from_env(base: DhtConfig, environ: Mapping[str, str] | None = None) -> DhtConfig:
    """``base`` with the fields given in ``$METASPACE_DHT_OVERRIDES`` (if set) replaced.

    Raises:
        P2PError: the variable is not a JSON object of known ``DhtConfig`` fields with valid values.
    """
    text = (os.environ if environ is None else environ).get(CONFIG_ENV, "").strip()
    if not text:
        return base
    try:
        changes = json.loads(text)
        if not isinstance(changes, dict):
            raise ValueError("not a JSON object")
        known = {f.name for f in dataclasses.fields(DhtConfig)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown fields {unknown}")
        return dataclasses.replace(base, **changes)
    except (ValueError, TypeError) as exc:
        raise P2PError(f"bad {CONFIG_ENV}: {exc}") from None


class DhtOpTimeout(P2PError):
    """An operation did not finish within its bound (the core's lookup timeout plus a grace)."""


@dataclass
class DriverStatistics:
    requests_in: int = 0
    requests_refused: int = 0
    requests_bad: int = 0
    requests_out: int = 0
    failures_out: int = 0
    soft_errors_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


#: Address shapes ``usable_addrs`` remembers, by text (it parses every address of every request and reply;
#: a multiaddr parse is ~0.1 ms of pure Python). Bounded: texts are at most ``MAX_ADDR_LEN`` long.
ADDR_SHAPE_CACHE = 4096


@functools.lru_cache(maxsize=ADDR_SHAPE_CACHE)
def _addr_shape(text: str) -> tuple[str | None, str] | None:
    """What ``usable_addrs`` needs to know of one address text: None if it is never usable (not TCP over
    IPv4/IPv6, malformed); else (the peer id it names or None, the text to store). A relay address is
    stored without its target's suffix; a direct one without its ``/p2p/`` suffix."""
    try:
        maddr = multiaddr.Multiaddr(text)
        names = [p.name for p in maddr.protocols()]
    except Exception:  # multiaddr raises several types for garbage
        return None
    if len(names) < 2 or names[0] not in ("ip4", "ip6") or names[1] != "tcp":
        return None
    if "p2p-circuit" in names:  # a relay address (p2p.relay_client): kept without the peer's suffix
        try:
            _relay, _transport, target = parse_circuit(text)
        except P2PError:
            return None
        return (None, text) if target is None else (target, text[: -len(f"/p2p/{target}")])
    if "p2p" in names:
        try:
            pid, transport = split_peer_multiaddr(text)
        except P2PError:
            return None
        return (pid, transport)
    return (None, text)


#: Peer ids whose text form (base58, ~20 us each way in pure Python) the driver remembers: every request
#: names its peer by text and every served request its sender's key.
PEER_ID_CACHE = 4096
_peer_text = functools.lru_cache(maxsize=PEER_ID_CACHE)(pubkey_to_text)
_peer_key = functools.lru_cache(maxsize=PEER_ID_CACHE)(pubkey_from_text)


def usable_addrs(addrs: Sequence[str], peer_id: str) -> list[str]:
    """The claimed listen addresses we are willing to store for ``peer_id``: TCP over IPv4/IPv6, at most
    ``MAX_ADDRS_PER_PEER``, a ``/p2p/`` suffix (if any) naming that very peer; the rest is dropped."""
    out: list[str] = []
    for text in addrs[:MAX_ADDRS_PER_PEER]:
        if not isinstance(text, str) or len(text) > MAX_ADDR_LEN:
            continue
        shape = _addr_shape(text)
        if shape is None:
            continue
        named, stored = shape
        if named is None or named == peer_id:
            out.append(stored)
    return out


class DhtDriver:
    """Serve and drive one ``dht.Node`` over a running transport (a ``P2PHost``, or ``p2p.memory``'s).

    Use ``await nursery.start(driver.run)``; then ``bootstrap``, ``publish``, ``get_records`` and
    ``find_node`` from any task. Cancelling ``run`` stops everything; pending operations raise
    ``trio.Cancelled`` in their callers' scopes.

    Args:
        use_mux: send our requests on multiplexed streams to peers that serve them (default). False sends
            one stream per request, as peers before multiplexing did; we serve both protocols either way.
    """

    def __init__(
        self,
        host: Transport,
        node: Node,
        *,
        limiter: RateLimiter | None = None,
        metrics: Any | None = None,
        max_connections: int | None = None,
        serve_hook: ServeHook | None = None,
        use_mux: bool = True,
    ) -> None:
        self.host = host
        self.serve_hook = serve_hook
        self.node = node
        self.limiter = limiter
        self.metrics = metrics
        self.max_connections = max_connections
        self.stats = DriverStatistics()
        self.rpc = RpcClient(host, KAD_MUX_PROTOCOL, KAD_PROTOCOL, use_mux=use_mux)
        self.mux_server = MuxServer(host, KAD_MUX_PROTOCOL, self._serve)
        self._offset = time.time() - trio.current_time()
        self._nursery: trio.Nursery | None = None
        self._wake = trio.Event()
        #: The core time the timer loop sleeps until (inf: no timer; -inf: the loop is not asleep).
        self._armed = -math.inf
        self._waiters: dict[int, trio.Event] = {}
        self._results: dict[int, Result] = {}

    def now(self) -> float:
        """Unix time according to trio's clock."""
        return trio.current_time() + self._offset

    # ------------------------------------------------------------------------------------------ running

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        serve_rpc_caller(self.host, KAD_PROTOCOL, self._serve)
        self.mux_server.start()
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(self.rpc.run)
                self._nursery = nursery
                nursery.start_soon(self._timer_loop)
                self._pump()
                task_status.started()
                await trio.sleep_forever()
        finally:
            self._nursery = None
            self.mux_server.stop()
            self.host.remove_handler(KAD_PROTOCOL)

    async def _timer_loop(self) -> None:
        while True:
            self._wake = trio.Event()
            due = self.node.next_timer()
            self._armed = math.inf if due is None else due
            if due is None:
                await self._wake.wait()
            else:
                with trio.move_on_at(due - self._offset):
                    await self._wake.wait()
            self._armed = -math.inf
            now = self.now()
            due = self.node.next_timer()
            if due is not None and due <= now:
                self.node.handle_timer(now)
                self._pump()

    def _pump(self) -> None:
        """Drain the core's outputs: start requests, complete operations, re-arm the timer."""
        for out in self.node.poll():
            if isinstance(out, SendRequest):
                if self._nursery is None:
                    self.node.handle_failure(out.peer.pubkey, out.msg.rid, self.now())
                    continue
                self._nursery.start_soon(self._send, out)
            elif isinstance(out, OpDone):
                self._results[out.op_id] = out.result
                event = self._waiters.pop(out.op_id, None)
                if event is not None:
                    event.set()
        # Wake the timer loop only if the core's next timer is now earlier than the one it sleeps until
        # (a timer that moved later just costs one early wake-up): not once per RPC.
        due = self.node.next_timer()
        if due is not None and due < self._armed:
            self._wake.set()

    # ------------------------------------------------------------------------------------ client side

    async def _send(self, out: SendRequest) -> None:
        peer: Contact = out.peer
        msg: Any = out.msg
        if hasattr(msg, "addrs") and not msg.addrs:
            msg = dataclasses.replace(msg, addrs=self.host.listen_addrs()[:MAX_ADDRS_PER_PEER])
        request = encode_message(msg)
        peer_id = _peer_text(peer.pubkey)
        self.stats.requests_out += 1
        try:
            addrs = usable_addrs(peer.addrs, peer_id)
            answer = await self.rpc.request_reply(
                peer_id, request, timeout=self.node.config.rpc_timeout, addrs=addrs
            )
            raw = answer.payload
            reply: Any = decode_message(raw)
            if isinstance(reply, Nodes | Records) and reply.peers:  # claimed addresses: only those
                reply = self._believable_peers(reply)  # believable from here (p2p.addrs)
            if isinstance(reply, Error) and reply.rid == 0 and reply.code in SOFT_ERRORS:
                reply = Error(msg.rid, reply.code, reply.detail)  # a server from before rids on soft errors
            expected = (_REPLY_OF[type(msg)], Error)
            if not isinstance(reply, expected) or getattr(reply, "rid", None) != msg.rid:
                raise RemoteProtocolError(f"unexpected reply {type(reply).__name__} to {type(msg).__name__}")
        except (P2PError, RemoteProtocolError) as exc:
            self.stats.failures_out += 1
            self._count("out", type(msg).__name__, "failed")
            log.debug("rpc %s to %s failed: %s", type(msg).__name__, peer_id, exc)
            self.node.handle_failure(peer.pubkey, msg.rid, self.now())
        else:
            self.stats.bytes_out += len(request)
            self.stats.bytes_in += len(raw)
            if isinstance(reply, Error) and reply.code in SOFT_ERRORS:
                self.stats.soft_errors_out += 1
                self._count("out", type(msg).__name__, reply.code)
            else:
                self._count("out", type(msg).__name__, "ok")
            self.node.handle_response(peer.pubkey, reply, self.now())
        self._pump()

    async def _run_op(self, op_id: int) -> Result:
        self._pump()
        result = self._results.pop(op_id, None)
        if result is None:
            event = self._waiters[op_id] = trio.Event()
            with trio.move_on_after(self.node.config.lookup_timeout + OP_GRACE_S):
                await event.wait()
            result = self._results.pop(op_id, None)
            if result is None:
                self._waiters.pop(op_id, None)
                raise DhtOpTimeout(f"DHT operation {op_id} did not finish in time")
        return result

    async def bootstrap(self, seeds: Sequence[str]) -> Result:
        """Join the network through ``seeds`` (full multiaddrs ending in ``/p2p/<peer id>``).

        Raises:
            P2PError: a seed address is malformed.
        """
        contacts = []
        for addr in seeds:
            peer_id, transport = split_peer_multiaddr(addr)
            contacts.append(Contact(pubkey_from_text(peer_id), [transport]))
        return await self._run_op(self.node.bootstrap(contacts, self.now()))

    async def publish(self, record: bytes) -> Published | Timeout:
        """Store a signed intent record at the k closest nodes (and keep republishing it)."""
        result = await self._run_op(self.node.publish(record, self.now()))
        assert isinstance(result, Published | Timeout)
        return result

    async def get_records(
        self, key: bytes, action: Action | None = None, since: int = 0
    ) -> Found | NotFound | Timeout:
        """All live records under ``key`` (filtered by action, changed since ``since``), verified."""
        result = await self._run_op(self.node.get_records(key, self.now(), action=action, since=since))
        assert isinstance(result, Found | NotFound | Timeout)
        return result

    async def find_node(self, target: bytes) -> Closest | Timeout:
        result = await self._run_op(self.node.find_node(target, self.now()))
        assert isinstance(result, Closest | Timeout)
        return result

    def unpublish(self, author: bytes, intent_id: bytes) -> None:
        self.node.unpublish(author, intent_id)

    # ------------------------------------------------------------------------------------ server side

    async def _serve(self, caller: Caller, request: bytes) -> bytes:
        """Answer one request (from either protocol) of ``caller`` (its peer id and observed IP).

        Raises:
            RemoteProtocolError: the request is not a DHT request (the stream is reset, or ``FAIL``).
            P2PError: the peer is banned (it is disconnected; no reply).
        """
        peer_id = caller.peer_id
        now = self.now()
        self.stats.requests_in += 1
        self.stats.bytes_in += len(request)
        if self.metrics is not None:
            self.metrics.bytes_in.inc(len(request))
        if self.limiter is not None and self.limiter.is_banned(peer_id, now):
            self.stats.requests_refused += 1
            if self.metrics is not None:
                self.metrics.rate_limited.inc()
            await self.host.disconnect(peer_id)
            raise P2PError(f"{peer_id} is banned")
        try:
            msg = decode_message(request)
            if not isinstance(msg, _REQUESTS):
                raise RemoteProtocolError(f"{type(msg).__name__} is not a DHT request")
        except RemoteProtocolError:
            self.stats.requests_bad += 1
            self._count("in", "invalid", "bad")
            raise  # the client sees a failed RPC
        if self.limiter is not None and not self.limiter.allow(peer_id, now):
            self.stats.requests_refused += 1
            if self.metrics is not None:
                self.metrics.rate_limited.inc()
            if self.limiter.is_banned(peer_id, now):
                await self.host.disconnect(peer_id)
            return self._reply(Error(rid=msg.rid, code="rate_limited", detail="slow down"), "refused")
        if self.max_connections is not None and len(self.host.connected_peers()) > self.max_connections:
            self.stats.requests_refused += 1
            return self._reply(Error(rid=msg.rid, code="busy", detail="too many connections"), "refused")
        claimed = self.host.believable_addrs(usable_addrs(msg.addrs, peer_id))  # p2p.addrs: scoped claims
        sender = Contact(_peer_key(peer_id), claimed)
        if self.serve_hook is None:
            reply = self.node.handle_request(sender, msg, now)
        else:  # p2p.storage.StorageGuard: sender quota, durable before the reply, service time
            reply = await self.serve_hook(peer_id, msg, lambda m: self.node.handle_request(sender, m, now))
        self._pump()
        if isinstance(reply, PutResult) and self.metrics is not None:
            for status in reply.statuses:
                if status not in (PutStatus.STORED, PutStatus.REPLACED):
                    self.metrics.refused_records.labels(reason=status.name.lower()).inc()
        self._count("in", type(msg).__name__, "ok")
        return self._reply(reply, None)

    def _believable_peers(self, reply: Nodes | Records) -> Nodes | Records:
        """``reply`` with each listed contact's claimed addresses filtered by ``host.believable_addrs`` (a
        peer must not point us, and through us others, at loopback, unspecified or LAN addresses)."""
        believe = self.host.believable_addrs
        peers = [Contact(c.pubkey, believe(c.addrs)) for c in reply.peers]
        return dataclasses.replace(reply, peers=peers)

    def _reply(self, reply: Any, outcome: str | None) -> bytes:
        data = encode_message(reply)
        self.stats.bytes_out += len(data)
        if self.metrics is not None:
            self.metrics.bytes_out.inc(len(data))
            if outcome is not None:
                self.metrics.rpcs.labels(direction="in", type="any", outcome=outcome).inc()
        return data

    def _count(self, direction: str, mtype: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.rpcs.labels(direction=direction, type=mtype, outcome=outcome).inc()

    def statistics(self) -> dict[str, int]:
        out = dataclasses.asdict(self.stats)
        out.update({f"rpc_{k}": v for k, v in self.rpc.statistics().items()})
        out.update({f"mux_server_{k}": v for k, v in vars(self.mux_server.stats).items()})
        out.update({f"node_{k}": v for k, v in self.node.statistics().items()})
        return out


__all__ = [
    "CONFIG_ENV",
    "KAD_MUX_PROTOCOL",
    "KAD_PROTOCOL",
    "SOFT_ERRORS",
    "DhtDriver",
    "DhtOpTimeout",
    "Found",
    "NotFound",
    "config_from_env",
    "usable_addrs",
]
