"""The round-trip-time estimator behind the lookup's adaptive peer deadlines."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dht.rtt import INITIAL_TIMEOUT_S, RttEstimator


def test_rfc6298_first_and_later_samples():
    est = RttEstimator(floor=0.01, cap=5.0)
    assert est.timeout() == INITIAL_TIMEOUT_S and est.samples == 0
    est.observe(0.1)
    assert est.srtt == pytest.approx(0.1) and est.rttvar == pytest.approx(0.05)
    assert est.timeout() == pytest.approx(0.1 + 4 * 0.05)
    est.observe(0.3)
    assert est.rttvar == pytest.approx(0.75 * 0.05 + 0.25 * 0.2)
    assert est.srtt == pytest.approx(0.875 * 0.1 + 0.125 * 0.3)
    assert est.statistics()["samples"] == 2


def test_steady_round_trips_converge_to_the_floor_and_a_slow_spell_raises_the_timeout():
    est = RttEstimator(floor=0.2, cap=5.0)
    for _ in range(200):
        est.observe(0.05)
    assert est.timeout() == 0.2  # srtt 50 ms, no variance: the floor
    for _ in range(5):
        est.observe(2.0)
    assert 1.0 < est.timeout() <= 5.0


def test_bad_samples_are_ignored_or_clamped_and_bad_bounds_refused():
    est = RttEstimator(floor=0.2, cap=5.0)
    for bad in (-1.0, math.nan, math.inf):
        est.observe(bad)
    assert est.samples == 0
    est.observe(1e9)  # a reply after the hard timeout would be: counted as the cap
    assert est.srtt == 5.0 and est.timeout() == 5.0
    with pytest.raises(ValueError):
        RttEstimator(floor=0.0, cap=5.0)
    with pytest.raises(ValueError):
        RttEstimator(floor=6.0, cap=5.0)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.001, 1.0),
    st.floats(1.0, 30.0),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=100),
)
def test_the_timeout_always_stays_within_floor_and_cap(floor, cap, samples):
    est = RttEstimator(floor=floor, cap=cap)
    for s in samples:
        est.observe(s)
        assert floor <= est.timeout() <= cap
        assert est.srtt >= 0 and est.rttvar >= 0
