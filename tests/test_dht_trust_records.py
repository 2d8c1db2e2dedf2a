"""Profiles and ratings in the DHT: their own key namespaces, the store's rules, and a publish/get round."""

from __future__ import annotations

import dataclasses

from dht import RecordStore
from dht.events import Found, Published
from dht.keys import intent_key, key_for_record, profile_key, reputation_key
from dht.testing import roundtrip_until_done
from tests.test_dht_helpers import T0, identity, network, record
from tests.test_wire_records import forge
from tests.test_wire_strategies import rating_of
from wire.intent import Action
from wire.messages import AgentProfile, MsgType, PutStatus
from wire.records import open_record, seal_profile, seal_rating
from wire.taxonomy import category_codes

ALICE, BOB, CAROL = identity(1), identity(2), identity(3)


def profile_record(who=ALICE, seq: int = 1, created: float = T0, **changes: object) -> bytes:
    fields: dict[str, object] = {
        "seq": seq, "created": int(created), "expires": int(created) + 86400,
        "protocols": ["/metaspace/trust/1.0.0"], "handle": "@alice/agent",
    }  # fmt: skip
    fields.update(changes)
    return seal_profile(who, AgentProfile(**fields))  # type: ignore[arg-type]


def rating_record(rater=ALICE, subject=BOB, seq: int = 1, **changes: object) -> bytes:
    deal_time = int(T0) - 60
    rating = rating_of(
        rater, subject, seq=seq, deal_time=deal_time, created=int(T0), expires=int(T0) + 86400, **changes
    )
    return seal_rating(rater, rating)


def test_each_kind_has_its_own_key_namespace():
    keys = {profile_key(ALICE.pubkey), reputation_key(ALICE.pubkey), profile_key(BOB.pubkey)}
    assert len(keys) == 3
    _, view = open_record(profile_record())
    assert key_for_record(view) == profile_key(ALICE.pubkey)
    _, view = open_record(rating_record())
    assert key_for_record(view) == reputation_key(BOB.pubkey)  # stored under the *rated* agent
    _, view = open_record(record(ALICE))
    assert key_for_record(view) == intent_key("vehicles/tires", view.message.cell)  # type: ignore[union-attr]


def test_profiles_are_stored_under_their_authors_key_and_replaced_by_seq():
    store = RecordStore()
    rec = profile_record()
    assert store.put(profile_key(BOB.pubkey), rec, T0) is PutStatus.INVALID  # someone else's key
    assert store.put(reputation_key(ALICE.pubkey), rec, T0) is PutStatus.INVALID
    assert store.put(profile_key(ALICE.pubkey), rec, T0) is PutStatus.STORED
    newer = profile_record(seq=2, handle="@alice/tires")
    assert store.put(profile_key(ALICE.pubkey), newer, T0) is PutStatus.REPLACED
    assert store.put(profile_key(ALICE.pubkey), rec, T0) is PutStatus.STALE
    assert store.get(profile_key(ALICE.pubkey), T0) == ([newer], None)
    assert store.get(profile_key(ALICE.pubkey), T0, action=Action.SELL) == ([], None)  # no action
    assert store.put(profile_key(ALICE.pubkey), newer, T0 + 86400) is PutStatus.INVALID  # expired
    assert store.expire(T0 + 86400) == 1 and len(store) == 0


def test_oversized_profiles_and_ratings_without_a_deal_store_nothing():
    store = RecordStore()
    big = AgentProfile(
        seq=1, created=int(T0), expires=int(T0) + 60, handle="@a/b",
        protocols=[f"/metaspace/a-much-longer-protocol-name-{i:02d}/1.0.0" for i in range(12)],
        categories=sorted(category_codes())[:16],
        languages=["es", "en", "pt-BR", "zh", "fr", "de", "ja", "ko"],
    )  # fmt: skip
    assert store.put(profile_key(ALICE.pubkey), forge(ALICE, MsgType.AGENT_PROFILE, big), T0) is (
        PutStatus.INVALID
    )
    genuine = rating_of(ALICE, BOB, created=int(T0), expires=int(T0) + 600)
    by_carol = forge(CAROL, MsgType.REPUTATION_SHARE, genuine)  # Carol never dealt with Bob
    forged = forge(ALICE, MsgType.REPUTATION_SHARE, dataclasses.replace(genuine, seller_signature=bytes(64)))
    for bad in (by_carol, forged):
        assert store.put(reputation_key(BOB.pubkey), bad, T0) is PutStatus.INVALID
    assert len(store) == 0 and store.statistics()["invalid"] == 3


def test_one_rating_per_deal_per_rater_renewed_by_seq():
    store = RecordStore()
    key = reputation_key(BOB.pubkey)
    first = rating_record()
    assert store.put(key, first, T0) is PutStatus.STORED
    assert store.put(key, rating_record(score=1), T0) is PutStatus.STALE  # same deal, same seq
    assert store.put(key, rating_record(seq=2), T0) is PutStatus.REPLACED  # a renewal
    other_deal = rating_record(session=b"t" * 16)
    from_bob = rating_record(BOB, ALICE)  # Bob's rating of Alice lives under Alice's key
    assert store.put(key, other_deal, T0) is PutStatus.STORED
    assert store.put(key, from_bob, T0) is PutStatus.INVALID
    assert store.put(reputation_key(ALICE.pubkey), from_bob, T0) is PutStatus.STORED
    assert len(store.get(key, T0)[0]) == 2


def test_profiles_and_ratings_publish_and_get_over_a_network():
    net = network(40, seed=5)
    nodes = list(net.nodes.values())
    for rec in (profile_record(), rating_record()):
        res = roundtrip_until_done(net, nodes[3], nodes[3].publish(rec, net.now))
        assert isinstance(res, Published) and res.replicas >= 10
    found = roundtrip_until_done(net, nodes[30], nodes[30].get_records(profile_key(ALICE.pubkey), net.now))
    assert isinstance(found, Found) and found.records == [profile_record()]
    found = roundtrip_until_done(net, nodes[31], nodes[31].get_records(reputation_key(BOB.pubkey), net.now))
    assert isinstance(found, Found) and found.records == [rating_record()]
