"""Intents: validation rules, and the encoded-size bound of a signed intent record."""

from __future__ import annotations

import pytest

from tests.test_wire_strategies import ALICE, tire_intent
from wire import cbor, geo
from wire.envelope import _signed_bytes, open_intent, seal, seal_intent
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.intent import INVERSE, Action, Intent, Price
from wire.limits import (
    MAX_ATTR_KEY_LEN,
    MAX_ATTR_VALUE_LEN,
    MAX_ATTRIBUTES,
    MAX_INTENT_BYTES,
    MAX_INTENT_TTL_S,
    MAX_TEXT_LEN,
)
from wire.messages import MsgType, decode_body, encode_body

FINE_CELL = geo.cell_at(20.5888, -100.3899, geo.MAX_INTENT_RES + 1)
CREATED = 1_790_000_000


def test_realistic_intent_seals_and_opens():
    intent = tire_intent()
    record = seal_intent(ALICE, intent)
    assert len(record) <= MAX_INTENT_BYTES
    assert open_intent(record)[1] == intent


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"category": "vehicles/spaceships"}, "category"),
        ({"category": "Vehicles/Tires"}, "category"),
        ({"cell": FINE_CELL}, "res"),
        ({"cell": geo.cell_at(20.5888, -100.3899, 15)}, "res"),
        ({"cell": "not-a-cell"}, "cell"),
        ({"cell": geo.cell_at(20.5888, -100.3899, 7).upper()}, "cell"),
        ({"cell": "0" + geo.cell_at(20.5888, -100.3899, 7)}, "cell"),
        ({"cell": "-1"}, "cell"),
        ({"expires": CREATED + MAX_INTENT_TTL_S + 1}, "7 days"),
        ({"expires": CREATED}, "after created"),
        ({"expires": CREATED - 1}, "after created"),
        ({"attributes": {"Size": "225"}}, "canonical"),
        ({"attributes": {"size\n": "225"}}, "canonical"),
        ({"attributes": {"1size": "225"}}, "canonical"),
        ({"attributes": {"tire size": "225"}}, "canonical"),
        ({"attributes": {"größe": "225"}}, "canonical"),
        ({"attributes": {"k" * (MAX_ATTR_KEY_LEN + 1): "v"}}, "canonical"),
        ({"attributes": {"size": ""}}, "empty"),
        ({"attributes": {"size": "v" * (MAX_ATTR_VALUE_LEN + 1)}}, "too long"),
        ({"attributes": {f"k{i}": "v" for i in range(MAX_ATTRIBUTES + 1)}}, "too many"),
        ({"text": "x" * (MAX_TEXT_LEN + 1)}, "too long"),
        ({"lang": "english"}, "language"),
        ({"lang": "en\n"}, "language"),
        ({"quantity": 0}, "quantity"),
        ({"radius_km": 501}, "radius"),
        ({"id": b"short"}, "16 bytes"),
        ({"action": "SWAP"}, "action"),
    ],
)
def test_invalid_intents_are_refused(changes, why):
    with pytest.raises(LocalProtocolError, match=why):
        tire_intent(**changes)


@pytest.mark.parametrize(
    ("currency", "amount"), [("usd", 1), ("XXX", 1), ("US", 1), ("USDT", 1), ("USD", -1), ("USD", 10**12 + 1)]
)
def test_bad_prices_are_refused(currency, amount):
    with pytest.raises(LocalProtocolError):
        Price(amount, currency)


def test_remote_intent_with_invalid_values_is_remote_error():
    """The same rules, applied to bytes from the network, raise RemoteProtocolError."""
    good = cbor.decode(encode_body(tire_intent()), MAX_INTENT_BYTES)
    bad_values = [
        ("category", "vehicles/spaceships"),
        ("cell", FINE_CELL),
        ("cell", "-1"),
        ("cell", good["cell"].upper()),
        ("expires", CREATED + MAX_INTENT_TTL_S + 1),
        ("attributes", {"Size": "225"}),
        ("attributes", {"size\n": "225"}),
        ("lang", "en\n"),
        ("price", {"amount_minor": 1, "currency": "XXX", "per_unit": True}),
        ("text", "x" * (MAX_TEXT_LEN + 1)),
        ("action", "SWAP"),
    ]
    for name, value in bad_values:
        body = cbor.encode({**good, name: value})
        with pytest.raises(RemoteProtocolError):
            decode_body(MsgType.INTENT_BROADCAST, body)


def max_intent(wide: bool) -> Intent:
    """An intent with every field at its maximum length (``wide``: 4-byte UTF-8 characters)."""
    ch = "😀" if wide else "x"
    return tire_intent(
        attributes={
            f"k{i:02d}" + "k" * (MAX_ATTR_KEY_LEN - 3): ch * MAX_ATTR_VALUE_LEN for i in range(MAX_ATTRIBUTES)
        },
        text=ch * MAX_TEXT_LEN,
        lang="zh-Hant1234",
        price=Price(10**12, "USD"),
        seq=2**63 - 1,
        quantity=1_000_000,
    )


@pytest.mark.parametrize("wide", [False, True])
def test_max_length_intent_over_the_record_limit_is_refused_when_sealing(wide):
    intent = max_intent(wide)
    assert len(encode_body(intent)) > MAX_INTENT_BYTES  # the field limits allow more than 2 KiB...
    with pytest.raises(LocalProtocolError, match="limit"):  # ...so seal is what enforces it
        seal_intent(ALICE, intent)
    with pytest.raises(LocalProtocolError):
        seal(ALICE, intent)


def test_oversized_intent_record_from_the_network_is_refused():
    body = encode_body(max_intent(False))
    mtype = int(MsgType.INTENT_BROADCAST)
    sig = ALICE.sign(_signed_bytes(1, mtype, ALICE.pubkey, body))
    record = cbor.encode([1, mtype, ALICE.pubkey, body, sig])
    assert len(record) > MAX_INTENT_BYTES
    with pytest.raises(RemoteProtocolError):
        open_intent(record)


def test_the_record_limit_is_sharp():
    """The largest text that fits seals and opens; one more character is refused locally."""

    def fits(n: int) -> bool:
        try:
            seal_intent(ALICE, tire_intent(text="😀" * n))
        except LocalProtocolError:
            return False
        return True

    lo, hi = 0, MAX_TEXT_LEN  # fits(lo) and not fits(hi)
    assert fits(lo) and not fits(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    record = seal_intent(ALICE, tire_intent(text="😀" * lo))
    assert MAX_INTENT_BYTES - 4 < len(record) <= MAX_INTENT_BYTES
    assert open_intent(record)[1].text == "😀" * lo


def test_expiry_exactly_seven_days_is_allowed_and_liveness():
    intent = tire_intent(expires=CREATED + MAX_INTENT_TTL_S)
    assert intent.is_live(CREATED) and not intent.is_live(CREATED + MAX_INTENT_TTL_S)
    gone = intent.next_version(withdrawn=True)
    assert gone.seq == intent.seq + 1 and not gone.is_live(CREATED)


def test_inverse_actions():
    assert all(INVERSE[INVERSE[a]] == a and a.inverse == INVERSE[a] for a in Action)
    assert Action.SELL.inverse == Action.BUY
    assert Action.OFFER_SERVICE.inverse == Action.SEEK_SERVICE
