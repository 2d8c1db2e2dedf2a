"""Signed envelopes: round trip, tamper evidence, wrong keys, type confusion, domain separation."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.test_wire_strategies import ALICE, BOB, any_message, tire_intent
from wire import cbor
from wire.envelope import (
    AGREEMENT_DOMAIN,
    DOMAIN,
    ENVELOPE_VERSION,
    _signed_bytes,
    agreement_signing_bytes,
    open_envelope,
    open_intent,
    seal,
    seal_intent,
)
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.identity import Identity, verify
from wire.messages import Agreement, MsgType, Ping, Pong, Query, Terms, encode_body


def craft(identity: Identity, mtype: int, body: bytes, *, version: int = ENVELOPE_VERSION) -> bytes:
    """An envelope signed correctly over arbitrary fields (what a hostile but valid signer can send)."""
    sig = identity.sign(_signed_bytes(version, mtype, identity.pubkey, body))
    return cbor.encode([version, mtype, identity.pubkey, body, sig])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_message())
def test_seal_open_round_trip(msg):
    env = seal(ALICE, msg)
    opened = open_envelope(env.raw, max_bytes=len(env.raw))
    assert opened.message == msg
    assert opened.author == ALICE.pubkey
    assert opened.type == env.type
    assert opened.digest == env.digest
    assert opened.raw == env.raw


def test_seal_intent_open_intent():
    intent = tire_intent()
    record = seal_intent(ALICE, intent)
    env, back = open_intent(record)
    assert back == intent
    assert env.author == ALICE.pubkey and env.type == MsgType.INTENT_BROADCAST


def _flips(data: bytes):
    for i in range(len(data)):
        for bit in range(8):
            yield data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]


@pytest.mark.parametrize("msg", [tire_intent(), Ping(rid=5, addrs=["/ip4/127.0.0.1/tcp/1"])])
def test_every_single_bit_flip_is_refused(msg):
    raw = seal(ALICE, msg).raw
    n = 0
    for bad in _flips(raw):
        with pytest.raises(RemoteProtocolError):
            open_envelope(bad)
        n += 1
    assert n == 8 * len(raw)


def test_signature_from_another_key_is_refused():
    env = seal(ALICE, Query(qid=1, kind="catalog"))
    version, mtype, _author, body, sig = cbor.decode(env.raw, 10_000)
    forged = cbor.encode([version, mtype, BOB.pubkey, body, sig])  # Alice's signature, Bob named
    with pytest.raises(RemoteProtocolError, match="signature"):
        open_envelope(forged)
    bob_sig = BOB.sign(_signed_bytes(version, mtype, ALICE.pubkey, body))
    with pytest.raises(RemoteProtocolError, match="signature"):  # Bob's signature, Alice named
        open_envelope(cbor.encode([version, mtype, ALICE.pubkey, body, bob_sig]))


def test_intent_must_be_signed_by_its_author():
    intent = tire_intent(ALICE)
    with pytest.raises(LocalProtocolError):
        seal(BOB, intent)
    with pytest.raises(RemoteProtocolError, match="author"):
        open_intent(craft(BOB, MsgType.INTENT_BROADCAST, encode_body(intent)))


def test_body_type_mismatch_is_refused():
    intent_body = encode_body(tire_intent())
    for mtype in [MsgType.INTENT_MATCH, MsgType.QUERY, MsgType.PING, MsgType.NEGOTIATION_OFFER]:
        with pytest.raises(RemoteProtocolError):
            open_envelope(craft(ALICE, mtype, intent_body))
    query = craft(ALICE, MsgType.QUERY, encode_body(Query(qid=1, kind="k")))
    assert open_envelope(query).message == Query(qid=1, kind="k")
    with pytest.raises(RemoteProtocolError, match="INTENT_BROADCAST"):
        open_intent(query)
    # The type is signed: relabelling a PING as a PONG breaks the signature.
    ping = seal(ALICE, Ping(rid=3)).raw
    v, _t, a, b, s = cbor.decode(ping, 10_000)
    with pytest.raises(RemoteProtocolError, match="signature"):
        open_envelope(cbor.encode([v, int(MsgType.PONG), a, b, s]))
    assert open_envelope(craft(ALICE, MsgType.PONG, encode_body(Pong(rid=3)))).message == Pong(rid=3)


def test_unknown_type_and_version_are_refused():
    body = encode_body(Ping(rid=1))
    with pytest.raises(RemoteProtocolError, match="unknown message type"):
        open_envelope(craft(ALICE, 0x30, body))
    with pytest.raises(RemoteProtocolError, match="version"):
        open_envelope(craft(ALICE, MsgType.PING, body, version=2))


def test_domain_separation():
    body = encode_body(Ping(rid=1))
    plain = cbor.encode([ENVELOPE_VERSION, int(MsgType.PING), ALICE.pubkey, body])
    for signed in [body, plain, AGREEMENT_DOMAIN + body]:
        sig = ALICE.sign(signed)
        with pytest.raises(RemoteProtocolError, match="signature"):
            open_envelope(cbor.encode([ENVELOPE_VERSION, int(MsgType.PING), ALICE.pubkey, body, sig]))
    good = ALICE.sign(DOMAIN + plain)
    assert open_envelope(cbor.encode([ENVELOPE_VERSION, int(MsgType.PING), ALICE.pubkey, body, good]))


def test_agreement_signature_is_not_an_envelope_signature():
    terms = Terms(price_minor=4500, currency="USD", quantity=4)
    agreement = Agreement(
        session=b"s" * 16,
        buyer=BOB.pubkey,
        seller=ALICE.pubkey,
        buyer_intent=b"b" * 16,
        seller_intent=b"a" * 16,
        terms=terms,
        created=100,
        expires=200,
    )
    signed = agreement_signing_bytes(agreement)
    assert signed.startswith(AGREEMENT_DOMAIN) and not signed.startswith(DOMAIN)
    sig = ALICE.sign(signed)
    assert verify(ALICE.pubkey, signed, sig)
    assert not verify(ALICE.pubkey, DOMAIN + encode_body(agreement), sig)


@pytest.mark.parametrize(
    "value",
    [
        [],
        [1, 1, b"k" * 32, b"", b"s" * 64, 0],
        [1, 0x40, b"k" * 32, b"\xa0"],
        {"version": 1},
        [True, 0x40, b"k" * 32, b"\xa0", b"s" * 64],
        [1, True, b"k" * 32, b"\xa0", b"s" * 64],
        [1, 0x40, b"k" * 31, b"\xa0", b"s" * 64],
        [1, 0x40, "k" * 32, b"\xa0", b"s" * 64],
        [1, 0x40, b"k" * 32, "body", b"s" * 64],
        [1, 0x40, b"k" * 32, b"\xa0", b"s" * 63],
    ],
)
def test_envelope_shape_is_checked(value):
    with pytest.raises(RemoteProtocolError):
        open_envelope(cbor.encode(value))
