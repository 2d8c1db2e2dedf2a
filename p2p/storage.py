"""SQLite (WAL) persistence of a DHT node (bootstrap nodes and agent peers): records and the routing table.

``SqliteBackend`` implements ``dht.store.StoreBackend``: the record store calls ``save`` *before* it
acknowledges a record, and every save is committed with ``synchronous=FULL``, so a ``kill -9`` right
after an acknowledgement loses nothing. On restart, ``load`` feeds every stored record back to the
store (which re-verifies signatures and drops what has expired meanwhile).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from wire.messages import Contact

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


class SqliteBackend:
    """Durable record and contact storage in one SQLite file (WAL mode, fsync on commit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    # -- dht.store.StoreBackend
    def save(
        self,
        key: bytes,
        record: bytes,
        author: bytes,
        intent_id: bytes,
        seq: int,
        expires: int,
        stored_at: float,
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO records (key, author, intent_id, seq, expires, stored_at, record)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, author, intent_id, seq, expires, stored_at, record),
        )

    def delete(self, key: bytes, author: bytes, intent_id: bytes) -> None:
        self._db.execute(
            "DELETE FROM records WHERE key = ? AND author = ? AND intent_id = ?", (key, author, intent_id)
        )

    def load(self) -> Iterable[tuple[bytes, bytes, float]]:
        rows = self._db.execute("SELECT key, record, stored_at FROM records ORDER BY stored_at").fetchall()
        return [(bytes(k), bytes(r), float(t)) for k, r, t in rows]

    # -- routing table
    def save_contacts(self, contacts: Iterable[Contact], seen: float) -> None:
        rows = [(c.pubkey, "\n".join(c.addrs), seen) for c in contacts]
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM contacts")
            self._db.executemany(
                "INSERT OR REPLACE INTO contacts (pubkey, addrs, seen) VALUES (?, ?, ?)", rows
            )

    def load_contacts(self) -> list[Contact]:
        rows = self._db.execute("SELECT pubkey, addrs FROM contacts ORDER BY seen DESC").fetchall()
        return [Contact(bytes(p), [a for a in str(addrs).split("\n") if a]) for p, addrs in rows]

    def record_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def close(self) -> None:
        self._db.close()
