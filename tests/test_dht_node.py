"""The node core: server replies, publish/get over 200 cores, hand-off, probes, timeouts, republish."""

from __future__ import annotations

import hashlib
import random

import pytest

from dht import (
    AddResult,
    Closest,
    DhtConfig,
    Found,
    Node,
    NotFound,
    OpDone,
    Published,
    RoutingTable,
    SendRequest,
    Timeout,
    intent_key,
)
from dht.ops import K_FIND, K_REFRESH
from dht.testing import InProcessNetwork, roundtrip_until_done
from tests.test_dht_helpers import (
    T0,
    identity,
    make_intent,
    multi_record,
    network,
    record,
    shared_network_200,
)
from wire import Action, cbor, open_intent
from wire.errors import LocalProtocolError, RemoteProtocolError
from wire.messages import (
    Contact,
    Error,
    FindNode,
    GetRecords,
    MsgType,
    Nodes,
    Ping,
    Pong,
    PutRecords,
    PutResult,
    PutStatus,
    Records,
    decode_message,
    encode_message,
)

ALICE, BOB = identity(1), identity(2)


def key_of(rec: bytes) -> bytes:
    _, intent = open_intent(rec)
    return intent_key(intent.category, intent.cell)


@pytest.fixture(scope="module")
def net200() -> InProcessNetwork:
    return shared_network_200()


def lone_node(seed: int = 0, **cfg: object) -> Node:
    rng = random.Random(seed)
    return Node(rng.randbytes(32), ["/ip4/10.9.9.9/tcp/1"], DhtConfig(**cfg), rng)  # type: ignore[arg-type]


def peer(i: int, ip: str | None = None) -> Contact:
    return Contact(
        random.Random(1000 + i).randbytes(32), [f"/ip4/{ip or f'10.{i >> 8 & 255}.{i & 255}.1'}/tcp/1"]
    )


# ------------------------------------------------------------------------------------------ server side


def test_server_replies():
    node = lone_node()
    sender = peer(1)
    assert node.handle_request(sender, Ping(7), T0) == Pong(7)
    assert node.table.find(sender.pubkey) is sender  # the sender entered the table
    for i in range(2, 40):
        node.handle_request(peer(i), Ping(i), T0)
    nodes = node.handle_request(sender, FindNode(8, b"\x11" * 32), T0)
    assert isinstance(nodes, Nodes) and nodes.rid == 8 and len(nodes.peers) == 20
    assert sender not in nodes.peers
    good, bad = record(ALICE, 1), record(ALICE, 2, category="electronics/phones")
    res = node.handle_request(sender, PutRecords(9, key_of(good), [good, bad, good]), T0)
    assert res == PutResult(9, [PutStatus.STORED, PutStatus.INVALID, PutStatus.STALE])
    got = node.handle_request(sender, GetRecords(10, key_of(good)), T0)
    assert isinstance(got, Records) and got.records == [good] and got.cursor is None and len(got.peers) == 20
    err = node.handle_request(sender, GetRecords(11, key_of(good), cursor=b"\x00"), T0)
    assert isinstance(err, Error) and err.code == "bad_cursor"
    nobody = Contact(b"\x33" * 32, [])
    node.handle_request(nobody, Ping(12), T0)
    assert node.table.find(nobody.pubkey) is None  # no address listed: not added
    stats = node.statistics()
    assert stats["requests_handled"] == 44 and stats["records"] == 1


def test_oversized_nodes_reply_is_refused_by_wire_and_by_the_node():
    many = [peer(i) for i in range(21)]
    with pytest.raises(LocalProtocolError):
        encode_message(Nodes(1, many))  # we never send it
    frame = cbor.encode(
        [int(MsgType.NODES), {"rid": 1, "peers": [{"pubkey": c.pubkey, "addrs": c.addrs} for c in many]}]
    )
    with pytest.raises(RemoteProtocolError):
        decode_message(frame)  # and a peer's is refused at decoding
    assert len(decode_message(cbor.encode([int(MsgType.NODES), {"rid": 1, "peers": []}])).peers) == 0
    # a driver that didn't decode (the simulator) hands the object over: the node refuses it too
    net = network(30, seed=3)
    nodes = list(net.nodes.values())
    liar = nodes[7]

    def tamper(sender, target, request, reply):
        if target == liar.pubkey and isinstance(request, FindNode):
            return Nodes(reply.rid, many)
        return reply

    net.tamper = tamper
    asker = nodes[12]
    asker.add_contact(liar.contact, net.now)
    res = roundtrip_until_done(net, asker, asker.find_node(liar.node_id, net.now))
    assert isinstance(res, Closest) and liar.contact not in res.peers
    assert asker.statistics()["bad_replies"] >= 1
    assert asker.table.find(liar.pubkey) is None


def test_late_reply_after_timeout_is_ignored_and_failure_is_idempotent():
    node = lone_node(adaptive_timeouts=False)  # the lookup waits the whole rpc_timeout
    target = peer(1)
    node.add_contact(target, T0)
    op = node.find_node(b"\x01" * 32, T0)
    (out,) = node.poll()
    assert isinstance(out, SendRequest) and out.peer is target and isinstance(out.msg, FindNode)
    assert node.next_timer() == T0 + node.config.rpc_timeout
    node.handle_timer(T0 + node.config.rpc_timeout)
    (done,) = node.poll()
    assert isinstance(done, OpDone) and done.op_id == op and done.result == Timeout(b"\x01" * 32, 0, 1)
    node.handle_response(target.pubkey, Nodes(out.msg.rid, []), T0 + 6)
    node.handle_failure(target.pubkey, out.msg.rid, T0 + 6)
    assert node.statistics()["ignored_replies"] == 1 and node.statistics()["failures"] == 1
    assert node.poll() == []


def test_full_bucket_probe_through_the_node():
    node = lone_node(k=2, max_per_subnet=0)
    same = []
    i = 0
    while len(same) < 3:  # three contacts of the same bucket
        c = peer(i)
        if node.table.bucket_index(c) == 255:
            same.append(c)
        i += 1
    node.add_contact(same[0], T0)
    node.add_contact(same[1], T0)
    # a PING is itself a probe: its sender never becomes pending (no chains of probes)
    node.handle_request(same[2], Ping(1), T0)
    assert node.poll() == [] and node.table.pending(255) is None
    node.handle_request(same[2], FindNode(1, b"\x22" * 32), T0)
    (probe,) = node.poll()
    assert probe.peer is same[0] and isinstance(probe.msg, Ping)
    node.handle_failure(same[0].pubkey, probe.msg.rid, T0 + 1)
    assert node.table.bucket(255) == [same[1], same[2]]
    # and a probe that answers keeps the old contact
    node2 = lone_node(k=2, max_per_subnet=0)
    node2.add_contact(same[0], T0)
    node2.add_contact(same[1], T0)
    node2.add_contact(same[2], T0)
    (probe,) = node2.poll()
    node2.handle_response(same[0].pubkey, Pong(probe.msg.rid), T0 + 1)
    assert node2.table.bucket(255) == [same[1], same[0]] and node2.table.pending(255) is None
    # the bucket was probed at T0: within probe_interval a newcomer is dropped, after it a probe again
    node2.handle_request(same[2], FindNode(2, b"\x22" * 32), T0 + 30)
    assert node2.poll() == [] and node2.table.pending(255) is None
    node2.handle_request(same[2], FindNode(3, b"\x22" * 32), T0 + 61)
    (probe,) = node2.poll()
    assert probe.peer is same[1] and node2.table.pending(255) is same[2]


# ------------------------------------------------------------------------------------------ operations


def test_publish_then_get_from_another_node(net200):
    nodes = list(net200.nodes.values())
    rec = record(ALICE, 1, action=Action.SELL)
    res = roundtrip_until_done(net200, nodes[10], nodes[10].publish(rec, net200.now))
    assert isinstance(res, Published) and res.key == key_of(rec)
    # reported at the quorum (15 of 20); the other PUTs went on in the background
    assert res.replicas == 15 and res.statuses.get("STORED", 0) >= 15 and res.replicas + res.pending >= 20
    holders = [n for n in nodes if n._store is not None and n._store.records(key_of(rec))]
    assert 20 <= len(holders) <= 21
    # the holders are the 20 closest nodes to the key (plus possibly the publisher)
    kint = int.from_bytes(key_of(rec), "big")
    closest = sorted(nodes, key=lambda n: n.id_int ^ kint)[:21]
    assert set(map(id, holders)) <= set(map(id, closest))

    asker = nodes[150]
    found = roundtrip_until_done(net200, asker, asker.get_records(key_of(rec), net200.now))
    assert isinstance(found, Found) and found.records == [rec] and found.responders >= 1
    # action filter: nothing is BUY there
    res = roundtrip_until_done(net200, asker, asker.get_records(key_of(rec), net200.now, action=Action.BUY))
    assert isinstance(res, NotFound) and len(res.closest) == asker.config.get_closest  # complete at 8
    # a newer version replaces it everywhere it lands; readers see the newest only
    rec2 = record(ALICE, 1, seq=2)
    res = roundtrip_until_done(net200, nodes[10], nodes[10].publish(rec2, net200.now))
    assert res.statuses.get("REPLACED", 0) >= 15
    found = roundtrip_until_done(net200, asker, asker.get_records(key_of(rec), net200.now))
    assert found.records == [rec2]
    # withdraw: a tombstone hides it from plain gets; watchers (since > 0) see it
    gone = record(ALICE, 1, seq=3, withdrawn=True)
    roundtrip_until_done(net200, nodes[10], nodes[10].publish(gone, net200.now))
    nodes[10].unpublish(ALICE.pubkey, (1).to_bytes(16, "big"))
    assert nodes[10].own_records() == []
    res = roundtrip_until_done(net200, asker, asker.get_records(key_of(rec), net200.now))
    assert isinstance(res, NotFound)
    res = roundtrip_until_done(net200, asker, asker.get_records(key_of(rec), net200.now, since=int(T0)))
    assert isinstance(res, Found) and res.records == [gone]


def test_an_intent_with_extra_groups_is_published_and_found_under_each_of_its_keys(net200):
    nodes = list(net200.nodes.values())
    author = identity(81)
    paris = (48.85, 2.35)
    rec = multi_record(author, 1, extra_groups=("home", "food"), where=paris)
    _, intent = open_intent(rec)
    keys = [intent_key(g, intent.cell) for g in ("vehicles", "home", "food")]
    pub = nodes[12]
    started = pub.statistics()["ops_started"]
    res = roundtrip_until_done(net200, pub, pub.publish(rec, net200.now))
    # one op per key; the primary key's is the one reported (the others ran alongside, unreported)
    assert isinstance(res, Published) and res.key == keys[0] and res.replicas >= 15
    assert pub.statistics()["ops_started"] - started == 3 and len(pub.ops) == 0
    asker = nodes[160]
    for key in keys:
        holders = [n for n in nodes if n._store is not None and n._store.records(key)]
        assert len(holders) >= 20
        found = roundtrip_until_done(net200, asker, asker.get_records(key, net200.now))
        assert isinstance(found, Found) and found.records == [rec]
    # a key of a group it does not name holds nothing of it
    res = roundtrip_until_done(net200, asker, asker.get_records(intent_key("pets", intent.cell), net200.now))
    assert isinstance(res, NotFound)
    # the withdrawn version goes to every key too
    gone = multi_record(author, 1, seq=2, withdrawn=True, extra_groups=("home", "food"), where=paris)
    roundtrip_until_done(net200, pub, pub.publish(gone, net200.now))
    pub.unpublish(author.pubkey, (1).to_bytes(16, "big"))
    for key in keys:
        assert isinstance(roundtrip_until_done(net200, asker, asker.get_records(key, net200.now)), NotFound)


def test_get_follows_pages(net200):
    nodes = list(net200.nodes.values())
    author = identity(77)
    recs = [record(author, n, category="services/moving") for n in range(16)]
    others = [record(identity(100 + i), 1, category="services/moving") for i in range(60)]
    kint = int.from_bytes(key_of(recs[0]), "big")
    for holder in sorted(nodes, key=lambda n: n.id_int ^ kint)[:20]:  # as if published (faster)
        for r in recs + others:
            assert holder.store.put(key_of(r), r, net200.now) is PutStatus.STORED
    found = roundtrip_until_done(net200, nodes[40], nodes[40].get_records(key_of(recs[0]), net200.now))
    assert isinstance(found, Found) and sorted(found.records) == sorted(recs + others)


def test_publish_refuses_invalid_own_records():
    node = lone_node()
    with pytest.raises(LocalProtocolError):
        node.publish(b"nope", T0)
    with pytest.raises(LocalProtocolError):
        node.publish(record(ALICE, ttl=10), T0 + 10)
    # alone: the node keeps the record itself (it is among the k closest it knows)
    op = node.publish(record(ALICE), T0)
    (done,) = node.poll()
    assert done == OpDone(op, Published(done.result.key, 1, {"STORED": 1}, 0, 0))


def _pubkey_near(key: bytes, bits: int, start: int = 0) -> bytes:
    """A 32-byte public key whose node id shares the first ``bits`` bits with ``key``."""
    want = int.from_bytes(key, "big") >> (256 - bits)
    i = start
    while True:
        pk = hashlib.sha256(i.to_bytes(8, "big")).digest()
        if int.from_bytes(hashlib.sha256(pk).digest(), "big") >> (256 - bits) == want:
            return pk
        i += 1


def test_hand_off_to_a_newly_joined_closer_node():
    net = network(60, seed=5)
    nodes = list(net.nodes.values())
    rec = record(BOB, 5)
    key = key_of(rec)
    res = roundtrip_until_done(net, nodes[3], nodes[3].publish(rec, net.now))
    assert res.replicas >= 15
    assert sum(1 for n in nodes if n._store is not None and n._store.records(key)) >= 20
    newcomer = net.add_node(_pubkey_near(key, 12))
    kint = int.from_bytes(key, "big")
    assert min(nodes, key=lambda n: n.id_int ^ kint).id_int ^ kint > newcomer.id_int ^ kint
    roundtrip_until_done(net, newcomer, newcomer.bootstrap([nodes[0].contact], net.now))
    net.deliver()
    assert newcomer._store is not None and [r.record for r in newcomer._store.records(key)] == [rec]
    assert sum(n.statistics()["handoff_puts"] for n in nodes) >= 1


def test_republish_until_expiry_and_unpublish_stops_it():
    net = network(25, seed=6, republish_interval=600.0, replicate_interval=0.0, refresh_interval=0.0)
    nodes = list(net.nodes.values())
    pub = nodes[4]
    rec = record(ALICE, 9, ttl=2000)
    roundtrip_until_done(net, pub, pub.publish(rec, net.now))
    assert pub.own_records() == [rec]
    sent_before = pub.statistics()["requests_sent"]
    net.advance(net.now + 700)
    assert pub.statistics()["requests_sent"] > sent_before  # republished once
    net.advance(net.now + 2000)  # past expiry: dropped everywhere, no more republishing
    assert pub.own_records() == []
    assert all(n._store is None or len(n._store) == 0 for n in nodes)
    assert pub.next_timer() is None
    # unpublish
    rec2 = record(ALICE, 10, ttl=86400)
    roundtrip_until_done(net, pub, pub.publish(rec2, net.now))
    pub.unpublish(ALICE.pubkey, (10).to_bytes(16, "big"))
    sent = pub.statistics()["requests_sent"]
    net.advance(net.now + 700)
    assert pub.statistics()["requests_sent"] == sent


def test_republish_goes_to_every_key_of_an_intent_with_extra_groups():
    net = network(25, seed=6, republish_interval=600.0, replicate_interval=0.0, refresh_interval=0.0)
    nodes = list(net.nodes.values())
    pub = nodes[4]
    rec = multi_record(ALICE, 9, extra_groups=("home",), ttl=5000)
    _, intent = open_intent(rec)
    keys = [intent_key(g, intent.cell) for g in ("vehicles", "home")]
    roundtrip_until_done(net, pub, pub.publish(rec, net.now))
    assert pub.jobs._own_by_key(net.now) == {keys[0]: [rec], keys[1]: [rec]}
    for n in nodes:
        n._store = None  # every copy is lost: only the republish can bring them back
    net.advance(net.now + 700)
    for key in keys:
        holders = [n for n in nodes if n._store is not None and n._store.records(key)]
        assert len(holders) >= 20, key


def test_replication_pushes_stored_records_to_current_closest():
    net = network(40, seed=8, republish_interval=0.0, refresh_interval=0.0, replicate_interval=3600.0)
    nodes = list(net.nodes.values())
    rec = record(BOB, 1, ttl=7 * 86400)
    key = key_of(rec)
    roundtrip_until_done(net, nodes[0], nodes[0].publish(rec, net.now))
    holders = [n for n in nodes if n._store is not None and n._store.records(key)]
    # one holder loses its copy; after an interval without pushes, replication restores it
    victim = holders[0]
    victim._store = None
    net.advance(net.now + 2 * 3600 + 1)
    assert victim._store is not None and [r.record for r in victim._store.records(key)] == [rec]


def test_bootstrap_with_refresh_fills_buckets_and_next_timer_is_consistent():
    config = DhtConfig(refresh_on_bootstrap=True)
    net = InProcessNetwork(config, random.Random(9), now=T0)
    nodes = [net.add_node() for _ in range(25)]
    net.bootstrap_all([nodes[0].contact])
    assert sum(len(n.table) for n in nodes) / 25 >= 20
    for n in nodes:
        t = n.next_timer()
        assert t is not None and T0 + 0.9 * 3600 <= t <= T0 + 1.1 * 3600  # the bucket refresh
        n._timer = None
        assert n.next_timer() == t
    # a refresh round runs lookups and comes back with the next one scheduled
    net.advance(T0 + 1.2 * 3600)
    assert all((n.next_timer() or 0) > T0 + 1.2 * 3600 for n in nodes)


@pytest.mark.parametrize("refresh_paths", [1, 3])
def test_periodic_refresh_runs_on_refresh_paths_and_lookups_on_disjoint_paths(refresh_paths):
    config = DhtConfig(refresh_on_bootstrap=False, disjoint_paths=3, refresh_paths=refresh_paths)
    net = InProcessNetwork(config, random.Random(3), now=T0)
    nodes = [net.add_node() for _ in range(30)]
    net.bootstrap_all([nodes[0].contact])
    node = nodes[5]
    before = set(node.ops.ops)
    node.jobs.refresh(T0 + 10, full_too=True)
    refreshes = [op for i, op in node.ops.ops.items() if i not in before]
    assert refreshes and all(op.kind == K_REFRESH and op.it.paths == refresh_paths for op in refreshes)
    node.find_node(b"\x07" * 32, T0 + 10)
    (find,) = [op for op in node.ops.ops.values() if op.kind == K_FIND]
    assert find.it.paths == 3
    with pytest.raises(ValueError, match="refresh_paths"):
        DhtConfig(disjoint_paths=2, refresh_paths=3)


def test_expired_records_vanish_at_handle_timer():
    node = lone_node()
    rec = record(ALICE, 1, ttl=100)
    node.handle_request(peer(1), PutRecords(1, key_of(rec), [rec]), T0)
    assert node.next_timer() == T0 + 100
    node.handle_timer(T0 + 100)
    assert node.statistics()["records"] == 0


def test_unknown_peer_reply_and_wrong_reply_type():
    node = lone_node()
    target = peer(1)
    node.add_contact(target, T0)
    node.find_node(b"\x05" * 32, T0)
    (out,) = node.poll()
    node.handle_response(peer(2).pubkey, Nodes(out.msg.rid, []), T0)  # someone else answers: ignored
    assert node.statistics()["ignored_replies"] == 1
    node.handle_response(target.pubkey, Pong(out.msg.rid), T0)  # wrong type: a failure
    assert node.statistics()["bad_replies"] == 1 and node.table.find(target.pubkey) is None
    (done,) = node.poll()
    assert isinstance(done, OpDone)


def test_intent_of_make_intent_roundtrips():
    assert open_intent(record(ALICE, 3))[1] == make_intent(ALICE, 3)


def test_get_quorum_stops_early(net200):
    nodes = list(net200.nodes.values())
    rec = record(identity(99), 1, category="electronics/phones")
    roundtrip_until_done(net200, nodes[2], nodes[2].publish(rec, net200.now))
    full = roundtrip_until_done(net200, nodes[90], nodes[90].get_records(key_of(rec), net200.now))
    quick_net = net200
    asker = nodes[91]
    object.__setattr__(asker, "config", DhtConfig(refresh_on_bootstrap=False, get_quorum=1, disjoint_paths=1))
    quick = roundtrip_until_done(quick_net, asker, asker.get_records(key_of(rec), net200.now))
    assert isinstance(full, Found) and isinstance(quick, Found)
    assert quick.records == [rec] and quick.responders == 1 and quick.messages < full.messages


def test_get_times_out_when_nobody_answers():
    net = network(20, seed=14)
    nodes = list(net.nodes.values())
    net.silent.update(n.pubkey for n in nodes[1:])
    res = roundtrip_until_done(net, nodes[0], nodes[0].get_records(b"\x01" * 32, net.now))
    assert isinstance(res, Timeout)
    assert nodes[0].statistics()["ops_running"] == 0


def test_bootstrap_seeds_refused_by_the_table_are_still_asked():
    net = network(10, seed=15)
    first = next(iter(net.nodes.values()))
    newcomer = net.add_node(addrs=["/ip4/10.77.0.1/tcp/1"])

    class RefusingTable(RoutingTable):
        def add(self, contact, now=None, probe=True, group=None):
            return AddResult.REFUSED_SUBNET, None

    newcomer.table = RefusingTable(newcomer.id_int, newcomer.config)
    res = roundtrip_until_done(net, newcomer, newcomer.bootstrap([first.contact], net.now))
    assert len(newcomer.table) == 0
    assert isinstance(res, Closest) and len(res.peers) >= 5


def test_routing_table_export_and_import_through_add_contact():
    net = network(40, seed=16)
    a = list(net.nodes.values())[5]
    saved = a.table.contacts()
    fresh = Node(a.pubkey, a.contact.addrs, a.config, random.Random(1))
    for c in saved:
        fresh.add_contact(c, net.now)
    assert {c.pubkey for c in fresh.table.contacts()} == {c.pubkey for c in saved}
    assert fresh.poll() == []


def test_a_silent_first_contact_does_not_stretch_the_peer_deadlines_a_silent_known_peer_does():
    """Regression (issue 10, liar): every fake contact a liar listed that stayed silent used to double the
    node's peer deadline (to the 5 s cap), so liars slowed every lookup down until it timed out."""
    node = lone_node()
    known, fake, other = peer(1), peer(2), peer(3)
    node.add_contact(known, T0)
    node.find_node(b"\x01" * 32, T0)
    (ask,) = node.poll()
    assert ask.peer is known
    node.handle_response(known.pubkey, Nodes(ask.msg.rid, [fake]), T0 + 0.1)  # a first sample
    (ask_fake,) = [o for o in node.poll() if isinstance(o, SendRequest)]
    assert ask_fake.peer.pubkey == fake.pubkey  # a first contact, listed by a third party
    first = node.peer_timeout(False)
    node.handle_timer(T0 + 0.1 + first)  # its peer deadline passes: no answer
    assert node.peer_timeout(False) == first and node.rtt.first.backoffs == 0
    node.add_contact(other, T0 + 2)
    node.find_node(b"\x02" * 32, T0 + 2)
    assert any(isinstance(o, SendRequest) and o.peer is other for o in node.poll())
    before = node.peer_timeout(True)
    node.handle_timer(T0 + 2 + before)  # a contact of our table stays silent: back off (RFC 6298)
    assert node.peer_timeout(True) == min(2 * before, node.config.rpc_timeout)
    assert node.rtt.known.backoffs == 1


def test_stagger_jobs_draws_each_first_timer_within_one_interval():
    cfg = DhtConfig()
    node = lone_node(3)
    node.stagger_jobs(T0, random.Random(11))
    draws = random.Random(11)
    u_refresh, u_replicate, u_republish = draws.random(), draws.random(), draws.random()
    assert node.jobs.t_refresh == T0 + u_refresh * cfg.refresh_interval
    assert node.next_timer() == node.jobs.t_refresh
    # the first replication and republish, armed later, take their staggered phase ...
    rec = record(ALICE)
    node.handle_request(peer(1), PutRecords(1, key_of(rec), [rec]), T0 + 10)
    assert node.jobs.t_replicate == T0 + 10 + u_replicate * cfg.replicate_interval
    node.publish(record(BOB), T0 + 20)
    assert node.jobs.t_republish == T0 + 20 + u_republish * cfg.republish_interval
    # ... once: the next ones are the interval +-10% again
    first = node.jobs.t_replicate
    node.handle_timer(first)
    assert 0.9 * cfg.replicate_interval <= node.jobs.t_replicate - first <= 1.1 * cfg.replicate_interval
    # without stagger, every node's first refresh is the interval +-10% after its start
    plain = lone_node(3)
    plain.add_contact(plain.contact, T0)
    assert 0.9 * cfg.refresh_interval <= plain.jobs.t_refresh - T0 <= 1.1 * cfg.refresh_interval
