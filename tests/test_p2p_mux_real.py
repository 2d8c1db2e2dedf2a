"""The multiplexed RPC stream over real py-libp2p hosts (TCP + Noise + yamux on 127.0.0.1, one process).

What the memory transport can't show: py-libp2p's own refusal of an unknown protocol is recognised as a
refusal (the client falls back to one stream per request and remembers it), many requests share one
yamux stream, and a connection closed under a live mux stream fails only its requests in flight and the
next request re-opens it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from p2p.framing import serve_rpc
from p2p.host import P2PError, P2PHost, open_host
from p2p.mux_server import MuxServer
from p2p.rpc_client import RpcClient
from p2p.transport import Caller, is_protocol_refusal
from wire.identity import Identity

MUX = "/test/mux/1.0.0"
SINGLE = "/test/single/1.0.0"
TIMEOUT = 10.0


async def echo(caller: Caller, request: bytes) -> bytes:
    return caller.peer_id.encode() + b"|" + request


async def echo_peer(peer: str, request: bytes) -> bytes:
    return peer.encode() + b"|" + request


@asynccontextmanager
async def hosts(*, mux: bool) -> AsyncIterator[tuple[P2PHost, P2PHost, RpcClient]]:
    async with (
        open_host(Identity(bytes([0x41]) * 32)) as client_host,
        open_host(Identity(bytes([0x42]) * 32)) as server_host,
        trio.open_nursery() as nursery,
    ):
        if mux:
            MuxServer(server_host, MUX, echo).start()
        serve_rpc(server_host, SINGLE, echo_peer)
        client = RpcClient(client_host, MUX, SINGLE)
        await nursery.start(client.run)
        yield client_host, server_host, client
        nursery.cancel_scope.cancel()


def test_a_libp2p_refusal_is_recognised_and_the_client_falls_back() -> None:
    async def main() -> None:
        async with hosts(mux=False) as (client_host, server_host, client):
            addrs = server_host.listen_addrs()
            with pytest.raises(P2PError) as refused:
                await client_host.open_stream(server_host.peer_id, MUX, timeout=TIMEOUT, addrs=addrs)
            assert is_protocol_refusal(refused.value)
            for i in range(3):
                reply = await client.request(server_host.peer_id, b"%d" % i, timeout=TIMEOUT, addrs=addrs)
                assert reply == client_host.peer_id.encode() + b"|%d" % i
            assert client.lacks_mux(server_host.peer_id)
            assert client.stats.fallbacks == 1 and client.stats.single_requests == 3

    trio.run(main)


def test_requests_share_one_stream_and_survive_a_closed_connection() -> None:
    async def main() -> None:
        async with hosts(mux=True) as (client_host, server_host, client):
            addrs, peer = server_host.listen_addrs(), server_host.peer_id
            opened = client_host.statistics().streams_opened

            async def one(i: int) -> None:
                assert (await client.request(peer, b"%d" % i, timeout=TIMEOUT, addrs=addrs)).endswith(
                    b"|%d" % i
                )

            async with trio.open_nursery() as nursery:
                for i in range(30):
                    nursery.start_soon(one, i)
            assert client_host.statistics().streams_opened == opened + 1
            assert client.mux.stats.replies == 30
            reply = await client.request_reply(peer, b"ip?", timeout=TIMEOUT, addrs=addrs)
            assert reply.ip == "127.0.0.1"
            await server_host.disconnect(client_host.peer_id)  # the connection (and the mux stream) goes
            await trio.sleep(0.2)
            reply = await client.request_reply(peer, b"again", timeout=TIMEOUT, addrs=addrs)
            assert reply.payload.endswith(b"|again")
            assert client.mux.stats.sessions_opened == 2 and client.stats.single_requests == 0

    trio.run(main)
