"""Hostile node variants in the simulator: what each one answers, the hook, and whole runs under attack."""

from __future__ import annotations

import dataclasses
import hashlib
import random

import pytest

from dht.config import DhtConfig
from dht.keys import contact_id, id_int
from dht.node import Node
from sim import SimConfig, run_simulation
from sim.adversary import (
    ATTACKS,
    Attack,
    AttackContext,
    DroppingNode,
    EclipseAttack,
    FakeContacts,
    LiarAttack,
    register_attack,
)
from sim.cli import main
from wire.messages import Contact, FindNode, GetRecords, Nodes, Ping, Pong, PutRecords, PutResult, Records

CFG = DhtConfig()
NOW = 1_790_000_000.0
ME = Contact(b"\x01" * 32, ["/ip4/20.0.0.1/tcp/4001"])


def _ctx(honest: int = 500, k: int = 20, seed: int = 1) -> AttackContext:
    rng = random.Random(seed)
    ids = [int.from_bytes(hashlib.sha256(rng.randbytes(32)).digest(), "big") for _ in range(honest)]
    return AttackContext(
        rng=random.Random(seed + 1),
        k=k,
        nodes=honest * 2,
        honest_ids=ids,
        draw_place=lambda r: ("vehicles/tires", f"cell{r.randrange(1000)}"),
        place_key=lambda place: hashlib.sha256(place[1].encode()).digest(),
    )


def test_dropping_node_answers_ping_only():
    node = DroppingNode(b"\x02" * 32, ["/ip4/20.0.0.2/tcp/4001"], CFG, random.Random(1))
    assert isinstance(node.handle_request(ME, Ping(7), NOW), Pong)
    assert node.handle_request(ME, FindNode(8, b"\x00" * 32), NOW) is None
    assert node.handle_request(ME, GetRecords(9, b"\x00" * 32), NOW) is None
    assert node.table.find(ME.pubkey) is not None  # it still learns who talks to it


def test_fake_contacts_are_ground_close_to_any_target():
    pool = FakeContacts(20_000, random.Random(3))
    rng = random.Random(4)
    for _ in range(20):
        target = rng.randbytes(32)
        got = pool.closest(target, 8)
        t = id_int(target)
        dists = [contact_id(c) ^ t for c in got]
        assert dists == sorted(dists) and len(got) == 8
        # brute force over the pool: the window finds (nearly) the true closest
        best = sorted(int.from_bytes(hashlib.sha256(k).digest(), "big") ^ t for k in pool._keys)[:8]
        assert dists[0] == best[0] and len(set(dists) & set(best)) >= 6
        # far closer than the closest of 500 honest nodes would typically be (~2**247 away)
        assert dists[0] < (1 << 256) >> 10


def test_liar_answers_with_fakes_and_swallows_puts():
    attack = LiarAttack(_ctx(), {"pool": 5000})
    node = attack.make_node(b"\x03" * 32, ["/ip4/20.0.0.3/tcp/4001"], CFG, random.Random(2))
    target = b"\x42" * 32
    nodes = node.handle_request(ME, FindNode(1, target), NOW)
    assert isinstance(nodes, Nodes) and len(nodes.peers) == CFG.k
    assert nodes.peers == attack.fakes.closest(target, CFG.k)
    records = node.handle_request(ME, GetRecords(2, target), NOW)
    assert isinstance(records, Records) and records.records == [] and len(records.peers) == CFG.k
    put = node.handle_request(ME, PutRecords(3, target, [b"x", b"y"]), NOW)
    assert isinstance(put, PutResult) and len(put.statuses) == 2
    assert node.statistics()["records"] == 0  # "stored", kept nothing
    assert attack.statistics() == {"liar_pool": 5000}


def test_eclipse_sybils_are_ground_next_to_targets_and_point_to_each_other():
    ctx = _ctx(honest=400, k=10)
    attack = EclipseAttack(ctx, {"per_key": 12})
    keys = attack.plan(36)
    assert len(keys) == 36 and len(attack.places()) == 3
    cores = [
        attack.make_node(pk, [f"/ip4/30.0.{j}.1/tcp/4001"], CFG, random.Random(j))
        for j, pk in enumerate(keys)
    ]
    attack.ready(cores)
    for t, place in enumerate(attack.places()):
        key = ctx.place_key(place)
        kint = id_int(key)
        kth_honest = sorted(h ^ kint for h in ctx.honest_ids)[ctx.k - 1]
        group = cores[12 * t : 12 * (t + 1)]
        assert all(contact_id(c.contact) ^ kint < kth_honest for c in group)
        reply = group[0].handle_request(ME, GetRecords(5, key), NOW)
        assert reply.records == []
        fellows = {c.contact.pubkey for c in group} - {ME.pubkey}
        assert {p.pubkey for p in reply.peers} <= fellows and len(reply.peers) == CFG.k - 8
        dists = [contact_id(p) ^ kint for p in reply.peers]
        assert dists == sorted(dists)
    stats = attack.statistics()
    assert stats["eclipse_keys"] == 3 and stats["grind_hashes"] >= 36


BASE = SimConfig(nodes=300, publishes=30, lookups=150, seed=5, join="fast", fast_bootstraps=10)


def test_runs_under_each_attack_report_success_and_availability():
    clean = run_simulation(BASE).to_dict()
    assert clean["record_availability"] == 1.0 and clean["honest_replicas_p50"] == BASE.k
    out = {}
    for attack in ("drop", "liar", "eclipse"):
        figs = run_simulation(dataclasses.replace(BASE, malicious=0.2, attack=attack)).to_dict()
        out[attack] = figs
        assert figs["malicious_nodes"] == 60
        assert sum(figs["lookup_outcomes"].values()) == BASE.lookups  # every lookup ended, typed
        assert 0.0 <= figs["lookup_success"] <= 1.0 and 0.0 <= figs["record_availability"] <= 1.0
    # droppers cost a peer deadline each (dht.rtt: adaptive, well under the RPC timeout): lookups get slower
    assert out["drop"]["latency_ms_p50"] > 2 * clean["latency_ms_p50"]
    # liars hand out fake contacts nobody runs, and swallow replicas
    assert out["liar"]["unreachable"] > 0
    assert out["liar"]["honest_replicas_p50"] < BASE.k
    # sybils ground next to the target keys take replicas away and make some lookups fail
    assert out["eclipse"]["eclipse_keys"] >= 1
    assert out["eclipse"]["honest_replicas_p50"] < BASE.k
    assert out["eclipse"]["lookup_success"] < 1.0


def test_the_hook_takes_a_new_attack():
    class GetSilentNode(Node):
        def handle_request(self, sender, msg, now):
            return None if isinstance(msg, GetRecords) else super().handle_request(sender, msg, now)

    class GetSilent(Attack):
        name = "get_silent_test"

        def make_node(self, pubkey, addrs, config, rng):
            return GetSilentNode(pubkey, addrs, config, rng)

    register_attack("get_silent_test", GetSilent)
    try:
        with pytest.raises(ValueError, match="already"):
            register_attack("get_silent_test", GetSilent)
        figs = run_simulation(dataclasses.replace(BASE, malicious=0.1, attack="get_silent_test")).to_dict()
        assert figs["malicious_nodes"] == 30 and figs["lookup_success"] == 1.0
    finally:
        del ATTACKS["get_silent_test"]
    with pytest.raises(ValueError):
        register_attack("none", GetSilent)


def test_attack_parameters_are_checked():
    with pytest.raises(ValueError, match="needs an --attack"):
        run_simulation(dataclasses.replace(BASE, malicious=0.1))
    with pytest.raises(ValueError, match="needs --malicious"):
        run_simulation(dataclasses.replace(BASE, attack="drop"))
    with pytest.raises(ValueError, match="unknown --attack"):
        run_simulation(dataclasses.replace(BASE, malicious=0.1, attack="meteor"))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        run_simulation(dataclasses.replace(BASE, malicious=1.0, attack="drop"))


def test_cli_run_with_an_attack(capsys):
    argv = ["sim", "run", "--nodes", "120", "--publishes", "10", "--lookups", "30", "--join", "fast"]
    argv += ["--malicious", "0.2", "--attack", "liar", "--attack-option", "pool=3000", "--json"]
    assert main(argv) == 0
    import json

    figs = json.loads(capsys.readouterr().out)
    assert figs["attack"] == "liar" and figs["malicious_nodes"] == 24 and figs["liar_pool"] == 3000


def _near(ranks: list[int], k: int) -> int:
    """Sybils among the k closest ids of their key, given their honest ranks (closest first, -1: far)."""
    return sum(1 for j, r in enumerate(ranks) if r >= 0 and r + j < k)


def test_eclipse_sampling_matches_real_grinding_with_the_puzzle():
    """The sampled outcome (binomial count of usable ids, order statistics, honest ranks) has the law of
    really generating budget x per_key keys, keeping those with the puzzle work and the per_key closest."""
    import numpy as np

    from dht.keys import id_puzzle_bits

    ctx = _ctx(honest=400, k=10, seed=7)
    bits, budget, want, keys = 4, 200, 5, 300
    attack = EclipseAttack(ctx, {"per_key": want, "budget": budget, "puzzle_bits": bits})
    tops = np.array([h >> 192 for h in ctx.honest_ids], dtype=np.uint64)
    rng = random.Random(8)
    gen = np.random.default_rng(9)
    sampled = brute = 0
    for _ in range(keys):
        key = rng.randbytes(32)
        k64 = int.from_bytes(key[:8], "big")
        honest = np.sort(tops ^ np.uint64(k64))
        sampled += _near(attack._ranks(want, honest, gen), ctx.k)
        usable = []
        for _ in range(budget * want):
            pk = rng.randbytes(32)
            if id_puzzle_bits(pk) >= bits:
                usable.append(int.from_bytes(hashlib.sha256(pk).digest()[:8], "big") ^ k64)
        best = sorted(usable)[:want]
        brute += _near([int(np.searchsorted(honest, np.uint64(d))) for d in best], ctx.k)
    # ~1.5 sybils per key among the 10 closest either way; 300 keys: within a few standard errors
    assert 300 < brute < 700
    assert abs(sampled - brute) < 0.2 * brute


def test_puzzle_bits_keep_sybils_away_from_their_key_for_the_same_budget():
    ctx = _ctx(honest=400, k=10)
    near = []
    for bits in (0, 8, 64):
        attack = EclipseAttack(ctx, {"per_key": 12, "budget": 160, "puzzle_bits": bits})
        keys = attack.plan(36)
        assert len(set(keys)) == 36
        stats = attack.statistics()
        assert stats["eclipse_puzzle_bits"] == bits and stats["attacker_keygens"] == 160 * 36
        if bits == 64:  # no usable id at all: every sybil sits at a random place
            assert stats["eclipse_far"] == 36
        count = 0  # brute force: the sybils among the k closest of their key, honest and sybil ids together
        for t, place in enumerate(attack.places()):
            kint = id_int(ctx.place_key(place))
            mine = [int.from_bytes(hashlib.sha256(pk).digest(), "big") ^ kint
                    for pk, g in zip(keys, attack._group, strict=True) if g == t]  # fmt: skip
            everyone = sorted([(h ^ kint, 0) for h in ctx.honest_ids] + [(d, 1) for d in mine])
            count += sum(s for _, s in everyone[: ctx.k])
        assert count == stats["eclipse_near_k"]
        near.append(count)
    # 0 bits: most of the 3 x 10 closest places are sybils; 8 bits (7.5 usable ids per key) or none: a few
    assert near[0] >= 0.7 * 3 * ctx.k and near[1] <= 5 and near[2] <= 5
