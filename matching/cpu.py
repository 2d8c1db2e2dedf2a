"""How many CPU cores other processes leave idle: the machine's busy time less this process's own.

The embedder asks this before a large batch, to choose its BLAS thread count. The 1-minute load average it
used before counts this process's own work: after a few seconds of embedding on two threads it read "busy"
and the next batch ran on one thread (the benchmark's wrapper/raw ratio swung between 0.69 and 0.97 so).
Here the busy time of the whole machine (``psutil.cpu_times``: every state but idle and iowait, steal
included: a core the hypervisor takes is not ours either) over the interval since the previous look, minus
this process's CPU time over the same interval (``os.times``, all its threads), is what the others used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import psutil

#: A look this soon after the previous one reuses its answer, and the next look measures from the previous
#: one: the counters tick at 100 Hz, so a shorter interval would misread the others' use by 0.1 core or more.
MIN_WINDOW_S = 0.2
#: The busy states of ``psutil.cpu_times`` (each where the platform has it; guest time is inside user).
_BUSY = ("user", "nice", "system", "irq", "softirq", "steal")


def machine_busy_s() -> float | None:
    """CPU-seconds all cores spent busy since boot (``psutil.cpu_times``), or None where it can't be read."""
    try:
        t = psutil.cpu_times()
    except (OSError, psutil.Error):
        return None
    return float(sum(getattr(t, name, 0.0) for name in _BUSY))


def own_busy_s() -> float:
    """CPU-seconds this process (all its threads) has used."""
    t = os.times()
    return t.user + t.system


class SpareCores:
    """``idle()``: the cores other processes left idle since the previous look (a float, 0 to ``cpus``).

    The interval is the whole time since the previous look, however long: a process that embeds once a
    minute reads the others' mean use over that minute. The first look, and every look where the machine's
    busy time can't be read, reads the 1-minute load average instead. The readings are
    injectable (tests).
    """

    def __init__(
        self,
        cpus: int,
        machine: Callable[[], float | None] = machine_busy_s,
        own: Callable[[], float] = own_busy_s,
        clock: Callable[[], float] = time.monotonic,
        load: Callable[[], float] = lambda: os.getloadavg()[0],
    ) -> None:
        self.cpus = cpus
        self._machine, self._own, self._clock, self._load = machine, own, clock, load
        self._last: tuple[float, float, float] | None = None  # (clock, machine busy, own busy)
        self._idle = float(cpus)

    def idle(self) -> float:
        now, busy, own = self._clock(), self._machine(), self._own()
        last = self._last
        if busy is None or last is None:
            others = self._load()
        elif now - last[0] < MIN_WINDOW_S:
            return self._idle
        else:
            others = max(0.0, (busy - last[1]) - (own - last[2])) / (now - last[0])
        if busy is not None:
            self._last = (now, busy, own)
        self._idle = min(float(self.cpus), max(0.0, self.cpus - others))
        return self._idle
