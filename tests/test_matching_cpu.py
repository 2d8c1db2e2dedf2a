"""SpareCores: the cores other processes leave idle, this process's own use left out."""

from __future__ import annotations

import pytest

from matching.cpu import MIN_WINDOW_S, SpareCores, machine_busy_s, own_busy_s
from matching.embedder import MAX_BATCH_THREADS, PARALLEL_MIN_TEXTS, UseM3Embedder


class Readings:
    """Hand-set counters: seconds on the clock, CPU-seconds busy for the machine and for this process."""

    def __init__(self, load: float = 0.0) -> None:
        self.now = 100.0
        self.machine = 1000.0
        self.own = 10.0
        self.load = load

    def spare(self, cpus: int = 2, machine_known: bool = True) -> SpareCores:
        return SpareCores(
            cpus,
            machine=lambda: self.machine if machine_known else None,
            own=lambda: self.own,
            clock=lambda: self.now,
            load=lambda: self.load,
        )

    def looked(self) -> SpareCores:
        """A ``SpareCores`` over these counters that has had its first look (the load average's)."""
        spare = self.spare()
        spare.idle()
        return spare

    def run(self, seconds: float, own_cores: float, other_cores: float) -> None:
        self.now += seconds
        self.own += own_cores * seconds
        self.machine += (own_cores + other_cores) * seconds


def test_own_work_is_not_read_as_a_busy_machine() -> None:
    r = Readings(load=1.8)  # the load average still remembers this process's own batches
    spare = r.looked()
    r.run(2.0, own_cores=2.0, other_cores=0.0)
    assert spare.idle() == pytest.approx(2.0)


def test_another_process_on_one_core_leaves_one() -> None:
    r = Readings()
    spare = r.looked()
    r.run(1.0, own_cores=0.5, other_cores=1.0)
    assert spare.idle() == pytest.approx(1.0)
    r.run(1.0, own_cores=0.0, other_cores=3.0)  # more than the machine has: nothing idle, never negative
    assert spare.idle() == 0.0


def test_the_first_look_reads_the_load_average() -> None:
    r = Readings(load=1.5)
    assert r.spare().idle() == pytest.approx(0.5)
    r.load = 7.0
    assert r.spare().idle() == 0.0


def test_a_look_too_soon_reuses_the_answer_and_keeps_measuring_from_the_previous_one() -> None:
    r = Readings()
    spare = r.looked()
    r.run(1.0, own_cores=0.0, other_cores=1.0)
    assert spare.idle() == pytest.approx(1.0)
    r.run(MIN_WINDOW_S / 4, own_cores=0.0, other_cores=0.0)
    assert spare.idle() == pytest.approx(1.0)  # too soon: the previous answer
    r.run(MIN_WINDOW_S, own_cores=0.0, other_cores=0.0)
    # measured from the previous look: 1.25 windows, all idle
    assert spare.idle() == pytest.approx(2.0)


def test_without_the_machine_counters_the_load_average_stands_in() -> None:
    r = Readings(load=0.25)
    spare = r.spare(machine_known=False)
    r.run(5.0, own_cores=2.0, other_cores=0.0)
    assert spare.idle() == pytest.approx(1.75)
    r.load = 3.0
    r.run(5.0, own_cores=0.0, other_cores=0.0)
    assert spare.idle() == 0.0


def test_the_real_counters_read() -> None:
    busy = machine_busy_s()
    assert busy is None or busy > 0
    assert own_busy_s() > 0


@pytest.mark.parametrize(
    ("n", "idle", "threads"),
    [
        (PARALLEL_MIN_TEXTS - 1, 2.0, 1),  # a small batch: one thread whatever the machine
        (PARALLEL_MIN_TEXTS, 2.0, min(2, MAX_BATCH_THREADS)),
        (1000, 1.6, min(2, MAX_BATCH_THREADS)),
        (1000, 1.2, 1),
        (1000, 0.0, 1),
    ],
)
def test_the_embedder_uses_the_idle_cores(
    monkeypatch: pytest.MonkeyPatch, n: int, idle: float, threads: int
) -> None:
    monkeypatch.setattr("matching.embedder._CPUS", 2)
    emb = UseM3Embedder()
    monkeypatch.setattr(emb._spare, "idle", lambda: idle)
    assert emb._threads_for(n) == threads
    assert UseM3Embedder(threads=3)._threads_for(n) == 3  # a fixed count is kept
