"""The agent peer's own state in SQLite (WAL) under its home: intents, matches, deals, and events.

Everything a restart must keep lives here: the signed records of our intents (to republish them), the
matches found for them, negotiation sessions with their rounds, and agreements. Each write commits
(``synchronous=FULL``: durable) before the peer reports success to anyone — and, for negotiations,
before the message that commits us is sent (see ``negotiation.types.Checkpoint``).

Agreements are append-only: the ``agreements`` table takes INSERTs only (triggers refuse UPDATE and
DELETE), a second insert for a deal must carry the same bytes, and a deal row's legacy ``agreement``
column can be set once and never changed or cleared. A deal row is created once (a known session id
is refused) and an AGREED deal never changes state again.
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
    created REAL NOT NULL,
    other_expires REAL
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
CREATE TABLE IF NOT EXISTS agreements (
    deal_id TEXT PRIMARY KEY,
    agreement BLOB NOT NULL,
    buyer_signature BLOB,
    seller_signature BLOB,
    created REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS agreements_no_update BEFORE UPDATE ON agreements
BEGIN SELECT RAISE(ABORT, 'agreements are append-only'); END;
CREATE TRIGGER IF NOT EXISTS agreements_no_delete BEFORE DELETE ON agreements
BEGIN SELECT RAISE(ABORT, 'agreements are append-only'); END;
CREATE TRIGGER IF NOT EXISTS deals_agreement_write_once BEFORE UPDATE OF agreement ON deals
WHEN OLD.agreement IS NOT NULL AND (NEW.agreement IS NULL OR NEW.agreement != OLD.agreement)
BEGIN SELECT RAISE(ABORT, 'a deal''s agreement is never changed or cleared'); END;
CREATE TABLE IF NOT EXISTS cursors (
    key BLOB PRIMARY KEY,
    since INTEGER NOT NULL
);
"""


_DEAL_COLS = "id, match_id, role, counterparty, state, data, created, updated"
_MATCH_COLS = (
    "id, intent_id, other_record, other_author, score, distance_km, explanation, state, announced, created,"
    " other_expires"
)
#: Matches stored per intent of ours; past it a new match replaces the weakest untouched ("new") one if
#: it scores higher, else it is not stored (many identities can publish matching intents).
MAX_MATCHES_STORED_PER_INTENT = 200
#: A match whose other intent expired this long ago leaves the database, unless a deal came of it
#: (state "negotiating" or "agreed").
MATCH_RETENTION_S = 30 * 86400.0
#: Failed deals (no agreement) are kept this long after their last change, and at most this many.
FAILED_DEAL_RETENTION_S = 30 * 86400.0
MAX_FAILED_DEALS = 5000
#: Match states a deal came of: never pruned.
_KEPT_MATCH_STATES = ("negotiating", "agreed")


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
    other_expires: float | None = None


@dataclass(frozen=True)
class DealRow:
    """One negotiation (its id is the session id). The agreement lives in :class:`AgreementRow`."""

    id: str
    match_id: str | None
    role: str
    counterparty: str
    state: str
    data: dict[str, Any]
    created: float
    updated: float


@dataclass(frozen=True)
class AgreementRow:
    """A co-signed agreement: canonical bytes and both signatures (None only for legacy rows)."""

    deal_id: str
    agreement: bytes
    buyer_signature: bytes | None
    seller_signature: bytes | None
    created: float


@dataclass(frozen=True)
class PrivateLimit:
    """The human's private limit of an intent (unit price, minor units). ``currency`` None: legacy
    row written before currencies were recorded."""

    amount_minor: int
    currency: str | None


class AppendOnlyError(Exception):
    """An attempt to change or remove a stored agreement (or to store another one for a deal)."""


def open_db(path: Path | None, schema: str) -> sqlite3.Connection:
    """Open (creating it and its folder) one of the agent's SQLite files: WAL, ``synchronous=FULL`` (a commit
    is durable before we act on it), autocommit, usable from worker threads; ``schema`` applied.

    Args:
        path: the database file; None keeps it in memory (for an agent built without a home).
        schema: ``CREATE ... IF NOT EXISTS`` statements.

    Returns:
        The connection.
    """
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        ":memory:" if path is None else str(path), isolation_level=None, check_same_thread=False
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db


class AgentDB:
    """Small typed accessors over one SQLite file (``synchronous=FULL``: a commit is durable)."""

    def __init__(self, path: Path) -> None:
        self._db = open_db(path, _SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring an older file up to the current schema (idempotent)."""
        cols = {str(r[1]) for r in self._db.execute("PRAGMA table_info(private)")}
        if "currency" not in cols:
            self._db.execute("ALTER TABLE private ADD COLUMN currency TEXT")
        match_cols = {str(r[1]) for r in self._db.execute("PRAGMA table_info(matches)")}
        if "other_expires" not in match_cols:
            self._db.execute("ALTER TABLE matches ADD COLUMN other_expires REAL")
        legacy = self._db.execute(
            "SELECT d.id, d.agreement, d.data, d.updated FROM deals d LEFT JOIN agreements a"
            " ON a.deal_id = d.id WHERE d.agreement IS NOT NULL AND a.deal_id IS NULL"
        ).fetchall()
        for deal_id, blob, data, updated in legacy:
            sigs = json.loads(data).get("signatures") or {}
            buyer, seller = sigs.get("buyer"), sigs.get("seller")
            self._db.execute(
                "INSERT OR IGNORE INTO agreements VALUES (?, ?, ?, ?, ?)",
                (deal_id, blob, bytes.fromhex(buyer) if buyer else None,
                 bytes.fromhex(seller) if seller else None, updated),
            )  # fmt: skip

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

    def set_reservation(self, intent_id: str, reservation_minor: int, currency: str | None = None) -> None:
        """The human's private limit for an intent (unit price, minor units, and its currency). Never
        leaves this file."""
        self._db.execute(
            "INSERT OR REPLACE INTO private (intent_id, reservation, currency) VALUES (?, ?, ?)",
            (intent_id, reservation_minor, currency),
        )

    def reservation(self, intent_id: str) -> int | None:
        limit = self.private_limit(intent_id)
        return None if limit is None else limit.amount_minor

    def private_limit(self, intent_id: str) -> PrivateLimit | None:
        """The private limit of an intent with its currency, or None if the human set none."""
        row = self._db.execute(
            "SELECT reservation, currency FROM private WHERE intent_id = ?", (intent_id,)
        ).fetchone()
        return None if row is None else PrivateLimit(int(row[0]), None if row[1] is None else str(row[1]))

    # ---------------------------------------------------------------------------------------- matches

    def save_match(self, m: MatchRow, max_per_intent: int = MAX_MATCHES_STORED_PER_INTENT) -> bool:
        """Insert a match; False if it was already known (same id) or if its intent already has
        ``max_per_intent`` matches and none untouched ("new") scores lower (that one is replaced)."""
        row = (
            m.id, m.intent_id, m.other_record, m.other_author, m.score, m.distance_km,
            json.dumps(m.explanation), m.state, int(m.announced), m.created, m.other_expires,
        )  # fmt: skip
        self._db.execute("BEGIN IMMEDIATE")
        try:
            stored = self._save_match_in_transaction(m, row, max_per_intent)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return stored

    def _save_match_in_transaction(self, m: MatchRow, row: tuple[Any, ...], max_per_intent: int) -> bool:
        if self._db.execute("SELECT 1 FROM matches WHERE id = ?", (m.id,)).fetchone() is not None:
            return False
        (count,) = self._db.execute(
            "SELECT COUNT(*) FROM matches WHERE intent_id = ?", (m.intent_id,)
        ).fetchone()
        if count >= max_per_intent:
            weakest = self._db.execute(
                "SELECT id, score FROM matches WHERE intent_id = ? AND state = 'new'"
                " ORDER BY score, created LIMIT 1",
                (m.intent_id,),
            ).fetchone()
            if weakest is None or float(weakest[1]) >= m.score:
                return False
            self._db.execute("DELETE FROM matches WHERE id = ?", (weakest[0],))
        self._db.execute(f"INSERT INTO matches ({_MATCH_COLS}) VALUES ({', '.join('?' * 11)})", row)
        return True

    def update_match(self, match_id: str, *, state: str | None = None, announced: bool | None = None) -> None:
        if state is not None:
            self._db.execute("UPDATE matches SET state = ? WHERE id = ?", (state, match_id))
        if announced is not None:
            self._db.execute("UPDATE matches SET announced = ? WHERE id = ?", (int(announced), match_id))

    def matches(self, intent_id: str | None = None) -> list[MatchRow]:
        sql = f"SELECT {_MATCH_COLS} FROM matches"
        args: tuple[Any, ...] = ()
        if intent_id is not None:
            sql += " WHERE intent_id = ?"
            args = (intent_id,)
        rows = self._db.execute(sql + " ORDER BY score DESC, created", args).fetchall()
        return [self._match(r) for r in rows]

    def match(self, match_id: str) -> MatchRow | None:
        row = self._db.execute(f"SELECT {_MATCH_COLS} FROM matches WHERE id = ?", (match_id,)).fetchone()
        return None if row is None else self._match(row)

    @staticmethod
    def _match(r: tuple[Any, ...]) -> MatchRow:
        return MatchRow(
            str(r[0]), str(r[1]), bytes(r[2]), str(r[3]), float(r[4]),
            None if r[5] is None else float(r[5]), json.loads(r[6]), str(r[7]), bool(r[8]), float(r[9]),
            None if r[10] is None else float(r[10]),
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------ deals

    def create_deal(self, d: DealRow) -> bool:
        """Insert a new deal; False (nothing written) if its id is already known — a replayed or
        colliding session id never touches the deal that has it."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO deals (id, match_id, role, counterparty, state, data, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (d.id, d.match_id, d.role, d.counterparty, d.state, json.dumps(d.data), d.created, d.updated),
        )
        return cur.rowcount == 1

    def save_deal(self, deal_id: str, state: str, data: dict[str, Any], updated: float) -> None:
        """Update a deal's state and data (durable on return). An AGREED deal keeps its state."""
        self._db.execute(
            "UPDATE deals SET state = CASE WHEN state = 'AGREED' THEN state ELSE ? END, data = ?,"
            " updated = ? WHERE id = ?",
            (state, json.dumps(data), updated, deal_id),
        )

    def deals(self) -> list[DealRow]:
        rows = self._db.execute(f"SELECT {_DEAL_COLS} FROM deals ORDER BY created").fetchall()
        return [self._deal(r) for r in rows]

    def deal(self, deal_id: str) -> DealRow | None:
        row = self._db.execute(f"SELECT {_DEAL_COLS} FROM deals WHERE id = ?", (deal_id,)).fetchone()
        return None if row is None else self._deal(row)

    @staticmethod
    def _deal(r: tuple[Any, ...]) -> DealRow:
        return DealRow(
            str(r[0]), None if r[1] is None else str(r[1]), str(r[2]), str(r[3]), str(r[4]),
            json.loads(r[5]), float(r[6]), float(r[7]),
        )  # fmt: skip

    # ------------------------------------------------------------------------------------- agreements

    def add_agreement(self, a: AgreementRow) -> None:
        """Store a co-signed agreement (durable on return). Storing the same one again is a no-op.

        Raises:
            AppendOnlyError: the deal already has a different agreement.
        """
        cur = self._db.execute(
            "INSERT OR IGNORE INTO agreements"
            " (deal_id, agreement, buyer_signature, seller_signature, created) VALUES (?, ?, ?, ?, ?)",
            (a.deal_id, a.agreement, a.buyer_signature, a.seller_signature, a.created),
        )
        if cur.rowcount == 1:
            return
        old = self.agreement(a.deal_id)
        if old is None or (old.agreement, old.buyer_signature, old.seller_signature) != (
            a.agreement,
            a.buyer_signature,
            a.seller_signature,
        ):
            raise AppendOnlyError(f"deal {a.deal_id} already holds another agreement")

    def agreement(self, deal_id: str) -> AgreementRow | None:
        row = self._db.execute(
            "SELECT deal_id, agreement, buyer_signature, seller_signature, created FROM agreements"
            " WHERE deal_id = ?",
            (deal_id,),
        ).fetchone()
        if row is None:
            return None
        return AgreementRow(
            str(row[0]), bytes(row[1]), None if row[2] is None else bytes(row[2]),
            None if row[3] is None else bytes(row[3]), float(row[4]),
        )  # fmt: skip

    # ---------------------------------------------------------------------------------------- pruning

    def prune(
        self,
        now: float,
        *,
        match_retention: float = MATCH_RETENTION_S,
        failed_retention: float = FAILED_DEAL_RETENTION_S,
        max_failed: int = MAX_FAILED_DEALS,
    ) -> dict[str, int]:
        """Forget what no longer matters (durable on return); agreements and live deals are never touched.

        * matches whose other intent expired more than ``match_retention`` ago (or, for rows written
          before expiry times were recorded, whose own intent did), unless a deal came of them;
        * failed deals (state FAILED, no agreement) last changed more than ``failed_retention`` ago, and
          beyond the ``max_failed`` most recent ones.

        Returns:
            How many matches and deals were removed.
        """
        kept = ", ".join(f"'{s}'" for s in _KEPT_MATCH_STATES)
        cutoff = now - match_retention
        matches = self._db.execute(
            f"DELETE FROM matches WHERE state NOT IN ({kept}) AND (other_expires < ? OR"
            " (other_expires IS NULL AND intent_id IN (SELECT id FROM intents WHERE expires < ?)))",
            (cutoff, cutoff),
        ).rowcount
        failed = "state = 'FAILED' AND agreement IS NULL AND id NOT IN (SELECT deal_id FROM agreements)"
        deals = self._db.execute(
            f"DELETE FROM deals WHERE {failed} AND updated < ?", (now - failed_retention,)
        ).rowcount
        deals += self._db.execute(
            f"DELETE FROM deals WHERE {failed} AND id NOT IN"
            f" (SELECT id FROM deals WHERE {failed} ORDER BY updated DESC LIMIT ?)",
            (max_failed,),
        ).rowcount
        return {"matches_pruned": matches, "deals_pruned": deals}

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
