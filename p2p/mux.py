"""Multiplexed RPCs: many request/reply exchanges on one long-lived stream per peer.

Opening a yamux stream and negotiating its protocol with multistream-select costs several messages and
~8 ms of CPU per side in py-libp2p; a DHT lookup makes dozens of RPCs. So requests to a peer share one
stream on a protocol of their own (the DHT's is ``/metaspace/kad-mux/1.0.0``), and each carries an id.

Wire format
-----------
Both directions carry frames ``u32 big-endian length || body`` (``p2p.framing``); a body is
``u8 kind || u64 big-endian id || payload`` and at most ``MAX_MUX_BODY_BYTES``:

* ``REQUEST`` (client -> server): the payload is one request (e.g. a CBOR DHT message);
* ``REPLY`` (server -> client): the reply to the request with the same id;
* ``FAIL`` (server -> client): the request with that id got no reply (undecodable, the handler failed or
  timed out); the payload is a short ASCII reason. The client reports that request as failed, nothing else.

Ids are chosen by the client, unique per stream (a counter). Anything else (an unknown kind, a request
sent by the server, a reply sent by the client, a short or oversized body, EOF inside a frame) breaks the
stream: it is reset, and only the requests in flight on it fail.

The parts
---------
This module holds the wire format, the limits and what both sides share; the client side is
:class:`p2p.mux_client.MuxClient`, the server side :class:`p2p.mux_server.MuxServer` (each with its theory
of operation).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Awaitable, Callable

import trio

from p2p.framing import PREFIX_BYTES, encode_frame
from p2p.host import P2PError
from p2p.transport import Caller, Stream
from wire.errors import RemoteProtocolError
from wire.limits import MAX_FRAME_BYTES

REQUEST, REPLY, FAIL = 0, 1, 2
#: A body's header: kind, request id.
HEADER = struct.Struct(">BQ")
HEADER_BYTES = HEADER.size
#: A body: header plus one request or reply of at most ``wire.limits.MAX_FRAME_BYTES``.
MAX_MUX_BODY_BYTES = HEADER_BYTES + MAX_FRAME_BYTES
#: Requests a client keeps in flight to one peer; more callers wait for a slot (a lookup has alpha
#: requests per peer at most, so honest load never waits).
MAX_INFLIGHT_PER_PEER = 16
#: Requests a server handles at once on one stream; beyond it the server stops reading that stream.
MAX_INFLIGHT_PER_STREAM = 32
#: Multiplexed streams one peer may hold open to us; a newer one evicts the oldest (an honest client holds
#: one, and briefly two when it re-opens after a break the server has not noticed yet).
MAX_STREAMS_PER_PEER = 2
#: A client closes a session that had no call for this long (the next call opens a new one).
CLIENT_IDLE_S = 60.0
#: A server closes a stream on which no request arrived for this long (longer than ``CLIENT_IDLE_S``: the
#: client, who knows when it sends, closes first, so no request races a server-side close).
SERVER_IDLE_S = 300.0
#: One write of frames (a batch of requests, or of replies) must finish within this, or the stream breaks.
WRITE_TIMEOUT_S = 10.0
#: A request's handler on the server must answer within this, or the request gets ``FAIL``.
HANDLER_TIMEOUT_S = 10.0
#: Frames the client's writer joins into one stream write (fewer yamux frames and Noise messages).
WRITE_BATCH_BYTES = 64 * 1024
#: Longest reason text in a ``FAIL`` frame.
MAX_FAIL_REASON = 64
#: Live sessions a client keeps; past this, creating one closes the least recently used idle session.
MAX_SESSIONS = 1024

#: py-libp2p 0.8.1's yamux sends a WINDOW_UPDATE frame after *every* read by default ("release on read"):
#: one more yamux frame, Noise message and TCP write per RPC on each side of a long-lived stream. With it
#: off, yamux credits the window back as go-yamux does, once half of it was consumed (256 KiB window, so
#: a frame of at most ``MAX_MUX_BODY_BYTES`` never waits). The variable is read by py-libp2p on each read;
#: an operator's own setting wins.
YAMUX_RELEASE_ON_READ_ENV = "PY_YAMUX_RELEASE_ON_READ"
os.environ.setdefault(YAMUX_RELEASE_ON_READ_ENV, "0")

#: ``handler(caller, request) -> reply``; raising ``RemoteProtocolError`` marks the request as bad.
MuxHandler = Callable[[Caller, bytes], Awaitable[bytes]]


class MuxFailure(P2PError):
    """The peer answered ``FAIL`` to one request (it could not or would not handle it)."""


def encode_body(kind: int, rid: int, payload: bytes) -> bytes:
    """One framed mux message (length prefix included).

    Raises:
        ValueError: ``payload`` longer than ``MAX_FRAME_BYTES`` (our own bug, never sent).
    """
    return encode_frame(HEADER.pack(kind, rid) + payload, MAX_MUX_BODY_BYTES)


def decode_body(body: bytes) -> tuple[int, int, bytes]:
    """``(kind, id, payload)`` of a frame body.

    Raises:
        RemoteProtocolError: shorter than a header, or an unknown kind.
    """
    if len(body) < HEADER_BYTES:
        raise RemoteProtocolError(f"mux frame of {len(body)} bytes is shorter than its header")
    kind, rid = HEADER.unpack_from(body, 0)
    if kind not in (REQUEST, REPLY, FAIL):
        raise RemoteProtocolError(f"unknown mux frame kind {kind}")
    return kind, rid, body[HEADER_BYTES:]


def with_request_id(frame: bytes, rid: int) -> bytes:
    """A ``REQUEST`` frame from :func:`encode_body` (length prefix included), its id set to ``rid``."""
    return frame[:PREFIX_BYTES] + HEADER.pack(REQUEST, rid) + frame[PREFIX_BYTES + HEADER_BYTES :]


def fail_reason(payload: bytes) -> str:
    """The printable reason of a ``FAIL`` payload (bounded, never raises)."""
    return payload[:MAX_FAIL_REASON].decode("ascii", "replace")


async def write_bounded(stream: Stream, data: bytes) -> str | None:
    """Write ``data`` within ``WRITE_TIMEOUT_S``; the reason it failed, or None."""
    with trio.move_on_after(WRITE_TIMEOUT_S):
        try:
            await stream.write(data)
        except Exception as exc:  # libp2p's stream errors come in many types; each one breaks the stream
            return f"write failed: {exc!r}"
        return None
    return f"a write took longer than {WRITE_TIMEOUT_S} s"


__all__ = [
    "CLIENT_IDLE_S",
    "FAIL",
    "HANDLER_TIMEOUT_S",
    "HEADER_BYTES",
    "MAX_FAIL_REASON",
    "MAX_INFLIGHT_PER_PEER",
    "MAX_INFLIGHT_PER_STREAM",
    "MAX_MUX_BODY_BYTES",
    "MAX_SESSIONS",
    "MAX_STREAMS_PER_PEER",
    "REPLY",
    "REQUEST",
    "SERVER_IDLE_S",
    "WRITE_BATCH_BYTES",
    "WRITE_TIMEOUT_S",
    "MuxFailure",
    "MuxHandler",
    "decode_body",
    "encode_body",
    "fail_reason",
    "with_request_id",
    "write_bounded",
]
