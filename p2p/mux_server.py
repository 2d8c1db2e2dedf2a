"""Multiplexed RPCs, server side: the requests of a peer's long-lived stream, answered (see :mod:`p2p.mux`).

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

import logging
from collections import deque
from dataclasses import dataclass

import trio

from p2p.framing import FrameReader
from p2p.host import P2PError
from p2p.mux import (
    FAIL,
    HANDLER_TIMEOUT_S,
    MAX_INFLIGHT_PER_STREAM,
    MAX_MUX_BODY_BYTES,
    MAX_STREAMS_PER_PEER,
    REPLY,
    REQUEST,
    SERVER_IDLE_S,
    WRITE_BATCH_BYTES,
    WRITE_TIMEOUT_S,
    MuxHandler,
    decode_body,
    encode_body,
    write_bounded,
)
from p2p.transport import Caller, Stream, Transport
from wire.errors import RemoteProtocolError

log = logging.getLogger(__name__)


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
            try:  # back-pressure: no more reading while max_inflight are handled
                slots.acquire_nowait()  # (a free slot costs no scheduler round trip)
            except trio.WouldBlock:
                await slots.acquire()
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
            error = await write_bounded(stream, b"".join(batch))
            served.lot.unpark_all()
            if error is not None:
                served.failure = P2PError(error)
                scope.cancel()
                return


__all__ = ["MuxServer", "MuxServerStatistics"]
