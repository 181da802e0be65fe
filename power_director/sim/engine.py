"""The measurement engine: turns a load model into update-quantised meter readings.

Time is the injected monotonic clock (seconds). Updates complete at ``origin + k x interval``
(``origin`` is the start, or the last ``:RATE`` change). Readings are computed lazily: a
query at time ``t`` first completes every update boundary up to ``t``, so two queries between
the same two boundaries see the same values, and a test driving a fake clock gets exactly
reproducible results for a given seed.

Per update: the true power is the load model's mean over the interval; noise (seeded numpy
generator, two standard normals per update, in update order) is added to V and W; then
I = W / (V x PF), S = V x I, Q = sqrt(S^2 - W^2), peaks from the crest factors. Over-range,
auto range and the one-update no-data gap after a range change are judged per update (see
:mod:`power_director.sim.ranges`). Integration is credited with each update's W and A.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np

from power_director.sim.config import SimulatorConfig
from power_director.sim.integrator import Integrator
from power_director.sim.load import LoadModel
from power_director.sim.ranges import InputRange, MeterRanges
from power_director.sim.reading import Reading

__all__ = ["MeasurementEngine"]

logger = logging.getLogger(__name__)

_MAX_CATCH_UP_UPDATES = 5000
_SUBSAMPLES = 4
_EPSILON_S = 1e-9


class MeasurementEngine:
    """State of one simulated measuring element and its update timeline.

    Args:
        config: electrical environment, noise and default update interval.
        ranges: the model's range tables.
        load: the load model (called with seconds since ``start_s``).
        seed: seed of the noise generator.
        start_s: clock time the simulator started.
    """

    def __init__(
        self,
        config: SimulatorConfig,
        ranges: MeterRanges,
        load: LoadModel,
        seed: int | None,
        start_s: float,
    ) -> None:
        self._config = config
        self._load = load
        self._rng = np.random.default_rng(seed)
        self._start_s = start_s
        self.voltage = InputRange(ranges.voltage_v, 3, config.auto_down_updates)
        self.current = InputRange(ranges.current_a, 3, config.auto_down_updates)
        self.integrator = Integrator()
        self.hold = False
        self._interval_s = config.update_interval_s
        self._origin_s = start_s
        self._last_index = 0
        self._update_count = 0
        self._changed_at_s = start_s
        self._reading = self._no_data(start_s)

    @property
    def update_interval_s(self) -> float:
        return self._interval_s

    @property
    def default_update_interval_s(self) -> float:
        """The configured interval (at start and after ``*RST``)."""
        return self._config.update_interval_s

    @property
    def update_count(self) -> int:
        """Updates completed so far (including no-data ones)."""
        return self._update_count

    def reading(self, now_s: float) -> Reading:
        """Return the last completed update as of ``now_s`` (integration values are live)."""
        self.advance(now_s)
        reading = self._reading
        if not self.hold and reading.integration is not self.integrator.values:
            reading = replace(reading, integration=self.integrator.values)
        return reading

    def advance(self, now_s: float) -> None:
        """Complete every update boundary at or before ``now_s``."""
        target = math.floor((now_s - self._origin_s) / self._interval_s + _EPSILON_S)
        if target <= self._last_index:
            return
        if target - self._last_index > _MAX_CATCH_UP_UPDATES:
            self._skip_to(target - _MAX_CATCH_UP_UPDATES)
        for index in range(self._last_index + 1, target + 1):
            self._update(index)
        self._last_index = target

    def set_update_interval(self, now_s: float, interval_s: float) -> None:
        """Restart the update timeline at ``now_s``; no data until its first update."""
        self.advance(now_s)
        self._interval_s = interval_s
        self._origin_s = now_s
        self._last_index = 0
        self._mark_change(now_s)

    def mark_range_change(self, now_s: float) -> None:
        """Call after changing a range or the crest factor (``advance`` first)."""
        self._mark_change(now_s)

    def reset(self, now_s: float) -> None:
        """``*RST``: default rate, maximum fixed ranges, crest factor 3, integration reset."""
        self.advance(now_s)
        self.voltage.set_crest_factor(3)
        self.current.set_crest_factor(3)
        self.voltage.reset()
        self.current.reset()
        self.integrator = Integrator()
        self.hold = False
        self.set_update_interval(now_s, self._config.update_interval_s)

    def _mark_change(self, now_s: float) -> None:
        self._changed_at_s = now_s
        self._reading = self._no_data(now_s)

    def _no_data(self, t_end_s: float) -> Reading:
        return Reading(
            update_index=self._update_count,
            t_end_s=t_end_s,
            valid=False,
            volts_range=self.voltage.value,
            amps_range=self.current.value,
            integration=self.integrator.values,
        )

    def _mean_watts(self, start_s: float, end_s: float, samples: int) -> float:
        step = (end_s - start_s) / samples
        base = start_s - self._start_s
        total = sum(self._load.watts_at(base + (i + 0.5) * step) for i in range(samples))
        return total / samples

    def _amps_for(self, watts: float, volts: float) -> float:
        return watts / (volts * self._config.power_factor) if volts > 0 else 0.0

    def _skip_to(self, index: int) -> None:
        start_s = self._origin_s + self._last_index * self._interval_s
        end_s = self._origin_s + index * self._interval_s
        watts = self._mean_watts(start_s, end_s, 64)
        amps = self._amps_for(watts, self._config.line_voltage_v)
        self.integrator.accumulate(start_s, end_s, watts, amps)
        self._update_count += index - self._last_index
        logger.debug("sim.engine.skip updates=%d", index - self._last_index)
        self._last_index = index

    def _update(self, index: int) -> None:
        config = self._config
        end_s = self._origin_s + index * self._interval_s
        start_s = end_s - self._interval_s
        noise_v, noise_w = self._rng.standard_normal(2)
        volts = max(config.line_voltage_v + config.noise_v * float(noise_v), 0.0)
        true_w = self._mean_watts(start_s, end_s, _SUBSAMPLES)
        watts = max(true_w + config.noise_w * float(noise_w), 0.0)
        amps = self._amps_for(watts, volts)
        self.integrator.accumulate(start_s, end_s, watts, amps)
        self._update_count += 1
        volts_peak = volts * math.sqrt(2.0)
        amps_peak = amps * config.current_crest_factor
        if self._changed_at_s > start_s + _EPSILON_S:
            self._reading = self._no_data(end_s)
            return
        voltage_step = self.voltage.check(volts, volts_peak)
        current_step = self.current.check(amps, amps_peak)
        if voltage_step.changed or current_step.changed:
            logger.debug(
                "sim.autorange t=%.6f voltage=%g current=%g",
                end_s,
                self.voltage.value,
                self.current.value,
            )
            self._changed_at_s = end_s
            self._reading = self._no_data(end_s)
            return
        if self.hold:
            return
        self._reading = Reading(
            update_index=self._update_count,
            t_end_s=end_s,
            valid=True,
            volts=volts,
            amps=amps,
            watts=watts,
            frequency_hz=config.line_frequency_hz,
            volts_peak=volts_peak,
            amps_peak=amps_peak,
            volts_over=voltage_step.over,
            amps_over=current_step.over,
            volts_range=self.voltage.value,
            amps_range=self.current.value,
            integration=self.integrator.values,
        )
