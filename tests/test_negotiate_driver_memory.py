"""The negotiation driver (``p2p.negotiate_driver.SessionRunner``) in-process: two real sessions over a
``p2p.memory`` stream under trio's ``MockClock(autojump_threshold=0)``.

Covered: a deal reached end to end with every message crossing the stream; a peer gone mid-session (both
sides end at once with "peer_gone", not at the deadline); a silent peer (the deadline ends it); garbage and
an oversized frame from the peer; a human approval that arrives while the stream is idle (``poke``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing

from negotiation.guardian import Guardian
from negotiation.session import Session
from negotiation.testing import make_pair
from negotiation.types import Agreed, Failed, FailReason, NeedsApproval, Output
from p2p.framing import read_frame, write_frame
from p2p.memory import MemoryNetwork, MemoryTransport
from p2p.negotiate_driver import NEGOTIATE_PROTOCOL, SessionRunner
from p2p.transport import Stream

#: The sessions are created at this (Unix) time; the drivers' clock is this plus trio's virtual clock.
T0 = 1_000_000.0
SELLER, BUYER = "seller", "buyer"


def run(fn: Callable[[], Awaitable[None]]) -> None:
    trio.run(fn, clock=trio.testing.MockClock(autojump_threshold=0))


def clock() -> float:
    return T0 + trio.current_time()


class Recorder:
    """``on_output`` of one side: every non-Send output, in order."""

    def __init__(self) -> None:
        self.outputs: list[Output] = []
        self.persisted = 0

    async def __call__(self, session: Session, out: Output | None) -> None:
        if out is None:
            self.persisted += 1
        else:
            self.outputs.append(out)

    def failed(self) -> Failed | None:
        return next((o for o in self.outputs if isinstance(o, Failed)), None)

    def agreed(self) -> Agreed | None:
        return next((o for o in self.outputs if isinstance(o, Agreed)), None)


async def negotiate(
    net: MemoryNetwork,
    seller: Session,
    buyer: Session,
    *,
    during: Callable[[MemoryTransport, MemoryTransport, Stream], Awaitable[None]] | None = None,
) -> tuple[Recorder, Recorder, float]:
    """Seller opens a stream to the buyer and both run their sessions; returns both recorders and the
    virtual time it took."""
    seller_out, buyer_out = Recorder(), Recorder()
    buyer_done = trio.Event()

    async def serve(stream: Stream) -> None:
        first = await read_frame(stream)
        buyer.handle_message(first, clock())
        try:
            await SessionRunner(buyer, stream, clock, buyer_out).run()
        finally:
            buyer_done.set()

    async with net.open(SELLER) as ts, net.open(BUYER) as tb:
        tb.set_handler(NEGOTIATE_PROTOCOL, serve, timeout=None)
        start = trio.current_time()
        stream = await ts.open_stream(BUYER, NEGOTIATE_PROTOCOL)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(SessionRunner(seller, stream, clock, seller_out).run)
            if during is not None:
                await during(ts, tb, stream)
        await buyer_done.wait()
        return seller_out, buyer_out, trio.current_time() - start


def test_a_deal_is_reached_over_the_stream() -> None:
    async def main() -> None:
        pair = make_pair(now=T0)
        seller_out, buyer_out, _ = await negotiate(MemoryNetwork(latency=0.01), pair.seller, pair.buyer)
        a, b = seller_out.agreed(), buyer_out.agreed()
        assert a is not None and b is not None and a.agreement_bytes == b.agreement_bytes
        assert pair.seller.done and pair.buyer.done
        assert seller_out.persisted > 0 and buyer_out.persisted > 0

    run(main)


def test_a_peer_gone_mid_session_ends_both_sides_at_once() -> None:
    async def cut(ts: MemoryTransport, tb: MemoryTransport, stream: Stream) -> None:
        await trio.sleep(0.025)  # after a message or two
        ts.network.break_connection(SELLER, BUYER)

    async def main() -> None:
        pair = make_pair(now=T0, max_rounds=30, seller_reservation=7900, buyer_reservation=5100)
        seller_out, buyer_out, took = await negotiate(
            MemoryNetwork(latency=0.01), pair.seller, pair.buyer, during=cut
        )
        for out in (seller_out, buyer_out):
            failed = out.failed()
            assert failed is not None and failed.reason == FailReason.ABORTED and "peer_gone" in failed.detail
        assert took < 1.0  # not the session's deadline (minutes away)

    run(main)


def test_a_silent_peer_is_ended_by_the_deadline() -> None:
    async def main() -> None:
        pair = make_pair(now=T0, duration=120)
        seller_out = Recorder()
        net = MemoryNetwork()
        async with net.open(SELLER) as ts, net.open(BUYER) as tb:
            tb.set_handler(NEGOTIATE_PROTOCOL, lambda stream: trio.sleep_forever(), timeout=None)
            stream = await ts.open_stream(BUYER, NEGOTIATE_PROTOCOL)
            await SessionRunner(pair.seller, stream, clock, seller_out).run()
        failed = seller_out.failed()
        assert failed is not None and failed.reason == FailReason.DEADLINE
        assert trio.current_time() == pytest.approx(120, abs=5)

    run(main)


@pytest.mark.parametrize("junk", [b"\x00\x00\x00\x05hello", (1 << 20).to_bytes(4, "big") + b"x" * 100])
def test_garbage_or_an_oversized_frame_from_the_peer_ends_the_session(junk: bytes) -> None:
    async def main() -> None:
        pair = make_pair(now=T0)
        seller_out = Recorder()
        net = MemoryNetwork()

        async def hostile(stream: Stream) -> None:
            await read_frame(stream)
            await stream.write(junk)
            await trio.sleep_forever()

        async with net.open(SELLER) as ts, net.open(BUYER) as tb:
            tb.set_handler(NEGOTIATE_PROTOCOL, hostile, timeout=None)
            stream = await ts.open_stream(BUYER, NEGOTIATE_PROTOCOL)
            await SessionRunner(pair.seller, stream, clock, seller_out).run()
        failed = seller_out.failed()
        assert failed is not None
        assert failed.reason in (FailReason.BAD_MESSAGE, FailReason.ABORTED)
        assert trio.current_time() < 1.0

    run(main)


def test_an_approval_wakes_an_idle_session() -> None:
    """The buyer's guardian wants a human's approval; it comes 30 s later while no frame is in flight:
    ``poke`` wakes the runner, which sends the commitment, and the deal completes."""

    async def main() -> None:
        pair = make_pair(now=T0, buyer_guardian=Guardian(spend_limit_minor=1))
        seller_out, buyer_out = Recorder(), Recorder()
        net = MemoryNetwork(latency=0.01)
        runners: dict[str, SessionRunner] = {}

        class Approver(Recorder):
            async def __call__(self, session: Session, out: Output | None) -> None:
                await super().__call__(session, out)
                if isinstance(out, NeedsApproval):

                    async def later() -> None:
                        await trio.sleep(30)
                        session.approve(clock())
                        runners[BUYER].poke()

                    nursery.start_soon(later)

        buyer_out = Approver()

        async def serve(stream: Stream) -> None:
            first = await read_frame(stream)
            pair.buyer.handle_message(first, clock())
            runners[BUYER] = SessionRunner(pair.buyer, stream, clock, buyer_out)
            await runners[BUYER].run()

        async with net.open(SELLER) as ts, net.open(BUYER) as tb, trio.open_nursery() as nursery:
            tb.set_handler(NEGOTIATE_PROTOCOL, serve, timeout=None)
            stream = await ts.open_stream(BUYER, NEGOTIATE_PROTOCOL)
            await SessionRunner(pair.seller, stream, clock, seller_out).run()
        assert any(isinstance(o, NeedsApproval) for o in buyer_out.outputs)
        assert seller_out.agreed() is not None and buyer_out.agreed() is not None
        assert trio.current_time() >= 30

    run(main)


def test_write_frame_to_a_reset_stream_fails_cleanly() -> None:
    async def main() -> None:
        net = MemoryNetwork()
        async with net.open(SELLER) as ts, net.open(BUYER) as tb:
            tb.set_handler(NEGOTIATE_PROTOCOL, lambda stream: trio.sleep_forever(), timeout=None)
            stream = await ts.open_stream(BUYER, NEGOTIATE_PROTOCOL)
            net.break_connection(SELLER, BUYER)
            with pytest.raises(Exception, match="failed while writing"):
                await write_frame(stream, b"x")

    run(main)
