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

Theory of operation (client, :class:`MuxClient`)
-------------------------------------------------
One :class:`_Session` per peer, created by the first ``call`` and run as a task of the client: it opens the
stream (callers wait for it), then runs a *writer* (the only task that writes: it takes queued request
frames in order and writes them, several at once when they queued up together) and a *reader* (the only
task that reads: it matches each reply to its waiting caller by id). Neither is ever cancelled while the
stream is in use, so a caller's cancellation or timeout can never cut a frame in half or lose a read: a
caller that gives up only forgets its id (a reply arriving later is counted and dropped) and, if its frame
was not written yet, takes it out of the queue. At most ``max_inflight`` calls per peer are outstanding;
more wait for a slot within their own deadline. A write that does not finish within ``WRITE_TIMEOUT_S``,
a reset, a protocol violation or EOF *breaks* the session: its calls in flight fail with ``P2PError``, the
stream is reset, and the next ``call`` opens a new session. A call whose frame had not been written when
its session broke is tried once more on a new session (nothing reached the peer). A session without calls
for ``CLIENT_IDLE_S`` is closed. A failed open (``DialError``, ``PeerTimeout``) is reported to every caller
waiting for it; :mod:`p2p.rpc_client` decides what to do next (fall back to one stream per request).

Theory of operation (server, :class:`MuxServer`)
------------------------------------------------
One handler task per inbound stream: a reader that decodes request frames and starts one task per
request (at most ``max_inflight`` at once: beyond that it stops reading, and yamux's window pushes back
on the client), each bounded by ``handler_timeout`` and answering ``REPLY`` or ``FAIL``; and a single
writer for the replies, bounded by ``WRITE_TIMEOUT_S``. A peer keeps at most ``MAX_STREAMS_PER_PEER``
streams: a newer one evicts (resets) the oldest. A stream on which no request arrives for
``SERVER_IDLE_S`` (longer than the client's own idle close) is closed after its last replies went out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import trio

from p2p.framing import PREFIX_BYTES, FrameReader, encode_frame
from p2p.host import P2PError, PeerTimeout
from p2p.transport import (
    Caller,
    ProtocolRefused,
    Reply,
    Stream,
    Transport,
    is_protocol_refusal,
    reset_stream,
    stream_remote_ip,
)
from wire.errors import RemoteProtocolError
from wire.limits import MAX_FRAME_BYTES

log = logging.getLogger(__name__)

REQUEST, REPLY, FAIL = 0, 1, 2
_HEADER = struct.Struct(">BQ")
HEADER_BYTES = _HEADER.size
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
    return encode_frame(_HEADER.pack(kind, rid) + payload, MAX_MUX_BODY_BYTES)


def decode_body(body: bytes) -> tuple[int, int, bytes]:
    """``(kind, id, payload)`` of a frame body.

    Raises:
        RemoteProtocolError: shorter than a header, or an unknown kind.
    """
    if len(body) < HEADER_BYTES:
        raise RemoteProtocolError(f"mux frame of {len(body)} bytes is shorter than its header")
    kind, rid = _HEADER.unpack_from(body, 0)
    if kind not in (REQUEST, REPLY, FAIL):
        raise RemoteProtocolError(f"unknown mux frame kind {kind}")
    return kind, rid, body[HEADER_BYTES:]


def fail_reason(payload: bytes) -> str:
    """The printable reason of a ``FAIL`` payload (bounded, never raises)."""
    return payload[:MAX_FAIL_REASON].decode("ascii", "replace")


# ============================================================================================ client


class _Call:
    __slots__ = ("done", "error", "frame", "reply", "written")

    def __init__(self, frame: bytes) -> None:
        self.frame = frame
        self.written = False
        self.done = trio.Event()
        self.reply = b""
        self.error: P2PError | None = None


class _Session:
    """One multiplexed stream to one peer, client side."""

    def __init__(self, peer_id: str, max_inflight: int) -> None:
        self.peer_id = peer_id
        self.stream: Stream | None = None
        self.ready = trio.Event()
        self.open_error: P2PError | None = None
        self.broken: str | None = None
        self.calls: dict[int, _Call] = {}
        self.queue: deque[int] = deque()
        self.writer_lot = trio.lowlevel.ParkingLot()
        self.slots = trio.Semaphore(max_inflight)
        self.next_id = 1
        self.last_used = trio.current_time()
        self.scope = trio.CancelScope()
        self.remote_ip: str | None = None


@dataclass
class MuxClientStatistics:
    sessions_opened: int = 0
    open_failures: int = 0
    protocol_refusals: int = 0
    calls: int = 0
    replies: int = 0
    remote_failures: int = 0
    broken_sessions: int = 0
    failed_in_flight: int = 0
    requeued: int = 0
    abandoned: int = 0
    late_replies: int = 0
    idle_closed: int = 0
    write_batches: int = 0


class MuxClient:
    """Client side of a multiplexed protocol. Run it with ``await nursery.start(client.run)``; then
    ``call`` from any task."""

    def __init__(
        self,
        transport: Transport,
        protocol: str,
        *,
        max_inflight: int = MAX_INFLIGHT_PER_PEER,
        idle_timeout: float = CLIENT_IDLE_S,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.transport = transport
        self.protocol = protocol
        self.max_inflight = max_inflight
        self.idle_timeout = idle_timeout
        self.max_sessions = max_sessions
        self.stats = MuxClientStatistics()
        self._sessions: dict[str, _Session] = {}
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Host the sessions' tasks until cancelled; then every session is reset and its calls fail."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                task_status.started()
                await trio.sleep_forever()
        finally:
            self._nursery = None
            for session in list(self._sessions.values()):
                self._break(session, "the client stopped")

    def session_count(self) -> int:
        return len(self._sessions)

    async def call(
        self, peer_id: str, payload: bytes, *, timeout: float, addrs: Sequence[str] | None = None
    ) -> bytes:
        """The payload of :meth:`call_reply` (same arguments and errors)."""
        reply = await self.call_reply(peer_id, payload, timeout=timeout, addrs=addrs)
        return reply.payload

    async def call_reply(
        self, peer_id: str, payload: bytes, *, timeout: float, addrs: Sequence[str] | None = None
    ) -> Reply:
        """Send one request to ``peer_id`` on its multiplexed stream (opened if needed); wait for the reply.

        Returns:
            The reply payload, and the IP the stream's connection was observed at.
        Raises:
            DialError: the stream could not be opened (``ProtocolRefused`` if the peer does not serve it).
            PeerTimeout: no reply within ``timeout`` (stream opening included).
            MuxFailure: the peer answered ``FAIL``.
            P2PError: the stream broke while the request was in flight.
            ValueError: ``payload`` is larger than ``MAX_FRAME_BYTES`` (our own bug).
        """
        if self._nursery is None:
            raise P2PError("the mux client is not running")
        frame = encode_body(REQUEST, 0, payload)  # size check before anything else; the id is patched in
        with trio.move_on_after(timeout):
            for attempt in range(2):
                session = self._session_for(peer_id, addrs, timeout)
                call = await self._call_on(session, frame)
                if call.error is None:
                    return Reply(call.reply, session.remote_ip)
                if call.written or attempt == 1:
                    raise call.error
                self.stats.requeued += 1  # the session broke before our frame left: nothing reached the peer
            raise AssertionError("unreachable")
        raise PeerTimeout(f"{self.protocol} call to {peer_id} took longer than {timeout} s")

    async def _call_on(self, session: _Session, frame: bytes) -> _Call:
        await session.ready.wait()
        if session.open_error is not None:
            raise _copy_error(session.open_error)
        call = _Call(b"")
        async with session.slots:
            if session.broken is not None:
                call.error = P2PError(f"mux stream to {session.peer_id} broke: {session.broken}")
                return call
            rid = session.next_id
            session.next_id += 1
            call.frame = (
                frame[:PREFIX_BYTES] + _HEADER.pack(REQUEST, rid) + frame[PREFIX_BYTES + HEADER_BYTES :]
            )
            session.calls[rid] = call
            session.queue.append(rid)
            session.writer_lot.unpark()
            session.last_used = trio.current_time()
            self.stats.calls += 1
            try:
                await call.done.wait()
            finally:
                session.last_used = trio.current_time()
                if not call.done.is_set():  # we gave up (timeout or cancellation): forget the id
                    self.stats.abandoned += 1
                    session.calls.pop(rid, None)
                    if not call.written:
                        with contextlib.suppress(ValueError):
                            session.queue.remove(rid)
        return call

    def _session_for(self, peer_id: str, addrs: Sequence[str] | None, open_timeout: float) -> _Session:
        session = self._sessions.pop(peer_id, None)
        if session is None or session.broken is not None:
            if self._nursery is None:
                raise P2PError("the mux client is not running")
            if len(self._sessions) >= self.max_sessions:
                self._close_least_used()
            session = _Session(peer_id, self.max_inflight)
            self._nursery.start_soon(self._run_session, session, list(addrs or ()), open_timeout)
        session.last_used = trio.current_time()
        self._sessions[peer_id] = session  # most recently used last
        return session

    def _close_least_used(self) -> None:
        for session in self._sessions.values():  # oldest use first
            if not session.calls and session.ready.is_set():
                self._break(session, "too many sessions", idle=True)
                return

    async def _run_session(self, session: _Session, addrs: list[str], open_timeout: float) -> None:
        try:
            with session.scope:
                try:
                    session.stream = await self.transport.open_stream(
                        session.peer_id, self.protocol, timeout=open_timeout, addrs=addrs or None
                    )
                except P2PError as exc:
                    self.stats.open_failures += 1
                    if is_protocol_refusal(exc):
                        self.stats.protocol_refusals += 1
                    session.open_error = exc
                    self._break(session, f"open failed: {exc}")
                    return
                finally:
                    session.ready.set()
                session.remote_ip = stream_remote_ip(session.stream)
                self.stats.sessions_opened += 1
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._writer, session, session.stream)
                    nursery.start_soon(self._reader, session, session.stream)
                    nursery.start_soon(self._idle_watch, session)
        finally:
            self._break(session, "session ended")
            if session.stream is not None:
                await reset_stream(session.stream)

    def _break(self, session: _Session, reason: str, *, idle: bool = False) -> None:
        """End a session: its calls in flight fail, its tasks stop, the next call opens a new one."""
        if session.broken is None:
            session.broken = reason
            if idle:
                self.stats.idle_closed += 1
            elif session.calls:
                self.stats.broken_sessions += 1
                log.debug(
                    "mux stream to %s broke (%s): %d calls fail", session.peer_id, reason, len(session.calls)
                )
        for call in session.calls.values():
            if call.written:
                self.stats.failed_in_flight += 1
            call.error = P2PError(f"mux stream to {session.peer_id} broke: {reason}")
            call.done.set()
        session.calls.clear()
        session.queue.clear()
        session.ready.set()
        session.scope.cancel()
        if self._sessions.get(session.peer_id) is session:
            del self._sessions[session.peer_id]

    async def _writer(self, session: _Session, stream: Stream) -> None:
        while True:
            while not session.queue:
                await session.writer_lot.park()
            batch: list[bytes] = []
            size = 0
            while session.queue and size < WRITE_BATCH_BYTES:
                call = session.calls.get(session.queue.popleft())
                if call is None:
                    continue
                call.written = True
                batch.append(call.frame)
                size += len(call.frame)
            if not batch:
                continue
            self.stats.write_batches += 1
            error = await _write_bounded(stream, b"".join(batch))
            if error is not None:
                self._break(session, error)
                return

    async def _reader(self, session: _Session, stream: Stream) -> None:
        reader = FrameReader(stream, MAX_MUX_BODY_BYTES)
        while True:
            try:
                body = await reader.read()
                if body is None:
                    raise P2PError("closed by the peer")
                kind, rid, payload = decode_body(body)
                if kind == REQUEST:
                    raise RemoteProtocolError("the peer sent a request on our stream")
                call = session.calls.get(rid)
                if call is not None and not call.written:
                    raise RemoteProtocolError(f"reply to request {rid} before it was sent")
            except (P2PError, RemoteProtocolError) as exc:
                self._break(session, str(exc))
                return
            if call is None:
                self.stats.late_replies += 1  # its caller gave up (or a confused peer): dropped
                continue
            del session.calls[rid]
            if kind == REPLY:
                self.stats.replies += 1
                call.reply = payload
            else:
                self.stats.remote_failures += 1
                call.error = MuxFailure(f"{session.peer_id} failed the request: {fail_reason(payload)}")
            call.done.set()

    async def _idle_watch(self, session: _Session) -> None:
        while True:
            await trio.sleep_until(session.last_used + self.idle_timeout)
            if not session.calls and trio.current_time() >= session.last_used + self.idle_timeout:
                self._break(session, "idle", idle=True)
                return

    def statistics(self) -> dict[str, int]:
        out = dict(vars(self.stats))
        out["sessions"] = len(self._sessions)
        return out


def _copy_error(exc: P2PError) -> P2PError:
    """A fresh exception of the same kind for each waiting caller (one object must not be raised twice)."""
    if is_protocol_refusal(exc):
        return ProtocolRefused(str(exc))
    copy = type(exc)(str(exc))
    copy.__cause__ = exc
    return copy


async def _write_bounded(stream: Stream, data: bytes) -> str | None:
    """Write ``data`` within ``WRITE_TIMEOUT_S``; the reason it failed, or None."""
    with trio.move_on_after(WRITE_TIMEOUT_S):
        try:
            await stream.write(data)
        except Exception as exc:  # libp2p's stream errors come in many types; each one breaks the stream
            return f"write failed: {exc!r}"
        return None
    return f"a write took longer than {WRITE_TIMEOUT_S} s"


# ============================================================================================ server


@dataclass
class MuxServerStatistics:
    streams: int = 0
    requests: int = 0
    replies: int = 0
    bad_requests: int = 0
    handler_failures: int = 0
    handler_timeouts: int = 0
    evicted: int = 0
    idle_closed: int = 0
    protocol_errors: int = 0


class _Served:
    """One inbound stream being served."""

    def __init__(self) -> None:
        self.scope = trio.CancelScope()
        self.evicted = False
        self.out: deque[bytes] = deque()
        self.lot = trio.lowlevel.ParkingLot()
        self.inflight = 0
        self.failure: P2PError | RemoteProtocolError | None = None


class MuxServer:
    """Server side of a multiplexed protocol: ``start()`` registers it with the transport, ``stop()``
    removes it. ``handler(caller, request) -> reply`` serves one request (``caller``: the authenticated
    peer id and the observed IP of its connection)."""

    def __init__(
        self,
        transport: Transport,
        protocol: str,
        handler: MuxHandler,
        *,
        max_inflight: int = MAX_INFLIGHT_PER_STREAM,
        max_streams_per_peer: int = MAX_STREAMS_PER_PEER,
        idle_timeout: float = SERVER_IDLE_S,
        handler_timeout: float = HANDLER_TIMEOUT_S,
    ) -> None:
        self.transport = transport
        self.protocol = protocol
        self.handler = handler
        self.max_inflight = max_inflight
        self.max_streams_per_peer = max_streams_per_peer
        self.idle_timeout = idle_timeout
        self.handler_timeout = handler_timeout
        self.stats = MuxServerStatistics()
        self._by_peer: dict[str, list[_Served]] = {}

    def start(self) -> None:
        # Streams are long-lived: our own idle timeout bounds them, not the transport's handler timeout.
        self.transport.set_handler(self.protocol, self._serve_stream, timeout=None)

    def stop(self) -> None:
        self.transport.remove_handler(self.protocol)

    def stream_count(self) -> int:
        return sum(len(v) for v in self._by_peer.values())

    async def _serve_stream(self, stream: Stream) -> None:
        caller = Caller.of(stream)
        peer = caller.peer_id
        served = _Served()
        streams = self._by_peer.setdefault(peer, [])
        streams.append(served)
        while len(streams) > self.max_streams_per_peer:
            oldest = streams.pop(0)
            oldest.evicted = True
            oldest.scope.cancel()
            self.stats.evicted += 1
        self.stats.streams += 1
        try:
            with served.scope:
                await self._serve_frames(stream, caller, served)
        finally:
            if served in streams:
                streams.remove(served)
            if not streams and self._by_peer.get(peer) is streams:
                del self._by_peer[peer]
        if served.evicted:
            raise P2PError(f"mux stream from {peer} evicted by a newer one")
        if served.failure is not None:
            raise served.failure  # the transport resets the stream

    async def _serve_frames(self, stream: Stream, caller: Caller, served: _Served) -> None:
        slots = trio.Semaphore(self.max_inflight)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._server_writer, stream, served, nursery.cancel_scope)
            await self._server_reader(stream, caller, served, slots, nursery)
            if served.failure is None:  # EOF or idle: let the requests in flight answer, then close
                with trio.move_on_after(self.handler_timeout + WRITE_TIMEOUT_S):
                    while served.inflight or served.out:
                        await served.lot.park()
            nursery.cancel_scope.cancel()

    async def _server_reader(
        self, stream: Stream, caller: Caller, served: _Served, slots: trio.Semaphore, nursery: trio.Nursery
    ) -> None:
        reader = FrameReader(stream, MAX_MUX_BODY_BYTES)
        while True:
            body: bytes | None = None
            # A read cancelled half-way may lose bytes: after an idle timeout this stream is never read again.
            with trio.move_on_after(self.idle_timeout) as idle:
                try:
                    body = await reader.read()
                except (P2PError, RemoteProtocolError) as exc:
                    self._fail_stream(served, exc, nursery)
                    return
            if idle.cancelled_caught:
                self.stats.idle_closed += 1
                return
            if body is None:
                return  # the client closed its side
            try:
                kind, rid, payload = decode_body(body)
                if kind != REQUEST:
                    raise RemoteProtocolError(f"mux frame of kind {kind} sent to the server")
            except RemoteProtocolError as exc:
                self._fail_stream(served, exc, nursery)
                return
            await slots.acquire()  # back-pressure: no more reading while max_inflight are handled
            served.inflight += 1
            self.stats.requests += 1
            nursery.start_soon(self._handle_one, caller, rid, payload, served, slots)

    def _fail_stream(
        self, served: _Served, exc: P2PError | RemoteProtocolError, nursery: trio.Nursery
    ) -> None:
        if isinstance(exc, RemoteProtocolError):
            self.stats.protocol_errors += 1
        served.failure = exc
        nursery.cancel_scope.cancel()

    async def _handle_one(
        self, caller: Caller, rid: int, payload: bytes, served: _Served, slots: trio.Semaphore
    ) -> None:
        try:
            frame = await self._answer(caller, rid, payload)
            served.out.append(frame)
        finally:
            served.inflight -= 1
            slots.release()
            served.lot.unpark_all()

    async def _answer(self, caller: Caller, rid: int, payload: bytes) -> bytes:
        peer = caller.peer_id
        reason = b""
        with trio.move_on_after(self.handler_timeout) as scope:
            try:
                reply = await self.handler(caller, payload)
                frame = encode_body(REPLY, rid, reply)
                self.stats.replies += 1
                return frame
            except RemoteProtocolError as exc:
                self.stats.bad_requests += 1
                log.debug("bad %s request from %s: %s", self.protocol, peer, exc)
                reason = b"bad request"
            except P2PError as exc:
                self.stats.handler_failures += 1
                log.debug("%s request from %s failed: %s", self.protocol, peer, exc)
                reason = b"failed"
            except Exception:  # a bug in the handler: logged, and only this request fails
                self.stats.handler_failures += 1
                log.warning("%s handler raised on a request from %s", self.protocol, peer, exc_info=True)
                reason = b"internal error"
        if scope.cancelled_caught:
            self.stats.handler_timeouts += 1
            reason = b"timeout"
        return encode_body(FAIL, rid, reason)

    async def _server_writer(self, stream: Stream, served: _Served, scope: trio.CancelScope) -> None:
        while True:
            while not served.out:
                await served.lot.park()
            batch: list[bytes] = []
            size = 0
            while served.out and size < WRITE_BATCH_BYTES:
                frame = served.out.popleft()
                batch.append(frame)
                size += len(frame)
            error = await _write_bounded(stream, b"".join(batch))
            served.lot.unpark_all()
            if error is not None:
                served.failure = P2PError(error)
                scope.cancel()
                return


__all__ = [
    "CLIENT_IDLE_S",
    "FAIL",
    "HANDLER_TIMEOUT_S",
    "MAX_INFLIGHT_PER_PEER",
    "MAX_INFLIGHT_PER_STREAM",
    "MAX_MUX_BODY_BYTES",
    "MAX_STREAMS_PER_PEER",
    "REPLY",
    "REQUEST",
    "SERVER_IDLE_S",
    "WRITE_TIMEOUT_S",
    "MuxClient",
    "MuxFailure",
    "MuxHandler",
    "MuxServer",
    "decode_body",
    "encode_body",
]
