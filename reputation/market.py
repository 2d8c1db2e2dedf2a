"""A synthetic market of honest traders, cheaters and Sybils, to measure the scoring against attacks.

Sans-IO like the rest of the core: the caller passes a ``random.Random`` and ``now``. Every deal yields
the two ratings its parties would publish (each side rates the other), as :class:`~reputation.score.Rating`
— the same values ``wire.records.open_rating`` gives after checking a real record's evidence.

* **Honest traders** deal with random honest traders and cheaters over ``days``; they rate a good deal
  5 stars (4 or 3 now and then) "as agreed", and a cheater's deal 1-2 stars "not as agreed".
* **Cheaters** trade like honest ones but don't deliver; they rate everyone 5 stars.
* **Sybils** are one attacker's identities. They co-sign fake agreements among themselves (every pair
  ``sybil_deals_per_pair`` times, all recent) and rate each other 5 stars — their signatures are real, so
  every storing node accepts those ratings. Optionally each also makes ``sybil_real_deals`` genuine,
  well-behaved deals with honest traders, and the attacker adds a *feeder* tree of ``sybil_feeders``
  fresh identities per Sybil, each of which fakes one deal with it.
* **Newcomers** are honest agents with no deal yet (they score the neutral 50).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from reputation.score import (
    DAY_S,
    Rating,
    Reputation,
    ScoreParams,
    raters_to_expand,
    score_all,
    score_subject,
    unrated,
)

T = TypeVar("T")


class Rng(Protocol):
    """What the simulation needs from a random source (a ``random.Random`` satisfies it)."""

    def random(self) -> float: ...

    def uniform(self, a: float, b: float) -> float: ...

    def choice(self, seq: Sequence[T]) -> T: ...

    def sample(self, population: Sequence[T], k: int) -> list[T]: ...


@dataclass(frozen=True)
class MarketConfig:
    """The population and its behaviour (see the module docstring)."""

    honest: int = 150
    cheaters: int = 15
    newcomers: int = 10
    deals_per_trader: float = 8.0
    sybils: int = 12
    sybil_deals_per_pair: int = 3
    sybil_real_deals: int = 0
    sybil_feeders: int = 0
    days: float = 180.0
    noise: float = 0.15

    def __post_init__(self) -> None:
        if self.honest < 2 or min(self.cheaters, self.newcomers, self.sybils, self.sybil_feeders) < 0:
            raise ValueError("need at least 2 honest traders and no negative counts")
        if self.deals_per_trader < 0 or self.days <= 0 or not 0 <= self.noise <= 1:
            raise ValueError("deals_per_trader >= 0, days > 0, 0 <= noise <= 1")


@dataclass
class Market:
    """The agents by class and every rating they published."""

    honest: list[bytes] = field(default_factory=list)
    cheaters: list[bytes] = field(default_factory=list)
    newcomers: list[bytes] = field(default_factory=list)
    sybils: list[bytes] = field(default_factory=list)
    feeders: list[bytes] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)


def _ids(prefix: bytes, n: int) -> list[bytes]:
    return [prefix + i.to_bytes(4, "big") + bytes(32 - len(prefix) - 4) for i in range(n)]


def simulate(config: MarketConfig, rng: Rng, now: float) -> Market:
    """Generate a market's ratings.

    Args:
        config: the population.
        rng: the randomness (a seed reproduces the market).
        now: the end of the simulated period.

    Returns:
        The :class:`Market`.
    """
    c = config
    m = Market(
        honest=_ids(b"H", c.honest), cheaters=_ids(b"C", c.cheaters), newcomers=_ids(b"N", c.newcomers),
        sybils=_ids(b"S", c.sybils), feeders=_ids(b"F", c.sybils * c.sybil_feeders),
    )  # fmt: skip
    counter = 0

    def deal(a: bytes, b: bytes, when: float, rate_a: tuple[int, bool], rate_b: tuple[int, bool]) -> None:
        """a and b make a deal at ``when``; a rates b ``rate_b``, b rates a ``rate_a``."""
        nonlocal counter
        counter += 1
        session = counter.to_bytes(16, "big")
        m.ratings.append(Rating(a, b, session, rate_b[0], rate_b[1], when))
        m.ratings.append(Rating(b, a, session, rate_a[0], rate_a[1], when))

    def honest_view() -> tuple[int, bool]:
        return (rng.choice((4, 3)) if rng.random() < c.noise else 5), True

    def cheated() -> tuple[int, bool]:
        return rng.choice((1, 2)), False

    traders = m.honest + m.cheaters
    cheaters = set(m.cheaters)
    start = now - c.days * DAY_S
    for _ in range(int(len(traders) * c.deals_per_trader / 2)):
        a, b = rng.sample(traders, 2)
        when = rng.uniform(start, now)
        # how each side's deal went, as the other side sees it
        a_seen = cheated() if a in cheaters else honest_view()
        b_seen = cheated() if b in cheaters else honest_view()
        if a in cheaters:
            b_seen = (5, True)  # a cheater rates everyone well
        if b in cheaters:
            a_seen = (5, True)
        deal(a, b, when, a_seen, b_seen)
    recent = now - 30 * DAY_S
    for i, s in enumerate(m.sybils):
        for t in m.sybils[i + 1 :]:
            for _ in range(c.sybil_deals_per_pair):
                deal(s, t, rng.uniform(recent, now), (5, True), (5, True))
        for _ in range(c.sybil_real_deals):
            h = rng.choice(m.honest)
            deal(s, h, rng.uniform(start, now), honest_view(), (5, True))
        for f in m.feeders[i * c.sybil_feeders : (i + 1) * c.sybil_feeders]:
            deal(s, f, rng.uniform(recent, now), (5, True), (5, True))
    return m


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None}
    return {
        "n": len(values),
        "min": round(min(values), 1),
        "median": round(statistics.median(values), 1),
        "max": round(max(values), 1),
    }


def lookup_view(subject: bytes, ratings: list[Rating]) -> tuple[list[Rating], set[bytes]]:
    """The ratings an agent fetches to score ``subject``: those about it, and those about the raters
    :func:`~reputation.score.raters_to_expand` picks (two DHT hops, as ``metaspace`` does).

    Returns:
        The ratings and the agents whose received ratings are all among them.
    """
    about: dict[bytes, list[Rating]] = {}
    for r in ratings:
        about.setdefault(r.subject, []).append(r)
    first = about.get(subject, [])
    out = list(first)
    complete = {subject}
    for rater in raters_to_expand(subject, first):
        out.extend(about.get(rater, []))
        complete.add(rater)
    return out, complete


def figures(
    market: Market,
    now: float,
    params: ScoreParams | None = None,
    observer: bytes | None = None,
    *,
    lookup: bool = False,
) -> dict[str, Any]:
    """Scores by class (min/median/max), rings flagged by class, and the ring-vs-honest margin.

    Args:
        market: a simulated market.
        now: the time of scoring.
        params: the scoring knobs.
        observer: score as this agent sees it (None: nobody's own deals are privileged).
        lookup: score each agent from what a lookup fetches (:func:`lookup_view`), not from every rating.

    Returns:
        ``{"honest": {...}, "cheaters": {...}, "sybils": {...}, "newcomers": {...}, "ring_flagged": {...},
        "margin": min honest score - max Sybil score}`` (honest: traders with at least 3 rated deals).
    """
    reps: dict[bytes, Reputation] = score_all(market.ratings, now, params, observer)
    if lookup:
        agents = market.honest + market.cheaters + market.newcomers + market.sybils
        reps = {}
        for a in agents:
            view, complete = lookup_view(a, market.ratings)
            rep = score_subject(a, view, now, params, observer, complete)
            if rep.ratings:
                reps[a] = rep

    def score(agent: bytes) -> float:
        return (reps.get(agent) or unrated(agent, params)).score

    honest = [a for a in market.honest if (reps.get(a) and reps[a].ratings >= 3)]
    classes = (("honest", market.honest), ("cheaters", market.cheaters), ("sybils", market.sybils))
    out: dict[str, Any] = {
        "honest": _summary([score(a) for a in honest]),
        "cheaters": _summary([score(a) for a in market.cheaters]),
        "sybils": _summary([score(a) for a in market.sybils]),
        "newcomers": _summary([score(a) for a in market.newcomers]),
        "ring_flagged": {
            name: sum(1 for a in agents if reps.get(a) is not None and reps[a].ring)
            for name, agents in classes
        },
        "ratings": len(market.ratings),
    }
    if honest and market.sybils:
        out["margin"] = round(min(score(a) for a in honest) - max(score(a) for a in market.sybils), 1)
        out["median_margin"] = round(out["honest"]["median"] - out["sybils"]["median"], 1)
    return out
