"""The iterative lookup as a peer iterator (after rust-libp2p's ``ClosestPeersIter``), free of I/O.

Theory of operation
-------------------
The iterator keeps every peer it has heard of, sorted by XOR distance to the target, each in one state::

    NOT_CONTACTED --next()--> WAITING --on_success--> SUCCEEDED
                                 |  \\--on_failure---> FAILED
                                 \\---deadline passed (next(now))--> FAILED

``next(now)`` walks the peers closest first:

* a WAITING peer past its deadline becomes FAILED;
* SUCCEEDED peers are counted while no closer peer is still WAITING: once ``k`` have answered, the lookup is
  FINISHED (the k closest peers known have all answered and none closer is pending);
* the first NOT_CONTACTED peer is handed out (``Waiting(peer)``) when fewer than ``alpha`` requests are in
  flight, else the caller gets ``AtCapacity`` and waits for a reply, a failure or a deadline;
* with nobody left to ask and nothing in flight the lookup is FINISHED too (fewer than k peers exist).

The whole lookup is FINISHED (``timed_out``) once ``lookup_timeout`` has passed since it started.
``on_success(peer, closer)`` adds the closer peers it returned, one round deeper than ``peer`` (``hops``).
Calls for unknown peers, or for peers that are not WAITING (a late reply after a timeout), are ignored.
"""

from __future__ import annotations

import enum
from bisect import insort
from dataclasses import dataclass

from dht.keys import contact_id
from wire.messages import Contact


class PeerState(enum.IntEnum):
    NOT_CONTACTED = 0
    WAITING = 1
    SUCCEEDED = 2
    FAILED = 3


@dataclass(frozen=True, slots=True)
class Waiting:
    """Send the lookup's request to ``peer`` now."""

    peer: Contact


@dataclass(frozen=True, slots=True)
class AtCapacity:
    """``alpha`` requests are in flight (or only in-flight peers are left): wait for one to end."""


@dataclass(frozen=True, slots=True)
class Finished:
    """The lookup is over; ``timed_out`` when it ran past ``lookup_timeout``."""

    timed_out: bool = False


AT_CAPACITY = AtCapacity()
# PeerState as plain ints on the hot path
_NOT_CONTACTED, _WAITING, _SUCCEEDED, _FAILED = (int(s) for s in PeerState)
IterState = Waiting | AtCapacity | Finished


class _Peer:
    __slots__ = ("contact", "deadline", "depth", "dist", "state")

    def __init__(self, contact: Contact, dist: int, depth: int) -> None:
        self.contact = contact
        self.dist = dist
        self.depth = depth
        self.state = _NOT_CONTACTED
        self.deadline = 0.0


def _dist(p: _Peer) -> int:
    return p.dist


class ClosestPeersIter:
    """Iterates towards the ``k`` peers closest to ``target`` (an int), ``alpha`` requests at a time."""

    __slots__ = (
        "_by_key",
        "_cap",
        "_finished",
        "_peers",
        "_resume",
        "_timed_out",
        "alpha",
        "deadline",
        "k",
        "rpc_timeout",
        "started",
        "target",
    )

    def __init__(
        self,
        target: int,
        seeds: list[Contact],
        now: float,
        *,
        k: int = 20,
        alpha: int = 3,
        rpc_timeout: float = 5.0,
        lookup_timeout: float = 30.0,
        exclude: bytes | None = None,
    ) -> None:
        """Args:
        target: the id looked up.
        seeds: the first peers to ask (our closest contacts).
        now: the current time.
        k, alpha, rpc_timeout, lookup_timeout: as in ``DhtConfig``.
        exclude: a public key never to contact (our own).
        """
        self.target = target
        self.k = k
        self.alpha = alpha
        self.rpc_timeout = rpc_timeout
        self.started = now
        self.deadline = now + lookup_timeout
        self._peers: list[_Peer] = []
        self._cap = 3 * k  # candidates kept: the farthest never-contacted ones are dropped beyond this
        self._by_key: dict[bytes, _Peer] = {}
        self._finished = False
        self._timed_out = False
        # where the last next() left off after handing out a peer: (now, index, in flight) — valid until
        # any peer changes state or joins (a reply, a failure), so the usual next(), next() pair scans once
        self._resume: tuple[float, int, int] | None = None
        if exclude is not None:
            me = _Peer(Contact(exclude), 0, 0)  # a sentinel outside the sorted list: never contacted
            me.state = _FAILED
            self._by_key[exclude] = me
        for c in seeds:
            self._insert(c, 1)

    def _insert(self, contact: Contact, depth: int) -> None:
        if contact.pubkey in self._by_key:
            return
        dist = contact_id(contact) ^ self.target
        peers = self._peers
        if len(peers) >= self._cap:
            last = peers[-1]
            if last.dist < dist:
                return  # farther than everything kept: it would never be asked
            if last.state == _NOT_CONTACTED:
                peers.pop()
                del self._by_key[last.contact.pubkey]
        p = _Peer(contact, dist, depth)
        self._by_key[contact.pubkey] = p
        insort(peers, p, key=_dist)
        self._resume = None

    # -------------------------------------------------------------------------------------- transitions

    def next(self, now: float) -> IterState:
        """What to do now: ``Waiting(peer)`` (send to it), ``AtCapacity`` or ``Finished``."""
        if self._finished:
            return Finished(self._timed_out)
        if now >= self.deadline:
            self._finished = self._timed_out = True
            return Finished(True)
        peers = self._peers
        resume = self._resume
        if resume is not None and resume[0] == now:
            start, in_flight = resume[1], resume[2]
            counting = False  # a peer before ``start`` is WAITING
        else:
            start = in_flight = 0
            counting = True
        counted = 0
        k = self.k
        for idx in range(start, len(peers)):
            p = peers[idx]
            st = p.state
            if st == _SUCCEEDED:
                if counting:
                    counted += 1
                    if counted >= k:
                        self._finished = True
                        return Finished(False)
            elif st == _WAITING:
                if now >= p.deadline:
                    p.state = _FAILED
                    continue
                in_flight += 1
                counting = False
            elif st == _NOT_CONTACTED:
                if in_flight < self.alpha:
                    p.state = _WAITING
                    p.deadline = now + self.rpc_timeout
                    self._resume = (now, idx + 1, in_flight + 1)
                    return Waiting(p.contact)
                return AT_CAPACITY
        if in_flight:
            return AT_CAPACITY
        self._finished = True
        return Finished(False)

    def on_success(self, pubkey: bytes, closer: list[Contact]) -> bool:
        """``pubkey`` answered with ``closer`` peers (our own key among them is ignored).

        Returns:
            False (and nothing changes) if ``pubkey`` wasn't WAITING: unknown, timed out or finished.
        """
        p = self._by_key.get(pubkey)
        if p is None or p.state != _WAITING or self._finished:
            return False
        p.state = _SUCCEEDED
        self._resume = None
        depth = p.depth + 1
        by_key = self._by_key
        for c in closer:
            if c.pubkey not in by_key:
                self._insert(c, depth)
        return True

    def on_failure(self, pubkey: bytes) -> bool:
        """``pubkey`` failed (timeout, refused, bad reply). Returns False if it wasn't WAITING."""
        p = self._by_key.get(pubkey)
        if p is None or p.state != _WAITING:
            return False
        p.state = _FAILED
        self._resume = None
        return True

    def finish(self) -> None:
        """Stop early (the caller has what it needs)."""
        self._finished = True

    # ------------------------------------------------------------------------------------------ results

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def timed_out(self) -> bool:
        return self._timed_out

    def is_waiting(self, pubkey: bytes) -> bool:
        p = self._by_key.get(pubkey)
        return p is not None and p.state == _WAITING

    def closest(self, n: int | None = None) -> list[Contact]:
        """The closest peers that answered, closest first (at most ``n``, default k)."""
        n = self.k if n is None else n
        out: list[Contact] = []
        for p in self._peers:
            if p.state == _SUCCEEDED:
                out.append(p.contact)
                if len(out) >= n:
                    break
        return out

    def hops(self) -> int:
        """The deepest round of a peer that answered (the seeds are round 1); 0 if nobody answered."""
        return max((p.depth for p in self._peers if p.state == _SUCCEEDED), default=0)

    def depth_of(self, pubkey: bytes) -> int:
        p = self._by_key.get(pubkey)
        return p.depth if p is not None else 0

    def next_deadline(self) -> float:
        """The earliest time something changes without input: an RPC deadline or the lookup's."""
        t = self.deadline
        for p in self._peers:
            if p.state == _WAITING and p.deadline < t:
                t = p.deadline
        return t

    def statistics(self) -> dict[str, int]:
        counts = {s.name.lower(): 0 for s in PeerState}
        for p in self._peers:
            counts[PeerState(p.state).name.lower()] += 1
        counts["hops"] = self.hops()
        return counts
