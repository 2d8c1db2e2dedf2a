"""Personas behind a NAT: each persona host holds a relay slot of its own, following the agent's verdict.

Real hosts on loopback (a relay, the agent's host, its persona hosts, a counterpart). On loopback
everybody is reachable, so the agent's AutoNAT verdict is set by hand (``PRIVATE``: what it says behind
a NAT, tested in ``tests/test_p2p_relay.py`` and ``tests/test_nat_netns.py``); everything else is the
real thing: the persona reserves on the relay the agent holds a slot on, advertises that relay address
first, is reached through it, and gives its slot back when its intent's host stops; the shared cap
(``RelayBudget``) leaves a persona beyond it without a slot, saying so, until one is given back.
A private intent whose persona gets a relay address after it was published is re-signed with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import trio

from metaspace.peer.personas import RELAY_WAIT_S, Personas
from p2p.framing import rpc, serve_rpc
from p2p.host import P2PHost, open_host
from p2p.nat import PRIVATE, PUBLIC, NatService, RelayBudget
from p2p.relay import RelayService
from p2p.relay_client import connection_kind, reserve
from tests.agent_helpers import agents, sell_tires
from wire.envelope import open_intent
from wire.identity import Identity

ECHO = "/metaspace-test/echo/1.0.0"
DEADLINE = 60.0
LOOPBACK = "/ip4/127.0.0.1/tcp/0"


async def _echo(peer_id: str, request: bytes) -> bytes:
    return peer_id.encode() + b"|" + request


async def _until(cond: object, what: str, timeout: float = 20.0) -> None:
    assert callable(cond)
    with trio.fail_after(timeout):
        while not cond():
            await trio.sleep(0.05)


def test_personas_hold_relay_slots_within_the_cap_and_give_them_back() -> None:
    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with (
                open_host(Identity(os.urandom(32))) as r1,
                open_host(Identity(os.urandom(32))) as r2,
                open_host(Identity(os.urandom(32))) as agent_host,
                open_host(Identity(os.urandom(32))) as other,
                trio.open_nursery() as nursery,
            ):
                for relay_host in (r1, r2):
                    RelayService(relay_host).start()
                relays = [f"{r.addrs()[0]}" for r in (r1, r2)]
                # The agent: behind a NAT, holding its slot on R2 (the second candidate).
                leader = NatService(agent_host, [], relays=relays)
                leader.reachability = PRIVATE
                leader.reservations[r2.peer_id] = await reserve(
                    agent_host, r2.peer_id, [r2.listen_addrs()[0]]
                )
                budget = RelayBudget(1)
                personas = Personas(Identity(os.urandom(32)), [LOOPBACK])
                personas.reach = lambda h: NatService(h, [], leader=leader, max_relays=1, budget=budget)
                personas.serve = lambda host, intent_id: serve_rpc(host, ECHO, _echo)
                await nursery.start(personas.run)
                other_nat = NatService(other, [])  # dials relay addresses (the counterpart)
                await nursery.start(other_nat.run)

                first_id, second_id = os.urandom(16), os.urandom(16)
                with trio.fail_after(RELAY_WAIT_S + 5):
                    first = await personas.ensure(first_id)
                # Started with its slot: on the relay the agent holds one on, advertised first.
                contact = first.listen_addrs()
                assert contact[0].startswith(f"{r2.listen_addrs()[0]}/p2p/{r2.peer_id}/p2p-circuit"), contact
                assert budget.used == 1
                (net,) = personas.network()
                assert net["peer_id"] == first.peer_id and net["reachability"] == PRIVATE
                assert net["relay_addrs"] and net["relay_addrs"][0].startswith(contact[0])
                # A counterpart reaches it through that address (its only one here).
                reply = await rpc(other, first.peer_id, ECHO, b"hi", timeout=20, addrs=contact[:1])
                assert reply == other.peer_id.encode() + b"|hi"
                assert connection_kind(other, first.peer_id) in ("relayed", "direct")

                # Beyond the cap: the second persona starts at once, without a slot, and says why.
                second = await personas.ensure(second_id)
                assert not any("/p2p-circuit" in a for a in second.listen_addrs())
                states = [r["state"] for n in personas.network() if n["peer_id"] == second.peer_id
                          for r in n["relays"]]  # fmt: skip
                assert "no slot" in states, personas.network()

                # The first intent ends: its slot is given back, and the second persona takes it.
                assert personas.stop(first_id)
                await _until(lambda: any("/p2p-circuit" in a for a in second.listen_addrs()), "second slot")
                assert budget.used == 1 and [n["peer_id"] for n in personas.network()] == [second.peer_id]

                # The agent turns out to be reachable: the persona gives its slot back too.
                leader.reachability = PUBLIC
                await _until(lambda: budget.used == 0, "slot given back")
                assert not any("/p2p-circuit" in a for a in second.listen_addrs())
                nursery.cancel_scope.cancel()

    trio.run(main)


def test_a_persona_does_not_wait_for_a_slot_when_none_is_needed() -> None:
    """No verdict to wait for (no bootstrap node) or a reachable agent: a persona starts at once."""

    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with open_host(Identity(os.urandom(32))) as agent_host, trio.open_nursery() as nursery:
                leader = NatService(agent_host, [])
                personas = Personas(Identity(os.urandom(32)), [LOOPBACK])
                personas.reach = lambda h: NatService(h, [], leader=leader, max_relays=1)
                await nursery.start(personas.run)
                for state in ("unknown", PUBLIC):
                    leader.reachability = state
                    started = trio.current_time()
                    host: P2PHost = await personas.ensure(os.urandom(16))
                    assert trio.current_time() - started < RELAY_WAIT_S / 2
                    assert not any("/p2p-circuit" in a for a in host.listen_addrs())
                nursery.cancel_scope.cancel()

    trio.run(main)


def test_a_private_intent_is_republished_when_its_persona_gets_a_relay_address(tmp_path: Path) -> None:
    """A slot that comes after the intent was published (the agent's verdict came late, or the slot
    moved to another relay): the intent is re-signed by its persona with the relay address first in
    its contact (next seq) and published again; nothing changes while the contact is current. (The
    persona's memory host gets its relay address by hand here: what the NatService hook adds.)"""

    async def main() -> None:
        async with agents(tmp_path, 1, configs={0: {"share": "nothing"}}) as peers:
            a = peers[0].agent
            view = await a.publish(sell_tires())
            intent_id = bytes.fromhex(view["id"])
            assert await a.refresh_contacts() == 0, "no relay address: nothing to move"
            host = a.personas.host(intent_id) if a.personas is not None else None
            assert host is not None
            base = host.listen_addrs()
            circuit = f"/ip4/203.0.113.1/tcp/4001/p2p/{Identity(os.urandom(32)).peer_id}/p2p-circuit"
            host.listen_addrs = lambda: [circuit, *base]  # type: ignore[method-assign]
            before = open_intent(a.db.intent_record(view["id"]) or b"")[1]
            assert await a.refresh_contacts() == 1
            after = open_intent(a.db.intent_record(view["id"]) or b"")[1]  # verified: signed by the persona
            assert after.contact == [circuit, *base] and after.seq == before.seq + 1
            assert after.author == before.author != a.identity.pubkey
            assert await a.refresh_contacts() == 0, "current: not published again"

    trio.run(main)
