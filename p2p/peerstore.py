"""The host's peerstore: py-libp2p's own, bounded (a fence: see :mod:`p2p.fences`).

Theory of operation
-------------------
py-libp2p 0.8.1's ``PeerStore`` keeps one entry per peer it ever heard of: our own key pair, and for every
peer that connected the public key, protocols, listen addresses and signed peer record that identify
brought. Nothing expires (the library never starts its cleanup task); past ``max_peers`` (1,000) entries
``_enforce_peer_limit`` evicts entries *without addresses first, in insertion order* -- and the first such
entry is our own key pair. The next identify request then fails inside libp2p's handler
(``PeerStoreError('peer ID not found')`` from ``host.get_public_key()``) and the host goes down. A bootstrap
node meets its 1,000th distinct listening peer within minutes.

:class:`BoundedPeerStore` keeps the library's data and API and decides instead who may stay:

* **Our own entry is never evicted** (nor any entry holding a private key).
* **Entries of connected peers are never evicted**: they are bounded by the connection manager.
* **Entries of peers that are not connected ("idle") are a cache**: kept in the order they went idle, at
  most ``max_idle`` of them (the longest idle go first), and none longer than ``idle_ttl`` (go-libp2p keeps
  a disconnected peer's addresses for ``RecentlyConnectedAddrTTL``, 15 minutes). Nothing of ours needs
  them: the DHT driver hands the dialer a contact's addresses with every request.
* **Each entry is bounded**, whatever a peer says in identify: at most ``MAX_PEER_ADDRS`` addresses (the
  newest), ``MAX_PEER_PROTOCOLS`` protocol ids of at most ``MAX_PROTOCOL_LEN`` characters, and a signed
  peer record of at most ``MAX_PEER_RECORD_BYTES`` (py-libp2p would keep 1,000 addresses, any number of
  protocols and a 1 MiB record per peer).

:meth:`BoundedPeerStore.prune` does the sweep (O(entries)): the host calls it every second, and the library
calls it through ``_enforce_peer_limit`` when a burst of new peers passes ``max_peers`` between two sweeps.
Which peers are connected is asked of the swarm (:meth:`BoundedPeerStore.attach`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from libp2p.peer.envelope import Envelope
from libp2p.peer.id import ID
from libp2p.peer.peerstore import PeerStore
from multiaddr import Multiaddr

#: Entries of peers that are not connected kept at once (the longest idle are evicted first).
MAX_IDLE_PEERS = 1000
#: How long the entry of a peer that is no longer connected is kept (go-libp2p: 15 minutes).
IDLE_PEER_TTL = 15 * 60.0
#: Addresses kept per peer (the newest): identify would keep up to 1,000 a peer claims.
MAX_PEER_ADDRS = 8
#: Protocol ids kept per peer, and the longest protocol id kept.
MAX_PEER_PROTOCOLS = 64
MAX_PROTOCOL_LEN = 128
#: The largest signed peer record kept (an honest one with a few addresses is ~200 bytes).
MAX_PEER_RECORD_BYTES = 2048


@dataclass
class PeerStoreStatistics:
    """Entries now, and evictions since start."""

    entries: int = 0
    idle: int = 0
    evicted_full: int = 0
    evicted_expired: int = 0
    records_refused: int = 0


def _never_connected(peer_id: ID) -> bool:
    return False


class BoundedPeerStore(PeerStore):
    """py-libp2p's ``PeerStore`` with the bounds of the module docstring.

    Args:
        local: our own peer id (never evicted).
        max_idle: entries of peers that are not connected kept at once.
        idle_ttl: seconds an idle peer's entry is kept.
        clock: seconds, monotonic (the host passes trio's clock).
    """

    def __init__(
        self,
        local: ID,
        *,
        max_idle: int = MAX_IDLE_PEERS,
        idle_ttl: float = IDLE_PEER_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_peers=max_idle)
        if max_idle < 0 or idle_ttl < 0:
            raise ValueError("max_idle and idle_ttl must be >= 0")
        self.local = local
        self.max_idle = max_idle
        self.idle_ttl = idle_ttl
        self._clock = clock
        self._is_connected: Callable[[ID], bool] = _never_connected
        #: Peers not connected at the last sweep -> when they were first seen so, oldest first.
        self._idle: dict[ID, float] = {}
        self.stats = PeerStoreStatistics()

    def attach(self, is_connected: Callable[[ID], bool]) -> None:
        """Tell the store how to know whether a peer is connected (the swarm, once built)."""
        self._is_connected = is_connected

    # ------------------------------------------------------------------------------------ eviction

    def _pinned(self, peer_id: ID) -> bool:
        if peer_id == self.local:
            return True
        data = self.peer_data_map.get(peer_id)
        return data is not None and data.privkey is not None

    def prune(self, now: float | None = None) -> int:
        """Note who went idle, then evict idle entries past ``idle_ttl`` or beyond ``max_idle`` (the
        longest idle first). Returns how many entries were evicted."""
        now = self._clock() if now is None else now
        idle = self._idle
        for peer_id in list(self.peer_data_map):
            if self._pinned(peer_id) or self._is_connected(peer_id):
                idle.pop(peer_id, None)
            elif peer_id not in idle:
                idle[peer_id] = now
        for gone in [p for p in idle if p not in self.peer_data_map]:
            del idle[gone]
        evicted = 0
        for peer_id, since in list(idle.items()):  # oldest first
            expired = now - since >= self.idle_ttl
            if not expired and len(idle) <= self.max_idle:
                break
            del idle[peer_id]
            self._forget(peer_id)
            evicted += 1
            if expired:
                self.stats.evicted_expired += 1
            else:
                self.stats.evicted_full += 1
        # Until the next sweep, the library calls us again only after another ``max_idle`` new entries.
        self.max_peers = len(self.peer_data_map) + self.max_idle
        return evicted

    def _forget(self, peer_id: ID) -> None:
        self.peer_data_map.pop(peer_id, None)
        self.peer_record_map.pop(peer_id, None)
        self.addr_update_channels.pop(peer_id, None)

    def _enforce_peer_limit(self) -> None:
        """The library's over-the-cap hook (it would evict our own key first): our sweep instead."""
        self.prune()

    # ------------------------------------------------------------------------------------ per-entry bounds

    def add_addrs(self, peer_id: ID, addrs: Sequence[Multiaddr], ttl: int = 0) -> None:
        super().add_addrs(peer_id, list(addrs)[-MAX_PEER_ADDRS:], ttl)
        data = self.peer_data_map.get(peer_id)
        if data is not None and len(data.addrs) > MAX_PEER_ADDRS:
            data.addrs = data.addrs[-MAX_PEER_ADDRS:]

    def add_protocols(self, peer_id: ID, protocols: Sequence[str]) -> None:
        known = self.peer_data_map[peer_id].protocols if peer_id in self.peer_data_map else []
        self.set_protocols(peer_id, [*known, *protocols])

    def set_protocols(self, peer_id: ID, protocols: Sequence[str]) -> None:
        kept = [p for p in dict.fromkeys(protocols) if len(p) <= MAX_PROTOCOL_LEN]
        super().set_protocols(peer_id, kept[:MAX_PEER_PROTOCOLS])

    def consume_peer_record(self, envelope: Envelope, ttl: int) -> bool:
        """The library's, refusing records over ``MAX_PEER_RECORD_BYTES`` (False: not stored)."""
        if len(envelope.raw_payload) > MAX_PEER_RECORD_BYTES:
            self.stats.records_refused += 1
            return False
        return super().consume_peer_record(envelope, ttl)

    def statistics(self) -> PeerStoreStatistics:
        """A snapshot of the counts."""
        s = self.stats
        return PeerStoreStatistics(
            len(self.peer_data_map), len(self._idle), s.evicted_full, s.evicted_expired, s.records_refused
        )


__all__ = [
    "IDLE_PEER_TTL",
    "MAX_IDLE_PEERS",
    "MAX_PEER_ADDRS",
    "MAX_PEER_PROTOCOLS",
    "MAX_PEER_RECORD_BYTES",
    "MAX_PROTOCOL_LEN",
    "BoundedPeerStore",
    "PeerStoreStatistics",
]
