"""Figures of a run: percentiles, means, process memory.

Percentiles use linear interpolation between closest ranks (numpy's default), on plain lists, so the
figures of a seeded run are identical from run to run. Only ``wall_s``, ``events_per_s``, the CPU and
memory figures depend on the machine (``MACHINE_KEYS``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Keys of a result whose values depend on the machine, not on the seed.
MACHINE_KEYS = frozenset(
    {
        "wall_s",
        "events_per_s",
        "rss_mb",
        "rss_per_node_kib",
        "cpu_s",
        "cpu_ms_per_lookup",
        "join_cpu_s",
        "join_wall_s",
        "publish_wall_s",
        "lookup_wall_s",
        "lookup_cpu_s",
        "setup_wall_s",
        "prefill_wall_s",
        "prefill_cpu_s",
        "publish_cpu_s",
        "setup_rss_mb",
        "join_rss_mb",
        "publish_rss_mb",
        "lookup_rss_mb",
        "peak_rss_mb",
        "prefill_sort_wall_s",
        "prefill_sample_wall_s",
        "prefill_load_wall_s",
        "prefill_start_wall_s",
    }
)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) of ``values`` by linear interpolation; None when empty.

    Raises:
        ValueError: q outside [0, 100].
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile out of range: {q}")
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    frac = pos - lo
    return float(data[lo] + (data[hi] - data[lo]) * frac)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None when empty."""
    return float(sum(values)) / len(values) if values else None


def rounded(value: float | None, digits: int = 3) -> float | None:
    """``value`` rounded for output (None stays None)."""
    return None if value is None else round(value, digits)


def rss_bytes() -> int:
    """Resident set size of this process, in bytes (0 if psutil is unavailable)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return 0
    return int(psutil.Process().memory_info().rss)


def peak_rss_bytes() -> int:
    """The peak resident set size of this process so far, in bytes (0 where ``resource`` is missing)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # KiB on Linux


def histogram(values: Sequence[int]) -> dict[int, int]:
    """Counts of each integer value, in increasing order."""
    out: dict[int, int] = {}
    for v in sorted(values):
        out[v] = out.get(v, 0) + 1
    return out
