"""Join power traces to a LoadGen window: energy, average power, and their uncertainty.

The window is LoadGen's ``power_begin``/``power_end`` (client UTC clock) moved onto the
director's clock with the measured offset (:func:`map_window`). For each meter:

* **Energy** is the time integral of W over the window by the trapezoid rule over the valid
  samples, with W linearly interpolated at both window edges from the valid samples either side.
  Invalid samples (NaN W) are left out, so the integral interpolates across them; they are
  counted. Meters are summed.
* **MLPerf-comparable average** is the unweighted mean of the valid samples strictly inside the
  window with W > 0, as the MLCommons checker computes from ``spl.txt`` (the figure from the files
  themselves is :mod:`power_client.mlperf_power`); with several meters, the sum of each meter's
  mean.

Uncertainty of the average power ``P = E / D`` (``D`` the window length), three components:

1. **Meter accuracy** ``u_meter``: the time-weighted mean of the per-sample W uncertainty (the
   meter's accuracy specification), integrated as W is. Treated as fully correlated between
   samples (a gain or offset error does not average out), so it is *not* divided by sqrt(n);
   summed linearly across meters (worst case, as the director sums channels). NaN (unknown)
   when a sample it needs has no uncertainty, e.g. for a trace read from ``spl.txt``.
2. **Sampling** ``u_sampling``: what the samples cannot see between them. The trapezoid
   joins consecutive samples ``(t_i, W_i)``, ``(t_i+1, W_i+1)`` by a straight line; if the
   load changed by ``dW_i`` at an unknown instant inside that interval of length ``h_i``
   (uniformly likely anywhere in it), the interval's energy error has standard deviation
   ``|dW_i| * h_i / sqrt(12)``. Independent across intervals, so
   ``u_sampling = sqrt(sum((dW_i * h_i)**2) / 12) / D``; quadrature across meters. It shrinks
   as the sampling rate grows (``h`` smaller) and is zero for a constant load. (The standard
   error of the mean, ``std(W)/sqrt(n)``, would treat a deterministic load profile as random
   noise and overstate a stepped load's error about 40-fold; meters such as the WT300 report
   the average over each update interval, which the interval model also covers.)
3. **Window edges** ``u_edges``: a clock error ``dt`` at an edge adds or removes ``W_edge * dt``
   joules; with ``W_begin`` and ``W_end`` the (summed) power at the edges and ``s`` the clock
   uncertainty, ``u_edges = s * sqrt(W_begin**2 + W_end**2) / D``. (Both edges shift together
   with a common offset error, which would give ``s * |W_end - W_begin| / D``; quadrature is the
   larger for W >= 0, so it also covers independent edge errors.)

4. **Meter timing** ``u_lag``: a meter's reading is the average over the update interval before
   it, and the director reads it up to one interval later, so a trace lags the true power by
   0.5-1.5 update periods ``h``; shifting the window by a lag ``L`` changes the energy by about
   ``L * (W_begin - W_end)``. Bound: ``u_lag = 1.5 * h * |W_end - W_begin| / D`` per meter
   (``h`` the trace's period, else its median sample spacing), summed over meters. Zero when
   the power is the same at both edges; measured in ``tests/power_client/test_e2e_fidelity.py``.

``u(P) = sqrt(u_meter**2 + u_sampling**2 + u_edges**2 + u_lag**2)`` and ``u(E) = D * u(P)``;
any unknown component makes the total unknown (NaN) rather than quietly smaller.

Example::

    window = map_window(begin_ns, end_ns, offset_ns, offset_uncertainty_ns)
    joined = join_energy(read_phase_traces(run_dir), window)
    joined.avg_watts, joined.avg_watts_uncertainty

Errors: :class:`~power_client.errors.JoinError`, naming the file and both window times (UTC,
director clock): the window ends before it begins, lies outside a trace (or outside its valid
samples), holds no valid sample, or the trace's wall clock steps backwards.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from power_client.errors import JoinError
from power_client.trace import PowerTrace
from power_director.spl import spl_timestamp

log = logging.getLogger(__name__)

__all__ = ["JoinedEnergy", "MeterEnergy", "PowerWindow", "join_energy", "map_window"]

_NS_PER_S = 1_000_000_000

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PowerWindow:
    """The LoadGen power window on the director's clock.

    Attributes:
        begin_ns: window start, director UTC wall clock, ns since the epoch.
        end_ns: window end, same clock, ns.
        clock_uncertainty_s: uncertainty of both edges from the clock offset, s.

    Raises:
        JoinError: ``end_ns`` is not after ``begin_ns``.
    """

    begin_ns: int
    end_ns: int
    clock_uncertainty_s: float = 0.0

    def __post_init__(self) -> None:
        if self.end_ns <= self.begin_ns:
            raise JoinError(
                f"power window ends ({spl_timestamp(self.end_ns)}) at or before it begins "
                f"({spl_timestamp(self.begin_ns)}); check power_begin/power_end in the detail log"
            )

    @property
    def duration_s(self) -> float:
        """Return the window's length, s."""
        return (self.end_ns - self.begin_ns) / _NS_PER_S

    def describe(self) -> str:
        """Return ``begin .. end`` as UTC strings, for messages."""
        return f"{spl_timestamp(self.begin_ns)} .. {spl_timestamp(self.end_ns)} UTC"


def map_window(
    power_begin_ns: int, power_end_ns: int, offset_ns: int, offset_uncertainty_ns: int
) -> PowerWindow:
    """Move LoadGen's window (client clock, ns) onto the director's clock.

    Args:
        power_begin_ns: ``power_begin`` on the client's UTC clock, ns since the epoch.
        power_end_ns: ``power_end``, same clock.
        offset_ns: director wall clock minus client wall clock, ns.
        offset_uncertainty_ns: uncertainty of ``offset_ns`` (half the minimum round trip), ns.
    """
    return PowerWindow(
        power_begin_ns + offset_ns,
        power_end_ns + offset_ns,
        abs(offset_uncertainty_ns) / _NS_PER_S,
    )


@dataclass(frozen=True, slots=True)
class MeterEnergy:
    """One meter's share of a join. Units: J, W, s.

    Attributes:
        meter: the meter's name.
        source: the trace's file.
        energy_joules: integral of W over the window, J.
        watts_at_begin: W interpolated at the window start, W.
        watts_at_end: W interpolated at the window end, W.
        lag_joules: bound of the energy error from the meter's reading lag, J.
        samples_in_window: samples with begin <= t <= end, valid or not.
        valid_samples: the valid ones among them.
        invalid_samples: the invalid ones among them.
        over_range_samples: those flagged over-range.
        logged_gaps: gap records of the log overlapping the window.
        max_gap_s: largest spacing between consecutive valid samples, the edges included, s.
        max_uncertainty_ratio: largest W uncertainty / |W| of a valid sample in the window
            (0.01 is 1 %); NaN when one is unknown.
        meter_watts_uncertainty: time-weighted mean W uncertainty, W (NaN: unknown).
        sampling_watts_uncertainty: the between-samples (interval) component, W.
        mlperf_avg_watts: mean of the valid samples strictly inside with W > 0, W (NaN: none).
        mlperf_samples: how many samples that mean is of.
    """

    meter: str
    source: str
    energy_joules: float
    watts_at_begin: float
    watts_at_end: float
    lag_joules: float
    samples_in_window: int
    valid_samples: int
    invalid_samples: int
    over_range_samples: int
    logged_gaps: int
    max_gap_s: float
    max_uncertainty_ratio: float
    meter_watts_uncertainty: float
    sampling_watts_uncertainty: float
    mlperf_avg_watts: float
    mlperf_samples: int


@dataclass(frozen=True, slots=True)
class JoinedEnergy:
    """The power figures of one window, summed over meters. Units: J, W, s.

    Attributes:
        window: the window joined.
        meters: the per-meter results, in trace order.
        energy_joules: energy over the window, J.
        energy_joules_uncertainty: its uncertainty, J (NaN: unknown).
        avg_watts: ``energy_joules / window.duration_s``, W.
        avg_watts_uncertainty: its uncertainty, W (NaN: unknown).
        meter_watts_uncertainty: the meter-accuracy component, W.
        sampling_watts_uncertainty: the sampling component, W.
        edge_watts_uncertainty: the window-edge (clock) component, W.
        lag_watts_uncertainty: the meter-timing (reading lag) component, W.
        samples_in_window: samples in the window, all meters, valid or not.
        invalid_samples: invalid samples in the window, all meters.
        over_range_samples: over-range samples in the window, all meters.
        logged_gaps: gap records overlapping the window, all meters.
        max_gap_s: the largest spacing between valid samples of any meter, s.
        max_uncertainty_ratio: the largest per-sample W uncertainty / W of any meter.
        mlperf_avg_watts: the MLPerf-comparable average (unweighted, W > 0, strictly inside):
            the sum of the meters' averages, W; NaN when a meter has no such sample.
        mlperf_samples: samples those averages are of, all meters.
    """

    window: PowerWindow
    meters: tuple[MeterEnergy, ...]
    energy_joules: float
    energy_joules_uncertainty: float
    avg_watts: float
    avg_watts_uncertainty: float
    meter_watts_uncertainty: float
    sampling_watts_uncertainty: float
    edge_watts_uncertainty: float
    lag_watts_uncertainty: float
    samples_in_window: int
    invalid_samples: int
    over_range_samples: int
    logged_gaps: int
    max_gap_s: float
    max_uncertainty_ratio: float
    mlperf_avg_watts: float
    mlperf_samples: int

    @property
    def duration_s(self) -> float:
        """Return the window's length, s."""
        return self.window.duration_s


def _trapezoid(x: FloatArray, y: FloatArray) -> float:
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


def _fail(trace: PowerTrace, window: PowerWindow, what: str) -> JoinError:
    t = trace.t_wall_ns
    return JoinError(
        f"{trace.source}: {what}; window {window.describe()} (director clock), trace "
        f"{spl_timestamp(int(t[0]))} .. {spl_timestamp(int(t[-1]))} UTC ({len(t)} samples)"
    )


def _check_order(trace: PowerTrace, window: PowerWindow) -> None:
    steps = np.diff(trace.t_wall_ns)
    if len(steps) and steps.min() < 0:
        index = int(np.argmin(steps)) + 1
        raise _fail(
            trace,
            window,
            f"the wall clock steps back {-int(steps[index - 1]) / 1e6:.3f} ms at sample "
            f"{index}; the join needs a clock that does not step back",
        )


def _max_ratio(watts: FloatArray, uncertainty: FloatArray) -> float:
    nonzero = watts != 0.0
    if not nonzero.any():
        return math.nan
    ratios = uncertainty[nonzero] / np.abs(watts[nonzero])
    return math.nan if np.isnan(ratios).any() else float(ratios.max())


def _overlapping_gaps(trace: PowerTrace, window: PowerWindow) -> int:
    return sum(
        1
        for gap in trace.gaps
        if gap.t_wall_start_ns < window.end_ns
        and gap.t_wall_start_ns + (gap.t_mono_end_ns - gap.t_mono_start_ns) > window.begin_ns
    )


def _join_meter(trace: PowerTrace, window: PowerWindow) -> MeterEnergy:
    if len(trace) == 0:
        raise JoinError(f"{trace.source}: no power sample; window {window.describe()}")
    _check_order(trace, window)
    t = trace.t_wall_ns
    if window.begin_ns < t[0] or window.end_ns > t[-1]:
        raise _fail(trace, window, "the window lies outside the trace")
    lo = int(np.searchsorted(t, window.begin_ns, side="left"))
    hi = int(np.searchsorted(t, window.end_ns, side="right"))
    good = trace.valid & np.isfinite(trace.watts)
    in_valid = good[lo:hi]
    n_valid = int(in_valid.sum())
    if n_valid == 0:
        raise _fail(trace, window, f"no valid sample in the window ({hi - lo} invalid)")
    t_valid = t[good]
    if t_valid[0] > window.begin_ns or t_valid[-1] < window.end_ns:
        raise _fail(trace, window, "no valid sample before the window begins or after it ends")

    duration_s = window.duration_s
    x = (t_valid - window.begin_ns) / _NS_PER_S
    w = trace.watts[good]
    u = trace.watts_uncertainty[good]
    inner = (x > 0.0) & (x < duration_s)
    edges = np.array([0.0, duration_s])
    xs = np.concatenate(([0.0], x[inner], [duration_s]))
    w_edges = np.interp(edges, x, w)
    ws = np.concatenate((w_edges[:1], w[inner], w_edges[1:]))
    us = np.concatenate((np.interp(edges[:1], x, u), u[inner], np.interp(edges[1:], x, u)))

    w_in = trace.watts[lo:hi][in_valid]
    u_in = trace.watts_uncertainty[lo:hi][in_valid]
    strictly = (t[lo:hi] > window.begin_ns) & (t[lo:hi] < window.end_ns) & in_valid
    positive = trace.watts[lo:hi][strictly]
    positive = positive[positive > 0.0]
    return MeterEnergy(
        meter=trace.meter,
        source=str(trace.source),
        energy_joules=_trapezoid(xs, ws),
        watts_at_begin=float(w_edges[0]),
        watts_at_end=float(w_edges[1]),
        lag_joules=1.5 * _period_s(trace, t_valid) * abs(float(w_edges[1] - w_edges[0])),
        samples_in_window=hi - lo,
        valid_samples=n_valid,
        invalid_samples=hi - lo - n_valid,
        over_range_samples=int(trace.over_range[lo:hi].sum()),
        logged_gaps=_overlapping_gaps(trace, window),
        max_gap_s=float(np.diff(xs).max()),
        max_uncertainty_ratio=_max_ratio(w_in, u_in),
        meter_watts_uncertainty=_trapezoid(xs, us) / duration_s,
        sampling_watts_uncertainty=_interval_uncertainty(xs, ws) / duration_s,
        mlperf_avg_watts=float(positive.mean()) if len(positive) else math.nan,
        mlperf_samples=len(positive),
    )


def _period_s(trace: PowerTrace, t_valid: npt.NDArray[np.int64]) -> float:
    """The trace's update period, s: from its header, else its median sample spacing."""
    if trace.period_s:
        return float(trace.period_s)
    if len(t_valid) < 2:
        return 0.0
    return float(np.median(np.diff(t_valid))) / _NS_PER_S


def _interval_uncertainty(x: FloatArray, w: FloatArray) -> float:
    """Return sqrt(sum((dW_i * h_i)**2) / 12), J: the trapezoid's error between samples."""
    if len(x) < 2:
        return 0.0
    steps = np.diff(w) * np.diff(x)
    return float(math.sqrt(float(np.dot(steps, steps)) / 12.0))


def _nanmax(values: Sequence[float]) -> float:
    return math.nan if any(math.isnan(v) for v in values) else max(values)


def join_energy(traces: Sequence[PowerTrace], window: PowerWindow) -> JoinedEnergy:
    """Integrate the traces over ``window`` and sum the meters (method in the module docstring).

    Raises:
        JoinError: no trace given; or, for a trace (naming its file and the window times), the
            window lies outside it or its valid samples, no valid sample lies in the window, or
            its wall clock steps back.
    """
    if not traces:
        raise JoinError(f"no power trace to join with the window {window.describe()}")
    meters = tuple(_join_meter(trace, window) for trace in traces)
    duration_s = window.duration_s
    energy = math.fsum(m.energy_joules for m in meters)
    u_meter = math.fsum(m.meter_watts_uncertainty for m in meters)
    u_sampling = math.sqrt(math.fsum(m.sampling_watts_uncertainty**2 for m in meters))
    w_begin = math.fsum(m.watts_at_begin for m in meters)
    w_end = math.fsum(m.watts_at_end for m in meters)
    u_edges = window.clock_uncertainty_s * math.hypot(w_begin, w_end) / duration_s
    u_lag = math.fsum(m.lag_joules for m in meters) / duration_s
    u_avg = math.sqrt(u_meter**2 + u_sampling**2 + u_edges**2 + u_lag**2)
    mlperf = [m for m in meters if m.mlperf_samples]
    joined = JoinedEnergy(
        window=window,
        meters=meters,
        energy_joules=energy,
        energy_joules_uncertainty=u_avg * duration_s,
        avg_watts=energy / duration_s,
        avg_watts_uncertainty=u_avg,
        meter_watts_uncertainty=u_meter,
        sampling_watts_uncertainty=u_sampling,
        edge_watts_uncertainty=u_edges,
        lag_watts_uncertainty=u_lag,
        samples_in_window=sum(m.samples_in_window for m in meters),
        invalid_samples=sum(m.invalid_samples for m in meters),
        over_range_samples=sum(m.over_range_samples for m in meters),
        logged_gaps=sum(m.logged_gaps for m in meters),
        max_gap_s=max(m.max_gap_s for m in meters),
        max_uncertainty_ratio=_nanmax([m.max_uncertainty_ratio for m in meters]),
        mlperf_avg_watts=(
            math.fsum(m.mlperf_avg_watts for m in mlperf)
            if len(mlperf) == len(meters)
            else math.nan
        ),
        mlperf_samples=sum(m.mlperf_samples for m in meters),
    )
    log.info(
        "join window=%s meters=%d energy_j=%.6g avg_w=%.6g u_avg_w=%.3g invalid=%d max_gap_s=%.3g",
        window.describe(),
        len(meters),
        joined.energy_joules,
        joined.avg_watts,
        joined.avg_watts_uncertainty,
        joined.invalid_samples,
        joined.max_gap_s,
    )
    return joined
