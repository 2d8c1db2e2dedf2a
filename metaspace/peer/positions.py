"""Private positions of the agent's intents: the reservation, the opening, and the private randomness.

A position is what a negotiation session defends (:class:`negotiation.Position`), built from the human's
private limit (in its currency) and the prices the two intents publish:

* a **seller's floor** is the private limit its human set, else its own asking price (the agent never
  sells below what the human asked: no silent discount); with neither it refuses and says what to set.
  A seller with only a floor opens at a private random markup above it, never at the floor;
* a **buyer's ceiling** is its private limit, else its own price, else the seller's asking price; it
  opens at ``BUYER_OPENING_SHARE`` of the ceiling (or the seller's ask if lower);
* a limit in another currency than the deal's is refused, not reinterpreted; the other side's price in
  another currency is ignored.

The randomness (the session's private margin, a seller's opening markup) comes from :func:`intent_rng`:
keyed by the identity secret and the intent id, so it is the same for every session on an intent and
unknowable to anyone else.
"""

from __future__ import annotations

import hashlib
import hmac

from metaspace.api.contract import BadRequest
from metaspace.peer.db import PrivateLimit
from negotiation import Position, Role
from negotiation.guardian import role_of
from negotiation.margin import DigestRng, public_ask
from wire.identity import Identity
from wire.intent import Intent

#: Without a stated limit a buyer opens at this share of its ceiling.
BUYER_OPENING_SHARE = 0.8
MARGIN_DOMAIN = b"metaspace/v1/negotiation/margin/"
OPENING_DOMAIN = b"metaspace/v1/negotiation/opening/"


def intent_rng(identity: Identity, intent_id: bytes, domain: bytes = MARGIN_DOMAIN) -> DigestRng:
    """A random source private to one of our intents: keyed by the identity secret, stable across
    sessions and restarts (so a counterparty that reopens meets the same margin)."""
    return DigestRng(hmac.new(identity.seed, domain + intent_id, hashlib.sha256).digest())


def position_for(
    mine: Intent,
    other: Intent,
    limit: PrivateLimit | None,
    currency: str,
    identity: Identity,
    default_currency: str,
) -> Position:
    """Our private position for ``mine`` against ``other`` (unit prices in minor units of ``currency``).

    Args:
        mine: our intent.
        other: the counterpart's intent.
        limit: the human's private limit for ``mine`` (None: none set).
        currency: the deal's currency.
        identity: ours (keys the opening drawn when a seller has only a floor).
        default_currency: the currency of a legacy limit stored without one.

    Returns:
        The position.

    Raises:
        BadRequest: no floor (seller) or no ceiling (buyer) to negotiate from, or a limit in another
            currency than the deal's — the message says what the human must set.
    """
    my_price = mine.price.unit_amount(mine.quantity) if mine.price else None
    their_price = (
        other.price.unit_amount(other.quantity)
        if other.price is not None and other.price.currency == currency
        else None
    )
    # a legacy limit (no currency recorded) was checked against the intent's price when it was set
    limit_currency = None
    if limit is not None:
        limit_currency = limit.currency or (mine.price.currency if mine.price else default_currency)
    if limit_currency is not None and limit_currency != currency:
        raise BadRequest(
            f"your private limit is in {limit_currency} but this deal is in {currency}:"
            f" set a limit in {currency} (metaspace sell/buy ... --limit AMOUNT {currency})"
        )
    if role_of(mine.action) is Role.SELLER:
        if limit is None and my_price is None:
            raise BadRequest(
                "no floor to negotiate from: publish an asking price or set a private minimum"
                " (metaspace sell ... --limit AMOUNT)"
            )
        floor = limit.amount_minor if limit is not None else my_price
        assert floor is not None
        if my_price is not None:
            opening = max(floor, my_price)
        else:  # only a floor: open at a private markup above it, never at the floor itself
            opening = max(
                floor, their_price or 0, public_ask(floor, intent_rng(identity, mine.id, OPENING_DOMAIN))
            )
        return Position(reservation=floor, opening=opening)
    ceiling = limit.amount_minor if limit is not None else (my_price if my_price is not None else their_price)
    if ceiling is None:
        raise BadRequest(
            "no ceiling to negotiate from: publish a price or set a private maximum"
            " (metaspace buy ... --limit AMOUNT)"
        )
    opening = int(ceiling * BUYER_OPENING_SHARE)
    if their_price is not None:
        opening = min(opening, their_price)
    return Position(reservation=ceiling, opening=max(0, opening))
