"""The agent's trust state in its own SQLite file (``HOME/data/trust.sqlite``, WAL, ``synchronous=FULL``).

* ``ratings``: the ratings we made (we are the rater) and the ratings about us other agents sent us,
  each as its signed record; one row per ``(rater, deal)`` (a rating is replaced only by a higher seq,
  which renews it; our own are never re-scored).
* ``blocks``: peers the human blocked (``until`` NULL) or the firewall blocked for a while.
* ``own_profile``: our last signed profile record (its seq keeps growing across restarts).
* ``peers``: what we last learned about counterparts (handle, score), shown next to matches and deals;
  bounded (the oldest are forgotten).

Every write commits before the caller reports success.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metaspace.peer.db import open_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    rater TEXT NOT NULL,
    subject TEXT NOT NULL,
    deal_id TEXT NOT NULL,
    record BLOB NOT NULL,
    seq INTEGER NOT NULL,
    score INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    published INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    PRIMARY KEY (rater, deal_id)
);
CREATE INDEX IF NOT EXISTS ratings_subject ON ratings (subject, created);
CREATE TABLE IF NOT EXISTS blocks (
    peer TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    until REAL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS own_profile (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    record BLOB NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS peers (
    peer TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    updated REAL NOT NULL
);
"""

#: Counterparts whose last looked-up profile and reputation are kept.
MAX_PEERS_KEPT = 2000


@dataclass(frozen=True)
class RatingRow:
    """One stored rating (ours or about us)."""

    rater: str
    subject: str
    deal_id: str
    record: bytes
    seq: int
    score: int
    expires: int
    published: bool
    created: float


@dataclass(frozen=True)
class BlockRow:
    """A blocked peer: ``until`` None for a block by the human (until they unblock it)."""

    peer: str
    reason: str
    until: float | None
    created: float


class TrustDB:
    """Typed accessors over the trust file (see the module docstring)."""

    def __init__(self, path: Path | None) -> None:
        """Args:
        path: the database file; None keeps it in memory (for an agent built without a home).
        """
        self._db = open_db(path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    # ---------------------------------------------------------------------------------------- ratings

    def add_rating(self, row: RatingRow) -> bool:
        """Store a new rating; False (nothing written) if ``(rater, deal)`` already has one."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO ratings (rater, subject, deal_id, record, seq, score, expires, published,"
            " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.rater, row.subject, row.deal_id, row.record, row.seq, row.score, row.expires,
             int(row.published), row.created),
        )  # fmt: skip
        return cur.rowcount == 1

    def replace_rating(self, row: RatingRow) -> bool:
        """Store ``row`` unless a rating of the same ``(rater, deal)`` with an equal or higher seq is
        held. Returns True if it was stored."""
        cur = self._db.execute(
            "INSERT INTO ratings (rater, subject, deal_id, record, seq, score, expires, published, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rater, deal_id) DO UPDATE SET"
            " record = excluded.record, seq = excluded.seq, score = excluded.score,"
            " expires = excluded.expires, published = excluded.published WHERE excluded.seq > ratings.seq",
            (row.rater, row.subject, row.deal_id, row.record, row.seq, row.score, row.expires,
             int(row.published), row.created),
        )  # fmt: skip
        return cur.rowcount == 1

    def set_published(self, rater: str, deal_id: str, published: bool) -> None:
        self._db.execute(
            "UPDATE ratings SET published = ? WHERE rater = ? AND deal_id = ?",
            (int(published), rater, deal_id),
        )

    def rating(self, rater: str, deal_id: str) -> RatingRow | None:
        row = self._db.execute(
            f"SELECT {_RATING_COLS} FROM ratings WHERE rater = ? AND deal_id = ?", (rater, deal_id)
        ).fetchone()
        return None if row is None else _rating(row)

    def ratings_by(self, rater: str) -> list[RatingRow]:
        """The ratings ``rater`` made, newest first."""
        rows = self._db.execute(
            f"SELECT {_RATING_COLS} FROM ratings WHERE rater = ? ORDER BY created DESC", (rater,)
        ).fetchall()
        return [_rating(r) for r in rows]

    def ratings_about(self, subject: str, limit: int = 1000) -> list[RatingRow]:
        """The ratings about ``subject`` we hold, newest first."""
        rows = self._db.execute(
            f"SELECT {_RATING_COLS} FROM ratings WHERE subject = ? ORDER BY created DESC LIMIT ?",
            (subject, limit),
        ).fetchall()
        return [_rating(r) for r in rows]

    # ----------------------------------------------------------------------------------------- blocks

    def block(self, peer: str, reason: str, until: float | None, now: float) -> None:
        """Block ``peer`` (replacing an earlier block of it)."""
        self._db.execute(
            "INSERT INTO blocks (peer, reason, until, created) VALUES (?, ?, ?, ?) ON CONFLICT (peer)"
            " DO UPDATE SET reason = excluded.reason, until = excluded.until, created = excluded.created",
            (peer, reason, until, now),
        )

    def unblock(self, peer: str) -> bool:
        """Lift a block; False if ``peer`` was not blocked."""
        return self._db.execute("DELETE FROM blocks WHERE peer = ?", (peer,)).rowcount == 1

    def blocks(self) -> list[BlockRow]:
        rows = self._db.execute("SELECT peer, reason, until, created FROM blocks ORDER BY created").fetchall()
        return [BlockRow(str(p), str(r), None if u is None else float(u), float(c)) for p, r, u, c in rows]

    # ---------------------------------------------------------------------------------------- profile

    def save_profile(self, record: bytes, seq: int) -> None:
        self._db.execute(
            "INSERT INTO own_profile (id, record, seq) VALUES (1, ?, ?) ON CONFLICT (id)"
            " DO UPDATE SET record = excluded.record, seq = excluded.seq",
            (record, seq),
        )

    def own_profile(self) -> tuple[bytes, int] | None:
        row = self._db.execute("SELECT record, seq FROM own_profile WHERE id = 1").fetchone()
        return None if row is None else (bytes(row[0]), int(row[1]))

    # ------------------------------------------------------------------------------------------ peers

    def save_peer(self, peer: str, info: dict[str, Any], now: float) -> None:
        """Remember what we learned about a counterpart (the oldest beyond MAX_PEERS_KEPT are forgotten)."""
        self._db.execute(
            "INSERT INTO peers (peer, info, updated) VALUES (?, ?, ?) ON CONFLICT (peer)"
            " DO UPDATE SET info = excluded.info, updated = excluded.updated",
            (peer, json.dumps(info, sort_keys=True), now),
        )
        self._db.execute(
            "DELETE FROM peers WHERE peer NOT IN (SELECT peer FROM peers ORDER BY updated DESC LIMIT ?)",
            (MAX_PEERS_KEPT,),
        )

    def peer(self, peer: str) -> tuple[dict[str, Any], float] | None:
        """What we last learned about ``peer`` and when."""
        row = self._db.execute("SELECT info, updated FROM peers WHERE peer = ?", (peer,)).fetchone()
        return None if row is None else (json.loads(row[0]), float(row[1]))


_RATING_COLS = "rater, subject, deal_id, record, seq, score, expires, published, created"


def _rating(r: tuple[Any, ...]) -> RatingRow:
    return RatingRow(
        str(r[0]), str(r[1]), str(r[2]), bytes(r[3]), int(r[4]), int(r[5]), int(r[6]), bool(r[7]), float(r[8])
    )
