"""The operations of the node core (dht.ops, dht.jobs): phases by table, the get's completeness rule, soft
failures, publish at a quorum, bounded jobs — step by step with explicit replies, or over 200 cores."""

from __future__ import annotations

import random

import pytest

from dht import Closest, DhtConfig, Found, Node, OpDone, Published, SendRequest, Timeout, intent_key
from dht.backoff import SOFT_FAILURE_BACKOFF_S
from dht.jobs import MAX_HANDOFF_INFLIGHT, MAX_JOB_OPS
from dht.ops import FAMILY, TRANSITIONS, Event, Phase
from dht.testing import InProcessNetwork, roundtrip_until_done
from tests.test_dht_helpers import T0, identity, multi_record, record, shared_network_200
from wire import Action, open_intent
from wire.errors import LocalProtocolError
from wire.messages import Contact, Error, FindNode, Nodes, PutRecords, PutResult, PutStatus, Records


def lone_node(seed: int = 0, **cfg: object) -> Node:
    rng = random.Random(seed)
    return Node(rng.randbytes(32), ["/ip4/10.9.9.9/tcp/1"], DhtConfig(**cfg), rng)  # type: ignore[arg-type]


def peer(i: int) -> Contact:
    return Contact(random.Random(5000 + i).randbytes(32), [f"/ip4/10.{i >> 8 & 255}.{i & 255}.1/tcp/1"])


def test_every_family_reaches_done_from_lookup():
    for family, table in TRANSITIONS.items():
        phase, seen = Phase.LOOKUP, set()
        while phase is not Phase.DONE:
            assert phase not in seen, family
            seen.add(phase)
            nxt = [table[(phase, e)] for e in Event if (phase, e) in table and table[(phase, e)] is not phase]
            assert nxt, f"{family}: stuck in {phase.name}"
            phase = nxt[0]
    assert set(FAMILY) == set(TRANSITIONS)


def test_publish_goes_lookup_put_done():
    node = lone_node(k=2)
    a = peer(1)
    node.add_contact(a, T0)
    rec = record(identity(3), 1)
    op_id = node.publish(rec, T0)
    (find,) = node.poll()
    assert isinstance(find, SendRequest) and isinstance(find.msg, FindNode)
    assert node.ops.get(op_id).phase is Phase.LOOKUP
    node.handle_response(a.pubkey, Nodes(find.msg.rid, []), T0 + 0.1)
    (put,) = node.poll()
    assert isinstance(put.msg, PutRecords) and put.msg.records == [rec]
    assert node.ops.get(op_id).phase is Phase.PUT
    node.handle_response(a.pubkey, PutResult(put.msg.rid, [PutStatus.STORED]), T0 + 0.2)
    (done,) = node.poll()
    assert isinstance(done, OpDone) and isinstance(done.result, Published)
    assert done.result.replicas == 2  # a and our own store (k=2: we are among the closest)
    assert node.ops.get(op_id) is None and node.statistics()["ops_running"] == 0


def test_an_event_without_a_transition_is_a_bug():
    node = lone_node()
    node.add_contact(peer(1), T0)
    op_id = node.find_node(b"\x01" * 32, T0)
    op = node.ops.get(op_id)
    with pytest.raises(LocalProtocolError):
        node.ops._fire(op, Event.SIDE_IDLE, T0)  # a lookup family op has no side requests


# ------------------------------------------------------------------------------- get: completeness rule


@pytest.fixture(scope="module")
def net200():
    return shared_network_200()


def key_of(rec: bytes) -> bytes:
    _, intent = open_intent(rec)
    return intent_key(intent.category, intent.cell)


def closest_nodes(net, key: bytes, n: int = 20) -> list[Node]:
    kint = int.from_bytes(key, "big")
    return sorted(net.nodes.values(), key=lambda node: node.id_int ^ kint)[:n]


def seed_replicas(net, recs: list[bytes], holders: list[Node]) -> None:
    """Store ``recs`` at ``holders`` directly, as a publish would (faster)."""
    for holder in holders:
        for r in recs:
            assert holder.store.put(key_of(r), r, net.now) is PutStatus.STORED


def test_get_stops_once_the_closest_replicas_have_answered(net200):
    """Regression (issue 9): a get used to run its lookup until all k closest had answered."""
    nodes = list(net200.nodes.values())
    recs = [record(identity(600 + i), 1, category="home/garden") for i in range(5)]
    key = key_of(recs[0])
    seed_replicas(net200, recs, closest_nodes(net200, key))
    # one lookup path each (disjoint paths add their own hops to both alike)
    early_cfg = DhtConfig(refresh_on_bootstrap=False, disjoint_paths=1)
    full_cfg = DhtConfig(refresh_on_bootstrap=False, get_closest=20, disjoint_paths=1)
    messages = {}
    for i, asker in enumerate(nodes[100:120]):
        object.__setattr__(asker, "config", early_cfg)
        early = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now))
        assert isinstance(early, Found) and sorted(early.records) == sorted(recs) and early.complete
        object.__setattr__(asker, "config", full_cfg)
        try:
            full = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now))
        finally:
            object.__setattr__(asker, "config", net200.config)
        assert isinstance(full, Found) and sorted(full.records) == sorted(recs)
        messages[i] = (early.messages, full.messages)
    early_total = sum(e for e, _ in messages.values())
    full_total = sum(f for _, f in messages.values())
    assert early_total < 0.75 * full_total, messages


def test_a_get_does_not_wait_out_the_rpc_timeout_for_lost_requests(net200):
    """Regression (issue 12): three of the 8 closest replicas lost the request (silent): the get used to wait
    for them until the 5 s RPC timeout; it may skip up to k - q of them (the 8 that answer are still among
    the 20 replicas) and finishes at the adaptive peer deadline."""
    nodes = list(net200.nodes.values())
    recs = [record(identity(700 + i), 1, category="property/sale") for i in range(3)]
    key = key_of(recs[0])
    holders = closest_nodes(net200, key)
    seed_replicas(net200, recs, holders)
    one_path = DhtConfig(refresh_on_bootstrap=False, disjoint_paths=1)
    lost = {h.pubkey for h in holders[2:5]}
    net200.silent |= lost
    try:
        for asker in [n for n in nodes[130:140] if n.pubkey not in lost][:5]:
            object.__setattr__(asker, "config", one_path)
            start = net200.now
            try:
                found = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now))
            finally:
                object.__setattr__(asker, "config", net200.config)
            assert isinstance(found, Found) and sorted(found.records) == sorted(recs)
            assert net200.now - start < one_path.rpc_timeout / 2
    finally:
        net200.silent -= lost
        net200.advance(net200.now + 2 * one_path.rpc_timeout)  # the silent requests end


def test_many_records_per_key_are_all_found_over_pages(net200):
    nodes = list(net200.nodes.values())
    recs = [record(identity(700 + i // 4), i, category="fashion/bags") for i in range(150)]  # 3 pages
    key = key_of(recs[0])
    seed_replicas(net200, recs, closest_nodes(net200, key))
    for asker in nodes[:200:10]:
        found = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now))
        assert isinstance(found, Found) and sorted(found.records) == sorted(recs) and found.complete


def test_get_follows_the_cursor_of_every_close_replica(net200):
    """Regression (issue 10): a get followed only the first peer's cursor, so a record on a later page
    of another replica was missed."""
    nodes = list(net200.nodes.values())
    common = [record(identity(800 + i), 1, category="kids/toys") for i in range(70)]  # 2 pages
    key = key_of(common[0])
    holders = closest_nodes(net200, key)
    seed_replicas(net200, common, holders)
    x, y = (
        record(identity(900), 1, category="kids/toys"),
        record(identity(901), 1, category="kids/toys"),
    )
    seed_replicas(net200, [x], holders[:1])
    seed_replicas(net200, [y], holders[1:2])  # each one on its holder's second page only
    asker = nodes[7]
    found = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now))
    assert isinstance(found, Found) and set(found.records) == set(common) | {x, y} and found.complete
    # a page budget that can't read them all: what was read is reported, marked incomplete
    object.__setattr__(asker, "config", DhtConfig(refresh_on_bootstrap=False, get_page_budget=1))
    try:
        short = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now))
    finally:
        object.__setattr__(asker, "config", net200.config)
    assert isinstance(short, Found) and not short.complete and len(short.records) >= 64


def test_tombstones_are_merged_by_seq_before_withdrawn_intents_are_dropped(net200):
    """Regression (issue 10): a withdrawn intent reappeared when some replicas held only the older seq."""
    nodes = list(net200.nodes.values())
    author = identity(950)
    live = record(author, 1, category="sports/books")
    gone = record(author, 1, seq=2, withdrawn=True, category="sports/books")
    other = record(identity(951), 1, category="sports/books")
    key = key_of(live)
    holders = closest_nodes(net200, key)
    seed_replicas(net200, [live, other], holders)
    for h in holders[:3]:
        assert h.store.put(key, gone, net200.now) is PutStatus.REPLACED
    asker = nodes[33]
    found = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now))
    assert isinstance(found, Found) and found.records == [other]
    watch = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now, since=int(T0)))
    assert isinstance(watch, Found) and set(watch.records) == {gone, other}


def test_the_reader_applies_the_stores_created_skew_check(net200):
    """Regression (issue 10): a record created far in the future (refused by every store) was accepted
    when a peer sent it in a GET reply."""
    nodes = list(net200.nodes.values())
    honest = record(identity(960), 1, category="pets/cats")
    future = record(identity(961), 1, category="pets/cats", created=net200.now + 86400)
    key = key_of(honest)
    seed_replicas(net200, [honest], closest_nodes(net200, key))

    def tamper(sender, target, request, reply):
        if isinstance(reply, Records) and request.key == key:
            return Records(reply.rid, [*reply.records, future], reply.cursor, reply.peers)
        return reply

    net200.tamper = tamper
    try:
        found = roundtrip_until_done(net200, nodes[44], nodes[44].get_records(key, net200.now))
    finally:
        net200.tamper = None
    assert isinstance(found, Found) and found.records == [honest]


def test_the_reader_takes_records_of_any_of_their_keys_on_the_asked_side(net200):
    """A get for SELL under the "food" key keeps a courier's OFFER_SERVICE filed also under "food" (the same
    side as SELL), and drops what a replica sends beyond the store's rules: a BUY (the other side) and an
    intent not filed under that key."""
    nodes = list(net200.nodes.values())
    lyon = (45.76, 4.84)
    courier = multi_record(
        identity(970),
        1,
        extra_groups=("food",),
        action=Action.OFFER_SERVICE,
        category="services/moving",
        where=lyon,
    )
    seller = record(identity(971), 1, action=Action.SELL, category="food/meals", where=lyon)
    buyer = record(identity(972), 1, action=Action.BUY, category="food/meals", where=lyon)
    stranger = record(identity(973), 1, action=Action.SELL, where=lyon)  # vehicles/tires only
    key = key_of(seller)
    for holder in closest_nodes(net200, key):
        for r in (courier, seller, buyer):
            assert holder.store.put(key, r, net200.now) is PutStatus.STORED

    def tamper(sender, target, request, reply):
        if isinstance(reply, Records) and request.key == key:  # a replica ignoring the filter and the key
            return Records(reply.rid, [courier, seller, buyer, stranger], reply.cursor, reply.peers)
        return reply

    net200.tamper = tamper
    try:
        found = roundtrip_until_done(net200, nodes[45], nodes[45].get_records(key, net200.now, Action.SELL))
    finally:
        net200.tamper = None
    assert isinstance(found, Found) and sorted(found.records) == sorted([courier, seller])
    honest = roundtrip_until_done(net200, nodes[45], nodes[45].get_records(key, net200.now, Action.BUY))
    assert isinstance(honest, Found) and honest.records == [buyer]


# ------------------------------------------------------------------------------------- soft failures


def test_a_rate_limited_peer_stays_in_the_table_and_is_backed_off():
    """Regression (issue 9): a loaded bootstrap node answering rate_limited was asked again at once (and,
    with the driver's old rid 0, dropped from the table)."""
    node = lone_node()
    boot = peer(1)
    node.add_contact(boot, T0)
    op = node.find_node(b"\x01" * 32, T0)
    (req,) = node.poll()
    node.handle_response(boot.pubkey, Error(req.msg.rid, "rate_limited"), T0 + 0.1)
    (done,) = node.poll()
    assert isinstance(done, OpDone) and done.op_id == op and isinstance(done.result, Timeout)
    assert node.table.find(boot.pubkey) is boot
    stats = node.statistics()
    assert stats["soft_failures"] == 1 and stats["backing_off"] == 1 and stats["failures"] == 0
    # within the back-off nothing is sent to it
    node.find_node(b"\x02" * 32, T0 + 1)
    assert [o for o in node.poll() if isinstance(o, SendRequest)] == []
    assert node.statistics()["backoff_skips"] == 1
    # after it, it is asked again
    node.find_node(b"\x03" * 32, T0 + 0.1 + SOFT_FAILURE_BACKOFF_S)
    (again,) = node.poll()
    assert isinstance(again, SendRequest) and again.peer is boot
    assert node.statistics()["backing_off"] == 0


def test_busy_replicas_count_as_busy():
    node = lone_node(k=2)
    a, b = peer(1), peer(2)
    node.add_contact(a, T0)
    node.add_contact(b, T0)
    node.publish(record(identity(3), 1), T0)
    for out in node.poll():
        node.handle_response(out.peer.pubkey, Nodes(out.msg.rid, []), T0)
    puts = node.poll()
    assert len(puts) == 2 and all(isinstance(o.msg, PutRecords) for o in puts)
    local = len(node.store)  # 1 when we are among the 2 closest
    node.handle_response(puts[0].peer.pubkey, Error(puts[0].msg.rid, "busy"), T0)
    node.handle_response(puts[1].peer.pubkey, PutResult(puts[1].msg.rid, [PutStatus.STORED]), T0)
    (done,) = node.poll()
    assert done.result.statuses == {"BUSY": 1, "STORED": 1 + local} and done.result.replicas == 1 + local
    busy = puts[0].peer
    assert node.table.find(busy.pubkey) is busy and node.backed_off(busy.pubkey, T0 + 1)
    # while we back off, a publish doesn't PUT to it
    node.publish(record(identity(3), 2), T0 + 2)
    for out in node.poll():
        node.handle_response(out.peer.pubkey, Nodes(out.msg.rid, []), T0 + 2)
    assert [o.peer for o in node.poll()] == [puts[1].peer]


def test_a_probe_of_a_backed_off_peer_counts_as_an_answer():
    node = lone_node(k=2, max_per_subnet=0)
    same = [c for c in (peer(i) for i in range(400)) if node.table.bucket_index(c) == 255][:3]
    node.add_contact(same[0], T0)
    node.add_contact(same[1], T0)
    node.find_node(b"\x09" * 32, T0)
    for out in node.poll():
        reply = Error(out.msg.rid, "busy") if out.peer is same[0] else Nodes(out.msg.rid, [])
        node.handle_response(out.peer.pubkey, reply, T0)
    node.poll()
    assert node.table.bucket(255)[0] is same[0]  # the oldest: a newcomer asks for a probe of it
    node.add_contact(same[2], T0 + 1)
    assert node.poll() == []  # no PING: it answered (busy) lately
    assert node.table.find(same[0].pubkey) is same[0] and node.table.find(same[2].pubkey) is None


# ----------------------------------------------------------------------------- publish at its quorum


def test_publish_reports_at_its_quorum_while_the_other_puts_continue():
    """Regression (issue 12): a publish waited for its slowest replica."""
    node = lone_node(publish_quorum=15)
    contacts = [peer(i) for i in range(40)]
    for c in contacts:
        node.add_contact(c, T0)
    node.poll()
    op_id = node.publish(record(identity(4), 1), T0)
    for _ in range(10):  # answer the lookup: nobody knows anyone closer
        outs = node.poll()
        if not outs or not isinstance(outs[0].msg, FindNode):
            break
        for out in outs:
            node.handle_response(out.peer.pubkey, Nodes(out.msg.rid, []), T0)
    puts = [o for o in outs if isinstance(o.msg, PutRecords)]
    local = 1 if node.store.records(puts[0].msg.key) else 0
    assert len(puts) == 20
    need = 15 - local
    for out in puts[:need]:
        node.handle_response(out.peer.pubkey, PutResult(out.msg.rid, [PutStatus.STORED]), T0 + 0.1)
    (done,) = node.poll()
    assert isinstance(done, OpDone) and done.op_id == op_id and isinstance(done.result, Published)
    assert done.result.replicas == 15 and done.result.pending == 20 - need
    assert node.ops.get(op_id).phase is Phase.BACKGROUND and node.statistics()["ops_background"] == 1
    for out in puts[need:]:  # the stragglers: answered or not, no second report
        node.handle_failure(out.peer.pubkey, out.msg.rid, T0 + 5)
    assert node.poll() == [] and node.ops.get(op_id) is None
    assert node.statistics()["published_at_quorum"] == 1


# --------------------------------------------------------------------------------- bounded jobs


def _records_under_many_keys(n: int) -> list[bytes]:
    return [record(identity(1000 + i), 1, where=(40.0 + i * 0.5, 10.0)) for i in range(n)]


def test_replication_runs_a_bounded_number_of_lookups_at_once():
    """Regression (issue 10): replication started one lookup per stored key at once."""
    node = lone_node(replicate_interval=100.0, refresh_interval=0.0)
    for c in (peer(i) for i in range(30)):
        node.add_contact(c, T0)
    node.poll()
    recs = _records_under_many_keys(40)
    for r in recs:
        assert node.put_local(key_of(r), [r], T0) == [PutStatus.STORED]
    node.handle_timer(node.next_timer())
    first = node.poll()
    assert node.statistics()["job_ops_running"] == MAX_JOB_OPS
    assert len(first) <= MAX_JOB_OPS * node.config.alpha
    keys_looked_up = set()
    now = node.next_timer()
    sent = first
    for _ in range(2000):  # answer everything: each op ends, the next one starts
        if not sent:
            break
        for out in sent:
            msg = out.msg
            if isinstance(msg, FindNode):
                keys_looked_up.add(msg.target)
                node.handle_response(out.peer.pubkey, Nodes(msg.rid, []), now)
            else:
                node.handle_response(out.peer.pubkey, PutResult(msg.rid, [PutStatus.STALE]), now)
        sent = node.poll()
        assert node.statistics()["job_ops_running"] <= MAX_JOB_OPS
    assert {key_of(r) for r in recs} <= keys_looked_up
    assert node.statistics()["job_ops_waiting"] == 0


def test_hand_off_sends_a_bounded_number_of_puts_at_once():
    """Regression (issue 10): a new close contact received a PUT for every stored key at once."""
    node = lone_node()
    recs = _records_under_many_keys(30)
    for r in recs:
        node.handle_request(peer(1), PutRecords(1, key_of(r), [r]), T0)
    node.poll()
    newcomer = peer(500)
    node.add_contact(newcomer, T0)  # table of two: both among the k closest to every key
    pushed = set()
    outs = node.poll()
    while outs:
        assert len(outs) <= MAX_HANDOFF_INFLIGHT
        for out in outs:
            assert isinstance(out.msg, PutRecords) and out.peer is newcomer
            pushed.update(out.msg.records)
            node.handle_response(newcomer.pubkey, PutResult(out.msg.rid, [PutStatus.STORED]), T0)
        outs = node.poll()
    assert pushed == set(recs)
    assert node.statistics()["handoff_requests_inflight"] == 0


def test_job_operations_that_end_at_once_drain_the_queue():
    node = lone_node(replicate_interval=100.0, refresh_interval=0.0)  # no contacts: every lookup ends at once
    for r in _records_under_many_keys(3 * MAX_JOB_OPS):
        node.put_local(key_of(r), [r], T0)
    node.handle_timer(node.next_timer())
    stats = node.statistics()
    assert stats["job_ops_running"] == 0 and stats["job_ops_waiting"] == 0 and stats["ops_running"] == 0
    assert stats["ops_done"] == 3 * MAX_JOB_OPS


def test_a_loaded_bootstrap_node_is_kept_and_asked_again_after_the_back_off():
    """Regression (issue 9): a newcomer whose only seed was loaded dropped it and could never join."""
    net = InProcessNetwork(DhtConfig(refresh_on_bootstrap=False), random.Random(31), now=T0)
    nodes = [net.add_node() for _ in range(30)]
    net.bootstrap_all([nodes[0].contact])
    seed = nodes[0]
    newcomer = net.add_node()
    net.busy.add(seed.pubkey)
    res = roundtrip_until_done(net, newcomer, newcomer.bootstrap([seed.contact], net.now))
    assert isinstance(res, Timeout) and newcomer.table.find(seed.pubkey) is not None
    net.busy.clear()
    res = roundtrip_until_done(net, newcomer, newcomer.find_node(newcomer.node_id, net.now))
    assert isinstance(res, Timeout) and res.messages == 0  # still backing off: nothing sent
    net.now += SOFT_FAILURE_BACKOFF_S
    res = roundtrip_until_done(net, newcomer, newcomer.find_node(newcomer.node_id, net.now))
    assert isinstance(res, Closest) and len(res.peers) == 20 and len(newcomer.table) >= 20
