"""Other agents' intents the agent holds: verified records, bounded, expiring, keyed by (author, id).

Theory of operation
-------------------
Every remote intent the agent keeps (found by a watch or a search, or named by an INTENT_MATCH that
passed its checks) is held here with its signed record until it expires, is withdrawn, or is replaced by
a higher seq of the same ``(author, id)``. At most ``max_intents`` are held: making room first drops the
expired ones, then the oldest added. Nothing else in the agent keeps remote intents, so the local FAISS
index (which only ever holds what is held here) is bounded by the same number.

An intent id is chosen by its author, so two authors can use the same id. The local index keys by id,
so it is given an *index id* instead, ``sha256(author || id)[:16]``: an author who copies another's
intent id (with a higher seq) can't replace or shadow the honest intent in our index.

Callers verify records (``wire.envelope.open_intent``) before :meth:`RemoteIntents.put`; this class keeps
what it is given and never decodes anything itself.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace

from wire.intent import INTENT_ID_LEN, Intent

#: Remote intents held in memory (records are at most 2 KiB: ~100 MiB at the cap with the index).
MAX_REMOTE_INTENTS = 50_000


def index_id(author: bytes, intent_id: bytes) -> bytes:
    """The id an intent of ``author`` gets in the local index (unique per author and intent id)."""
    return hashlib.sha256(author + intent_id).digest()[:INTENT_ID_LEN]


@dataclass(frozen=True)
class Held:
    """One remote intent: the verified intent, its signed record, and its id in the local index."""

    intent: Intent
    record: bytes
    index_id: bytes

    def indexed(self) -> Intent:
        """The intent as the local index stores it (its id replaced by the index id)."""
        return replace(self.intent, id=self.index_id)


class RemoteIntents:
    """A bounded, expiring map of remote intents (see the module docstring).

    Args:
        max_intents: the most intents held at once.
    """

    def __init__(self, max_intents: int = MAX_REMOTE_INTENTS) -> None:
        if max_intents < 1:
            raise ValueError("max_intents must be at least 1")
        self.max_intents = max_intents
        self._held: OrderedDict[tuple[bytes, bytes], Held] = OrderedDict()
        self._by_index: dict[bytes, tuple[bytes, bytes]] = {}
        self._stats = {"added": 0, "replaced": 0, "stale": 0, "expired": 0, "evicted": 0}

    def __len__(self) -> int:
        return len(self._held)

    def put(self, intent: Intent, record: bytes, now: float) -> tuple[Held | None, list[bytes]]:
        """Hold ``intent`` (verified by the caller) unless an equal or newer seq is held already.

        Args:
            intent: the verified intent.
            record: its signed record.
            now: Unix time (an intent that is no longer live is not held, and drops an older version).

        Returns:
            ``(held, dropped)``: what is now held for this ``(author, id)`` (None if the intent is not
            live), and the index ids the caller must remove from its index (evicted or withdrawn).
        """
        key = (intent.author, intent.id)
        old = self._held.get(key)
        if old is not None and old.intent.seq >= intent.seq:
            self._stats["stale"] += 1
            return old, []
        dropped: list[bytes] = []
        if not intent.is_live(now):
            if old is not None:
                dropped.append(self._drop(key))
            return None, dropped
        held = Held(intent, record, old.index_id if old is not None else index_id(*key))
        if old is not None:
            self._stats["replaced"] += 1
            self._held[key] = held
            return held, dropped
        if len(self._held) >= self.max_intents:
            dropped.extend(self.expire(now))
        while len(self._held) >= self.max_intents:
            oldest = next(iter(self._held))
            dropped.append(self._drop(oldest))
            self._stats["evicted"] += 1
        self._held[key] = held
        self._by_index[held.index_id] = key
        self._stats["added"] += 1
        return held, dropped

    def _drop(self, key: tuple[bytes, bytes]) -> bytes:
        held = self._held.pop(key)
        self._by_index.pop(held.index_id, None)
        return held.index_id

    def discard(self, author: bytes, intent_id: bytes) -> bytes | None:
        """Stop holding one intent; its index id (for the caller's index), or None if not held."""
        key = (author, intent_id)
        return self._drop(key) if key in self._held else None

    def get(self, author: bytes, intent_id: bytes) -> Held | None:
        return self._held.get((author, intent_id))

    def by_index_id(self, iid: bytes) -> Held | None:
        key = self._by_index.get(iid)
        return None if key is None else self._held.get(key)

    def expire(self, now: float) -> list[bytes]:
        """Drop every intent that expired (``expires <= now``); their index ids."""
        gone = [k for k, h in self._held.items() if h.intent.expires <= now]
        self._stats["expired"] += len(gone)
        return [self._drop(k) for k in gone]

    def statistics(self) -> dict[str, int]:
        return {"held": len(self._held), **self._stats}
