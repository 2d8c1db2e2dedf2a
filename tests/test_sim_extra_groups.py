"""Intents filed under extra taxonomy groups in the simulator (``--extra-share``): the factory's draws,
lookups through every key, the figures that measure the DHT cost, determinism of the default path, the CLI."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from dht.keys import intent_key, keys_for_record
from sim import SimConfig, run_simulation
from sim.cli import main
from sim.metrics import MACHINE_KEYS
from sim.network import derive_rng, engine_for, join_network
from sim.population import Population
from sim.runner import START_TIME
from sim.workload import IntentFactory, PublishedIntent, Publisher
from wire.identity import Identity
from wire.intent import Action
from wire.records import open_record
from wire.taxonomy import category_codes, group_names

AUTHOR = Identity(bytes(range(32)))
BASE = SimConfig(nodes=300, publishes=200, lookups=200, seed=5, join="fast", fast_bootstraps=10)


def _seeded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in figures.items() if k not in MACHINE_KEYS}


def _group(category: str) -> str:
    return category.split("/", 1)[0]


def test_factory_files_a_share_of_intents_under_one_other_group():
    factory = IntentFactory(random.Random(1), extra_share=0.5)
    items = [factory.make_published(AUTHOR, 0, START_TIME) for _ in range(400)]
    extra = [p for p in items if p.keys]
    assert 150 <= len(extra) <= 250
    for item in items:
        _, view = open_record(item.record)
        intent = view.message
        assert keys_for_record(view) == item.all_keys  # the keys the DHT stores it under, primary first
        assert item.key == intent_key(intent.category, intent.cell)
        if intent.extra_groups is None:
            assert item.keys == () and item.all_keys == (item.key,)
            continue
        (other,) = intent.extra_groups
        assert other in group_names() and other != _group(intent.category)
        assert item.keys == (item.key, intent_key(other, intent.cell))
    drawn = {open_record(p.record)[1].message.extra_groups[0] for p in extra}
    assert len(drawn) > 5  # spread over the taxonomy, not one favourite


def test_extra_group_comes_from_the_factory_categories_or_the_whole_taxonomy():
    codes = sorted(category_codes())
    by_group: dict[str, list[str]] = {}
    for code in codes:
        by_group.setdefault(_group(code), []).append(code)
    g1, g2 = sorted(by_group)[:2]
    two = IntentFactory(random.Random(2), categories=by_group[g1] + by_group[g2], extra_share=1.0)
    for _ in range(30):
        intent, _record, _key = two.make(AUTHOR, START_TIME)
        assert intent.groups in ((g1, g2), (g2, g1))
    one = IntentFactory(random.Random(3), categories=by_group[g1], extra_share=1.0)
    others = set()
    for _ in range(30):
        intent, _record, _key = one.make(AUTHOR, START_TIME)
        assert intent.groups[0] == g1 and intent.extra_groups is not None
        others.add(intent.extra_groups[0])
    assert g1 not in others and len(others) > 3
    with pytest.raises(ValueError):
        IntentFactory(random.Random(4), extra_share=1.5)


def test_zero_share_draws_nothing_extra():
    plain, zero = IntentFactory(random.Random(6)), IntentFactory(random.Random(6), extra_share=0.0)
    for _ in range(50):
        a = plain.make_published(AUTHOR, 0, START_TIME)
        b = zero.make_published(AUTHOR, 0, START_TIME)
        assert b.keys == ()
        assert open_record(a.record)[1].message == open_record(b.record)[1].message
    assert plain.rng.getstate() == zero.rng.getstate()


def test_a_lookup_asks_one_key_drawn_uniformly():
    single = PublishedIntent(b"k" * 32, b"r", Action.SELL, 0)
    rng = random.Random(7)
    state = rng.getstate()
    assert single.lookup_key(rng) == single.key and rng.getstate() == state  # no draw for one key
    double = dataclasses.replace(single, keys=(b"k" * 32, b"x" * 32))
    asked = [double.lookup_key(rng) for _ in range(400)]
    assert 150 <= asked.count(b"x" * 32) <= 250


def test_every_record_is_found_through_each_of_its_keys():
    config = dataclasses.replace(BASE, publishes=20, extra_share=1.0)
    config.validate()
    engine = engine_for(config, START_TIME)  # BASE has no loss
    factory = IntentFactory(derive_rng(config.seed, "workload"), config.region, extra_share=1.0)
    pop = Population.build(config, engine, factory)
    join_network(config, engine, pop.ids)
    pub = Publisher(engine, factory, pop.identities, config.publishes, derive_rng(config.seed, "test"))
    pub.start()
    engine.run(stop=pub.finished)
    engine.run(until=engine.now + 30.0, stop=pub.settled)  # the extra keys' publishes end too
    assert pub.settled() and len(pub.published) == config.publishes
    assert pub.keys_published == 2 * config.publishes
    searcher = pop.honest_live()[0]
    found: list[bool] = []
    for item in pub.published:
        assert len(item.all_keys) == 2
        for key in item.all_keys:

            def on_done(_i: int, result: Any, _started: float, record: bytes = item.record) -> None:
                found.append(record in (getattr(result, "records", None) or []))

            def start(node: Any, now: float, key: bytes = key) -> int:
                return int(node.get_records(key, now))

            engine.start_op(searcher, start, on_done)
            engine.run(stop=lambda: engine.pending_ops() == 0)
    assert found == [True] * (2 * config.publishes)


def test_run_measures_keys_and_messages_per_publish():
    plain = run_simulation(BASE).to_dict()
    half = run_simulation(dataclasses.replace(BASE, extra_share=0.5)).to_dict()
    assert plain["extra_share"] == 0.0 and plain["keys_per_publish"] == 1.0
    assert half["extra_share"] == 0.5
    assert 1.3 <= half["keys_per_publish"] <= 1.7
    assert half["publish_ok"] == plain["publish_ok"] == 1.0
    assert half["lookup_success"] == plain["lookup_success"] == 1.0  # found through either key
    assert half["lookup_outcomes"] == {"Found": BASE.lookups}
    assert half["publish_msgs_per_publish"] == pytest.approx(half["publish_msgs"] / BASE.publishes, abs=1e-3)
    # the extra ops cost about one more publish each
    extra = half["keys_per_publish"] - 1
    gain = half["publish_msgs_per_publish"] / plain["publish_msgs_per_publish"]
    assert 1 + 0.6 * extra < gain < 1 + 1.4 * extra
    zero = run_simulation(dataclasses.replace(BASE, extra_share=0.0)).to_dict()
    assert _seeded(zero) == _seeded(plain)  # the default path draws no extra random number


def test_churn_run_reports_keys_per_publish():
    config = SimConfig(
        nodes=150,
        publishes=20,
        lookups=60,
        seed=4,
        join="fast",
        fast_bootstraps=10,
        churn="exp:30m",
        duration_h=1 / 6,
        sample_min=5,
        replica_samples=10,
        extra_share=1.0,
    )
    figs = run_simulation(config).to_dict()
    assert figs["extra_share"] == 1.0 and figs["keys_per_publish"] == 2.0
    assert figs["lookups_done"] > 0 and figs["lookup_success"] >= 0.9


def test_extra_share_is_validated_and_reaches_the_config(capsys):
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="--extra-share"):
            SimConfig(extra_share=bad).validate()
    SimConfig(extra_share=1.0).validate()
    with pytest.raises(SystemExit) as exc:
        main(["sim", "run", "--extra-share", "1.5"])
    assert exc.value.code == 2
    assert "--extra-share" in capsys.readouterr().err
    from sim.cli import build_parser, config_from_args

    args = build_parser().parse_args(["sim", "run", "--extra-share", "0.4"])
    assert config_from_args(args).extra_share == 0.4
