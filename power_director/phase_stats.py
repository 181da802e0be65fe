"""Per-phase statistics: a sampler sink that accumulates, and the frozen :class:`PhaseSummary`.

:class:`PhaseAccumulator` (one per meter and phase) counts samples, over-range readings and the
worst W uncertainty ratio, averages W over valid samples (unweighted, as the MLPerf checker does),
integrates energy with the trapezoid rule over consecutive valid samples (monotonic time), and
tracks the ranging peaks. No-data samples before the first valid one are counted apart as
``settling`` (a meter blanks a few updates after a range change; PTDaemon sleeps 10 s for it).
:class:`PhaseSummary` is what the director reports for a phase.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from power_director.ranging import RangeChoice, RangingPeaks, ranges_to_json
from power_director.sampler import Gap, SamplerStats
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE, Sample

#: The MLPerf rule: each sample's W uncertainty must be at most 1 %.
UNCERTAINTY_LIMIT = 0.01


class PhaseAccumulator:
    """Fold one meter's samples of one phase into running statistics (a sampler sink).

    Args:
        meter: meter name.
        channel_count: channels per sample (sizes the ranging peaks).
    """

    def __init__(self, meter: str, channel_count: int) -> None:
        self.meter = meter
        self.samples = 0
        self.valid_samples = 0
        self.over_range = 0
        self.watts_sum = 0.0
        self.energy_joules = 0.0
        self.max_uncertainty_ratio = math.nan
        self.uncertainty_unknown = 0
        self.peaks = RangingPeaks(channel_count)
        self.settling = 0
        self._previous: Sample | None = None

    def on_sample(self, sample: Sample) -> None:
        """Fold in one sample."""
        self.samples += 1
        if FLAG_OVER_RANGE in sample.flags:
            self.over_range += 1
        if not sample.valid:
            if not self.valid_samples and sample.flags == {FLAG_NO_DATA}:
                self.settling += 1  # blank updates right after a range change
            self._previous = None
            return
        self.valid_samples += 1
        watts = sample.total_watts
        self.watts_sum += watts
        previous = self._previous
        if previous is not None:
            dt_s = (sample.t_mono_ns - previous.t_mono_ns) / 1e9
            self.energy_joules += 0.5 * (watts + previous.total_watts) * dt_s
        self._previous = sample
        ratio = sample.total_watts_uncertainty / abs(watts) if watts else math.nan
        if math.isnan(ratio):
            self.uncertainty_unknown += 1
        elif math.isnan(self.max_uncertainty_ratio) or ratio > self.max_uncertainty_ratio:
            self.max_uncertainty_ratio = ratio
        self.peaks.observe(sample)

    def on_gap(self, gap: Gap) -> None:
        """Gaps are counted by the sampler; energy keeps integrating across them."""

    @property
    def avg_watts(self) -> float:
        """Return the mean total W over valid samples; NaN when there are none."""
        return self.watts_sum / self.valid_samples if self.valid_samples else math.nan


@dataclass(frozen=True, slots=True)
class MeterPhaseSummary:
    """One meter's part of a phase. Units: W, J, s.

    Attributes:
        meter: meter name.
        sampler: the sampler's counters (samples, invalid, gaps, transport errors, ...).
        avg_watts: mean total W over valid samples (NaN when none).
        energy_joules: trapezoid-integrated energy over valid samples, J.
        max_uncertainty_ratio: worst W uncertainty / W (NaN when unknown for every sample).
        over_range_count: samples with an over-range reading.
        settling_samples: no-data samples before the first valid one (tolerated).
    """

    meter: str
    sampler: SamplerStats
    avg_watts: float
    energy_joules: float
    max_uncertainty_ratio: float
    over_range_count: int
    settling_samples: int = 0


@dataclass(frozen=True, slots=True)
class PhaseSummary:
    """What a measurement phase produced. Times in ns; W, J, s.

    Attributes:
        phase: ``"ranging"`` or ``"testing"`` (or another name the session used).
        mark: the mark written on every log line.
        samples: samples over all meters.
        invalid_samples: samples with an invalid channel.
        gaps: gaps over all meters.
        max_gap_s: the longest gap, s.
        avg_watts: sum over meters of each meter's mean W.
        energy_joules: sum over meters of each meter's integrated energy.
        ranges_chosen: the fixed ranges chosen at the end of ranging (empty otherwise).
        max_uncertainty_ratio: worst per-sample W uncertainty ratio over meters (NaN: unknown).
        uncertainty_ok: ``max_uncertainty_ratio <= 1 %``; None when unknown.
        over_range_count: samples with an over-range reading.
        t_start_wall_ns / t_start_mono_ns / t_end_wall_ns / t_end_mono_ns: phase bounds.
        valid: False when a rule below failed; ``reasons`` says which.
        reasons: why the phase is invalid (empty when valid).
        meters: per-meter details.
    """

    phase: str
    mark: str
    samples: int
    invalid_samples: int
    gaps: int
    max_gap_s: float
    avg_watts: float
    energy_joules: float
    ranges_chosen: tuple[RangeChoice, ...]
    max_uncertainty_ratio: float
    uncertainty_ok: bool | None
    over_range_count: int
    t_start_wall_ns: int
    t_start_mono_ns: int
    t_end_wall_ns: int
    t_end_mono_ns: int
    valid: bool
    reasons: tuple[str, ...]
    meters: tuple[MeterPhaseSummary, ...] = ()

    @property
    def duration_s(self) -> float:
        """Return the phase length, s."""
        return (self.t_end_mono_ns - self.t_start_mono_ns) / 1e9

    def to_json(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready dict (NaN as None)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name in ("ranges_chosen", "meters"):
                continue
            out[name] = _clean(getattr(self, name))
        out["reasons"] = list(self.reasons)
        out["ranges_chosen"] = [ranges_to_json(c) for c in self.ranges_chosen]
        out["meters"] = [_clean(asdict(m)) for m in self.meters]
        return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value
