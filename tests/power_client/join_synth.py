"""Synthetic power logs for the join tests, written with the director's own PowerLogWriter."""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from power_director.powerlog import PowerLogWriter
from power_director.sampler import Gap
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE, ChannelReading, Sample

#: 2026-11-22 12:00:00 UTC, ns: the origin of every synthetic trace.
T0_NS = calendar.timegm((2026, 11, 22, 12, 0, 0)) * 1_000_000_000
MONO0_NS = 5_000_000_000


def ns(t_s: float) -> int:
    """Return the wall-clock ns of ``t_s`` seconds after :data:`T0_NS`."""
    return T0_NS + round(t_s * 1e9)


def grid(start_s: float, stop_s: float, period_s: float) -> list[float]:
    """Return sample instants start, start + period, ... up to stop inclusive."""
    count = round((stop_s - start_s) / period_s)
    return [start_s + k * period_s for k in range(count + 1)]


def write_trace(
    path: Path,
    times_s: Sequence[float],
    watts: Sequence[float] | Callable[[float], float],
    *,
    uncertainty_ratio: float | None = 0.005,
    invalid: Iterable[int] = (),
    over_range: Iterable[int] = (),
    meter: str = "m1",
    period_s: float | None = 0.1,
    gaps: Sequence[Gap] = (),
    spl_path: Path | None = None,
    channels: int = 1,
) -> Path:
    """Write a ``samples.jsonl`` (and optionally ``spl.txt``) of one meter.

    ``watts`` is either one value per instant or a function of the time in seconds; with
    ``channels > 1`` it is split evenly. Samples at the indices in ``invalid`` are ``no_data``,
    those in ``over_range`` are over-range. ``uncertainty_ratio=None`` writes no uncertainty.
    """
    bad = set(invalid)
    over = set(over_range)
    writer = PowerLogWriter(
        spl_path, path, meter=meter, phase="testing", mark="synthetic", period_s=period_s
    )
    for gap in gaps:
        writer.on_gap(gap)
    for index, t_s in enumerate(times_s):
        if index in over:
            readings = tuple(ChannelReading.invalid(FLAG_OVER_RANGE) for _ in range(channels))
        elif index in bad:
            readings = tuple(ChannelReading.invalid(FLAG_NO_DATA) for _ in range(channels))
        else:
            total = watts(t_s) if callable(watts) else watts[index]
            part = total / channels
            u = math.nan if uncertainty_ratio is None else abs(part) * uncertainty_ratio
            readings = tuple(
                ChannelReading(
                    volts=230.0,
                    amps=abs(part) / 230.0,
                    watts=part,
                    power_factor=1.0,
                    watts_uncertainty=u,
                )
                for _ in range(channels)
            )
        writer.on_sample(Sample(ns(t_s), MONO0_NS + round(t_s * 1e9), meter, readings))
    writer.close()
    return path


def mllog_line(key: str, value: str, line_no: int) -> str:
    """Return one detail-log line as the official LoadGen writes it."""
    return (
        f':::MLLOG {{"key": "{key}", "value": "{value}", "time_ms": 5026.640000, '
        f'"namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": '
        f'{{"is_error": false, "is_warning": false, "file": "loadgen.cc", "line_no": {line_no}, '
        f'"pid": 5073, "tid": 5073}}}}'
    )
