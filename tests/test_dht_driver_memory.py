"""The DHT driver in-process: real ``DhtDriver`` s and ``dht.Node`` s over ``p2p.memory`` transports, under
trio's ``MockClock(autojump_threshold=0)`` — no OS processes, virtual time.

Covered: join, publish and get across a small network over the multiplexed protocol; a mixed network where
some peers only speak the one-request-per-stream protocol (and some only send on it); rate limits and
``busy`` replies carrying the request id and keeping the loaded node in the requester's table (also the
``rid = 0`` replies of servers before multiplexing); banned peers cut off; peers gone, silent peers and
streams that break mid-lookup; a failed stream open retried.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import trio
import trio.testing

from dht.backoff import SOFT_FAILURE_BACKOFF_S
from dht.config import DhtConfig
from dht.events import Closest, Found, NotFound, Published
from dht.keys import intent_key
from dht.node import Node
from p2p.dht_driver import KAD_MUX_PROTOCOL, KAD_PROTOCOL, DhtDriver
from p2p.framing import rpc, serve_rpc
from p2p.host import P2PError
from p2p.memory import MemoryNetwork, MemoryTransport
from p2p.mux import MuxFailure
from p2p.ratelimit import RateLimiter
from tests.net_helpers.raw import make_intent, sealed
from wire.errors import RemoteProtocolError
from wire.identity import Identity
from wire.messages import (
    Contact,
    Error,
    FindNode,
    GetRecords,
    Nodes,
    Ping,
    Pong,
    Records,
    decode_message,
    encode_message,
)

CONFIG = DhtConfig(k=4, alpha=3, rpc_timeout=2.0, lookup_timeout=10.0)
#: Virtual Unix time the drivers start at (records are stamped with it).
T0 = 1_800_000_000.0


def run(fn: Callable[[], Awaitable[None]]) -> None:
    trio.run(fn, clock=trio.testing.MockClock(autojump_threshold=0, rate=0))


def identity(i: int) -> Identity:
    return Identity(bytes([i + 1]) * 32)


@dataclass
class Peer:
    identity: Identity
    transport: MemoryTransport
    driver: DhtDriver

    @property
    def node(self) -> Node:
        return self.driver.node

    @property
    def seed(self) -> str:
        return f"{self.transport.listen_addrs()[0]}/p2p/{self.identity.peer_id}"


@asynccontextmanager
async def network(
    n: int,
    *,
    net: MemoryNetwork | None = None,
    config: DhtConfig = CONFIG,
    driver_kwargs: Callable[[int], dict[str, Any]] = lambda i: {},
) -> AsyncIterator[tuple[MemoryNetwork, list[Peer]]]:
    """``n`` running drivers on one memory network (not joined yet)."""
    net = net or MemoryNetwork(latency=0.002)
    async with AsyncExitStack() as stack:
        transports = []
        for i in range(n):
            ident = identity(i)
            transports.append((ident, await stack.enter_async_context(net.open(ident.peer_id))))
        nursery = await stack.enter_async_context(trio.open_nursery())
        peers = []
        for i, (ident, transport) in enumerate(transports):
            node = Node(ident.pubkey, transport.listen_addrs(), config, random.Random(i))
            driver = DhtDriver(transport, node, **driver_kwargs(i))
            driver._offset = T0 - trio.current_time()  # records are stamped in (virtual) Unix time
            await nursery.start(driver.run)
            peers.append(Peer(ident, transport, driver))
        yield net, peers
        nursery.cancel_scope.cancel()


async def join(peers: list[Peer]) -> None:
    for p in peers[1:]:
        assert isinstance(await p.driver.bootstrap([peers[0].seed]), Closest)
    for p in peers:
        await p.driver.find_node(p.node.node_id)


async def publish_and_find(author: Peer, reader: Peer) -> None:
    intent = make_intent(author.identity, author.driver.now())
    published = await author.driver.publish(sealed(author.identity, intent))
    assert isinstance(published, Published) and published.replicas >= CONFIG.k - 1, published
    found = await reader.driver.get_records(intent_key(intent.category, intent.cell))
    assert isinstance(found, Found) and sealed(author.identity, intent) in found.records


def test_a_network_joins_publishes_and_finds_over_multiplexed_streams() -> None:
    async def main() -> None:
        async with network(10) as (_net, peers):
            await join(peers)
            assert all(len(p.node.table) >= CONFIG.k for p in peers)
            for i in range(5):
                await publish_and_find(peers[i], peers[-1 - i])
            stats = [p.driver.statistics() for p in peers]
            assert sum(s["failures_out"] for s in stats) == 0
            assert sum(s["rpc_single_requests"] for s in stats) == 0
            sent = sum(s["requests_out"] for s in stats)
            opened = sum(p.transport.stats.opens_by_protocol.get(KAD_MUX_PROTOCOL, 0) for p in peers)
            assert opened <= 10 * 9 < sent  # at most one stream per pair, many requests on each
            assert sum(p.transport.stats.opens_by_protocol.get(KAD_PROTOCOL, 0) for p in peers) == 0

    run(main)


def test_older_peers_and_single_stream_clients_work_alongside() -> None:
    """Peers 0-2 only serve /metaspace/kad/1.0.0 (as before multiplexing); 3-4 only send on it."""

    async def main() -> None:
        def kwargs(i: int) -> dict[str, Any]:
            return {"use_mux": not 3 <= i <= 4}

        async with network(8, driver_kwargs=kwargs) as (_net, peers):
            for p in peers[:3]:
                p.driver.mux_server.stop()
            await join(peers)
            await publish_and_find(peers[0], peers[5])
            await publish_and_find(peers[6], peers[1])
            await publish_and_find(peers[3], peers[7])
            stats = [p.driver.statistics() for p in peers]
            assert sum(s["failures_out"] for s in stats) == 0
            assert all(stats[i]["mux_server_requests"] == 0 for i in range(3))
            assert all(stats[i]["rpc_mux_requests"] == 0 for i in (3, 4))
            # The others learnt that peers 0-2 lack the protocol (one refusal each) and then sent them
            # one stream per request.
            refused = sum(s["rpc_mux_protocol_refusals"] for s in stats)
            assert 0 < refused <= 5 * 3
            assert all(stats[i]["rpc_no_mux_peers"] <= 3 for i in range(8))

    run(main)


def test_rate_limited_and_busy_replies_carry_the_rid_and_keep_the_contact() -> None:
    """A loaded bootstrap node answers ``rate_limited`` / ``busy`` with the request's own rid; the requester's
    core takes it as an answer from a live peer and keeps the node in its table."""

    async def main() -> None:
        limiter = RateLimiter(rate=1.0, burst=3.0, ban_strikes=1000)

        def kwargs(i: int) -> dict[str, Any]:
            return {"limiter": limiter} if i == 0 else {}

        async with network(2, driver_kwargs=kwargs) as (_net, peers):
            boot, client = peers
            await client.driver.bootstrap([boot.seed])
            assert client.node.table.find(boot.identity.pubkey) is not None
            for _ in range(10):  # far over the burst: most are refused
                await client.driver.find_node(random.Random(1).randbytes(32))
            refused = boot.driver.stats.requests_refused
            assert refused > 0 and client.driver.stats.soft_errors_out == refused
            assert client.driver.stats.failures_out == 0
            assert client.node.statistics()["error_replies"] == refused
            assert client.node.table.find(boot.identity.pubkey) is not None  # still in the table
            assert client.node.statistics()["backing_off"] == 1  # ... and the core backs off from it
            for use_mux in (True, False):  # on either protocol, the refusal names the request it refuses
                request = encode_message(FindNode(123_456_789, b"\x00" * 32, []))
                if use_mux:
                    raw = await client.driver.rpc.mux.call(boot.identity.peer_id, request, timeout=2)
                else:
                    reply = await client.driver.rpc._single(
                        boot.identity.peer_id, request, trio.current_time() + 2, None, 0
                    )
                    raw = reply.payload
                assert decode_message(raw) == Error(123_456_789, "rate_limited", "slow down")
            boot.driver.max_connections = 0  # every request now finds the node "busy"
            await trio.sleep(SOFT_FAILURE_BACKOFF_S + 1)  # the bucket refills, the back-off ends
            raw = await client.driver.rpc.mux.call(boot.identity.peer_id, request, timeout=2)
            assert decode_message(raw) == Error(123_456_789, "busy", "too many connections")
            before = client.driver.stats.soft_errors_out
            await client.driver.find_node(random.Random(2).randbytes(32))
            assert client.driver.stats.soft_errors_out > before
            assert client.node.table.find(boot.identity.pubkey) is not None

    run(main)


def test_soft_errors_with_rid_zero_from_older_servers_also_keep_the_contact() -> None:
    """Servers before this change answered ``Error(rid=0, "rate_limited")``: it counts as an error reply to
    the request it answers, not as a malformed reply (which would drop the node)."""

    async def old_server(peer: str, request: bytes) -> bytes:
        msg = decode_message(request)
        if isinstance(msg, Ping):
            return encode_message(Pong(msg.rid))
        return encode_message(Error(rid=0, code="rate_limited", detail="slow down"))

    async def main() -> None:
        async with network(2) as (_net, peers):
            old, client = peers
            old.driver.mux_server.stop()
            serve_rpc(old.transport, KAD_PROTOCOL, old_server)
            await client.driver.bootstrap([old.seed])
            await client.driver.find_node(random.Random(3).randbytes(32))
            assert client.driver.stats.soft_errors_out >= 1 and client.driver.stats.failures_out == 0
            assert client.node.table.find(old.identity.pubkey) is not None

    run(main)


def test_a_banned_peer_is_disconnected_and_its_requests_fail() -> None:
    """Past ``ban_strikes`` refusals a peer is banned: its next request gets no reply at all, it is
    disconnected, and its core (a real failure, no soft error) drops the node from its table."""

    async def main() -> None:
        limiter = RateLimiter(rate=0.001, burst=20.0, ban_strikes=3, ban_seconds=300)

        def kwargs(i: int) -> dict[str, Any]:
            return {"limiter": limiter} if i == 0 else {}

        async with network(2, driver_kwargs=kwargs) as (_net, peers):
            boot, client = peers
            await client.driver.bootstrap([boot.seed])
            peer_id = boot.identity.peer_id
            request = encode_message(FindNode(42, b"\x00" * 32, []))
            answered = 0
            with pytest.raises(P2PError):  # a greedy raw client: answered (then refused) until banned
                for _ in range(100):
                    await client.driver.rpc.mux.call(peer_id, request, timeout=2)
                    answered += 1
            assert limiter.is_banned(client.identity.peer_id, boot.driver.now())
            assert answered >= 3 and boot.driver.stats.requests_refused >= 3
            assert client.identity.peer_id not in boot.transport.connected_peers()
            with pytest.raises(P2PError):  # still banned: disconnected again, no reply
                await client.driver.rpc.mux.call(peer_id, request, timeout=2)
            await trio.sleep(SOFT_FAILURE_BACKOFF_S + 1)  # the core's back-off from the refusals ends
            await client.driver.find_node(boot.node.node_id)
            assert client.driver.stats.failures_out >= 1  # no reply once banned: a real failure
            assert client.node.table.find(boot.identity.pubkey) is None

    run(main)


def test_peers_gone_and_silent_fail_their_requests_and_leave_the_table() -> None:
    async def main() -> None:
        async with network(6) as (net, peers):
            await join(peers)
            asker = peers[5]
            gone, silent = peers[1], peers[2]
            net.set_down(gone.identity.peer_id)
            start = trio.current_time()
            assert isinstance(await asker.driver.find_node(gone.node.node_id), Closest)
            assert trio.current_time() - start < 0.5  # a peer that is gone fails at once
            assert asker.node.table.find(gone.identity.pubkey) is None
            silent.driver.mux_server.stop()
            silent.transport.set_handler(KAD_MUX_PROTOCOL, lambda s: trio.sleep_forever(), timeout=None)
            net.break_connection(asker.identity.peer_id, silent.identity.peer_id)  # a fresh stream is opened
            start = trio.current_time()
            assert isinstance(await asker.driver.find_node(silent.node.node_id), Closest)
            # the lookup stops waiting for it after an adaptive peer deadline (dht.rtt) ...
            assert trio.current_time() - start < CONFIG.rpc_timeout
            # ... and its request fails at the RPC timeout, which removes it from the table
            await trio.sleep_until(start + CONFIG.rpc_timeout + 0.5)
            assert asker.node.table.find(silent.identity.pubkey) is None
            assert (
                asker.driver.stats.failures_out >= 2
            )  # (the join's bucket refreshes may have asked them too)
            await publish_and_find(peers[0], peers[4])  # the rest of the network is still served

    run(main)


def test_a_stream_breaking_mid_lookup_fails_its_requests_then_reopens() -> None:
    async def main() -> None:
        async with network(6, net=MemoryNetwork(latency=0.05)) as (net, peers):
            await join(peers)
            asker, victim = peers[0], peers[3]
            opens = asker.transport.stats.opens_by_protocol.get(KAD_MUX_PROTOCOL, 0)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(asker.driver.find_node, victim.node.node_id)
                await trio.sleep(0.06)  # requests are in flight
                net.break_connection(asker.identity.peer_id, victim.identity.peer_id)
            stats = asker.driver.statistics()
            assert stats["rpc_mux_failed_in_flight"] >= 1
            await asker.driver.bootstrap([victim.seed])  # it is back in the table, over a new stream
            assert asker.node.table.find(victim.identity.pubkey) is not None
            assert asker.transport.stats.opens_by_protocol[KAD_MUX_PROTOCOL] > opens

    run(main)


def test_a_failed_stream_open_is_retried_and_the_request_succeeds() -> None:
    async def main() -> None:
        async with network(2) as (net, peers):
            boot, client = peers
            net.fail_opens(client.identity.peer_id, boot.identity.peer_id, 1)
            assert isinstance(await client.driver.bootstrap([boot.seed]), Closest)
            stats = client.driver.statistics()
            assert stats["failures_out"] == 0 and stats["rpc_retries"] == 1
            assert client.node.table.find(boot.identity.pubkey) is not None

    run(main)


@pytest.mark.parametrize("use_mux", [True, False])
def test_bad_requests_fail_alone_and_the_node_keeps_serving(use_mux: bool) -> None:
    async def main() -> None:
        async with network(2) as (_net, peers):
            server, client = peers
            request = b"\xff\x00garbage"
            if use_mux:
                with pytest.raises(MuxFailure, match="bad request"):
                    await client.driver.rpc.mux.call(server.identity.peer_id, request, timeout=2)
            else:
                with pytest.raises((P2PError, RemoteProtocolError)):  # the stream is reset
                    await client.driver.rpc._single(
                        server.identity.peer_id, request, trio.current_time() + 2, None, retries=0
                    )
            assert server.driver.stats.requests_bad == 1
            assert isinstance(await client.driver.bootstrap([server.seed]), Closest)

    run(main)


def test_the_timer_loop_runs_the_cores_periodic_jobs_while_rpcs_flow() -> None:
    """Bucket refresh and republish fire at their times (the timer loop sleeps until the core's next timer
    and is woken only when that timer moves earlier, not per RPC)."""

    async def main() -> None:
        config = DhtConfig(
            k=4, rpc_timeout=2.0, lookup_timeout=10.0, refresh_interval=100.0, republish_interval=50.0
        )
        async with network(5, config=config) as (_net, peers):
            await join(peers)
            author = peers[1]
            intent = make_intent(author.identity, author.driver.now())
            assert isinstance(await author.driver.publish(sealed(author.identity, intent)), Published)
            sent = [p.driver.stats.requests_out for p in peers]
            await trio.sleep(40)
            assert [p.driver.stats.requests_out for p in peers] == sent  # nothing is due yet
            await trio.sleep(20)  # the republish is due (50 s +- 10% jitter) ...
            assert author.driver.stats.requests_out > sent[1]
            await trio.sleep(60)  # ... and every node's bucket refresh (100 s +- 10% after the join)
            assert all(p.driver.stats.requests_out > s for p, s in zip(peers, sent, strict=True))

    run(main)


#: What a liar claims for itself or for another peer, and the part of it believable from a private address.
LIES = ["/ip4/127.0.0.1/tcp/1", "/ip4/0.0.0.0/tcp/2", "/ip4/10.9.9.9/tcp/3", "/ip4/8.8.8.8/tcp/4"]
BELIEVABLE = ["/ip4/10.9.9.9/tcp/3", "/ip4/8.8.8.8/tcp/4"]
LIAR, STRANGER = identity(7), identity(8)


async def _node_liar_and_stranger(stack: AsyncExitStack) -> tuple[Any, Any, Any]:
    """One driver node on a memory network, and the transports of a liar and of the stranger it lies about."""
    net = MemoryNetwork(latency=0.002)
    _net, peers = await stack.enter_async_context(network(1, net=net))
    liar = await stack.enter_async_context(net.open(LIAR.peer_id))
    stranger = await stack.enter_async_context(net.open(STRANGER.peer_id))
    return peers[0], liar, stranger


def test_claimed_addresses_are_kept_only_if_believable_from_here() -> None:
    """A peer's own addresses (in its requests) and the contacts it hands out (in Nodes replies) pass
    ``transport.believable_addrs``: from a node on a private address, loopback and unspecified claims are
    dropped (they would point us, and through us others, at our own machine)."""

    async def main() -> None:
        async with AsyncExitStack() as stack:
            node, transport, other = await _node_liar_and_stranger(stack)

            async def answer(peer_id: str, request: bytes) -> bytes:
                msg = decode_message(request)
                return encode_message(Nodes(msg.rid, [Contact(STRANGER.pubkey, LIES)]))

            async def nobody(peer_id: str, request: bytes) -> bytes:
                return encode_message(Nodes(decode_message(request).rid, []))

            serve_rpc(transport, KAD_PROTOCOL, answer)
            serve_rpc(other, KAD_PROTOCOL, nobody)
            ask = FindNode(1, bytes(32), addrs=LIES)
            decode_message(await rpc(transport, node.identity.peer_id, KAD_PROTOCOL, encode_message(ask)))
            contact = node.node.table.find(LIAR.pubkey)
            assert contact is not None and contact.addrs == BELIEVABLE
            found = await node.driver.find_node(STRANGER.pubkey)
            assert isinstance(found, Closest)
            told = [c for c in found.peers if c.pubkey == STRANGER.pubkey]
            assert told and told[0].addrs == BELIEVABLE, found.peers  # learnt from the liar's reply

    run(main)


def test_contacts_listed_in_get_replies_are_filtered_like_find_node_ones() -> None:
    """The closer peers a GET_RECORDS reply lists pass ``transport.believable_addrs`` too (they feed the
    lookup exactly as a Nodes reply's do)."""

    async def main() -> None:
        async with AsyncExitStack() as stack:
            node, transport, other = await _node_liar_and_stranger(stack)

            async def answer(peer_id: str, request: bytes) -> bytes:
                msg = decode_message(request)
                if isinstance(msg, GetRecords):
                    return encode_message(Records(msg.rid, [], None, [Contact(STRANGER.pubkey, LIES)]))
                return encode_message(Nodes(msg.rid, []))

            async def nobody(peer_id: str, request: bytes) -> bytes:
                msg = decode_message(request)
                return encode_message(Records(msg.rid) if isinstance(msg, GetRecords) else Nodes(msg.rid, []))

            serve_rpc(transport, KAD_PROTOCOL, answer)
            serve_rpc(other, KAD_PROTOCOL, nobody)
            ask = FindNode(1, bytes(32), addrs=["/ip4/10.1.1.1/tcp/9"])  # the liar enters the node's table
            decode_message(await rpc(transport, node.identity.peer_id, KAD_PROTOCOL, encode_message(ask)))
            found = await node.driver.get_records(STRANGER.pubkey)
            assert isinstance(found, NotFound)
            told = [c for c in found.closest if c.pubkey == STRANGER.pubkey]
            assert told and told[0].addrs == BELIEVABLE, found.closest  # learnt from the liar's reply

    run(main)
