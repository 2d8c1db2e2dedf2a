"""Churn: how long a node stays (its session), when new nodes arrive, and who comes back.

Theory of operation
-------------------
A ``SessionModel`` is a session-length distribution: exponential or Weibull, given by its shape and its
*median* (the figure measurements report). The default, ``ipfs``, is a Weibull with median 2 h — ProbeLab's
RFM 2 crawl of the public IPFS DHT found that about half of the new peers leave within 2 hours — and shape
0.6, the heavy tail that P2P session measurements keep finding (Stutzbach & Rejaie, IMC 2006: Weibull
shapes 0.34-0.59; many short sessions and a few that last days). The shape is our assumption, the median
is the measurement.

``ChurnProcess`` drives one population on the engine:

* **Steady state from the start.** The nodes alive at the start did not all just arrive: each gets the
  *residual* session of a stationary renewal process (a length-biased session, cut at a uniform point),
  so the departure rate is flat from the first minute instead of a burst of short sessions.
* **Arrivals** form a Poisson process of rate ``N / mean session`` (an M/G/inf population: the number of
  live nodes stays around N, within about sqrt(N)).
* **Who arrives.** With probability ``same_id`` a node that left earlier comes back with its old identity
  (same key, address and publisher identity, a fresh core: routing table and record store are not kept;
  an agent republishes its own live intents once it has joined); otherwise a new identity arrives.
* **Joining** runs the core's real ``bootstrap`` through ``seeds`` random live nodes.
* **Leaving** is ``engine.remove``: requests to the node then fail as the engine's ``dead_mode`` says.

Malicious nodes (``sim.adversary``) do not churn: the attacker keeps its nodes online.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.engine import ABANDONED

HOUR = 3600.0
#: The default session median: ProbeLab RFM 2 (IPFS): ~50% of new peers leave within 2 h.
IPFS_MEDIAN_S = 2 * HOUR
#: The default Weibull shape (our assumption, in the range P2P session measurements report).
IPFS_SHAPE = 0.6

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(ms|s|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": HOUR, "d": 24 * HOUR, None: 1.0}


def parse_duration(text: str) -> float:
    """A duration such as ``"2h"``, ``"30m"``, ``"90s"``, ``"500ms"`` or ``"7200"`` (seconds), in seconds.

    Raises:
        ValueError: not a non-negative duration.
    """
    m = _DURATION.match(text)
    if m is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 2h, 30m, 90s)")
    unit = m.group(2).lower() if m.group(2) else None
    return float(m.group(1)) * _UNIT_S[unit]


@dataclass(frozen=True)
class SessionModel:
    """A session-length distribution (see the module docstring).

    Attributes:
        kind: "none" (nobody leaves), "exp" or "weibull".
        median_s: the median session, seconds.
        shape: the Weibull shape (1.0 for "exp").
    """

    kind: str = "none"
    median_s: float = math.inf
    shape: float = 1.0

    @property
    def enabled(self) -> bool:
        return self.kind != "none"

    @property
    def scale_s(self) -> float:
        """The Weibull scale lambda: median = lambda * ln(2) ** (1 / shape)."""
        return self.median_s / math.log(2.0) ** (1.0 / self.shape)

    @property
    def mean_s(self) -> float:
        """The mean session, seconds (lambda * Gamma(1 + 1/shape))."""
        if not self.enabled:
            return math.inf
        return self.scale_s * math.gamma(1.0 + 1.0 / self.shape)

    def fraction_within(self, t: float) -> float:
        """P(session <= t)."""
        if not self.enabled or t <= 0:
            return 0.0
        return 1.0 - math.exp(-((t / self.scale_s) ** self.shape))

    def draw(self, rng: random.Random) -> float:
        """A session length, seconds."""
        return rng.weibullvariate(self.scale_s, self.shape)

    def draw_residual(self, rng: random.Random) -> float:
        """The remaining session of a node found alive in the steady state, seconds.

        For a Weibull(lambda, c) the length-biased session is lambda * G ** (1/c) with G ~ Gamma(1 + 1/c, 1);
        the residual is a uniform fraction of it.
        """
        g = rng.gammavariate(1.0 + 1.0 / self.shape, 1.0)
        return self.scale_s * g ** (1.0 / self.shape) * rng.random()

    def describe(self) -> str:
        if not self.enabled:
            return "no churn"
        return (
            f"{self.kind} sessions, median {self.median_s / HOUR:g} h, shape {self.shape:g}, "
            f"mean {self.mean_s / HOUR:.2f} h ({100 * self.fraction_within(2 * HOUR):.0f}% leave within 2 h)"
        )


def parse_churn(spec: str) -> SessionModel:
    """A ``SessionModel`` from its command-line form.

    ``none``; ``ipfs`` (Weibull, median 2 h, shape 0.6); ``exp`` or ``exp:MEDIAN`` (exponential);
    ``weibull:SHAPE`` or ``weibull:SHAPE:MEDIAN``. MEDIAN is a duration (``2h``, ``45m``, ``600s``).

    Raises:
        ValueError: an unknown form, or a non-positive median or shape.
    """
    parts = [p.strip() for p in spec.strip().lower().split(":")]
    kind = parts[0]
    try:
        if kind == "none" and len(parts) == 1:
            return SessionModel()
        if kind == "ipfs" and len(parts) == 1:
            return SessionModel("weibull", IPFS_MEDIAN_S, IPFS_SHAPE)
        if kind == "exp" and len(parts) <= 2:
            median = parse_duration(parts[1]) if len(parts) == 2 else IPFS_MEDIAN_S
            model = SessionModel("exp", median, 1.0)
        elif kind == "weibull" and 2 <= len(parts) <= 3:
            median = parse_duration(parts[2]) if len(parts) == 3 else IPFS_MEDIAN_S
            model = SessionModel("weibull", median, float(parts[1]))
        else:
            raise ValueError("unknown form")
    except ValueError as exc:
        raise ValueError(
            f"bad churn {spec!r} ({exc}); use none, ipfs, exp[:MEDIAN] or weibull:SHAPE[:MEDIAN], "
            "e.g. weibull:0.5:90m"
        ) from None
    if not model.median_s > 0 or not math.isfinite(model.median_s):
        raise ValueError(f"bad churn {spec!r}: the median session must be positive")
    if not 0.05 <= model.shape <= 20:
        raise ValueError(f"bad churn {spec!r}: the Weibull shape must be in [0.05, 20]")
    return model


class LiveSet:
    """A set of node numbers with O(1) add, remove and uniform random pick (a list plus positions)."""

    __slots__ = ("_items", "_pos")

    def __init__(self, items: list[int] | None = None) -> None:
        self._items: list[int] = []
        self._pos: dict[int, int] = {}
        for i in items or []:
            self.add(i)

    def add(self, i: int) -> None:
        if i not in self._pos:
            self._pos[i] = len(self._items)
            self._items.append(i)

    def remove(self, i: int) -> None:
        pos = self._pos.pop(i, None)
        if pos is None:
            return
        last = self._items.pop()
        if last != i:
            self._items[pos] = last
            self._pos[last] = pos

    def pick(self, rng: random.Random) -> int:
        """A uniformly random member. Raises IndexError when empty."""
        return self._items[int(rng.random() * len(self._items))]

    def __contains__(self, i: object) -> bool:
        return i in self._pos

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[int]:
        return list(self._items)


class ChurnProcess:
    """Departures and arrivals of honest nodes on the engine (see the module docstring).

    Args:
        model: the session model (enabled).
        engine: the engine.
        rng: the churn RNG.
        live: the live honest nodes (kept up to date here; the workload picks searchers from it).
        population: the node factory: ``revive(i)`` gives a fresh core for identity ``i`` and
            ``new_node()`` registers a new identity and returns its number.
        target: the steady-state number of live honest nodes.
        same_id: probability that an arrival is a departed identity coming back.
        seeds: bootstrap seeds of an arriving node.
        until: no arrival is scheduled after this virtual time.
        on_joined: ``on_joined(i, returning)`` once node ``i``'s bootstrap ended.
    """

    def __init__(
        self,
        model: SessionModel,
        engine: Any,
        rng: random.Random,
        live: LiveSet,
        population: Any,
        target: int,
        same_id: float,
        seeds: int,
        until: float,
        on_joined: Callable[[int, bool], None] | None = None,
    ) -> None:
        self.model = model
        self.engine = engine
        self.rng = rng
        self.live = live
        self.population = population
        self.rate = target / model.mean_s  # arrivals per second
        self.same_id = same_id
        self.seeds = seeds
        self.until = until
        self.on_joined = on_joined
        self.departed = LiveSet()  # identities that left and may come back
        self._life: dict[int, int] = {}  # node -> the life its scheduled departure belongs to
        self.arrivals = 0
        self.returns = 0
        self.departures = 0
        self.joins_done = 0
        self.join_failures = 0

    def start(self) -> None:
        """Give every live node its residual session and schedule the first arrival."""
        now = self.engine.now
        for i in self.live.items():
            self._schedule_departure(i, now + self.model.draw_residual(self.rng))
        self._schedule_arrival(now)

    def _schedule_departure(self, i: int, t: float) -> None:
        life = self._life.get(i, 0) + 1
        self._life[i] = life
        self.engine.schedule(t, self._depart, (i, life))

    def _schedule_arrival(self, now: float) -> None:
        t = now + self.rng.expovariate(self.rate)
        if t < self.until:
            self.engine.schedule(t, self._arrive, None)

    def _depart(self, arg: tuple[int, int]) -> None:
        i, life = arg
        if self._life.get(i) != life or i not in self.live:
            return
        self.live.remove(i)
        self.engine.remove(i)
        self.departed.add(i)
        self.departures += 1

    def _arrive(self, _arg: Any) -> None:
        engine = self.engine
        self._schedule_arrival(engine.now)
        returning = len(self.departed) > 0 and self.rng.random() < self.same_id
        if returning:
            i = self.departed.pick(self.rng)
            self.departed.remove(i)
            engine.revive(i, self.population.revive(i))
            self.returns += 1
        else:
            i = self.population.new_node()
            self.arrivals += 1
        seeds = self._seeds(i)
        self.live.add(i)
        self._schedule_departure(i, engine.now + self.model.draw(self.rng))
        if not seeds:
            self._joined(i, returning, None)
            return
        contacts = [engine.nodes[j].contact for j in seeds]
        engine.start_op(
            i,
            lambda node, now: node.bootstrap(contacts, now),
            lambda _i, result, _t0: self._joined(i, returning, result),
        )

    def _seeds(self, i: int) -> list[int]:
        chosen: list[int] = []
        if not len(self.live):
            return chosen
        for _ in range(self.seeds * 4):
            j = self.live.pick(self.rng)
            if j != i and j not in chosen:
                chosen.append(j)
            if len(chosen) >= self.seeds:
                break
        return chosen

    def _joined(self, i: int, returning: bool, result: Any) -> None:
        if result is ABANDONED:  # it left before its join ended
            return
        if not getattr(result, "peers", None):
            self.join_failures += 1
        self.joins_done += 1
        if self.on_joined is not None and self.engine.alive[i]:
            self.on_joined(i, returning)

    def statistics(self) -> dict[str, int]:
        return {
            "arrivals_new_id": self.arrivals,
            "arrivals_same_id": self.returns,
            "departures": self.departures,
            "joins_done": self.joins_done,
            "join_failures": self.join_failures,
        }
