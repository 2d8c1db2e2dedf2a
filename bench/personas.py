"""Benchmark of personas (``share: nothing``): what one private intent's own libp2p host costs.

Starts ``--count`` persona hosts one after the other (real py-libp2p hosts on 127.0.0.1, as
``metaspace.peer.personas.Personas`` does), then, in the same invocation, the same number of plain
hosts of fresh identities as the baseline. Reports the median start time of each, their ratio, and the
resident memory each persona host adds, plus one INTENT_MATCH-sized request/reply between two persona
hosts vs between two plain hosts (median over ``--rpcs``).

Usage: ``.venv/bin/python bench/personas.py [--count 20] [--rpcs 50]``. Prints ONE JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import AsyncExitStack
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import trio

from metaspace.peer.personas import Personas
from p2p.framing import rpc, serve_rpc
from p2p.host import open_host
from wire.identity import Identity

LISTEN = "/ip4/127.0.0.1/tcp/0"
PROTO = "/bench/echo/1.0.0"


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    return 0


async def _echo(peer: str, data: bytes) -> bytes:
    return data


async def _rpc_ms(a: Any, b: Any, n: int) -> float:
    serve_rpc(b, PROTO, _echo)
    payload = os.urandom(1200)  # about an INTENT_MATCH with its record
    await rpc(a, b.peer_id, PROTO, payload, addrs=b.listen_addrs())  # connect once
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await rpc(a, b.peer_id, PROTO, payload)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def main(count: int, rpcs: int) -> dict[str, Any]:
    agent = Identity(os.urandom(32))
    personas = Personas(agent, [LISTEN])
    async with trio.open_nursery() as nursery:
        await nursery.start(personas.run)
        rss0 = _rss_kib()
        starts = []
        for _ in range(count):
            t0 = time.perf_counter()
            await personas.ensure(os.urandom(16))
            starts.append((time.perf_counter() - t0) * 1000)
        rss_per = (_rss_kib() - rss0) / count
        hosts = [personas.host(i) for i in personas.intent_ids()[:2]]
        persona_rpc = await _rpc_ms(hosts[0], hosts[1], rpcs)
        async with AsyncExitStack() as stack:
            plain_starts = []
            plain = []
            for _ in range(count):
                t0 = time.perf_counter()
                plain.append(await stack.enter_async_context(open_host(Identity(os.urandom(32)), [LISTEN])))
                plain_starts.append((time.perf_counter() - t0) * 1000)
            plain_rpc = await _rpc_ms(plain[0], plain[1], rpcs)
        nursery.cancel_scope.cancel()
    med, base = statistics.median(starts), statistics.median(plain_starts)
    return {
        "bench": "personas", "count": count, "persona_start_ms_median": round(med, 2),
        "plain_host_start_ms_median": round(base, 2), "start_ratio": round(med / base, 2),
        "rss_kib_per_persona": round(rss_per), "rpc_ms_median_persona": round(persona_rpc, 2),
        "rpc_ms_median_plain": round(plain_rpc, 2), "rpc_ratio": round(persona_rpc / plain_rpc, 2),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }  # fmt: skip


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--rpcs", type=int, default=50)
    args = ap.parse_args()
    print(json.dumps(trio.run(main, args.count, args.rpcs)))
