"""A lean libp2p client process for the connection tests: fresh ed25519 identity per connection.

Usage: ``python -m tests.net_helpers.dialer ADDR SCENARIO [options]``; prints one JSON line of results.

Each connection is the real thing, built from py-libp2p's own pieces without a host (so one costs ~5 ms of
CPU, not a whole ``new_host``): TCP, multistream-select, Noise (``/noise``) with a fresh identity, yamux,
then a stream on ``/ipfs/ping/1.0.0`` whose 32 random bytes must come back (or, cheaper, the node's own
identify request arriving): only then has the node *accepted and served* the connection. A refused
connection fails fast (the node closes the socket before any handshake); that is told apart from a timeout.

Scenarios:
    sequential --count N [--workers W] [--ping-every P]: N connections, each closed before the worker's
        next (W workers); every Pth verified by a ping, the others by the node's identify request.
    cap --cap C --extra E: hold C connections; then E more (must be refused); close the C; then C again.
    stalled --count N [--source IP] [--hold S] [--say nothing|noise-half]: N TCP connections that stall
        (silent, or half-way through the Noise handshake), watched for up to S seconds.
    streams --count N [--hold S]: one connection opening N yamux streams at once (raw SYN frames).
    never-read --streams N --per-stream B [--hold S]: N ping streams sending B bytes each, never reading.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import multiaddr
import trio
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.protocol_muxer.multiselect_client import MultiselectClient
from libp2p.protocol_muxer.multiselect_communicator import MultiselectCommunicator
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX
from libp2p.stream_muxer.yamux.yamux import Yamux
from libp2p.transport.tcp.tcp import TCP
from libp2p.transport.upgrader import TransportUpgrader

PING = TProtocol("/ipfs/ping/1.0.0")
#: One whole connection (dial, handshakes, ping) on a loaded 2-core box.
CONNECT_TIMEOUT = 10.0
#: A refusal closes the socket before any handshake byte: it must come at once.
REFUSAL_IS_FAST = 2.0


class Refused(Exception):
    """The node closed the connection before the handshake finished (fast)."""


@asynccontextmanager
async def connection(
    addr: multiaddr.Multiaddr, peer: ID, source: str | None = None, ping: bool = True
) -> AsyncIterator[Any]:
    """An established connection with a fresh identity, verified by a ping (``ping``) or else by the
    node's own identify stream (the node opens it once it has registered the connection: proof enough,
    and it costs the node nothing extra); closed (abruptly) on exit.

    Raises:
        Refused: the node closed the socket quickly during the handshakes.
        trio.TooSlowError: not done within ``CONNECT_TIMEOUT``.
    """
    key_pair = create_new_key_pair()
    noise = NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)
    upgrader = TransportUpgrader({NOISE: noise}, {TProtocol(YAMUX): Yamux})
    started = time.monotonic()
    with trio.fail_after(CONNECT_TIMEOUT):
        tcp = TCP()
        raw = await (tcp.dial_with_source(addr, (source, 0)) if source else tcp.dial(addr))
        try:
            try:
                secured = await upgrader.upgrade_security(raw, True, peer)
                muxed = await upgrader.upgrade_connection(secured, peer)
            except Exception as exc:
                if time.monotonic() - started < REFUSAL_IS_FAST:
                    raise Refused(repr(exc)) from exc
                raise
            async with trio.open_nursery() as nursery:
                nursery.start_soon(muxed.start)
                await muxed.event_started.wait()
                if ping:
                    await _ping(muxed)
                else:
                    await muxed.accept_stream()  # the node's identify request
                yield muxed
                nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True):
                await raw.close()


async def _ping(muxed: Any) -> None:
    stream = await muxed.open_stream()
    await MultiselectClient().select_one_of([PING], MultiselectCommunicator(stream))
    payload = os.urandom(32)
    await stream.write(payload)
    echoed = b""
    while len(echoed) < len(payload):
        chunk = await stream.read(len(payload) - len(echoed))
        if not chunk:
            raise ConnectionError("ping stream closed early")
        echoed += chunk
    if echoed != payload:
        raise ConnectionError("ping answered other bytes")


def _outcome(exc: BaseException) -> str:
    if isinstance(exc, Refused):
        return "refused"
    if isinstance(exc, trio.TooSlowError):
        return "timeout"
    return "error"


async def sequential(
    addr: multiaddr.Multiaddr, peer: ID, count: int, workers: int, ping_every: int = 1
) -> dict[str, Any]:
    counts = {"ok": 0, "refused": 0, "timeout": 0, "error": 0}
    errors: list[str] = []
    todo = iter(range(count))

    async def worker() -> None:
        for i in todo:
            try:
                async with connection(addr, peer, ping=i % ping_every == 0):
                    pass
                counts["ok"] += 1
            except Exception as exc:
                counts[_outcome(exc)] += 1
                if len(errors) < 5:
                    errors.append(repr(exc)[:200])

    started = time.monotonic()
    async with trio.open_nursery() as nursery:
        for _ in range(workers):
            nursery.start_soon(worker)
    return {**counts, "errors": errors, "seconds": round(time.monotonic() - started, 2)}


async def _try(addr: multiaddr.Multiaddr, peer: ID) -> str:
    try:
        async with connection(addr, peer):
            return "ok"
    except Exception as exc:
        return _outcome(exc)


async def cap(addr: multiaddr.Multiaddr, peer: ID, cap: int, extra: int) -> dict[str, Any]:
    """Hold ``cap`` connections, try ``extra`` more, release, then ``cap`` again (each one verified)."""
    out: dict[str, Any] = {}
    held: list[trio.Event] = []
    opened = trio.Semaphore(0)
    results: list[str] = []

    async def hold(release: trio.Event) -> None:
        try:
            async with connection(addr, peer):
                results.append("ok")
                opened.release()
                await release.wait()
        except Exception as exc:
            results.append(_outcome(exc))
            opened.release()

    async with trio.open_nursery() as nursery:
        release = trio.Event()
        for _ in range(cap):  # one after the other: the node sees them in order
            nursery.start_soon(hold, release)
            await opened.acquire()
        out["held"] = list(results)
        out["extra"] = [await _try(addr, peer) for _ in range(extra)]
        release.set()
        held.append(release)
    # The node returns a slot when it sees the connection end: give it a moment, bounded.
    again: list[str] = []
    deadline = time.monotonic() + 10.0
    while len(again) < cap and time.monotonic() < deadline:
        outcome = await _try(addr, peer)
        if outcome == "ok":
            again.append(outcome)
        else:
            await trio.sleep(0.1)
    out["again"] = again
    return out


async def stalled(
    addr: multiaddr.Multiaddr, count: int, source: str | None, hold: float, say: str
) -> dict[str, Any]:
    """Open ``count`` TCP connections that stall: ``say="nothing"`` never sends a byte, ``"noise-half"``
    selects ``/noise`` and sends the first Noise message, then stops. Report how many the node closed,
    and when (seconds after connecting)."""
    host = str(addr.value_for_protocol("ip4"))
    port = int(addr.value_for_protocol("tcp"))
    closed_after: list[float] = []
    failed_to_connect = 0

    async def one() -> None:
        nonlocal failed_to_connect
        started = time.monotonic()
        try:
            stream = await trio.open_tcp_stream(host, port, local_address=source)
        except OSError:
            failed_to_connect += 1
            return
        async with stream:
            try:
                if say == "noise-half":
                    await stream.send_all(_ms("/multistream/1.0.0") + _ms("/noise"))
                    await stream.send_all(b"\x00\x20" + os.urandom(32))  # Noise XX message 1: e
                while await stream.receive_some(4096):
                    pass  # the node's multistream echo and Noise message 2, then EOF
            except trio.BrokenResourceError:
                pass
            closed_after.append(time.monotonic() - started)

    with trio.move_on_after(hold):
        async with trio.open_nursery() as nursery:
            for _ in range(count):
                nursery.start_soon(one)
    return {
        "opened": count - failed_to_connect,
        "closed_by_node": len(closed_after),
        "closed_after_max": round(max(closed_after, default=0.0), 2),
        "closed_fast": sum(1 for t in closed_after if t < REFUSAL_IS_FAST),
    }


# ------------------------------------------------------------------------------------ raw yamux

_HEADER = struct.Struct(">BBHII")  # version, type, flags, stream id, length
_DATA, _WINDOW_UPDATE = 0, 1
_SYN, _ACK, _RST = 1, 2, 8
#: Bytes per Noise message we write (Noise caps a message at 65,535 bytes).
_CHUNK = 60_000


async def _raw_yamux(addr: multiaddr.Multiaddr, peer: ID) -> Any:
    """A Noise session (fresh identity) on which ``/yamux/1.0.0`` was selected; we speak yamux by hand."""
    key_pair = create_new_key_pair()
    noise = NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)
    upgrader = TransportUpgrader({NOISE: noise}, {TProtocol(YAMUX): Yamux})
    raw = await TCP().dial(addr)
    secured = await upgrader.upgrade_security(raw, True, peer)
    await MultiselectClient().select_one_of([TProtocol(YAMUX)], MultiselectCommunicator(secured))
    return secured


async def _send(secured: Any, data: bytes) -> None:
    for start in range(0, len(data), _CHUNK):
        await secured.write(data[start : start + _CHUNK])


async def many_streams(
    addr: multiaddr.Multiaddr, peer: ID, count: int, hold: float, until: int
) -> dict[str, Any]:
    """Open ``count`` yamux streams at once (SYN frames written back to back, no data); count how the
    node answers each (ACK, then RST for the ones over its limits) until ``until`` were reset or ``hold``
    seconds passed."""
    secured = await _raw_yamux(addr, peer)
    acked: set[int] = set()
    reset: set[int] = set()
    started = time.monotonic()

    async def read_frames(done: trio.CancelScope) -> None:
        buf = b""
        while True:
            chunk = await secured.read()
            if not chunk:
                return
            buf += chunk
            while len(buf) >= _HEADER.size:
                _, typ, flags, sid, length = _HEADER.unpack_from(buf)
                size = _HEADER.size + (length if typ == _DATA else 0)
                if len(buf) < size:
                    break
                buf = buf[size:]
                if sid % 2 == 1:  # ours
                    if flags & _ACK:
                        acked.add(sid)
                    if flags & _RST:
                        reset.add(sid)
            if len(reset) >= until:
                done.cancel()
                return

    frames = b"".join(_HEADER.pack(0, _WINDOW_UPDATE, _SYN, 2 * i + 1, 0) for i in range(count))
    with trio.move_on_after(hold):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(read_frames, nursery.cancel_scope)
            await _send(secured, frames)
    seconds = time.monotonic() - started
    with trio.CancelScope(shield=True):
        await secured.close()
    return {"opened": count, "acked": len(acked), "reset": len(reset), "seconds": round(seconds, 2)}


def _ms(text: str) -> bytes:
    """One multistream-select message: varint length, the text, a newline."""
    data = text.encode() + b"\n"
    assert len(data) < 128
    return bytes([len(data)]) + data


async def never_read(
    addr: multiaddr.Multiaddr, peer: ID, streams: int, per_stream: int, hold: float
) -> dict[str, Any]:
    """Open ``streams`` ping streams, send ``per_stream`` bytes of pings on each (within the node's
    256 KiB receive window), and never read a byte: the node's echoes pile up against our zero window and
    a full TCP buffer. Hold for ``hold`` seconds, then report how much we could write."""
    secured = await _raw_yamux(addr, peer)
    hello = _ms("/multistream/1.0.0") + _ms("/ipfs/ping/1.0.0")
    written = 0
    with trio.move_on_after(hold):
        for i in range(streams):
            sid = 2 * i + 1
            await _send(secured, _HEADER.pack(0, _DATA, _SYN, sid, len(hello)) + hello)
            written += len(hello)
        payload = os.urandom(per_stream - per_stream % 32)
        for start in range(0, len(payload), 16_384):
            piece = payload[start : start + 16_384]
            frames = b"".join(
                _HEADER.pack(0, _DATA, 0, 2 * i + 1, len(piece)) + piece for i in range(streams)
            )
            await _send(secured, frames)
            written += len(piece) * streams
        await trio.sleep_forever()
    with trio.CancelScope(shield=True), trio.move_on_after(1.0):
        await secured.close()
    return {"streams": streams, "written": written}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("addr", help="full multiaddr of the node, ending in /p2p/<peer id>")
    parser.add_argument("scenario", choices=["sequential", "cap", "stalled", "streams", "never-read"])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--ping-every", type=int, default=1, help="sequential: ping every Nth connection")
    parser.add_argument("--cap", type=int, default=4)
    parser.add_argument("--extra", type=int, default=3)
    parser.add_argument("--source", default=None)
    parser.add_argument("--hold", type=float, default=5.0)
    parser.add_argument("--say", choices=["nothing", "noise-half"], default="nothing")
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--until", type=int, default=0, help="streams: stop once this many were reset")
    parser.add_argument("--per-stream", type=int, default=200_000)
    args = parser.parse_args(argv)
    transport, _, peer_text = args.addr.rpartition("/p2p/")
    addr, peer = multiaddr.Multiaddr(transport), ID.from_base58(peer_text)
    if args.scenario == "sequential":
        result = trio.run(sequential, addr, peer, args.count, args.workers, args.ping_every)
    elif args.scenario == "cap":
        result = trio.run(cap, addr, peer, args.cap, args.extra)
    elif args.scenario == "stalled":
        result = trio.run(stalled, addr, args.count, args.source, args.hold, args.say)
    elif args.scenario == "streams":
        result = trio.run(many_streams, addr, peer, args.count, args.hold, args.until or args.count)
    else:
        result = trio.run(never_read, addr, peer, args.streams, args.per_stream, args.hold)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
