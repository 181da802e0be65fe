import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from join_synth import MONO0_NS, T0_NS, grid, ns, write_trace

from power_client.errors import JoinError
from power_client.join import PowerWindow, join_energy, map_window
from power_client.trace import PowerTrace, read_phase_traces, read_spl_trace, read_trace
from power_director.sampler import Gap
from power_director.spl import spl_timestamp

# A load with steps at instants that fall between 10 Hz samples.
STEPS_S = ((0.0, 100.0), (12.34, 250.0), (31.07, 80.0), (47.555, 180.0))


def step_power(t_s: float) -> float:
    watts = STEPS_S[0][1]
    for start, level in STEPS_S:
        if t_s >= start:
            watts = level
    return watts


def step_energy(a_s: float, b_s: float) -> float:
    bounds = [s for s, _ in STEPS_S[1:]] + [math.inf]
    energy = 0.0
    for (start, level), stop in zip(STEPS_S, bounds, strict=True):
        lo, hi = max(a_s, start), min(b_s, stop)
        if hi > lo:
            energy += level * (hi - lo)
    return energy


def window(a_s: float, b_s: float, clock_uncertainty_s: float = 0.0) -> PowerWindow:
    return PowerWindow(ns(a_s), ns(b_s), clock_uncertainty_s)


def test_step_profile_energy_matches_analytic_within_stated_uncertainty(tmp_path):
    trace = read_trace(write_trace(tmp_path / "samples.jsonl", grid(0, 60, 0.1), step_power))
    a, b = 3.217, 55.981
    joined = join_energy([trace], window(a, b, clock_uncertainty_s=0.002))

    exact = step_energy(a, b)
    error = abs(joined.energy_joules - exact)
    # The trapezoid turns each step into a ramp between the samples either side of it.
    discretisation_bound = (
        sum(abs(w1 - w0) for (_, w0), (_, w1) in itertools.pairwise(STEPS_S)) * 0.05
    )
    assert error <= discretisation_bound
    assert error <= joined.energy_joules_uncertainty
    assert joined.avg_watts == pytest.approx(joined.energy_joules / (b - a), rel=1e-12)
    assert joined.samples_in_window == 527  # samples at 3.3 .. 55.9 s
    assert joined.invalid_samples == 0
    assert joined.max_gap_s == pytest.approx(0.1)
    assert joined.max_uncertainty_ratio == pytest.approx(0.005)


def test_linear_ramp_is_integrated_exactly_with_edges_between_samples(tmp_path):
    path = write_trace(tmp_path / "samples.jsonl", grid(0, 20, 0.1), lambda t: 100.0 + 10.0 * t)
    a, b = 1.234567, 17.654321
    joined = join_energy([read_trace(path)], window(a, b))

    exact = 100.0 * (b - a) + 5.0 * (b * b - a * a)
    assert joined.energy_joules == pytest.approx(exact, rel=1e-9)
    assert joined.meters[0].watts_at_begin == pytest.approx(100.0 + 10.0 * a, rel=1e-9)
    assert joined.meters[0].watts_at_end == pytest.approx(100.0 + 10.0 * b, rel=1e-9)


def test_window_edges_interpolate_between_two_samples(tmp_path):
    path = write_trace(tmp_path / "samples.jsonl", [0.0, 0.1, 0.2, 0.3], [100, 200, 300, 400])
    joined = join_energy([read_trace(path)], window(0.05, 0.25))

    meter = joined.meters[0]
    assert meter.watts_at_begin == pytest.approx(150.0)
    assert meter.watts_at_end == pytest.approx(350.0)
    # 0.05 * (150 + 200) / 2 + 0.1 * (200 + 300) / 2 + 0.05 * (300 + 350) / 2
    assert joined.energy_joules == pytest.approx(50.0)
    assert joined.avg_watts == pytest.approx(250.0)
    assert joined.samples_in_window == 2
    assert joined.max_gap_s == pytest.approx(0.1)


def test_uncertainty_components_by_hand(tmp_path):
    path = write_trace(
        tmp_path / "samples.jsonl",
        [0.0, 0.1, 0.2, 0.3, 0.4],
        [100, 110, 120, 130, 140],
        uncertainty_ratio=None,
    )
    trace = read_trace(path)
    trace = PowerTrace(
        trace.meter,
        trace.source,
        trace.period_s,
        trace.t_wall_ns,
        trace.t_mono_ns,
        trace.watts,
        np.full(5, 1.0),
        trace.valid,
        trace.over_range,
    )
    joined = join_energy([trace], window(0.1, 0.3, clock_uncertainty_s=0.001))

    assert joined.energy_joules == pytest.approx(24.0)
    assert joined.meter_watts_uncertainty == pytest.approx(1.0)
    # Two 0.1 s intervals, each rising 10 W: sqrt(2 * (10 * 0.1)**2 / 12) J over 0.2 s.
    sampling = math.sqrt(2 * (10 * 0.1) ** 2 / 12) / 0.2
    assert joined.sampling_watts_uncertainty == pytest.approx(sampling)
    assert joined.edge_watts_uncertainty == pytest.approx(0.001 * math.hypot(110, 130) / 0.2)
    # The trace's period is 0.1 s: the reading lag may move 1.5 x 0.1 s x (130 - 110) W.
    lag = 1.5 * 0.1 * (130 - 110) / 0.2
    assert joined.lag_watts_uncertainty == pytest.approx(lag)
    expected = math.sqrt(1.0 + sampling**2 + (0.001 * math.hypot(110, 130) / 0.2) ** 2 + lag**2)
    assert joined.avg_watts_uncertainty == pytest.approx(expected)
    assert joined.energy_joules_uncertainty == pytest.approx(expected * 0.2)
    assert joined.max_uncertainty_ratio == pytest.approx(1.0 / 110.0)
    # MLPerf-comparable: only the sample strictly inside (0.2 s) counts.
    assert joined.mlperf_avg_watts == pytest.approx(120.0)
    assert joined.mlperf_samples == 1


def test_invalid_samples_are_interpolated_across_and_counted(tmp_path):
    times = grid(0, 2, 0.1)
    watts = [100.0 if t < 1.0 else 300.0 for t in times]
    # Samples 8..12 (0.8 .. 1.2 s) invalid: the integral bridges 0.7 s (100 W) to 1.3 s (300 W).
    path = write_trace(
        tmp_path / "samples.jsonl", times, watts, invalid=[8, 9, 10], over_range=[11, 12]
    )
    joined = join_energy([read_trace(path)], window(0.05, 1.95))

    expected = 100.0 * (0.7 - 0.05) + 0.6 * (100 + 300) / 2 + 300.0 * (1.95 - 1.3)
    assert joined.energy_joules == pytest.approx(expected)
    assert joined.invalid_samples == 5
    assert joined.over_range_samples == 2
    assert joined.samples_in_window == 19
    assert joined.max_gap_s == pytest.approx(0.6)
    assert joined.mlperf_samples == 14
    assert joined.mlperf_avg_watts == pytest.approx((7 * 100 + 7 * 300) / 14)


def test_several_meters_are_summed(tmp_path):
    write_trace(tmp_path / "samples_a.jsonl", grid(0, 30, 0.1), lambda t: 120.0, meter="a")
    write_trace(
        tmp_path / "samples_b.jsonl",
        [t + 0.037 for t in grid(0, 29.8, 0.2)],
        lambda t: 40.0 + 2.0 * t,
        meter="b",
        period_s=0.2,
        channels=3,
    )
    traces = read_phase_traces(tmp_path)
    a, b = 2.5, 27.25
    joined = join_energy(traces, window(a, b))

    assert [m.meter for m in joined.meters] == ["a", "b"]
    assert joined.meters[0].energy_joules == pytest.approx(120.0 * (b - a))
    assert joined.meters[1].energy_joules == pytest.approx(40.0 * (b - a) + (b * b - a * a))
    assert joined.energy_joules == pytest.approx(
        joined.meters[0].energy_joules + joined.meters[1].energy_joules
    )
    assert joined.meter_watts_uncertainty == pytest.approx(
        joined.meters[0].meter_watts_uncertainty + joined.meters[1].meter_watts_uncertainty
    )
    assert joined.samples_in_window == 248 + 124
    assert joined.mlperf_avg_watts == pytest.approx(
        joined.meters[0].mlperf_avg_watts + joined.meters[1].mlperf_avg_watts
    )


def test_gap_in_the_trace_is_bridged_and_reported(tmp_path):
    times = [t for t in grid(0, 10, 0.1) if not 4.0 < t < 6.05]
    gap = Gap("m1", MONO0_NS + 4_000_000_000, MONO0_NS + 6_100_000_000, ns(4.0), 20, "transport")
    path = write_trace(tmp_path / "samples.jsonl", times, lambda t: 50.0 + t, gaps=[gap])
    trace = read_trace(path)
    joined = join_energy([trace], window(1.0, 9.0))

    assert trace.gaps == (gap,)
    assert joined.energy_joules == pytest.approx(50.0 * 8.0 + (81.0 - 1.0) / 2)
    assert joined.max_gap_s == pytest.approx(2.1)
    assert joined.logged_gaps == 1
    assert join_energy([trace], window(7.0, 9.0)).logged_gaps == 0


def test_no_sample_in_window_names_file_and_times(tmp_path):
    path = write_trace(tmp_path / "samples.jsonl", grid(0, 1, 0.1), lambda t: 100.0)
    win = window(0.31, 0.39)
    with pytest.raises(JoinError) as info:
        join_energy([read_trace(path)], win)
    message = str(info.value)
    assert str(path) in message
    assert spl_timestamp(win.begin_ns) in message
    assert spl_timestamp(win.end_ns) in message
    assert "no valid sample in the window" in message


def test_window_with_only_invalid_samples_raises(tmp_path):
    path = write_trace(tmp_path / "samples.jsonl", grid(0, 1, 0.1), lambda t: 100.0, invalid=[4, 5])
    with pytest.raises(JoinError, match=r"no valid sample in the window \(2 invalid\)"):
        join_energy([read_trace(path)], window(0.35, 0.55))


def test_window_outside_the_trace_raises(tmp_path):
    path = write_trace(tmp_path / "samples.jsonl", grid(0, 1, 0.1), lambda t: 100.0)
    trace = read_trace(path)
    for win in (window(-0.5, 0.5), window(0.5, 1.5), window(2.0, 3.0)):
        with pytest.raises(JoinError, match="lies outside the trace") as info:
            join_energy([trace], win)
        assert str(path) in str(info.value)
        assert spl_timestamp(T0_NS) in str(info.value)


def test_window_beyond_the_valid_samples_raises(tmp_path):
    path = write_trace(tmp_path / "samples.jsonl", grid(0, 1, 0.1), lambda t: 100.0, invalid=[0])
    with pytest.raises(JoinError, match="no valid sample before the window begins"):
        join_energy([read_trace(path)], window(0.05, 0.5))


def test_wall_clock_stepping_back_raises(tmp_path):
    times = [0.0, 0.1, 0.2, 0.15, 0.4, 0.5]
    path = write_trace(tmp_path / "samples.jsonl", times, lambda t: 100.0)
    with pytest.raises(JoinError, match=r"steps back 50\.000 ms at sample 3"):
        join_energy([read_trace(path)], window(0.05, 0.45))


def test_empty_window_and_no_trace_raise():
    with pytest.raises(JoinError, match="at or before it begins"):
        window(1.0, 1.0)
    with pytest.raises(JoinError, match="no power trace"):
        join_energy([], window(0.0, 1.0))


def test_map_window_shifts_onto_director_clock():
    win = map_window(T0_NS, T0_NS + 600_000_000_000, -1_500_000, 250_000)
    assert win.begin_ns == T0_NS - 1_500_000
    assert win.end_ns == T0_NS + 600_000_000_000 - 1_500_000
    assert win.clock_uncertainty_s == pytest.approx(0.00025)
    assert win.duration_s == pytest.approx(600.0)


def test_spl_trace_has_unknown_uncertainty_but_joins(tmp_path):
    spl = tmp_path / "spl.txt"
    write_trace(
        tmp_path / "samples.jsonl", grid(0, 5, 0.1), lambda t: 75.0, spl_path=spl, invalid=[7]
    )
    (tmp_path / "samples.jsonl").unlink()
    traces = read_phase_traces(tmp_path)
    joined = join_energy(traces, window(0.5, 4.5))

    assert traces[0].source == spl
    assert not traces[0].valid[7]
    assert joined.energy_joules == pytest.approx(75.0 * 4.0)
    assert joined.invalid_samples == 1
    assert math.isnan(joined.meter_watts_uncertainty)
    assert math.isnan(joined.avg_watts_uncertainty)
    assert math.isnan(joined.max_uncertainty_ratio)
    assert math.isnan(read_spl_trace(spl).watts[7])


@st.composite
def trace_and_cuts(draw):
    n = draw(st.integers(min_value=3, max_value=40))
    steps = draw(st.lists(st.integers(1, 500), min_size=n - 1, max_size=n - 1))
    times = np.concatenate(([0], np.cumsum(steps))).astype(np.int64) * 1_000_000
    watts = np.array(draw(st.lists(st.floats(0, 5000), min_size=n, max_size=n)))
    span = int(times[-1])
    cuts = sorted(draw(st.lists(st.integers(0, span), min_size=3, max_size=3, unique=True)))
    return times, watts, cuts


def _memory_trace(times, watts):
    n = len(times)
    return PowerTrace(
        "m",
        Path("memory"),
        None,
        T0_NS + times,
        times,
        watts.astype(np.float64),
        np.zeros(n),
        np.ones(n, dtype=bool),
        np.zeros(n, dtype=bool),
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(trace_and_cuts())
def test_energy_is_additive_over_adjacent_windows(case):
    times, watts, (a, b, c) = case
    trace = _memory_trace(times, watts)

    def energy(lo, hi):
        try:
            return join_energy([trace], PowerWindow(T0_NS + lo, T0_NS + hi)).energy_joules
        except JoinError:
            return None

    whole, left, right = energy(a, c), energy(a, b), energy(b, c)
    if None not in (whole, left, right):
        assert whole == pytest.approx(left + right, rel=1e-9, abs=1e-9)


@given(
    st.floats(0.1, 3000),
    st.integers(0, 9_000_000_000),
    st.integers(1_000_000, 10_000_000_000),
)
def test_constant_power_is_exact_for_any_window(watts, begin, length):
    times = np.arange(0, 21_000_000_000, 100_000_000, dtype=np.int64)
    trace = _memory_trace(times, np.full(len(times), watts))
    win = PowerWindow(T0_NS + begin, T0_NS + begin + length)
    try:
        joined = join_energy([trace], win)
    except JoinError:
        assert length < 100_000_000  # only a window between two samples may hold none
        return
    assert joined.avg_watts == pytest.approx(watts, rel=1e-12)
    assert joined.energy_joules == pytest.approx(watts * length / 1e9, rel=1e-12)


def test_empty_trace_raises_naming_it():
    empty = _memory_trace(np.array([], dtype=np.int64), np.array([]))
    with pytest.raises(JoinError, match="memory: no power sample"):
        join_energy([empty], window(0.0, 1.0))
