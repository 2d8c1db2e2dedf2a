"""Meta Space's discrete-event simulator: the real ``dht`` cores on 10^3–10^5 simulated nodes.

Researchers' API::

    from sim import SimConfig, run_simulation
    result = run_simulation(SimConfig(nodes=10_000, publishes=1_000, lookups=10_000, seed=7))
    print(result.to_dict()["lookup_success"])

Names are imported lazily so that ``import sim.<module>`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.runner import SimConfig, SimResult, run_simulation

__all__ = ["SimConfig", "SimResult", "run_simulation"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
