"""Plots of a run: the lookup hop histogram and the lookup latency CDF (matplotlib, Agg backend).

matplotlib is the ``sim`` extra; it is imported only when a plot is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_result(result: Any, path: str | Path) -> Path:
    """Draw hop and latency distributions of a ``SimResult`` into a PNG file.

    Args:
        result: a ``sim.runner.SimResult``.
        path: the output file (``.png``).

    Returns:
        The path written.

    Raises:
        RuntimeError: matplotlib is not installed (install the ``sim`` extra).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RuntimeError("plots need matplotlib: pip install 'metaspace-net[sim]'") from exc

    out = Path(path)
    fig, (ax_hops, ax_lat) = plt.subplots(1, 2, figsize=(11, 4.2))
    figs = result.to_dict()
    hops = result.lookup_hops
    if hops:
        lo, hi = min(hops), max(hops)
        ax_hops.hist(hops, bins=range(lo, hi + 2), align="left", rwidth=0.8, color="#3b6ea5")
        ax_hops.set_xticks(range(lo, hi + 1))
    ax_hops.set_xlabel("hops (deepest lookup round that answered)")
    ax_hops.set_ylabel("lookups")
    ax_hops.set_title(f"Lookup hops (p50 {figs.get('hops_p50')}, p95 {figs.get('hops_p95')})")

    lat = sorted(result.lookup_latency_ms)
    if lat:
        ys = [(i + 1) / len(lat) for i in range(len(lat))]
        ax_lat.plot(lat, ys, color="#a5533b")
    ax_lat.set_xlabel("lookup latency (virtual ms)")
    ax_lat.set_ylabel("fraction of lookups")
    ax_lat.set_ylim(0, 1.01)
    ax_lat.grid(alpha=0.3)
    ax_lat.set_title(
        f"Latency CDF (p50 {figs.get('latency_ms_p50')} ms, p90 {figs.get('latency_ms_p90')} ms)"
    )
    fig.suptitle(
        f"{figs.get('nodes')} nodes, k={figs.get('k')}, alpha={figs.get('alpha')}, join={figs.get('join')}, "
        f"loss={figs.get('loss')}, fail={figs.get('fail_fraction')}, success={figs.get('lookup_success')}"
    )
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
