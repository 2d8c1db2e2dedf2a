"""The cost-of-watching model (sim/watch.py): calibration on the real core, load arithmetic, churn, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.churn import parse_churn
from sim.cli import main
from sim.watch import Calibration, WatchConfig, calibrate, closest_nodes, push_churn, run_watch

SMALL = {"nodes": 2000, "intents": 20_000, "calib_nodes": 200, "calib_gets": 60, "churn_samples": 300}


def _calib(k: int = 20) -> Calibration:
    """A fixed calibration, so the load arithmetic can be checked by hand."""
    return Calibration(
        nodes=0,
        msgs_per_get=15.0,
        hits=[1.0] * 8 + [0.1] * (k - 8),
        get_ms=[200.0] * 10,
        publish_ms=[300.0] * 10,
        msgs_per_publish=60.0,
        rtt_ms=50.0,
    )


def test_calibration_on_the_real_core():
    cal = calibrate(WatchConfig(**SMALL))
    assert cal.nodes == 200 and len(cal.hits) == 20 and len(cal.get_ms) == 60
    assert all(h >= 0.95 for h in cal.hits[:8])  # a get asks its 8 closest (DhtConfig.get_closest)
    assert sum(cal.hits[8:]) < 8
    assert 8 <= cal.msgs_per_get <= 60 and cal.msgs_per_publish >= 20
    assert 50 < np.median(cal.get_ms) < 2000


def test_poll_load_is_the_workload_times_the_get_cost():
    cfg = WatchConfig(**SMALL, churn="none")
    figs = run_watch(cfg, _calib())
    gets_per_s = cfg.intents * figs["cells_per_intent"] / cfg.poll_s
    publishes_per_s = cfg.intents / (cfg.intent_life_h * 3600)
    want = (gets_per_s * 15.0 + publishes_per_s * 60.0) * 3600 / cfg.nodes
    assert figs["poll_rpc_per_node_h_mean"] == pytest.approx(want, rel=0.02)
    # spread: the routing part is even, the replica part follows the keys' popularity
    assert figs["poll_rpc_per_node_h_p50"] < figs["poll_rpc_per_node_h_max"]
    # renewing every 600 s instead of reading every 30 s: push costs far less, and a match arrives at once
    assert figs["push_rpc_per_node_h_mean"] < figs["poll_rpc_per_node_h_mean"] / 5
    assert figs["push_hot_replica_rpc_s"] < figs["poll_hot_replica_rpc_s"]
    assert figs["push_match_s_p90"] < 1 < cfg.poll_s / 3 < figs["poll_match_s_p50"] < cfg.poll_s
    assert figs["push_missed_under_churn"] == 0  # nobody leaves
    # poll twice as often: twice the GETs
    faster = run_watch(WatchConfig(**{**SMALL, "poll_s": 15.0}, churn="none"), _calib())
    assert faster["poll_rpc_per_node_h_mean"] == pytest.approx(
        2 * want - publishes_per_s * 60 * 3600 / cfg.nodes, rel=0.02
    )


def test_subscription_cap_sends_the_rest_back_to_polling():
    capped = run_watch(WatchConfig(**SMALL, churn="none", sub_cap=5), _calib())
    free = run_watch(WatchConfig(**SMALL, churn="none"), _calib())
    assert capped["push_overflow_subscribers"] > 0 == free["push_overflow_subscribers"]
    assert capped["push_rpc_per_node_h_mean"] > free["push_rpc_per_node_h_mean"]


def test_churn_loses_subscriptions_more_with_fewer_notifiers_and_longer_renewals():
    rng = np.random.default_rng(3)
    fast_churn = parse_churn("exp:20m")
    base = {"nodes": 1000, "intents": 1, "churn_samples": 3000}
    one = push_churn(WatchConfig(**base, notify_replicas=1, renew_s=1800), fast_churn, rng).mean()
    three = push_churn(WatchConfig(**base, notify_replicas=3, renew_s=1800), fast_churn, rng).mean()
    short = push_churn(WatchConfig(**base, notify_replicas=1, renew_s=60), fast_churn, rng).mean()
    assert one > three and one > short and one > 0.05
    none = push_churn(WatchConfig(**base), parse_churn("none"), rng)
    assert not none.any()


def test_closest_nodes_are_the_xor_closest():
    rng = np.random.default_rng(1)
    ids = np.sort(rng.integers(0, 2**63, 3000, dtype=np.uint64) * np.uint64(2))
    keys = rng.integers(0, 2**63, 50, dtype=np.uint64)
    got = closest_nodes(ids, keys, 20)
    for row, key in zip(got, keys, strict=True):
        want = np.argsort(ids ^ key)[:20]
        assert row.tolist() == want.tolist()


def test_bad_input_fails_fast(capsys):
    with pytest.raises(ValueError, match="k must be"):
        WatchConfig(k=0).validate()
    with pytest.raises(ValueError, match="notify_replicas"):
        WatchConfig(notify_replicas=5, sub_replicas=3).validate()
    with pytest.raises(ValueError):
        WatchConfig(churn="bogus").validate()
    assert main(["sim", "watch", "--poll-s", "0"]) == 2
    assert "error" in capsys.readouterr().err


def test_cli_json_is_one_object(capsys):
    argv = ["sim", "watch", "--json", "--churn", "none"]
    for name, value in SMALL.items():
        argv += ["--" + name.replace("_", "-"), str(value)]
    assert main(argv) == 0
    figs = json.loads(capsys.readouterr().out)
    assert {"poll_rpc_per_node_h_mean", "push_rpc_per_node_h_mean", "push_match_s_p50"} <= set(figs)


def test_batching_caps_notifications_and_costs_latency():
    free = run_watch(WatchConfig(**SMALL, churn="none", intent_life_h=0.05), _calib())
    batched = run_watch(WatchConfig(**SMALL, churn="none", intent_life_h=0.05, batch_s=30), _calib())
    assert batched["push_rpc_per_node_h_max"] < free["push_rpc_per_node_h_max"]
    assert batched["push_rpc_per_node_h_mean"] < free["push_rpc_per_node_h_mean"]
    assert batched["push_match_s_p90"] > free["push_match_s_p90"]
