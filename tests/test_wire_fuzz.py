"""Fuzz targets, one per decoder: "decodes or raises RemoteProtocolError, fed whole or byte by byte".

Each decoder gets arbitrary input, every prefix of valid encodings (as a reader that receives one
byte at a time and retries would feed it), and mutated valid encodings (bit flips, inserted,
deleted and duplicated bytes, truncations). Any exception other than RemoteProtocolError fails.
Accepted inputs must also be canonical: re-encoding gives back the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_wire_cbor import values
from tests.test_wire_strategies import ALICE, BOB, any_message, intents, rating_of, tire_intent
from wire import cbor
from wire.envelope import open_envelope, open_intent, seal, seal_intent
from wire.errors import RemoteProtocolError
from wire.handover import HandoverConfirm, HandoverDecline, HandoverPropose
from wire.identity import Identity, pubkey_from_text, pubkey_to_text
from wire.limits import MAX_EVIDENCE_BYTES
from wire.messages import (
    AgentProfile,
    Autonomy,
    Contact,
    GetRecords,
    Nodes,
    PutRecords,
    TrustEvidence,
    TrustVerification,
    decode_message,
    encode_body,
    encode_message,
)
from wire.records import open_profile, open_rating, open_record, seal_profile, seal_rating

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))


def cbor_decode(data: bytes) -> Any:
    value = cbor.decode(data, 100_000)
    assert cbor.encode(value) == data  # accepted => canonical
    return value


def message_decode(data: bytes) -> Any:
    msg = decode_message(data)
    assert encode_message(msg) == data
    return msg


def envelope_decode(data: bytes) -> Any:
    env = open_envelope(data)
    assert env.raw == data  # accepted => canonical, body included
    assert cbor.encode([env.version, int(env.type), env.author, env.body, env.signature]) == data
    assert encode_body(env.message) == env.body
    return env


def evidence_decode(data: bytes) -> Any:
    """A TRUST_EVIDENCE reply (its own, larger limit), then every rating in it as the asker checks it."""
    env = open_envelope(data, MAX_EVIDENCE_BYTES)
    if not isinstance(env.message, TrustEvidence):
        raise RemoteProtocolError("not evidence")
    return [open_rating(r) for r in env.message.ratings]


DECODERS: dict[str, Callable[[bytes], Any]] = {
    "cbor.decode": cbor_decode,
    "decode_message": message_decode,
    "open_envelope": envelope_decode,
    "open_intent": open_intent,
    "open_record": open_record,
    "open_profile": open_profile,
    "open_rating": open_rating,
    "open_evidence": evidence_decode,
}


def decodes_or_refuses(decoder: Callable[[Any], Any], data: Any) -> bool:
    """True if ``decoder`` accepted ``data``, False if it raised RemoteProtocolError; nothing else."""
    try:
        decoder(data)
    except RemoteProtocolError:
        return False
    return True


def corpus() -> dict[str, list[bytes]]:
    """Valid encodings for each decoder."""
    intent_records = [seal_intent(ALICE, tire_intent()), seal_intent(BOB, tire_intent(BOB, price=None))]
    messages = [
        Nodes(
            rid=9,
            peers=[Contact(pubkey=bytes([i]) * 32, addrs=["/ip4/127.0.0.1/tcp/4001"]) for i in range(3)],
        ),
        GetRecords(rid=2**40, key=b"k" * 32, cursor=b"c" * 8),
        PutRecords(rid=1, key=b"k" * 32, records=intent_records[:1]),
        tire_intent(),
    ]
    profile = AgentProfile(
        seq=3, created=1_790_000_000, expires=1_790_003_600, protocols=["/metaspace/trust/1.0.0"],
        handle="@ana/llantas", languages=["es"], categories=["vehicles/tires"], autonomy=Autonomy.ACTS,
    )  # fmt: skip
    profiles = [seal_profile(ALICE, profile)]
    ratings = [seal_rating(ALICE, rating_of(ALICE, BOB)), seal_rating(BOB, rating_of(BOB, ALICE, score=2))]
    evidence = [
        seal(BOB, TrustEvidence(subject=BOB.pubkey, nonce=b"n" * 16, ratings=ratings[:1])).raw,
        seal(ALICE, TrustEvidence(subject=ALICE.pubkey, nonce=b"m" * 16)).raw,
    ]
    messages.append(TrustVerification(subject=BOB.pubkey, nonce=b"n" * 16, claim="ratings"))
    proposal = HandoverPropose(
        deal=b"d" * 16, agreement=b"a" * 32, number=1, cell="872664c1effffff", start=1_790_100_000,
        end=1_790_107_200, payment=["cash", "venmo"], created=1_790_000_000, expires=1_790_086_400,
    )  # fmt: skip
    handover = [
        seal(ALICE, proposal).raw,
        seal(BOB, HandoverConfirm(deal=b"d" * 16, proposal=b"p" * 32, payment="venmo")).raw,
        seal(BOB, HandoverDecline(deal=b"d" * 16, proposal=b"p" * 32, reason="declined")).raw,
    ]
    messages.append(proposal)
    return {
        "open_record": intent_records + profiles + ratings,
        "open_profile": profiles,
        "open_rating": ratings,
        "open_evidence": evidence,
        "cbor.decode": [cbor.encode(v) for v in [0, -1, 2**64 - 1, "é", {"a": [1, {"b": None}], "bb": b"x"}]]
        + [encode_message(m) for m in messages],
        "decode_message": [encode_message(m) for m in messages],
        "open_envelope": [seal(ALICE, m).raw for m in messages[:3]] + intent_records + handover,
        "open_intent": intent_records,
    }


CORPUS = corpus()


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_fed_byte_by_byte(name):
    """Every strict prefix of a valid encoding is refused; the whole is accepted (CBOR is prefix-free)."""
    decoder = DECODERS[name]
    for data in CORPUS[name]:
        buffer = b""
        for byte in data:
            assert not decodes_or_refuses(decoder, buffer)
            buffer += bytes([byte])
        assert decodes_or_refuses(decoder, buffer)


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(name, data):
    decodes_or_refuses(DECODERS[name], data)


# One mutation: (kind, position as a fraction of the length, byte value).
mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate", "set"]),
        st.floats(0, 1, allow_nan=False),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, steps: list[tuple[str, float, int]]) -> bytes:
    buf = bytearray(data)
    for kind, where, value in steps:
        i = min(int(where * len(buf)), max(len(buf) - 1, 0))
        if kind == "flip" and buf:
            buf[i] ^= 1 << (value % 8)
        elif kind == "insert":
            buf.insert(i, value)
        elif kind == "delete" and buf:
            del buf[i : i + 1 + value % 4]
        elif kind == "truncate":
            del buf[i:]
        elif kind == "duplicate":
            buf[i:i] = buf[i : i + 1 + value % 16]
        elif kind == "set" and buf:
            buf[i] = value
    return bytes(buf)


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(data=st.data(), steps=mutations)
def test_mutated_valid_encodings(name, data, steps):
    seed = data.draw(st.sampled_from(CORPUS[name]))
    decodes_or_refuses(DECODERS[name], mutate(seed, steps))


@FUZZ
@given(value=values, steps=mutations)
def test_mutated_cbor_values(value, steps):
    decodes_or_refuses(cbor_decode, mutate(cbor.encode(value), steps))


@FUZZ
@given(msg=any_message(), steps=mutations)
def test_mutated_messages(msg, steps):
    data = encode_message(msg)
    assert message_decode(data) == msg
    decodes_or_refuses(message_decode, mutate(data, steps))
    decodes_or_refuses(envelope_decode, mutate(seal(ALICE, msg).raw, steps))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(intent=intents(), steps=mutations)
def test_mutated_intent_records(intent, steps):
    try:
        record = seal_intent(ALICE, intent)
    except Exception:  # an intent over MAX_INTENT_BYTES: tested elsewhere
        return
    assert open_intent(record)[1] == intent
    decodes_or_refuses(open_intent, mutate(record, steps))


# ------------------------------------------------------------------------------- pubkey_from_text

PEER_ID = ALICE.peer_id
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def peer_id_decode(text: Any) -> bytes:
    key = pubkey_from_text(text)
    assert pubkey_to_text(key) == text  # accepted => canonical
    return key


def test_peer_id_fed_char_by_char():
    for ident in [ALICE, BOB, Identity(b"\xff" * 32)]:
        text = ident.peer_id
        for n in range(len(text)):
            assert not decodes_or_refuses(peer_id_decode, text[:n])
        assert decodes_or_refuses(peer_id_decode, text)


@FUZZ
@given(text=st.text(max_size=80) | st.text(alphabet=B58, max_size=70))
def test_peer_id_arbitrary_text(text):
    decodes_or_refuses(peer_id_decode, text)


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(PEER_ID) - 1), st.sampled_from(B58 + "0OIl+/ \n\x00é")), max_size=3
    ),
    cut=st.integers(0, len(PEER_ID)),
)
def test_peer_id_mutated(edits, cut):
    chars = list(PEER_ID)
    for i, c in edits:
        chars[i] = c
    text = "".join(chars)
    decodes_or_refuses(peer_id_decode, text)
    decodes_or_refuses(peer_id_decode, text[:cut] + text[cut + 1 :])
    decodes_or_refuses(peer_id_decode, text[:cut] + "1" + text[cut:])


@pytest.mark.parametrize("value", [None, b"12D3KooW", 12, ["12D3KooW"]])
def test_peer_id_of_the_wrong_type(value):
    assert not decodes_or_refuses(pubkey_from_text, value)


@pytest.mark.parametrize("name", sorted(DECODERS))
@pytest.mark.parametrize("value", [None, "text", 12, [b"x"]])
def test_decoders_refuse_non_bytes(name, value):
    assert not decodes_or_refuses(DECODERS[name], value)
