"""The agent peer's own state in SQLite (WAL) under its home: intents, matches, deals, and events.

Everything a restart must keep lives here: the signed records of our intents (to republish them), the
matches found for them, negotiation sessions with their rounds, and agreements. Each write commits
before the peer reports success to anyone.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS intents (
    id TEXT PRIMARY KEY,
    record BLOB NOT NULL,
    seq INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    expires INTEGER NOT NULL,
    replicas INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS matches (
    id TEXT PRIMARY KEY,
    intent_id TEXT NOT NULL,
    other_record BLOB NOT NULL,
    other_author TEXT NOT NULL,
    score REAL NOT NULL,
    distance_km REAL,
    explanation TEXT NOT NULL,
    state TEXT NOT NULL,
    announced INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deals (
    id TEXT PRIMARY KEY,
    match_id TEXT,
    role TEXT NOT NULL,
    counterparty TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    agreement BLOB,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS private (
    intent_id TEXT PRIMARY KEY,
    reservation INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (
    key BLOB PRIMARY KEY,
    since INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class MatchRow:
    id: str
    intent_id: str
    other_record: bytes
    other_author: str
    score: float
    distance_km: float | None
    explanation: dict[str, Any]
    state: str
    announced: bool
    created: float


@dataclass(frozen=True)
class DealRow:
    id: str
    match_id: str | None
    role: str
    counterparty: str
    state: str
    data: dict[str, Any]
    agreement: bytes | None
    created: float
    updated: float


class AgentDB:
    """Small typed accessors over one SQLite file (``synchronous=FULL``: a commit is durable)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # ---------------------------------------------------------------------------------------- intents

    def save_intent(
        self, intent_id: str, record: bytes, seq: int, withdrawn: bool, expires: int, now: float
    ) -> None:
        self._db.execute(
            "INSERT INTO intents (id, record, seq, withdrawn, expires, created) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET record = excluded.record, seq = excluded.seq,"
            " withdrawn = excluded.withdrawn, expires = excluded.expires",
            (intent_id, record, seq, int(withdrawn), expires, now),
        )

    def set_replicas(self, intent_id: str, replicas: int) -> None:
        self._db.execute("UPDATE intents SET replicas = ? WHERE id = ?", (replicas, intent_id))

    def intents(self) -> list[tuple[str, bytes, int]]:
        """(id, record, replicas) of every intent, newest first."""
        rows = self._db.execute("SELECT id, record, replicas FROM intents ORDER BY created DESC").fetchall()
        return [(str(i), bytes(r), int(n)) for i, r, n in rows]

    def intent_record(self, intent_id: str) -> bytes | None:
        row = self._db.execute("SELECT record FROM intents WHERE id = ?", (intent_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_reservation(self, intent_id: str, reservation_minor: int) -> None:
        """The human's private limit for an intent (unit price, minor units). Never leaves this file."""
        self._db.execute(
            "INSERT OR REPLACE INTO private (intent_id, reservation) VALUES (?, ?)",
            (intent_id, reservation_minor),
        )

    def reservation(self, intent_id: str) -> int | None:
        row = self._db.execute("SELECT reservation FROM private WHERE intent_id = ?", (intent_id,)).fetchone()
        return None if row is None else int(row[0])

    # ---------------------------------------------------------------------------------------- matches

    def save_match(self, m: MatchRow) -> bool:
        """Insert a match; False if it was already known (same id)."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO matches (id, intent_id, other_record, other_author, score, distance_km,"
            " explanation, state, announced, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                m.id, m.intent_id, m.other_record, m.other_author, m.score, m.distance_km,
                json.dumps(m.explanation), m.state, int(m.announced), m.created,
            ),
        )  # fmt: skip
        return cur.rowcount == 1

    def update_match(self, match_id: str, *, state: str | None = None, announced: bool | None = None) -> None:
        if state is not None:
            self._db.execute("UPDATE matches SET state = ? WHERE id = ?", (state, match_id))
        if announced is not None:
            self._db.execute("UPDATE matches SET announced = ? WHERE id = ?", (int(announced), match_id))

    def matches(self, intent_id: str | None = None) -> list[MatchRow]:
        sql = "SELECT * FROM matches"
        args: tuple[Any, ...] = ()
        if intent_id is not None:
            sql += " WHERE intent_id = ?"
            args = (intent_id,)
        rows = self._db.execute(sql + " ORDER BY score DESC, created", args).fetchall()
        return [self._match(r) for r in rows]

    def match(self, match_id: str) -> MatchRow | None:
        row = self._db.execute("SELECT * FROM matches WHERE id = ?", (match_id,)).fetchone()
        return None if row is None else self._match(row)

    @staticmethod
    def _match(r: tuple[Any, ...]) -> MatchRow:
        return MatchRow(
            str(r[0]), str(r[1]), bytes(r[2]), str(r[3]), float(r[4]),
            None if r[5] is None else float(r[5]), json.loads(r[6]), str(r[7]), bool(r[8]), float(r[9]),
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------ deals

    def save_deal(self, d: DealRow) -> None:
        self._db.execute(
            "INSERT INTO deals (id, match_id, role, counterparty, state, data, agreement, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state,"
            " data = excluded.data, agreement = excluded.agreement, updated = excluded.updated",
            (d.id, d.match_id, d.role, d.counterparty, d.state, json.dumps(d.data), d.agreement,
             d.created, d.updated),
        )  # fmt: skip

    def deals(self) -> list[DealRow]:
        rows = self._db.execute("SELECT * FROM deals ORDER BY created").fetchall()
        return [self._deal(r) for r in rows]

    def deal(self, deal_id: str) -> DealRow | None:
        row = self._db.execute("SELECT * FROM deals WHERE id = ?", (deal_id,)).fetchone()
        return None if row is None else self._deal(row)

    @staticmethod
    def _deal(r: tuple[Any, ...]) -> DealRow:
        return DealRow(
            str(r[0]), None if r[1] is None else str(r[1]), str(r[2]), str(r[3]), str(r[4]),
            json.loads(r[5]), None if r[6] is None else bytes(r[6]), float(r[7]), float(r[8]),
        )  # fmt: skip

    # ---------------------------------------------------------------------------------------- cursors

    def cursor(self, key: bytes) -> int:
        row = self._db.execute("SELECT since FROM cursors WHERE key = ?", (key,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_cursor(self, key: bytes, since: int) -> None:
        self._db.execute(
            "INSERT INTO cursors (key, since) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET since = excluded.since",
            (key, since),
        )
