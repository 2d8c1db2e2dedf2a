"""Reputation from real deals: one pure function from verified ratings to scores (spec 5.2).

Theory of operation
-------------------
The input is a set of :class:`Rating` s, each already verified (``wire.records.open_rating``: the rater
signed it and it names an agreement both parties co-signed, so it stands for a real deal — or for a deal
two colluding identities pretend to have made, which is what the rules below are about). The output is a
:class:`Reputation` per rated agent. Nothing here reads a clock or a network: ``now`` is passed in.

1. **One rating per deal per rater.** Duplicates of ``(rater, deal)`` keep the newest; self-ratings are
   dropped. A rating's *value* is ``((stars - 1) / 4 + as_agreed) / 2`` (5 stars and "went as agreed" = 1).
2. **Age.** A rating weighs ``0.5 ** (age / half_life)``, age counted from the deal (a backdated deal only
   loses weight; a deal dated in the future counts as made now).
3. **One counterparty's share is capped.** The ratings one rater gave one agent are taken newest first,
   each further one counting ``repeat_factor`` times the one before, and together at most ``pair_cap``:
   ten deals with the same partner count little more than two.
4. **Rings are flagged.** For an agent x rated by the set R(x), let C = R(x) + {x}: the *closure* of x is
   the share of the ratings its raters received that came from inside C. In an open market the raters of
   your raters are mostly strangers to you; in a ring (the same few agents rating each other) they are
   the ring itself. x is flagged when at least ``ring_min_raters`` rated it and its closure is at least
   ``ring_closure``, or when its raters rated each other: the *density* (share of ordered pairs of its
   raters where one rated the other) is at least ``ring_density``. Only raters not known to be
   *unproven* (below) count, so fresh identities can't dilute a ring. A rating between two flagged
   agents that rated each other is a *ring rating*; so is any rating of a flagged agent by a rater whose
   own ratings the input does not hold (``complete``: a lookup fetched two hops, not the whole graph).
   A small closed village of honest traders is flagged too: its members are discounted alike, so their
   order among themselves does not change.
5. **Pools.** The ring ratings an agent received are pooled as if they came from *one* counterparty
   (together at most ``pair_cap``), then weigh ``ring_factor`` times that: a ring of 30 adds no more than
   a ring of 3. Likewise the ratings from *unproven* raters — rated by fewer than ``PROVEN_RATERS``
   counterparts other than the agent they rate, like fresh identities made for one fake deal — are
   pooled and together weigh at most what one newcomer's capped pair does (``pair_cap * new_standing``).
6. **Standing.** Each rating also weighs its rater's *standing*, found by a few rounds of: standing(x) =
   ``(prior_weight * new_standing + S(x)) / (prior_weight + W(x))``, where W(x) is the total weight of the
   ratings x received and S(x) their weighted value. An agent nobody rated has ``new_standing`` (new
   agents start with limited weight); good ratings from agents with standing raise it towards 1, bad ones
   lower it towards 0. The *observer* (the agent asking, if given) has standing 1 and its own ratings are
   never discounted as a ring: what it saw itself counts fully.
7. **Score.** ``score = 100 * (prior_weight * neutral + S) / (prior_weight + W)`` with the final
   standings: an agent nobody rated shows 50, and it takes several well-standing counterparts to move
   far from there. ``confidence = W / (W + prior_weight)``.

Known limit (measured in ``reputation.market``): identities are free, and agreements between two
identities of one attacker are real signatures, so an attacker who builds a wider structure of fresh
identities that also rate each other (each proven by two others, and not closed enough to be a ring) can
still manufacture some standing; every fake deal costs two signed records republished weekly, the caps
bound what each identity adds, and the observer's own deals always count fully.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DAY_S = 86400.0


@dataclass(frozen=True)
class Rating:
    """One verified rating (a REPUTATION_SHARE whose evidence was checked).

    Attributes:
        rater: the rater's public key.
        subject: the rated agent's public key.
        deal: the agreement's session id (one rating per deal per rater).
        stars: 1..5.
        as_agreed: "the deal went as agreed".
        at: when the deal was made (the agreement's ``created``), in the caller's clock.
        comment: the rater's short comment (shown, never scored).
    """

    rater: bytes
    subject: bytes
    deal: bytes
    stars: int
    as_agreed: bool
    at: float
    comment: str = ""

    @property
    def value(self) -> float:
        """The rating in [0, 1]: stars and "went as agreed" weigh alike."""
        stars = min(5, max(1, self.stars))
        return ((stars - 1) / 4 + (1.0 if self.as_agreed else 0.0)) / 2


@dataclass(frozen=True)
class ScoreParams:
    """The knobs of the scoring (see the module docstring for what each does)."""

    prior_weight: float = 2.0
    neutral: float = 0.5
    new_standing: float = 0.2
    half_life_s: float = 180 * DAY_S
    repeat_factor: float = 0.5
    pair_cap: float = 1.5
    ring_link: float = 0.5
    ring_min_raters: int = 3
    ring_factor: float = 0.1
    iterations: int = 4
    #: Ratings considered at most (the newest are kept): bounds the work a flood of records can cause.
    max_ratings: int = 50_000

    def __post_init__(self) -> None:
        if self.prior_weight <= 0 or self.half_life_s <= 0 or self.pair_cap <= 0:
            raise ValueError("prior_weight, half_life_s and pair_cap must be positive")
        names = ("neutral", "new_standing", "repeat_factor", "ring_link", "ring_factor")
        for name in names:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")
        if self.iterations < 1 or self.max_ratings < 1 or self.ring_min_raters < 1:
            raise ValueError("iterations, max_ratings and ring_min_raters must be >= 1")


@dataclass(frozen=True)
class Reputation:
    """What the ratings say about one agent (the spec's ``ReputationScore``, from real deals only).

    Attributes:
        subject: the agent.
        score: 0..100; 50 for an agent nobody rated.
        confidence: 0..1, how much evidence is behind the score.
        standing: 0..1, the weight this agent's own ratings of others carry.
        ratings: ratings counted (one per deal per rater).
        raters: distinct counterparties who rated it.
        as_agreed: weighted share of its deals that "went as agreed" (None: no ratings).
        ring: flagged as part of a ring (the same few agents rating each other).
        ring_ratings: ratings it received that were discounted as ring ratings.
        level: ``new`` (next to no evidence), ``rated`` or ``established``.
        first_deal, last_deal: the times of its oldest and newest rated deal (None: no ratings).
    """

    subject: bytes
    score: float
    confidence: float
    standing: float
    ratings: int = 0
    raters: int = 0
    as_agreed: float | None = None
    ring: bool = False
    ring_ratings: int = 0
    level: str = "new"
    first_deal: float | None = None
    last_deal: float | None = None
    flags: tuple[str, ...] = field(default=())

    @property
    def signal(self) -> float:
        """A ranking signal in [0, 1]: the score, never above neutral for a flagged ring."""
        value = self.score / 100.0
        return min(value, 0.5) if self.ring else value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the subject as hex is left to the caller, which knows its text form)."""
        return {
            "score": round(self.score, 1),
            "confidence": round(self.confidence, 3),
            "standing": round(self.standing, 3),
            "ratings": self.ratings,
            "raters": self.raters,
            "as_agreed": None if self.as_agreed is None else round(self.as_agreed, 3),
            "ring": self.ring,
            "ring_ratings": self.ring_ratings,
            "level": self.level,
            "first_deal": self.first_deal,
            "last_deal": self.last_deal,
            "flags": list(self.flags),
        }


#: ``level`` thresholds: total weight and distinct raters of an established agent.
ESTABLISHED_WEIGHT = 3.0
ESTABLISHED_RATERS = 3
NEW_WEIGHT = 0.5


def unrated(subject: bytes, params: ScoreParams | None = None) -> Reputation:
    """The reputation of an agent nobody rated."""
    p = params or ScoreParams()
    return Reputation(subject, 100.0 * p.neutral, 0.0, p.new_standing, flags=("new",))


@dataclass
class _Pair:
    """The ratings one rater gave one subject, newest first, with their capped age weights."""

    rater: bytes
    ratings: list[Rating]
    weights: list[float]


def _pairs(ratings: list[Rating], now: float, p: ScoreParams) -> dict[bytes, list[_Pair]]:
    by_pair: dict[tuple[bytes, bytes], list[Rating]] = defaultdict(list)
    for r in ratings:
        by_pair[(r.subject, r.rater)].append(r)
    out: dict[bytes, list[_Pair]] = defaultdict(list)
    decay = math.log(2) / p.half_life_s
    for (subject, rater), group in by_pair.items():
        group.sort(key=lambda r: -r.at)
        weights = [math.exp(-decay * max(0.0, now - r.at)) * p.repeat_factor**j for j, r in enumerate(group)]
        total = sum(weights)
        if total > p.pair_cap:
            weights = [w * p.pair_cap / total for w in weights]
        out[subject].append(_Pair(rater, group, weights))
    return out


def _proven(
    rater: bytes, subject: bytes, raters_of: dict[bytes, set[bytes]], complete: frozenset[bytes] | None
) -> bool | None:
    """Has ``rater`` been rated by at least PROVEN_RATERS counterparts other than ``subject``? None when
    the input does not hold every rating about ``rater`` (not in ``complete``): we don't know."""
    if complete is not None and rater not in complete:
        return None
    theirs = raters_of.get(rater, set())
    return len(theirs) - (subject in theirs) >= PROVEN_RATERS


def _ring_raters(
    raters_of: dict[bytes, set[bytes]], complete: frozenset[bytes] | None, p: ScoreParams
) -> dict[bytes, set[bytes]]:
    """For each agent x, the raters of x that belong to a dense cluster around it: those linked (one
    rated the other) to at least ``ring_link`` of x's other raters. See "Rings" in the module docstring.

    Only raters whose own ratings the input holds in full (``complete``) are looked at, and of those not
    the ones known to be unproven (fresh identities can't dilute a ring).
    """
    out: dict[bytes, set[bytes]] = {}
    for x, all_raters in raters_of.items():
        raters = {r for r in all_raters if _proven(r, x, raters_of, complete) is not False}
        known = sorted(r for r in raters if complete is None or r in complete)[:MAX_LINKED_RATERS]
        if len(known) < p.ring_min_raters:
            continue
        members = set()
        for r in known:
            theirs = raters_of.get(r, set())
            links = sum(1 for r2 in known if r2 != r and (r2 in theirs or r in raters_of.get(r2, ())))
            if links >= max(MIN_RING_LINKS, p.ring_link * (len(known) - 1)):
                members.add(r)
        if len(members) >= p.ring_min_raters:
            out[x] = members
    return out


#: A ring member is linked to at least this many of the other raters (two raters who traded once are not
#: a ring; three who all rated each other and the agent are).
MIN_RING_LINKS = 2
#: Raters of one agent whose links are counted (bounds the work: O(this x raters) per agent).
MAX_LINKED_RATERS = 32


#: How a rater's ratings of an agent are weighed (see "Pools" in the module docstring).
FULL, RING, UNPROVEN = "full", "ring", "unproven"
#: A rater is *proven* (towards an agent x) once this many counterparts other than x have rated it.
PROVEN_RATERS = 2


def _kind(
    rater: bytes,
    subject: bytes,
    raters_of: dict[bytes, set[bytes]],
    ring: dict[bytes, set[bytes]],
    observer: bytes | None,
    complete: frozenset[bytes] | None,
) -> str:
    if rater == observer:
        return FULL
    if subject in ring:
        if rater in ring[subject]:
            return RING
        if complete is not None and rater not in complete:
            return RING  # a flagged agent's rater we could not check is presumed part of its ring
    return UNPROVEN if _proven(rater, subject, raters_of, complete) is False else FULL


def _dedup(ratings: Iterable[Rating], p: ScoreParams) -> list[Rating]:
    """One rating per (rater, deal), no self-ratings, at most ``max_ratings`` (the newest)."""
    kept: dict[tuple[bytes, bytes], Rating] = {}
    for r in ratings:
        if r.rater == r.subject:
            continue
        key = (r.rater, r.deal)
        old = kept.get(key)
        if old is None or r.at > old.at:
            kept[key] = r
    out = list(kept.values())
    if len(out) > p.max_ratings:
        out.sort(key=lambda r: -r.at)
        out = out[: p.max_ratings]
    return out


def score_all(
    ratings: Iterable[Rating],
    now: float,
    params: ScoreParams | None = None,
    observer: bytes | None = None,
    complete: Iterable[bytes] | None = None,
) -> dict[bytes, Reputation]:
    """The reputation of every agent that was rated, from the ratings given (see the module docstring).

    Args:
        ratings: verified ratings (about the agents of interest and, for standing and rings, about their
            raters too).
        now: the current time (same clock as ``Rating.at``).
        params: the knobs (defaults: :class:`ScoreParams`).
        observer: the agent asking, if any: standing 1, its ratings never discounted as a ring.
        complete: the agents whose received ratings ``ratings`` holds in full (a lookup fetched them);
            None: all of them (the whole graph). Whether a rater is proven is decided only for these.

    Returns:
        Rated agent -> :class:`Reputation` (agents nobody rated are absent: see :func:`unrated`).
    """
    p = params or ScoreParams()
    kept = _dedup(ratings, p)
    pairs = _pairs(kept, now, p)
    raters_of = {x: {pair.rater for pair in ps} for x, ps in pairs.items()}
    known = None if complete is None else frozenset(complete)
    ring = _ring_raters(raters_of, known, p)
    kinds = {
        (x, pair.rater): _kind(pair.rater, x, raters_of, ring, observer, known)
        for x in pairs
        for pair in pairs[x]
    }
    standing: dict[bytes, float] = {}

    def standing_of(agent: bytes) -> float:
        if agent == observer:
            return 1.0
        return standing.get(agent, p.new_standing)

    def weighted(x: bytes) -> list[tuple[Rating, float]]:
        """Every rating about x with its final weight: age, repeats, standing, pools."""
        pools: dict[str, list[tuple[Rating, float]]] = {FULL: [], RING: [], UNPROVEN: []}
        for pair in pairs[x]:
            k = standing_of(pair.rater)
            kind = kinds[(x, pair.rater)]
            pools[kind].extend((r, w * k) for r, w in zip(pair.ratings, pair.weights, strict=True))
        out = pools[FULL]
        for kind, cap, factor in ((RING, p.pair_cap, p.ring_factor),
                                  (UNPROVEN, p.pair_cap * p.new_standing, 1.0)):  # fmt: skip
            total = sum(w for _, w in pools[kind])
            scale = factor * (min(1.0, cap / total) if total > 0 else 1.0)
            out.extend((r, w * scale) for r, w in pools[kind])
        return out

    def totals(x: bytes) -> tuple[float, float]:
        rated = weighted(x)
        return sum(w for _, w in rated), sum(w * r.value for r, w in rated)

    for _ in range(p.iterations):
        nxt = {}
        for x in pairs:
            w_sum, s_sum = totals(x)
            nxt[x] = (p.prior_weight * p.new_standing + s_sum) / (p.prior_weight + w_sum)
        standing = nxt

    out: dict[bytes, Reputation] = {}
    for x, ps in pairs.items():
        w_sum, s_sum = totals(x)
        agreed_w = sum(w for r, w in weighted(x) if r.as_agreed)
        count = sum(len(pair.ratings) for pair in ps)
        ring_count = sum(len(pair.ratings) for pair in ps if kinds[(x, pair.rater)] == RING)
        times = [r.at for pair in ps for r in pair.ratings]
        level = "new" if w_sum < NEW_WEIGHT else "rated"
        if w_sum >= ESTABLISHED_WEIGHT and len(ps) >= ESTABLISHED_RATERS and x not in ring:
            level = "established"
        flags = tuple(f for f, on in (("new", level == "new"), ("ring", x in ring)) if on)
        out[x] = Reputation(
            subject=x,
            score=100.0 * (p.prior_weight * p.neutral + s_sum) / (p.prior_weight + w_sum),
            confidence=w_sum / (w_sum + p.prior_weight),
            standing=standing_of(x),
            ratings=count,
            raters=len(ps),
            as_agreed=agreed_w / w_sum if w_sum > 0 else None,
            ring=x in ring,
            ring_ratings=ring_count,
            level=level,
            first_deal=min(times),
            last_deal=max(times),
            flags=flags,
        )
    return out


#: Raters of an agent whose own ratings an agent fetches to weigh them (the second hop of a lookup).
MAX_EXPANDED_RATERS = 16


def raters_to_expand(
    subject: bytes, ratings: Iterable[Rating], limit: int = MAX_EXPANDED_RATERS
) -> list[bytes]:
    """Which raters of ``subject`` to look up next (their own ratings give their standing and show rings):
    those with the most recent deals with it first, at most ``limit``.

    Args:
        subject: the agent being scored.
        ratings: the ratings about it fetched so far.
        limit: most raters returned.

    Returns:
        Rater keys, most recent counterpart first.
    """
    latest: dict[bytes, float] = {}
    for r in ratings:
        if r.subject == subject and r.rater != subject:
            latest[r.rater] = max(latest.get(r.rater, r.at), r.at)
    return sorted(latest, key=lambda k: (-latest[k], k))[:limit]


def score_subject(
    subject: bytes,
    ratings: Iterable[Rating],
    now: float,
    params: ScoreParams | None = None,
    observer: bytes | None = None,
    complete: Iterable[bytes] | None = None,
) -> Reputation:
    """The reputation of one agent (:func:`score_all` over the ratings given, or :func:`unrated`)."""
    return score_all(ratings, now, params, observer, complete).get(subject) or unrated(subject, params)
