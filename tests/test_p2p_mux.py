"""The multiplexed RPC stream (``p2p.mux``) and its fallback policy (``p2p.rpc_client``), in-process.

Everything runs on ``p2p.memory`` streams under trio's ``MockClock(autojump_threshold=0)``: timeouts,
idle closes and slow handlers take virtual time, so these tests are fast and exact. What they pin down:
request-id matching with replies out of order, the in-flight bounds on both sides, timeouts and
cancellations that never desynchronise the shared stream, a broken stream failing only its requests in
flight and re-opening on next use, protocol violations and oversized frames, the per-peer stream cap,
idle closes, stuck writers, and the fallback to one stream per request for peers without the protocol.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

from p2p.framing import FrameReader, serve_rpc
from p2p.host import DialError, P2PError, PeerTimeout
from p2p.memory import MemoryNetwork, MemoryTransport
from p2p.mux import (
    CLIENT_IDLE_S,
    FAIL,
    HANDLER_TIMEOUT_S,
    MAX_MUX_BODY_BYTES,
    REPLY,
    REQUEST,
    SERVER_IDLE_S,
    WRITE_TIMEOUT_S,
    MuxFailure,
    decode_body,
    encode_body,
)
from p2p.mux_client import MuxClient
from p2p.mux_server import MuxServer
from p2p.rpc_client import NO_MUX_TTL_S, RpcClient
from p2p.transport import Caller, ProtocolRefused, Stream
from wire.errors import RemoteProtocolError
from wire.limits import MAX_FRAME_BYTES

MUX = "/test/mux/1"
SINGLE = "/test/single/1"
A, B = "peer-a", "peer-b"
TIMEOUT = 5.0


def run(fn: Callable[[], Awaitable[None]]) -> None:
    trio.run(fn, clock=trio.testing.MockClock(autojump_threshold=0))


async def echo(who: Caller | str, request: bytes) -> bytes:
    """Replies ``peer|request`` after sleeping the number of ms the request starts with (e.g. b"30:x")."""
    head, _, _ = request.partition(b":")
    if head.isdigit():
        await trio.sleep(int(head) / 1000)
    peer = who.peer_id if isinstance(who, Caller) else who  # MuxServer gives a Caller, serve_rpc a str
    return peer.encode() + b"|" + request


async def call(client: MuxClient, payload: bytes) -> bytes:
    return await client.call(B, payload, timeout=TIMEOUT)


@asynccontextmanager
async def pair(
    handler: Callable[[Caller, bytes], Awaitable[bytes]] = echo,
    *,
    net: MemoryNetwork | None = None,
    client_kwargs: dict[str, Any] | None = None,
    server_kwargs: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[MemoryNetwork, MemoryTransport, MemoryTransport, MuxClient, MuxServer]]:
    """Transports A (client) and B (server, serving ``handler`` on MUX), and a running MuxClient on A."""
    net = net or MemoryNetwork()
    async with net.open(A) as ta, net.open(B) as tb, trio.open_nursery() as nursery:
        server = MuxServer(tb, MUX, handler, **(server_kwargs or {}))
        server.start()
        client = MuxClient(ta, MUX, **(client_kwargs or {}))
        await nursery.start(client.run)
        yield net, ta, tb, client, server
        nursery.cancel_scope.cancel()


# ------------------------------------------------------------------------------------- codec


def test_frame_codec_round_trips_and_rejects_bad_bodies() -> None:
    frame = encode_body(REPLY, 2**64 - 1, b"payload")
    assert struct.unpack(">I", frame[:4])[0] == len(frame) - 4
    assert decode_body(frame[4:]) == (REPLY, 2**64 - 1, b"payload")
    with pytest.raises(RemoteProtocolError):
        decode_body(b"\x00" * 8)  # shorter than a header
    with pytest.raises(RemoteProtocolError):
        decode_body(bytes([7]) + b"\x00" * 8)  # unknown kind
    with pytest.raises(ValueError):
        encode_body(REQUEST, 1, b"x" * (MAX_FRAME_BYTES + 1))
    assert len(encode_body(REQUEST, 1, b"x" * MAX_FRAME_BYTES)) == 4 + MAX_MUX_BODY_BYTES


# ------------------------------------------------------------------------------------- client + server


def test_replies_out_of_order_reach_their_own_callers_on_one_stream() -> None:
    async def main() -> None:
        async with pair() as (_net, ta, _tb, client, server):
            got: dict[int, bytes] = {}

            async def one(i: int) -> None:
                delay = (37 * i) % 50  # replies come back in another order than the requests
                got[i] = await client.call(B, b"%d:req%d" % (delay, i), timeout=TIMEOUT)

            async with trio.open_nursery() as nursery:
                for i in range(12):
                    nursery.start_soon(one, i)
            assert got == {i: b"peer-a|%d:req%d" % ((37 * i) % 50, i) for i in range(12)}
            assert ta.stats.opens_by_protocol == {MUX: 1}  # one stream for all twelve
            assert client.stats.replies == 12 and server.stats.requests == 12
            assert client.stats.write_batches < 12  # requests queued together went out in one write

    run(main)


def test_both_sides_learn_the_observed_ip_of_the_other() -> None:
    seen: list[Caller] = []

    async def record(caller: Caller, request: bytes) -> bytes:
        seen.append(caller)
        return request

    async def main() -> None:
        async with pair(record) as (_net, ta, tb, client, _server):
            reply = await client.call_reply(B, b"x", timeout=TIMEOUT)
            assert reply.payload == b"x" and reply.ip == tb.ip
            assert seen == [Caller(A, ta.ip)]

    run(main)


def test_in_flight_requests_are_bounded_on_both_sides() -> None:
    active = 0
    peak = 0

    async def slow(caller: Caller, request: bytes) -> bytes:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await trio.sleep(0.1)
        active -= 1
        return request

    async def main() -> None:
        nonlocal peak
        async with pair(slow, client_kwargs={"max_inflight": 4}) as (_n, _ta, _tb, client, _server):
            async with trio.open_nursery() as nursery:
                for i in range(20):
                    nursery.start_soon(call, client, b"%d" % i)
            assert peak == 4  # the client never had more than 4 outstanding
        peak = 0
        async with pair(slow, client_kwargs={"max_inflight": 16}, server_kwargs={"max_inflight": 3}) as (
            _n,
            _ta,
            _tb,
            client,
            server,
        ):
            start = trio.current_time()
            async with trio.open_nursery() as nursery:
                for i in range(12):
                    nursery.start_soon(call, client, b"%d" % i)
            assert peak == 3  # the server stops reading past its own bound
            assert trio.current_time() - start == pytest.approx(0.4)  # 12 requests, 3 at a time
            assert server.stats.replies == 12

    run(main)


def test_a_timed_out_call_fails_alone_and_its_late_reply_is_dropped() -> None:
    async def main() -> None:
        async with pair() as (_n, ta, _tb, client, _server):
            start = trio.current_time()
            with pytest.raises(PeerTimeout):
                await client.call(B, b"3000:slow", timeout=1.0)
            assert trio.current_time() - start == pytest.approx(1.0)
            assert await client.call(B, b"0:next", timeout=TIMEOUT) == b"peer-a|0:next"
            await trio.sleep(3)  # the slow reply arrives after its caller left
            assert client.stats.late_replies == 1 and client.stats.abandoned == 1
            assert await client.call(B, b"0:after", timeout=TIMEOUT) == b"peer-a|0:after"
            assert ta.stats.opens_by_protocol == {MUX: 1}  # the stream stayed in sync throughout

    run(main)


def test_cancellations_at_any_point_never_desynchronise_the_stream() -> None:
    """Callers cancelled while waiting for the stream, for a slot, before and after their frame was written
    (with a tiny window and a server that stops reading, so writes block half-way): every other call still
    gets its own reply."""

    async def main() -> None:
        net = MemoryNetwork(window=1000, latency=0.001)
        # The server handles 2 at a time and then stops reading: the window fills, writes block half-way.
        kwargs: dict[str, Any] = {"client_kwargs": {"max_inflight": 5}, "server_kwargs": {"max_inflight": 2}}
        async with pair(net=net, **kwargs) as (_n, ta, _tb, client, _server):
            results: dict[int, bytes] = {}

            async def one(i: int, cancel_after: float | None) -> None:
                delay = 40 if i >= 1000 else i % 7
                body = b"%d:" % delay + bytes([i % 251]) * (300 + 97 * (i % 1000))  # several windows long
                with trio.move_on_after(cancel_after if cancel_after is not None else 60):
                    results[i] = await client.call(B, body, timeout=30)
                    assert results[i] == b"peer-a|" + body

            async with trio.open_nursery() as nursery:
                for i in range(40):
                    nursery.start_soon(one, i, None if i % 3 else 0.0005 * i)
            kept = [i for i in range(40) if i % 3]
            assert set(kept) <= set(results)
            # And callers that certainly gave up after their frame was written (the server takes 40 ms):
            abandoned = client.stats.abandoned
            async with trio.open_nursery() as nursery:
                for i in range(3):
                    nursery.start_soon(one, 1000 + i, 0.02)
                nursery.start_soon(one, 2000, None)
            assert client.stats.abandoned == abandoned + 3 and 2000 in results
            await trio.sleep(1)
            assert client.stats.late_replies >= 3
            assert ta.stats.opens_by_protocol == {MUX: 1}
            assert await client.call(B, b"0:last", timeout=TIMEOUT) == b"peer-a|0:last"

    run(main)


def test_a_broken_stream_fails_only_its_calls_in_flight_and_reopens_on_next_use() -> None:
    async def main() -> None:
        async with pair() as (net, ta, _tb, client, _server):
            assert await client.call(B, b"0:warm", timeout=TIMEOUT)
            failures: list[BaseException] = []

            async def doomed(i: int) -> None:
                try:
                    await client.call(B, b"1000:doomed%d" % i, timeout=TIMEOUT)
                except P2PError as exc:
                    failures.append(exc)

            async with trio.open_nursery() as nursery:
                for i in range(5):
                    nursery.start_soon(doomed, i)
                await trio.sleep(0.5)
                start = trio.current_time()
                net.break_connection(A, B)
            assert len(failures) == 5 and all("broke" in str(f) for f in failures)
            assert trio.current_time() == start  # failed at once, not at their timeout
            assert client.stats.failed_in_flight == 5
            assert await client.call(B, b"0:again", timeout=TIMEOUT) == b"peer-a|0:again"
            assert ta.stats.opens_by_protocol == {MUX: 2}

    run(main)


def test_remote_fail_frames_fail_one_request_and_keep_the_stream() -> None:
    async def picky(caller: Caller, request: bytes) -> bytes:
        if request == b"bad":
            raise RemoteProtocolError("not a request")
        if request == b"bug":
            raise KeyError("a bug in the handler")
        if request == b"stall":
            await trio.sleep_forever()
        return request

    async def main() -> None:
        async with pair(picky) as (_n, ta, _tb, client, server):
            with pytest.raises(MuxFailure, match="bad request"):
                await client.call(B, b"bad", timeout=TIMEOUT)
            with pytest.raises(MuxFailure, match="internal error"):
                await client.call(B, b"bug", timeout=TIMEOUT)
            start = trio.current_time()
            with pytest.raises(MuxFailure, match="timeout"):
                await client.call(B, b"stall", timeout=HANDLER_TIMEOUT_S + 5)
            assert trio.current_time() - start == pytest.approx(HANDLER_TIMEOUT_S)
            assert await client.call(B, b"fine", timeout=TIMEOUT) == b"fine"
            assert ta.stats.opens_by_protocol == {MUX: 1}
            assert (
                server.stats.bad_requests,
                server.stats.handler_failures,
                server.stats.handler_timeouts,
            ) == (
                1,
                1,
                1,
            )

    run(main)


@pytest.mark.parametrize(
    "bad_reply",
    [
        b"\x00\x00\x00\x03abc",  # a body shorter than a header
        struct.pack(">I", MAX_MUX_BODY_BYTES + 1),  # an oversized length prefix: refused before its body
        encode_body(9, 1, b"x"),  # an unknown kind
        encode_body(REQUEST, 1, b"x"),  # the server sending a request
    ],
)
def test_a_server_breaking_the_protocol_breaks_the_session_only(bad_reply: bytes) -> None:
    async def main() -> None:
        net = MemoryNetwork()
        async with net.open(A) as ta, net.open(B) as tb, trio.open_nursery() as nursery:

            async def hostile(stream: Stream) -> None:
                reader = FrameReader(stream, MAX_MUX_BODY_BYTES)
                await reader.read()
                await stream.write(bad_reply)
                await trio.sleep_forever()

            tb.set_handler(MUX, hostile, timeout=None)
            client = MuxClient(ta, MUX)
            await nursery.start(client.run)
            with pytest.raises(P2PError, match="broke"):
                await client.call(B, b"x", timeout=TIMEOUT)
            assert client.stats.broken_sessions == 1 and client.session_count() == 0
            server = MuxServer(tb, MUX, echo)
            server.start()  # replaces the hostile handler: the next call opens a new, sane stream
            assert await client.call(B, b"0:ok", timeout=TIMEOUT) == b"peer-a|0:ok"
            nursery.cancel_scope.cancel()

    run(main)


@pytest.mark.parametrize(
    "bad_request",
    [
        struct.pack(">I", MAX_MUX_BODY_BYTES + 1),
        encode_body(REPLY, 1, b"x"),
        encode_body(FAIL, 1, b"x"),
        b"\x00\x00\x00\x02ab",
    ],
)
def test_a_client_breaking_the_protocol_gets_its_stream_reset(bad_request: bytes) -> None:
    async def main() -> None:
        async with pair() as (_net, ta, _tb, _client, server):
            stream = await ta.open_stream(B, MUX)
            await stream.write(encode_body(REQUEST, 5, b"0:fine"))
            reader = FrameReader(stream, MAX_MUX_BODY_BYTES)
            body = await reader.read()
            assert body is not None and decode_body(body) == (REPLY, 5, b"peer-a|0:fine")
            await stream.write(bad_request)
            with pytest.raises(P2PError):
                await reader.read()
            assert server.stats.protocol_errors == 1 and server.stream_count() == 0

    run(main)


def test_a_peer_keeps_at_most_two_streams_the_oldest_is_evicted() -> None:
    async def main() -> None:
        async with pair() as (net, ta, _tb, _client, server):
            streams = [await ta.open_stream(B, MUX) for _ in range(3)]
            await trio.sleep(0.01)
            assert server.stats.evicted == 1 and server.stream_count() == 2
            with pytest.raises(trio.BrokenResourceError):
                await streams[0].write(encode_body(REQUEST, 1, b"0:x"))
            for rid, stream in enumerate(streams[1:], start=1):
                await stream.write(encode_body(REQUEST, rid, b"0:x"))
                body = await FrameReader(stream, MAX_MUX_BODY_BYTES).read()
                assert body is not None and decode_body(body)[:2] == (REPLY, rid)
            assert len(net.streams_between(A, B)) == 4

    run(main)


def test_idle_sessions_close_client_side_first_and_reopen() -> None:
    async def main() -> None:
        async with pair() as (_net, ta, _tb, client, server):
            await client.call(B, b"0:a", timeout=TIMEOUT)
            await trio.sleep(CLIENT_IDLE_S - 1)
            await client.call(B, b"0:b", timeout=TIMEOUT)  # use pushes the idle close back
            assert client.session_count() == 1
            await trio.sleep(CLIENT_IDLE_S + 1)
            assert client.session_count() == 0 and client.stats.idle_closed == 1
            assert server.stream_count() == 0  # the reset reached the server
            await client.call(B, b"0:c", timeout=TIMEOUT)
            assert ta.stats.opens_by_protocol == {MUX: 2}

    run(main)


def test_a_silent_client_stream_is_closed_by_the_server_when_idle() -> None:
    async def main() -> None:
        async with pair() as (_net, ta, _tb, _client, server):
            stream = await ta.open_stream(B, MUX)
            await trio.sleep(SERVER_IDLE_S - 1)
            assert server.stream_count() == 1
            await trio.sleep(2)
            assert server.stream_count() == 0 and server.stats.idle_closed == 1
            assert await stream.read(10) == b""  # closed cleanly (FIN)

    run(main)


def test_a_server_that_never_reads_breaks_the_session_after_the_write_timeout() -> None:
    async def main() -> None:
        net = MemoryNetwork(window=4096)
        async with net.open(A) as ta, net.open(B) as tb, trio.open_nursery() as nursery:
            tb.set_handler(MUX, lambda stream: trio.sleep_forever(), timeout=None)
            client = MuxClient(ta, MUX)
            await nursery.start(client.run)
            start = trio.current_time()
            with pytest.raises(P2PError, match="write"):
                await client.call(B, b"x" * 10_000, timeout=60)
            assert trio.current_time() - start == pytest.approx(WRITE_TIMEOUT_S)
            nursery.cancel_scope.cancel()

    run(main)


def test_a_client_that_never_reads_its_replies_loses_the_stream_not_the_server() -> None:
    async def big(caller: Caller, request: bytes) -> bytes:
        return b"r" * 30_000

    async def main() -> None:
        net = MemoryNetwork(window=4096)
        async with pair(big, net=net) as (_net, ta, _tb, client, server):
            stream = await ta.open_stream(B, MUX)
            for rid in range(3):
                await stream.write(encode_body(REQUEST, rid, b"q"))
            await trio.sleep(WRITE_TIMEOUT_S + 1)
            assert server.stream_count() == 0  # reset after its writer was stuck for WRITE_TIMEOUT_S
            assert len(await client.call(B, b"q", timeout=TIMEOUT)) == 30_000  # others are still served

    run(main)


# ------------------------------------------------------------------------------------- fallback policy


@asynccontextmanager
async def rpc_pair(
    *, mux: bool, single: bool = True, net: MemoryNetwork | None = None
) -> AsyncIterator[tuple[MemoryNetwork, MemoryTransport, RpcClient]]:
    net = net or MemoryNetwork()
    async with net.open(A) as ta, net.open(B) as tb, trio.open_nursery() as nursery:
        if mux:
            MuxServer(tb, MUX, echo).start()
        if single:
            serve_rpc(tb, SINGLE, echo)
        client = RpcClient(ta, MUX, SINGLE)
        await nursery.start(client.run)
        yield net, ta, client
        nursery.cancel_scope.cancel()


def test_peers_without_the_mux_protocol_get_one_stream_per_request() -> None:
    async def main() -> None:
        async with rpc_pair(mux=False) as (_net, ta, client):
            for i in range(3):
                assert await client.request(B, b"0:%d" % i, timeout=TIMEOUT) == b"peer-a|0:%d" % i
            assert ta.stats.opens_by_protocol == {SINGLE: 3}  # the refusal was remembered
            assert ta.stats.streams_failed == 1 and client.lacks_mux(B)
            assert client.stats.fallbacks == 1 and client.mux.stats.protocol_refusals == 1
            await trio.sleep(NO_MUX_TTL_S + 1)
            assert not client.lacks_mux(B)  # asked again later: it may have been upgraded
            await client.request(B, b"0:x", timeout=TIMEOUT)
            assert ta.stats.streams_failed == 2

    run(main)


def test_peers_with_the_mux_protocol_share_one_stream() -> None:
    async def main() -> None:
        async with rpc_pair(mux=True) as (_net, ta, client):
            for i in range(5):
                await client.request(B, b"0:%d" % i, timeout=TIMEOUT)
            assert ta.stats.opens_by_protocol == {MUX: 1}
            assert client.stats.mux_requests == 5 and client.stats.single_requests == 0

    run(main)


def test_a_failed_mux_open_is_retried_once_on_a_fresh_single_stream() -> None:
    async def main() -> None:
        async with rpc_pair(mux=True) as (net, ta, client):
            net.fail_opens(A, B, 1)
            assert await client.request(B, b"0:x", timeout=TIMEOUT) == b"peer-a|0:x"
            assert ta.stats.opens_by_protocol == {SINGLE: 1}
            assert client.stats.retries == 1 and not client.lacks_mux(B)
            await client.request(B, b"0:y", timeout=TIMEOUT)
            assert ta.stats.opens_by_protocol == {SINGLE: 1, MUX: 1}  # mux again: it was not a refusal

    run(main)


def test_a_peer_that_is_gone_fails_fast_with_dial_error() -> None:
    async def main() -> None:
        async with rpc_pair(mux=True) as (net, _ta, client):
            await client.request(B, b"0:x", timeout=TIMEOUT)
            net.set_down(B)
            start = trio.current_time()
            with pytest.raises(DialError):
                await client.request(B, b"0:x", timeout=TIMEOUT)
            assert trio.current_time() - start < 0.01

    run(main)


def test_a_refusal_is_reported_as_protocol_refused() -> None:
    async def main() -> None:
        async with rpc_pair(mux=False) as (_net, ta, _client):
            with pytest.raises(ProtocolRefused):
                await ta.open_stream(B, MUX)

    run(main)


def test_open_latency_beyond_the_timeout_is_a_peer_timeout() -> None:
    async def main() -> None:
        async with rpc_pair(mux=True, net=MemoryNetwork(latency=2.0)) as (_net, _ta, client):
            start = trio.current_time()
            with pytest.raises(PeerTimeout):
                await client.request(B, b"0:x", timeout=1.0)
            assert trio.current_time() - start == pytest.approx(1.0)

    run(main)
