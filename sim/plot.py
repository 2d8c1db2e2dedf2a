"""Plots: a run's hop histogram and latency CDF, a churn run's metrics over time, a sweep's summary.

matplotlib is the ``sim`` extra; it is imported only when a plot is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_result(result: Any, path: str | Path) -> Path:
    """Draw hop and latency distributions of a ``SimResult`` into a PNG file (a churn run: ``plot_churn``).

    Args:
        result: a ``sim.runner.SimResult``.
        path: the output file (``.png``).

    Returns:
        The path written.

    Raises:
        RuntimeError: matplotlib is not installed (install the ``sim`` extra).
    """
    if getattr(result, "series", None):
        return plot_churn(result, path)
    plt = _pyplot()
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


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RuntimeError("plots need matplotlib: pip install 'metaspace-net[sim]'") from exc
    return plt


def plot_churn(result: Any, path: str | Path) -> Path:
    """Draw a churn run's windows: availability, replicas, latency, live nodes and messages over time.

    Args:
        result: a ``SimResult`` with ``series``.
        path: the output file (``.png``).
    Returns:
        The path written.
    Raises:
        RuntimeError: matplotlib is not installed.
    """
    plt = _pyplot()
    out = Path(path)
    figs = result.to_dict()
    series = result.series
    t = [w["t_h"] for w in series]
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
    ax_av, ax_rep, ax_lat, ax_msg = axes[0][0], axes[0][1], axes[1][0], axes[1][1]

    def col(name: str) -> list[float]:
        return [float("nan") if w.get(name) is None else float(w[name]) for w in series]

    ax_av.plot(t, col("availability"), marker="o", ms=3, color="#3b6ea5")
    ax_av.set_ylim(min([0.9, *[a for a in col("availability") if a == a]]), 1.002)
    ax_av.set_ylabel("record availability")
    ax_av.set_title(f"Availability (lookups that found the intent), mean {figs.get('availability_mean')}")
    ax_rep.plot(t, col("replicas_p50"), marker="o", ms=3, label="median", color="#3b6ea5")
    ax_rep.plot(t, col("replicas_p10"), marker=".", ms=3, label="p10", color="#a5533b")
    ax_rep.axhline(18, ls=":", color="grey", label="ProbeLab IPFS median (18 of 20)")
    ax_rep.set_ylim(0, figs.get("k", 20) + 1)
    ax_rep.set_ylabel(f"replicas among the {figs.get('k')} closest live nodes")
    ax_rep.set_title("Replicas reachable per record")
    ax_rep.legend(fontsize=8)
    ax_lat.plot(t, col("lookup_ms_p50"), label="lookup p50", color="#3b6ea5")
    ax_lat.plot(t, col("lookup_ms_p90"), label="lookup p90", color="#3b6ea5", ls="--")
    ax_lat.plot(t, col("publish_ms_p50"), label="publish p50", color="#a5533b")
    ax_lat.plot(t, col("publish_ms_p90"), label="publish p90", color="#a5533b", ls="--")
    ax_lat.axhline(1000, ls=":", color="grey", label="target 1 s")
    ax_lat.set_yscale("log")
    ax_lat.set_ylabel("virtual ms")
    ax_lat.set_title("Latency")
    ax_lat.legend(fontsize=8)
    ax_msg.plot(t, col("msgs_per_node_h"), color="#555555", label="requests per node per hour")
    ax_msg.set_ylabel("requests per node per hour")
    ax_live = ax_msg.twinx()
    ax_live.plot(t, col("live_nodes"), color="#3ba55c", label="live nodes")
    ax_live.set_ylabel("live nodes", color="#3ba55c")
    lives = [v for v in col("live_nodes") if v == v]
    ax_live.set_ylim(0, 1.15 * max(lives, default=1))
    ax_msg.set_ylim(bottom=0)
    ax_msg.set_title("Cost and population")
    for ax in (ax_av, ax_rep, ax_lat, ax_msg):
        ax.set_xlim(0, max(t, default=1))
        ax.set_xlabel("virtual hours")
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"{figs.get('nodes')} nodes, {figs.get('churn_model')}, loss={figs.get('loss')}, "
        f"rtt={figs.get('rtt_ms')} ms, dead={figs.get('dead_mode')}, success={figs.get('lookup_success')}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def plot_sweep(summary: list[dict[str, Any]], axes: list[str], metrics: list[str], path: str | Path) -> Path:
    """Bar charts of a sweep: one panel per metric, one bar per configuration (mean over repeats).

    Args:
        summary: ``sim.sweep.summarize`` rows.
        axes: the grid axes (bar labels).
        metrics: the metrics to draw (those with no value anywhere are skipped).
        path: the output file (``.png``).
    Returns:
        The path written.
    Raises:
        RuntimeError: matplotlib is not installed.
    """
    plt = _pyplot()
    out = Path(path)
    shown = [m for m in metrics if any(s.get(m) is not None for s in summary)] or metrics[:1]
    cols = min(2, len(shown))
    rows = (len(shown) + cols - 1) // cols
    fig, grid = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.2 * rows + 0.8), squeeze=False)
    labels = ["\n".join(f"{a}={s.get(a)}" for a in axes) for s in summary]
    for n, metric in enumerate(shown):
        ax = grid[n // cols][n % cols]
        values = [float("nan") if s.get(metric) is None else float(s[metric]) for s in summary]
        colors = ["#a5533b" if s.get("errors") else "#3b6ea5" for s in summary]
        ax.bar(range(len(values)), values, color=colors)
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_title(metric)
        ax.grid(axis="y", alpha=0.3)
    for n in range(len(shown), rows * cols):
        grid[n // cols][n % cols].axis("off")
    fig.suptitle("sweep: mean over repeats (red: a configuration with failed runs)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
