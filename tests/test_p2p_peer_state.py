"""What a host keeps about a peer once it left: bounded and given back (issue 9's long soak).

* The peerstore (``p2p.peerstore.BoundedPeerStore``): py-libp2p's own evicts our key pair first once it
  holds 1,000 peers, and identify then takes the host down; ours never evicts our key nor a connected
  peer, keeps at most ``max_idle`` others for at most ``idle_ttl``, and bounds each entry.
* The handlers we did not write (identify, ping) can't take the host down (``p2p.streams``).
* The auto-connector's disconnect log, the rate limiter's buckets: nothing grows per distinct peer.

In-process, with explicit clocks where time matters; real hosts on loopback where the library is involved.
"""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from typing import Any

import trio
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.custom_types import TProtocol
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.identity.update import update_peerstore_from_identify
from libp2p.peer.id import ID
from libp2p.peer.peerstore import PeerStore
from multiaddr import Multiaddr

from p2p.host import P2PError, open_host
from p2p.peerstore import MAX_PEER_ADDRS, MAX_PEER_PROTOCOLS, BoundedPeerStore
from p2p.ratelimit import SWEEP_INTERVAL, RateLimiter
from tests.test_p2p_connmgr import _identify
from wire.identity import Identity


def _peer() -> ID:
    return ID.from_pubkey(create_new_key_pair(os.urandom(32)).public_key)


def _listening(port: int) -> Identify:
    """What a listening peer says in identify: a listen address and a protocol."""
    return Identify(
        listen_addrs=[Multiaddr(f"/ip4/127.0.0.1/tcp/{port}").to_bytes()], protocols=["/ipfs/id/1.0.0"]
    )


def _meet(store: PeerStore, peers: list[ID], first_port: int) -> None:
    """Identify ``peers`` (each listening on its own port) into ``store``, as the host does on connect."""

    async def run() -> None:
        for n, peer in enumerate(peers):
            await update_peerstore_from_identify(store, peer, _listening(first_port + n))

    trio.run(run)


def test_the_library_peerstore_evicts_our_own_key_past_1000_peers_and_ours_never_does() -> None:
    for store_class in (PeerStore, BoundedPeerStore):
        keys = create_new_key_pair(os.urandom(32))
        local = ID.from_pubkey(keys.public_key)
        store = PeerStore() if store_class is PeerStore else BoundedPeerStore(local)
        store.add_key_pair(local, keys)
        _meet(store, [_peer() for _ in range(1100)], 1000)
        if store_class is PeerStore:
            assert not store.has_peer(local)  # the failure fenced here: identify needs our key
            continue
        assert isinstance(store, BoundedPeerStore)
        assert store.pubkey(local) and store.privkey(local)
        store.prune()
        assert len(store.peer_ids()) == 1001 and store.statistics().idle == 1000


def test_idle_entries_are_capped_and_expire_but_connected_ones_stay() -> None:
    now = [0.0]
    store = BoundedPeerStore(_peer(), max_idle=3, idle_ttl=100.0, clock=lambda: now[0])
    connected = {_peer(), _peer()}
    store.attach(lambda p: p in connected)
    peers = [_peer() for _ in range(6)]
    for i, peer in enumerate([*connected, *peers]):
        _meet(store, [peer], 2000 + i)
        store.prune()
        now[0] += 1.0
    assert set(store.peer_ids()) == {*connected, *peers[3:]}  # the longest idle went first
    assert store.statistics().evicted_full == 3
    left = set(connected)
    connected.clear()  # both leave: now the newest idle entries
    store.prune()
    assert set(store.peer_ids()) == {*left, peers[5]}
    now[0] += 100.0
    store.prune()
    assert store.peer_ids() == [] and store.statistics().evicted_expired == 3


def test_one_peer_cannot_make_its_entry_big() -> None:
    store = BoundedPeerStore(_peer())
    peer = _peer()
    msg = Identify(
        listen_addrs=[Multiaddr(f"/ip4/10.0.0.1/tcp/{p}").to_bytes() for p in range(1, 1001)],
        protocols=[f"/junk/{i}" for i in range(10_000)] + ["/x" * 200],
    )
    trio.run(update_peerstore_from_identify, store, peer, msg)
    assert len(store.addrs(peer)) == MAX_PEER_ADDRS
    assert str(store.addrs(peer)[-1]) == "/ip4/10.0.0.1/tcp/1000"  # the newest kept
    assert len(store.get_protocols(peer)) == MAX_PEER_PROTOCOLS
    store.add_protocols(peer, ["/junk/1", "/new/1"])  # no duplicates, still capped
    assert len(store.get_protocols(peer)) == MAX_PEER_PROTOCOLS and "/new/1" not in store.get_protocols(peer)


def test_a_host_that_met_1100_listening_peers_still_identifies_and_forgets_them() -> None:
    """Fails on the library's peerstore: our key is evicted and the identify request below raises
    ``PeerStoreError`` inside libp2p's handler."""

    async def main() -> None:
        async with AsyncExitStack() as stack:
            server = await stack.enter_async_context(open_host(Identity(os.urandom(32))))
            store = server.libp2p_host.get_peerstore()
            for n in range(1100):
                await update_peerstore_from_identify(store, _peer(), _listening(3000 + n))
            client = await stack.enter_async_context(open_host(Identity(os.urandom(32))))
            with trio.fail_after(20):
                doc = await _identify(client, server, server.addrs()[0])
                assert doc.public_key and server.libp2p_host.get_public_key()
                while (
                    len(store.peer_ids()) > 1000 + 2
                ):  # the host's sweep (every second): idle cap + us + client
                    await trio.sleep(0.05)

    trio.run(main)


def test_handlers_we_did_not_write_cannot_take_the_host_down() -> None:
    """A library handler that raises (as identify did without our key) ends its stream, not the host."""

    async def boom(stream: Any) -> None:
        raise KeyError("peer ID not found")

    async def main() -> None:
        async with AsyncExitStack() as stack:
            server = await stack.enter_async_context(open_host(Identity(os.urandom(32))))
            server.libp2p_host.set_stream_handler(TProtocol("/boom/1.0.0"), boom)  # unguarded, on purpose
            client = await stack.enter_async_context(open_host(Identity(os.urandom(32))))
            await client.connect(server.addrs()[0])
            with trio.fail_after(20):
                while server.statistics().handler_errors < 3:
                    try:  # the server resets the stream: the client may see that while negotiating
                        stream = await client.open_stream(server.peer_id, "/boom/1.0.0")
                        await stream.close()
                    except P2PError:
                        pass
                    await trio.sleep(0.05)
                doc = await _identify(client, server, server.addrs()[0])  # still serving
            assert doc.public_key

    trio.run(main)


def test_peers_that_left_leave_nothing_behind() -> None:
    """Six peers connect, identify, leave: the auto-connector logs nothing, the peerstore keeps its cap."""

    async def main() -> None:
        async with open_host(Identity(os.urandom(32))) as server:
            server.peerstore.max_idle = 2
            for _ in range(6):
                async with open_host(Identity(os.urandom(32))) as client:
                    await _identify(client, server, server.addrs()[0])
                    with trio.fail_after(10):
                        while len(server.peerstore.peer_ids()) < 2:  # the server's identify of the client
                            await trio.sleep(0.01)
            with trio.fail_after(10):
                while server.connected_peers():
                    await trio.sleep(0.01)
            server.peerstore.prune()
            swarm: Any = server.libp2p_host.get_network()
            assert swarm.auto_connector._recent_disconnects == {}
            assert swarm.auto_connector._failure_counts == {}
            assert len(server.peerstore.peer_ids()) == 1 + 2  # us + the two most recent

    trio.run(main)


def test_the_rate_limiter_forgets_buckets_that_refilled() -> None:
    limiter = RateLimiter(rate=10.0, burst=20.0, ban_strikes=3, ban_seconds=60.0)
    for n in range(1000):
        assert limiter.allow(f"fresh-{n}", now=n * 0.01)
    for _ in range(25):  # one peer goes over its rate: strikes, then a ban
        limiter.allow("greedy", now=10.0)
    assert limiter.is_banned("greedy", 10.0)
    limiter.allow("late", now=10.0 + SWEEP_INTERVAL)  # sweeps: every bucket but late's refilled long ago
    assert limiter.statistics()["tracked"] == 1 and limiter.statistics()["banned_now"] == 1
    assert limiter.is_banned("greedy", 10.0 + SWEEP_INTERVAL)  # the ban itself is kept
    limiter.allow("later", now=80.0)  # the ban ran out, the strikes went stale
    assert limiter.statistics() == {
        "tracked": 1,
        "refused": limiter.refused,
        "banned_total": 1,
        "banned_now": 0,
    }
