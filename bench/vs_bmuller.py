"""Baseline: bmuller's ``kademlia`` 2.2.3 (unmodified) vs our DHT core in the simulator, zero latency.

bmuller's side runs its real ``Server``/``KademliaProtocol``/``rpcudp`` code over an in-memory
asyncio transport: ``sendto`` hands the datagram to the target protocol's ``datagram_received`` via
``loop.call_soon`` (zero latency, no loss, msgpack framing kept). Nodes join one at a time through a
random earlier node (``Server.bootstrap``), then P distinct keys are ``set`` from random nodes and L
``get``s run from random nodes, one at a time; a get succeeds if it returns the value that was set.

Our side runs ``sim.run_simulation`` with ``rtt_ms=0``, ``loss=0``, protocol join, the same N, P, L.

Messages: bmuller's ``msgs_per_lookup`` counts every request sent network-wide while one ``get`` ran (gets
run one at a time); ours has ``msgs_per_lookup`` (the lookup's own requests, as the core counts them) and
``net_msgs_per_lookup`` (every request of the lookup phase / L: routing-table probes and hand-offs included)
— compare the latter with bmuller's. CPU per lookup is ``time.process_time`` over the lookup phase / L.

Each (side, N) runs in a fresh subprocess so RSS figures don't bleed into each other. Prints ONE JSON line.

    .venv/bin/python bench/vs_bmuller.py [--sizes 1000,5000,10000] [--publishes 200] [--lookups 1000]

Each size's row carries ``ratios``: ours / bmuller for join CPU, join messages per node, lookup CPU, messages
per lookup (network-wide), memory per node, and lookup success (below 1: we do worse; success: above 1
means we find more). The ratios also go to stderr as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the project root first: this folder's own wire.py must not shadow the ``wire`` package
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "bench")]

VALUE_BYTES = 400  # about the size of one of our signed intent records
BMULLER_RPC_TIMEOUT_S = 300.0


def _rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


# ------------------------------------------------------------------------------------- bmuller side


class _MemNet:
    """An in-process datagram network: address -> protocol, with a request counter."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.protocols: dict[tuple[str, int], object] = {}
        self.requests = 0
        self.datagrams = 0
        self.timeouts = 0


def _count_timeouts(proto: object, net: _MemNet) -> None:
    """Wrap the protocol's ``_timeout`` so the bench reports how many requests timed out."""
    original = proto._timeout  # type: ignore[attr-defined]

    def timeout(msg_id: bytes) -> None:
        net.timeouts += 1
        original(msg_id)

    proto._timeout = timeout  # type: ignore[attr-defined]


class _MemTransport:
    """Stands in for the UDP transport: delivers datagrams in-process on the next loop iteration."""

    def __init__(self, net: _MemNet, addr: tuple[str, int]) -> None:
        self.net = net
        self.addr = addr

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        net = self.net
        net.datagrams += 1
        if data[:1] == b"\x00":
            net.requests += 1
        proto = net.protocols.get(tuple(addr))  # type: ignore[arg-type]
        if proto is not None:
            net.loop.call_soon(proto.datagram_received, data, self.addr)  # type: ignore[attr-defined]

    def close(self) -> None:
        pass


async def _bmuller_run(n: int, publishes: int, lookups: int, seed: int, k: int, alpha: int) -> dict:
    import logging

    from kademlia.network import Server

    logging.getLogger("kademlia").setLevel(logging.CRITICAL)
    logging.getLogger("rpcudp").setLevel(logging.CRITICAL)
    random.seed(seed)  # bmuller draws node ids from the global RNG
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    net = _MemNet(loop)
    rss0 = _rss_bytes()
    servers = []
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for i in range(n):
        server = Server(ksize=k, alpha=alpha)
        addr = ("10.0.0.1", 10000 + i)
        proto = server._create_protocol()
        # Zero latency and no loss: no request should ever time out. rpcudp's timeout runs on the wall
        # clock, so on a loaded machine a backed-up event loop could fail requests spuriously; a long
        # timeout removes that artefact (timeouts are still counted, see ``timeouts``).
        proto._wait_timeout = BMULLER_RPC_TIMEOUT_S
        _count_timeouts(proto, net)
        proto.connection_made(_MemTransport(net, addr))
        server.protocol = proto
        server.transport = proto.transport
        net.protocols[addr] = proto
        servers.append((server, addr))
        if i:
            seed_addr = servers[rng.randrange(i)][1]
            await server.bootstrap([seed_addr])
        if i % 500 == 0:
            print(f"\rbmuller n={n}: joined {i}/{n}", end="", file=sys.stderr, flush=True)
    join_cpu = time.process_time() - cpu0
    join_wall = time.perf_counter() - wall0
    join_msgs = net.requests
    print(f"\rbmuller n={n}: joined {n}/{n}", file=sys.stderr, flush=True)

    values = {}
    replicated = 0
    for p in range(publishes):
        key = f"key-{p}"
        value = rng.randbytes(VALUE_BYTES)
        server = servers[rng.randrange(n)][0]
        ok = await server.set(key, value)
        replicated += bool(ok)
        values[key] = value
    keys = list(values)

    found = 0
    msgs = 0
    cpu_lookup = 0.0
    wall1 = time.perf_counter()
    for _ in range(lookups):
        key = keys[rng.randrange(len(keys))]
        server = servers[rng.randrange(n)][0]
        before = net.requests
        c0 = time.process_time()
        got = await server.get(key)
        cpu_lookup += time.process_time() - c0
        msgs += net.requests - before
        found += got == values[key]
    lookup_wall = time.perf_counter() - wall1
    rss = _rss_bytes()
    return {
        "impl": "bmuller-kademlia-2.2.3",
        "nodes": n,
        "publishes": publishes,
        "lookups": lookups,
        "lookup_success": found / lookups if lookups else None,
        "publish_ok": replicated / publishes if publishes else None,
        "msgs_per_lookup": msgs / lookups if lookups else None,
        "net_msgs_per_lookup": msgs / lookups if lookups else None,
        "cpu_ms_per_lookup": 1000 * cpu_lookup / lookups if lookups else None,
        "join_msgs_per_node": join_msgs / n,
        "timeouts": net.timeouts,
        "join_cpu_s": round(join_cpu, 3),
        "join_wall_s": round(join_wall, 3),
        "lookup_wall_s": round(lookup_wall, 3),
        "rss_mb": round(rss / 2**20, 1),
        "rss_per_node_kib": round((rss - rss0) / n / 1024, 2),
    }


def bmuller_side(n: int, publishes: int, lookups: int, seed: int, k: int = 20, alpha: int = 3) -> dict:
    """Run bmuller's kademlia over the in-memory transport; returns its figures."""
    return asyncio.run(_bmuller_run(n, publishes, lookups, seed, k, alpha))


# ----------------------------------------------------------------------------------------- our side


def ours_side(n: int, publishes: int, lookups: int, seed: int, k: int = 20, alpha: int = 3) -> dict:
    """Run our DHT core in the simulator at zero latency; returns the same figures."""
    from sim import SimConfig, run_simulation

    cfg = SimConfig(
        nodes=n, publishes=publishes, lookups=lookups, seed=seed, rtt_ms=0.0, loss=0.0, k=k, alpha=alpha
    )
    res = run_simulation(cfg, progress=_progress).to_dict()
    return {
        "impl": "metaspace-dht (sim)",
        "nodes": n,
        "publishes": publishes,
        "lookups": lookups,
        "lookup_success": res["lookup_success"],
        "publish_ok": res["publish_ok"],
        "msgs_per_lookup": res["msgs_per_lookup"],
        "net_msgs_per_lookup": res["net_msgs_per_lookup"],
        "cpu_ms_per_lookup": res["cpu_ms_per_lookup"],
        "join_msgs_per_node": res["join_msgs_per_node"],
        "join_cpu_s": res["join_cpu_s"],
        "join_wall_s": res["join_wall_s"],
        "lookup_wall_s": res["lookup_wall_s"],
        "rss_mb": res["rss_mb"],
        "rss_per_node_kib": res["rss_per_node_kib"],
        "hops_p50": res["hops_p50"],
    }


#: (ratio name, figure compared): ours / bmuller for each.
RATIOS = (
    ("join_cpu", "join_cpu_s"),
    ("join_msgs", "join_msgs_per_node"),
    ("lookup_cpu", "cpu_ms_per_lookup"),
    ("lookup_msgs", "net_msgs_per_lookup"),
    ("memory", "rss_per_node_kib"),
    ("success", "lookup_success"),
)


def ratios(ours: dict, theirs: dict) -> dict[str, float | None]:
    """ours / bmuller for every figure of ``RATIOS`` (None where bmuller's figure is 0 or missing).

    Args:
        ours, theirs: the two sides' figures at one size.
    Returns:
        Ratio name -> ours / theirs, 3 decimals.
    """
    out: dict[str, float | None] = {}
    for name, key in RATIOS:
        a, b = ours.get(key), theirs.get(key)
        out[name] = round(a / b, 3) if a is not None and b else None
    return out


def ratio_table(rows: list[dict]) -> str:
    """The ratios of every size as a plain-text table (one line per size)."""
    head = f"{'nodes':>8} " + " ".join(f"{name:>11}" for name, _ in RATIOS)
    lines = ["ours / bmuller", head]
    for row in rows:
        cells = " ".join(
            f"{row['ratios'][name] if row['ratios'][name] is not None else '-':>11}" for name, _ in RATIOS
        )
        lines.append(f"{row['nodes']:>8} {cells}")
    return "\n".join(lines)


def _progress(phase: str, done: int, total: int) -> None:
    if done == total or done % max(1, total // 20) == 0:
        print(
            f"\rours {phase}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True
        )


def _child(args: argparse.Namespace) -> int:
    fn = bmuller_side if args.side == "bmuller" else ours_side
    print(json.dumps(fn(args.n, args.publishes, args.lookups, args.seed, args.k, args.alpha)))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,5000,10000", help="comma-separated node counts")
    p.add_argument("--publishes", type=int, default=200)
    p.add_argument("--lookups", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--alpha", type=int, default=3)
    p.add_argument("--side", choices=["bmuller", "ours"], help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.side:
        return _child(args)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    for n in sizes:
        row: dict = {"nodes": n}
        for side in ("bmuller", "ours"):
            cmd = [sys.executable, __file__, "--side", side, "--n", str(n)]
            cmd += [
                "--publishes",
                str(args.publishes),
                "--lookups",
                str(args.lookups),
                "--seed",
                str(args.seed),
            ]
            cmd += ["--k", str(args.k), "--alpha", str(args.alpha)]
            t0 = time.perf_counter()
            out = subprocess.run(
                cmd, check=True, capture_output=True, text=True, cwd=ROOT, env=os.environ.copy()
            )
            sys.stderr.write(out.stderr)
            fig = json.loads(out.stdout.strip().splitlines()[-1])
            fig["wall_s"] = round(time.perf_counter() - t0, 2)
            row[side] = fig
            print(f"{side} n={n}: {json.dumps(fig)}", file=sys.stderr, flush=True)
        row["ratios"] = ratios(row["ours"], row["bmuller"])
        rows.append(row)
    print(ratio_table(rows), file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "vs_bmuller",
                "latency": "zero",
                "loss": 0.0,
                "k": args.k,
                "alpha": args.alpha,
                "publishes": args.publishes,
                "lookups": args.lookups,
                "seed": args.seed,
                "results": rows,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
