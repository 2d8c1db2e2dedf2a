"""DHT configuration and the randomness protocol the core is given (never ``import random`` here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dht.lookup import MAX_PATHS
from wire.geo import KEY_RES
from wire.limits import MAX_CLOCK_SKEW_S, MAX_PEERS_PER_REPLY

#: The most puzzle work an identity can be asked for (2**32 key generations is days of CPU per identity).
MAX_PUZZLE_BITS = 32


class Rng(Protocol):
    """What the core needs from a random source (a ``random.Random`` instance satisfies it)."""

    def random(self) -> float: ...

    def getrandbits(self, k: int) -> int: ...


@dataclass(frozen=True)
class DhtConfig:
    """Tunables of one DHT node. All times are seconds of the caller's clock (``now``).

    Attributes:
        k: bucket size and replication factor (records are stored at the k closest nodes).
        alpha: parallel requests of one lookup.
        rpc_timeout: a request without a reply after this long fails.
        lookup_timeout: a whole lookup (or publish / get) gives up after this long.
        refresh_interval: every bucket is refreshed by a random lookup this often (0 disables).
        replicate_interval: stored records are pushed to the current k closest this often (0 disables).
        republish_interval: own records are published again this often while they live (0 disables).
        refresh_on_bootstrap: after the bootstrap self-lookup, refresh once every bucket that is not full
            (from the bucket of our closest neighbour outwards).
        probe_interval: a full bucket asks for a probe of its oldest contact at most once per this many
            seconds; newcomers to it are dropped in between (0: no cooldown).
        handoff: push stored records to a newly seen node that is now among the k closest to their key.
        max_records_per_key, max_records_per_author_per_key: per-key caps of the record store.
        max_records, max_bytes: caps of the whole store (a bootstrap operator raises them).
        max_per_subnet: contacts of one /24 (IPv4) or /48 (IPv6) per bucket; 0 disables the rule.
        allow_loopback_subnet: loopback addresses (127/8, ::1) are exempt from the subnet rule — a test mode
            for many nodes on one machine (a node whose own addresses are all loopback is in it anyway: its
            peers can only be local processes); never on a real network.
        key_res: H3 resolution of key cells. max_clock_skew: a record created further than this in the
        future is INVALID. max_get_pages: pages a get follows from one peer's cursor (each page is one more
        request). get_quorum: a get stops early once this many peers returned records
            (0 = always run the lookup to its end: every one of the k closest asked).
        get_closest: a get is complete once the ``get_closest`` closest peers known (capped at k) have all
            answered and been read to their last page, and no peer not yet asked (or still in flight) is
            closer than the ``get_closest``-th (see ``dht.ops``).
        get_page_budget: page requests one get may send in all (over every peer's cursor).
        publish_quorum: a publish reports ``Published`` once this many replicas (capped at the replicas
            asked) hold the record; the remaining PUTs continue in the background (0: wait for all).
        max_records_per_author: records of one author in the whole store, over all keys.
        disjoint_paths: d, the disjoint paths of every lookup (S/Kademlia; 1 = one plain Kademlia lookup;
            capped at k). A peer's reply feeds only the path that asked it; the paths share ``alpha`` (each
            asks ceil(alpha / d) peers at a time), so d costs few extra messages.
        refresh_paths: the disjoint paths of the periodic bucket refresh (1..``disjoint_paths``; default 1, a
            plain Kademlia lookup). A refresh's result is thrown away: it exists to meet live peers of one
            bucket, and a peer enters the routing table only by answering us itself, so the liars that
            disjoint paths guard a lookup's result against cannot put anyone in a bucket through it. Each
            further path costs about one more lookup's worth of requests every hour in every bucket.
        adaptive_timeouts: a lookup stops waiting for a peer (it may ask another; a late reply still counts)
            after a deadline computed from the measured round-trip times (SRTT + 4 RTTVAR, as TCP), between
            ``min_peer_timeout`` and ``rpc_timeout``; False: after ``rpc_timeout``.
        min_peer_timeout: the floor of that deadline.
        max_new_per_reply: peers one reply may add to a lookup that it did not know (the closest of them).
        join_fill: after a join's self-lookup, each bucket beyond our k closest neighbours' that holds fewer
            contacts is refreshed until it holds this many (0: to k, with a full lookup per bucket). Buckets
            fill further as peers contact us and at each ``refresh_interval``.
        id_puzzle_bits: contacts whose id lacks this many bits of puzzle work (``keys.id_puzzle_bits``) are
            refused by the routing table and not followed from lookup replies (0: no puzzle; every node of a
            network must agree on it).
    """

    k: int = 20
    alpha: int = 3
    rpc_timeout: float = 5.0
    lookup_timeout: float = 30.0
    refresh_interval: float = 3600.0
    replicate_interval: float = 3600.0
    republish_interval: float = 3600.0
    refresh_on_bootstrap: bool = True
    probe_interval: float = 60.0
    handoff: bool = True
    max_records_per_key: int = 1024
    max_records_per_author_per_key: int = 16
    max_records: int = 100_000
    max_bytes: int = 256 * 1024 * 1024
    max_per_subnet: int = 2
    allow_loopback_subnet: bool = False
    key_res: int = KEY_RES
    max_clock_skew: float = float(MAX_CLOCK_SKEW_S)
    max_get_pages: int = 16
    get_quorum: int = 0
    get_closest: int = 8
    get_page_budget: int = 32
    publish_quorum: int = 15
    max_records_per_author: int = 256
    disjoint_paths: int = 3
    refresh_paths: int = 1
    adaptive_timeouts: bool = True
    min_peer_timeout: float = 0.2
    max_new_per_reply: int = 10
    id_puzzle_bits: int = 0
    join_fill: int = 6

    def __post_init__(self) -> None:
        if not 1 <= self.k <= 256 or not 1 <= self.alpha <= 256:
            raise ValueError("need 1 <= k <= 256 and 1 <= alpha <= 256")
        if self.probe_interval < 0:
            raise ValueError("probe_interval must be >= 0")
        if self.rpc_timeout <= 0 or self.lookup_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_records_per_key < 1 or self.max_records_per_author_per_key < 1:
            raise ValueError("per-key caps must be positive")
        if not 0 <= self.key_res <= 7:
            raise ValueError("key_res must be in [0, 7]")
        if self.get_closest < 1 or self.max_records_per_author < 1:
            raise ValueError("get_closest and max_records_per_author must be >= 1")
        if (
            self.get_page_budget < 0
            or self.max_get_pages < 0
            or self.get_quorum < 0
            or self.publish_quorum < 0
        ):
            raise ValueError("get_page_budget, max_get_pages, get_quorum and publish_quorum must be >= 0")
        if not 1 <= self.disjoint_paths <= MAX_PATHS:
            raise ValueError(f"disjoint_paths must be in [1, {MAX_PATHS}]")
        if not 1 <= self.refresh_paths <= self.disjoint_paths:
            raise ValueError("refresh_paths must be in [1, disjoint_paths]")
        if not 0 < self.min_peer_timeout <= self.rpc_timeout:
            raise ValueError("need 0 < min_peer_timeout <= rpc_timeout")
        if not 1 <= self.max_new_per_reply <= MAX_PEERS_PER_REPLY:
            raise ValueError(f"max_new_per_reply must be in [1, {MAX_PEERS_PER_REPLY}]")
        if self.join_fill < 0:
            raise ValueError("join_fill must be >= 0")
        if not 0 <= self.id_puzzle_bits <= MAX_PUZZLE_BITS:
            raise ValueError(f"id_puzzle_bits must be in [0, {MAX_PUZZLE_BITS}]")
