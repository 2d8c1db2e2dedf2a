"""The lookup's candidate list, free of I/O: every peer a lookup (``dht.lookup.ClosestPeersIter``) has heard
of, sorted by XOR distance to the target, bounded, and what each one is to the lookup (``Candidate``).

The list keeps at most ``cap`` peers. Beyond that a FAILED or DISCARDED peer makes room first (its key is
remembered in ``_gone``, so no later reply brings it back), else the farthest peer not yet asked is dropped;
a peer farther than everything kept in a full list is not added. ``dht.lookup``'s theory of operation says
why (*Bounds against liars*). Each path's count of the peers it knows and the distance of its closest are
kept here too, and the per-path resume points of ``next()`` (cleared by ``_invalidate`` on any change).
"""

from __future__ import annotations

from bisect import bisect_right
from operator import attrgetter

from dht.keys import contact_id
from dht.lookup_states import PeerState
from wire.messages import Contact

# PeerState as plain ints on the hot path (dht.lookup uses them too)
NOT_CONTACTED, WAITING, SUCCEEDED, FAILED, UNRESPONSIVE, DISCARDED = (int(s) for s in PeerState)
FAR = 1 << 256  # farther than any distance

_dist = attrgetter("dist")


class Candidate:
    __slots__ = (
        "asked",
        "bad",
        "contact",
        "deadline",
        "depth",
        "dist",
        "good",
        "known",
        "path",
        "ref",
        "state",
        "voucher",
    )

    def __init__(self, contact: Contact, dist: int, depth: int, known: int, ref: Candidate | None) -> None:
        self.contact = contact
        self.dist = dist
        self.depth = depth
        self.state = NOT_CONTACTED
        self.deadline = 0.0
        self.known = known  # bit j: path j knows this peer
        self.path = -1  # the path that contacted it
        self.ref = ref  # the peer whose reply introduced it (None: a seed)
        self.voucher: Candidate | None = None  # a second referrer that listed it too
        self.good = 0  # as a referrer: suggestions that answered ...
        self.bad = 0  # ... and that failed or went unresponsive (-1: discredited)
        self.asked = 0  # ... and that are WAITING


def proven(p: Candidate) -> bool:
    """A seed, or a suggestion whose referrer or voucher has had another suggestion answer (colluding liars
    vouch for each other's fakes: a second source counts only once it has proven itself)."""
    ref, voucher = p.ref, p.voucher
    return ref is None or ref.good > 0 or (voucher is not None and voucher.good > 0)


class CandidateList:
    """The sorted, bounded list of a lookup's peers and the per-path counts over it (the iterator's base)."""

    __slots__ = (
        "_by_key",
        "_cap",
        "_dead",
        "_dists",
        "_first",
        "_gone",
        "_known",
        "_peers",
        "_resume",
        "paths",
    )

    def __init__(self, paths: int, cap: int) -> None:
        """Args:
        paths: the lookup's disjoint paths.
        cap: peers kept at most.
        """
        self.paths = paths
        self._peers: list[Candidate] = []
        self._dists: list[int] = []  # the peers' distances, in the same order (bisected without a key)
        self._cap = cap
        self._by_key: dict[bytes, Candidate] = {}
        self._dead = 0  # FAILED or DISCARDED peers in the list (the first to make room)
        # keys of dead peers dropped from the list (a peer is asked once; at most what the replies listed)
        self._gone: set[bytes] = set()
        self._known = [0] * paths  # peers each path knows
        self._first = [FAR] * paths  # distance of the closest peer each path knows
        # per path, where its last next() left off after handing out a peer: (now, index, peers ahead) —
        # valid until any peer changes state or joins, so the usual next(), next() pair scans the list once
        self._resume: list[tuple[float, int, int] | None] = [None] * paths

    def _seed(self, seeds: list[Contact], target: int, exclude: bytes | None) -> None:
        """Fill the empty list with ``seeds`` (every path knows them; ``exclude`` and repeats left out): what
        ``_insert`` one seed after another gives, in one stable sort (equal distances keep their order)."""
        if len(seeds) > self._cap:  # some would make room for others: one by one
            everyone = (1 << self.paths) - 1
            for c in seeds:
                if c.pubkey != exclude and c.pubkey not in self._by_key:
                    self._insert(c, contact_id(c) ^ target, 1, everyone, None)
            return
        by_key = self._by_key
        everyone = (1 << self.paths) - 1
        peers: list[Candidate] = []
        for c in seeds:
            pk = c.pubkey
            if pk != exclude and pk not in by_key:
                p = by_key[pk] = Candidate(c, contact_id(c) ^ target, 1, everyone, None)
                peers.append(p)
        if not peers:
            return
        peers.sort(key=_dist)
        self._peers = peers
        self._dists = [p.dist for p in peers]
        self._known = [len(peers)] * self.paths
        self._first = [peers[0].dist] * self.paths

    def _insert(
        self, contact: Contact, dist: int, depth: int, known: int, ref: Candidate | None
    ) -> Candidate | None:
        """Add a peer the lookup did not know (the caller checked) at ``dist`` from the target. Returns it, or
        None when it is farther than everything kept in a full list. The caller invalidates the resume
        points."""
        peers = self._peers
        dists = self._dists
        if len(peers) >= self._cap and not self._make_room(dist):
            return None
        p = Candidate(contact, dist, depth, known, ref)
        self._by_key[contact.pubkey] = p
        i = bisect_right(dists, dist)  # as insort(peers, p, key=dist): after equal distances
        peers.insert(i, p)
        dists.insert(i, dist)
        if known & (known - 1) == 0:  # one path (a reply's peers): its index is the bit's
            j = known.bit_length() - 1
            self._known[j] += 1
            if dist < self._first[j]:
                self._first[j] = dist
        else:
            for j in range(self.paths):
                if known >> j & 1:
                    self._known[j] += 1
                    if dist < self._first[j]:
                        self._first[j] = dist
        return p

    def _make_room(self, dist: int) -> bool:
        """The list is full: drop a dead peer (``_drop_dead``), else the farthest peer not yet asked, to make
        room for one at ``dist``.

        Returns:
            False when a peer at ``dist`` would be farther than everything kept (it would never be asked).
        """
        if self._dead and self._drop_dead():
            return True
        peers = self._peers
        for i in range(len(peers) - 1, -1, -1):
            last = peers[i]
            if last.dist < dist:
                return i != len(peers) - 1
            if last.state == NOT_CONTACTED:
                del peers[i]
                del self._dists[i]
                del self._by_key[last.contact.pubkey]
                self._forget(last)
                return True
        return True

    def _drop_dead(self) -> bool:
        """Remove the farthest FAILED or DISCARDED peer from the list (it will never count), remembering its
        key in ``_gone`` so that another reply can't bring it back. Returns False if there is none."""
        peers = self._peers
        for i in range(len(peers) - 1, -1, -1):
            p = peers[i]
            if p.state == FAILED or p.state == DISCARDED:
                del peers[i]
                del self._dists[i]
                pk = p.contact.pubkey
                del self._by_key[pk]
                self._forget(p)
                self._dead -= 1
                self._gone.add(pk)
                return True
        self._dead = 0  # (recount: none left)
        return False

    def _forget(self, p: Candidate) -> None:
        for j in range(self.paths):
            if p.known >> j & 1:
                self._known[j] -= 1

    def _invalidate(self) -> None:
        if self.paths == 1:
            self._resume[0] = None
        else:
            self._resume = [None] * self.paths
