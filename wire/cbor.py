"""Canonical CBOR (RFC 8949 §4.2 deterministic encoding) with strict decoding.

Only the types our messages use are accepted: unsigned/negative ints, byte strings, text strings,
arrays, maps with text keys, booleans and null. No floats, no tags, no indefinite lengths.
Decoding re-encodes the value and compares bytes, so any non-canonical input is refused.
"""

from __future__ import annotations

from typing import Any

import cbor2

from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.limits import MAX_CBOR_DEPTH

CborValue = Any  # int | bytes | str | bool | None | list[CborValue] | dict[str, CborValue]


def _check(value: CborValue, depth: int) -> None:
    if depth > MAX_CBOR_DEPTH:
        raise RemoteProtocolError("CBOR nested too deeply")
    if value is None or isinstance(value, bool | int | bytes | str):
        return
    if isinstance(value, list):
        for item in value:
            _check(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise RemoteProtocolError("CBOR map keys must be text")
            _check(item, depth + 1)
        return
    raise RemoteProtocolError(f"CBOR type not allowed: {type(value).__name__}")


def encode(value: CborValue) -> bytes:
    """Encode ``value`` canonically.

    Raises:
        LocalProtocolError: the value holds a type the protocol does not allow.
    """
    try:
        _check(value, 0)
    except RemoteProtocolError as exc:  # our own value: a local mistake
        raise LocalProtocolError(str(exc)) from exc
    return cbor2.dumps(value, canonical=True)


def decode(data: bytes, max_bytes: int) -> CborValue:
    """Decode untrusted bytes that must be one canonical CBOR item of at most ``max_bytes``.

    Raises:
        RemoteProtocolError: too large, malformed, trailing bytes, disallowed types, non-canonical.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RemoteProtocolError("expected bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise RemoteProtocolError(f"CBOR item of {len(data)} bytes exceeds {max_bytes}")
    if not data:
        raise RemoteProtocolError("empty CBOR input")
    try:
        value = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises many types (ValueError, RecursionError, ...): all remote faults
        raise RemoteProtocolError(f"malformed CBOR: {exc.__class__.__name__}") from None
    _check(value, 0)
    try:
        again = cbor2.dumps(value, canonical=True)
    except Exception as exc:  # pragma: no cover - a value cbor2 decoded but cannot encode
        raise RemoteProtocolError(f"unencodable CBOR: {exc.__class__.__name__}") from None
    if again != data:
        raise RemoteProtocolError("CBOR is not in canonical form (or has trailing bytes)")
    return value
