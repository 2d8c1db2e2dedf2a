"""Length-prefixed frames over libp2p streams, and one-request/one-reply RPCs built on them.

Wire format: ``u32 big-endian length || body``; a body is at most ``max_bytes``
(``wire.limits.MAX_FRAME_BYTES`` by default). The length prefix is checked *before* any of the body is
read, so a peer can't make us buffer more than the limit.

Errors:

- ``wire.errors.RemoteProtocolError``: the peer sent bad framing — an oversized length prefix, or the
  stream ended (EOF) before a whole frame arrived.
- ``p2p.host.P2PError`` (``DialError``, ``PeerTimeout``): the network failed — the stream was reset,
  the connection dropped, no connection could be made, a deadline expired.

For a DHT driver both mean "this peer failed this RPC".

``rpc`` is the client side (open, write one frame, read one frame, close); ``serve_rpc`` the server
side (read one frame, call the handler with the authenticated peer id, write the reply, close). A
bad request frame resets the stream; the host keeps serving.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable

import trio
from libp2p.exceptions import BaseLibp2pError
from libp2p.network.stream.exceptions import StreamEOF

from p2p.host import (
    DEFAULT_HANDLER_TIMEOUT,
    DEFAULT_STREAM_TIMEOUT,
    P2PError,
    PeerTimeout,
)
from p2p.transport import Caller, Reply, Stream, Transport, close_stream, reset_stream, stream_remote_ip
from wire.errors import RemoteProtocolError
from wire.limits import MAX_FRAME_BYTES

#: What a broken stream or connection raises from read/write: libp2p's errors (StreamReset, StreamError,
#: MuxedStreamError, ...) and trio's, should one leak through a transport.
_STREAM_FAILURES = (BaseLibp2pError, trio.BrokenResourceError, trio.ClosedResourceError)

_LEN = struct.Struct(">I")
#: Size of the length prefix.
PREFIX_BYTES = _LEN.size

#: ``handler(peer_id_text, request_body) -> reply_body``.
RpcHandler = Callable[[str, bytes], Awaitable[bytes]]
#: ``handler(caller, request_body) -> reply_body``: also gets the IP the request came from.
CallerHandler = Callable[[Caller, bytes], Awaitable[bytes]]


async def _read_exactly(stream: Stream, n: int, *, what: str) -> bytes:
    """Read exactly ``n`` bytes.

    Raises:
        RemoteProtocolError: EOF before ``n`` bytes.
        P2PError: the stream was reset or broke.
    """
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


async def write_frame(stream: Stream, data: bytes, max_bytes: int = MAX_FRAME_BYTES) -> None:
    """Write one frame.

    Raises:
        ValueError: ``data`` is longer than ``max_bytes`` (our own bug, never sent).
        P2PError: the stream is closed, reset or broken.
    """
    frame = encode_frame(data, max_bytes)
    try:
        await stream.write(frame)
    except _STREAM_FAILURES as exc:
        raise P2PError(f"stream failed while writing a frame: {exc!r}") from exc


async def read_frame_or_eof(stream: Stream, max_bytes: int = MAX_FRAME_BYTES) -> bytes | None:
    """Read one frame, or return ``None`` if the stream ended cleanly before its first byte.

    For protocols that send several frames and then close.

    Raises:
        RemoteProtocolError: length prefix above ``max_bytes``, or EOF inside a frame.
        P2PError: the stream was reset or broke.
    """
    try:
        first = await stream.read(PREFIX_BYTES)
    except StreamEOF:
        return None
    except _STREAM_FAILURES as exc:
        raise P2PError(f"stream failed while reading a frame: {exc!r}") from exc
    if not first:
        return None
    prefix = first
    if len(prefix) < PREFIX_BYTES:
        prefix += await _read_exactly(stream, PREFIX_BYTES - len(prefix), what="a length prefix")
    (length,) = _LEN.unpack(prefix)
    if length > max_bytes:
        raise RemoteProtocolError(f"frame length {length} exceeds the {max_bytes}-byte limit")
    if length == 0:
        return b""
    return await _read_exactly(stream, length, what="a frame body")


async def read_frame(stream: Stream, max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """Read exactly one frame.

    Raises:
        RemoteProtocolError: length prefix above ``max_bytes``, or EOF before a whole frame.
        P2PError: the stream was reset or broke.
    """
    data = await read_frame_or_eof(stream, max_bytes)
    if data is None:
        raise RemoteProtocolError("stream ended before a frame")
    return data


#: Bytes asked for by one read of a :class:`FrameReader` (a yamux data frame carries at most 64 KiB).
READ_CHUNK = 64 * 1024


class FrameReader:
    """Frames from one stream through a buffer: one ``read`` from the stream may deliver several frames
    (a burst of replies on a multiplexed stream) or a frame and the start of the next, so a busy stream costs
    about one stream read per batch instead of two per frame.

    The buffer never holds more than ``PREFIX_BYTES + max_bytes + READ_CHUNK`` bytes: a length prefix above
    ``max_bytes`` is refused before its body is read.
    """

    def __init__(self, stream: Stream, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self.stream = stream
        self.max_bytes = max_bytes
        self._buf = bytearray()

    async def read(self) -> bytes | None:
        """The next frame, or ``None`` if the stream ended cleanly between two frames.

        Raises:
            RemoteProtocolError: length prefix above ``max_bytes``, or EOF inside a frame.
            P2PError: the stream was reset or broke.
        """
        buf = self._buf
        while True:
            if len(buf) >= PREFIX_BYTES:
                (length,) = _LEN.unpack_from(buf, 0)
                if length > self.max_bytes:
                    raise RemoteProtocolError(
                        f"frame length {length} exceeds the {self.max_bytes}-byte limit"
                    )
                end = PREFIX_BYTES + length
                if len(buf) >= end:
                    frame = bytes(buf[PREFIX_BYTES:end])
                    del buf[:end]
                    return frame
            try:
                chunk = await self.stream.read(READ_CHUNK)
            except StreamEOF:
                chunk = b""
            except _STREAM_FAILURES as exc:
                raise P2PError(f"stream failed while reading a frame: {exc!r}") from exc
            if not chunk:
                if buf:
                    raise RemoteProtocolError(f"stream ended inside a frame ({len(buf)} bytes buffered)")
                return None
            buf += chunk


def encode_frame(data: bytes, max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """``data`` with its length prefix.

    Raises:
        ValueError: ``data`` is longer than ``max_bytes`` (our own bug, never sent).
    """
    if len(data) > max_bytes:
        raise ValueError(f"frame of {len(data)} bytes exceeds the {max_bytes}-byte limit")
    return _LEN.pack(len(data)) + data


async def rpc(
    host: Transport,
    peer_id: str,
    protocol: str,
    request: bytes,
    timeout: float = DEFAULT_STREAM_TIMEOUT,
    *,
    addrs: list[str] | None = None,
    max_reply_bytes: int = MAX_FRAME_BYTES,
) -> bytes:
    """One request/reply exchange on a fresh stream, all within ``timeout`` (connect included).

    The reply's body; :func:`rpc_reply` also says which IP the peer answered from. Args and errors alike.
    """
    reply = await rpc_reply(
        host, peer_id, protocol, request, timeout, addrs=addrs, max_reply_bytes=max_reply_bytes
    )
    return reply.payload


async def rpc_reply(
    host: Transport,
    peer_id: str,
    protocol: str,
    request: bytes,
    timeout: float = DEFAULT_STREAM_TIMEOUT,
    *,
    addrs: list[str] | None = None,
    max_reply_bytes: int = MAX_FRAME_BYTES,
) -> Reply:
    """One request/reply exchange on a fresh stream, all within ``timeout`` (connect included).

    Args:
        addrs: transport addresses to dial if we are not connected yet (tried in order, before
            those the peerstore already holds).

    Returns:
        The reply frame's body and the observed IP of the connection.
    Raises:
        DialError: could not connect or the peer does not serve ``protocol``.
        PeerTimeout: the whole exchange took longer than ``timeout``.
        RemoteProtocolError: the reply was malformed (oversized, truncated, missing).
        P2PError: the stream was reset or broke.
    """
    with trio.move_on_after(timeout) as scope:
        # open_stream gets its own (equal) bound so it raises PeerTimeout with a precise message.
        stream = await host.open_stream(peer_id, protocol, timeout=timeout, addrs=addrs)
        ok = False
        try:
            await write_frame(stream, request)
            reply = Reply(await read_frame(stream, max_reply_bytes), stream_remote_ip(stream))
            ok = True
        finally:
            if ok:
                await close_stream(stream)
            else:
                await reset_stream(stream)
        return reply
    assert scope.cancelled_caught
    raise PeerTimeout(f"{protocol} rpc to {peer_id} took longer than {timeout} s")


def serve_rpc(
    host: Transport,
    protocol: str,
    handler: RpcHandler,
    *,
    max_request_bytes: int = MAX_FRAME_BYTES,
    max_reply_bytes: int = MAX_FRAME_BYTES,
    timeout: float = DEFAULT_HANDLER_TIMEOUT,
) -> None:
    """Serve ``protocol``: read one request frame, ``reply = await handler(peer_id, request)``,
    write the reply frame, close.

    A bad request frame, a handler exception or a ``timeout`` resets the stream (the client sees a
    failed RPC); the host keeps serving. A stream that ends before its first byte (a client that gave
    up) is reset quietly. ``peer_id`` is the Noise-authenticated remote peer.
    """

    async def with_caller(caller: Caller, request: bytes) -> bytes:
        return await handler(caller.peer_id, request)

    serve_rpc_caller(
        host, protocol, with_caller, max_request_bytes=max_request_bytes, max_reply_bytes=max_reply_bytes,
        timeout=timeout,
    )  # fmt: skip


def serve_rpc_caller(
    host: Transport,
    protocol: str,
    handler: CallerHandler,
    *,
    max_request_bytes: int = MAX_FRAME_BYTES,
    max_reply_bytes: int = MAX_FRAME_BYTES,
    timeout: float = DEFAULT_HANDLER_TIMEOUT,
) -> None:
    """:func:`serve_rpc` whose handler gets a :class:`~p2p.transport.Caller` (peer id and observed IP)."""

    async def _serve(stream: Stream) -> None:
        request = await read_frame_or_eof(stream, max_request_bytes)
        if request is None:  # the client gave up (timed out, was cancelled) before sending anything
            await reset_stream(stream)
            return
        reply = await handler(Caller.of(stream), request)
        await write_frame(stream, reply, max_reply_bytes)

    host.set_handler(protocol, _serve, timeout=timeout)


__all__ = [
    "PREFIX_BYTES",
    "READ_CHUNK",
    "CallerHandler",
    "FrameReader",
    "RpcHandler",
    "encode_frame",
    "read_frame",
    "read_frame_or_eof",
    "rpc",
    "rpc_reply",
    "serve_rpc",
    "serve_rpc_caller",
    "write_frame",
]
