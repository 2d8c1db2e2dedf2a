"""SQLite (WAL) persistence of a DHT node (bootstrap nodes and agent peers): records and the routing table,
written off the event loop, with a per-sender storage quota.

Theory of operation
-------------------
``SqliteBackend`` implements ``dht.store.StoreBackend``, whose ``save``/``delete`` are called
*synchronously* by the record store (a sans-IO core) while it handles a message. They only queue the
change in memory (``pending``, one entry per record: a later change of the same record replaces an
earlier one, so the queue is bounded by the number of records). ``await commit()`` then writes
everything queued so far in **one SQLite transaction in a worker thread** (``trio.to_thread``), with
``synchronous=FULL``: the event loop keeps serving while the disk works, and a PUT of many records costs
one fsync, not one per record.

*Acknowledged means durable*: the DHT driver awaits ``commit()`` after handling a request and before
sending its reply (``StorageGuard``), so a ``kill -9`` right after an acknowledgement loses nothing.
Concurrent requests share commits (group commit): a request whose changes were already written by
someone else's commit returns at once. Deletes (expiry, eviction) ride along with the next commit, or the
periodic ``flush`` (``FLUSH_INTERVAL``); big batches are written ``BATCH_ROWS`` rows per transaction,
so one expiry sweep never holds the database for long.

A failed commit (disk full, I/O error) puts its changes back in the queue (the next commit retries
them), is counted, reported to the ``StorageObserver`` (health and metrics), and raises
``StorageError``: the request's reply becomes a soft ``busy`` error instead of an acknowledgement.

**Per-sender quota.** ``SenderQuota`` attributes every stored record to the peer that sent it (the
driver names the sender around its synchronous handling) and follows records out (deletes, expiry).
A sender holding ``max_records`` records gets ``OVER_QUOTA`` for new ones: no single peer (an agent, a
neighbour replicating, an attacker with one identity) can fill more than its share of a node.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import trio

from wire.messages import Contact, Error, PutRecords, PutResult, PutStatus

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    key BLOB NOT NULL,
    author BLOB NOT NULL,
    intent_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    stored_at REAL NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (key, author, intent_id)
);
CREATE INDEX IF NOT EXISTS records_expires ON records (expires);
CREATE TABLE IF NOT EXISTS contacts (
    pubkey BLOB PRIMARY KEY,
    addrs TEXT NOT NULL,
    seen REAL NOT NULL
);
"""

#: Rows written per SQLite transaction when a commit carries more (an expiry sweep of 100,000 records is
#: 200 short transactions, not one long one).
BATCH_ROWS = 500
#: How often queued changes nobody waits for (expiry, eviction deletes) are written.
FLUSH_INTERVAL = 1.0
#: Default share of a node one sender may fill: a tenth of its record cap, at least this many records.
MIN_RECORDS_PER_SENDER = 1000
SENDER_SHARE = 0.1
#: The soft error a PUT gets when its records could not be made durable.
STORAGE_BUSY = "busy"

_RecordId = tuple[bytes, bytes, bytes]  # (key, author, intent_id)
#: A queued change: the row to write, or None to delete.
_Row = tuple[bytes, bytes, bytes, int, int, float, bytes] | None


class StorageError(Exception):
    """A storage transaction failed (its changes stay queued for the next commit)."""


class StorageObserver(Protocol):
    """Told about every storage transaction (health, metrics)."""

    def storage_result(self, what: str, seconds: float, error: str | None) -> None: ...


@dataclass
class StorageStatistics:
    commits: int = 0
    commit_failures: int = 0
    rows_written: int = 0
    rows_deleted: int = 0
    pending: int = 0


class SenderQuota:
    """Records held per sending peer (see the module docstring).

    Args:
        max_records: records one sender may hold on this node.
    """

    def __init__(self, max_records: int) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.max_records = max_records
        self._owner: dict[_RecordId, str] = {}
        self._held: dict[str, int] = {}
        self._sender: str | None = None
        self.refused = 0

    @contextmanager
    def sender(self, peer: str | None) -> Iterator[None]:
        """Attribute the records stored inside the block to ``peer`` (None: ourselves, never counted)."""
        previous, self._sender = self._sender, peer
        try:
            yield
        finally:
            self._sender = previous

    def held(self, peer: str) -> int:
        return self._held.get(peer, 0)

    def room(self, peer: str) -> int:
        """How many more records ``peer`` may store."""
        return max(0, self.max_records - self._held.get(peer, 0))

    def stored(self, rid: _RecordId) -> None:
        owner = self._owner.get(rid)
        sender = self._sender
        if owner == sender:
            return
        if owner is not None:
            self._release(owner, rid)
        if sender is not None:
            self._owner[rid] = sender
            self._held[sender] = self._held.get(sender, 0) + 1

    def deleted(self, rid: _RecordId) -> None:
        owner = self._owner.get(rid)
        if owner is not None:
            self._release(owner, rid)

    def _release(self, owner: str, rid: _RecordId) -> None:
        del self._owner[rid]
        left = self._held[owner] - 1
        if left:
            self._held[owner] = left
        else:
            del self._held[owner]

    def statistics(self) -> dict[str, int]:
        return {"senders": len(self._held), "attributed": len(self._owner), "refused": self.refused,
                "max_per_sender": self.max_records}  # fmt: skip


def default_sender_quota(max_records: int) -> int:
    """The default per-sender quota of a node that stores up to ``max_records`` records."""
    return max(MIN_RECORDS_PER_SENDER, int(max_records * SENDER_SHARE))


class SqliteBackend:
    """Durable record and contact storage in one SQLite file (WAL mode, fsync on commit), written in a worker
    thread. See the module docstring.

    Args:
        path: the database file (created if missing).
        quota: the per-sender quota to keep up to date (optional).
        observer: told about every transaction (optional).
    """

    def __init__(
        self, path: Path, quota: SenderQuota | None = None, observer: StorageObserver | None = None
    ) -> None:
        self.path = path
        self.quota = quota
        self.observer = observer
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._pending: dict[_RecordId, _Row] = {}
        self._queued = 0  # changes queued since start (a generation counter)
        self._written = 0  # the generation the database holds
        self._lock = trio.Lock()
        self.stats = StorageStatistics()

    # -- dht.store.StoreBackend (synchronous: queue only)
    def save(
        self, key: bytes, record: bytes, author: bytes, intent_id: bytes, seq: int, expires: int,
        stored_at: float,
    ) -> None:  # fmt: skip
        rid = (key, author, intent_id)
        self._pending[rid] = (key, author, intent_id, seq, expires, stored_at, record)
        self._queued += 1
        if self.quota is not None:
            self.quota.stored(rid)

    def delete(self, key: bytes, author: bytes, intent_id: bytes) -> None:
        rid = (key, author, intent_id)
        self._pending[rid] = None
        self._queued += 1
        if self.quota is not None:
            self.quota.deleted(rid)

    def load(self) -> Iterable[tuple[bytes, bytes, float]]:
        rows = self._db.execute("SELECT key, record, stored_at FROM records ORDER BY stored_at").fetchall()
        return [(bytes(k), bytes(r), float(t)) for k, r, t in rows]

    # -- writing
    @property
    def pending(self) -> int:
        """Changes queued and not yet written."""
        return len(self._pending)

    async def commit(self) -> None:
        """Write every change queued so far, in a worker thread; return once they are durable.

        Raises:
            StorageError: the transaction failed (the changes stay queued).
        """
        wanted = self._queued
        async with self._lock:
            if self._written >= wanted:
                return  # another task's commit wrote our changes
            batch, self._pending = self._pending, {}
            generation = self._queued
            started = time.perf_counter()
            try:
                await trio.to_thread.run_sync(self._write, batch)
            except (sqlite3.Error, OSError) as exc:
                for rid, row in batch.items():
                    self._pending.setdefault(rid, row)  # newer changes win
                self.stats.commit_failures += 1
                self._report("records", started, f"{type(exc).__name__}: {exc}")
                raise StorageError(f"storing records failed: {exc}") from exc
            self._written = generation
            self.stats.commits += 1
            self._report("records", started, None)

    def _write(self, batch: dict[_RecordId, _Row]) -> None:
        """In the worker thread: the batch, ``BATCH_ROWS`` rows per transaction."""
        items = list(batch.items())
        for start in range(0, len(items), BATCH_ROWS):
            chunk = items[start : start + BATCH_ROWS]
            rows = [row for _, row in chunk if row is not None]
            gone = [rid for rid, row in chunk if row is None]
            with self._transaction():
                if rows:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO records (key, author, intent_id, seq, expires,"
                        " stored_at, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                if gone:
                    self._db.executemany(
                        "DELETE FROM records WHERE key = ? AND author = ? AND intent_id = ?", gone
                    )
            self.stats.rows_written += len(rows)
            self.stats.rows_deleted += len(gone)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _report(self, what: str, started: float, error: str | None) -> None:
        if self.observer is not None:
            self.observer.storage_result(what, time.perf_counter() - started, error)
        if error is not None:
            log.warning("storage transaction failed: %s", error)

    async def flush_forever(self, interval: float = FLUSH_INTERVAL) -> None:
        """Write queued changes nobody waits for (deletes) every ``interval`` seconds. Failures are
        reported (health) and retried at the next tick."""
        while True:
            await trio.sleep(interval)
            if self._pending:
                with contextlib.suppress(StorageError):  # reported by commit; retried next tick
                    await self.commit()

    # -- routing table
    async def save_contacts(self, contacts: Iterable[Contact], seen: float) -> None:
        """Replace the saved routing table (one transaction, in a worker thread).

        Raises:
            StorageError: the transaction failed.
        """
        rows = [(c.pubkey, "\n".join(c.addrs), seen) for c in contacts]

        def write() -> None:
            with self._transaction():
                self._db.execute("DELETE FROM contacts")
                self._db.executemany(
                    "INSERT OR REPLACE INTO contacts (pubkey, addrs, seen) VALUES (?, ?, ?)", rows
                )

        started = time.perf_counter()
        async with self._lock:
            try:
                await trio.to_thread.run_sync(write)
            except (sqlite3.Error, OSError) as exc:
                self._report("contacts", started, f"{type(exc).__name__}: {exc}")
                raise StorageError(f"saving the routing table failed: {exc}") from exc
        self._report("contacts", started, None)

    def load_contacts(self) -> list[Contact]:
        rows = self._db.execute("SELECT pubkey, addrs FROM contacts ORDER BY seen DESC").fetchall()
        return [Contact(bytes(p), [a for a in str(addrs).split("\n") if a]) for p, addrs in rows]

    def record_count(self) -> int:
        """Records in the database (written ones only)."""
        return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def statistics(self) -> StorageStatistics:
        self.stats.pending = len(self._pending)
        return self.stats

    def close(self) -> None:
        self._db.close()


#: How the driver hands a request to the node: ``handle(msg) -> reply`` (synchronous).
Handle = Callable[[Any], Any]


class StorageGuard:
    """The DHT driver's serve hook (``DhtDriver(serve_hook=...)``): per-sender quota before a PUT is
    handled, durable storage before any reply leaves, and the service time of every request.

    Args:
        backend: the node's storage.
        quota: the per-sender quota (the backend's).
        observe_rpc: told ``(message type, seconds)`` for every request served (metrics), optional.
    """

    def __init__(
        self,
        backend: SqliteBackend,
        quota: SenderQuota,
        observe_rpc: Callable[[str, float], None] | None = None,
    ) -> None:
        self.backend = backend
        self.quota = quota
        self.observe_rpc = observe_rpc

    async def __call__(self, peer_id: str, msg: Any, handle: Handle) -> Any:
        started = time.perf_counter()
        try:
            return await self._serve(peer_id, msg, handle)
        finally:
            if self.observe_rpc is not None:
                self.observe_rpc(type(msg).__name__, time.perf_counter() - started)

    async def _serve(self, peer_id: str, msg: Any, handle: Handle) -> Any:
        if not isinstance(msg, PutRecords):
            with self.quota.sender(peer_id):
                reply = handle(msg)
            if self.backend.pending:  # e.g. a lookup evicted nothing, but a GET may have expired records
                await self._commit_quietly()
            return reply
        room = self.quota.room(peer_id)
        taken = msg.records[:room]
        refused = len(msg.records) - len(taken)
        self.quota.refused += refused
        if taken:
            with self.quota.sender(peer_id):
                reply = handle(dataclasses.replace(msg, records=taken) if refused else msg)
        else:
            reply = PutResult(rid=msg.rid, statuses=[])
        try:
            await self.backend.commit()
        except StorageError:
            return Error(rid=msg.rid, code=STORAGE_BUSY, detail="storage unavailable")
        if refused and isinstance(reply, PutResult):
            reply = PutResult(rid=reply.rid, statuses=[*reply.statuses, *[PutStatus.OVER_QUOTA] * refused])
        return reply

    async def _commit_quietly(self) -> None:
        with contextlib.suppress(StorageError):  # reported (health, metrics); nothing acknowledged
            await self.backend.commit()


ServeHook = Callable[[str, Any, Handle], Awaitable[Any]]

__all__ = [
    "BATCH_ROWS",
    "FLUSH_INTERVAL",
    "SenderQuota",
    "ServeHook",
    "SqliteBackend",
    "StorageError",
    "StorageGuard",
    "StorageObserver",
    "StorageStatistics",
    "default_sender_quota",
]
