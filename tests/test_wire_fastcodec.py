"""``wire.fastcodec`` against the strict codec, differentially: same bytes and messages on valid input, and on
anything else the fast path gives up (None) so that the strict path's own error is raised."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_wire_fuzz import mutate, mutations
from tests.test_wire_strategies import any_message, message_strategy
from wire import cbor, fastcodec
from wire.codec import to_obj
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.intent import Action
from wire.limits import MAX_FRAME_BYTES
from wire.messages import (
    DHT_TYPES,
    MESSAGE_CLASSES,
    Contact,
    Error,
    FindNode,
    GetRecords,
    Nodes,
    Ping,
    PutResult,
    PutStatus,
    Records,
    decode_body,
    decode_message,
    decode_message_strict,
    encode_body,
    encode_message,
    encode_message_strict,
    type_of,
)

DIFF = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
DHT_CLASSES = [MESSAGE_CLASSES[t] for t in sorted(DHT_TYPES)]


def strict_outcome(data: bytes) -> tuple[str, Any]:
    try:
        return "ok", decode_message_strict(data)
    except RemoteProtocolError as exc:
        return "error", str(exc)


def public_outcome(data: bytes) -> tuple[str, Any]:
    try:
        return "ok", decode_message(data)
    except RemoteProtocolError as exc:
        return "error", str(exc)


def check_same_decoding(data: bytes) -> None:
    """The fast path takes ``data`` only if the strict path accepts it as the same message; the public
    decoder's outcome (message, or error text) is the strict path's."""
    fast = fastcodec.decode_frame(MESSAGE_CLASSES, data)
    strict = strict_outcome(data)
    if fast is not None:
        assert strict == ("ok", fast)
    assert public_outcome(data) == strict


def test_every_dht_message_has_a_fast_path():
    for cls in [*DHT_CLASSES, Contact]:
        assert fastcodec.codec_of(cls) is not None, cls.__name__


@pytest.mark.parametrize("cls", DHT_CLASSES, ids=lambda c: c.__name__)
@DIFF
@given(data=st.data())
def test_dht_messages_same_bytes_and_values(cls, data):
    msg = data.draw(message_strategy(cls))
    raw = encode_message_strict(msg)
    assert fastcodec.encode_frame(int(type_of(msg)), msg) == raw  # taken, and the same bytes
    assert fastcodec.decode_frame(MESSAGE_CLASSES, raw) == msg
    assert encode_message(msg) == raw and decode_message(raw) == msg
    assert encode_body(msg) == cbor.encode(to_obj(msg))
    assert decode_body(type_of(msg), encode_body(msg)) == msg


@DIFF
@given(msg=any_message())
def test_any_message_same_bytes_and_values(msg):
    raw = encode_message_strict(msg)
    fast = fastcodec.encode_frame(int(type_of(msg)), msg)
    assert fast is None or fast == raw
    assert encode_message(msg) == raw
    check_same_decoding(raw)
    assert decode_message(raw) == msg


@DIFF
@given(msg=any_message(), steps=mutations)
def test_mutated_frames_decode_as_the_strict_path_says(msg, steps):
    check_same_decoding(mutate(encode_message_strict(msg), steps))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_decode_as_the_strict_path_says(data):
    check_same_decoding(data)
    check_same_decoding(bytes([0x82, 0x18, 0x47]) + data)  # a RECORDS frame head, then anything


def records_sample() -> Records:
    peers = [Contact(bytes([i]) * 32, [f"/ip4/127.0.0.1/tcp/{4000 + i}"]) for i in range(3)]
    return Records(rid=2**40 + 7, records=[b"r" * 300, b""], cursor=b"c" * 8, peers=peers)


SAMPLES = [
    records_sample(),
    Records(rid=0),
    Nodes(rid=1, peers=[Contact(b"p" * 32, ["/ip4/10.0.0.1/tcp/1", "/ip6/::1/tcp/2"])]),
    GetRecords(rid=5, key=b"k" * 32, action=Action.BUY, since=3, cursor=b"c", limit=9, addrs=["/x"]),
    FindNode(rid=2**64 - 1, target=b"t" * 32),
    PutResult(rid=3, statuses=[PutStatus.STORED, PutStatus.OVER_QUOTA]),
    Error(rid=4, code="rate_limited", detail="é" * 10),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_every_prefix_is_left_to_the_strict_path(msg):
    raw = encode_message(msg)
    assert raw == encode_message_strict(msg)
    for cut in range(len(raw)):
        assert fastcodec.decode_frame(MESSAGE_CLASSES, raw[:cut]) is None
        check_same_decoding(raw[:cut])
    assert fastcodec.decode_frame(MESSAGE_CLASSES, raw) == msg


def frame(body: dict[str, Any], code: int = 0x47) -> bytes:
    """A frame built by cbor2 in canonical order from a hand-made body (which may break the schema)."""
    return cbor.encode([code, body])


GOOD_BODY = to_obj(records_sample())
PONG = bytes([0x82, 0x18, 0x41, 0xA1, 0x63]) + b"rid"  # [PONG, {"rid": ...}] up to the rid's value
ERROR = bytes([0x82, 0x18, 0x4F, 0xA3, 0x63]) + b"rid" + bytes([0x01, 0x64]) + b"code"  # then code's value
DETAIL = bytes([0x66]) + b"detail" + bytes([0x60])  # and an empty detail
#: name -> (an irregular frame, the regular frame it differs from): the fast path must take the second only.
NOT_TAKEN: dict[str, tuple[bytes, bytes]] = {
    "non-minimal 1-byte head": (PONG + bytes([0x18, 0x05]), PONG + bytes([0x05])),
    "non-minimal 2-byte head": (PONG + bytes([0x19, 0x00, 0xFF]), PONG + bytes([0x18, 0xFF])),
    "non-minimal 4-byte head": (PONG + bytes([0x1A, 0x00, 0x00, 0xFF, 0xFF]),
                                PONG + bytes([0x19, 0xFF, 0xFF])),
    "non-minimal 8-byte head": (PONG + bytes([0x1B, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]),
                                PONG + bytes([0x1A, 0xFF, 0xFF, 0xFF, 0xFF])),
    "reserved head": (PONG + bytes([0x1C]), PONG + bytes([0x17])),
    "non-minimal type code": (bytes([0x82, 0x19, 0x00, 0x41, 0xA1, 0x63]) + b"rid" + bytes([0x05]),
                              PONG + bytes([0x05])),
    "type code as bool": (bytes([0x82, 0xF5, 0xA1, 0x63]) + b"rid" + bytes([0x05]), PONG + bytes([0x05])),
    "non-minimal map head": (bytes([0x82, 0x18, 0x41, 0xB8, 0x01, 0x63]) + b"rid" + bytes([0x05]),
                             PONG + bytes([0x05])),
    "non-minimal key head": (bytes([0x82, 0x18, 0x41, 0xA1, 0x78, 0x03]) + b"rid" + bytes([0x05]),
                             PONG + bytes([0x05])),
    "keys out of order": (ERROR[:4] + bytes([0xA3, 0x64]) + b"code" + bytes([0x61, 0x78, 0x63]) + b"rid"
                          + bytes([0x01]) + DETAIL, ERROR + bytes([0x61, 0x78]) + DETAIL),
    "duplicate key": (ERROR[:4] + bytes([0xA3, 0x63]) + b"rid" + bytes([0x01, 0x63]) + b"rid" + bytes([0x01])
                      + DETAIL, ERROR + bytes([0x61, 0x78]) + DETAIL),
    "bad utf-8": (ERROR + bytes([0x62, 0xC3, 0x28]) + DETAIL, ERROR + bytes([0x62, 0xC3, 0xA9]) + DETAIL),
    "indefinite text": (ERROR + bytes([0x7F, 0x61, 0x78, 0xFF]) + DETAIL,
                        ERROR + bytes([0x61, 0x78]) + DETAIL),
    "bytes for text": (ERROR + bytes([0x41, 0x78]) + DETAIL, ERROR + bytes([0x61, 0x78]) + DETAIL),
    "missing detail": (ERROR[:4] + bytes([0xA2]) + ERROR[5:] + bytes([0x61, 0x78]),
                       ERROR + bytes([0x61, 0x78]) + DETAIL),
    "trailing byte": (PONG + bytes([0x05, 0x00]), PONG + bytes([0x05])),
    "bool for int": (PONG + bytes([0xF5]), PONG + bytes([0x01])),
    "negative rid": (PONG + bytes([0x20]), PONG + bytes([0x00])),
    "tagged rid": (PONG + bytes([0xC0, 0x05]), PONG + bytes([0x05])),
    "null rid": (PONG + bytes([0xF6]), PONG + bytes([0x05])),
    "unknown type": (bytes([0x82, 0x18, 0x3F]) + PONG[3:] + bytes([0x05]), PONG + bytes([0x05])),
    "unknown key": (frame({**GOOD_BODY, "zzz": 1}), frame(GOOD_BODY)),
    "missing required": (frame({k: v for k, v in GOOD_BODY.items() if k != "records"}), frame(GOOD_BODY)),
    "null optional": (frame({**GOOD_BODY, "cursor": None}), frame(GOOD_BODY)),
    "int for bytes": (frame({**GOOD_BODY, "cursor": 5}), frame(GOOD_BODY)),
    "cursor too long": (frame({**GOOD_BODY, "cursor": b"c" * 65}), frame({**GOOD_BODY, "cursor": b"c" * 64})),
    "short pubkey": (frame({**GOOD_BODY, "peers": [{"pubkey": b"p" * 31, "addrs": []}]}),
                     frame({**GOOD_BODY, "peers": [{"pubkey": b"p" * 32, "addrs": []}]})),
    "too many peers": (frame({**GOOD_BODY, "peers": [{"pubkey": b"p" * 32, "addrs": []}] * 21}),
                       frame({**GOOD_BODY, "peers": [{"pubkey": b"p" * 32, "addrs": []}] * 20})),
    "address too long": (frame({**GOOD_BODY, "peers": [{"pubkey": b"p" * 32, "addrs": ["a" * 129]}]}),
                         frame({**GOOD_BODY, "peers": [{"pubkey": b"p" * 32, "addrs": ["a" * 128]}]})),
    "unknown enum": (frame({"rid": 1, "statuses": [9]}, 0x45), frame({"rid": 1, "statuses": [4]}, 0x45)),
    "text for int enum": (frame({"rid": 1, "statuses": ["0"]}, 0x45),
                          frame({"rid": 1, "statuses": [0]}, 0x45)),
    "int for text enum": (frame({"rid": 1, "key": b"k" * 32, "action": 0, "since": 0, "limit": 1,
                                 "addrs": []}, 0x46),
                          frame({"rid": 1, "key": b"k" * 32, "action": "BUY", "since": 0, "limit": 1,
                                 "addrs": []}, 0x46)),
    "limit zero": (frame({"rid": 1, "key": b"k" * 32, "since": 0, "limit": 0, "addrs": []}, 0x46),
                   frame({"rid": 1, "key": b"k" * 32, "since": 0, "limit": 1, "addrs": []}, 0x46)),
    "not a pair": (cbor.encode([0x47, GOOD_BODY, 1]), frame(GOOD_BODY)),
    "tagged body": (bytes([0x82, 0x18, 0x47, 0xC0]) + cbor.encode(GOOD_BODY), frame(GOOD_BODY)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(NOT_TAKEN))
def test_irregular_frames_are_left_to_the_strict_path(name):
    bad, good = NOT_TAKEN[name]
    assert fastcodec.decode_frame(MESSAGE_CLASSES, good) is not None  # the control: taken
    check_same_decoding(good)
    assert fastcodec.decode_frame(MESSAGE_CLASSES, bad) is None
    assert strict_outcome(bad)[0] == "error"
    check_same_decoding(bad)


def test_oversized_and_non_bytes_input_take_the_strict_path():
    raw = encode_message(records_sample())
    with pytest.raises(RemoteProtocolError, match="exceeds"):
        decode_message(raw, max_bytes=len(raw) - 1)
    assert decode_message(bytearray(raw)) == decode_message(memoryview(raw)) == records_sample()
    assert fastcodec.decode_frame(MESSAGE_CLASSES, bytearray(raw)) is None  # type: ignore[arg-type]
    assert len(raw) < MAX_FRAME_BYTES


def local_outcome(encode: Any, msg: Any) -> tuple[str, Any]:
    try:
        return "ok", encode(msg)
    except LocalProtocolError as exc:
        return "error", str(exc)


INVALID_OR_UNUSUAL = [
    Ping(rid=-1),
    Ping(rid=2**64),
    Ping(rid=True),  # type: ignore[arg-type]
    FindNode(rid=1, target=b"t" * 31),
    FindNode(rid=1, target=bytearray(32)),  # type: ignore[arg-type]
    Nodes(rid=1, peers=[Contact(b"p" * 32)] * 21),
    Nodes(rid=1, peers=(Contact(b"p" * 32),)),  # type: ignore[arg-type]  a tuple: the strict path takes it
    Nodes(rid=1, peers=[Contact(b"p" * 32, ["/a" * 100])]),
    GetRecords(rid=1, key=b"k" * 32, action="SELL"),  # type: ignore[arg-type]  a raw enum value: taken
    GetRecords(rid=1, key=b"k" * 32, action="NOPE"),  # type: ignore[arg-type]
    GetRecords(rid=1, key=b"k" * 32, limit=None),  # type: ignore[arg-type]
    Error(rid=1, code="\ud800"),
    PutResult(rid=1, statuses=[0, 1]),  # type: ignore[list-item]
]


@pytest.mark.parametrize("msg", INVALID_OR_UNUSUAL, ids=repr)
def test_encoding_unusual_values_matches_the_strict_path(msg):
    assert local_outcome(encode_message, msg) == local_outcome(encode_message_strict, msg)
    fast = fastcodec.encode_frame(int(type_of(msg)), msg)
    assert fast is None or ("ok", fast) == local_outcome(encode_message_strict, msg)
