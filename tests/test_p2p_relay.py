"""Circuit relay v2, AutoNAT and DCUtR between real hosts in one process (loopback sockets).

On loopback every peer is reachable, so these tests pin the protocol mechanics and the limits; the NAT
behaviour itself (what a relay and hole punching are for) is tested in network namespaces
(``tests/test_nat_netns.py``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from p2p.autonat import AutoNatServer, dialback_addrs, probe
from p2p.framing import rpc, serve_rpc
from p2p.host import P2PHost, open_host
from p2p.nat import PRIVATE, PUBLIC, UNKNOWN, decide
from p2p.relay import RelayLimits, RelayService
from p2p.relay_client import (
    RelayRefused,
    StopServer,
    connection_kind,
    dial_via_relay,
    parse_circuit,
    reserve,
)
from wire.identity import Identity

ECHO = "/metaspace-test/echo/1.0.0"
DEADLINE = 60.0


async def _echo(peer_id: str, request: bytes) -> bytes:
    return peer_id.encode() + b"|" + request


@asynccontextmanager
async def _three(
    limits: RelayLimits | None = None,
) -> AsyncIterator[tuple[P2PHost, RelayService, P2PHost, P2PHost]]:
    """A relay R and two hosts A, B (A accepts relayed connections from R)."""
    async with (
        open_host(Identity(os.urandom(32))) as r,
        open_host(Identity(os.urandom(32))) as a,
        open_host(Identity(os.urandom(32))) as b,
    ):
        relay = RelayService(r, limits or RelayLimits())
        relay.start()
        StopServer(a, allowed=lambda peer: peer == r.peer_id).start()
        serve_rpc(a, ECHO, _echo)
        yield r, relay, a, b


def test_reserve_then_dial_through_the_relay() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with _three() as (r, relay, a, b):
                rsvp = await reserve(a, r.peer_id, r.listen_addrs())
                assert rsvp.relay == r.peer_id and rsvp.relay_addrs == r.listen_addrs()
                assert rsvp.data == RelayLimits().circuit_bytes
                assert relay.has_reservation(a.peer_id)
                circuit = rsvp.circuit_addrs()[0] + f"/p2p/{a.peer_id}"
                assert parse_circuit(circuit) == (r.peer_id, r.listen_addrs()[0], a.peer_id)
                await dial_via_relay(b, a.peer_id, circuit)
                assert connection_kind(b, a.peer_id) == "relayed"
                reply = await rpc(b, a.peer_id, ECHO, b"hello", timeout=10)
                assert reply == f"{b.peer_id}|hello".encode(), "Noise through the relay authenticates B"
                stats = relay.statistics()
                assert stats.circuits == 1 and stats.bytes_relayed > 0
                assert stats.reservations_by_outcome == {"accepted": 1}
                await b.disconnect(a.peer_id)
                with trio.fail_after(10):
                    while relay.statistics().circuits:
                        await trio.sleep(0.05)
                assert relay.statistics().circuits_by_outcome.get("closed") == 1

    trio.run(main)


def test_relay_refuses_a_peer_without_reservation_and_over_its_limits() -> None:
    async def main() -> None:
        limits = RelayLimits(max_reservations=1, circuit_bytes=20_000)
        with trio.fail_after(DEADLINE):
            async with _three(limits) as (r, relay, a, b):
                circuit = f"{r.listen_addrs()[0]}/p2p/{r.peer_id}/p2p-circuit/p2p/{a.peer_id}"
                with pytest.raises(RelayRefused) as refused:
                    await dial_via_relay(b, a.peer_id, circuit)
                assert refused.value.status == "no_reservation"
                assert "no reservation" in str(refused.value)
                await reserve(a, r.peer_id, r.listen_addrs())
                with pytest.raises(RelayRefused) as full:
                    await reserve(b, r.peer_id, r.listen_addrs())
                assert full.value.status == "resource_limit_exceeded"
                # The data limit ends the circuit with a reset: B's RPCs fail, nothing hangs.
                await dial_via_relay(b, a.peer_id, circuit)
                with pytest.raises(Exception):  # noqa: B017 - P2PError or RemoteProtocolError
                    for _ in range(100):
                        await rpc(b, a.peer_id, ECHO, b"x" * 2000, timeout=10)
                with trio.fail_after(10):
                    while relay.statistics().circuits:
                        await trio.sleep(0.05)
                assert relay.statistics().circuits_by_outcome.get("data_limit") == 1

    trio.run(main)


def test_a_reservation_ends_with_the_connection() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with _three() as (r, relay, a, _b):
                await reserve(a, r.peer_id, r.listen_addrs())
                assert relay.has_reservation(a.peer_id)
                await a.disconnect(r.peer_id)
                with trio.fail_after(10):
                    while relay.has_reservation(a.peer_id):
                        await trio.sleep(0.05)

    trio.run(main)


def test_autonat_dials_back_on_a_fresh_connection() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with (
                open_host(Identity(os.urandom(32))) as server,
                open_host(Identity(os.urandom(32))) as c,
            ):
                AutoNatServer(server).start()
                await c.connect(server.addrs()[0])
                verdict = await probe(c, server.peer_id, c.bound_addrs(), timeout=20)
                assert verdict.reachable is True, verdict
                assert verdict.addr == c.listen_addrs()[0]
                # A port nobody listens on: the server's fresh dial fails (the existing connection
                # between us must not count, the bug of py-libp2p's AutoNATService).
                with trio.socket.socket() as sock:
                    await sock.bind(("127.0.0.1", 0))
                    closed_port = sock.getsockname()[1]
                await trio.sleep(5.1)  # one request per peer per PEER_MIN_INTERVAL
                verdict = await probe(c, server.peer_id, [f"/ip4/127.0.0.1/tcp/{closed_port}"], timeout=20)
                assert verdict.reachable is False, verdict
                # Asking again at once is refused (rate limit): no verdict.
                again = await probe(c, server.peer_id, c.bound_addrs(), timeout=20)
                assert again.reachable is None and "dial_refused" in again.detail

    trio.run(main)


def test_dialback_addresses_only_use_the_observed_ip() -> None:
    import multiaddr

    texts = ("/ip4/10.0.0.5/tcp/4001", "/ip4/8.8.8.8/tcp/4002", "/ip4/10.0.0.5/tcp/4001", "/dns4/x.org/tcp/5")
    claimed = [multiaddr.Multiaddr(a).to_bytes() for a in texts]
    out = [str(a) for a in dialback_addrs(claimed, "203.0.113.7")]
    assert out == ["/ip4/203.0.113.7/tcp/4001", "/ip4/203.0.113.7/tcp/4002", "/ip4/203.0.113.7/tcp/5"]
    assert dialback_addrs(claimed, None) == []
    assert dialback_addrs([b"\xff\x00garbage"], "1.2.3.4") == []


def test_reachability_decision() -> None:
    from p2p.autonat import Verdict

    assert decide([])[0] == UNKNOWN
    assert decide([Verdict("a", True, "/ip4/1.2.3.4/tcp/1")])[0] == PUBLIC
    assert decide([Verdict("a", False), Verdict("b", None, detail="x")])[0] == PRIVATE
    state, reason = decide([Verdict("a", None, detail="no answer: protocol not supported")])
    assert state == UNKNOWN and "protocol not supported" in reason


def test_nat_service_survives_a_relay_that_disappears_and_ignores_a_relay_without_slot() -> None:
    """An unreachable agent holds slots on two relays and advertises both. One relay goes away: its
    slot is dropped and the agent stays reachable through the other. A peer that advertises a relay it
    has no slot on is refused there with that reason, and the next address is tried."""
    from p2p.nat import NatService

    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with (
                open_host(Identity(os.urandom(32))) as r2,
                open_host(Identity(os.urandom(32))) as r3,
                open_host(Identity(os.urandom(32))) as a,
                open_host(Identity(os.urandom(32))) as b,
                trio.open_nursery() as nursery,
            ):
                for relay_host in (r2, r3):
                    RelayService(relay_host).start()
                r1_ready, r1_stop = trio.Event(), trio.Event()
                r1_box: list[P2PHost] = []

                async def run_r1() -> None:
                    async with open_host(Identity(os.urandom(32))) as r1:
                        RelayService(r1).start()
                        r1_box.append(r1)
                        r1_ready.set()
                        await r1_stop.wait()

                nursery.start_soon(run_r1)
                await r1_ready.wait()
                r1 = r1_box[0]
                nat_a = NatService(a, [], relays=[r1.addrs()[0], r2.addrs()[0]])
                nat_a.reachability = PRIVATE  # what AutoNAT would say behind a NAT (decided in its own test)
                nat_b = NatService(b, [])
                await nursery.start(nat_a.run)
                await nursery.start(nat_b.run)
                serve_rpc(a, ECHO, _echo)
                with trio.fail_after(20):
                    while len(nat_a.reservations) < 2:
                        await trio.sleep(0.05)
                advertised = a.listen_addrs()
                assert advertised[:2] == nat_a.relay_addrs() and all(
                    "/p2p-circuit" in x for x in advertised[:2]
                )
                r1_circuit = next(x for x in advertised if r1.peer_id in x)

                # A relay that never gave A a slot: refused with the reason, then the next address works.
                no_slot = f"{r3.listen_addrs()[0]}/p2p/{r3.peer_id}/p2p-circuit"
                with pytest.raises(RelayRefused, match="no reservation"):
                    await dial_via_relay(b, a.peer_id, no_slot + f"/p2p/{a.peer_id}")
                reply = await rpc(b, a.peer_id, ECHO, b"1", timeout=20, addrs=[no_slot, r1_circuit])
                assert reply.endswith(b"|1") and connection_kind(b, a.peer_id) in ("relayed", "direct")

                # R1 disappears: A drops that slot, advertises R2 only; B reaches A through R2.
                await b.disconnect(a.peer_id)
                r1_stop.set()
                with trio.fail_after(20):
                    while r1.peer_id in nat_a.reservations:
                        await trio.sleep(0.05)
                assert all(r1.peer_id not in x for x in a.listen_addrs())
                reply = await rpc(b, a.peer_id, ECHO, b"2", timeout=20, addrs=a.listen_addrs()[:1])
                assert reply.endswith(b"|2")
                states = {r["relay"]: r["state"] for r in nat_a.status()["relays"]}
                assert states[r2.peer_id] == "reserved" and states[r1.peer_id] in ("idle", "unreachable")
                nursery.cancel_scope.cancel()

    trio.run(main)
