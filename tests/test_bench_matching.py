"""bench/matching.py's LocalIndex figures at a small size: every variant runs and answers alike."""

from __future__ import annotations

import numpy as np

from bench.matching import bench_local_index


def test_local_index_bench_variants_answer_alike() -> None:
    out = bench_local_index(3000, 20, np.random.default_rng(1), rounds=2)
    for label in ("", "arrival_order_", "exact_scan_", "tail_"):
        assert len(out[label + "search_p50_ms_rounds"]) == 2
        assert out[label + "search_p50_ms"] > 0
    assert out["mean_matches"] == out["arrival_order_mean_matches"] == out["tail_mean_matches"] > 0
    # place order changes where rows are, never which rows are found
    assert out["recall5_vs_arrival_order"] == out["recall10_vs_arrival_order"] == 1.0
    assert out["recall10_vs_exact_scan"] >= 0.99
    assert out["tail_reorders"] == 0  # the tail stays below the reorder thresholds: it is measured as a tail


def test_dht_cost_counts_the_second_copies_of_unsure_intents() -> None:
    from bench.matching import bench_dht_cost

    none = bench_dht_cost(4000, np.random.default_rng(3), extra_share=0.0)
    some = bench_dht_cost(4000, np.random.default_rng(3), extra_share=0.4)
    assert none["keys_per_publish"] == 1.0
    assert none["by_group"] == none["by_group_with_extra_groups"]
    assert 1.3 < some["keys_per_publish"] < 1.5
    filed = some["by_group_with_extra_groups"]
    total = filed["mean_records_per_key"] * filed["keys"]
    assert abs(total - 4000 * some["keys_per_publish"]) < 0.01 * total  # every copy is under some key
    assert none["extra_copies_dropped_at_cap"] == 0
    assert 0 <= some["extra_copies_dropped_share"] <= 1
