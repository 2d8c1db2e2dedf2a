"""The iterative lookup as a peer iterator over d disjoint paths, free of I/O.

After rust-libp2p's ``ClosestPeersIter`` (unresponsive peers, the "stalled" rule) and
``ClosestDisjointPeersIter`` (S/Kademlia's disjoint paths, Baumgart & Mies 2007).

Theory of operation
-------------------
The iterator keeps every peer it has heard of in one list sorted by XOR distance to the target, each in one
state::

    NOT_CONTACTED --next()--> WAITING --on_success--> SUCCEEDED
         |                      |  \\--on_failure---> FAILED
         |                      \\--its peer deadline passed (next)--> UNRESPONSIVE --on_success--> SUCCEEDED
         |                              \\--(an unproven suggestion)--> FAILED      \\--on_failure--> FAILED
         \\--its referrer was discredited--> DISCARDED --vouched for by another referrer--> NOT_CONTACTED

**Paths.** ``paths`` (d) lookups run side by side over the one list. Every peer records which paths know it
(a bit mask) and which path contacted it. The seeds are known to every path; the peers a reply lists become
known only to the path that asked, so a liar poisons one path, not the lookup. A peer is contacted once in the
whole lookup: a path that reaches a peer another path contacted takes that outcome (a success counts for it,
a WAITING peer makes it wait) but never the peer's reply — as rust-libp2p's ``ClosestDisjointPeersIter``.
``paths=1`` is the plain Kademlia lookup.

``next(now)`` gives each unfinished path a turn, round robin. For one path it walks the peers that path knows,
closest first:

* a WAITING peer past its *peer deadline* (``peer_timeout`` after it was asked: the caller sets it from the
  measured round-trip times) becomes UNRESPONSIVE: it no longer holds a slot of its path nor keeps the path
  from finishing (unless more than ``max_stragglers`` of its k closest are unresponsive, by default
  ``k // STRAGGLER_SHARE``: then it waits for them to answer or fail), and its reply, should it come after
  all, still counts (those a discredited referrer suggested count as FAILED at once);
* SUCCEEDED peers are counted while no closer peer is WAITING: once ``k`` have answered, the path is finished;
* the first NOT_CONTACTED peer is handed out (``Waiting(peer)``) when the path has fewer than its parallelism
  in flight, else the path waits (``AtCapacity``). The parallelism is ``alpha``, or ``max(k, alpha)`` while
  the path is *stalled*: its last ``alpha`` replies brought no peer closer than the closest it knew, so the
  peers left to ask are the final k and there is nothing to gain by asking them a few at a time (only peers
  among the path's k closest are asked so). Unresponsive requests may still be running: at most
  ``SLOW_EXTRA`` more than the parallelism are in flight in all;
* with nobody left to ask and nothing WAITING in its view the path is finished.

The lookup is FINISHED when every path is, or (``timed_out``) once ``lookup_timeout`` has passed.

**Bounds against liars.** A reply adds at most ``max_new`` peers the lookup did not know (the closest of
them). The list keeps ``(CANDIDATES_PER_PATH + paths - 1) * k`` peers (``capacity``); beyond that a peer that
FAILED or was DISCARDED makes room first (its key is remembered, so no later reply brings it back: a liar's
dead fakes must not keep their places while the next liar's fakes push the honest peers not yet asked out),
else the farthest peer not yet asked is dropped. Every peer remembers its *referrer* (the peer whose reply
introduced it) and its *voucher* (a second referrer that listed it too). A suggestion is *proven* when its
referrer or voucher has had another suggestion answer (seeds are). Unproven suggestions of one referrer are
asked one at a time, and one past its peer deadline is FAILED at once rather than UNRESPONSIVE: it is neither
waited for as a straggler nor counted in flight (colluding liars list the same fakes, so a second listing
alone proves nothing). A suggestion that failed or went unresponsive is a strike for its referrer and its
voucher; one with ``REFERRER_STRIKES`` strikes, more than its suggestions that answered, is discredited: its
suggestions whose other referrer is not in good standing are DISCARDED, so a liar's ground "closer" contacts
can't hold the lookup's slots until it times out.

Calls for unknown peers, or for peers that are not WAITING or UNRESPONSIVE, are ignored (return False).
"""

from __future__ import annotations

from bisect import bisect_right
from operator import itemgetter

from dht.keys import contact_id
from dht.lookup_candidates import (
    DISCARDED,
    FAILED,
    NOT_CONTACTED,
    SUCCEEDED,
    UNRESPONSIVE,
    WAITING,
    Candidate,
    CandidateList,
    proven,
)
from dht.lookup_states import AtCapacity, Finished, IterState, PeerState, Waiting
from wire.messages import Contact

#: Peers kept, in units of k: CANDIDATES_PER_PATH for one path, plus one per further path (their views
#: overlap); the farthest never-contacted peers are dropped beyond it.
CANDIDATES_PER_PATH = 3
#: Failed or unresponsive suggestions after which a referrer (that answered fewer) is discredited.
REFERRER_STRIKES = 2
#: Disjoint paths a lookup may run (each costs about one lookup's worth of hops).
MAX_PATHS = 16
#: A path finishes without waiting for unresponsive peers among its k closest only while they are at most
#: k // STRAGGLER_SHARE of them; with more, it waits until they answer or fail (with k = 4, one straggler
#: may be skipped: the replica sets of a publish and of a later get still overlap).
STRAGGLER_SHARE = 4
#: Requests a path may have in flight beyond its parallelism while some of its peers are unresponsive (their
#: requests may still run): under overload a lookup must not multiply the load it puts on the network.
SLOW_EXTRA = 2


AT_CAPACITY = AtCapacity()
_NEVER = float("inf")


_first_item = itemgetter(0)


class ClosestPeersIter(CandidateList):
    """Iterates towards the ``k`` peers closest to ``target`` (an int) over ``paths`` disjoint paths."""

    __slots__ = (
        "_discarded",
        "_discredited",
        "_done",
        "_exclude",
        "_expiry",
        "_finished",
        "_inflight",
        "_no_progress",
        "_slow",
        "_stalls",
        "_timed_out",
        "_turn",
        "alpha",
        "deadline",
        "k",
        "max_new",
        "max_stragglers",
        "peer_timeout",
        "started",
        "target",
        "widen",
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
        paths: int = 1,
        peer_timeout: float | None = None,
        max_new: int | None = None,
        widen: bool = True,
        max_stragglers: int | None = None,
        capacity: int | None = None,
    ) -> None:
        """Args:
        target: the id looked up.
        seeds: the first peers to ask (our closest contacts); every path knows them.
        now: the current time.
        k, alpha, lookup_timeout: as in ``DhtConfig``; ``alpha`` is the parallelism of each path.
        rpc_timeout: the peer deadline when ``peer_timeout`` is not given.
        exclude: a public key never to contact (our own).
        paths: disjoint paths (1..``MAX_PATHS``, at most k).
        peer_timeout: how long a request is waited for before its peer counts as unresponsive (the caller
            may change the attribute between calls, e.g. from an RTT estimator).
        max_new: peers a reply may add that the lookup did not know (default: k).
        widen: a stalled path asks the rest of its k closest at once (False: always ``alpha`` at a time, for
            lookups that are in no hurry, e.g. a bucket refresh that stops early).
        max_stragglers: unresponsive peers among a path's k closest it may finish without (default
            ``k // STRAGGLER_SHARE``). A get that wants the q closest of records stored at k > q nodes may
            skip k - q: the q that answered are still among the k closest, the replicas.
        capacity: peers kept (default ``(CANDIDATES_PER_PATH + paths - 1) * k``); a get that wants its q
            closest passes the replication k's (liars' fake contacts would crowd a list sized for q out).
        Raises:
            ValueError: ``paths`` out of range.
        """
        if not 1 <= paths <= min(MAX_PATHS, k):
            raise ValueError(f"paths must be in [1, min({MAX_PATHS}, k)], got {paths}")
        self.target = target
        self.k = k
        self.alpha = alpha
        self.peer_timeout = rpc_timeout if peer_timeout is None else peer_timeout
        self.max_new = k if max_new is None else max(1, max_new)
        self.widen = widen
        self.max_stragglers = k // STRAGGLER_SHARE if max_stragglers is None else max(0, max_stragglers)
        self.started = now
        self.deadline = now + lookup_timeout
        super().__init__(
            paths, (CANDIDATES_PER_PATH + paths - 1) * k if capacity is None else max(capacity, k)
        )
        self._exclude = exclude
        self._finished = False
        self._timed_out = False
        self._turn = 0
        self._expiry = _NEVER  # no WAITING peer's deadline is earlier than this
        self._inflight = [0] * paths  # WAITING peers each path contacted
        self._slow = [0] * paths  # UNRESPONSIVE peers each path contacted (their requests may still run)
        self._no_progress = [0] * paths  # replies in a row that brought no closer peer
        self._done = [False] * paths
        self._stalls = 0
        self._discarded = 0
        self._discredited = 0
        self._seed(seeds, target, exclude)

    # ------------------------------------------------------------------------------------------ helpers

    def _blame(self, p: Candidate) -> None:
        """``p`` failed or went unresponsive: a strike for its referrer and for its voucher."""
        self._strike(p.ref)
        if p.voucher is not None:
            self._strike(p.voucher)

    def _strike(self, ref: Candidate | None) -> None:
        """One of ``ref``'s suggestions failed or went unresponsive; discredit it past the limit: its
        suggestions go, unless the other of their referrer and voucher is in good standing."""
        if ref is None or ref.bad < 0:
            return
        ref.bad += 1
        if ref.bad >= REFERRER_STRIKES and ref.bad > ref.good:
            ref.bad = -1
            self._discredited += 1
            for q in self._peers:
                if q.ref is ref:
                    if q.voucher is not None and q.voucher.bad >= 0:
                        continue
                elif q.voucher is not ref or q.ref is None or q.ref.bad >= 0:
                    continue
                if q.state == NOT_CONTACTED:
                    q.state = DISCARDED
                    self._discarded += 1
                    self._dead += 1
                elif q.state == UNRESPONSIVE:  # a fake is not waited for, nor does it hold a slot
                    q.state = FAILED
                    self._slow[q.path] -= 1
                    self._dead += 1
            self._invalidate()

    def _left_waiting(self, p: Candidate) -> None:
        self._inflight[p.path] -= 1
        if p.ref is not None:
            p.ref.asked -= 1
        self._invalidate()

    def _expire(self, now: float) -> None:
        """WAITING peers past their deadline become UNRESPONSIVE (before any path decides anything)."""
        earliest = _NEVER
        for p in self._peers:
            if p.state == WAITING:
                if now >= p.deadline:
                    self._left_waiting(p)
                    if not proven(p):
                        # an unproven suggestion (no other of its referrer's answered, nobody else listed it):
                        # not waited for as a straggler nor counted in flight; a liar's fakes end here
                        p.state = FAILED
                        self._dead += 1
                    else:
                        p.state = UNRESPONSIVE
                        self._slow[p.path] += 1
                    self._blame(p)
                elif p.deadline < earliest:
                    earliest = p.deadline
        self._expiry = earliest

    # -------------------------------------------------------------------------------------- transitions

    def next(self, now: float) -> IterState:
        """What to do now: ``Waiting(peer)`` (send to it), ``AtCapacity`` or ``Finished``."""
        if self._finished:
            return Finished(self._timed_out)
        if now >= self.deadline:
            self._finished = self._timed_out = True
            return Finished(True)
        if now >= self._expiry:
            self._expire(now)
        d = self.paths
        done = self._done
        for step in range(d):
            j = (self._turn + step) % d
            if done[j]:
                continue
            peer = self._path_next(j, now)
            if peer is not None:
                self._turn = (j + 1) % d
                return Waiting(peer)
        if all(done):
            self._finished = True
            return Finished(False)
        return AT_CAPACITY

    def _path_next(self, j: int, now: float) -> Contact | None:
        """Path ``j``'s turn: the peer to ask, or None (it waits, or it just finished: ``_done[j]``)."""
        bit = 1 << j
        peers = self._peers
        resume = self._resume[j]
        if resume is not None and resume[0] == now:
            start, ahead = resume[1], resume[2]
            counting = False  # a peer before ``start`` is WAITING
            waiting = True
        else:
            start = ahead = 0
            counting = True
            waiting = False
        counted = stragglers = 0
        k = self.k
        stalled = self.widen and self._no_progress[j] >= self.alpha
        # ``ahead``: peers before this one that answered or may still answer (a stalled path asks the k first)
        for idx, p in enumerate(peers[start:] if start else peers, start):
            if not p.known & bit:
                continue
            st = p.state
            if st == SUCCEEDED:
                ahead += 1
                if counting:
                    counted += 1
                    if counted >= k:
                        self._done[j] = True
                        return None
            elif st == WAITING:
                ahead += 1
                counting = False
                waiting = True
            elif st == UNRESPONSIVE:
                if counting:
                    stragglers += 1
                    if stragglers > self.max_stragglers:  # too many of the k closest are slow: wait
                        counting = False
                        waiting = True
            elif st == NOT_CONTACTED:
                ref = p.ref
                if (
                    ref is not None
                    and ref.asked
                    and ref.good <= 0
                    and (p.voucher is None or p.voucher.good <= 0)  # not proven(p), inlined
                ):
                    counting = False  # an unproven referrer's suggestions are asked one at a time
                    waiting = True
                    continue
                busy = self._inflight[j]
                limit = max(k, self.alpha) if stalled else self.alpha
                # unresponsive requests may still be in flight: at most SLOW_EXTRA more ride on top of them
                if busy >= limit or busy + self._slow[j] >= limit + SLOW_EXTRA or (stalled and ahead >= k):
                    return None
                p.state = WAITING
                p.path = j
                p.deadline = now + self.peer_timeout
                if p.deadline < self._expiry:
                    self._expiry = p.deadline
                self._inflight[j] += 1
                if ref is not None:
                    ref.asked += 1
                self._invalidate()
                self._resume[j] = (now, idx + 1, ahead + 1)
                return p.contact
        if not waiting:
            self._done[j] = True
        return None

    def on_success(self, pubkey: bytes, closer: list[Contact]) -> bool:
        """``pubkey`` answered with ``closer`` peers (our own key among them is ignored).

        Returns:
            False (and nothing changes) if ``pubkey`` wasn't WAITING or UNRESPONSIVE, or the lookup finished.
        """
        p = self._by_key.get(pubkey)
        if p is None or self._finished:
            return False
        if p.state == WAITING:
            self._left_waiting(p)
        elif p.state == UNRESPONSIVE:
            self._slow[p.path] -= 1
            for ref in (p.ref, p.voucher):
                if ref is not None and ref.bad > 0:
                    ref.bad -= 1  # it was not a bad suggestion after all
        else:
            return False
        p.state = SUCCEEDED
        self._invalidate()
        if p.ref is not None:
            p.ref.good += 1
            if p.voucher is not None:
                p.voucher.good += 1
        j = p.path
        if not self._done[j]:
            self._learn(p, j, closer)
        return True

    def _learn(self, p: Candidate, j: int, closer: list[Contact]) -> None:
        """Path ``j`` learns the peers ``p`` listed (at most ``max_new`` of them new to the lookup)."""
        bit = 1 << j
        by_key = self._by_key
        exclude = self._exclude
        first = self._first[j]
        progress = self._known[j] < self.k
        target = self.target
        gone = self._gone
        fresh: list[tuple[int, Contact]] = []
        for c in closer:
            pk = c.pubkey
            q = by_key.get(pk)
            if q is None:
                if pk != exclude and pk not in gone:
                    try:
                        cid = c._dht_id  # contact_id(c), without a call when cached
                    except AttributeError:
                        cid = contact_id(c)
                    fresh.append((cid ^ target, c))
                continue
            if q.voucher is None and q.ref is not None and q.ref is not p and p.bad >= 0:
                q.voucher = p
                if q.state == DISCARDED:
                    q.state = NOT_CONTACTED
                    self._discarded -= 1
                    self._dead -= 1
            if not q.known & bit:
                q.known |= bit
                self._known[j] += 1
                if q.dist < first:
                    first = q.dist
                    progress = True
        if fresh:
            max_new = self.max_new
            if len(fresh) > max_new:
                fresh.sort(key=_first_item)
                del fresh[max_new:]
            # ``_insert`` inlined for one path's bit (the hot loop of a lookup)
            depth = p.depth + 1
            peers = self._peers
            dists = self._dists
            cap = self._cap
            added = 0
            for dist, c in fresh:
                pk = c.pubkey
                if pk in by_key:
                    continue  # listed twice in one reply
                if len(peers) >= cap and not self._make_room(dist):
                    continue  # farther than everything kept: it would never be asked
                q = Candidate(c, dist, depth, bit, p)
                by_key[pk] = q
                i = bisect_right(dists, dist)  # after equal distances, as insort
                peers.insert(i, q)
                dists.insert(i, dist)
                added += 1
                if dist < first:
                    first = dist
                    progress = True
            self._known[j] += added
        self._first[j] = first
        self._invalidate()
        if progress:
            self._no_progress[j] = 0
        else:
            self._no_progress[j] += 1
            if self._no_progress[j] == self.alpha:
                self._stalls += 1

    def on_failure(self, pubkey: bytes, blame: bool = True) -> bool:
        """``pubkey`` failed (timeout, refused, bad reply). Returns False if it wasn't WAITING or
        UNRESPONSIVE.

        Args:
            pubkey: the peer.
            blame: count it against the peer's referrer (False when the peer was skipped for a reason of
                our own, e.g. we are backing off from it).
        """
        p = self._by_key.get(pubkey)
        if p is None:
            return False
        if p.state == WAITING:
            self._left_waiting(p)
            if blame:
                self._blame(p)
        elif p.state == UNRESPONSIVE:  # struck already
            self._slow[p.path] -= 1
        else:
            return False
        p.state = FAILED
        self._dead += 1
        self._invalidate()
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
        """Whether a request to ``pubkey`` is still awaited (WAITING, or UNRESPONSIVE but not failed)."""
        p = self._by_key.get(pubkey)
        return p is not None and (p.state == WAITING or p.state == UNRESPONSIVE)

    def closest(self, n: int | None = None, unresponsive: bool = False) -> list[Contact]:
        """The closest peers that answered, on any path, closest first (at most ``n``, default k).

        Args:
            n: how many.
            unresponsive: count the peers that went unresponsive too (they may still answer: a PUT to a
                slow peer among the k closest either lands or fails, where skipping it would store the record
                farther away).
        """
        n = self.k if n is None else n
        out: list[Contact] = []
        for p in self._peers:
            if p.state == SUCCEEDED or (unresponsive and p.state == UNRESPONSIVE):
                out.append(p.contact)
                if len(out) >= n:
                    break
        return out

    def hops(self) -> int:
        """The deepest round of a peer that answered (the seeds are round 1); 0 if nobody answered."""
        return max((p.depth for p in self._peers if p.state == SUCCEEDED), default=0)

    def depth_of(self, pubkey: bytes) -> int:
        p = self._by_key.get(pubkey)
        return p.depth if p is not None else 0

    def path_of(self, pubkey: bytes) -> int:
        """The path that contacted ``pubkey`` (-1: none)."""
        p = self._by_key.get(pubkey)
        return p.path if p is not None else -1

    def set_deadline(self, pubkey: bytes, deadline: float) -> None:
        """Change the peer deadline of WAITING ``pubkey`` (e.g. a first contact: it must be dialed too)."""
        p = self._by_key.get(pubkey)
        if p is not None and p.state == WAITING:
            p.deadline = deadline
            if deadline < self._expiry:
                self._expiry = deadline
            # no state changed: the resume points stand (a deadline already passed is expired by the next
            # ``next()`` before any path resumes, and that invalidates them)

    def next_deadline(self) -> float:
        """The earliest time something changes without input: a peer deadline or the lookup's."""
        t = self.deadline
        for p in self._peers:
            if p.state == WAITING and p.deadline < t:
                t = p.deadline
        self._expiry = t
        return t

    def statistics(self) -> dict[str, int]:
        """Peers per state, hops, paths, stalls (a path turned stalled), discredited referrers."""
        counts = {s.name.lower(): 0 for s in PeerState}
        for p in self._peers:
            counts[PeerState(p.state).name.lower()] += 1
        counts["hops"] = self.hops()
        counts["paths"] = self.paths
        counts["paths_done"] = sum(self._done)
        counts["stalls"] = self._stalls
        counts["discredited"] = self._discredited
        return counts
