"""The Python client of ``bench/soak_bootstrap.py``: churn against one node from outside, one JSON line.

Each of ``--parallel`` sessions loops until the process's connection budget or ``--seconds`` runs out:
build a ``P2PHost`` with a *fresh identity*, connect (TCP + Noise + yamux), send
``--rpcs-per-connection`` RPCs in the order PUT_RECORDS (the next
version of a signed intent from a pool of ``--authors`` authors at random places, so keys spread and
the node's store stops growing once every author has published), GET_RECORDS of that key (that very
version must come back; pages are followed), PING, FIND_NODE, ... — then shut the host down (the connection
closes). Requests carry no listen addresses, so the node never adds the client to its routing table.

``--protocol mux`` (the default) sends them as our own agents do (``p2p.rpc_client.RpcClient``: one
long-lived ``/metaspace/kad-mux/1.0.0`` stream per connection); ``--protocol single`` opens a
``/metaspace/kad/1.0.0`` stream per request, as js-libp2p clients and peers before multiplexing do.

An operation counts as answered when every request/reply of it got the expected reply type with the
request's id; each request/reply is timed (stream open included). Prints a progress line every
``PROGRESS_S`` and, at the end, one JSON line (ClientStats). SIGTERM ends the run early (cleanly).

    python bench/soak_client.py MULTIADDR --seconds 60 --max-connections 500 [--parallel 2] ...
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # Run as a script, bench/ comes first on the path, and bench/wire.py would shadow the wire package.
    _here = (ROOT, ROOT / "bench")
    sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() not in _here)]

#: One request/reply (stream open + request + reply) and one dial.
RPC_TIMEOUT_S = 10.0
DIAL_TIMEOUT_S = 10.0
#: GET pages followed looking for our own record (keys are spread: one page is the norm).
MAX_GET_PAGES = 8
#: Distinct error texts kept per client for the report.
MAX_ERRORS = 20
#: A progress line (``{"progress": {...counts}}``) every this many seconds.
PROGRESS_S = 10.0


def signed_record(rng: random.Random, now: float) -> tuple[bytes, bytes]:
    """A freshly signed SELL intent by a fresh author at a random place: ``(dht key, record)``."""
    key, record, _new = AuthorPool(rng, 1).next_record(now)
    return key, record


class AuthorPool:
    """``size`` authors, each with one intent at a random place, republished with a higher seq in turn.

    The node keeps one record per author (a PUT replaces the previous version), so after warm-up its
    store stops growing and RSS growth measures leaks, not data.
    """

    def __init__(self, rng: random.Random, size: int) -> None:
        self._rng = rng
        self._size = size
        self._intents: list[tuple[Any, Any]] = []  # (Identity, Intent)
        self._next = 0

    def next_record(self, now: float) -> tuple[bytes, bytes, bool]:
        """The next author's next version: ``(dht key, record, is_new)`` (new: seq 1, its first PUT)."""
        from dht.keys import intent_key
        from wire.envelope import seal_intent
        from wire.geo import cell_at
        from wire.identity import Identity
        from wire.intent import Action, Intent, Price

        n = self._next % self._size
        self._next += 1
        if n == len(self._intents):
            author = Identity(self._rng.randbytes(32))
            created = int(now)
            intent = Intent(
                id=hashlib.sha256(self._rng.randbytes(16)).digest()[:16],
                author=author.pubkey,
                seq=1,
                action=Action.SELL,
                category="vehicles/tires",
                attributes={"size": "225/65R17"},
                price=Price(8000, "USD"),
                quantity=4,
                cell=cell_at(self._rng.uniform(-60.0, 70.0), self._rng.uniform(-180.0, 180.0), 7),
                radius_km=50,
                created=created,
                expires=created + 86400,
                text="four used tires",
                lang="en",
            )
            self._intents.append((author, intent))
            is_new = True
        else:
            author, old = self._intents[n]
            intent = dataclasses.replace(old, seq=old.seq + 1)
            self._intents[n] = (author, intent)
            is_new = False
        return intent_key(intent.category, intent.cell), seal_intent(author, intent), is_new


@dataclass
class ClientStats:
    """What one client process saw; printed as its one JSON line."""

    kind: str = "python"
    protocol: str = "mux"
    connections: int = 0
    refused: int = 0
    rpcs: int = 0
    rpc_failures: int = 0
    get_misses: int = 0
    replies: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def error(self, text: str) -> None:
        """Count one error (the first ``MAX_ERRORS`` distinct texts are kept)."""
        text = text[:300]
        if text in self.errors or len(self.errors) < MAX_ERRORS:
            self.errors[text] = self.errors.get(text, 0) + 1


@dataclass
class Budget:
    """What the sessions of one process may still do: connections left, a deadline, a stop request."""

    connections: int
    deadline: float
    stopped: bool = False

    def take(self) -> bool:
        """One more connection? (Counts it.)"""
        if self.stopped or self.connections <= 0 or time.monotonic() >= self.deadline:
            return False
        self.connections -= 1
        return True


async def client_session(
    addr: str, stats: ClientStats, budget: Budget, rpcs: int, rng: random.Random, authors: int,
    mux: bool = True,
) -> None:  # fmt: skip
    """Connect with fresh identities until the shared ``budget`` runs out or is stopped; the records
    PUT come from a pool of ``authors`` authors (see :class:`AuthorPool`); ``mux``: requests on the
    multiplexed protocol (else one stream each)."""
    import trio

    from p2p.dht_driver import KAD_MUX_PROTOCOL, KAD_PROTOCOL
    from p2p.host import P2PError, open_host, split_peer_multiaddr
    from p2p.rpc_client import RpcClient
    from wire.errors import RemoteProtocolError
    from wire.identity import Identity
    from wire.messages import (
        FindNode,
        GetRecords,
        Nodes,
        Ping,
        Pong,
        PutRecords,
        PutResult,
        PutStatus,
        Records,
        decode_message,
        encode_message,
    )

    peer_id = split_peer_multiaddr(addr)[0]
    pool = AuthorPool(rng, authors)

    async def call(client: RpcClient, msg: Any, expect: type) -> Any:
        start = time.perf_counter()
        raw = await client.request(peer_id, encode_message(msg), timeout=RPC_TIMEOUT_S)
        ms = (time.perf_counter() - start) * 1000.0
        reply = decode_message(raw)
        name = type(reply).__name__.upper()
        stats.replies[name] = stats.replies.get(name, 0) + 1
        if not isinstance(reply, expect) or getattr(reply, "rid", None) != msg.rid:
            raise RemoteProtocolError(f"{type(msg).__name__} answered {reply!r}"[:200])
        stats.latencies_ms.append(round(ms, 2))
        return reply

    while budget.take():
        try:
            async with open_host(Identity(rng.randbytes(32))) as host, trio.open_nursery() as nursery:
                client = RpcClient(host, KAD_MUX_PROTOCOL, KAD_PROTOCOL, use_mux=mux)
                await nursery.start(client.run)
                try:
                    await host.connect(addr, timeout=DIAL_TIMEOUT_S)
                except P2PError as exc:
                    stats.refused += 1
                    stats.error(f"dial: {exc}")
                    nursery.cancel_scope.cancel()
                    continue
                stats.connections += 1
                key, record = b"", b""
                for i in range(rpcs):
                    rid = rng.getrandbits(64)
                    try:
                        if i % 4 == 0:
                            key, record, is_new = pool.next_record(time.time())
                            put = await call(client, PutRecords(rid, key, [record]), PutResult)
                            expected = PutStatus.STORED if is_new else PutStatus.REPLACED
                            if list(put.statuses) != [expected]:
                                raise RemoteProtocolError(f"PUT: {put.statuses!r}, expected {expected!r}")
                        elif i % 4 == 1:
                            cursor, found = None, False
                            for _page in range(MAX_GET_PAGES):
                                get = GetRecords(rng.getrandbits(64), key, cursor=cursor)
                                got = await call(client, get, Records)
                                found = record in got.records
                                cursor = got.cursor
                                if found or cursor is None:
                                    break
                            if not found:
                                stats.get_misses += 1
                                stats.error("GET did not return the record just PUT")
                        elif i % 4 == 2:
                            await call(client, Ping(rid), Pong)
                        else:
                            await call(client, FindNode(rid, rng.randbytes(32)), Nodes)
                        stats.rpcs += 1
                    except (P2PError, RemoteProtocolError) as exc:
                        stats.rpc_failures += 1
                        stats.error(f"rpc: {exc}")
                nursery.cancel_scope.cancel()
        except* P2PError as group:  # our own host could not start (e.g. no free port)
            stats.error(f"host: {group.exceptions[0]}")
        await trio.sleep(0)


def run_client(
    addr: str, seconds: float, max_connections: int, rpcs: int, parallel: int, authors: int = 32,
    mux: bool = True,
) -> None:  # fmt: skip
    """``parallel`` sessions share ``max_connections`` and ``seconds``; print progress, then the stats.

    SIGTERM stops the sessions after their current connection (the stats are still printed).
    """
    import trio

    stats = ClientStats(protocol="mux" if mux else "single")
    budget = Budget(max_connections, time.monotonic() + seconds)

    async def stop_on_sigterm() -> None:
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _signum in signals:
                budget.stopped = True

    async def progress() -> None:
        while True:
            await trio.sleep(PROGRESS_S)
            counts = {k: getattr(stats, k) for k in ("connections", "refused", "rpcs", "rpc_failures")}
            print(json.dumps({"progress": counts}), flush=True)

    async def run() -> None:
        async with trio.open_nursery() as outer:
            outer.start_soon(stop_on_sigterm)
            outer.start_soon(progress)
            async with trio.open_nursery() as nursery:
                for _session in range(parallel):
                    # Seeded from the OS: identities and records must never repeat, not even across runs
                    # against a node that kept its data.
                    rng = random.Random(os.urandom(16))
                    nursery.start_soon(client_session, addr, stats, budget, rpcs, rng, authors, mux)
            outer.cancel_scope.cancel()

    trio.run(run)
    print(json.dumps(asdict(stats)), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("addr", metavar="MULTIADDR", help="the node, /ip4/.../tcp/.../p2p/<peer id>")
    p.add_argument("--seconds", type=float, required=True, help="stop starting connections after this")
    p.add_argument("--max-connections", type=int, required=True, help="connection budget of this process")
    p.add_argument("--rpcs-per-connection", type=int, default=8)
    p.add_argument("--parallel", type=int, default=2, help="concurrent sessions")
    p.add_argument("--authors", type=int, default=32, help="record authors per session (bounds the store)")
    p.add_argument("--protocol", choices=("mux", "single"), default="mux", help="mux: as our agents")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.max_connections < 0 or args.rpcs_per_connection < 1 or args.parallel < 1:
        p.error("--seconds > 0, --max-connections >= 0, --rpcs-per-connection >= 1, --parallel >= 1")
    run_client(
        args.addr,
        args.seconds,
        args.max_connections,
        args.rpcs_per_connection,
        args.parallel,
        args.authors,
        args.protocol == "mux",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
