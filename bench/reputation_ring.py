"""Benchmark: Sybil rings against the reputation scoring, in a simulated market (``reputation.market``).

Scenarios (all against the same honest market: ``--honest`` traders with ``--deals`` deals each over 180
days, 10% cheaters, a few newcomers):

* ``ring``: ``--sybils`` identities co-sign 3 fake agreements per pair and rate each other 5 stars;
* ``big_ring``: 30 Sybils, 10 fake agreements per pair;
* ``ring_with_real_deals``: the ring, and each Sybil also makes 3 genuine well-behaved deals;
* ``ring_with_feeders``: the ring, and 20 fresh identities per Sybil each fake one deal with it.

Each is scored from the whole rating graph (``global``) and as one agent's two-hop lookup sees it
(``lookup``, what ``metaspace`` does). Figures per class: min/median/max score (0-100, 50 = nobody rated
it), how many were flagged as a ring, ``margin`` = lowest honest trader (3+ rated deals) minus highest
Sybil, and the scoring time.

Usage: ``.venv/bin/python bench/reputation_ring.py [--honest 150] [--deals 8] [--sybils 12] [--seed 1]``.
Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from reputation.market import MarketConfig, figures, simulate

NOW = 1_800_000_000.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--honest", type=int, default=150)
    ap.add_argument("--deals", type=float, default=8.0, help="deals per honest trader")
    ap.add_argument("--sybils", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    base = {"honest": args.honest, "cheaters": max(1, args.honest // 10), "deals_per_trader": args.deals}
    scenarios = {
        "ring": {"sybils": args.sybils},
        "big_ring": {"sybils": 30, "sybil_deals_per_pair": 10},
        "ring_with_real_deals": {"sybils": args.sybils, "sybil_real_deals": 3},
        "ring_with_feeders": {"sybils": args.sybils, "sybil_feeders": 20},
    }
    out: dict[str, Any] = {"bench": "reputation_ring", "seed": args.seed, **base}
    for name, attack in scenarios.items():
        market = simulate(MarketConfig(**base, **attack), random.Random(args.seed), NOW)  # type: ignore[arg-type]
        row: dict[str, Any] = {"ratings": len(market.ratings)}
        for view in ("global", "lookup"):
            t0 = time.perf_counter()
            f = figures(market, NOW, lookup=view == "lookup")
            row[view] = {
                "honest": f["honest"], "sybils": f["sybils"], "cheaters": f["cheaters"],
                "ring_flagged": f["ring_flagged"], "margin": f.get("margin"),
                "seconds": round(time.perf_counter() - t0, 3),
            }  # fmt: skip
        out[name] = row
    out["load_average"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
