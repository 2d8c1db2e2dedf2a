"""Messages: every class round-trips; bounds, types, unknown/missing fields and unknown types are refused."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_wire_strategies import (
    ALICE,
    BOB,
    CELLS,
    _optional_inner,
    message_strategy,
    rating_of,
    tire_intent,
)
from wire import cbor
from wire.codec import _fields, _hints, to_obj
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.handover import HandoverConfirm, HandoverPropose
from wire.limits import MAX_FRAME_BYTES, MAX_PEERS_PER_REPLY, MAX_RECORDS_PER_PAGE
from wire.messages import (
    MESSAGE_CLASSES,
    AgentProfile,
    Autonomy,
    Contact,
    FindNode,
    GetRecords,
    MsgType,
    Nodes,
    Ping,
    PutResult,
    PutStatus,
    Records,
    decode_body,
    decode_message,
    encode_body,
    encode_message,
    type_of,
)

CLASSES = sorted(MESSAGE_CLASSES.items())


def frame(mtype: int, body: Any) -> bytes:
    return cbor.encode([mtype, body])


def contact(i: int) -> Contact:
    return Contact(pubkey=bytes([i]) * 32, addrs=[f"/ip4/127.0.0.1/tcp/{4000 + i}"])


@pytest.mark.parametrize(("mtype", "cls"), CLASSES, ids=[t.name for t, _ in CLASSES])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_message_class_round_trips(mtype, cls, data):
    msg = data.draw(message_strategy(cls))
    raw = encode_message(msg)
    assert decode_message(raw) == msg
    assert type_of(msg) == mtype
    assert encode_message(decode_message(raw)) == raw
    assert decode_body(mtype, encode_body(msg)) == msg


def test_message_classes_cover_every_type():
    assert set(MESSAGE_CLASSES) == set(MsgType)


def test_nodes_reply_with_too_many_peers_is_refused():
    ok = Nodes(rid=7, peers=[contact(i) for i in range(MAX_PEERS_PER_REPLY)])
    assert decode_message(encode_message(ok)) == ok
    too_many = to_obj(ok)
    too_many["peers"] = [*too_many["peers"], to_obj(contact(99))]
    with pytest.raises(RemoteProtocolError, match="peers"):
        decode_message(frame(MsgType.NODES, too_many))
    with pytest.raises(LocalProtocolError):  # and we never send one
        encode_message(Nodes(rid=7, peers=[contact(i) for i in range(MAX_PEERS_PER_REPLY + 1)]))


def test_records_page_bound():
    ok = Records(rid=1, records=[b"x"] * MAX_RECORDS_PER_PAGE)
    obj = to_obj(ok)
    obj["records"] = [b"x"] * (MAX_RECORDS_PER_PAGE + 1)
    with pytest.raises(RemoteProtocolError):
        decode_message(frame(MsgType.RECORDS, obj))


@pytest.mark.parametrize("code", [0, 0x0C, 0x30, 0x48, 0x4E, 0xFF, 2**32, -1])
def test_unknown_message_types_are_refused(code):
    with pytest.raises(RemoteProtocolError, match="unknown message type"):
        decode_message(frame(code, {"rid": 1}))


@pytest.mark.parametrize(
    "value",
    [[], [0x40], [0x40, {"rid": 1}, 0], {"type": 0x40}, [True, {"rid": 1}], [b"\x40", {"rid": 1}], 0x40],
)
def test_frame_shape_is_checked(value):
    with pytest.raises(RemoteProtocolError):
        decode_message(cbor.encode(value))


def test_oversized_frame_is_refused_before_decoding():
    with pytest.raises(RemoteProtocolError, match="exceeds"):
        decode_message(b"\x00" * (MAX_FRAME_BYTES + 1))


def _wrong_values(value: Any) -> list[Any]:
    """Values of every CBOR type except the one ``value`` has."""
    candidates: list[Any] = [True, 7, -7, b"\x01", "text", [1], {"k": 1}]
    kinds = (bool, int, bytes, str, list, dict)
    own = next(k for k in kinds if isinstance(value, k))
    return [c for c in candidates if next(k for k in kinds if isinstance(c, k)) is not own]


def _samples() -> list[Any]:
    """One deterministic instance of every message class (the intent is the realistic tire intent)."""
    special = {
        MsgType.INTENT_BROADCAST: tire_intent,
        MsgType.AGENT_PROFILE: lambda: AgentProfile(
            seq=1,
            created=1,
            expires=2,
            protocols=["/metaspace/trust/1.0.0"],
            handle="@ana/agent",
            languages=["es"],
            categories=["vehicles/tires"],
            autonomy=Autonomy.ASKS,
        ),
        MsgType.REPUTATION_SHARE: lambda: rating_of(ALICE, BOB),
        MsgType.HANDOVER_PROPOSE: lambda: HandoverPropose(
            deal=b"d" * 16,
            agreement=b"a" * 32,
            number=0,
            cell=CELLS[3],
            start=100,
            end=200,
            payment=["cash"],
            created=1,
            expires=50,
        ),
        MsgType.HANDOVER_CONFIRM: lambda: HandoverConfirm(deal=b"d" * 16, proposal=b"p" * 32, payment="cash"),
    }
    return [special[t]() if t in special else _minimal(cls) for t, cls in MESSAGE_CLASSES.items()]


def _minimal(cls: type) -> Any:
    """A deterministic valid instance of ``cls`` with every Optional field set (so all keys appear)."""
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in _fields(cls):
        tp = hints[f.name]
        kwargs[f.name] = _minimal_value(tp, f.metadata)
    return cls(**kwargs)


def _minimal_value(tp: Any, meta: Any) -> Any:
    import enum
    import types
    import typing

    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if tp is bool:
        return True
    if tp is int:
        return max(meta.get("min", 0), 1) if meta.get("max", 2) >= 1 else 0
    if tp is bytes:
        return b"\x05" * meta.get("len", 2)
    if tp is str:
        if tp is str and meta.get("len") == 3:
            return "USD"
        return "ab"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return next(iter(tp))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _minimal(tp)
    if typing.get_origin(tp) is list:
        return [_minimal_value(typing.get_args(tp)[0], meta.get("item", {}))]
    if typing.get_origin(tp) is dict:
        return {"size": "big"}
    raise NotImplementedError(tp)


SAMPLES = _samples()


@pytest.mark.parametrize("msg", SAMPLES, ids=[type(m).__name__ for m in SAMPLES])
def test_wrong_field_types_missing_and_unknown_fields_are_refused(msg):
    mtype = int(type_of(msg))
    body = to_obj(msg)
    assert decode_message(frame(mtype, body)) == msg
    refused = 0
    for name, value in body.items():
        for wrong in _wrong_values(value):
            bad = {**body, name: wrong}
            with pytest.raises(RemoteProtocolError):
                decode_message(frame(mtype, bad))
            refused += 1
        missing = {k: v for k, v in body.items() if k != name}
        if _optional_inner(_hints(type(msg))[name]) is not None:
            # an Optional field is omitted exactly when it is None
            assert getattr(decode_message(frame(mtype, missing)), name) is None
        else:
            with pytest.raises(RemoteProtocolError, match="missing"):
                decode_message(frame(mtype, missing))
        with pytest.raises(RemoteProtocolError):  # None is sent by omission, never as null
            decode_message(frame(mtype, {**body, name: None}))
    assert refused >= len(body)
    with pytest.raises(RemoteProtocolError, match="unknown field"):
        decode_message(frame(mtype, {**body, "zz_extra": 1}))
    with pytest.raises(RemoteProtocolError):
        decode_message(frame(mtype, [body]))


def test_enum_codes_must_have_the_enum_value_type():
    ok = to_obj(PutResult(rid=1, statuses=[PutStatus.REPLACED]))
    assert ok["statuses"] == [1]
    with pytest.raises(RemoteProtocolError):  # true == 1 in Python, but not on the wire
        decode_message(frame(MsgType.PUT_RESULT, {**ok, "statuses": [True]}))
    with pytest.raises(RemoteProtocolError):
        decode_message(frame(MsgType.PUT_RESULT, {**ok, "statuses": [9]}))
    get = to_obj(GetRecords(rid=1, key=b"k" * 32, action=tire_intent().action))
    with pytest.raises(RemoteProtocolError):
        decode_message(frame(MsgType.GET_RECORDS, {**get, "action": 1}))
    with pytest.raises(RemoteProtocolError):
        decode_message(frame(MsgType.GET_RECORDS, {**get, "action": "sell"}))


def test_bounds_are_checked_on_decode_and_encode():
    obj = to_obj(FindNode(rid=1, target=b"t" * 32))
    for bad in [b"t" * 31, b"t" * 33]:
        with pytest.raises(RemoteProtocolError):
            decode_message(frame(MsgType.FIND_NODE, {**obj, "target": bad}))
    with pytest.raises(RemoteProtocolError):
        decode_message(frame(MsgType.PING, {**to_obj(Ping(rid=1)), "rid": -1}))
    with pytest.raises(LocalProtocolError):
        encode_message(FindNode(rid=1, target=b"short"))
    with pytest.raises(LocalProtocolError):
        encode_message(Ping(rid=-1))
    with pytest.raises(LocalProtocolError):
        encode_message(Ping(rid=2**64))
    with pytest.raises(LocalProtocolError):
        encode_message(GetRecords(rid=1, key=b"k" * 32, limit=MAX_RECORDS_PER_PAGE + 1))
    with pytest.raises(LocalProtocolError):
        encode_message(Ping(rid="1"))  # type: ignore[arg-type]


def test_non_messages_are_refused_locally():
    with pytest.raises(LocalProtocolError):
        encode_message(object())
    with pytest.raises(LocalProtocolError):
        encode_message(contact(1))  # a value type, not a message
    with pytest.raises(LocalProtocolError):
        type_of(ALICE)


def test_intent_broadcast_frame_round_trips():
    intent = tire_intent(BOB)
    assert decode_message(encode_message(intent)) == intent
