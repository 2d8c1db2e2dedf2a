"""The record store's rules: validation, replace semantics, quotas and eviction, paging, filters, expiry."""

from __future__ import annotations

import dataclasses

import pytest

from dht import DhtConfig, RecordStore, intent_key
from dht.store import PAGE_BYTES, RENEWAL_MIN_AGE_S
from tests.test_dht_helpers import T0, identity, make_intent, multi_record, record
from wire import Action, open_intent, seal_intent
from wire.cbor import decode, encode
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.messages import PutStatus

ALICE, BOB = identity(1), identity(2)


def key_of(rec: bytes) -> bytes:
    _, intent = open_intent(rec)
    return intent_key(intent.category, intent.cell)


def put(store: RecordStore, rec: bytes, now: float = T0) -> PutStatus:
    return store.put(key_of(rec), rec, now)


def test_valid_record_is_stored_and_returned():
    store = RecordStore()
    rec = record(ALICE)
    assert put(store, rec) is PutStatus.STORED
    assert store.get(key_of(rec), T0) == ([rec], None)
    assert len(store) == 1 and store.total_bytes == len(rec)


def test_forged_signature_is_invalid():
    rec = record(ALICE)
    parts = decode(rec, 4096)
    sig = bytearray(parts[4])
    sig[0] ^= 1
    forged = encode([*parts[:4], bytes(sig)])
    store = RecordStore()
    assert store.put(key_of(rec), forged, T0) is PutStatus.INVALID
    assert store.put(key_of(rec), b"\xff garbage", T0) is PutStatus.INVALID
    # a body signed by Bob but claiming Alice as author
    stolen = make_intent(ALICE)
    with pytest.raises(LocalProtocolError):  # sealing refuses it locally already
        seal_intent(BOB, stolen)
    assert len(store) == 0


def test_expired_future_and_wrong_key_are_invalid():
    store = RecordStore()
    rec = record(ALICE, ttl=100)
    assert store.put(key_of(rec), rec, T0 + 100) is PutStatus.INVALID  # expires == now
    future = record(ALICE, 2, created=T0 + 3600)
    assert put(store, future, T0) is PutStatus.INVALID  # created beyond the clock skew
    assert put(store, future, T0 + 3600 - 60) is PutStatus.STORED
    other = record(ALICE, 3, category="electronics/phones")
    assert store.put(key_of(rec), other, T0) is PutStatus.INVALID  # key != intent_key(category, cell)
    assert store.put(key_of(rec), record(ALICE, 4, where=(40.4, -3.7)), T0) is PutStatus.INVALID


def test_an_intent_with_extra_groups_is_stored_under_the_key_of_each_of_its_groups_only():
    store = RecordStore()
    rec = multi_record(ALICE)  # vehicles/tires, also filed under "home"
    _, intent = open_intent(rec)
    own, home = intent_key("vehicles", intent.cell), intent_key("home", intent.cell)
    assert store.put(home, rec, T0) is PutStatus.STORED
    assert store.put(own, rec, T0) is PutStatus.STORED
    assert store.get(home, T0) == ([rec], None) and store.get(own, T0) == ([rec], None)
    assert len(store) == 2  # one copy per key, each under the caps
    assert store.put(intent_key("food", intent.cell), rec, T0) is PutStatus.INVALID  # a group it doesn't name
    madrid = make_intent(ALICE, where=(40.4, -3.7)).cell
    assert store.put(intent_key("home", madrid), rec, T0) is PutStatus.INVALID  # its group, another cell
    assert store.put(home, record(BOB), T0) is PutStatus.INVALID  # without extra_groups: its own key only
    newer = multi_record(ALICE, seq=2)
    assert store.put(home, newer, T0) is PutStatus.REPLACED  # versions are replaced per key
    assert store.get(home, T0)[0] == [newer] and store.get(own, T0)[0] == [rec]


def test_replace_semantics_by_author_and_id():
    store = RecordStore()
    v1, v2, v3 = (record(ALICE, seq=s) for s in (1, 2, 3))
    assert put(store, v2) is PutStatus.STORED
    assert put(store, v1) is PutStatus.STALE
    assert put(store, v2) is PutStatus.STALE  # equal seq
    assert put(store, v3) is PutStatus.REPLACED
    assert store.get(key_of(v3), T0)[0] == [v3]
    assert put(store, record(BOB, seq=1)) is PutStatus.STORED  # another author, same intent id
    assert len(store) == 2


def test_per_author_cap_refuses_new_ids_but_allows_updates():
    store = RecordStore(config=DhtConfig(max_records_per_author_per_key=3))
    for n in range(3):
        assert put(store, record(ALICE, n)) is PutStatus.STORED
    assert put(store, record(ALICE, 9)) is PutStatus.OVER_QUOTA
    assert put(store, record(ALICE, 1, seq=2)) is PutStatus.REPLACED
    assert put(store, record(BOB, 9)) is PutStatus.STORED


def test_full_key_evicts_only_for_author_diversity_never_by_ttl():
    """Regression (issue 10, storage takeover): records created with the maximum TTL used to evict every
    record expiring sooner; a few authors flooding a full key now only evict each other."""
    store = RecordStore(config=DhtConfig(max_records_per_key=8, max_records_per_author_per_key=4))
    honest = [record(identity(300 + i), 1, ttl=86400) for i in range(4)]
    for r in honest:
        assert put(store, r) is PutStatus.STORED
    week = 7 * 86400
    for n in range(3):
        for i in range(4):
            put(store, record(identity(400 + n), i, ttl=week), T0 + 60)
    key = key_of(honest[0])
    kept = store.get(key, T0 + 120)[0]
    assert set(honest) <= set(kept) and len(kept) == 8
    counts: dict[bytes, int] = {}
    for r in store.records(key):
        counts[r.author] = counts.get(r.author, 0) + 1
    flood = [counts.get(identity(400 + n).pubkey, 0) for n in range(3)]
    assert sum(flood) == 4 and max(flood) - min(flood) <= 1  # the flooders share what is left
    assert store.statistics()["evicted"] >= 1


def test_newcomer_evicts_from_the_heaviest_author_and_equal_shares_are_first_come():
    store = RecordStore(config=DhtConfig(max_records_per_key=4))
    heavy = [record(ALICE, n) for n in range(3)]
    for r in heavy:
        assert put(store, r) is PutStatus.STORED
    bob = record(BOB, 1)
    assert put(store, bob) is PutStatus.STORED  # key full: Alice 3, Bob 1
    carol = record(identity(3), 1)
    assert put(store, carol, T0 + 5) is PutStatus.STORED  # Alice gives way (3 >= 0 + 2): her newest goes
    assert [r.record for r in store.records(key_of(carol))] == [heavy[0], heavy[1], bob, carol]
    assert put(store, record(BOB, 2)) is PutStatus.OVER_QUOTA  # Alice 2 vs Bob 1 + 1: no fairer
    dave = record(identity(4), 1)
    assert put(store, dave) is PutStatus.STORED  # Alice 2 >= 0 + 2
    assert put(store, record(identity(5), 1)) is PutStatus.OVER_QUOTA  # one each: first come, first served
    assert {r.author for r in store.records(key_of(dave))} == {ALICE.pubkey, BOB.pubkey}.union(
        {identity(3).pubkey, identity(4).pubkey}
    )


def test_extra_copies_yield_to_the_keys_own_intents():
    """A full key of the "home" group: the copies filed there as an extra group (tire ads unsure of their
    group) give way to a home intent the fair rule alone would refuse; another extra copy is refused."""
    store = RecordStore(config=DhtConfig(max_records_per_key=4))
    home = dict(category="home/furniture")
    extras = [multi_record(identity(10 + n), 1, extra_groups=("home",)) for n in range(2)]
    owns = [record(identity(20 + n), 1, **home) for n in range(2)]
    key = key_of(owns[0])
    for t, rec in enumerate(extras + owns):
        assert store.put(key, rec, T0 + t) is PutStatus.STORED
    assert [r.extra for r in store.records(key)] == [True, True, False, False]
    # one record per author: the fair rule refuses a fifth author, but an extra copy makes way
    newcomer = record(identity(30), 1, **home)
    assert store.put(key, newcomer, T0 + 10) is PutStatus.STORED
    assert [r.record for r in store.records(key)] == [extras[0], *owns, newcomer]  # the later extra went
    # an extra copy never evicts by that rule
    late_extra = multi_record(identity(40), 1, extra_groups=("home",))
    assert store.put(key, late_extra, T0 + 11) is PutStatus.OVER_QUOTA
    # the last extra copy goes for the next home intent, then the fair rule alone decides
    assert store.put(key, record(identity(31), 1, **home), T0 + 12) is PutStatus.STORED
    assert not any(r.extra for r in store.records(key))
    assert store.put(key, record(identity(32), 1, **home), T0 + 13) is PutStatus.OVER_QUOTA
    # an evicted copy's intent lives on under its own group's key, which this rule never touches
    primary = key_of(extras[1])
    assert primary != key and store.put(primary, extras[1], T0 + 14) is PutStatus.STORED


def test_renewed_records_are_evicted_last():
    store = RecordStore(config=DhtConfig(max_records_per_key=3))
    a1, a2 = record(ALICE, 1), record(ALICE, 2)
    assert put(store, a1) is PutStatus.STORED
    assert put(store, a2, T0 + 1) is PutStatus.STORED
    assert put(store, record(BOB, 1)) is PutStatus.STORED
    key = key_of(a1)
    # a re-PUT by someone else, or by Alice too soon, is no renewal
    assert store.put(key, a2, T0 + 2 * RENEWAL_MIN_AGE_S, origin=BOB.pubkey) is PutStatus.STALE
    assert store.put(key, a2, T0 + 10, origin=ALICE.pubkey) is PutStatus.STALE
    assert not any(r.renewed for r in store.records(key))
    # Alice republishes a2 later: it is renewed, so her other record is the one a newcomer evicts
    assert store.put(key, a2, T0 + RENEWAL_MIN_AGE_S + 1, origin=ALICE.pubkey) is PutStatus.STALE
    assert [r.renewed for r in store.records(key)] == [False, True, False]
    carol = record(identity(3), 1)
    assert put(store, carol, T0 + 3600) is PutStatus.STORED
    assert [r.record for r in store.records(key)] == [a2, record(BOB, 1), carol]
    # a newer seq keeps the renewal and the first arrival time
    a2b = record(ALICE, 2, seq=2)
    assert put(store, a2b, T0 + 3700) is PutStatus.REPLACED
    (rec,) = [r for r in store.records(key) if r.record == a2b]
    assert rec.renewed and rec.first_stored == T0 + 1


def test_per_author_cap_over_all_keys():
    """Regression (issue 10): the per-author cap was per key only, so one author could fill a node
    through many keys."""
    store = RecordStore(config=DhtConfig(max_records_per_author=3))
    cats = ["vehicles/tires", "electronics/phones", "services/moving", "home/furniture"]
    recs = [record(ALICE, n, category=c) for n, c in enumerate(cats)]
    for r in recs[:3]:
        assert put(store, r) is PutStatus.STORED
    assert put(store, recs[3]) is PutStatus.OVER_QUOTA
    assert put(store, record(ALICE, 0, seq=2, category=cats[0])) is PutStatus.REPLACED  # updates still pass
    assert put(store, record(BOB, 9, category=cats[3])) is PutStatus.STORED
    store.expire(T0 + 86400)
    assert put(store, record(ALICE, 3, category=cats[3], created=T0 + 86400), T0 + 86400) is PutStatus.STORED
    assert store.statistics()["authors"] == 1


def test_node_wide_caps():
    one = record(ALICE, 1)
    store = RecordStore(config=DhtConfig(max_records=2))
    assert put(store, one) is PutStatus.STORED
    assert put(store, record(ALICE, 2, category="electronics/phones")) is PutStatus.STORED
    assert put(store, record(BOB, 3)) is PutStatus.OVER_QUOTA
    assert put(store, record(ALICE, 1, seq=5)) is PutStatus.REPLACED  # replacing doesn't grow
    store = RecordStore(config=DhtConfig(max_bytes=len(one) + 10))
    assert put(store, one) is PutStatus.STORED
    assert put(store, record(BOB, 3)) is PutStatus.OVER_QUOTA


def test_tombstones_block_resurrection_and_are_served_for_the_merge():
    store = RecordStore()
    live = record(ALICE, seq=1)
    gone = record(ALICE, seq=2, withdrawn=True)
    key = key_of(live)
    assert put(store, live) is PutStatus.STORED
    assert put(store, gone, T0 + 10) is PutStatus.REPLACED
    assert put(store, live, T0 + 20) is PutStatus.STALE  # an old seq can't bring it back
    # tombstones are served to plain gets too: a reader merging replicas by seq needs them
    assert store.get(key, T0 + 30) == ([gone], None)
    assert store.get(key, T0 + 30, since=int(T0)) == ([gone], None)  # watchers see the withdrawal


def test_since_and_action_filters():
    # the action filter is a side filter (SELL and BUY are on opposite sides: see the test below)
    store = RecordStore()
    sell = record(ALICE, 1, action=Action.SELL)
    buy = record(BOB, 2, action=Action.BUY)
    later = record(BOB, 3, action=Action.SELL)
    key = key_of(sell)
    store.put(key, sell, T0)
    store.put(key, buy, T0 + 100)
    store.put(key, later, T0 + 200)
    assert store.get(key, T0 + 300)[0] == [sell, buy, later]
    assert store.get(key, T0 + 300, action=Action.SELL)[0] == [sell, later]
    assert store.get(key, T0 + 300, action=Action.BUY)[0] == [buy]
    assert store.get(key, T0 + 300, since=int(T0) + 100)[0] == [buy, later]  # stored at or after
    assert store.get(key, T0 + 300, since=int(T0) + 101)[0] == [later]
    assert store.get(key, T0 + 300, action=Action.SELL, since=int(T0) + 100)[0] == [later]
    # an update moves the record to the end and refreshes its stored_at
    sell2 = record(ALICE, 1, seq=2, action=Action.SELL)
    store.put(key, sell2, T0 + 250)
    assert store.get(key, T0 + 300)[0] == [buy, later, sell2]
    assert store.get(key, T0 + 300, since=int(T0) + 201)[0] == [sell2]
    assert store.get(b"\0" * 32, T0) == ([], None)


def test_the_action_filter_returns_the_records_on_the_asked_sides():
    """A GET for SELL returns the supply side (SELL and OFFER_SERVICE), for BUY the demand side: a courier's
    OFFER_SERVICE filed also under the goods group "food" is a seller to a buyer asking that key."""
    store = RecordStore()
    courier = multi_record(
        ALICE, 1, extra_groups=("food",), action=Action.OFFER_SERVICE, category="services/moving"
    )
    seller = record(BOB, 2, action=Action.SELL, category="food/meals")
    buyer = record(identity(3), 3, action=Action.BUY, category="food/meals")
    seeker = record(identity(4), 4, action=Action.SEEK_SERVICE, category="food/meals")
    key = key_of(seller)
    for rec in (courier, seller, buyer, seeker):
        assert store.put(key, rec, T0) is PutStatus.STORED
    supply, demand = [courier, seller], [buyer, seeker]
    assert store.get(key, T0, action=Action.SELL)[0] == supply
    assert store.get(key, T0, action=Action.OFFER_SERVICE)[0] == supply
    assert store.get(key, T0, action=Action.BUY)[0] == demand
    assert store.get(key, T0, action=Action.SEEK_SERVICE)[0] == demand
    assert store.get(key, T0)[0] == [courier, seller, buyer, seeker]


def test_paging_with_cursor_covers_everything_once():
    cfg = DhtConfig(max_records_per_author_per_key=200)
    store = RecordStore(config=cfg)
    recs = [record(ALICE, n) for n in range(150)]
    key = key_of(recs[0])
    for r in recs:
        assert store.put(key, r, T0) is PutStatus.STORED
    seen: list[bytes] = []
    cursor = None
    pages = 0
    while True:
        page, cursor = store.get(key, T0, cursor=cursor)
        assert len(page) <= 64 and sum(map(len, page)) <= PAGE_BYTES
        seen += page
        pages += 1
        if cursor is None:
            break
        assert len(cursor) <= 64
    assert seen == recs and pages == 3
    page, cursor = store.get(key, T0, limit=10)
    assert page == recs[:10] and cursor is not None
    page, _ = store.get(key, T0, cursor=cursor, limit=5)
    assert page == recs[10:15]
    with pytest.raises(RemoteProtocolError):
        store.get(key, T0, cursor=b"\x01")


def test_pages_are_bounded_in_bytes():
    cfg = DhtConfig(max_records_per_author_per_key=100)
    store = RecordStore(config=cfg)
    attrs = {f"a{i}": "v" * 60 for i in range(10)}
    recs = []
    for n in range(64):
        intent = make_intent(ALICE, n)
        big = seal_intent(ALICE, dataclasses.replace(intent, text="x" * 600, attributes=attrs))
        assert len(big) > PAGE_BYTES // 64
        recs.append(big)
        assert put(store, big) is PutStatus.STORED
    page, cursor = store.get(key_of(recs[0]), T0)
    assert cursor is not None and sum(map(len, page)) <= PAGE_BYTES < sum(map(len, recs))


def test_expiry_at_timer():
    store = RecordStore()
    short = record(ALICE, 1, ttl=60)
    long = record(BOB, 2, ttl=600)
    key = key_of(short)
    store.put(key, short, T0)
    store.put(key, long, T0)
    assert store.next_expiry() == T0 + 60
    assert store.get(key, T0 + 61)[0] == [long]  # already hidden before the purge
    assert store.expire(T0 + 59) == 0
    assert store.expire(T0 + 60) == 1 and len(store) == 1
    assert store.expire(T0 + 600) == 1 and len(store) == 0 and store.stored_keys() == []
    assert store.next_expiry() is None


class MemoryBackend:
    def __init__(self):
        self.rows: dict[tuple[bytes, bytes, bytes], tuple[bytes, int, float]] = {}
        self.fail = False

    def save(self, key, record, author, intent_id, seq, expires, stored_at):
        if self.fail:
            raise OSError("disk full")
        self.rows[(key, author, intent_id)] = (record, seq, stored_at)

    def delete(self, key, author, intent_id):
        self.rows.pop((key, author, intent_id), None)

    def load(self):
        return [(k[0], v[0], v[2]) for k, v in self.rows.items()]


def test_backend_saves_before_ack_deletes_and_restores():
    backend = MemoryBackend()
    store = RecordStore(backend)
    a, b = record(ALICE, 1, ttl=60), record(BOB, 2)
    put(store, a)
    put(store, b, T0 + 1)
    put(store, record(BOB, 2, seq=2), T0 + 2)
    assert len(backend.rows) == 2 and backend.rows[(key_of(b), BOB.pubkey, (2).to_bytes(16, "big"))][1] == 2
    backend.fail = True
    with pytest.raises(OSError):
        put(store, record(ALICE, 7))
    assert len(store) == 2  # unchanged
    backend.fail = False
    store.expire(T0 + 60)
    assert len(backend.rows) == 1
    restored = RecordStore(backend)
    assert restored.restore(T0 + 70) == 1
    assert [r.seq for r in restored.records(key_of(b))] == [2]
    assert restored.records(key_of(b))[0].stored_at == T0 + 2
