"""Private margins: what keeps a probing counterparty from learning, or getting, our reservation.

A strategy's schedule concedes from the opening price towards a limit. If that limit were the human's
reservation, a counterparty that plays to the end (or asks for a tiny round cap, or reopens) would be
handed the reservation itself. So a session never defends the reservation directly: it defends a
*guarded limit* moved away from it by a private margin ``m`` drawn once from the random source the
caller passes in (sans-IO: never ``import random`` here)::

    seller: guarded = ceil(reservation * (1 + m))     buyer: guarded = floor(reservation * (1 - m))

clamped to the opening price (we never move *past* our own opening to defend a margin). No offer and
no acceptance ever crosses the guarded limit, so against any counterparty behaviour the seller keeps at
least ``m * reservation`` (the buyer likewise), and the most a patient prober can learn is the guarded
limit — the reservation then lies in ``[g / (1 + MAX_MARGIN), g / (1 + MIN_MARGIN)]`` (seller), an
interval of ~4.8% with the defaults. The agent draws ``m`` from a generator seeded by a secret and the
intent id, so every session on one intent uses the same margin and reopening teaches nothing new.

The public asking price a seller publishes when the human gave only a floor ("at least $50") is drawn
the same way (:func:`public_ask`): a random markup, rounded to a price-like amount, so the floor can't
be computed from public data either.
"""

from __future__ import annotations

import hashlib
import math
from typing import Protocol

from negotiation.types import Position, Role
from wire.errors import LocalProtocolError
from wire.limits import MAX_AMOUNT_MINOR

#: The private margin is drawn uniformly from [MIN_MARGIN, MAX_MARGIN] (a share of the reservation).
#: MIN_MARGIN is what any counterparty is guaranteed to leave us; the spread is what hides the
#: reservation from a prober who learns the guarded limit exactly.
MIN_MARGIN = 0.05
MAX_MARGIN = 0.10
#: Largest margin a caller may configure (past this the agent would refuse most honest deals).
MARGIN_CAP = 0.5
#: The public ask derived from a private floor is floor x (1 + u), u uniform in this range, then
#: rounded up to three significant digits.
MIN_ASK_MARKUP = 0.15
MAX_ASK_MARKUP = 0.40
ASK_SIGNIFICANT_DIGITS = 3


class Rng(Protocol):
    """What the core needs from a random source (a ``random.Random`` instance satisfies it)."""

    def random(self) -> float: ...


class DigestRng:
    """A deterministic random source from a secret seed: sha256 in counter mode.

    Enough for drawing margins (a handful of draws); sans-IO code can build it without ``random``.
    The agent seeds it with a keyed hash of its identity secret and the intent id, so the margin of an
    intent is stable across sessions and restarts, and unknowable without the secret.

    Args:
        seed: the secret seed (any length; 32 bytes of key material recommended).
    """

    def __init__(self, seed: bytes) -> None:
        self._seed = bytes(seed)
        self._counter = 0

    def random(self) -> float:
        """A float uniform in [0, 1) (53 bits)."""
        self._counter += 1
        digest = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
        return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def check_margin_range(lo: float, hi: float) -> None:
    """Validate a configured margin range.

    Args:
        lo: smallest margin.
        hi: largest margin.

    Raises:
        ValueError: not ``0 <= lo <= hi <= MARGIN_CAP``.
    """
    if not 0.0 <= lo <= hi <= MARGIN_CAP:
        raise ValueError(f"a margin range must satisfy 0 <= lo <= hi <= {MARGIN_CAP}")


def draw_margin(rng: Rng, lo: float = MIN_MARGIN, hi: float = MAX_MARGIN) -> float:
    """A private margin, uniform in ``[lo, hi]``.

    Args:
        rng: the random source (the agent seeds it per intent from a secret).
        lo: smallest margin.
        hi: largest margin.

    Returns:
        The margin, a share of the reservation.

    Raises:
        ValueError: a bad range.
    """
    check_margin_range(lo, hi)
    return lo + (hi - lo) * rng.random()


def session_margin(rng: Rng | None, margin_range: tuple[float, float], margin: float | None) -> float:
    """A session's margin: ``margin`` if given (a restore), else drawn from ``rng`` in ``margin_range``.

    Raises:
        LocalProtocolError: no rng to draw from, or a bad range.
    """
    if margin is not None:
        return float(margin)
    if rng is None:
        raise LocalProtocolError("a session needs an rng to draw its private margin")
    try:
        return draw_margin(rng, *margin_range)
    except ValueError as exc:
        raise LocalProtocolError(str(exc)) from None


def guarded_limit(position: Position, role: Role, margin: float) -> int:
    """The price a session defends: the reservation moved by ``margin``, never past the opening.

    Args:
        position: the human's reservation and our opening price.
        role: SELLER (the limit moves up) or BUYER (down).
        margin: the private margin (a share of the reservation).

    Returns:
        The guarded unit price in minor units.
    """
    r = position.reservation
    if role is Role.SELLER:
        return min(max(r, math.ceil(r * (1.0 + margin))), position.opening, MAX_AMOUNT_MINOR)
    return max(min(r, math.floor(r * (1.0 - margin))), position.opening, 0)


def public_ask(floor_minor: int, rng: Rng) -> int:
    """A public asking price for a seller who stated only a private floor.

    Args:
        floor_minor: the floor (unit price, minor units).
        rng: a random source (the agent uses the operating system's).

    Returns:
        ``floor x (1 + u)`` with u uniform in [MIN_ASK_MARKUP, MAX_ASK_MARKUP], rounded up to
        ``ASK_SIGNIFICANT_DIGITS`` significant digits (so the markup can't be undone exactly).

    Raises:
        ValueError: a negative floor.
    """
    if floor_minor < 0:
        raise ValueError("a floor is a non-negative amount")
    raw = floor_minor * (1.0 + MIN_ASK_MARKUP + (MAX_ASK_MARKUP - MIN_ASK_MARKUP) * rng.random())
    digits = len(str(max(1, math.ceil(raw))))
    step = 10 ** max(0, digits - ASK_SIGNIFICANT_DIGITS)
    return min(MAX_AMOUNT_MINOR, max(floor_minor + 1, math.ceil(raw / step) * step))
