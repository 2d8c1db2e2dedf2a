"""Agents behind NATs find each other and close a deal: real processes in network namespaces.

The test builds (``tests/net_helpers/netns.py``) a "public" network holding a bootstrap node that
relays (``metaspace bootstrap --relay``) and three home networks, each behind its own nftables NAT:
home 1 and home 3 endpoint-independent, home 2 symmetric. A seller runs in home 1, one buyer in home 3
and one in home 2. Every agent must learn that it is not reachable (AutoNAT), reserve a relay slot,
advertise its relay address, find the other's intent, negotiate over the relayed connection and end
with the same co-signed agreement as the other side. The agents share nothing (the default), so each
intent is served by a persona host of its own: each persona must hold a relay slot too, and its
intent's contact and its status name its relay address first. The connection type between the
personas is checked: between the two endpoint-independent NATs hole punching may upgrade it to a direct
connection, through the symmetric NAT it must stay relayed and say why.

Skipped, with the reason, where namespaces can't be built (not root, no ``ip``/``nft``); in CI it runs.
Everything it started is stopped and every namespace deleted afterwards, also when it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from metaspace.api.control import ControlClient, ControlError
from negotiation import verify_agreement
from tests.net_helpers.netns import PUBLIC_HOST_IP, NsClient, TestBed, skip_reason
from tests.net_helpers.procs import Bootstrap, NetTestError, Peer, Procs, init_home, metaspace_cmd, poll_until

CHICAGO = (41.8781, -87.6298)
SUBURB = (41.6600, -87.7000)
STEP_TIMEOUT = 150.0
TIRE = {"category": "vehicles/tires", "radius_km": 50, "quantity": 4, "attributes": {"size": "225/65R17"}}
LISTEN = "/ip4/0.0.0.0/tcp/4001"

_REASON = skip_reason()
pytestmark = pytest.mark.skipif(
    _REASON is not None and os.environ.get("CI") != "true", reason=f"no network namespaces: {_REASON}"
)


@pytest.fixture()
def bed() -> Iterator[TestBed]:
    if _REASON is not None:  # in CI: fail, never skip
        pytest.fail(f"CI must run the NAT test bed: {_REASON}")
    with TestBed(["eim", "symmetric", "eim"]) as testbed:
        yield testbed


@pytest.fixture()
def procs(tmp_path: Path, bed: TestBed) -> Iterator[Procs]:
    group = Procs(tmp_path)
    try:
        yield group
    finally:
        group.close()


def _usd(minor: int) -> dict[str, Any]:
    return {"amount_minor": minor, "currency": "USD", "per_unit": True}


def start_relay(bed: TestBed, procs: Procs, data_dir: Path) -> Bootstrap:
    listen = f"/ip4/{PUBLIC_HOST_IP}/tcp/4001"
    argv = metaspace_cmd("bootstrap", "--listen", listen, "--data-dir", str(data_dir), "--relay")
    proc = procs.start("relay", bed.exec_argv(bed.public, argv))
    return Bootstrap(proc, data_dir, proc.first_line("/ip4/"))


def start_agent(bed: TestBed, procs: Procs, name: str, ns: str, home_dir: Path, boot: Bootstrap) -> Peer:
    argv = metaspace_cmd("--home", str(home_dir), "peer", "--listen", LISTEN, "--bootstrap", boot.addr,
                         "--watch-interval", "0.5", "--deal-timeout", "40")  # fmt: skip
    proc = procs.start(name, bed.exec_argv(ns, argv))
    line = proc.first_line("agent ")
    words = line.split()
    from metaspace.home import resolve_home

    home = resolve_home(home_dir)
    client = NsClient(bed, ns, ControlClient(home, timeout=60.0))

    def ready() -> bool:
        try:
            client.get("/api/v1/status")
            return True
        except ControlError:
            return False

    poll_until(ready, STEP_TIMEOUT, f"{name}'s control API")
    return Peer(0, home, proc, words[1], words[4].rstrip(";"), client)  # type: ignore[arg-type]


def network(peer: Peer) -> dict[str, Any]:
    doc: dict[str, Any] = peer.status()["network"]
    return doc


def wait_relayed_reachability(peer: Peer) -> dict[str, Any]:
    """The agent found out it is behind a NAT and holds a relay slot it advertises."""

    def ready() -> dict[str, Any] | None:
        net = network(peer)
        return net if net["reachability"] == "private" and net["relay_addrs"] else None

    try:
        return poll_until(ready, STEP_TIMEOUT, f"{peer.proc.name} to reserve a relay slot", interval=0.5)
    except NetTestError as exc:
        raise NetTestError(f"{exc}; status: {network(peer)}; log:\n{peer.proc.stderr_tail()}") from None


def personas(peer: Peer) -> dict[str, dict[str, Any]]:
    """The agent's persona hosts (one per private intent) by peer id, with their network status."""
    return {n["peer_id"]: n for n in peer.status()["persona_network"]}


def relay_prefix(boot: Bootstrap) -> str:
    return f"/ip4/{PUBLIC_HOST_IP}/tcp/4001/p2p/{boot.peer_id}/p2p-circuit"


def agreed(seller: Peer, buyer: Peer) -> dict[str, Any]:
    def buyer_done() -> dict[str, Any] | None:
        for d in buyer.client.get("/api/v1/deals")["deals"]:
            if d["state"] in ("agreed", "failed"):
                return d  # type: ignore[no-any-return]
        return None

    try:
        b = poll_until(buyer_done, STEP_TIMEOUT, f"{buyer.proc.name}'s deal", interval=0.5)
    except NetTestError as exc:
        raise NetTestError(
            f"{exc}\nbuyer network: {network(buyer)}\nseller network: {network(seller)}\n"
            f"buyer personas: {personas(buyer)}\nseller personas: {personas(seller)}\n"
            f"buyer log:\n{buyer.proc.stderr_tail()}\nseller log:\n{seller.proc.stderr_tail()}"
        ) from None
    assert b["state"] == "agreed", (b, network(buyer), buyer.proc.stderr_tail())

    def seller_done() -> dict[str, Any] | None:
        for d in seller.client.get("/api/v1/deals")["deals"]:
            if d["id"] == b["id"] and d["agreement"]:
                return d  # type: ignore[no-any-return]
        return None

    s = poll_until(seller_done, STEP_TIMEOUT, f"the seller's side of {buyer.proc.name}'s deal", interval=0.5)
    assert s["agreement"] == b["agreement"], "both sides hold byte-identical agreements"
    verify_agreement(
        bytes.fromhex(b["agreement"]),
        bytes.fromhex(b["signatures"]["buyer"]),
        bytes.fromhex(b["signatures"]["seller"]),
    )
    return b


def test_agents_behind_two_kinds_of_nat_close_deals_through_the_relay(
    bed: TestBed, procs: Procs, tmp_path: Path
) -> None:
    eim1, sym, eim3 = bed.homes
    boot = start_relay(bed, procs, tmp_path / "relay")
    seller_home = init_home(tmp_path / "seller", *CHICAGO, extra=["--spend-limit", "500USD"])
    buyer_homes = [
        init_home(tmp_path / f"buyer{i}", *SUBURB, extra=["--spend-limit", "500USD"]) for i in (1, 2)
    ]
    seller = start_agent(bed, procs, "seller", eim1.ns, seller_home.root, boot)
    near = start_agent(bed, procs, "buyer_eim", eim3.ns, buyer_homes[0].root, boot)
    far = start_agent(bed, procs, "buyer_sym", sym.ns, buyer_homes[1].root, boot)

    for peer, home in ((seller, eim1), (near, eim3), (far, sym)):
        net = wait_relayed_reachability(peer)
        assert net["relay_addrs"][0].startswith(
            f"/ip4/{PUBLIC_HOST_IP}/tcp/4001/p2p/{boot.peer_id}/p2p-circuit/"
        )
        assert net["observed_addr"] and net["observed_addr"].startswith(f"/ip4/{home.wan_ip}/tcp/"), net
        # What the agent advertises (identify, DHT contact, INTENT_MATCH): its relay address first.
        assert peer.status()["addrs"][0] == net["relay_addrs"][0]

    sell = {"text": "4 used tires 225/65R17, $80 each", "price": _usd(8000), "limit": _usd(5500)}
    buy = {"text": "necesito llantas 225/65R17", "limit": _usd(7000)}
    published = [seller.publish(action="SELL", lat=CHICAGO[0], lon=CHICAGO[1], **sell, **TIRE)]
    for buyer in (near, far):
        published.append(buyer.publish(action="BUY", lat=SUBURB[0], lon=SUBURB[1], **buy, **TIRE))
    # Each intent is served by its own persona host, which holds a relay slot of its own: the intent's
    # contact (what a counterpart dials) names the relay first.
    for view in published:
        assert view["contact"] and view["contact"][0].startswith(relay_prefix(boot)), view
    for peer in (seller, near, far):
        (persona,) = personas(peer).values()
        assert persona["peer_id"] != peer.peer_id and persona["reachability"] == "private", persona
        assert persona["addrs"][0].startswith(relay_prefix(boot)), persona

    for buyer in (near, far):
        agreed(seller, buyer)

    # The connection type between the personas is reported on both sides; through the symmetric NAT it
    # stays relayed, and the hole punch that was tried says why.
    seller_ids = set(personas(seller))
    kinds = {}
    for buyer in (near, far):
        found = [
            n["connections"][p] for n in personas(buyer).values() for p in seller_ids if p in n["connections"]
        ]
        assert found and found[0] in ("relayed", "direct"), personas(buyer)
        kinds[buyer.proc.name] = found[0]
    far_ids = set(personas(far))

    # Hole punches tried between the seller's persona and the one behind the symmetric NAT (either side
    # may have run it): none got through, and each says why.
    def sym_done() -> list[dict[str, Any]] | None:  # all rounds (MAX_ATTEMPTS) take ~25 s
        found = [p for n in personas(seller).values() for p in n["hole_punches"] if p["peer"] in far_ids]
        found += [p for n in personas(far).values() for p in n["hole_punches"] if p["peer"] in seller_ids]
        return found or None

    sym_punches = poll_until(sym_done, 90.0, "the hole punch through the symmetric NAT to end", interval=1.0)
    assert kinds["buyer_sym"] == "relayed", kinds
    assert sym_punches and all(p["outcome"] == "relayed" and p["reason"] for p in sym_punches), sym_punches
    punches = sym_punches
    print(f"connection types: {kinds}; hole punches through the symmetric NAT: {punches}")
