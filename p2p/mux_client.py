"""Multiplexed RPCs, client side: many requests to a peer on one long-lived stream (see :mod:`p2p.mux`).

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
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import trio

from p2p.framing import FrameReader
from p2p.host import P2PError, PeerTimeout
from p2p.mux import (
    CLIENT_IDLE_S,
    MAX_INFLIGHT_PER_PEER,
    MAX_MUX_BODY_BYTES,
    MAX_SESSIONS,
    REPLY,
    REQUEST,
    WRITE_BATCH_BYTES,
    MuxFailure,
    decode_body,
    encode_body,
    fail_reason,
    with_request_id,
    write_bounded,
)
from p2p.transport import (
    ProtocolRefused,
    Reply,
    Stream,
    Transport,
    is_protocol_refusal,
    reset_stream,
    stream_remote_ip,
)
from wire.errors import RemoteProtocolError

log = logging.getLogger(__name__)


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
        # This checkpoint stays even when the session is open: a reset that reached the session's reader
        # breaks the session before our frame is queued (so the call is retried on a new one, not failed
        # as sent). A free slot is taken without another scheduler round trip.
        await session.ready.wait()
        if session.open_error is not None:
            raise _copy_error(session.open_error)
        call = _Call(b"")
        try:
            session.slots.acquire_nowait()
        except trio.WouldBlock:
            await session.slots.acquire()
        try:
            if session.broken is not None:
                call.error = P2PError(f"mux stream to {session.peer_id} broke: {session.broken}")
                return call
            rid = session.next_id
            session.next_id += 1
            call.frame = with_request_id(frame, rid)
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
        finally:
            session.slots.release()
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
            error = await write_bounded(stream, b"".join(batch))
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


__all__ = ["MuxClient", "MuxClientStatistics"]
