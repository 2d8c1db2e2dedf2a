"""Hypothesis strategies for every wire message, derived from the field types and codec bounds.

Imported by the other ``test_wire_*`` modules; the tests here only check the strategies themselves.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, Union

import h3
from hypothesis import given, settings
from hypothesis import strategies as st

from wire import geo
from wire.codec import _fields, _hints
from wire.currency import _EXPONENTS
from wire.envelope import agreement_signing_bytes
from wire.handover import HandoverConfirm, HandoverPropose
from wire.identity import Identity
from wire.intent import Action, Intent, Price
from wire.limits import MAX_INTENT_TTL_S
from wire.messages import MESSAGE_CLASSES, AgentProfile, Agreement, Autonomy, ReputationShare, Terms
from wire.taxonomy import category_codes

#: Collections are kept short (the bounds themselves are tested by hand elsewhere).
LIST_CAP = 3
BYTES_CAP = 40
STR_CAP = 24

CATEGORIES = sorted(category_codes())
CURRENCIES = sorted(_EXPONENTS)
# A few valid cells at every allowed resolution (0 .. MAX_INTENT_RES).
CELLS = sorted(
    {
        geo.cell_at(lat, lon, res)
        for lat, lon in [(20.5888, -100.3899), (40.7128, -74.0060), (-33.87, 151.21), (64.1, -21.9)]
        for res in range(geo.MAX_INTENT_RES + 1)
    }
)
ALICE = Identity(bytes(range(32)))
BOB = Identity(bytes(range(1, 33)))


def _optional_inner(tp: Any) -> Any | None:
    if typing.get_origin(tp) in (Union, types.UnionType) and type(None) in typing.get_args(tp):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return inner
    return None


def value_strategy(tp: Any, meta: typing.Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for one field value of type ``tp`` within the codec bounds in ``meta``."""
    inner = _optional_inner(tp)
    if inner is not None:
        return st.none() | value_strategy(inner, meta)
    origin = typing.get_origin(tp)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(meta.get("min", 0), meta.get("max", 2**64 - 1))
    if tp is bytes:
        if "len" in meta:
            return st.binary(min_size=meta["len"], max_size=meta["len"])
        return st.binary(max_size=min(meta.get("max", BYTES_CAP), BYTES_CAP))
    if tp is str:
        if "len" in meta:
            return st.text(min_size=meta["len"], max_size=meta["len"])
        return st.text(max_size=min(meta.get("max", STR_CAP), STR_CAP))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if tp is Intent:
        return intents()
    if tp is Price:
        return prices()
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return message_strategy(tp)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        return st.lists(
            value_strategy(item_tp, meta.get("item", {})), max_size=min(meta.get("max", LIST_CAP), LIST_CAP)
        )
    raise NotImplementedError(f"no strategy for {tp!r}")


def message_strategy(cls: type) -> st.SearchStrategy[Any]:
    """A strategy for instances of a message dataclass, one sub-strategy per field."""
    if cls is Intent:
        return intents()
    if cls is AgentProfile:
        return profiles()
    if cls is ReputationShare:
        return ratings()
    if cls is HandoverPropose:
        return handover_proposals()
    if cls is HandoverConfirm:
        return st.builds(HandoverConfirm, deal=st.binary(min_size=16, max_size=16),
                         proposal=st.binary(min_size=32, max_size=32), payment=payment_methods)  # fmt: skip
    hints = _hints(cls)
    return st.builds(cls, **{f.name: value_strategy(hints[f.name], f.metadata) for f in _fields(cls)})


def prices() -> st.SearchStrategy[Price]:
    return st.builds(
        Price,
        amount_minor=st.integers(0, 10**12),
        currency=st.sampled_from(CURRENCIES),
        per_unit=st.booleans(),
    )


attr_keys = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)
attr_values = st.text(min_size=1, max_size=64)
#: A rating's comment: printable, and never a lone surrogate (Cs), which no UTF-8 text holds: ``characters``
#: with a codepoint bound draws them (about 1 text in 250), and encoding one is refused by design.
_COMMENT_CHARS = st.characters(min_codepoint=32, exclude_characters="\x7f", exclude_categories=["Cs"])


@st.composite
def intents(draw: st.DrawFn, author: Identity | None = None) -> Intent:
    """Valid intents (Intent's own ``__post_init__`` rules: taxonomy, cell, expiry, keys)."""
    created = draw(st.integers(0, 2**40 - MAX_INTENT_TTL_S))
    return Intent(
        id=draw(st.binary(min_size=16, max_size=16)),
        author=(author or ALICE).pubkey,
        seq=draw(st.integers(0, 2**63 - 1)),
        action=draw(st.sampled_from(list(Action))),
        category=draw(st.sampled_from(CATEGORIES)),
        attributes=draw(st.dictionaries(attr_keys, attr_values, max_size=4)),
        price=draw(st.none() | prices()),
        quantity=draw(st.integers(1, 1_000_000)),
        cell=draw(st.sampled_from(CELLS)),
        radius_km=draw(st.integers(0, 500)),
        created=created,
        expires=created + draw(st.integers(1, MAX_INTENT_TTL_S)),
        text=draw(st.none() | st.text(max_size=80)),
        lang=draw(st.none() | st.from_regex(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", fullmatch=True)),
        withdrawn=draw(st.booleans()),
    )


def any_message() -> st.SearchStrategy[Any]:
    """Any message of any class in MESSAGE_CLASSES."""
    return st.one_of([message_strategy(cls) for cls in MESSAGE_CLASSES.values()])


@st.composite
def profiles(draw: st.DrawFn) -> AgentProfile:
    """Valid agent profiles (AgentProfile's own rules: handle form, tags, taxonomy, lifetime)."""
    created = draw(st.integers(0, 2**40 - MAX_INTENT_TTL_S))
    part = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,8}", fullmatch=True)
    return AgentProfile(
        seq=draw(st.integers(0, 2**63 - 1)),
        created=created,
        expires=created + draw(st.integers(1, MAX_INTENT_TTL_S)),
        protocols=draw(
            st.lists(st.from_regex(r"/[a-z0-9/._-]{1,20}", fullmatch=True), max_size=3, unique=True)
        ),
        handle=draw(st.none() | st.builds(lambda o, a: f"@{o}/{a}", part, part)),
        languages=draw(st.lists(st.sampled_from(["en", "es", "zh", "pt-BR"]), max_size=3, unique=True)),
        categories=draw(st.lists(st.sampled_from([*CATEGORIES[:20], "vehicles/*"]), max_size=3, unique=True)),
        autonomy=draw(st.none() | st.sampled_from(list(Autonomy))),
    )


payment_methods = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,23}", fullmatch=True)


@st.composite
def handover_proposals(draw: st.DrawFn) -> HandoverPropose:
    """Valid meeting proposals (HandoverPropose's own rules: cell, window, lifetime, payment methods)."""
    created = draw(st.integers(0, 2**40 - 2 * 24 * 3600))
    start = draw(st.integers(0, 2**40 - 9 * 3600))
    return HandoverPropose(
        deal=draw(st.binary(min_size=16, max_size=16)), agreement=draw(st.binary(min_size=32, max_size=32)),
        number=draw(st.integers(0, 5)), cell=draw(st.sampled_from(CELLS)), start=start,
        end=start + draw(st.integers(1, 8 * 3600)),
        payment=draw(st.lists(payment_methods, min_size=1, max_size=4, unique=True)),
        created=created, expires=created + draw(st.integers(1, 24 * 3600)),
    )  # fmt: skip


def cosigned_agreement(
    buyer: Identity, seller: Identity, session: bytes = b"s" * 16, created: int = 1_790_000_000, **terms: Any
) -> tuple[Agreement, bytes, bytes]:
    """An agreement both parties signed: (agreement, buyer signature, seller signature)."""
    t = {"price_minor": 6500, "currency": "USD", "quantity": 4, **terms}
    agreement = Agreement(
        session=session, buyer=buyer.pubkey, seller=seller.pubkey, buyer_intent=b"b" * 16,
        seller_intent=b"i" * 16, terms=Terms(**t), created=created, expires=created + 3600,
    )  # fmt: skip
    signed = agreement_signing_bytes(agreement)
    return agreement, buyer.sign(signed), seller.sign(signed)


def rating_of(
    rater: Identity,
    subject: Identity,
    *,
    seller_rates: bool | None = None,
    deal_time: int = 1_790_000_000,
    **changes: Any,
) -> ReputationShare:
    """A valid rating by ``rater`` of ``subject`` after a co-signed deal made at ``deal_time`` (the rater
    buys by default); the rating is made a minute later unless ``created`` is given."""
    buyer, seller = (subject, rater) if seller_rates else (rater, subject)
    session = changes.pop("session", b"s" * 16)
    agreement, bsig, ssig = cosigned_agreement(buyer, seller, session, deal_time)
    fields: dict[str, Any] = {
        "subject": subject.pubkey, "deal": session, "score": 5, "as_agreed": True, "agreement": agreement,
        "buyer_signature": bsig, "seller_signature": ssig, "seq": 1, "created": agreement.created + 60,
        "expires": agreement.created + 60 + MAX_INTENT_TTL_S, "comment": "went as agreed",
    }  # fmt: skip
    fields.update(changes)
    return ReputationShare(**fields)


@st.composite
def ratings(draw: st.DrawFn) -> ReputationShare:
    """Valid ratings (shape and evidence) by ALICE of BOB or the other way round."""
    rater, subject = draw(st.sampled_from([(ALICE, BOB), (BOB, ALICE)]))
    created = draw(st.integers(1_790_000_000, 2**40 - MAX_INTENT_TTL_S))
    return rating_of(
        rater, subject, seller_rates=draw(st.booleans()), session=draw(st.binary(min_size=16, max_size=16)),
        score=draw(st.integers(1, 5)), as_agreed=draw(st.booleans()), seq=draw(st.integers(0, 2**63 - 1)),
        created=created, expires=created + draw(st.integers(1, MAX_INTENT_TTL_S)),
        comment=draw(st.text(_COMMENT_CHARS, max_size=30)),
    )  # fmt: skip


def tire_intent(author: Identity = ALICE, **changes: Any) -> Intent:
    """A realistic intent: four used 225/65R17 tires for sale."""
    fields: dict[str, Any] = {
        "id": bytes(range(16)),
        "author": author.pubkey,
        "seq": 1,
        "action": Action.SELL,
        "category": "vehicles/tires",
        "attributes": {"size": "225/65R17", "condition": "used", "brand": "michelin"},
        "price": Price(5000, "USD"),
        "quantity": 4,
        "cell": geo.cell_at(20.5888, -100.3899, 7),
        "radius_km": 50,
        "created": 1_790_000_000,
        "expires": 1_790_000_000 + 3 * 24 * 3600,
        "text": "Four used 225/65R17 tires, at least $50 each",
        "lang": "en",
    }
    fields.update(changes)
    return Intent(**fields)


# ----------------------------------------------------------------------------- checks of the above


def test_cells_cover_every_allowed_resolution():
    assert {h3.get_resolution(c) for c in CELLS} == set(range(geo.MAX_INTENT_RES + 1))


def test_every_message_class_has_a_strategy():
    for cls in MESSAGE_CLASSES.values():
        message_strategy(cls)  # raises NotImplementedError for a field type it does not know


@settings(max_examples=30, deadline=None)
@given(intents())
def test_intent_strategy_builds_valid_intents(intent):
    assert intent.expires > intent.created
