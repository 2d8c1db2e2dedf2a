"""CPU and latency of one DHT RPC between two real processes: a stream per request vs the multiplexed stream.

A *server* process runs a ``DhtDriver`` (TCP + Noise + yamux, a DHT node holding ``--contacts`` contacts, so
FIND_NODE replies are full-sized). This process is the *client*: its own host and driver send ``--rpcs``
FIND_NODE requests through ``driver.rpc`` (the path every DHT request takes), first each on its own stream
(``/metaspace/kad/1.0.0``: stream open + multistream-select per request), then all on one multiplexed stream
(``/metaspace/kad-mux/1.0.0``), one at a time, then ``--parallel`` at a time. CPU time is the process's own
(``time.process_time``, both sides), so the figures hold on a loaded machine; the latencies do not. The
client also counts trio's task steps and scheduler batches (event-loop passes) per RPC: the round trips
through the scheduler that py-libp2p's locks and checkpoints cost (``p2p.fences``), independent of load.

Prints ONE JSON line: per mode, CPU microseconds per RPC on each side, and the latency p50/p95.

    .venv/bin/python bench/rpc_cost.py [--rpcs 2000] [--parallel 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path and bench/wire.py would shadow ``wire``.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if p and Path(p).resolve() not in (ROOT, ROOT / "bench")]

import trio  # noqa: E402

from dht.config import DhtConfig  # noqa: E402
from dht.node import Node  # noqa: E402
from p2p.dht_driver import DhtDriver  # noqa: E402
from p2p.host import ConnLimits, open_host, split_peer_multiaddr  # noqa: E402
from wire.identity import Identity  # noqa: E402
from wire.messages import Contact, FindNode, Nodes, decode_message, encode_message  # noqa: E402


class _SchedulerCount(trio.abc.Instrument):
    """Task steps and event-loop passes of this process while installed."""

    def __init__(self) -> None:
        self.steps = 0
        self.batches = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps += 1

    def before_io_wait(self, timeout: float) -> None:
        self.batches += 1


SERVER_SEED = bytes([0x71]) * 32
CLIENT_SEED = bytes([0x72]) * 32
LIMITS = ConnLimits(max_per_ip=512)


def _fake_contacts(n: int) -> list[Contact]:
    rng = random.Random(7)
    return [Contact(rng.randbytes(32), [f"/ip4/10.{i // 250}.{i % 250}.1/tcp/4001"]) for i in range(n)]


def serve(contacts: int) -> None:
    """The server process: a DHT driver; prints its address, then answers "cpu" lines with its CPU time."""

    async def main() -> None:
        identity = Identity(SERVER_SEED)
        async with open_host(identity, ["/ip4/127.0.0.1/tcp/0"], limits=LIMITS) as host:
            node = Node(identity.pubkey, host.listen_addrs(), DhtConfig(), random.Random(1))
            for c in _fake_contacts(contacts):
                node.table.add(c, 0.0)
            driver = DhtDriver(host, node)
            async with trio.open_nursery() as nursery:
                await nursery.start(driver.run)
                print(json.dumps({"addr": host.addrs()[0]}), flush=True)
                stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
                buf = b""
                while True:
                    chunk = await stdin.receive_some(4096)
                    if not chunk:
                        break
                    buf += chunk
                    while b"\n" in buf:
                        _, buf = buf.split(b"\n", 1)
                        print(json.dumps({"cpu": time.process_time()}), flush=True)
                nursery.cancel_scope.cancel()

    trio.run(main)


class Server:
    def __init__(self, contacts: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", "--contacts", str(contacts)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(ROOT),
        )
        assert self.proc.stdout is not None
        self.addr = str(json.loads(self.proc.stdout.readline())["addr"])

    def cpu(self) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"cpu\n")
        self.proc.stdin.flush()
        return float(json.loads(self.proc.stdout.readline())["cpu"])

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


async def measure(server: Server, mode: str, rpcs: int, parallel: int) -> dict[str, Any]:
    identity = Identity(CLIENT_SEED)
    peer_id, transport = split_peer_multiaddr(server.addr)
    async with open_host(identity, ["/ip4/127.0.0.1/tcp/0"], limits=LIMITS) as host:
        node = Node(identity.pubkey, host.listen_addrs(), DhtConfig(), random.Random(2))
        driver = DhtDriver(host, node, use_mux=mode == "mux")
        async with trio.open_nursery() as nursery:
            await nursery.start(driver.run)
            rng = random.Random(3)
            latencies: list[float] = []

            async def one() -> None:
                request = encode_message(FindNode(rng.getrandbits(63), rng.randbytes(32), []))
                t0 = time.perf_counter()
                raw = await driver.rpc.request(peer_id, request, timeout=30, addrs=[transport])
                latencies.append(time.perf_counter() - t0)
                assert isinstance(decode_message(raw), Nodes)

            await one()  # connect (and open the mux stream) outside the measurement
            latencies.clear()
            server_cpu0, client_cpu0, wall0 = server.cpu(), time.process_time(), time.perf_counter()
            counter = _SchedulerCount()
            trio.lowlevel.add_instrument(counter)
            for _ in range(rpcs // parallel):
                async with trio.open_nursery() as batch:
                    for _ in range(parallel):
                        batch.start_soon(one)
            trio.lowlevel.remove_instrument(counter)
            wall = time.perf_counter() - wall0
            client_cpu, server_cpu = time.process_time() - client_cpu0, server.cpu() - server_cpu0
            n = len(latencies)
            stats = driver.statistics()
            nursery.cancel_scope.cancel()
    ordered = sorted(latencies)
    return {
        "rpcs": n,
        "parallel": parallel,
        "client_cpu_us_per_rpc": round(client_cpu / n * 1e6, 1),
        "server_cpu_us_per_rpc": round(server_cpu / n * 1e6, 1),
        "client_task_steps_per_rpc": round(counter.steps / n, 1),
        "client_loop_passes_per_rpc": round(counter.batches / n, 1),
        "latency_p50_ms": round(statistics.median(ordered) * 1000, 3),
        "latency_p95_ms": round(ordered[int(0.95 * (n - 1))] * 1000, 3),
        "rpcs_per_s": round(n / wall, 1),
        "streams": {
            k: v for k, v in stats.items() if k in ("rpc_single_requests", "rpc_mux_sessions_opened")
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rpcs", type=int, default=2000)
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument(
        "--contacts", type=int, default=20, help="contacts in the server's table (reply size)"
    )
    parser.add_argument(
        "--mode", choices=["both", "single", "mux"], default="both", help="e.g. mux alone, under py-spy"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.contacts)
        return 0
    load = os.getloadavg()[0]
    server = Server(args.contacts)
    try:
        out: dict[str, Any] = {"bench": "rpc_cost", "request": "FIND_NODE", "contacts": args.contacts}
        modes = ("single", "mux") if args.mode == "both" else (args.mode,)
        for mode in modes:
            for parallel in (1, args.parallel):
                out[f"{mode}_x{parallel}"] = trio.run(measure, server, mode, args.rpcs, parallel)
        for parallel in (1, args.parallel) if args.mode == "both" else ():
            single, mux = out[f"single_x{parallel}"], out[f"mux_x{parallel}"]
            out[f"cpu_ratio_single_over_mux_x{parallel}"] = round(
                (single["client_cpu_us_per_rpc"] + single["server_cpu_us_per_rpc"])
                / (mux["client_cpu_us_per_rpc"] + mux["server_cpu_us_per_rpc"]),
                2,
            )
    finally:
        server.stop()
    out["loadavg_1m"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    out["cpus"] = os.cpu_count()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
