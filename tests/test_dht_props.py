"""Hypothesis properties of the record store and the node: state x input never breaks the invariants."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dht import DhtConfig, Node, RecordStore, intent_key
from tests.test_dht_helpers import T0, identity, record
from wire import open_intent
from wire.messages import (
    Contact,
    Error,
    FindNode,
    GetRecords,
    Nodes,
    Ping,
    Pong,
    PutRecords,
    PutResult,
    PutStatus,
    Records,
)

AUTHORS = [identity(50 + i) for i in range(4)]
POOL = [
    record(a, n, seq=seq, ttl=ttl, withdrawn=(seq == 4))
    for a in AUTHORS
    for n in range(3)
    for seq in range(1, 5)
    for ttl in (100, 1000)
]
KEY = intent_key(*(lambda i: (i.category, i.cell))(open_intent(POOL[0])[1]))
INFO = [open_intent(r)[1] for r in POOL]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(POOL) - 1), st.integers(0, 1200)), max_size=60))
@example(puts=[(1, 0), (9, 0), (17, 0), (25, 0), (33, 0), (49, 0)])  # a full key: the third author evicts
def test_store_invariants(puts):
    cfg = DhtConfig(max_records_per_key=5, max_records_per_author_per_key=3)
    store = RecordStore(config=cfg)
    best: dict[tuple[bytes, bytes], int] = {}
    now = T0
    for index, dt in sorted(puts, key=lambda p: p[1]):
        now = max(now, T0 + dt)
        store.expire(now)
        intent = INFO[index]
        ident = (intent.author, intent.id)
        before = {(r.author, r.intent_id): r.seq for r in store.records(KEY)}
        status = store.put(KEY, POOL[index], now)
        after = {(r.author, r.intent_id): r.seq for r in store.records(KEY)}
        if status in (PutStatus.STORED, PutStatus.REPLACED):
            assert after[ident] == intent.seq
            assert ident not in before or before[ident] < intent.seq
            shares = Counter(a for a, _ in before)
            for author, _ in set(before) - set(after):  # evicted: only for author diversity, never by TTL
                assert status is PutStatus.STORED
                assert shares[author] >= shares[intent.author] + 2
        elif status is PutStatus.STALE:
            assert before[ident] >= intent.seq and after == before
        elif status is PutStatus.INVALID:
            assert intent.expires <= now
        recs = store.records(KEY)
        pairs = [(r.author, r.intent_id) for r in recs]
        assert len(pairs) == len(set(pairs))  # never two records for one (author, id)
        assert len(recs) <= 5
        assert max(Counter(r.author for r in recs).values(), default=0) <= 3
        assert len(store) == len(recs) and store.total_bytes == sum(len(r.record) for r in recs)
        for p, seq in after.items():
            best[p] = max(best.get(p, 0), seq)
    stamps = [r.stamp for r in store.records(KEY)]
    assert stamps == sorted(stamps)


MESSAGES = st.one_of(
    st.builds(Ping, st.integers(0, 2**64 - 1)),
    st.builds(FindNode, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32)),
    st.builds(
        PutRecords, st.integers(0, 2**64 - 1), st.just(KEY), st.lists(st.sampled_from(POOL), max_size=4)
    ),
    st.builds(GetRecords, st.integers(0, 2**64 - 1), st.just(KEY), st.none(), st.integers(0, 5), st.none()),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["request", "respond", "error", "fail", "timer", "op", "publish"]),
            st.integers(0, 30),
            MESSAGES,
            st.floats(0, 50),
        ),
        max_size=50,
    )
)
def test_node_survives_any_interleaving(steps):
    """Requests, replies, error replies (soft or not), failures, timers, gets and publishes in any order: no
    exception, every operation ends (once), the table stays within bounds, nothing stays in flight."""
    rng = random.Random(0)
    node = Node(b"\x07" * 32, ["/ip4/10.0.0.1/tcp/1"], DhtConfig(k=4, alpha=2, max_per_subnet=0), rng)
    peers = [Contact(random.Random(i).randbytes(32), [f"/ip4/10.1.{i}.1/tcp/1"]) for i in range(31)]
    now = T0
    sent = []
    ops = set()
    done = set()
    for kind, i, msg, dt in steps:
        now += dt
        if kind == "request":
            node.handle_request(peers[i], msg, now)
        elif kind == "respond" and sent:
            out = sent.pop(i % len(sent))
            req = out.msg
            reply: object
            if isinstance(req, Ping):
                reply = Pong(req.rid)
            elif isinstance(req, FindNode):
                reply = Nodes(req.rid, peers[i : i + 4])
            elif isinstance(req, GetRecords):
                reply = Records(req.rid, POOL[:2], None, peers[:3])
            else:
                reply = PutResult(req.rid, [PutStatus.STORED] * len(req.records))
            node.handle_response(out.peer.pubkey, reply, now)
        elif kind == "error" and sent:
            out = sent.pop(i % len(sent))
            code = ("rate_limited", "busy", "bad_cursor")[i % 3]
            node.handle_response(out.peer.pubkey, Error(out.msg.rid, code), now)
        elif kind == "publish":
            rec = POOL[i % len(POOL)]
            if INFO[i % len(POOL)].expires > now:
                ops.add(node.publish(rec, now))
        elif kind == "fail" and sent:
            out = sent.pop(i % len(sent))
            node.handle_failure(out.peer.pubkey, out.msg.rid, now)
        elif kind == "timer":
            t = node.next_timer()
            if t is not None and t <= now:
                node.handle_timer(now)
        elif kind == "op":
            node.add_contact(peers[i], now)
            ops.add(node.get_records(KEY, now) if i % 2 else node.find_node(peers[i].pubkey, now))
        for out in node.poll():
            if hasattr(out, "msg"):
                sent.append(out)
            else:
                assert out.op_id not in done  # reported once (a publish may report at its quorum)
                done.add(out.op_id)
        assert len(node.table) <= 4 * 256
    # drain: fail everything outstanding and run timers: every op ends
    for _ in range(200):
        for out in sent:
            node.handle_failure(out.peer.pubkey, out.msg.rid, now)
        sent = []
        t = node.next_timer()
        if t is None or ops <= done:
            break
        now = max(now, t)
        node.handle_timer(now)
        for out in node.poll():
            if hasattr(out, "msg"):
                sent.append(out)
            else:
                done.add(out.op_id)
    assert ops <= done
    # fail what is still in flight (background PUTs, job operations): nothing is left running
    for _ in range(1000):
        for out in sent:
            node.handle_failure(out.peer.pubkey, out.msg.rid, now)
        sent = [out for out in node.poll() if hasattr(out, "msg")]
        if not sent:
            break
    assert node.statistics()["ops_running"] == 0 and node.statistics()["inflight"] == 0
