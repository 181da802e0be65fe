"""Energy integration (``:INTEGrate:...``): mode, timer, start/stop/reset, and Wh/Ah sums.

Integration runs in wall segments (start..stop) and is credited at update boundaries with
the update's measured W and A times the overlap of the segment with the update interval, so
the WH item changes only at update boundaries, like every other item.

State names follow ``:INTEGrate:STATe?`` (RESet, STARt, STOP, TIMEup). Modes: NORMal stops at
the timer (0 = no limit); CONTinuous restarts from zero each time the timer expires.
"""

from __future__ import annotations

import enum
import logging

from power_director.sim.reading import IntegrationValues

__all__ = ["IntegrationMode", "IntegrationState", "Integrator", "IntegratorConflict"]

logger = logging.getLogger(__name__)

_SECONDS_PER_HOUR = 3600.0


class IntegrationState(enum.Enum):
    """Values are the manual's spellings of the ``:INTEGrate:STATe?`` replies."""

    RESET = "RESet"
    RUNNING = "STARt"
    STOPPED = "STOP"
    TIME_UP = "TIMEup"


class IntegrationMode(enum.Enum):
    """Values are the manual's spellings of the ``:INTEGrate:MODE`` parameters."""

    NORMAL = "NORMal"
    CONTINUOUS = "CONTinuous"


class IntegratorConflict(Exception):
    """The request is not allowed in the current integration state."""


class Integrator:
    """Integration state machine and accumulated values (engine clock, seconds)."""

    def __init__(self) -> None:
        self.mode = IntegrationMode.NORMAL
        self.timer_s = 0.0
        self.state = IntegrationState.RESET
        self._segments: list[list[float]] = []  # [start_s, end_s]; end is inf while running
        self._values = IntegrationValues()

    @property
    def values(self) -> IntegrationValues:
        return self._values

    def set_mode(self, mode: IntegrationMode) -> None:
        self._require_not_running()
        self.mode = mode

    def set_timer(self, timer_s: float) -> None:
        self._require_not_running()
        if timer_s < 0:
            raise ValueError("timer must not be negative")
        self.timer_s = timer_s

    def start(self, now_s: float) -> None:
        if self.state is IntegrationState.RUNNING:
            return
        if self.state is IntegrationState.TIME_UP:
            raise IntegratorConflict("integration timed up: reset first")
        if self.mode is IntegrationMode.CONTINUOUS and self.timer_s <= 0:
            raise IntegratorConflict("continuous integration needs a timer")
        self._segments.append([now_s, float("inf")])
        self.state = IntegrationState.RUNNING
        logger.debug("sim.integrate.start t=%.6f", now_s)

    def stop(self, now_s: float) -> None:
        if self.state is not IntegrationState.RUNNING:
            raise IntegratorConflict("integration is not running")
        self._segments[-1][1] = now_s
        self.state = IntegrationState.STOPPED

    def reset(self) -> None:
        self._require_not_running()
        self._segments.clear()
        self._values = IntegrationValues()
        self.state = IntegrationState.RESET

    def accumulate(self, start_s: float, end_s: float, watts: float, amps: float) -> None:
        """Credit the interval ``start_s..end_s`` measured at ``watts``/``amps``."""
        for segment in self._segments:
            overlap = min(segment[1], end_s) - max(segment[0], start_s)
            if overlap > 0:
                self._add(overlap, watts, amps, segment, max(segment[0], start_s))
        self._segments = [s for s in self._segments if s[1] > end_s]

    def _add(
        self, seconds: float, watts: float, amps: float, segment: list[float], from_s: float
    ) -> None:
        values = self._values
        if self.timer_s > 0 and values.elapsed_s + seconds >= self.timer_s:
            remaining = self.timer_s - values.elapsed_s
            self._credit(remaining, watts, amps)
            if self.mode is IntegrationMode.NORMAL:
                segment[1] = from_s + remaining
                self.state = IntegrationState.TIME_UP
                return
            self._values = IntegrationValues()
            self._credit(seconds - remaining, watts, amps)
            return
        self._credit(seconds, watts, amps)

    def _credit(self, seconds: float, watts: float, amps: float) -> None:
        v = self._values
        wh = watts * seconds / _SECONDS_PER_HOUR
        ah = amps * seconds / _SECONDS_PER_HOUR
        self._values = IntegrationValues(
            watt_hours=v.watt_hours + wh,
            watt_hours_pos=v.watt_hours_pos + max(wh, 0.0),
            watt_hours_neg=v.watt_hours_neg + min(wh, 0.0),
            amp_hours=v.amp_hours + ah,
            amp_hours_pos=v.amp_hours_pos + max(ah, 0.0),
            amp_hours_neg=v.amp_hours_neg + min(ah, 0.0),
            elapsed_s=v.elapsed_s + seconds,
        )

    def _require_not_running(self) -> None:
        if self.state is IntegrationState.RUNNING:
            raise IntegratorConflict("integration is running")
