"""The language-neutral Intent: what a human wants, as a signed, self-certifying DHT record.

An intent says *what* (action, category, attributes, price, quantity), *where* (an H3 cell no finer than
res 7 and a radius), and *when* (created, expires at most 7 days later). ``(author, id, seq)`` gives
replace semantics: a higher seq replaces, a lower or equal one is refused. Withdrawing an intent is
publishing it again with a higher seq and ``withdrawn=True``.

``contact`` (optional) lists where the author's agent takes INTENT_MATCH and negotiation streams: its
transport multiaddrs (no ``/p2p/``: the author key is the peer id to expect there). An agent whose human
shares nothing signs each intent with a key of its own and serves it at an address of its own, so the
intents can't be linked to each other or to the agent's DHT node (see ``metaspace.peer.personas``).

``extra_groups`` (optional, at most ``MAX_EXTRA_GROUPS``) names other taxonomy groups that an agent unsure
of the category also files the intent under: it is stored under the DHT key of each of its ``groups`` and
indexed in each group's partition, so a counterpart whose text was read into the runner-up group still meets
it (issue 11's "publish a low-confidence intent under its top candidates"). It is signed like every field.
"""

from __future__ import annotations

import enum
import re
from dataclasses import field, replace

from wire.codec import bounded, message
from wire.currency import is_currency
from wire.errors import LocalProtocolError
from wire.geo import MAX_INTENT_RES, is_cell, resolution
from wire.limits import (
    MAX_ADDR_LEN,
    MAX_ADDRS_PER_PEER,
    MAX_AMOUNT_MINOR,
    MAX_ATTR_KEY_LEN,
    MAX_ATTR_VALUE_LEN,
    MAX_ATTRIBUTES,
    MAX_CATEGORY_LEN,
    MAX_EXTRA_GROUPS,
    MAX_INTENT_TTL_S,
    MAX_QUANTITY,
    MAX_RADIUS_KM,
    MAX_TEXT_LEN,
)
from wire.taxonomy import category_codes, group_names, group_of

INTENT_ID_LEN = 16
# Used with fullmatch: "$" would also match before a trailing newline ("size\n").
_ATTR_KEY = re.compile(r"[a-z][a-z0-9_]*")
_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")


class Action(enum.StrEnum):
    SELL = "SELL"
    BUY = "BUY"
    OFFER_SERVICE = "OFFER_SERVICE"
    SEEK_SERVICE = "SEEK_SERVICE"

    @property
    def inverse(self) -> Action:
        return INVERSE[self]

    @property
    def demand(self) -> bool:
        """True for the demand side (BUY, SEEK_SERVICE), False for supply (SELL, OFFER_SERVICE). Two intents
        are counterparts when their sides differ, whatever goods/service form each one's category gave it."""
        return self in (Action.BUY, Action.SEEK_SERVICE)


#: The one table of inverse actions: an intent with action A matches intents with INVERSE[A].
INVERSE: dict[Action, Action] = {
    Action.SELL: Action.BUY,
    Action.BUY: Action.SELL,
    Action.OFFER_SERVICE: Action.SEEK_SERVICE,
    Action.SEEK_SERVICE: Action.OFFER_SERVICE,
}


@message
class Price:
    """An amount in the currency's minor units (cents), per unit or for the whole quantity."""

    amount_minor: int = bounded(min=0, max=MAX_AMOUNT_MINOR)
    currency: str = bounded(len=3)
    per_unit: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.amount_minor <= MAX_AMOUNT_MINOR:
            raise LocalProtocolError("price amount out of range")
        if not is_currency(self.currency):
            raise LocalProtocolError(f"unknown ISO-4217 currency {self.currency!r}")

    def unit_amount(self, quantity: int) -> int:
        """Price of one unit in minor units."""
        return self.amount_minor if self.per_unit else self.amount_minor // max(1, quantity)


@message
class Intent:
    id: bytes = bounded(len=INTENT_ID_LEN)
    author: bytes = bounded(len=32)
    seq: int = bounded(min=0, max=2**63 - 1)
    action: Action = Action.SELL
    category: str = bounded(max=MAX_CATEGORY_LEN, default="other/misc")
    attributes: dict[str, str] = field(
        default_factory=dict,
        metadata={"max": MAX_ATTRIBUTES, "key_max": MAX_ATTR_KEY_LEN, "value_max": MAX_ATTR_VALUE_LEN},
    )
    price: Price | None = None
    quantity: int = bounded(min=1, max=MAX_QUANTITY, default=1)
    cell: str = bounded(max=16, default="")
    radius_km: int = bounded(min=0, max=MAX_RADIUS_KM, default=0)
    created: int = bounded(min=0, max=2**40, default=0)
    expires: int = bounded(min=0, max=2**40, default=0)
    text: str | None = bounded(max=MAX_TEXT_LEN, default=None)
    lang: str | None = bounded(max=12, default=None)
    withdrawn: bool = False
    contact: list[str] | None = bounded(
        default=None, metadata={"max": MAX_ADDRS_PER_PEER, "item": {"max": MAX_ADDR_LEN}}
    )
    extra_groups: list[str] | None = bounded(
        default=None, metadata={"max": MAX_EXTRA_GROUPS, "item": {"max": MAX_CATEGORY_LEN}}
    )

    def __post_init__(self) -> None:
        if len(self.id) != INTENT_ID_LEN or len(self.author) != 32:
            raise LocalProtocolError("intent id must be 16 bytes and author a 32-byte key")
        if not isinstance(self.action, Action):
            raise LocalProtocolError(f"unknown action {self.action!r}")
        if self.category not in category_codes():
            raise LocalProtocolError(f"unknown category {self.category!r}")
        if len(self.attributes) > MAX_ATTRIBUTES:
            raise LocalProtocolError("too many attributes")
        for k, v in self.attributes.items():
            if not _ATTR_KEY.fullmatch(k) or len(k) > MAX_ATTR_KEY_LEN:
                raise LocalProtocolError(f"attribute key {k!r} is not canonical (lowercase ascii)")
            if not v or len(v) > MAX_ATTR_VALUE_LEN:
                raise LocalProtocolError(f"attribute value for {k!r} is empty or too long")
        if not 1 <= self.quantity <= MAX_QUANTITY:
            raise LocalProtocolError("quantity out of range")
        if not is_cell(self.cell):
            raise LocalProtocolError(f"not an H3 cell: {self.cell!r}")
        if resolution(self.cell) > MAX_INTENT_RES:
            raise LocalProtocolError(f"location finer than H3 res {MAX_INTENT_RES} is never disclosed")
        if not 0 <= self.radius_km <= MAX_RADIUS_KM:
            raise LocalProtocolError("radius out of range")
        if not self.created < self.expires <= self.created + MAX_INTENT_TTL_S:
            raise LocalProtocolError("expires must be after created and at most 7 days later")
        if self.text is not None and len(self.text) > MAX_TEXT_LEN:
            raise LocalProtocolError("text too long")
        if self.lang is not None and not _LANG.fullmatch(self.lang):
            raise LocalProtocolError(f"bad language tag {self.lang!r}")
        if self.contact is not None:
            if not 1 <= len(self.contact) <= MAX_ADDRS_PER_PEER:
                raise LocalProtocolError(f"contact lists 1..{MAX_ADDRS_PER_PEER} addresses")
            if any(not a.startswith("/") or len(a) > MAX_ADDR_LEN for a in self.contact):
                raise LocalProtocolError("a contact address is not a multiaddr of at most MAX_ADDR_LEN")
        if self.extra_groups is not None:
            if not 1 <= len(self.extra_groups) <= MAX_EXTRA_GROUPS:
                raise LocalProtocolError(f"extra_groups lists 1..{MAX_EXTRA_GROUPS} groups")
            if any(g not in group_names() for g in self.extra_groups):
                raise LocalProtocolError(f"extra_groups names an unknown group: {self.extra_groups!r}")
            if group_of(self.category) in self.extra_groups or len(set(self.extra_groups)) != len(
                self.extra_groups
            ):
                raise LocalProtocolError("extra_groups repeats a group (or the category's own)")

    @property
    def groups(self) -> tuple[str, ...]:
        """The taxonomy groups this intent is filed under: its category's first, then ``extra_groups``."""
        return (group_of(self.category), *(self.extra_groups or ()))

    @property
    def key(self) -> tuple[bytes, bytes]:
        """The replace-semantics identity of an intent: (author, id)."""
        return (self.author, self.id)

    def next_version(self, **changes: object) -> Intent:
        """A copy with ``seq + 1`` and the given field changes (republish, edit, withdraw)."""
        return replace(self, seq=self.seq + 1, **changes)  # type: ignore[arg-type]

    def is_live(self, now: float) -> bool:
        return not self.withdrawn and self.expires > now
