"""The connection manager's policy (admission, per-IP limits, trimming) and the address rules, in-process
with explicit ``now``; then real hosts in-process (trimming, what identify says). The real-process tests
are in ``test_net_connections.py``."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import multiaddr
import pytest
import trio
from libp2p.identity.identify.identify import parse_identify_response
from libp2p.network.stream.exceptions import StreamEOF

from p2p.addrs import (
    ADDR_VERDICT_CACHE,
    MAX_CACHED_ADDR_LEN,
    AddrPolicy,
    Scope,
    advertised_addrs,
    parse_announce,
    scope_of,
)
from p2p.connmgr import INBOUND, OUTBOUND, ConnLimits, ConnManager, ip_key
from p2p.errors import P2PError
from p2p.fences import AGENT_VERSION
from p2p.host import open_host
from wire.identity import Identity


class Events:
    def __init__(self) -> None:
        self.refused: list[str] = []
        self.opened: list[str] = []
        self.closed: list[tuple[str, str]] = []
        self.current: tuple[int, int, int] = (0, 0, 0)

    def conn_opened(self, direction: str) -> None:
        self.opened.append(direction)

    def conn_closed(self, direction: str, reason: str) -> None:
        self.closed.append((direction, reason))

    def conn_refused(self, reason: str) -> None:
        self.refused.append(reason)

    def conn_current(self, inbound: int, outbound: int, pending_inbound: int) -> None:
        self.current = (inbound, outbound, pending_inbound)


def test_admission_caps_inbound_and_per_ip_and_gives_slots_back() -> None:
    events = Events()
    cm: ConnManager[object] = ConnManager(ConnLimits(max_inbound=3, max_per_ip=2, per_ip_exempt=()), events)
    a1, a2 = cm.admit(("10.0.0.1", 1)), cm.admit(("10.0.0.1", 2))
    assert a1 is not None and a2 is not None
    assert cm.admit(("10.0.0.1", 3)) is None  # third from one IP
    b1 = cm.admit(("10.0.0.2", 1))
    assert b1 is not None
    assert cm.admit(("10.0.0.3", 1)) is None  # fourth in all
    assert events.refused == ["per_ip", "max_inbound"]
    assert events.current == (0, 0, 3)  # three handshaking
    a1.release()
    a1.release()  # idempotent: the slot comes back once
    assert cm.statistics().pending_inbound == 2
    assert cm.admit(("10.0.0.3", 1)) is not None
    assert cm.admit(("10.0.0.1", 4)) is None  # still full in all
    a2.failed("handshake_timeout")
    a2.release()
    assert cm.admit(("10.0.0.1", 5)) is not None
    stats = cm.statistics()
    assert stats.refused == {"per_ip": 1, "max_inbound": 2, "handshake_timeout": 1}
    cm.stopping = True
    assert cm.admit(("10.0.0.9", 1)) is None


def test_pending_counts_handshakes_only_whatever_the_order_of_the_notifications() -> None:
    """``metaspace_connections_pending`` once read -1: it was derived (admitted - established) while
    libp2p's notifications and our slot release arrive in either order. Now each ticket counts itself."""
    events = Events()
    cm: ConnManager[object] = ConnManager(ConnLimits(), events)
    seen: list[tuple[int, int, int]] = []
    for release_first in (True, False):
        t = cm.admit(("10.0.0.1", 1))
        assert t is not None and events.current == (0, 0, 1)
        cm.connected("c", "p", INBOUND, "10.0.0.1", now=0.0)  # libp2p's notification, inside the upgrade
        seen.append(events.current)
        t.established("c")
        seen.append(events.current)
        if release_first:  # our fence's finally may run before libp2p's disconnected notification
            t.release()
            seen.append(events.current)
            cm.disconnected("c")
        else:
            cm.disconnected("c")
            seen.append(events.current)
            t.release()
        seen.append(events.current)
    assert seen == [
        (1, 0, 1), (1, 0, 0), (1, 0, 0), (0, 0, 0),
        (1, 0, 1), (1, 0, 0), (0, 0, 0), (0, 0, 0),
    ]  # fmt: skip
    # One connection ends (slot released before libp2p's notification) while another is handshaking:
    # derived, pending read 0 there (admitted 1 - established 1); it is 1.
    a, b = cm.admit(("10.0.0.1", 2)), cm.admit(("10.0.0.1", 3))
    assert a is not None and b is not None
    cm.connected("a", "pa", INBOUND, "10.0.0.1", now=0.0)
    a.established("a")
    a.release()
    assert events.current == (1, 0, 1) and cm.statistics().pending_inbound == 1
    cm.disconnected("a")
    b.failed("handshake_failed")
    b.release()
    assert cm.statistics().pending_inbound == 0 and events.current == (0, 0, 0)


def test_loopback_is_exempt_from_the_per_ip_limit_by_default_but_not_from_max_inbound() -> None:
    cm: ConnManager[object] = ConnManager(ConnLimits(max_inbound=4, max_per_ip=1))
    assert all(cm.admit(("127.0.0.1", p)) is not None for p in range(3))
    assert cm.admit(("10.0.0.1", 1)) is not None
    assert cm.admit(("10.0.0.2", 1)) is None  # max_inbound still applies
    strict: ConnManager[object] = ConnManager(ConnLimits(max_per_ip=1, per_ip_exempt=("127.0.0.1/32",)))
    assert strict.admit(("127.0.0.1", 1)) is not None and strict.admit(("127.0.0.1", 2)) is not None
    assert strict.admit(("127.0.0.2", 1)) is not None and strict.admit(("127.0.0.2", 2)) is None
    with pytest.raises(ValueError):
        ConnLimits(per_ip_exempt=("not a network",))


def test_ipv6_addresses_share_a_64_and_mapped_ipv4_is_ipv4() -> None:
    assert ip_key("2001:db8:1:2::1") == ip_key("2001:db8:1:2:ffff::7") == "2001:db8:1:2::/64"
    assert ip_key("2001:db8:1:3::1") != ip_key("2001:db8:1:2::1")
    assert ip_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert ip_key(None) == "?"


def _manager(**limits: float) -> tuple[ConnManager[str], Events]:
    events = Events()
    params = {"low_water": 2, "high_water": 4, "grace_period": 10.0, "silence_period": 5.0, **limits}
    return ConnManager(ConnLimits(**params), events), events  # type: ignore[arg-type]


def test_trim_waits_for_the_high_watermark_and_the_grace_period() -> None:
    cm, _ = _manager()
    for i in range(5):
        cm.connected(f"c{i}", f"p{i}", INBOUND, "10.0.0.1", now=0.0)
    assert cm.plan_trim(now=5.0) == []  # above high water, but every peer is within its grace period
    victims = cm.plan_trim(now=20.0)
    assert len(victims) == 3  # down to the low watermark
    assert cm.plan_trim(now=21.0) == []  # silence period (nothing was disconnected yet anyway)
    for v in victims:
        cm.disconnected(v.conn, "trimmed")
    assert len(cm.connections()) == 2
    assert cm.plan_trim(now=40.0) == []  # at or below high water
    assert cm.statistics().trimmed == 3


def test_trim_spares_protected_peers_and_busy_ones_and_takes_idle_inbound_first() -> None:
    cm, _ = _manager()
    cm.connected("kad", "p-kad", INBOUND, "10.0.0.1", now=0.0)
    cm.connected("busy", "p-busy", INBOUND, "10.0.0.1", now=0.0)
    cm.connected("out", "p-out", OUTBOUND, "10.0.0.1", now=0.0)
    cm.connected("old", "p-old", INBOUND, "10.0.0.1", now=0.0)
    cm.connected("recent", "p-recent", INBOUND, "10.0.0.1", now=0.0)
    cm.connected("young", "p-young", INBOUND, "10.0.0.1", now=25.0)  # in its grace period
    cm.protect("p-kad", "kad")
    cm.stream_opened("busy", now=1.0)
    cm.stream_opened("recent", now=2.0)
    cm.stream_closed("recent", now=3.0)  # idle again, but active more recently than "old"
    victims = [v.conn for v in cm.plan_trim(now=30.0)]
    # eligible: busy, out, old, recent (4); trim 4 - low(2) = 2: idle inbound first, least recent first.
    assert victims == ["old", "recent"]
    assert "kad" not in victims and "young" not in victims


def test_connections_that_ended_unannounced_are_forgotten() -> None:
    cm, events = _manager()
    cm.connected("a", "pa", INBOUND, "10.0.0.1", now=0.0)
    cm.connected("b", "pb", OUTBOUND, "10.0.0.1", now=0.0)
    assert cm.reconcile(lambda conn: conn != "a") == 1
    assert [c.conn for c in cm.connections()] == ["b"] and events.current == (0, 1, 0)
    assert cm.reconcile(lambda conn: True) == 0


def test_protect_tags_and_protect_only() -> None:
    cm, _ = _manager()
    cm.protect("p1", "kad")
    cm.protect("p1", "deal")
    assert cm.unprotect("p1", "kad") is True  # still protected by "deal"
    assert cm.is_protected("p1") and cm.is_protected("p1", "deal") and not cm.is_protected("p1", "kad")
    assert cm.unprotect("p1", "deal") is False
    assert not cm.is_protected("p1")
    cm.protect_only("kad", ["a", "b"])
    cm.protect("b", "deal")
    cm.protect_only("kad", ["b", "c"])
    assert not cm.is_protected("a") and cm.is_protected("b", "kad") and cm.is_protected("b", "deal")
    assert cm.is_protected("c", "kad")


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        ConnLimits(low_water=10, high_water=10)
    with pytest.raises(ValueError):
        ConnLimits(max_per_ip=0)


def _m(text: str) -> multiaddr.Multiaddr:
    return multiaddr.Multiaddr(text)


def test_address_scopes() -> None:
    assert scope_of(_m("/ip4/0.0.0.0/tcp/1")) == Scope.UNUSABLE
    assert scope_of(_m("/ip6/::/tcp/1")) == Scope.UNUSABLE
    assert scope_of(_m("/ip4/169.254.1.1/tcp/1")) == Scope.UNUSABLE
    assert scope_of(_m("/ip4/224.0.0.1/tcp/1")) == Scope.UNUSABLE
    assert scope_of(_m("/ip4/127.0.0.5/tcp/1")) == Scope.LOOPBACK
    assert scope_of(_m("/ip6/::1/tcp/1")) == Scope.LOOPBACK
    assert scope_of(_m("/ip4/192.168.1.2/tcp/1")) == Scope.PRIVATE
    assert scope_of(_m("/ip4/100.64.0.1/tcp/1")) == Scope.PRIVATE
    assert scope_of(_m("/ip6/fd00::1/tcp/1")) == Scope.PRIVATE
    assert scope_of(_m("/ip4/8.8.8.8/tcp/1")) == Scope.PUBLIC
    assert scope_of(_m("/dns4/example.org/tcp/1")) == Scope.PUBLIC


def test_claimed_addresses_are_believed_only_from_where_we_stand() -> None:
    claims = ["/ip4/127.0.0.1/tcp/1", "/ip4/10.1.2.3/tcp/1", "/ip4/8.8.8.8/tcp/1", "/ip4/0.0.0.0/tcp/1",
              "/ip4/169.254.0.1/tcp/1", "not a multiaddr", "/ip4/8.8.8.8/tcp/1"]  # fmt: skip
    public = AddrPolicy([_m("/ip4/1.1.1.1/tcp/4001"), _m("/ip4/8.8.4.4/tcp/4001")])
    assert public.filter(claims) == ["/ip4/8.8.8.8/tcp/1"]
    private = AddrPolicy([_m("/ip4/192.168.1.5/tcp/4001")])
    assert private.filter(claims) == ["/ip4/10.1.2.3/tcp/1", "/ip4/8.8.8.8/tcp/1"]
    loopback = AddrPolicy([_m("/ip4/127.0.0.1/tcp/4001")])
    assert loopback.filter(claims) == ["/ip4/127.0.0.1/tcp/1", "/ip4/10.1.2.3/tcp/1", "/ip4/8.8.8.8/tcp/1"]
    assert public.filter(claims) == ["/ip4/8.8.8.8/tcp/1"]  # again, from the verdict cache


def test_the_address_verdict_cache_is_bounded() -> None:
    """A peer sending ever new addresses cannot grow the cache past ``ADDR_VERDICT_CACHE``; an address
    too long to be cached is still judged."""
    policy = AddrPolicy([_m("/ip4/1.1.1.1/tcp/4001")])
    claims = [f"/ip4/8.8.{i // 250}.{i % 250}/tcp/1" for i in range(ADDR_VERDICT_CACHE + 50)]
    assert policy.filter(claims) == claims
    assert len(policy._verdicts) == ADDR_VERDICT_CACHE
    assert policy.filter(claims[:3]) == claims[:3]
    long = "/dns4/" + ".".join(["a" * 62] * 4) + "/tcp/1"
    assert len(long) > MAX_CACHED_ADDR_LEN
    assert policy.filter([long]) == [long] and long not in policy._verdicts


def test_we_never_advertise_unspecified_addresses() -> None:
    expanded = advertised_addrs([_m("/ip4/0.0.0.0/tcp/4001")])
    assert expanded, "this machine has at least a loopback interface"
    assert all(scope_of(m) != Scope.UNUSABLE and str(m).endswith("/tcp/4001") for m in expanded)
    assert advertised_addrs([_m("/ip4/127.0.0.1/tcp/5")]) == [_m("/ip4/127.0.0.1/tcp/5")]
    peer = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"
    announce = parse_announce(["/ip4/203.0.113.7/tcp/4001", f"/dns4/boot.example.org/tcp/4001/p2p/{peer}"])
    assert advertised_addrs([_m("/ip4/0.0.0.0/tcp/4001")], announce) == announce
    assert str(announce[1]) == "/dns4/boot.example.org/tcp/4001"
    for bad in ("/ip4/0.0.0.0/tcp/4001", "/ip4/1.2.3.4", "nonsense", "/ip6/fe80::1/tcp/1"):
        with pytest.raises(P2PError):
            parse_announce([bad])


def test_a_host_trims_idle_connections_above_its_high_watermark_but_never_protected_ones() -> None:
    """Real hosts in-process: the swarm's notifications feed the manager, its trim task closes the
    connections it picks (above the high watermark, down to the low one), the peers see them closed, and a
    protected peer keeps its connection. As in go-libp2p, the low watermark counts the unprotected ones:
    4 connections, 1 protected, low 1 -> 2 trimmed, 2 left."""
    limits = ConnLimits(low_water=1, high_water=2, grace_period=0.0, silence_period=0.0)
    identities = [Identity(bytes([0x42 + i]) * 32) for i in range(4)]

    async def main() -> None:
        async with open_host(Identity(bytes([0x41]) * 32), limits=limits) as server:
            server.connmgr.protect(identities[0].peer_id, "kad")
            async with AsyncExitStack() as stack:
                for identity in identities:
                    client = await stack.enter_async_context(open_host(identity))
                    await client.connect(server.addrs()[0])
                with trio.fail_after(20):
                    while server.connection_statistics().trimmed < 2:
                        await server.trim()  # the host's own trim task runs too (every second)
                        await trio.sleep(0.05)
                    while server.connection_statistics().inbound > 2:
                        await trio.sleep(0.05)
                assert server.is_connected(identities[0].peer_id)
                assert sum(server.is_connected(i.peer_id) for i in identities[1:]) == 1
                await trio.sleep(1.5)  # at the high watermark, not above: nothing more is trimmed
                stats = server.connection_statistics()
                assert stats.trimmed == 2 and stats.closed == {"inbound": 2, "outbound": 0}

    trio.run(main)


async def _identify(client: Any, server: Any, addr: str) -> Any:
    """What ``server`` says about itself in identify (asked over a real connection)."""
    await client.connect(addr)
    stream = await client.open_stream(server.peer_id, "/ipfs/id/1.0.0")
    data = b""
    with trio.fail_after(10):
        try:
            while chunk := await stream.read(65536):
                data += chunk
        except StreamEOF:
            pass
    return parse_identify_response(data)


def test_identify_says_our_agent_version_and_never_an_unspecified_address() -> None:
    async def main() -> None:
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(open_host(Identity(bytes([0x31]) * 32)))
            anywhere = await stack.enter_async_context(
                open_host(Identity(bytes([0x32]) * 32), ["/ip4/0.0.0.0/tcp/0"])
            )
            announced = await stack.enter_async_context(
                open_host(Identity(bytes([0x33]) * 32), announce=["/ip4/198.51.100.7/tcp/4001"])
            )
            port = anywhere.bound_addrs()[0].rsplit("/", 1)[1]
            doc = await _identify(client, anywhere, f"/ip4/127.0.0.1/tcp/{port}/p2p/{anywhere.peer_id}")
            assert doc.agent_version == AGENT_VERSION
            said = [str(multiaddr.Multiaddr(b)) for b in doc.listen_addrs]
            assert said and all(scope_of(_m(a)) != Scope.UNUSABLE for a in said), said
            assert all(a.endswith(f"/tcp/{port}") for a in said) and said == anywhere.listen_addrs()
            doc = await _identify(client, announced, announced.bound_addrs()[0] + f"/p2p/{announced.peer_id}")
            assert [str(multiaddr.Multiaddr(b)) for b in doc.listen_addrs] == ["/ip4/198.51.100.7/tcp/4001"]
            assert announced.addrs() == [f"/ip4/198.51.100.7/tcp/4001/p2p/{announced.peer_id}"]

    trio.run(main)
