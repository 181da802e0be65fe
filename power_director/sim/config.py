"""Settings of a simulated meter that a real meter would not let you change."""

from __future__ import annotations

import math
from dataclasses import dataclass

from power_director.errors import SimulatorError

__all__ = ["MIN_UPDATE_INTERVAL_S", "SimulatorConfig"]

MIN_UPDATE_INTERVAL_S = 0.001


@dataclass(frozen=True)
class SimulatorConfig:
    """Electrical environment, noise, timing and identity of one simulated meter.

    Attributes:
        update_interval_s: update interval at start and after ``*RST`` (the WT310E default
            is 250 ms, assumption). May be below the meter's real minimum (100 ms) down to
            1 ms, so fast samplers can be tested.
        line_voltage_v: RMS mains voltage.
        line_frequency_hz: mains frequency.
        power_factor: load power factor (constant).
        current_crest_factor: peak/RMS of the load current (a PFC power supply is ~1.5; a
            capacitor-input rectifier 2.5-3.5). Drives the over-range check.
        noise_w: standard deviation of the per-update power noise.
        noise_v: standard deviation of the per-update voltage noise.
        baud: serial line speed for the byte-time delay; None = no delay.
        reply_terminator: appended to every reply (the meters can also send CR+LF).
        auto_down_updates: updates below threshold before auto range steps down.
        serial_number: the third ``*IDN?`` field.
        max_line_bytes: longer input lines are discarded with a 102 syntax error.
    """

    update_interval_s: float = 0.25
    line_voltage_v: float = 230.0
    line_frequency_hz: float = 50.0
    power_factor: float = 0.95
    current_crest_factor: float = 1.6
    noise_w: float = 0.05
    noise_v: float = 0.05
    baud: int | None = None
    reply_terminator: str = "\n"
    auto_down_updates: int = 3
    serial_number: str = "C2SIM0001"
    max_line_bytes: int = 4096

    def __post_init__(self) -> None:
        if not self.update_interval_s >= MIN_UPDATE_INTERVAL_S:
            raise SimulatorError(
                f"update_interval_s {self.update_interval_s} is below {MIN_UPDATE_INTERVAL_S} s"
            )
        if not 0 < self.power_factor <= 1:
            raise SimulatorError(f"power_factor {self.power_factor} must be in (0, 1]")
        if self.baud is not None and self.baud <= 0:
            raise SimulatorError(f"baud {self.baud} must be positive")
        for name in ("line_voltage_v", "current_crest_factor", "line_frequency_hz"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise SimulatorError(f"{name} {value} must be a positive number")
        if self.current_crest_factor < 1:
            raise SimulatorError("current_crest_factor must be >= 1")
        if self.noise_w < 0 or self.noise_v < 0:
            raise SimulatorError("noise must not be negative")
        if self.auto_down_updates < 1:
            raise SimulatorError("auto_down_updates must be >= 1")
