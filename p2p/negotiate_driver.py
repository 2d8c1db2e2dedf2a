"""The negotiation driver: runs one sans-IO ``negotiation.Session`` over a libp2p stream.

Theory of operation
-------------------
One stream per session on ``/metaspace/negotiate/1.0.0``; each frame (u32 length + bytes) is one
signed envelope. The driver loops: drain the session's outputs (frames are written, everything else is
handed to ``on_output``), then wait for the next frame, a *poke* (the human approved or declined: the
session has new outputs), or the session's timer, whichever comes first. It ends when the session is
done. A stream that breaks ends the session at once (ABORTED, "peer_gone"); a silent peer ends it at
the session's deadline; a malformed frame is fed to the session, which ends it with a typed reason.
Nothing here decides anything: the session does.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from negotiation.session import Session
from negotiation.types import Output, Send
from p2p.framing import read_frame_or_eof, write_frame
from p2p.host import P2PError
from p2p.transport import Stream, close_stream, reset_stream
from wire.errors import RemoteProtocolError
from wire.limits import MAX_ENVELOPE_BYTES

log = logging.getLogger(__name__)

NEGOTIATE_PROTOCOL = "/metaspace/negotiate/1.0.0"
#: A frame write must complete within this (the peer must keep reading).
WRITE_TIMEOUT_S = 10.0

OutputHandler = Callable[[Session, Output | None], Awaitable[None]]


class SessionRunner:
    """Drive ``session`` over ``stream`` until it ends.

    Args:
        session: the sans-IO session (already opened if we are the initiator).
        stream: a stream to the counterpart (``p2p.transport.Stream``: a libp2p stream, or a memory one).
        clock: returns ``now`` in the session's time base (Unix seconds).
        on_output: called for every non-Send output (state changes, approvals, agreement, failure),
            and after each drained batch with ``None`` so the caller can persist the session.
    """

    def __init__(
        self,
        session: Session,
        stream: Stream,
        clock: Callable[[], float],
        on_output: OutputHandler,
    ) -> None:
        self.session = session
        self.stream = stream
        self.clock = clock
        self.on_output = on_output
        self._poke_send, self._poke_recv = trio.open_memory_channel[None](1)

    def poke(self) -> None:
        """Wake the loop: the session has new outputs (after ``approve``/``decline``/``abort``)."""
        with contextlib.suppress(trio.WouldBlock):  # already poked: one wake-up is enough
            self._poke_send.send_nowait(None)

    async def run(self) -> None:
        ok = False
        frames_send, frames_recv = trio.open_memory_channel[bytes | None](4)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._reader, frames_send)
                await self._loop(frames_recv)
                nursery.cancel_scope.cancel()
            ok = True
        finally:
            if ok:
                await close_stream(self.stream)
            else:
                await reset_stream(self.stream)

    async def _reader(self, out: trio.MemorySendChannel[bytes | None]) -> None:
        async with out:
            while True:
                try:
                    frame = await read_frame_or_eof(self.stream, MAX_ENVELOPE_BYTES)
                except (RemoteProtocolError, P2PError) as exc:
                    log.info("negotiation stream from peer broke: %s", exc)
                    frame = None
                except Exception as exc:  # py-libp2p raises assorted stream errors on a reset
                    log.info("negotiation stream error: %r", exc)
                    frame = None
                await out.send(frame)
                if frame is None:
                    return

    async def _drain(self) -> bool:
        """Hand every queued output on; returns False if a frame could not be written (peer gone).

        A failed write does not stop the other outputs (an ``Agreed`` must still be recorded)."""
        ok = True
        for out in self.session.poll():
            if isinstance(out, Send):
                if not ok:
                    continue
                try:
                    with trio.fail_after(WRITE_TIMEOUT_S):
                        await write_frame(self.stream, out.data, MAX_ENVELOPE_BYTES)
                except (
                    P2PError,
                    trio.TooSlowError,
                    trio.BrokenResourceError,
                    trio.ClosedResourceError,
                ) as exc:
                    log.info("negotiation write failed: %s", exc)
                    ok = False
                except Exception as exc:  # a reset stream surfaces as py-libp2p's own error types
                    log.info("negotiation write failed: %r", exc)
                    ok = False
            else:
                await self.on_output(self.session, out)
        await self.on_output(self.session, None)
        return ok

    async def _loop(self, frames: trio.MemoryReceiveChannel[bytes | None]) -> None:
        session = self.session
        offset = self.clock() - trio.current_time()
        while True:
            if not await self._drain() and not session.done:
                session.abort(self.clock(), "peer_gone")  # nothing can reach the peer any more
                await self._drain()
            if session.done:
                return
            timer = session.next_timer()
            deadline = math.inf if timer is None else timer - offset
            with trio.move_on_at(deadline):
                frame = await _first_of(frames, self._poke_recv)
                if frame is _POKED:
                    continue
                if frame is None:
                    # The peer closed or lost the stream: nothing can arrive any more, end it now.
                    session.abort(self.clock(), "peer_gone")
                    continue
                assert isinstance(frame, bytes)
                session.handle_message(frame, self.clock())
                continue
            session.handle_timer(self.clock())


_POKED: Any = object()


async def _first_of(
    frames: trio.MemoryReceiveChannel[bytes | None], pokes: trio.MemoryReceiveChannel[None]
) -> bytes | Any | None:
    """The next frame, or ``_POKED`` if a poke comes first (frames are never lost: only the frame
    reader consumes ``frames``, and a poke checks the channel without waiting first)."""
    try:
        return frames.receive_nowait()
    except trio.WouldBlock:
        pass
    result: list[Any] = []
    async with trio.open_nursery() as nursery:

        async def frame() -> None:
            result.append(await frames.receive())
            nursery.cancel_scope.cancel()

        async def poke() -> None:
            await pokes.receive()
            result.append(_POKED)
            nursery.cancel_scope.cancel()

        nursery.start_soon(frame)
        nursery.start_soon(poke)
    frames_got = [r for r in result if r is not _POKED]
    # Both may have completed in the same tick: never drop a frame (a poke is only a wake-up).
    return frames_got[0] if frames_got else _POKED
