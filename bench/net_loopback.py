"""Loopback benchmark: our DHT over real libp2p processes vs bmuller's ``kademlia`` 2.2.3 over UDP.

Both sides run N peers, each in **its own OS process** on 127.0.0.1, driven by this coordinator over
stdin/stdout JSON lines; every operation is timed inside the peer process that runs it (the coordinator's
pipe round trip is not counted), one operation at a time.

* **ours** — a bench peer = ``p2p.host`` (TCP + Noise + yamux) + ``p2p.dht_driver.DhtDriver`` +
  ``dht.Node`` (k=20, alpha=3, no rate limit), exactly the stack of an agent peer minus the agent.
  Requests go over the multiplexed ``/metaspace/kad-mux/1.0.0`` streams (``p2p.mux``).
  *publish* = ``driver.publish(record)`` of a freshly signed intent (lookup, then PUT_RECORDS to the k
  closest, reported at the core's publish quorum; every storing node verifies the ed25519 signature);
  *search* = ``driver.get_records(key)`` of that intent's key from another peer (a GET_RECORDS lookup,
  complete under the core's rule once the closest replicas answered; records verified);
  success = the intent is among the records found. An agent's search runs one such lookup per key cell
  within its radius, in parallel.
* **kademlia** — bmuller's ``Server`` (ksize=20, alpha=3) on UDP, unencrypted, unsigned, one value per
  key; *publish* = ``server.set(key, 400-byte value)``; *search* = ``server.get(key)`` from another peer
  minus its local shortcut (with k >= peers every peer stores every value, and ``get`` would answer from
  its own storage in ~0.1 ms): the same ``ValueSpiderCrawl`` network lookup it runs otherwise; success =
  the same value comes back.

All processes of a side are started and have imported their libraries first (``processes_loaded_s``:
py-libp2p costs ~1 s of CPU per process); then the clock of ``startup_s`` ("peers up") starts: peer 0
starts, the others join through it at once (``join_s``), then each looks itself up once more so that
early joiners learn late ones (``startup_cpu_s``: the CPU our peer processes spent on it, all together).
``*_rpcs_median``: requests one operation sent (ours).
Prints ONE JSON line; progress goes to stderr.

    .venv/bin/python bench/net_loopback.py [--peers 20] [--ops 200] [--seed 1] [--single]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/wire.py would shadow the ``wire``
# package (also when PYTHONPATH already names the root): the project root goes first, bench/ goes away.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if p and Path(p).resolve() not in (ROOT, ROOT / "bench")]

VALUE_BYTES = 400  # about the size of one of our signed intent records
START_TIMEOUT = 300.0
OP_TIMEOUT = 120.0
#: Driver counters summed over our peers (``DhtDriver.statistics``): requests and failures, the mux
#: streams (opened, broken with requests in flight, replies arriving after their caller timed out), fallbacks.
RPC_STATS = (
    "requests_out", "failures_out", "soft_errors_out", "rpc_retries", "rpc_fallbacks", "rpc_single_requests",
    "rpc_mux_sessions_opened", "rpc_mux_open_failures", "rpc_mux_broken_sessions", "rpc_mux_failed_in_flight",
    "rpc_mux_abandoned", "rpc_mux_late_replies", "node_contacts",
)  # fmt: skip
#: If set to a folder, each of our peer processes runs under cProfile and writes ``ours-<seed>.prof`` there
#: (CPU per function, for finding where an RPC's time goes; the figures are then slower than normal).
PROFILE_ENV = "NET_LOOPBACK_PROFILE"
#: With ``NET_LOOPBACK_PROFILE``: ``search`` profiles the search phase only (every peer, from the moment the
#: publishes are done: the searcher's side and the serving side of each search); ``all`` (default) everything.
PROFILE_PHASE_ENV = "NET_LOOPBACK_PROFILE_PHASE"


def log(msg: str) -> None:
    print(f"[net_loopback] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ peer processes


def _reply(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def _await_start() -> str | None:
    """Say the process is loaded (imports done), then wait for the coordinator's go: the address to join
    through, or None for the first peer. Read with a blocking readline: nothing else is sent before we
    answer "ready", so no later line is left in ``sys.stdin``'s buffer."""
    _reply({"loaded": True})
    line = sys.stdin.readline()
    if not line:
        raise SystemExit(0)
    bootstrap = json.loads(line)["bootstrap"]
    return str(bootstrap) if bootstrap else None


def run_ours(seed: int, use_mux: bool = True) -> None:
    """One bench peer of our stack; serves commands from stdin until it closes."""
    import logging

    import trio

    from dht.config import DhtConfig
    from dht.events import Found, Published
    from dht.keys import intent_key
    from dht.node import Node
    from p2p.dht_driver import DhtDriver
    from p2p.host import open_host
    from wire.envelope import open_intent, seal_intent
    from wire.geo import cell_at
    from wire.identity import Identity
    from wire.intent import Action, Intent, Price
    from wire.taxonomy import category_codes

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    profile_dir = os.environ.get(PROFILE_ENV)
    profiling = bool(profile_dir)
    profiler: Any = None
    if profiling:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: 20 processes share the cores
    rng = random.Random(seed)
    identity = Identity(rng.randbytes(32))
    categories = sorted(category_codes())
    bootstrap = _await_start()
    cpu_at_go = time.process_time()

    async def main() -> None:
        async with open_host(identity, ["/ip4/127.0.0.1/tcp/0"]) as host:  # loopback: no per-IP limit
            # A profiled process runs several times slower: its timeouts are lifted so that operations finish.
            config = DhtConfig(rpc_timeout=60.0, lookup_timeout=300.0) if profiling else DhtConfig()
            node = Node(identity.pubkey, host.listen_addrs(), config, random.Random(seed))
            driver = DhtDriver(host, node, use_mux=use_mux)
            async with trio.open_nursery() as nursery:
                await nursery.start(driver.run)
                if bootstrap:
                    await driver.bootstrap([bootstrap])
                _reply({"ready": host.addrs()[0], "cpu": time.process_time() - cpu_at_go})
                stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
                buf = b""
                while True:
                    chunk = await stdin.receive_some(65536)
                    if not chunk:
                        break
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line.strip():
                            _reply(await handle(driver, json.loads(line)))
                nursery.cancel_scope.cancel()

    async def handle(driver: DhtDriver, cmd: dict[str, Any]) -> dict[str, Any]:
        op = cmd["op"]
        if op == "refresh":
            await driver.find_node(driver.node.node_id)
            return {"ok": True, "contacts": len(driver.node.table), "cpu": time.process_time() - cpu_at_go}
        if op == "put":
            i = int(cmd["i"])
            now = driver.now()
            lat, lon = -60 + (i * 7.3) % 120, -170 + (i * 13.7) % 340
            intent = Intent(
                id=i.to_bytes(16, "big"), author=identity.pubkey, seq=1, action=Action.SELL,
                category=categories[i % len(categories)], attributes={"n": str(i)}, price=Price(5000, "USD"),
                quantity=1, cell=cell_at(lat, lon, 7), radius_km=25, created=int(now),
                expires=int(now) + 86400, text=f"bench item {i}", lang="en",
            )  # fmt: skip
            record = seal_intent(identity, intent)
            key = intent_key(intent.category, intent.cell)
            t0 = time.perf_counter()
            result = await driver.publish(record)
            dt = time.perf_counter() - t0
            ok = isinstance(result, Published) and result.replicas > 0
            return {"ok": ok, "s": dt, "key": key.hex(), "id": intent.id.hex(),
                    "replicas": getattr(result, "replicas", 0),
                    "rpcs": getattr(result, "messages", 0)}  # fmt: skip
        if op == "get":
            key = bytes.fromhex(cmd["key"])
            t0 = time.perf_counter()
            found = await driver.get_records(key, action=Action.SELL)
            dt = time.perf_counter() - t0
            ok = isinstance(found, Found) and any(
                open_intent(r)[1].id.hex() == cmd["id"] for r in found.records
            )
            return {"ok": ok, "s": dt, "rpcs": getattr(found, "messages", 0)}
        if op == "stats":
            return {"ok": True, "stats": driver.statistics()}
        if op == "profile":
            if profiler is not None:
                profiler.enable()
            return {"ok": True}
        return {"ok": False, "error": f"unknown op {op}"}

    if profiler is None:
        trio.run(main)
        return
    if os.environ.get(PROFILE_PHASE_ENV, "all") != "search":
        profiler.enable()
    try:
        trio.run(main)
    finally:
        profiler.disable()
        profiler.dump_stats(str(Path(profile_dir) / f"ours-{seed}.prof"))


def run_kademlia(seed: int) -> None:
    """One bmuller ``kademlia`` peer on UDP loopback; serves commands from stdin until it closes."""
    import asyncio
    import logging

    from kademlia.crawling import ValueSpiderCrawl
    from kademlia.network import Server
    from kademlia.node import Node
    from kademlia.utils import digest

    logging.getLogger("kademlia").setLevel(logging.CRITICAL)
    logging.getLogger("rpcudp").setLevel(logging.CRITICAL)
    bootstrap = _await_start()

    async def network_get(server: Server, key: str) -> Any:
        """``Server.get`` without its local shortcut: a peer holding the value would answer from its own
        storage without any network lookup (with k >= peers, every peer holds every value)."""
        node = Node(digest(key))
        nearest = server.protocol.router.find_neighbors(node)
        if not nearest:
            return None
        spider = ValueSpiderCrawl(server.protocol, node, nearest, server.ksize, server.alpha)
        return await spider.find()

    async def main() -> None:
        server = Server(ksize=20, alpha=3)
        await server.listen(0, interface="127.0.0.1")
        port = server.transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]
        if bootstrap:
            host, _, bport = bootstrap.rpartition(":")
            await server.bootstrap([(host, int(bport))])
        _reply({"ready": f"127.0.0.1:{port}"})
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                break
            if not line.strip():
                continue
            cmd = json.loads(line)
            op = cmd["op"]
            if op == "refresh":
                await server.bootstrap(server.bootstrappable_neighbors())
                _reply({"ok": True, "contacts": sum(len(b) for b in server.protocol.router.buckets)})
            elif op == "put":
                i = int(cmd["i"])
                key = f"bench-key-{i}"
                value = random.Random(i).randbytes(VALUE_BYTES)
                t0 = time.perf_counter()
                ok = await server.set(key, value)
                dt = time.perf_counter() - t0
                _reply({"ok": bool(ok), "s": dt, "key": key, "id": str(i)})
            elif op == "get":
                value = random.Random(int(cmd["id"])).randbytes(VALUE_BYTES)
                t0 = time.perf_counter()
                got = await network_get(server, cmd["key"])
                dt = time.perf_counter() - t0
                _reply({"ok": got == value, "s": dt})
            else:
                _reply({"ok": False, "error": f"unknown op {op}"})
        server.stop()

    asyncio.run(main())


# ------------------------------------------------------------------------------------- coordinator


class PeerProc:
    def __init__(self, side: str, index: int, seed: int) -> None:
        argv = [sys.executable, str(Path(__file__).resolve()), "--role", side, "--seed", str(seed)]
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        self.index = index
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr, cwd=str(ROOT), env=env
        )
        self._buf = b""
        self.addr = ""

    def read(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"peer {self.index} did not answer within {timeout} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError(f"peer {self.index} exited ({self.proc.wait()})")
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        doc: dict[str, Any] = json.loads(line)
        return doc

    def send(self, cmd: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()

    def call(self, cmd: dict[str, Any], timeout: float = OP_TIMEOUT) -> dict[str, Any]:
        self.send(cmd)
        return self.read(timeout)

    def stop(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
            self.proc.kill()
            self.proc.wait()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_side(side: str, peers: int, ops: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    procs: list[PeerProc] = []
    t_load = time.monotonic()
    try:
        # Processes start and import their libraries first (py-libp2p: ~1 s of CPU each, 20 at once on 2
        # cores); the network is formed once all are loaded, and that is what "peers up" measures.
        procs = [PeerProc(side, i, seed * 1000 + i) for i in range(peers)]
        for p in procs:
            assert p.read(START_TIMEOUT).get("loaded")
        loaded = time.monotonic() - t_load
        t0 = time.monotonic()
        first = procs[0]
        first.send({"bootstrap": None})
        first.addr = first.read(START_TIMEOUT)["ready"]
        for p in procs[1:]:
            p.send({"bootstrap": first.addr})
        for p in procs[1:]:
            p.addr = p.read(START_TIMEOUT)["ready"]
        joined = time.monotonic() - t0
        startup_cpu = 0.0
        for p in procs:  # early joiners learn the late ones
            startup_cpu += float(p.call({"op": "refresh"}).get("cpu", 0.0))
        startup = time.monotonic() - t0
        log(f"{side}: {peers} processes loaded in {loaded:.1f} s; peers up in {startup:.1f} s")
        published: list[tuple[int, dict[str, Any]]] = []
        put_s: list[float] = []
        put_rpcs: list[int] = []
        put_ok = 0
        for i in range(ops):
            who = rng.randrange(peers)
            r = procs[who].call({"op": "put", "i": i})
            put_s.append(r["s"])
            put_rpcs.append(int(r.get("rpcs", 0)))
            put_ok += bool(r["ok"])
            published.append((who, r))
        log(f"{side}: {ops} publishes done")
        if side != "kademlia" and os.environ.get(PROFILE_PHASE_ENV) == "search":
            for p in procs:  # a peer that is not profiling just says ok
                p.call({"op": "profile"})
        get_s: list[float] = []
        get_rpcs: list[int] = []
        get_ok = 0
        for i in range(ops):
            author, r = published[i]
            who = rng.choice([j for j in range(peers) if j != author])
            g = procs[who].call({"op": "get", "key": r["key"], "id": r["id"]})
            get_s.append(g["s"])
            get_rpcs.append(int(g.get("rpcs", 0)))
            get_ok += bool(g["ok"])
        log(f"{side}: {ops} searches done")
        rpc_stats: dict[str, int] = {}
        if side != "kademlia":
            for p in procs:
                stats = p.call({"op": "stats"})["stats"]
                for name in RPC_STATS:
                    rpc_stats[name] = rpc_stats.get(name, 0) + int(stats.get(name, 0))
        ms = 1000.0
        return {
            **({"rpc": rpc_stats} if rpc_stats else {}),
            "publish_p50_ms": round(_pct(put_s, 0.5) * ms, 2),
            "publish_p95_ms": round(_pct(put_s, 0.95) * ms, 2),
            "publish_mean_ms": round(statistics.fmean(put_s) * ms, 2),
            "publish_success": round(put_ok / ops, 4),
            "search_p50_ms": round(_pct(get_s, 0.5) * ms, 2),
            "search_p95_ms": round(_pct(get_s, 0.95) * ms, 2),
            "search_mean_ms": round(statistics.fmean(get_s) * ms, 2),
            "search_success": round(get_ok / ops, 4),
            "startup_s": round(startup, 1),
            **({"startup_cpu_s": round(startup_cpu, 2)} if startup_cpu else {}),
            "join_s": round(joined, 1),
            "processes_loaded_s": round(loaded, 1),
            **(
                {
                    "publish_rpcs_median": statistics.median(put_rpcs),
                    "search_rpcs_median": statistics.median(get_rpcs),
                }
                if side != "kademlia"
                else {}
            ),
        }
    finally:
        for p in procs:
            p.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--peers", type=int, default=20)
    parser.add_argument("--ops", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--single",
        action="store_true",
        help="also run our stack with one stream per request (before kad-mux), as 'ours_single'",
    )
    parser.add_argument("--role", choices=["ours", "ours_single", "kademlia"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role in ("ours", "ours_single"):
        run_ours(args.seed, use_mux=args.role == "ours")
        return 0
    if args.role == "kademlia":
        run_kademlia(args.seed)
        return 0
    if args.peers < 2 or args.ops < 1:
        parser.error("need --peers >= 2 and --ops >= 1")
    load_before = os.getloadavg()[0]
    ours = run_side("ours", args.peers, args.ops, args.seed)
    single = run_side("ours_single", args.peers, args.ops, args.seed) if args.single else None
    theirs = run_side("kademlia", args.peers, args.ops, args.seed)
    out = {
        "bench": "net_loopback",
        "peers": args.peers,
        "ops": args.ops,
        "processes": "one OS process per peer, both sides",
        "ours": ours,
        "kademlia": theirs,
        "ratio_search_p50": round(ours["search_p50_ms"] / theirs["search_p50_ms"], 2),
        "ratio_publish_p50": round(ours["publish_p50_ms"] / theirs["publish_p50_ms"], 2),
        **(
            {
                "ours_single": single,
                "ratio_single_search_p50": round(single["search_p50_ms"] / theirs["search_p50_ms"], 2),
                "ratio_single_publish_p50": round(single["publish_p50_ms"] / theirs["publish_p50_ms"], 2),
            }
            if single is not None
            else {}
        ),
        "measured": "ours: DhtDriver.publish / get_records over libp2p TCP+Noise+yamux, signed records; "
        "kademlia: Server.set / get over UDP; timed inside the peer process, one op at a time",
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
