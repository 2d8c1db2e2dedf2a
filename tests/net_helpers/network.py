"""A whole test network in real OS processes: one bootstrap node and N agent peers on 127.0.0.1, with the
50 planned intents published (see :mod:`tests.net_helpers.layout`). Built once per test module.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.net_helpers.layout import Cluster, Planned, plan
from tests.net_helpers.procs import (
    Bootstrap,
    Peer,
    Procs,
    init_home,
    start_bootstrap,
    start_peer,
    wait_joined,
    wait_peer,
)
from wire.identity import pubkey_from_text

#: A small k so that replicas are a minority of the 9 nodes (killing peers really removes replicas),
#: and a short republish interval so that a republish happens within a test. Passed to every process
#: through the (undocumented) ``METASPACE_DHT_OVERRIDES`` test hook of ``p2p.dht_driver``.
K = 4
REPUBLISH_S = 20.0
#: (A republish every few seconds of all 50 intents keeps 2 cores saturated: RPCs then time out, contacts
#: are dropped and lookups find nothing; 20 s is affordable.)
DHT_OVERRIDES = {
    "k": K,
    "republish_interval": REPUBLISH_S,
    "replicate_interval": 3600.0,
}
# Experiments: replace the overrides wholesale from the environment.
if os.environ.get("METASPACE_NET_TEST_OVERRIDES"):
    DHT_OVERRIDES = json.loads(os.environ["METASPACE_NET_TEST_OVERRIDES"])
#: The intents' own radius: 0, so that each agent's watcher (which polls every key cell within it, after
#: every publish) asks one key cell per intent; searches use their own radius.
INTENT_RADIUS_KM = 0
#: Peers publishing at the same time (each publishes its own intents one after the other).
PUBLISHERS = 2


@dataclass
class Network:
    procs: Procs
    bootstrap: Bootstrap
    peers: list[Peer]
    clusters: list[Cluster]
    #: planned intent index -> its intent id (hex) once published
    ids: dict[int, str] = field(default_factory=dict)
    #: planned intent index -> replicas reported by the publish
    replicas: dict[int, int] = field(default_factory=dict)

    def planned(self) -> list[Planned]:
        return [p for c in self.clusters for p in c.intents]

    def live_peers(self) -> list[Peer]:
        return [p for p in self.peers if p.proc.alive()]

    def node_ids(self) -> dict[str, int]:
        """peer id -> DHT node id (int) of every live node, the bootstrap included."""
        out = {}
        for pid in [self.bootstrap.peer_id] + [p.peer_id for p in self.live_peers()]:
            out[pid] = int.from_bytes(hashlib.sha256(pubkey_from_text(pid)).digest(), "big")
        return out

    def transports(self) -> dict[str, str]:
        """peer id -> transport address of every live node."""
        out = {self.bootstrap.peer_id: self.bootstrap.transport}
        out.update({p.peer_id: p.transport for p in self.live_peers()})
        return out


def closest(node_ids: dict[str, int], key: bytes, k: int = K) -> list[str]:
    """The k peer ids closest to ``key`` by XOR distance."""
    target = int.from_bytes(key, "big")
    return sorted(node_ids, key=lambda pid: node_ids[pid] ^ target)[:k]


def _publish_all(peer: Peer, intents: list[Planned]) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for p in intents:
        view = peer.publish(
            action=p.action, category=p.category, lat=p.lat, lon=p.lon, radius_km=INTENT_RADIUS_KM,
            price={"amount_minor": 5000 + 100 * p.index, "currency": "USD"}, quantity=1 + p.index % 4,
            attributes={"n": str(p.index)}, text=f"test item number {p.index}",
        )  # fmt: skip
        out.append((p.index, view))
    return out


@contextmanager
def network(root: Path, n_peers: int = 8) -> Iterator[Network]:
    """Start the bootstrap node and ``n_peers`` agent peers (in parallel), publish the planned intents
    (each peer its own, peers in parallel), yield; always stop every process on exit."""
    procs = Procs(root, extra_env={"METASPACE_DHT_OVERRIDES": json.dumps(DHT_OVERRIDES)})
    try:
        boot = start_bootstrap(procs, root / "bootstrap")
        clusters = plan(n_peers)
        homes = [
            init_home(root / f"agent{i}", clusters[i].searcher_lat, clusters[i].searcher_lon)
            for i in range(n_peers)
        ]
        started = [start_peer(procs, i, home, boot.addr) for i, home in enumerate(homes)]
        peers = [wait_peer(i, home, proc) for i, (home, proc) in enumerate(zip(homes, started, strict=True))]
        for peer in peers:
            wait_joined(peer, 1)
        net = Network(procs, boot, peers, clusters)
        by_author: dict[int, list[Planned]] = {}
        for p in net.planned():
            by_author.setdefault(p.author, []).append(p)
        with ThreadPoolExecutor(max_workers=PUBLISHERS) as pool:
            futures = [pool.submit(_publish_all, peers[a], intents) for a, intents in by_author.items()]
            for fut in futures:
                for index, view in fut.result():
                    net.ids[index] = view["id"]
                    net.replicas[index] = int(view["replicas"])
        yield net
    finally:
        procs.close()
