"""Storage off the event loop (one transaction per PUT, in a worker thread; batched deletes; a failed write
kept and retried), the per-sender quota, and the health monitor (storage, event-loop lag, the listener
probe, ``/healthz`` and ``/readyz``). In-process, no network except our own listener."""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import trio

from bootstrap.metrics import Metrics, MetricsServer
from dht.config import DhtConfig
from dht.keys import intent_key
from dht.store import RecordStore
from p2p.health import Health, probe_listener
from p2p.host import open_host
from p2p.storage import BATCH_ROWS, SenderQuota, SqliteBackend, StorageError, StorageGuard
from tests.net_helpers import raw
from wire.identity import Identity
from wire.messages import Error, GetRecords, PutRecords, PutResult, PutStatus, Records

NOW = time.time()


def _records(n: int, seed: int = 0) -> tuple[bytes, list[bytes]]:
    """``n`` signed records under one key (16 authors at most per key: one record per author)."""
    key = b""
    out = []
    for i in range(n):
        author = Identity(bytes([seed + 1, i % 250 + 1]) * 16)
        intent = raw.make_intent(author, NOW, text=f"tires {seed}/{i}")
        key = intent_key(intent.category, intent.cell)
        out.append(raw.sealed(author, intent))
    return key, out


class Observer:
    def __init__(self) -> None:
        self.results: list[tuple[str, str | None]] = []

    def storage_result(self, what: str, seconds: float, error: str | None) -> None:
        self.results.append((what, error))


def _node_handle(store: RecordStore) -> Any:
    def handle(msg: Any) -> Any:
        if isinstance(msg, PutRecords):
            return PutResult(msg.rid, [store.put(msg.key, r, NOW) for r in msg.records])
        assert isinstance(msg, GetRecords)
        records, cursor = store.get(msg.key, NOW)
        return Records(msg.rid, records, cursor, [])

    return handle


def test_a_put_of_many_records_is_one_transaction_in_a_worker_thread(tmp_path: Path) -> None:
    config = DhtConfig(max_records_per_author_per_key=16, max_records_per_key=1024)
    backend = SqliteBackend(tmp_path / "dht.sqlite", quota=SenderQuota(1000))
    store = RecordStore(backend, config)
    threads: list[int] = []
    write = backend._write

    def spy(batch: Any) -> None:
        threads.append(threading.get_ident())
        write(batch)

    backend._write = spy  # type: ignore[method-assign]
    key, records = _records(12)
    guard = StorageGuard(backend, backend.quota)  # type: ignore[arg-type]

    async def main() -> Any:
        return await guard("peerA", PutRecords(7, key, records), _node_handle(store))

    reply = trio.run(main)
    assert reply == PutResult(7, [PutStatus.STORED] * 12)
    assert backend.stats.commits == 1 and backend.stats.rows_written == 12
    assert threads and threads[0] != threading.get_ident()  # not on the event loop's thread
    backend.close()
    again = SqliteBackend(tmp_path / "dht.sqlite")  # durable: a fresh connection sees them
    assert again.record_count() == 12
    again.close()


def test_concurrent_commits_share_one_transaction(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "dht.sqlite")
    store = RecordStore(backend, DhtConfig())
    _, records = _records(6, seed=3)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for record in records:
                key = intent_key(*_cell_of(record))
                store.put(key, record, NOW)
                nursery.start_soon(backend.commit)

    trio.run(main)
    assert backend.record_count() == 6
    assert backend.stats.commits == 1  # the first commit wrote everyone's changes
    backend.close()


def _cell_of(record: bytes) -> tuple[str, str]:
    from wire.envelope import open_intent

    _, intent = open_intent(record)
    return intent.category, intent.cell


def test_deletes_go_in_batches_and_a_failed_write_is_kept_and_retried(tmp_path: Path) -> None:
    observer = Observer()
    backend = SqliteBackend(tmp_path / "dht.sqlite", observer=observer)
    n = 2 * BATCH_ROWS + 50
    for i in range(n):
        backend.save(b"k" * 32, b"r", i.to_bytes(32, "big"), b"i" * 16, 1, int(NOW) + 3600, NOW)
    begins: list[str] = []
    backend._db.set_trace_callback(lambda sql: begins.append(sql) if sql.startswith("BEGIN") else None)
    trio.run(backend.commit)
    assert len(begins) == 3 and backend.record_count() == n
    for i in range(n):
        backend.delete(b"k" * 32, i.to_bytes(32, "big"), b"i" * 16)

    def broken(batch: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    good = backend._write
    backend._write = broken  # type: ignore[method-assign]
    with pytest.raises(StorageError):
        trio.run(backend.commit)
    assert backend.pending == n and observer.results[-1] == ("records", "OperationalError: disk I/O error")
    backend._write = good  # type: ignore[method-assign]
    begins.clear()
    trio.run(backend.commit)
    assert backend.record_count() == 0 and backend.pending == 0 and len(begins) == 3
    assert observer.results[-1] == ("records", None)
    backend.close()


def test_a_failed_write_is_never_acknowledged(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "dht.sqlite", quota=SenderQuota(100))
    store = RecordStore(backend, DhtConfig())
    backend._write = lambda batch: (_ for _ in ()).throw(sqlite3.OperationalError("database or disk is full"))  # type: ignore[method-assign]
    key, records = _records(3, seed=5)
    guard = StorageGuard(backend, backend.quota)  # type: ignore[arg-type]

    async def main() -> Any:
        return await guard("peerA", PutRecords(9, key, records), _node_handle(store))

    reply = trio.run(main)
    assert isinstance(reply, Error) and reply.rid == 9 and reply.code == "busy"
    backend.close()


def test_per_sender_quota_refuses_the_excess_and_frees_room_when_records_leave(tmp_path: Path) -> None:
    quota = SenderQuota(4)
    backend = SqliteBackend(tmp_path / "dht.sqlite", quota=quota)
    store = RecordStore(backend, DhtConfig())
    guard = StorageGuard(backend, quota)
    key, records = _records(6, seed=7)
    handle = _node_handle(store)

    async def put(sender: str, recs: list[bytes]) -> Any:
        return await guard(sender, PutRecords(1, key, recs), handle)

    reply = trio.run(put, "greedy", records)
    assert reply.statuses == [PutStatus.STORED] * 4 + [PutStatus.OVER_QUOTA] * 2
    assert quota.held("greedy") == 4 and quota.refused == 2
    assert trio.run(put, "greedy", records[4:]).statuses == [PutStatus.OVER_QUOTA] * 2
    assert trio.run(put, "other", records[4:]).statuses == [PutStatus.STORED] * 2  # others unaffected
    assert quota.held("other") == 2
    assert store.expire(NOW + 10 * 86400) == 6  # records leave: their senders get the room back
    assert quota.held("greedy") == 0 and quota.held("other") == 0
    backend.close()


def test_health_reports_storage_failures_lag_and_stalls() -> None:
    clock = [100.0]
    health = Health(lag_threshold=0.2, clock=lambda: clock[0])
    assert health.problems() == []
    health.storage_result("records", 0.01, "OperationalError: disk I/O error")
    assert health.problems() == ["storage writes failing (records): OperationalError: disk I/O error"]
    health.storage_result("records", 0.01, None)
    assert health.problems() == []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(health.run)
            await trio.sleep(0.3)
            time.sleep(0.5)  # block the event loop
            await trio.sleep(0.3)
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert any(p.startswith("event loop lagged") for p in health.problems()), health.problems()
    clock[0] += 5.0  # no heartbeat for 5 s, as a stuck loop would look from the HTTP thread
    assert any(p.startswith("event loop stalled") for p in health.problems())


def test_listener_probe_and_the_health_endpoints() -> None:
    metrics = Metrics()
    health = Health(observer=metrics)
    ready: list[str | None] = ["the routing table is empty"]
    server = MetricsServer(metrics, "127.0.0.1", 0, health=health.problems, ready=lambda: ready[0])
    server.start()

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    async def main() -> None:
        async with open_host(Identity(bytes([0x55]) * 32)) as host:
            assert await probe_listener(host) is None
            stats = host.connection_statistics()
            assert stats.refused == {} and stats.admitted_inbound == 0  # the probe is not counted
            for listener in list(host.libp2p_host.get_network().listeners.values()):
                await listener.close()
            problem = await probe_listener(host, timeout=1.0)
            assert problem is not None and "listener" in problem
            health._listener_problem = problem

    try:
        assert get("/healthz") == (200, "ok\n")
        assert get("/readyz") == (503, "not ready: the routing table is empty\n")
        ready[0] = None
        assert get("/readyz") == (200, "ready\n")
        trio.run(main)
        code, body = get("/healthz")
        assert code == 503 and body.startswith("unhealthy\nlistener on 127.0.0.1:")
        assert "metaspace_healthy 0.0" in get("/metrics")[1]
    finally:
        server.close()
