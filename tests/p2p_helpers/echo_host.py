"""A Meta Space p2p host in its own OS process, for the integration tests.

Usage: ``python tests/p2p_helpers/echo_host.py SEED_HEX``

Listens on 127.0.0.1 (ephemeral port), prints its full multiaddr as the **first line** of stdout, then
serves the test protocols below until its stdin is closed. It then shuts down and prints one JSON line
with its host statistics, and exits 0.

Protocols:
    ECHO: reply = <peer id the server saw> + b"|" + request
    BOOM: the handler raises (the client must see a failed rpc, the server must keep serving)
    HUGE_REPLY: replies with a length prefix of 0xFFFFFFFF (the client must refuse it)
    STATS: reply = the host's statistics as JSON
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

import trio
from libp2p.abc import INetStream

from p2p.framing import serve_rpc
from p2p.host import open_host
from wire.identity import Identity

ECHO = "/metaspace-test/echo/1.0.0"
BOOM = "/metaspace-test/boom/1.0.0"
HUGE_REPLY = "/metaspace-test/huge-reply/1.0.0"
STATS = "/metaspace-test/stats/1.0.0"


async def _echo(peer_id: str, request: bytes) -> bytes:
    return peer_id.encode() + b"|" + request


async def _boom(peer_id: str, request: bytes) -> bytes:
    raise ValueError("handler failure on purpose")


async def _huge_reply(stream: INetStream) -> None:
    await stream.write(b"\xff\xff\xff\xff" + b"x" * 16)


async def _wait_stdin_closed() -> None:
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    async with stdin:
        while await stdin.receive_some(4096):
            pass


async def main(seed: bytes) -> None:
    async with open_host(Identity(seed)) as host:
        serve_rpc(host, ECHO, _echo)
        serve_rpc(host, BOOM, _boom)
        host.set_handler(HUGE_REPLY, _huge_reply)

        async def _stats(peer_id: str, request: bytes) -> bytes:
            return json.dumps(dataclasses.asdict(host.statistics())).encode()

        serve_rpc(host, STATS, _stats)
        print(host.addrs()[0], flush=True)
        await _wait_stdin_closed()
        stats = host.statistics()
    print(json.dumps(dataclasses.asdict(stats)), flush=True)


if __name__ == "__main__":
    trio.run(main, bytes.fromhex(sys.argv[1]))
