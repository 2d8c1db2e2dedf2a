"""Canonical CBOR (RFC 8949 §4.2 deterministic encoding) with strict decoding.

Only the types our messages use are accepted: unsigned/negative ints (64-bit heads, no bignums),
byte strings, text strings, arrays, maps with text keys, booleans and null. No floats, no tags,
no indefinite lengths, no undefined or other simple values.

Encoding uses cbor2's canonical mode. Decoding is our own small, bounded parser rather than
``cbor2.loads``: cbor2 expands semantic tags while it decodes (shared references, tag 28/29, and
string references, tag 256/25, let a few kilobytes stand for billions of items), so untrusted bytes
never reach it. The parser refuses, byte by byte, anything that is not the one canonical form:
non-minimal heads, unsorted or duplicate map keys, invalid UTF-8, nesting deeper than
``MAX_CBOR_DEPTH``, trailing bytes. As a last guard the decoded value is re-encoded and must give
back exactly the input bytes. Work is linear in the input size, which is checked first.
"""

from __future__ import annotations

from typing import Any

import cbor2

from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.limits import MAX_CBOR_DEPTH

CborValue = Any  # int | bytes | str | bool | None | list[CborValue] | dict[str, CborValue]

#: The integer range CBOR major types 0 and 1 carry without a bignum tag.
CBOR_INT_MIN = -(2**64)
CBOR_INT_MAX = 2**64 - 1

# additional-info value -> (number of argument bytes, smallest argument that needs that many bytes)
_ARG = {24: (1, 24), 25: (2, 0x100), 26: (4, 0x10000), 27: (8, 0x1_0000_0000)}


def _check(value: CborValue, depth: int) -> None:
    """Check a value we are about to encode. ``depth`` counts the containers around ``value``."""
    kind = type(value)
    if kind is str or kind is bytes or kind is bool or value is None:
        return
    if kind is int:
        if not CBOR_INT_MIN <= value <= CBOR_INT_MAX:
            raise LocalProtocolError("CBOR int outside the 64-bit range (bignums are not allowed)")
        return
    if isinstance(value, bool | bytes | str):
        return
    if isinstance(value, int):
        if not CBOR_INT_MIN <= value <= CBOR_INT_MAX:
            raise LocalProtocolError("CBOR int outside the 64-bit range (bignums are not allowed)")
        return
    if isinstance(value, list | dict) and depth >= MAX_CBOR_DEPTH:
        raise LocalProtocolError("CBOR nested too deeply")
    if isinstance(value, list):
        for item in value:
            _check(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise LocalProtocolError("CBOR map keys must be text")
            _check(item, depth + 1)
        return
    raise LocalProtocolError(f"CBOR type not allowed: {type(value).__name__}")


def encode(value: CborValue) -> bytes:
    """Encode ``value`` canonically.

    Args:
        value: ints in the 64-bit CBOR range, bytes, str, bool, None, lists and str-keyed dicts of those.

    Returns:
        The one canonical encoding.

    Raises:
        LocalProtocolError: the value holds a type or size the protocol does not allow.
    """
    _check(value, 0)
    try:
        return cbor2.dumps(value, canonical=True)
    except (UnicodeError, ValueError, cbor2.CBOREncodeError) as exc:  # e.g. a lone surrogate in a str
        raise LocalProtocolError(f"cannot encode value: {exc.__class__.__name__}") from None


_SIMPLE = {0xF4: False, 0xF5: True, 0xF6: None}


def _parse(data: bytes) -> CborValue:
    """Parse exactly one strict canonical item filling all of ``data`` (see the module docstring)."""
    end = len(data)
    from_bytes = int.from_bytes

    def item(pos: int, depth: int) -> tuple[CborValue, int]:
        if pos >= end:
            raise RemoteProtocolError("truncated CBOR")
        ib = data[pos]
        pos += 1
        major, arg = ib >> 5, ib & 0x1F
        if arg >= 24:
            if major == 7:
                raise RemoteProtocolError("CBOR floats and simple values are not allowed")
            spec = _ARG.get(arg)
            if spec is None:  # 28..30 reserved, 31 indefinite length
                raise RemoteProtocolError("indefinite length or reserved CBOR head")
            size, smallest = spec
            if pos + size > end:
                raise RemoteProtocolError("truncated CBOR")
            arg = from_bytes(data[pos : pos + size], "big")
            if arg < smallest:
                raise RemoteProtocolError("CBOR head not in its shortest form")
            pos += size
        if major == 0:
            return arg, pos
        if major == 2 or major == 3:
            stop = pos + arg
            if stop > end:
                raise RemoteProtocolError("truncated CBOR")
            if major == 2:
                return data[pos:stop], stop
            try:
                return data[pos:stop].decode("utf-8"), stop
            except UnicodeDecodeError:
                raise RemoteProtocolError("CBOR text is not valid UTF-8") from None
        if major == 1:
            return -1 - arg, pos
        if major == 7:
            if ib in _SIMPLE:
                return _SIMPLE[ib], pos
            raise RemoteProtocolError("CBOR simple value not allowed")
        if major == 6:
            raise RemoteProtocolError("CBOR tags are not allowed")
        if depth >= MAX_CBOR_DEPTH:
            raise RemoteProtocolError("CBOR nested too deeply")
        if arg > end - pos:  # every item takes at least one byte: refuse huge counts up front
            raise RemoteProtocolError("truncated CBOR")
        depth += 1
        if major == 4:
            out: list[CborValue] = []
            for _ in range(arg):
                value, pos = item(pos, depth)
                out.append(value)
            return out, pos
        result: dict[str, CborValue] = {}
        prev_len, prev = 0, b""
        for _ in range(arg):
            key_start = pos
            if pos >= end:
                raise RemoteProtocolError("truncated CBOR")
            if data[pos] >> 5 != 3:
                raise RemoteProtocolError("CBOR map keys must be text")
            key, pos = item(pos, depth)
            # Canonical order: shorter encoded key first, then bytewise; equal means duplicate.
            raw_len = pos - key_start
            raw = data[key_start:pos]
            if raw_len < prev_len or (raw_len == prev_len and raw <= prev):
                raise RemoteProtocolError("CBOR map keys unsorted or duplicated")
            prev_len, prev = raw_len, raw
            result[key], pos = item(pos, depth)
        return result, pos

    value, pos = item(0, 0)
    if pos != end:
        raise RemoteProtocolError("trailing bytes after the CBOR item")
    return value


def decode(data: bytes | bytearray | memoryview, max_bytes: int) -> CborValue:
    """Decode untrusted bytes that must be one canonical CBOR item of at most ``max_bytes``.

    Args:
        data: the untrusted bytes (bytes, bytearray or memoryview).
        max_bytes: the largest input accepted; checked before any parsing.

    Returns:
        The decoded value (int, bytes, str, bool, None, list, dict with str keys).

    Raises:
        RemoteProtocolError: too large, malformed, trailing bytes, disallowed types, non-canonical.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RemoteProtocolError("expected bytes")
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size > max_bytes:  # before copying: a memoryview may be huge
        raise RemoteProtocolError(f"CBOR item of {size} bytes exceeds {max_bytes}")
    data = bytes(data)
    if not data:
        raise RemoteProtocolError("empty CBOR input")
    value = _parse(data)
    try:
        again = cbor2.dumps(value, canonical=True)
    except (UnicodeError, ValueError, cbor2.CBOREncodeError):  # pragma: no cover - parser refuses these
        raise RemoteProtocolError("unencodable CBOR") from None
    if again != data:  # pragma: no cover - the parser already enforces the canonical form
        raise RemoteProtocolError("CBOR is not in canonical form")
    return value
