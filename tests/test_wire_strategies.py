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
from wire.identity import Identity
from wire.intent import Action, Intent, Price
from wire.limits import MAX_INTENT_TTL_S
from wire.messages import MESSAGE_CLASSES
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
