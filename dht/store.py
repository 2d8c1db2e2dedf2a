"""The record store: many signed records per key, from many authors, with replace rules and quotas.

Theory of operation
-------------------
A record is a signed envelope of an intent, an agent profile or a rating (``wire.records``: each is
indexed the same way, as a ``RecordView`` with an author, a 16-byte id, a seq and an expiry; "intent id"
below means that record id). ``put(key, record, now)`` answers one ``PutStatus``, checking in this order:

1. INVALID: the signature, shape or evidence doesn't verify (``wire.records.open_record``),
   ``key`` is not among ``keys_for_record(record)`` (``intent_key(group, cell)`` for each of an intent's
   ``groups``: its category's, then its ``extra_groups``), the record has expired (``expires <= now``), or it
   was created more than ``max_clock_skew`` in the future. An intent with ``extra_groups`` is stored under
   each of its keys independently (each copy counts against the caps).
2. STALE: a record of the same (author, intent id) with an equal or higher seq is stored.
3. REPLACED: a lower seq of the same (author, intent id) is stored: the new version takes its place
   (allowed even when the author is at its cap), unless the node's byte cap would be passed (OVER_QUOTA).
4. For a new (author, intent id): OVER_QUOTA when the author already has ``max_records_per_author_per_key`` at
   this key, or ``max_records_per_author`` in the whole store (over all keys). When the key holds
   ``max_records_per_key`` records, a record is evicted only to keep *author diversity* (below); otherwise
   OVER_QUOTA. Without an eviction the node caps apply: ``max_records`` and ``max_bytes`` -> OVER_QUOTA (never
   evicting across keys). Else STORED.

**Fair eviction.** Let H be the most records any one author holds at the full key and m the newcomer's
author's. When H >= m + 2, one record of an author holding H is evicted (the newcomer's author then holds no
more than that author keeps); else the newcomer is refused: among authors with equal shares, first come,
first served. The victim is the least established record of those authors: one never *renewed* first, then
the one that first arrived here most recently. A record is renewed when its author's own node PUTs it again
(the same or a newer seq, ``origin == author``) at least ``RENEWAL_MIN_AGE_S`` after it first arrived: a
republish. Expiry plays no part, so records created with the maximum TTL win nothing; Sybil authors with one
record each can't evict an author's last record, and a flood by a few authors gives way to every newcomer
with fewer records. (Renewal marks live in memory; restored records start unrenewed.) An intent's copy under
the key of one of its ``extra_groups`` (not its category's own group) yields to the key's own intents: when
this rule would refuse a newcomer filed under its own group, the least established extra copy is evicted
instead (that intent still lives under its own group's key); an extra copy never evicts by this second rule.

A withdrawn intent (``withdrawn=True``) is stored like any record, as a *tombstone*, until its own expiry,
so an older seq can't bring the intent back. Expired records leave at ``expire(now)`` (``Node.handle_timer``).

Every accepted version gets a ``stamp`` from a store-wide counter and ``stored_at = now``. ``get`` returns
a key's records in stamp order (a replaced record moves to the end), filtered by side (below) and ``since``:

* ``since == 0``: every live record, tombstones included (a reader merges versions by seq over several
  replicas, then drops the withdrawn: without the tombstone a stale replica's older version would win);
* ``since > 0``: the records (tombstones included) with ``stored_at >= since`` — a watcher polls with the
  time of its previous poll (in this node's clock, minus a margin) and dedups by (author, id, seq).

The action filter is a *side* filter (``on_side``): a get for action A returns the records whose action is on
A's side (``Action.demand``: BUY and SEEK_SERVICE are demand, SELL and OFFER_SERVICE supply), because an
intent's goods/service form follows its own category: a courier's OFFER_SERVICE filed also under the goods
group "food" is a seller to a buyer asking that key for SELL. Profiles and ratings (no action) pass only a
get without an action.

Pages hold at most ``limit`` (<= 64) records and ``PAGE_BYTES`` bytes of records; the cursor is the 8-byte
stamp of the page's last record (opaque to clients, bounded by MAX_CURSOR_BYTES).

Persistence: with a ``StoreBackend`` the store calls ``save`` before a put is acknowledged (an exception
from the backend propagates and leaves the store unchanged) and ``delete`` when a record leaves;
``restore(now)`` reloads (and re-verifies) what ``load()`` yields.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from dht.config import DhtConfig
from dht.keys import keys_for_record
from wire.envelope import Envelope
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.intent import Action
from wire.limits import MAX_FRAME_BYTES, MAX_RECORDS_PER_PAGE
from wire.messages import PutStatus
from wire.records import RecordView
from wire.records import open_record as _open_record

#: Record bytes of one GET page: a frame minus room for 20 peers of 4 addresses (~11 KiB) and CBOR framing.
PAGE_BYTES = MAX_FRAME_BYTES - 16 * 1024
CURSOR_LEN = 8
#: A re-PUT by the record's author renews it only this long after the record first arrived here, so the
#: copies of one publish (and its retries) don't count; honest authors republish every hour.
RENEWAL_MIN_AGE_S = 600.0


class StoreBackend(Protocol):
    """Durable storage behind a ``RecordStore`` (the bootstrap node implements it on SQLite)."""

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
        """Persist (insert or replace) the record of (key, author, intent_id)."""
        ...

    def delete(self, key: bytes, author: bytes, intent_id: bytes) -> None:
        """Forget the record of (key, author, intent_id)."""
        ...

    def load(self) -> Iterable[tuple[bytes, bytes, float]]:
        """Every persisted (key, record, stored_at)."""
        ...


def on_side(action: Action | None, wanted: Action | None) -> bool:
    """Whether a record of ``action`` passes a GET's action filter ``wanted``: any record when ``wanted`` is
    None, else an intent on the same side (``Action.demand``) as ``wanted`` (never a profile or a rating)."""
    return wanted is None or (action is not None and action.demand == wanted.demand)


def _least_established(r: StoredRecord) -> tuple[bool, float, int]:
    """Eviction order: never renewed first, then the most recently arrived."""
    return (r.renewed, -r.first_stored, -r.stamp)


@lru_cache(maxsize=4096)
def _open_cached(record: bytes) -> tuple[Envelope, RecordView]:
    return _open_record(record)


def open_record(record: bytes) -> tuple[Envelope, RecordView]:
    """``wire.records.open_record`` behind a bounded memo: verification is pure, and the same record bytes
    reach a node (or a simulated network in one process) many times.

    Raises:
        RemoteProtocolError: the record does not verify.
    """
    return _open_cached(bytes(record))


@dataclass(slots=True)
class StoredRecord:
    """One accepted record version and the fields the store indexes."""

    key: bytes
    record: bytes
    author: bytes
    intent_id: bytes
    seq: int
    expires: int
    action: Action | None
    withdrawn: bool
    stored_at: float
    stamp: int
    first_stored: float = 0.0  # when this (author, intent id) first arrived here (kept across versions)
    renewed: bool = False  # its author's node PUT it again later (see RENEWAL_MIN_AGE_S)
    extra: bool = False  # stored under one of its extra_groups' keys, not its own group's (yields first)


class _KeyRecords:
    __slots__ = ("per_author", "pushed_at", "recs")

    def __init__(self) -> None:
        self.recs: dict[bytes, StoredRecord] = {}  # author + intent id -> record, in stamp order
        self.per_author: dict[bytes, int] = {}
        self.pushed_at = -1.0  # last time another node pushed records of this key to us


class RecordStore:
    """Signed multi-value records by key. See the module docstring for the rules."""

    __slots__ = (
        "_backend",
        "_bytes",
        "_config",
        "_count",
        "_heap",
        "_keys",
        "_per_author",
        "_stamp",
        "_stats",
    )

    def __init__(self, backend: StoreBackend | None = None, config: DhtConfig | None = None) -> None:
        """Args:
        backend: durable storage, or None (memory only).
        config: caps (``max_records_per_key`` ...) and ``key_res``; defaults to ``DhtConfig()``.
        """
        self._backend = backend
        self._config = config if config is not None else DhtConfig()
        self._keys: dict[bytes, _KeyRecords] = {}
        self._per_author: dict[bytes, int] = {}  # author -> records over all keys
        self._heap: list[tuple[int, int, bytes, bytes]] = []  # (expires, stamp, key, author+id)
        self._count = 0
        self._bytes = 0
        self._stamp = 0
        self._stats = {s.name.lower(): 0 for s in PutStatus} | {"expired": 0, "evicted": 0}

    # ------------------------------------------------------------------------------------------- writes

    def put(
        self, key: bytes, record: bytes, now: float, pushed: bool = True, origin: bytes | None = None
    ) -> PutStatus:
        """Store ``record`` under ``key`` if the rules allow it.

        Args:
            key: the key the record was sent for.
            record: signed record envelope bytes (untrusted).
            now: current time (seconds, the same clock as intent ``expires``).
            pushed: True when another node sent it (marks the key as recently replicated).
            origin: the public key of the node that sent it (a PUT from the author's own node renews it).
        Returns:
            The PutStatus (see the module docstring).
        Raises:
            Whatever the backend's ``save`` raises (the store is then unchanged).
        """
        status = self._put(key, record, now, pushed, save=True, origin=origin)
        self._stats[status.name.lower()] += 1
        return status

    def _put(
        self, key: bytes, record: bytes, now: float, pushed: bool, save: bool, origin: bytes | None = None
    ) -> PutStatus:
        cfg = self._config
        try:
            _, intent = open_record(record)
        except RemoteProtocolError:
            return PutStatus.INVALID
        if intent.expires <= now or intent.created > now + cfg.max_clock_skew:
            return PutStatus.INVALID
        try:
            keys = keys_for_record(intent, cfg.key_res)
        except LocalProtocolError:
            return PutStatus.INVALID
        if key not in keys:
            return PutStatus.INVALID
        extra = key != keys[0]
        entry = self._keys.get(key)
        record_key = intent.author + intent.id
        old = entry.recs.get(record_key) if entry is not None else None
        size = len(record)
        renews = origin == intent.author
        if old is not None:
            renews = renews and now - old.first_stored >= RENEWAL_MIN_AGE_S
            if intent.seq <= old.seq:
                if renews and intent.seq == old.seq:
                    old.renewed = True
                return PutStatus.STALE
            if self._bytes - len(old.record) + size > cfg.max_bytes:
                return PutStatus.OVER_QUOTA
        else:
            victim = None
            if self._per_author.get(intent.author, 0) >= cfg.max_records_per_author:
                return PutStatus.OVER_QUOTA
            if entry is not None:
                mine = entry.per_author.get(intent.author, 0)
                if mine >= cfg.max_records_per_author_per_key:
                    return PutStatus.OVER_QUOTA
                if len(entry.recs) >= cfg.max_records_per_key:
                    victim = self._victim(entry, mine, extra)
                    if victim is None:
                        return PutStatus.OVER_QUOTA
            if victim is None and self._count >= cfg.max_records:
                return PutStatus.OVER_QUOTA
            freed = len(victim.record) if victim is not None else 0
            if self._bytes - freed + size > cfg.max_bytes:
                return PutStatus.OVER_QUOTA
        if save and self._backend is not None:
            self._backend.save(key, record, intent.author, intent.id, intent.seq, intent.expires, now)
        if entry is None:
            entry = self._keys[key] = _KeyRecords()
        if old is not None:
            del entry.recs[record_key]  # re-inserted below: the dict stays in stamp order
            self._count -= 1
            self._bytes -= len(old.record)
            entry.per_author[intent.author] -= 1
            self._per_author[intent.author] -= 1
        elif victim is not None:
            self._drop(entry, victim, delete=True)
            self._stats["evicted"] += 1
        self._stamp += 1
        rec = StoredRecord(
            key, record, intent.author, intent.id, intent.seq, intent.expires, intent.action,
            intent.withdrawn, now, self._stamp,
            old.first_stored if old is not None else now, old is not None and (renews or old.renewed), extra,
        )  # fmt: skip
        entry.recs[record_key] = rec
        entry.per_author[intent.author] = entry.per_author.get(intent.author, 0) + 1
        self._per_author[intent.author] = self._per_author.get(intent.author, 0) + 1
        if pushed:
            entry.pushed_at = now
        self._count += 1
        self._bytes += size
        heapq.heappush(self._heap, (rec.expires, rec.stamp, key, record_key))
        if len(self._heap) > 2 * self._count + 64:
            self._compact_heap()
        return PutStatus.REPLACED if old is not None else PutStatus.STORED

    @staticmethod
    def _victim(entry: _KeyRecords, mine: int, extra: bool) -> StoredRecord | None:
        """The record to evict from a full key for a newcomer whose author holds ``mine`` records there and
        that is (``extra``) or is not an extra copy (None: refuse the newcomer). See "Fair eviction" in the
        module docstring."""
        per_author = entry.per_author
        heaviest = max(per_author.values())
        if heaviest >= mine + 2:
            candidates = [r for r in entry.recs.values() if per_author[r.author] == heaviest]
        elif not extra:
            candidates = [r for r in entry.recs.values() if r.extra]
        else:
            candidates = []
        return min(candidates, key=_least_established) if candidates else None

    def _drop(self, entry: _KeyRecords, rec: StoredRecord, delete: bool) -> None:
        del entry.recs[rec.author + rec.intent_id]
        n = entry.per_author[rec.author] - 1
        if n:
            entry.per_author[rec.author] = n
        else:
            del entry.per_author[rec.author]
        n = self._per_author[rec.author] - 1
        if n:
            self._per_author[rec.author] = n
        else:
            del self._per_author[rec.author]
        self._count -= 1
        self._bytes -= len(rec.record)
        if not entry.recs:
            del self._keys[rec.key]
        if delete and self._backend is not None:
            self._backend.delete(rec.key, rec.author, rec.intent_id)

    def _compact_heap(self) -> None:
        recs = (item for e in self._keys.values() for item in e.recs.items())
        self._heap = [(r.expires, r.stamp, r.key, record_key) for record_key, r in recs]
        heapq.heapify(self._heap)

    def expire(self, now: float) -> int:
        """Remove every record with ``expires <= now``. Returns how many left."""
        heap = self._heap
        n = 0
        while heap and heap[0][0] <= now:
            _, stamp, key, record_key = heapq.heappop(heap)
            entry = self._keys.get(key)
            rec = entry.recs.get(record_key) if entry is not None else None
            if entry is None or rec is None or rec.stamp != stamp:
                continue  # replaced or evicted since
            self._drop(entry, rec, delete=True)
            n += 1
        self._stats["expired"] += n
        return n

    def next_expiry(self) -> float | None:
        """When the next record expires (possibly a stale heap entry: harmless, ``expire`` skips it)."""
        return float(self._heap[0][0]) if self._heap else None

    def restore(self, now: float) -> int:
        """Reload the backend's records (verified again; expired or invalid ones are deleted from it).

        Returns:
            How many records were restored.
        """
        if self._backend is None:
            return 0
        loaded = sorted(self._backend.load(), key=lambda t: t[2])
        n = 0
        for key, record, stored_at in loaded:
            status = self._put(key, record, stored_at, pushed=False, save=False)
            if status in (PutStatus.STORED, PutStatus.REPLACED):
                n += 1
        self.expire(now)
        return n

    # -------------------------------------------------------------------------------------------- reads

    def get(
        self,
        key: bytes,
        now: float,
        action: Action | None = None,
        since: int = 0,
        cursor: bytes | None = None,
        limit: int = MAX_RECORDS_PER_PAGE,
    ) -> tuple[list[bytes], bytes | None]:
        """One page of the records under ``key``.

        Args:
            key: the key.
            now: current time (records already expired are skipped).
            action: only records on this action's side (``on_side``; None: all).
            since: 0 for every live record; > 0 for records stored at or after ``since`` (tombstones are
                included either way).
            cursor: the cursor of the previous page, or None for the first.
            limit: most records in the page (clamped to [1, 64]).
        Returns:
            (records, cursor of the next page or None when this is the last).
        Raises:
            RemoteProtocolError: a malformed cursor.
        """
        after = 0
        if cursor is not None:
            if len(cursor) != CURSOR_LEN:
                raise RemoteProtocolError("bad cursor")
            after = int.from_bytes(cursor, "big")
        limit = max(1, min(limit, MAX_RECORDS_PER_PAGE))
        entry = self._keys.get(key)
        if entry is None:
            return [], None
        out: list[bytes] = []
        total = 0
        last = 0
        for rec in entry.recs.values():
            if rec.stamp <= after or rec.expires <= now:
                continue
            if action is not None and not on_side(rec.action, action):
                continue
            if since > 0 and rec.stored_at < since:
                continue
            if len(out) >= limit or total + len(rec.record) > PAGE_BYTES:
                return out, last.to_bytes(CURSOR_LEN, "big")
            out.append(rec.record)
            total += len(rec.record)
            last = rec.stamp
        return out, None

    def records(self, key: bytes) -> list[StoredRecord]:
        """Every stored version under ``key`` (tombstones and not-yet-purged expired ones included)."""
        entry = self._keys.get(key)
        return list(entry.recs.values()) if entry is not None else []

    def stored_keys(self) -> list[bytes]:
        """Every key holding records."""
        return list(self._keys)

    def pushed_at(self, key: bytes) -> float:
        """Last time another node pushed records of ``key`` here (-1 if never)."""
        entry = self._keys.get(key)
        return entry.pushed_at if entry is not None else -1.0

    def __len__(self) -> int:
        return self._count

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def statistics(self) -> dict[str, int]:
        return {
            "records": self._count,
            "bytes": self._bytes,
            "keys": len(self._keys),
            "authors": len(self._per_author),
            **self._stats,
        }
