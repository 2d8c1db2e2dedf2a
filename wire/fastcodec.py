"""Fast paths of the message codec: one pass between a message dataclass and its canonical CBOR bytes.

The strict path (``wire.codec`` over ``wire.cbor``) builds a generic value, checks it, and only then
turns it into a typed message; an encode even decodes its own output map once more to check it. That is
~0.1 ms for a DHT reply of 20 contacts, paid on both sides of every RPC. This module compiles, once per
message class, an encoder and a decoder that walk the class's schema directly:

* the decoder reads the bytes in the one canonical order the class allows (its fields' keys, sorted as
  canonical CBOR sorts them: shorter encoded key first, then bytewise), checks every head, type and bound
  as ``wire.codec`` does, and builds the dataclass;
* the encoder writes the canonical bytes of each field after the same checks.

Neither ever decides alone that input is bad. Whatever it does not take exactly (any irregular head,
unexpected key, wrong type, bound, non-minimal form, truncation, trailing byte, ``__post_init__``
refusal) makes it give up (``None``), and the caller runs the strict path, which accepts it or raises
the error it always raised. So on valid input both paths give the same result, and on invalid input the
error is the strict path's own (``tests/test_wire_fastcodec.py`` checks both, differentially).

Only classes built from the codec's field types, without ``__post_init__`` anywhere in their tree (the
strict encoder re-runs it on a rebuilt copy, which we do not), nested at most ``MAX_CBOR_DEPTH`` deep, get
a fast path: today every DHT RPC message; the others always take the strict path.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Callable
from typing import Any

from wire.cbor import CBOR_INT_MAX, CBOR_INT_MIN
from wire.codec import (
    _DEFAULT_MAX_BYTES,
    _DEFAULT_MAX_LIST,
    _DEFAULT_MAX_STR,
    _INT_MAX,
    _INT_MIN,
    _fields,
    _hints,
    _is_optional,
    _strip_optional,
)
from wire.limits import MAX_CBOR_DEPTH


class _GiveUp(Exception):
    """The fast path does not take this input exactly; the strict path decides."""


_GIVE_UP = _GiveUp()
#: ``decode(data, pos) -> (value, next pos)``; raises on anything it does not take.
_Dec = Callable[[bytes, int], tuple[Any, int]]
#: ``encode(value, out)`` appends the value's canonical bytes to ``out``; raises on a value it does not take.
_Enc = Callable[[Any, list[bytes]], None]


def _head_bytes(major: int, n: int) -> bytes:
    """The shortest CBOR head of major type ``major`` and argument ``n`` (0 <= n < 2**64)."""
    mt = major << 5
    if n < 24:
        return bytes((mt | n,))
    if n < 0x100:
        return bytes((mt | 24, n))
    if n < 0x10000:
        return bytes((mt | 25,)) + n.to_bytes(2, "big")
    if n < 0x1_0000_0000:
        return bytes((mt | 26,)) + n.to_bytes(4, "big")
    return bytes((mt | 27,)) + n.to_bytes(8, "big")


#: Heads with a one-byte argument or less, by (major, argument): the common case of every head we write.
_SMALL_HEADS = [[_head_bytes(major, n) for n in range(256)] for major in range(8)]


def _head(data: bytes, pos: int, major: int) -> tuple[int, int]:
    """The argument of the head at ``pos``, which must be of type ``major`` and in its shortest form."""
    ib = data[pos]
    if ib >> 5 != major:
        raise _GIVE_UP
    arg = ib & 0x1F
    if arg < 24:
        return arg, pos + 1
    if arg == 24:
        arg = data[pos + 1]
        if arg < 24:
            raise _GIVE_UP
        return arg, pos + 2
    size = {25: 2, 26: 4, 27: 8}.get(arg)
    if size is None or pos + 1 + size > len(data):
        raise _GIVE_UP
    value = int.from_bytes(data[pos + 1 : pos + 1 + size], "big")
    if value < (1 << (4 * size)):  # 25: >= 0x100, 26: >= 0x10000, 27: >= 2**32
        raise _GIVE_UP
    return value, pos + 1 + size


def _put_head(out: list[bytes], major: int, n: int) -> None:
    out.append(_SMALL_HEADS[major][n] if n < 256 else _head_bytes(major, n))


@dataclasses.dataclass(frozen=True)
class _Codec:
    """The compiled fast path of one class."""

    encode: _Enc
    decode: _Dec


_CODECS: dict[type, _Codec | None] = {}


def codec_of(cls: type) -> _Codec | None:
    """The fast path of ``cls``, compiled on first use; None if the class has none."""
    try:
        return _CODECS[cls]
    except KeyError:
        pass
    try:
        codec, depth = _compile_class(cls)
        result = codec if depth < MAX_CBOR_DEPTH else None  # a frame adds one level
    except _Unsupported:
        result = None
    _CODECS[cls] = result
    return result


class _Unsupported(Exception):
    """A class (or a field of it) the fast path does not cover."""


def _compile_class(cls: type) -> tuple[_Codec, int]:
    """The codec of a message class, and how many containers deep its encoding nests (itself included)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)) or hasattr(cls, "__post_init__"):
        raise _Unsupported(cls)
    hints = _hints(cls)
    compiled: list[tuple[bytes, str, bool, _Enc, _Dec]] = []
    depth = 0
    for f in _fields(cls):
        tp = hints[f.name]
        enc, dec, d = _compile_value(_strip_optional(tp), f.metadata)
        depth = max(depth, d)
        key = _head_bytes(3, len(f.name.encode())) + f.name.encode()
        compiled.append((key, f.name, _is_optional(tp), enc, dec))
    compiled.sort(key=lambda c: (len(c[0]), c[0]))  # canonical CBOR map order
    fields = tuple(compiled)
    count = len(fields)
    if count >= 24:  # the decoder reads the map's count from its first byte
        raise _Unsupported(cls)

    def decode(data: bytes, pos: int) -> tuple[Any, int]:
        n = data[pos] - 0xA0  # a map head with its count inline (always: a class has < 24 fields)
        if not 0 <= n <= count:
            raise _GIVE_UP
        pos += 1
        kwargs: dict[str, Any] = {}
        for key, name, optional, _enc, dec in fields:
            if n and data.startswith(key, pos):
                kwargs[name], pos = dec(data, pos + len(key))
                n -= 1
            elif optional:
                kwargs[name] = None
            else:
                raise _GIVE_UP  # a missing field, or a key out of order or unknown
        if n:
            raise _GIVE_UP
        return cls(**kwargs), pos

    def encode(value: Any, out: list[bytes]) -> None:
        if type(value) is not cls:
            raise _GIVE_UP
        present = [(key, enc, v) for key, name, optional, enc, _dec in fields
                   if (v := getattr(value, name)) is not None or not optional]  # fmt: skip
        _put_head(out, 5, len(present))
        for key, enc, v in present:
            out.append(key)
            enc(v, out)

    head = _head_bytes(5, count)
    steps = tuple((key, name, enc) for key, name, _optional, enc, _dec in fields)

    def encode_all(value: Any, out: list[bytes]) -> None:  # a class without optional fields: every key
        if type(value) is not cls:
            raise _GIVE_UP
        out.append(head)
        for key, name, enc in steps:
            out.append(key)
            enc(getattr(value, name), out)

    if not any(optional for _key, _name, optional, _enc, _dec in fields):
        encode = encode_all
    return _Codec(encode, decode), depth + 1


def _compile_value(tp: Any, meta: typing.Mapping[str, Any]) -> tuple[_Enc, _Dec, int]:
    """Encoder, decoder and container depth of one field's value: the checks of ``wire.codec._compile``."""
    origin = typing.get_origin(tp)
    if tp is bool:
        return _enc_bool, _dec_bool, 0
    if tp is int:
        lo = max(meta.get("min", _INT_MIN), CBOR_INT_MIN)
        hi = min(meta.get("max", _INT_MAX), CBOR_INT_MAX)
        return (*_int_codec(lo, hi), 0)
    if tp is bytes or tp is str:
        most = meta.get("max", _DEFAULT_MAX_BYTES if tp is bytes else _DEFAULT_MAX_STR)
        return (*_string_codec(tp is bytes, meta.get("len"), most), 0)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return (*_enum_codec(tp), 0)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        codec, depth = _compile_class(tp)
        return codec.encode, codec.decode, depth
    if origin is list:
        enc, dec, depth = _compile_value(typing.get_args(tp)[0], meta.get("item", {}))
        return (*_list_codec(enc, dec, meta.get("max", _DEFAULT_MAX_LIST)), depth + 1)
    raise _Unsupported(tp)  # tuples, dicts (only Intent's attributes: an Intent has __post_init__)


def _enc_bool(value: Any, out: list[bytes]) -> None:
    if value is True:
        out.append(b"\xf5")
    elif value is False:
        out.append(b"\xf4")
    else:
        raise _GIVE_UP


def _dec_bool(data: bytes, pos: int) -> tuple[Any, int]:
    ib = data[pos]
    if ib == 0xF5:
        return True, pos + 1
    if ib == 0xF4:
        return False, pos + 1
    raise _GIVE_UP


def _int_codec(lo: int, hi: int) -> tuple[_Enc, _Dec]:
    def encode(value: Any, out: list[bytes]) -> None:
        if type(value) is not int or not lo <= value <= hi:
            raise _GIVE_UP
        if value >= 0:
            _put_head(out, 0, value)
        else:
            _put_head(out, 1, -1 - value)

    def decode(data: bytes, pos: int) -> tuple[Any, int]:
        if data[pos] >> 5 == 1:
            arg, pos = _head(data, pos, 1)
            value = -1 - arg
        else:
            value, pos = _head(data, pos, 0)
        if not lo <= value <= hi:
            raise _GIVE_UP
        return value, pos

    return encode, decode


def _string_codec(is_bytes: bool, exact: int | None, most: int) -> tuple[_Enc, _Dec]:
    kind: Any = bytes if is_bytes else str
    major = 2 if is_bytes else 3

    def encode(value: Any, out: list[bytes]) -> None:
        if type(value) is not kind:
            raise _GIVE_UP
        n = len(value)
        if (exact is not None and n != exact) or n > most:
            raise _GIVE_UP
        raw = value if is_bytes else value.encode("utf-8")  # a lone surrogate raises: the strict path says
        _put_head(out, major, len(raw))
        out.append(raw)

    small = major << 5  # the head of a string shorter than 24: its length inline

    def decode(data: bytes, pos: int) -> tuple[Any, int]:
        size = data[pos] - small
        if 0 <= size < 24:
            pos += 1
        else:
            size, pos = _head(data, pos, major)
        stop = pos + size
        if stop > len(data):
            raise _GIVE_UP
        value = data[pos:stop] if is_bytes else data[pos:stop].decode("utf-8")
        n = len(value)
        if (exact is not None and n != exact) or n > most:
            raise _GIVE_UP
        return value, stop

    return encode, decode


def _enum_codec(tp: type[enum.Enum]) -> tuple[_Enc, _Dec]:
    members = {m.value: m for m in tp}
    is_int = issubclass(tp, int)
    if not is_int and not all(type(v) is str for v in members):
        raise _Unsupported(tp)
    encoded = {m: b"".join(_encode_plain(m.value)) for m in tp}

    def encode(value: Any, out: list[bytes]) -> None:
        if type(value) is not tp:
            raise _GIVE_UP
        out.append(encoded[value])

    def decode(data: bytes, pos: int) -> tuple[Any, int]:
        if is_int:
            if data[pos] >> 5 == 1:
                arg, pos = _head(data, pos, 1)
                value: Any = -1 - arg
            else:
                value, pos = _head(data, pos, 0)
        else:
            size, pos = _head(data, pos, 3)
            if pos + size > len(data):
                raise _GIVE_UP
            value, pos = data[pos : pos + size].decode("utf-8"), pos + size
        member = members.get(value)
        if member is None:
            raise _GIVE_UP
        return member, pos

    return encode, decode


def _encode_plain(value: int | str) -> list[bytes]:
    out: list[bytes] = []
    if isinstance(value, str):
        raw = value.encode("utf-8")
        _put_head(out, 3, len(raw))
        out.append(raw)
    elif value >= 0:
        _put_head(out, 0, value)
    else:
        _put_head(out, 1, -1 - value)
    return out


def _list_codec(enc: _Enc, dec: _Dec, most: int) -> tuple[_Enc, _Dec]:
    def encode(value: Any, out: list[bytes]) -> None:
        if type(value) is not list or len(value) > most:
            raise _GIVE_UP
        _put_head(out, 4, len(value))
        for item in value:
            enc(item, out)

    def decode(data: bytes, pos: int) -> tuple[Any, int]:
        n = data[pos] - 0x80
        if 0 <= n < 24:
            pos += 1
        else:
            n, pos = _head(data, pos, 4)
        if n > most:
            raise _GIVE_UP
        items = []
        for _ in range(n):
            item, pos = dec(data, pos)
            items.append(item)
        return items, pos

    return encode, decode


# ----------------------------------------------------------------------------------------- entry points


def encode_map(msg: Any) -> bytes | None:
    """The canonical CBOR map of ``msg``'s fields, or None: the strict path must decide."""
    codec = codec_of(type(msg))
    if codec is None:
        return None
    out: list[bytes] = []
    try:
        codec.encode(msg, out)
    except (_GiveUp, UnicodeError):
        return None
    return b"".join(out)


def encode_frame(code: int, msg: Any) -> bytes | None:
    """The canonical CBOR ``[code, map]`` of a message (``0 <= code < 256``), or None (strict path)."""
    body = encode_map(msg)
    if body is None:
        return None
    return b"\x82" + _SMALL_HEADS[0][code] + body


def decode_map(cls: type, data: bytes) -> Any | None:
    """``cls`` from its canonical CBOR map filling all of ``data``, or None: the strict path must decide."""
    codec = codec_of(cls)
    if codec is None or type(data) is not bytes:
        return None
    return _run(codec, data, 0)


def decode_frame(classes: typing.Mapping[Any, type], data: bytes) -> Any | None:
    """The message of a ``[code, map]`` frame whose code names one of ``classes``, or None (strict path)."""
    if type(data) is not bytes or len(data) < 3 or data[0] != 0x82:
        return None
    code, start = data[1], 2
    if code >= 24:
        if code != 24 or data[2] < 24:
            return None
        code, start = data[2], 3
    cls = classes.get(code)
    codec = None if cls is None else codec_of(cls)
    if codec is None:
        return None
    return _run(codec, data, start)


def _run(codec: _Codec, data: bytes, pos: int) -> Any | None:
    try:
        value, end = codec.decode(data, pos)
    except Exception:  # any refusal or surprise (an IndexError at a truncation, a check in __init__): the
        return None  # strict path takes the input, and raises its own error if it must
    return value if end == len(data) else None


__all__ = ["codec_of", "decode_frame", "decode_map", "encode_frame", "encode_map"]
