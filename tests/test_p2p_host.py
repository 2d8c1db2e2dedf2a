"""Integration tests of the p2p transport layer: real OS processes talking over 127.0.0.1.

The server is ``tests/p2p_helpers/echo_host.py`` in its own process, started once for the module
(py-libp2p takes 1-3 s to import); it prints its multiaddr as its first stdout line (the only
synchronisation used: no sleeps), serves test protocols until its stdin is closed, then prints a JSON
line of statistics and exits 0. Clients run in the pytest process, one ``trio.run`` per test.
"""

from __future__ import annotations

import json
import os
import random
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import multiaddr
import pytest
import trio
import trio.testing
from libp2p import new_host
from libp2p.abc import INetStream
from libp2p.custom_types import TProtocol
from libp2p.host.basic_host import BasicHost
from libp2p.network.config import RetryConfig
from libp2p.network.exceptions import SwarmException
from libp2p.network.stream.net_stream import NetStream
from libp2p.network.swarm import Swarm
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport

from p2p.framing import read_frame, read_frame_or_eof, rpc, serve_rpc, write_frame
from p2p.host import (
    SHUTDOWN_TIMEOUT,
    DialError,
    P2PError,
    P2PHost,
    PeerTimeout,
    key_pair_from_identity,
    open_host,
    reset_stream,
    split_peer_multiaddr,
    stream_peer_id,
)
from tests.p2p_helpers.echo_host import BOOM, ECHO, HUGE_REPLY, STATS
from wire.errors import RemoteProtocolError
from wire.identity import Identity
from wire.limits import MAX_FRAME_BYTES

HELPER = Path(__file__).parent / "p2p_helpers" / "echo_host.py"
REPO = Path(__file__).resolve().parent.parent
#: Python + py-libp2p imports take ~1-2 s; generous for a loaded CI machine.
STARTUP_TIMEOUT = 30.0
EXIT_TIMEOUT = 10.0
RPC_TIMEOUT = 10.0
#: A refusal / failure must be reported well before any timeout would fire.
FAST = RPC_TIMEOUT / 2

SERVER_SEED = bytes([1]) * 32
CLIENT_SEED = bytes([2]) * 32
PLAINTEXT_SEED = bytes([3]) * 32


@dataclass
class Helper:
    """The helper process shared by this module's tests."""

    process: subprocess.Popen[bytes]
    addr: str
    peer_id: str
    stderr: IO[bytes]


def _read_first_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The first stdout line of ``process``, waiting at most ``timeout`` (no sleeps: select)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        assert remaining > 0, "helper did not print its address in time"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 1)  # byte by byte: leave everything after the line in the pipe
            assert chunk, "helper exited before printing its address"
            line += chunk
    return line


@pytest.fixture(scope="module")
def server() -> Iterator[Helper]:
    """Start the helper once for the module; at the end close its stdin and check that it shut down
    cleanly: exit code 0, a final statistics line, no traceback but those of the BOOM handler."""
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, str(HELPER), SERVER_SEED.hex()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=str(REPO),
        )
        try:
            addr = _read_first_line(process, STARTUP_TIMEOUT).decode().strip()
            peer_id, _ = split_peer_multiaddr(addr)
            yield Helper(process=process, addr=addr, peer_id=peer_id, stderr=stderr)
            assert process.stdin is not None and process.stdout is not None
            process.stdin.close()
            assert process.wait(timeout=EXIT_TIMEOUT) == 0
            final = json.loads(process.stdout.read().decode().strip().splitlines()[-1])
            assert final["handler_timeouts"] == 0
            stderr.seek(0)
            text = stderr.read().decode(errors="replace")
            # p2p.host logs one traceback per BOOM call (a handler bug); there must be no other.
            assert text.count("Traceback") == text.count("handler failure on purpose") // 2, text
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


async def _stats(client: P2PHost, server: Helper) -> dict[str, Any]:
    reply = await rpc(client, server.peer_id, STATS, b"", timeout=RPC_TIMEOUT, addrs=[server.addr])
    stats: dict[str, Any] = json.loads(reply)
    return stats


def test_rpc_between_two_processes_over_noise(server: Helper) -> None:
    """(a) an echo rpc between two OS processes, and (d) the server sees the client's peer id."""

    async def main() -> None:
        client_identity = Identity(CLIENT_SEED)
        async with open_host(client_identity) as client:
            assert client.peer_id == client_identity.peer_id
            assert server.peer_id == Identity(SERVER_SEED).peer_id
            server_maddr = multiaddr.Multiaddr(server.addr)
            assert server_maddr.value_for_protocol("ip4") == "127.0.0.1"
            assert int(server_maddr.value_for_protocol("tcp")) > 0  # the bound ephemeral port
            assert client.addrs()[0].startswith("/ip4/127.0.0.1/tcp/")
            assert client.addrs()[0].endswith(f"/p2p/{client.peer_id}")
            assert client.addrs()[0] != "/ip4/127.0.0.1/tcp/0/p2p/" + client.peer_id

            assert await client.connect(server.addr, timeout=RPC_TIMEOUT) == server.peer_id
            assert client.is_connected(server.peer_id)
            before = await _stats(client, server)
            reply = await rpc(client, server.peer_id, ECHO, b"hello", timeout=RPC_TIMEOUT)
            seen_peer, _, echoed = reply.partition(b"|")
            assert echoed == b"hello"
            assert seen_peer.decode() == client_identity.peer_id  # (d) the Noise-authenticated id

            # More rpcs reuse the one connection; a frame near the limit goes through whole.
            big = bytes(range(256)) * ((MAX_FRAME_BYTES - 200) // 256)
            reply = await rpc(client, server.peer_id, ECHO, big, timeout=RPC_TIMEOUT)
            assert reply.partition(b"|")[2] == big
            assert client.statistics().dials_ok == 1
            after = await _stats(client, server)
            assert after["inbound_streams"] - before["inbound_streams"] == 3  # 2 echo + 1 stats
            assert after["handler_errors"] == before["handler_errors"]

            # disconnect() drops the connection; the next rpc dials again from the remembered address.
            await client.disconnect(server.peer_id)
            assert not client.is_connected(server.peer_id)
            assert client.peer_addrs(server.peer_id) == [split_peer_multiaddr(server.addr)[1]]
            reply = await rpc(client, server.peer_id, ECHO, b"again", timeout=RPC_TIMEOUT)
            assert reply.endswith(b"|again")
            assert client.statistics().dials_ok == 2

    trio.run(main)


def test_plaintext_client_is_refused_and_server_keeps_serving(server: Helper) -> None:
    """(b) a /plaintext/2.0.0-only peer can't connect to our Noise-only host (nor we to it)."""

    async def main() -> None:
        key_pair = key_pair_from_identity(Identity(PLAINTEXT_SEED))
        plain = new_host(
            key_pair=key_pair,
            sec_opt={TProtocol(PLAINTEXT_PROTOCOL_ID): InsecureTransport(key_pair)},
        )
        assert isinstance(plain, BasicHost)
        swarm = plain.get_network()
        assert isinstance(swarm, Swarm)
        swarm.retry_config = RetryConfig(max_retries=0)
        listen = [multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]
        async with plain.run(listen_addrs=listen):
            started = time.monotonic()
            with pytest.raises(SwarmException), trio.fail_after(RPC_TIMEOUT):
                await plain.connect(info_from_p2p_addr(multiaddr.Multiaddr(server.addr)))
            assert time.monotonic() - started < FAST  # refused, not timed out
            assert not swarm.connections

            async with open_host(Identity(CLIENT_SEED)) as client:
                # Our Noise-only host refuses to talk plaintext too.
                plain_addr = f"{plain.get_transport_addrs()[0]}/p2p/{plain.get_id()}"
                started = time.monotonic()
                with pytest.raises(DialError):
                    await client.connect(plain_addr, timeout=RPC_TIMEOUT)
                assert time.monotonic() - started < FAST
                # The server still serves a proper client.
                reply = await rpc(
                    client, server.peer_id, ECHO, b"still here", timeout=RPC_TIMEOUT, addrs=[server.addr]
                )
                assert reply == Identity(CLIENT_SEED).peer_id.encode() + b"|still here"

    trio.run(main)


def test_bad_frames_are_refused_and_server_keeps_serving(server: Helper) -> None:
    """(c) oversized length prefixes are refused with RemoteProtocolError on both sides; truncated
    frames and a raising handler reset the stream; the server keeps serving."""

    async def main() -> None:
        async with open_host(Identity(CLIENT_SEED)) as client:
            before = await _stats(client, server)

            # The server sends an oversized length prefix: our client refuses it.
            with pytest.raises(RemoteProtocolError, match="exceeds"):
                await rpc(client, server.peer_id, HUGE_REPLY, b"", timeout=RPC_TIMEOUT)

            # We send an oversized length prefix: the server refuses it (RemoteProtocolError in its
            # handler, counted as a handler error) and resets the stream without a reply.
            stream = await client.open_stream(server.peer_id, ECHO, timeout=RPC_TIMEOUT)
            await stream.write((MAX_FRAME_BYTES + 1).to_bytes(4, "big"))
            with trio.fail_after(FAST), pytest.raises((RemoteProtocolError, P2PError)):
                await read_frame(stream)
            await reset_stream(stream)

            # A truncated frame (10 bytes announced, 3 sent, then EOF) is refused the same way.
            stream = await client.open_stream(server.peer_id, ECHO, timeout=RPC_TIMEOUT)
            await stream.write((10).to_bytes(4, "big") + b"abc")
            assert isinstance(stream, NetStream)
            await stream.close_write()  # half-close: EOF for the server, our read side stays open
            with trio.fail_after(FAST), pytest.raises((RemoteProtocolError, P2PError)):
                await read_frame(stream)
            await reset_stream(stream)

            # A client that gives up before sending anything is routine, not a handler error.
            stream = await client.open_stream(server.peer_id, ECHO, timeout=RPC_TIMEOUT)
            await reset_stream(stream)

            # A handler that raises: the client learns at once (no waiting for a timeout).
            started = time.monotonic()
            with pytest.raises((RemoteProtocolError, P2PError)) as failure:
                await rpc(client, server.peer_id, BOOM, b"x", timeout=RPC_TIMEOUT)
            assert not isinstance(failure.value, PeerTimeout)
            assert time.monotonic() - started < FAST

            # ... and the server is still serving.
            reply = await rpc(client, server.peer_id, ECHO, b"ok", timeout=RPC_TIMEOUT)
            assert reply.endswith(b"|ok")
            after = await _stats(client, server)
            assert after["handler_errors"] - before["handler_errors"] == 3  # oversized, truncated, boom

    trio.run(main)


def test_wrong_peer_id_and_dead_peer_fail_fast(server: Helper) -> None:
    """Dialing a live address under the wrong peer id fails the Noise check; a peer that went away
    is reported with a P2PError at once, every time (no hidden retries, no 60 s blacklist)."""

    async def main() -> None:
        async with open_host(Identity(CLIENT_SEED)) as client:
            _, transport = split_peer_multiaddr(server.addr)
            impostor = f"{transport}/p2p/{Identity(PLAINTEXT_SEED).peer_id}"
            started = time.monotonic()
            with pytest.raises(DialError):
                await client.connect(impostor, timeout=RPC_TIMEOUT)
            assert time.monotonic() - started < FAST
            assert not client.is_connected(Identity(PLAINTEXT_SEED).peer_id)

            async with open_host(Identity(PLAINTEXT_SEED)) as doomed:
                serve_rpc(doomed, "/echo/1", _echo)
                doomed_addr = doomed.addrs()[0]
                assert await rpc(client, doomed.peer_id, "/echo/1", b"x", addrs=[doomed_addr]) == b"x"
            for _ in range(2):  # the second try dials again rather than hitting a negative cache
                started = time.monotonic()
                with pytest.raises(P2PError):
                    await rpc(client, Identity(PLAINTEXT_SEED).peer_id, "/echo/1", b"x", addrs=[doomed_addr])
                assert time.monotonic() - started < FAST
            assert client.statistics().dials_failed >= 1

    trio.run(main)


def test_cancelled_rpcs_do_not_break_the_connection(server: Helper) -> None:
    """Cancelling RPCs at arbitrary points (as a lookup does with its stragglers) costs those streams
    only: the one connection to the server survives and keeps serving (py-libp2p alone would lose it:
    a write cancelled between Noise encryption and the socket desynchronises the cipher), and leaks
    nothing."""

    async def main() -> None:
        rng = random.Random(7)
        async with open_host(Identity(CLIENT_SEED)) as client:
            await client.connect(server.addr, timeout=RPC_TIMEOUT)
            for _ in range(25):
                with trio.move_on_after(rng.random() * 0.03):
                    async with trio.open_nursery() as nursery:
                        for i in range(4):
                            nursery.start_soon(rpc, client, server.peer_id, ECHO, bytes([i]) * 3000)
                reply = await rpc(client, server.peer_id, ECHO, b"still", timeout=RPC_TIMEOUT)
                assert reply.endswith(b"|still")
            assert client.statistics().dials_ok == 1  # never had to reconnect
            assert client.statistics().streams_failed == 0
            # ... and no stream leaked one of the connection's 256 yamux stream slots (libp2p loses
            # the slot when an open is cancelled half-way; after 256 losses the connection is wedged).
            (conn,) = client.libp2p_host.get_network().get_connections()
            muxed = cast(Any, conn.muxed_conn)
            assert muxed.stream_backlog_semaphore.value == muxed.stream_backlog_limit

    trio.run(main)


class _SlowConn:
    """A raw connection whose writes take ``delay`` seconds (forever if None)."""

    def __init__(self, delay: float | None) -> None:
        self.delay = delay
        self.written: list[bytes] = []
        self.closed = False

    async def write(self, data: bytes) -> None:
        if self.delay is None:
            await trio.sleep_forever()
        await trio.sleep(cast(float, self.delay))
        self.written.append(data)

    async def close(self) -> None:
        self.closed = True


class _PlainCipher:
    def encrypt(self, data: bytes) -> bytes:
        return data


def test_noise_writes_are_atomic_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The patched Noise write finishes even when its caller is cancelled mid-way (so the cipher
    never runs ahead of the bytes sent), and a write stuck past NOISE_WRITE_TIMEOUT closes the
    connection with a libp2p ConnectionClosedError (a P2PError at the framing layer)."""
    from libp2p.io.exceptions import ConnectionClosedError
    from libp2p.security.noise.io import NoiseTransportReadWriter

    import p2p.fences

    async def main() -> None:
        conn = _SlowConn(delay=0.2)
        writer = NoiseTransportReadWriter(cast(Any, conn), cast(Any, _PlainCipher()))
        with trio.move_on_after(0.05) as scope:
            await writer.write_msg(b"hello")
        assert scope.cancel_called
        assert conn.written == [b"\x00\x05hello"]  # sent whole despite the cancellation

        monkeypatch.setattr(p2p.fences, "NOISE_WRITE_TIMEOUT", 0.1)
        stuck = _SlowConn(delay=None)
        writer = NoiseTransportReadWriter(cast(Any, stuck), cast(Any, _PlainCipher()))
        with pytest.raises(ConnectionClosedError):
            await writer.write_msg(b"never")
        assert stuck.closed

    trio.run(main)


def test_yamux_credits_windows_in_batches_and_flow_control_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """py-libp2p sent a WINDOW_UPDATE after nearly every read (11.7 per request/reply on its own stream):
    now only once half a window was consumed. 4 MiB through one stream (16 windows) still flows."""
    from libp2p.stream_muxer.yamux.yamux import YamuxStream

    updates: list[int] = []
    original = YamuxStream.send_window_update

    async def counted(self: YamuxStream, increment: int, skip_lock: bool = False) -> None:
        updates.append(increment)
        await original(self, increment, skip_lock)

    monkeypatch.setattr(YamuxStream, "send_window_update", counted)
    big = 4 * 2**20

    async def swallow(peer_id: str, request: bytes) -> bytes:
        return b"ok"

    async def count_bytes(stream: INetStream) -> None:
        got = 0
        while got < big:
            got += len(await stream.read(65536))
        await stream.write(str(got).encode())

    async def main() -> None:
        async with open_host(Identity(bytes([0x51]) * 32)) as a, open_host(Identity(bytes([0x52]) * 32)) as b:
            serve_rpc(a, "/small/1.0.0", swallow)
            a.set_handler("/big/1.0.0", count_bytes)
            await b.connect(a.addrs()[0])
            with trio.fail_after(60):
                for _ in range(20):
                    assert await rpc(b, a.peer_id, "/small/1.0.0", b"x" * 300) == b"ok"
                assert updates == []
                stream = await b.open_stream(a.peer_id, "/big/1.0.0")
                for _ in range(big // 65536):
                    await stream.write(b"y" * 65536)
                assert await stream.read(64) == str(big).encode()
                await stream.close()
            # At least one credit (4 MiB is 16 initial windows), about one per half window, not one per read;
            # how few depends on how fast the library's auto-tuning grows the window (up to several MiB
            # when the reader keeps up), so only the upper bound is tight.
            assert 1 <= len(updates) <= 40, updates

    trio.run(main)


def test_tcp_reads_are_served_from_one_larger_read() -> None:
    """buffer_tcp_reads: Noise's small exact reads (2-byte length, then body) of messages that arrived
    together take one socket read; every read returns at most what it asked, in order, then EOF."""
    import random

    from libp2p.io.trio import TrioTCPStream

    import p2p.fences

    class Counted:
        def __init__(self, inner: Any) -> None:
            self.inner, self.calls = inner, 0

        async def receive_some(self, n: int | None = None) -> bytes:
            self.calls += 1
            return cast(bytes, await self.inner.receive_some(n))

    async def main() -> None:
        left, right = trio.testing.memory_stream_pair()
        counted = Counted(right)
        tcp = TrioTCPStream(cast(Any, counted))
        await left.send_all(b"\x00\x05hello\x00\x03abc")
        assert [await tcp.read(n) for n in (2, 5, 2, 3)] == [b"\x00\x05", b"hello", b"\x00\x03", b"abc"]
        assert counted.calls == 1
        rng = random.Random(5)
        data = rng.randbytes(3 * p2p.fences.TCP_READ_CHUNK + 123)
        await left.send_all(data)
        await left.aclose()
        got = b""
        while True:
            n = rng.choice([None, 1, 2, 12, 1000, 70_000])
            chunk = await tcp.read(n)
            if not chunk:
                break
            assert n is None or len(chunk) <= n
            got += chunk
        assert got == data
        assert await tcp.read(2) == b""

    trio.run(main)


def test_free_frame_locks_are_taken_at_once_and_held_ones_still_queue() -> None:
    """lean_frame_writes: a free lock costs no scheduler round trip; a held one is still waited for."""
    from p2p.fences import _take

    async def main() -> None:
        lock = trio.Lock()
        await _take(lock)  # free: taken without yielding, so nothing else ran meanwhile
        assert lock.locked()
        order: list[int] = []

        async def waiter(i: int) -> None:
            await _take(lock)
            order.append(i)
            lock.release()

        async with trio.open_nursery() as nursery:
            for i in range(3):
                nursery.start_soon(waiter, i)
            await trio.testing.wait_all_tasks_blocked()
            assert order == []  # all three queue behind the holder
            lock.release()
        assert sorted(order) == [0, 1, 2]  # each got it in turn (trio may start them in any order)

    trio.run(main)


async def _echo(peer_id: str, request: bytes) -> bytes:
    return request


class _ChunkedStream:
    """A fake stream that hands out its bytes in small chunks and records every read size."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self.data = data
        self.chunk = chunk
        self.reads: list[int] = []

    async def read(self, n: int | None = None) -> bytes:
        self.reads.append(n or -1)
        size = min(self.chunk, n if n else self.chunk)
        out, self.data = self.data[:size], self.data[size:]
        return out

    async def write(self, data: bytes) -> None:
        self.data += data


def test_framing_reads_exactly_and_checks_length_first() -> None:
    async def main() -> None:
        body = b"0123456789" * 50
        fake = _ChunkedStream(b"", chunk=3)
        stream = cast(INetStream, fake)
        await write_frame(stream, body)
        await write_frame(stream, b"")
        assert await read_frame(stream) == body
        assert await read_frame(stream) == b""
        assert await read_frame_or_eof(stream) is None
        with pytest.raises(RemoteProtocolError):
            await read_frame(stream)

        # Oversized prefix: refused after reading the 4 prefix bytes only.
        fake = _ChunkedStream((MAX_FRAME_BYTES + 1).to_bytes(4, "big") + b"x" * 100, chunk=64)
        with pytest.raises(RemoteProtocolError, match="exceeds"):
            await read_frame(cast(INetStream, fake))
        assert fake.reads == [4]
        assert len(fake.data) == 100

        # Truncated prefix and truncated body.
        for data in (b"\x00\x00", (10).to_bytes(4, "big") + b"abc"):
            with pytest.raises(RemoteProtocolError, match="ended"):
                await read_frame(cast(INetStream, _ChunkedStream(data, chunk=2)))

        with pytest.raises(ValueError):
            await write_frame(stream, b"x" * (MAX_FRAME_BYTES + 1))

    trio.run(main)


def test_host_lifecycle_in_process() -> None:
    """Busy port -> P2PError; a stalled handler: PeerTimeout for the client, reset by the handler
    timeout on the server; cancelling a host with an rpc in flight shuts down cleanly and fast;
    the stream's peer id is the dialer's."""

    async def main() -> None:
        send_seen, receive_seen = trio.open_memory_channel[str](10)

        async def stall(stream: INetStream) -> None:
            await send_seen.send(stream_peer_id(stream))
            await trio.sleep_forever()

        async with open_host(Identity(SERVER_SEED)) as server:
            with pytest.raises(P2PError, match="could not listen"):
                async with open_host(Identity(PLAINTEXT_SEED), server.listen_addrs()):
                    pass  # pragma: no cover
            server.set_handler("/stall/1", stall, timeout=None)
            server.set_handler("/stall-bounded/1", stall, timeout=0.2)
            serve_rpc(server, "/echo/1", _echo)
            with trio.CancelScope() as scope:
                async with open_host(Identity(CLIENT_SEED)) as client, trio.open_nursery() as nursery:
                    assert await rpc(client, server.peer_id, "/echo/1", b"e", addrs=server.addrs()) == b"e"
                    with pytest.raises(PeerTimeout):
                        await rpc(client, server.peer_id, "/stall/1", b"x", timeout=0.3)
                    assert await receive_seen.receive() == client.peer_id
                    # The server gives up on its own: the client sees the reset before its timeout.
                    with pytest.raises((RemoteProtocolError, P2PError)) as failure:
                        await rpc(client, server.peer_id, "/stall-bounded/1", b"x", timeout=RPC_TIMEOUT)
                    assert not isinstance(failure.value, PeerTimeout)
                    assert await receive_seen.receive() == client.peer_id
                    assert server.statistics().handler_timeouts == 1

                    nursery.start_soon(rpc, client, server.peer_id, "/stall/1", b"y", 60.0)
                    assert await receive_seen.receive() == client.peer_id
                    cancelled_at = time.monotonic()
                    scope.cancel()
            assert scope.cancelled_caught
            assert time.monotonic() - cancelled_at < SHUTDOWN_TIMEOUT + 1.0

    trio.run(main)
