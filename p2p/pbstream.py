"""Length-delimited protobuf messages over libp2p streams (the framing of the libp2p NAT protocols).

Circuit relay v2, DCUtR and AutoNAT all send one protobuf message per unsigned-varint length prefix.
:func:`read_pb` checks the prefix against a cap *before* reading the body and turns every failure into
one of our two error shapes: ``wire.errors.RemoteProtocolError`` (bad bytes from the peer: oversized,
truncated, unparsable) or ``p2p.errors.P2PError`` (the stream broke). Callers bound the wait.
"""

from __future__ import annotations

from typing import TypeVar

import trio
from google.protobuf.message import DecodeError, Message
from libp2p.abc import INetStream
from libp2p.exceptions import BaseLibp2pError
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.utils.varint import encode_varint_prefixed

from p2p.errors import P2PError
from wire.errors import RemoteProtocolError

M = TypeVar("M", bound=Message)

#: A varint length prefix is at most this many bytes (64-bit value).
MAX_VARINT_BYTES = 10
_STREAM_FAILURES = (BaseLibp2pError, trio.BrokenResourceError, trio.ClosedResourceError, OSError)


async def _read_exactly(stream: INetStream, n: int, what: str) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = await stream.read(n - len(buf))
        except StreamEOF:
            chunk = b""
        except _STREAM_FAILURES as exc:
            raise P2PError(f"stream failed while reading {what}: {exc!r}") from exc
        if not chunk:
            raise RemoteProtocolError(f"stream ended after {len(buf)} of {n} bytes of {what}")
        buf += chunk
    return bytes(buf)


async def read_pb(stream: INetStream, cls: type[M], max_bytes: int) -> M:
    """Read one length-delimited protobuf message of type ``cls`` (body at most ``max_bytes``).

    Raises:
        RemoteProtocolError: malformed prefix, oversized, truncated or unparsable body.
        P2PError: the stream was reset or broke.
    """
    length = 0
    for i in range(MAX_VARINT_BYTES):
        byte = (await _read_exactly(stream, 1, "a length prefix"))[0]
        length |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            break
    else:
        raise RemoteProtocolError("length prefix longer than 10 bytes")
    if length > max_bytes:
        raise RemoteProtocolError(f"message of {length} bytes exceeds the {max_bytes}-byte limit")
    body = await _read_exactly(stream, length, "a message") if length else b""
    msg = cls()
    try:
        msg.ParseFromString(body)
    except (DecodeError, ValueError, RuntimeWarning) as exc:
        raise RemoteProtocolError(f"unparsable {cls.__name__}: {exc}") from None
    return msg


async def write_pb(stream: INetStream, msg: Message) -> None:
    """Write one length-delimited protobuf message.

    Raises:
        P2PError: the stream was closed, reset or broke.
    """
    try:
        await stream.write(encode_varint_prefixed(msg.SerializeToString()))
    except _STREAM_FAILURES as exc:
        raise P2PError(f"stream failed while writing {type(msg).__name__}: {exc!r}") from exc


__all__ = ["MAX_VARINT_BYTES", "read_pb", "write_pb"]
