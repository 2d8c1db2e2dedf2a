"""Read what processes sent, from the plaintext captures of ``METASPACE_CAPTURE_PLAINTEXT`` (p2p.capture).

A capture holds each Noise connection's plaintext writes in order: multistream-select of the muxer,
then a yamux byte stream. This module takes it apart the way the receiving peer would:

* yamux frames (12-byte headers) -> the bytes written on each stream;
* multistream-select (varint-prefixed lines) at the start of each stream -> the stream's protocol;
* our protocols' frames (``u32 length || body``; the DHT's multiplexed frames carry a 9-byte
  kind+id header) -> canonical CBOR values;
* inside them, every byte string that is itself canonical CBOR (a record, an envelope's body) is
  decoded too, and signed envelopes ``[1, type, author, body, signature]`` are recognised, so every
  integer and text string sent is reported with the envelope (author, message type) it belongs to.

Everything is parsed leniently (a stream cut by a killed process just ends); what can't be parsed is
still reported as raw bytes, so a text search over :attr:`Sent.raw` covers all of it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from p2p.capture import read_capture
from wire import cbor
from wire.errors import RemoteProtocolError

_YAMUX = struct.Struct(">BBHII")
_TYPE_DATA = 0
#: Our protocols (``/metaspace/...``: kad, match, negotiate, trust, ...) carry ``u32 length || body``
#: frames; the multiplexed DHT protocol's bodies start with a kind+id header.
OURS = "/metaspace/"
KAD_MUX = "/metaspace/kad-mux/1.0.0"
_MUX_HEADER = 9
#: Envelope message types (wire.messages.MsgType) under 0x40: signed messages.
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Leaf:
    """One integer or text string that was sent, and where: the envelope's author (None outside any
    envelope), its message type, the stream's protocol, and the map key it was under."""

    value: int | str
    author: bytes | None
    msg_type: int | None
    protocol: str
    key: str


@dataclass
class Sent:
    """Everything one process sent."""

    raw: list[bytes] = field(default_factory=list)  # per connection: the whole plaintext byte stream
    streams: list[tuple[str, bytes]] = field(default_factory=list)  # (protocol, bytes written)
    leaves: list[Leaf] = field(default_factory=list)
    envelopes: list[tuple[int, bytes, dict[str, Any], str]] = field(
        default_factory=list
    )  # type, author, body

    def protocols(self) -> set[str]:
        return {p for p, _ in self.streams}


def load(path: Path) -> Sent:
    """Parse one capture file."""
    conns: dict[int, bytearray] = {}
    for serial, data in read_capture(path):
        conns.setdefault(serial, bytearray()).extend(data)
    sent = Sent()
    for stream in conns.values():
        sent.raw.append(bytes(stream))
        _muxer, frames = _multistream(bytes(stream))  # the connection first agrees on /yamux/1.0.0
        for data in _yamux_streams(frames).values():
            protocol, rest = _multistream(data)
            sent.streams.append((protocol, rest))
            for value in _frames(protocol, rest):
                _walk(value, sent, None, None, protocol, "", 0)
    return sent


def _yamux_streams(data: bytes) -> dict[int, bytearray]:
    out: dict[int, bytearray] = {}
    at = 0
    while at + _YAMUX.size <= len(data):
        _version, kind, _flags, sid, length = _YAMUX.unpack_from(data, at)
        at += _YAMUX.size
        if kind == _TYPE_DATA:
            out.setdefault(sid, bytearray()).extend(data[at : at + length])
            at += length
    return out


def _varint(data: bytes, at: int) -> tuple[int, int] | None:
    value = shift = 0
    while at < len(data) and shift < 35:
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, at
        shift += 7
    return None


def _multistream(data: bytes) -> tuple[str, bytes]:
    """The last protocol line of the stream's multistream-select preamble, and the bytes after it."""
    protocol, at = "", 0
    while True:
        parsed = _varint(data, at)
        if parsed is None:
            break
        length, start = parsed
        line = data[start : start + length]
        if not (0 < length < 1024 and line.endswith(b"\n") and (line.startswith(b"/") or line == b"na\n")):
            break
        text = line[:-1].decode("utf-8", "replace")
        if text != "/multistream/1.0.0" and text != "na":
            protocol = text
        at = start + length
    return protocol, bytes(data[at:])


def _frames(protocol: str, data: bytes) -> Iterator[Any]:
    if not protocol.startswith(OURS):
        return
    at = 0
    while at + 4 <= len(data):
        (length,) = struct.unpack_from(">I", data, at)
        body = data[at + 4 : at + 4 + length]
        at += 4 + length
        if protocol == KAD_MUX:
            body = body[_MUX_HEADER:]
        value = _decode(body)
        if value is not None:
            yield value


def _decode(data: bytes) -> Any:
    if not data:
        return None
    try:
        return cbor.decode(data, len(data))
    except RemoteProtocolError:
        return None


def _is_envelope(v: Any) -> bool:
    if not (isinstance(v, list) and len(v) == 5 and v[0] == 1 and isinstance(v[1], int)):
        return False
    author, body, sig = v[2], v[3], v[4]
    return (
        isinstance(author, bytes)
        and len(author) == 32
        and isinstance(body, bytes)
        and (isinstance(sig, bytes) and len(sig) == 64)
    )


def _walk(
    v: Any, sent: Sent, author: bytes | None, mtype: int | None, protocol: str, key: str, depth: int
) -> None:
    if depth > _MAX_DEPTH:
        return
    if _is_envelope(v):
        body = _decode(v[3])
        if isinstance(body, dict):
            sent.envelopes.append((v[1], v[2], body, protocol))
        _walk(body, sent, v[2], v[1], protocol, "", depth + 1)
        return
    if isinstance(v, bool) or v is None:
        return
    if isinstance(v, int | str):
        sent.leaves.append(Leaf(v, author, mtype, protocol, key))
    elif isinstance(v, bytes):
        inner = _decode(v)
        if inner is not None and isinstance(inner, list | dict):
            _walk(inner, sent, author, mtype, protocol, key, depth + 1)
    elif isinstance(v, list):
        for item in v:
            _walk(item, sent, author, mtype, protocol, key, depth + 1)
    elif isinstance(v, dict):
        for k, item in v.items():
            _walk(item, sent, author, mtype, protocol, str(k), depth + 1)
