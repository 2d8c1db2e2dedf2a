"""The agent's meeting arrangements in their own SQLite file (``HOME/data/handover.sqlite``, WAL,
``synchronous=FULL``).

* ``handovers``: one row per deal: the core's snapshot (:meth:`negotiation.handover.Handover.to_dict`:
  its state and the signed envelopes, nothing private) and its state, for listing.
* ``outbox``: signed messages not yet delivered to the counterpart, retried until it answers or they
  are too old (``metaspace.peer.handovers``); a crash loses none of them.

Every write commits before the caller reports success.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metaspace.peer.db import open_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS handovers (
    deal_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deal_id TEXT NOT NULL,
    message BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_deal ON outbox (deal_id);
"""


@dataclass(frozen=True)
class OutboxRow:
    id: int
    deal_id: str
    message: bytes
    attempts: int
    next_try: float
    created: float


class HandoverDB:
    """Typed accessors over the handover file (see the module docstring)."""

    def __init__(self, path: Path | None) -> None:
        """Args:
        path: the database file; None keeps it in memory (for an agent built without a home).
        """
        self._db = open_db(path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def save(self, deal_id: str, state: str, data: dict[str, Any], now: float) -> None:
        self._db.execute(
            "INSERT INTO handovers (deal_id, state, data, updated) VALUES (?, ?, ?, ?) ON CONFLICT (deal_id)"
            " DO UPDATE SET state = excluded.state, data = excluded.data, updated = excluded.updated",
            (deal_id, state, json.dumps(data, sort_keys=True), now),
        )

    def load(self, deal_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT data FROM handovers WHERE deal_id = ?", (deal_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def deal_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT deal_id FROM handovers ORDER BY updated")]

    def queue(self, deal_id: str, message: bytes, now: float) -> None:
        self._db.execute(
            "INSERT INTO outbox (deal_id, message, next_try, created) VALUES (?, ?, ?, ?)",
            (deal_id, message, now, now),
        )

    def due(self, now: float) -> list[OutboxRow]:
        """Undelivered messages whose next try has come, oldest first."""
        rows = self._db.execute(
            "SELECT id, deal_id, message, attempts, next_try, created FROM outbox WHERE next_try <= ?"
            " ORDER BY id",
            (now,),
        ).fetchall()
        return [OutboxRow(*r) for r in rows]

    def pending(self, deal_id: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM outbox WHERE deal_id = ?", (deal_id,)).fetchone()
        return int(row[0])

    def retry_at(self, row_id: int, attempts: int, next_try: float) -> None:
        self._db.execute(
            "UPDATE outbox SET attempts = ?, next_try = ? WHERE id = ?", (attempts, next_try, row_id)
        )

    def delivered(self, row_id: int) -> None:
        self._db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
