"""The operation lifecycle of the node core (dht.ops): phases by table, step by step with explicit replies."""

from __future__ import annotations

import random

import pytest

from dht import DhtConfig, Node, OpDone, Published, SendRequest
from dht.ops import FAMILY, TRANSITIONS, Event, Phase
from tests.test_dht_helpers import T0, identity, record
from wire.errors import LocalProtocolError
from wire.messages import Contact, FindNode, Nodes, PutRecords, PutResult, PutStatus


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
