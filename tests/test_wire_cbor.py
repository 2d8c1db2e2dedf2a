"""Canonical CBOR: round trips, and every non-canonical or disallowed input is refused."""

from __future__ import annotations

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wire import cbor
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.limits import MAX_CBOR_DEPTH

scalars = (
    st.none()
    | st.booleans()
    | st.integers(cbor.CBOR_INT_MIN, cbor.CBOR_INT_MAX)
    | st.binary(max_size=40)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(values)
def test_round_trip(value):
    data = cbor.encode(value)
    assert cbor.decode(data, len(data)) == value
    assert cbor.decode(data, len(data)) is not None or value is None


@settings(max_examples=100, deadline=None)
@given(values)
def test_only_the_canonical_encoding_is_accepted(value):
    canonical = cbor.encode(value)
    loose = cbor2.dumps(value)  # insertion-ordered maps, otherwise the same
    if loose == canonical:
        assert cbor.decode(loose, len(loose)) == value
    else:
        with pytest.raises(RemoteProtocolError):
            cbor.decode(loose, len(loose))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("non-minimal int (1 in 2 bytes)", b"\x18\x01"),
        ("non-minimal int (23 in 3 bytes)", b"\x19\x00\x17"),
        ("non-minimal int (255 in 3 bytes)", b"\x19\x00\xff"),
        ("non-minimal int (65535 in 5 bytes)", b"\x1a\x00\x00\xff\xff"),
        ("non-minimal int (2^32-1 in 9 bytes)", b"\x1b\x00\x00\x00\x00\xff\xff\xff\xff"),
        ("non-minimal negative int", b"\x38\x00"),
        ("non-minimal bytes length", b"\x58\x01a"),
        ("non-minimal text length", b"\x78\x01a"),
        ("non-minimal array length", b"\x98\x01\x00"),
        ("non-minimal map length", b"\xb8\x01\x61a\x00"),
        ("unsorted map keys", b"\xa2\x61b\x01\x61a\x02"),
        ("unsorted map keys (length first)", b"\xa2\x62aa\x01\x61b\x02"),
        ("duplicate map keys", b"\xa2\x61a\x01\x61a\x02"),
        ("indefinite array", b"\x9f\x01\xff"),
        ("indefinite map", b"\xbf\x61a\x01\xff"),
        ("indefinite bytes", b"\x5f\x41a\xff"),
        ("indefinite text", b"\x7f\x61a\xff"),
        ("break alone", b"\xff"),
        ("half float", b"\xf9\x3c\x00"),
        ("single float", b"\xfa\x3f\x80\x00\x00"),
        ("double float", b"\xfb\x3f\xf0\x00\x00\x00\x00\x00\x00"),
        ("undefined", b"\xf7"),
        ("simple value 16", b"\xf0"),
        ("simple value in 2 bytes", b"\xf8\x20"),
        ("tag 0 datetime", b"\xc0\x74" + b"2013-03-21T20:04:00Z"),
        ("tag 1 epoch", b"\xc1\x01"),
        ("tag 2 bignum", b"\xc2\x49\x01" + b"\x00" * 8),
        ("tag 3 negative bignum", b"\xc3\x49\x01" + b"\x00" * 8),
        ("self-describe tag", b"\xd9\xd9\xf7\x01"),
        ("shared reference", b"\x82\xd8\x1c\x81\x01\xd8\x1d\x00"),
        ("string reference", b"\xd9\x01\x00\x82\x63abc\xd8\x19\x00"),
        ("trailing bytes", b"\x01\x01"),
        ("trailing zero", b"\x80\x00"),
        ("empty input", b""),
        ("truncated head", b"\x19\x01"),
        ("truncated bytes", b"\x45abc"),
        ("truncated array", b"\x83\x01\x02"),
        ("huge claimed length", b"\x5b\x7f\xff\xff\xff\xff\xff\xff\xff"),
        ("huge claimed array", b"\x9b\x7f\xff\xff\xff\xff\xff\xff\xff"),
        ("reserved additional info", b"\x1c"),
        ("invalid utf-8", b"\x62\xff\xfe"),
        ("utf-8 surrogate", b"\x63\xed\xa0\x80"),
        ("overlong utf-8", b"\x62\xc0\xaf"),
        ("bytes map key", b"\xa1\x41a\x01"),
        ("int map key", b"\xa1\x01\x01"),
        ("array map key", b"\xa1\x81\x01\x01"),
    ],
)
def test_non_canonical_and_disallowed_inputs_are_refused(name, data):
    with pytest.raises(RemoteProtocolError):
        cbor.decode(data, 1000)


def test_the_minimal_forms_next_to_the_refused_ones_are_accepted():
    assert cbor.decode(b"\x17", 10) == 23
    assert cbor.decode(b"\x18\x18", 10) == 24
    assert cbor.decode(b"\x19\x01\x00", 10) == 256
    assert cbor.decode(b"\x1b\xff\xff\xff\xff\xff\xff\xff\xff", 10) == 2**64 - 1
    assert cbor.decode(b"\x3b\xff\xff\xff\xff\xff\xff\xff\xff", 10) == -(2**64)
    assert cbor.decode(b"\xa2\x61b\x01\x62aa\x02", 10) == {"b": 1, "aa": 2}
    assert cbor.decode(b"\x83\xf4\xf5\xf6", 10) == [False, True, None]


def test_size_limit_is_checked_first():
    data = cbor.encode(b"x" * 100)
    assert cbor.decode(data, len(data)) == b"x" * 100
    with pytest.raises(RemoteProtocolError, match="exceeds"):
        cbor.decode(data, len(data) - 1)
    with pytest.raises(RemoteProtocolError, match="exceeds"):
        cbor.decode(memoryview(b"\x00" * 10_000_000), 1000)


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_depth_limit():
    ok = cbor.encode(nested(MAX_CBOR_DEPTH))
    assert cbor.decode(ok, 1000) == nested(MAX_CBOR_DEPTH)
    too_deep = b"\x81" * MAX_CBOR_DEPTH + b"\x80"
    with pytest.raises(RemoteProtocolError, match="deep"):
        cbor.decode(too_deep, 1000)
    with pytest.raises(RemoteProtocolError, match="deep"):
        cbor.decode(b"\x81" * 100_000 + b"\x00", 200_000)  # no RecursionError
    with pytest.raises(RemoteProtocolError, match="deep"):
        cbor.decode(b"\xa1\x61a" * (MAX_CBOR_DEPTH + 1) + b"\x00", 1000)
    with pytest.raises(LocalProtocolError):
        cbor.encode(nested(MAX_CBOR_DEPTH + 1))


def test_reference_tags_cannot_amplify():
    """Tags 28/29 would let 16 KB stand for 16 million items; they are refused up front."""
    n = 4000
    inner = b"\xd8\x1c\x99" + n.to_bytes(2, "big") + b"\x00" * n
    data = b"\x99" + n.to_bytes(2, "big") + inner + b"\xd8\x1d\x00" * (n - 1)
    with pytest.raises(RemoteProtocolError, match="tags"):
        cbor.decode(data, len(data))


@pytest.mark.parametrize(
    "value", [1.5, 2**64, -(2**64) - 1, {1: 2}, {b"k": 1}, (1, 2), {1, 2}, object(), "\ud800"]
)
def test_encode_refuses_what_the_protocol_does_not_allow(value):
    with pytest.raises(LocalProtocolError):
        cbor.encode(value)


def test_decode_refuses_non_bytes():
    with pytest.raises(RemoteProtocolError):
        cbor.decode("text", 100)  # type: ignore[arg-type]
    assert cbor.decode(bytearray(b"\x01"), 10) == 1
