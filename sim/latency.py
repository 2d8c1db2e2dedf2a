"""Latency model of the simulated network: pairwise round-trip times from 2-D coordinates.

Theory of operation: every node gets a random point in the unit square (two floats in flat arrays,
16 bytes per node). The RTT between two nodes is ``scale * (base + distance)``, times a log-normal
jitter factor drawn per message (median 1). ``scale`` is calibrated once, from a fixed sample of random
pairs drawn from the model's own RNG, so that the median RTT is ``rtt_ms``. With ``rtt_ms == 0`` every
message arrives instantly (events at the same instant keep their scheduling order).

One-way latency is half the RTT, drawn independently for each direction of each message. The jitter
factors are drawn in batches of ``JITTER_BATCH`` by a numpy generator seeded from the model's RNG (one
Python-level ``random.gauss`` per message cost more than the rest of the model).
"""

from __future__ import annotations

import math
import random
from array import array

import numpy as np

#: Pairs sampled to calibrate the median RTT.
CALIBRATION_PAIRS = 4001
#: The distance-independent share of a typical RTT (last mile, processing), in unit-square units.
BASE_DISTANCE = 0.25
#: Jitter factors drawn at once.
JITTER_BATCH = 1 << 16


class LatencyModel:
    """Pairwise RTTs with a configurable median and log-normal jitter.

    Args:
        rng: the model's own ``random.Random`` (coordinates, calibration, jitter).
        rtt_ms: the median round-trip time in milliseconds (0 = instantaneous network).
        jitter_sigma: sigma of the log-normal jitter factor applied per message (0 = none).
    """

    def __init__(self, rng: random.Random, rtt_ms: float = 50.0, jitter_sigma: float = 0.2) -> None:
        if rtt_ms < 0 or not math.isfinite(rtt_ms):
            raise ValueError(f"rtt_ms must be >= 0, got {rtt_ms}")
        if jitter_sigma < 0:
            raise ValueError("jitter_sigma must be >= 0")
        self.rng = rng
        self.rtt_ms = float(rtt_ms)
        self.jitter_sigma = float(jitter_sigma)
        self._x = array("d")
        self._y = array("d")
        self._scale = 0.0
        self._half = 0.0
        self._jitter: list[float] = []
        self._jpos = 0
        self._np_rng = np.random.default_rng(rng.getrandbits(64))
        if rtt_ms > 0:
            dists = []
            for _ in range(CALIBRATION_PAIRS):
                dx = rng.random() - rng.random()
                dy = rng.random() - rng.random()
                dists.append(BASE_DISTANCE + math.hypot(dx, dy))
            dists.sort()
            median = dists[len(dists) // 2]
            self._scale = (rtt_ms / 1000.0) / median  # seconds per unit
            self._half = 0.5 * self._scale

    def add_node(self) -> int:
        """Place a new node; returns its index in the model (the same as the simulator's)."""
        self._x.append(self.rng.random())
        self._y.append(self.rng.random())
        return len(self._x) - 1

    def base_rtt(self, a: int, b: int) -> float:
        """The jitter-free RTT between nodes ``a`` and ``b``, in seconds."""
        if self._scale == 0.0:
            return 0.0
        d = math.hypot(self._x[a] - self._x[b], self._y[a] - self._y[b])
        return self._scale * (BASE_DISTANCE + d)

    def median_rtt(self) -> float:
        """The model's median RTT in seconds (e.g. for a dial to an address where nobody listens)."""
        return self.rtt_ms / 1000.0

    def one_way(self, a: int, b: int) -> float:
        """A one-way delay from ``a`` to ``b`` for one message, in seconds (jittered)."""
        half = self._half
        if half == 0.0:
            return 0.0
        x, y = self._x, self._y
        d = math.hypot(x[a] - x[b], y[a] - y[b])
        if not self.jitter_sigma:
            return half * (BASE_DISTANCE + d)
        pos = self._jpos
        jitter = self._jitter
        if pos >= len(jitter):
            jitter = self._jitter = self._np_rng.lognormal(0.0, self.jitter_sigma, JITTER_BATCH).tolist()
            pos = 0
        self._jpos = pos + 1
        return half * (BASE_DISTANCE + d) * jitter[pos]

    def statistics(self) -> dict[str, float]:
        """The model's parameters."""
        return {"rtt_ms": self.rtt_ms, "jitter_sigma": self.jitter_sigma, "nodes": float(len(self._x))}
