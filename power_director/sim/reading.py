"""One completed meter update: the values every numeric item is computed from.

A :class:`Reading` is what the meter displays between two update boundaries. Dialects ask
it for a :class:`Quantity` and get a float, NaN for "no data" (before the first update, or
during the update after a range change) and +/-inf for over-range; each dialect then spells
those markers its own way (``NAN``/``INF`` on the WT310E, ``9.91E+37``/``9.9E+37`` on the
WT210).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

__all__ = ["IntegrationValues", "Quantity", "Reading"]


class Quantity(enum.Enum):
    """Measured functions, named after the WT310E ``:NUMeric`` functions."""

    VOLTS = "U"
    AMPS = "I"
    WATTS = "P"
    VOLT_AMPS = "S"
    VARS = "Q"
    POWER_FACTOR = "LAMBDA"
    PHASE_DEG = "PHI"
    VOLTS_FREQUENCY_HZ = "FU"
    AMPS_FREQUENCY_HZ = "FI"
    VOLTS_PEAK_POS = "UPPEAK"
    VOLTS_PEAK_NEG = "UMPEAK"
    AMPS_PEAK_POS = "IPPEAK"
    AMPS_PEAK_NEG = "IMPEAK"
    WATTS_PEAK_POS = "PPPEAK"
    WATTS_PEAK_NEG = "PMPEAK"
    WATT_HOURS = "WH"
    WATT_HOURS_POS = "WHP"
    WATT_HOURS_NEG = "WHM"
    AMP_HOURS = "AH"
    AMP_HOURS_POS = "AHP"
    AMP_HOURS_NEG = "AHM"
    INTEGRATION_TIME_S = "TIME"
    VOLTS_RANGE = "URANGE"
    AMPS_RANGE = "IRANGE"


_BOTH_DEPENDENT = frozenset(
    {
        Quantity.WATTS,
        Quantity.VOLT_AMPS,
        Quantity.VARS,
        Quantity.POWER_FACTOR,
        Quantity.PHASE_DEG,
        Quantity.WATTS_PEAK_POS,
        Quantity.WATTS_PEAK_NEG,
    }
)
_VOLTAGE_DEPENDENT = _BOTH_DEPENDENT | {
    Quantity.VOLTS,
    Quantity.VOLTS_PEAK_POS,
    Quantity.VOLTS_PEAK_NEG,
}
_CURRENT_DEPENDENT = _BOTH_DEPENDENT | {
    Quantity.AMPS,
    Quantity.AMPS_PEAK_POS,
    Quantity.AMPS_PEAK_NEG,
}
_INTEGRATED = frozenset(
    {
        Quantity.WATT_HOURS,
        Quantity.WATT_HOURS_POS,
        Quantity.WATT_HOURS_NEG,
        Quantity.AMP_HOURS,
        Quantity.AMP_HOURS_POS,
        Quantity.AMP_HOURS_NEG,
        Quantity.INTEGRATION_TIME_S,
    }
)


@dataclass(frozen=True)
class IntegrationValues:
    """Integrated values since ``:INTEGrate:RESet``. Units: Wh, Ah, s."""

    watt_hours: float = 0.0
    watt_hours_pos: float = 0.0
    watt_hours_neg: float = 0.0
    amp_hours: float = 0.0
    amp_hours_pos: float = 0.0
    amp_hours_neg: float = 0.0
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Reading:
    """Values of one update (RMS unless named peak). ``valid=False`` means no data.

    Integrated values and the ranges in effect are reported even without data.
    """

    update_index: int
    t_end_s: float
    valid: bool
    volts: float = 0.0
    amps: float = 0.0
    watts: float = 0.0
    frequency_hz: float = 0.0
    volts_peak: float = 0.0
    amps_peak: float = 0.0
    volts_over: bool = False
    amps_over: bool = False
    volts_range: float = math.nan
    amps_range: float = math.nan
    integration: IntegrationValues = IntegrationValues()

    @property
    def volt_amps(self) -> float:
        return self.volts * self.amps

    @property
    def power_factor(self) -> float:
        return self.watts / self.volt_amps if self.volt_amps > 0 else 1.0

    def value(self, quantity: Quantity) -> float:
        """Return the value of ``quantity``: NaN for no data, +/-inf for over-range."""
        if quantity in _INTEGRATED:
            return self._integrated(quantity)
        if quantity is Quantity.VOLTS_RANGE:
            return self.volts_range
        if quantity is Quantity.AMPS_RANGE:
            return self.amps_range
        if not self.valid:
            return math.nan
        raw = self._raw(quantity)
        over = (self.volts_over and quantity in _VOLTAGE_DEPENDENT) or (
            self.amps_over and quantity in _CURRENT_DEPENDENT
        )
        if over:
            return math.copysign(math.inf, raw) if raw != 0 else math.inf
        return raw

    def _raw(self, quantity: Quantity) -> float:
        volt_amps = self.volt_amps
        table = {
            Quantity.VOLTS: self.volts,
            Quantity.AMPS: self.amps,
            Quantity.WATTS: self.watts,
            Quantity.VOLT_AMPS: volt_amps,
            Quantity.VARS: math.sqrt(max(volt_amps**2 - self.watts**2, 0.0)),
            Quantity.POWER_FACTOR: self.power_factor,
            Quantity.PHASE_DEG: math.degrees(math.acos(max(min(self.power_factor, 1.0), -1.0))),
            Quantity.VOLTS_FREQUENCY_HZ: self.frequency_hz,
            Quantity.AMPS_FREQUENCY_HZ: self.frequency_hz,
            Quantity.VOLTS_PEAK_POS: self.volts_peak,
            Quantity.VOLTS_PEAK_NEG: -self.volts_peak,
            Quantity.AMPS_PEAK_POS: self.amps_peak,
            Quantity.AMPS_PEAK_NEG: -self.amps_peak,
            Quantity.WATTS_PEAK_POS: self.volts_peak * self.amps_peak,
            Quantity.WATTS_PEAK_NEG: 0.0,
        }
        return table[quantity]

    def _integrated(self, quantity: Quantity) -> float:
        values = self.integration
        table = {
            Quantity.WATT_HOURS: values.watt_hours,
            Quantity.WATT_HOURS_POS: values.watt_hours_pos,
            Quantity.WATT_HOURS_NEG: values.watt_hours_neg,
            Quantity.AMP_HOURS: values.amp_hours,
            Quantity.AMP_HOURS_POS: values.amp_hours_pos,
            Quantity.AMP_HOURS_NEG: values.amp_hours_neg,
            Quantity.INTEGRATION_TIME_S: values.elapsed_s,
        }
        return table[quantity]
