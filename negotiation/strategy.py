"""Negotiation strategies: what price to offer next, and whether to take the peer's offer.

A strategy sees a :class:`Context` — its role, its **private** limit and opening prices, the round it is
about to speak in, the cap, its own horizon, and both sides' offers so far — and never anything else.
The limit it sees (``Context.reservation``) is already the *guarded* one: the human's reservation moved
by the session's private random margin (:mod:`negotiation.margin`), so no strategy, built-in or
plugged in, can offer or reveal the reservation itself. The session clamps every proposal to that limit,
and never accepts beyond it, whatever a strategy says: a buggy or hostile plug-in strategy can lose
value but cannot break the human's limit.

Built-ins (time-dependent concession after Faratin, Sierra & Jennings 1998, and tit-for-tat):

* ``time`` with an ``exponent`` e: at progress t in [0, 1] the target moves from the opening price to the
  reservation by ``t ** (1 / e)``. ``boulware`` is e=0.25 (holds firm, concedes late), ``linear`` e=1,
  ``conceder`` e=4 (concedes early).
* ``tit_for_tat``: mirrors the peer's last concession (in price), never conceding less than a time
  schedule (``floor_exponent``), so it still reaches its reservation by the horizon.

Progress is measured against our **own** horizon (``Context.horizon``: the round cap our side chose),
never the peer's: an initiator asking for a tiny ``max_rounds`` ends the session sooner but does not
make us concede faster. Progress reaches 1 ``spare`` rounds before the horizon, so a zone of agreement,
if there is one, is found with rounds to spare. A researcher adds a strategy by subclassing
:class:`Strategy` and calling :func:`register_strategy`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from negotiation.types import Role

#: Rounds before the horizon at which the built-in schedules reach their limit.
DEFAULT_SPARE_ROUNDS = 2


@dataclass(frozen=True)
class Context:
    """What a strategy may know when it speaks.

    Attributes:
        role: SELLER (wants a high price) or BUYER.
        reservation: the worst unit price (minor units) the strategy may offer or accept: the human's
            reservation moved by the session's private margin (private, never sent).
        opening: the unit price we would like best and open with.
        round: the round number our next message will carry.
        max_rounds: this session's cap: offers may carry rounds 0..max_rounds-1; at ``max_rounds`` only
            ACCEPT/REJECT remain. The initiator chose it (at most our horizon).
        my_offers: our unit prices offered so far, oldest first.
        their_offers: the peer's unit prices offered so far, oldest first.
        spare: rounds before the horizon at which the schedules reach the limit.
        horizon: our own round horizon (the cap our side would choose); None means ``max_rounds``.
    """

    role: Role
    reservation: int
    opening: int
    round: int
    max_rounds: int
    my_offers: tuple[int, ...] = ()
    their_offers: tuple[int, ...] = ()
    spare: int = DEFAULT_SPARE_ROUNDS
    horizon: int | None = None

    @property
    def progress(self) -> float:
        """Time in [0, 1]: 0 at round 0, 1 at ``horizon - 1 - spare`` and after (our horizon, not the
        peer's cap)."""
        horizon = max(1, (self.horizon or self.max_rounds) - 1 - self.spare)
        return min(1.0, max(0.0, self.round / horizon))

    @property
    def can_offer(self) -> bool:
        """False when the cap leaves only ACCEPT or REJECT."""
        return self.round < self.max_rounds

    def utility(self, price: int) -> float:
        """1 at the opening price, 0 at the reservation, negative beyond it (linear in price)."""
        span = self.opening - self.reservation
        if span == 0:
            return 1.0 if self.acceptable(price) else -1.0
        return (price - self.reservation) / span

    def acceptable(self, price: int) -> bool:
        """True if ``price`` is within the reservation."""
        return price >= self.reservation if self.role is Role.SELLER else price <= self.reservation

    def price_at(self, level: float) -> int:
        """The unit price whose utility is ``level`` (clamped to [0, 1]), rounded in our favour."""
        level = min(1.0, max(0.0, level))
        exact = self.reservation + level * (self.opening - self.reservation)
        return math.ceil(exact) if self.role is Role.SELLER else math.floor(exact)

    def better(self, a: int, b: int) -> int:
        """The better of two prices for us."""
        return max(a, b) if self.role is Role.SELLER else min(a, b)


class Strategy(ABC):
    """A pluggable negotiation strategy. Subclasses set ``name`` and implement :meth:`propose`."""

    name: ClassVar[str] = "strategy"

    @abstractmethod
    def propose(self, ctx: Context) -> int:
        """The unit price (minor units) to offer in ``ctx.round``.

        Args:
            ctx: the strategy's view of the session.

        Returns:
            A price; the session clamps it to the reservation.
        """

    def accept(self, ctx: Context, price: int) -> bool:
        """Whether to accept the peer's offer of ``price`` (default: AC_next, then AC_last).

        Accepts when the offer is within the reservation and at least as good as what we would offer
        next, or when the cap leaves us no counter-offer.

        Args:
            ctx: the strategy's view, ``ctx.round`` being the round our reply would carry.
            price: the peer's unit price.

        Returns:
            True to accept.
        """
        if not ctx.acceptable(price):
            return False
        if not ctx.can_offer:
            return True
        return ctx.utility(price) >= ctx.utility(self.propose(ctx))

    def params(self) -> dict[str, Any]:
        """Parameters that rebuild this strategy with :func:`make_strategy` (for persistence)."""
        return {}


class TimeDependent(Strategy):
    """Time-dependent concession: target utility ``1 - t ** (1 / exponent)``.

    Args:
        exponent: < 1 Boulware (firm), 1 linear, > 1 Conceder.
    """

    name: ClassVar[str] = "time"

    def __init__(self, exponent: float = 1.0) -> None:
        if not 0.01 <= exponent <= 100:
            raise ValueError("exponent must be in [0.01, 100]")
        self.exponent = float(exponent)

    def propose(self, ctx: Context) -> int:
        return ctx.price_at(1.0 - ctx.progress ** (1.0 / self.exponent))

    def params(self) -> dict[str, Any]:
        return {"exponent": self.exponent}


class Boulware(TimeDependent):
    name: ClassVar[str] = "boulware"

    def __init__(self, exponent: float = 0.25) -> None:
        super().__init__(exponent)


class Linear(TimeDependent):
    name: ClassVar[str] = "linear"

    def __init__(self, exponent: float = 1.0) -> None:
        super().__init__(exponent)


class Conceder(TimeDependent):
    name: ClassVar[str] = "conceder"

    def __init__(self, exponent: float = 4.0) -> None:
        super().__init__(exponent)


class TitForTat(Strategy):
    """Relative tit-for-tat: concede (in price) what the peer conceded last, at least a time schedule.

    Args:
        floor_exponent: the schedule (as in :class:`TimeDependent`) it never lags behind.
    """

    name: ClassVar[str] = "tit_for_tat"

    def __init__(self, floor_exponent: float = 0.5) -> None:
        self.floor = TimeDependent(floor_exponent)

    def propose(self, ctx: Context) -> int:
        schedule = self.floor.propose(ctx)
        if not ctx.my_offers or len(ctx.their_offers) < 2:
            return schedule
        conceded = abs(ctx.their_offers[-1] - ctx.their_offers[-2])
        last = ctx.my_offers[-1]
        mirrored = last - conceded if ctx.role is Role.SELLER else last + conceded
        # the less greedy of the two: mirror the peer, but never lag the schedule
        return mirrored if ctx.better(mirrored, schedule) == schedule else schedule

    def params(self) -> dict[str, Any]:
        return {"floor_exponent": self.floor.exponent}


#: name -> factory(**params). Researchers add theirs with register_strategy.
STRATEGIES: dict[str, Callable[..., Strategy]] = {}


def register_strategy(name: str, factory: Callable[..., Strategy]) -> None:
    """Make a strategy available by name (CLI, simulator, persisted sessions).

    Args:
        name: the registry key.
        factory: called with keyword parameters, returns a Strategy.

    Raises:
        ValueError: the name is taken.
    """
    if name in STRATEGIES:
        raise ValueError(f"strategy {name!r} is already registered")
    STRATEGIES[name] = factory


def make_strategy(name: str, **params: Any) -> Strategy:
    """Build a registered strategy.

    Args:
        name: a key of :data:`STRATEGIES`.
        **params: passed to the factory.

    Returns:
        The strategy.

    Raises:
        KeyError: unknown name.
    """
    try:
        factory = STRATEGIES[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}") from None
    return factory(**params)


for _cls in (TimeDependent, Boulware, Linear, Conceder, TitForTat):
    register_strategy(_cls.name, _cls)
