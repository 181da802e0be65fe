"""Range tables and the range state of one input (voltage or current), auto-range included.

Tables (from ecosystem.md §4.1/§4.2, IM WT310E-17EN / IM 760401-01E excerpts):

* WT310E voltage, crest factor 3: 15, 30, 60, 150, 300, 600 V; crest factor 6: 7.5 ... 300 V.
* WT310E current, crest factor 3: 5, 10, 20, 50, 100, 200, 500 mA, 1, 2, 5, 10, 20 A;
  crest factor 6: half of each (assumption: the CF6 current table is not in our notes).
* WT210 (760401) as WT310E, 5 mA ... 20 A (assumption: the mA ranges are not in our notes).

Over-range and auto-range thresholds (assumptions modelled on the WT manuals' wording, not
checked on hardware): an input is over range when its RMS exceeds 140 % of the range or its
peak exceeds range x crest factor. Auto range goes up at once (to the smallest range that
fits) when RMS exceeds 130 % of the range or the peak exceeds range x crest factor; it goes
down one range after ``down_updates`` consecutive updates with RMS at or below 30 % of the
range and a peak that fits the lower range.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "WT210_RANGES",
    "WT310E_RANGES",
    "InputRange",
    "MeterRanges",
    "RangeStep",
]

OVER_RANGE_RMS_FRACTION = 1.4
AUTO_UP_RMS_FRACTION = 1.3
AUTO_DOWN_RMS_FRACTION = 0.3


@dataclass(frozen=True)
class MeterRanges:
    """A model's range tables, keyed by crest factor. Units: V and A."""

    voltage_v: dict[int, tuple[float, ...]]
    current_a: dict[int, tuple[float, ...]]


_WT310E_CURRENT_CF3 = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
_VOLTAGE_CF3 = (15.0, 30.0, 60.0, 150.0, 300.0, 600.0)

WT310E_RANGES = MeterRanges(
    voltage_v={3: _VOLTAGE_CF3, 6: tuple(v / 2 for v in _VOLTAGE_CF3)},
    current_a={3: _WT310E_CURRENT_CF3, 6: tuple(a / 2 for a in _WT310E_CURRENT_CF3)},
)
WT210_RANGES = MeterRanges(
    voltage_v={3: _VOLTAGE_CF3, 6: tuple(v / 2 for v in _VOLTAGE_CF3)},
    current_a={3: _WT310E_CURRENT_CF3, 6: tuple(a / 2 for a in _WT310E_CURRENT_CF3)},
)


@dataclass(frozen=True)
class RangeStep:
    """Outcome of checking one update against the range: over-range and/or a range change."""

    over: bool
    changed: bool


class InputRange:
    """Range state of one input: tables per crest factor, current index, auto flag.

    Args:
        tables: range values per crest factor, ascending.
        crest_factor: 3 or 6.
        down_updates: updates below the down threshold before auto range steps down.
    """

    def __init__(
        self, tables: dict[int, tuple[float, ...]], crest_factor: int, down_updates: int
    ) -> None:
        self._tables = tables
        self._crest_factor = crest_factor
        self._index = len(tables[crest_factor]) - 1
        self._down_updates = down_updates
        self._below = 0
        self.auto = False

    @property
    def values(self) -> tuple[float, ...]:
        return self._tables[self._crest_factor]

    @property
    def value(self) -> float:
        return self.values[self._index]

    @property
    def crest_factor(self) -> int:
        return self._crest_factor

    def set_crest_factor(self, crest_factor: int) -> None:
        """Switch tables, keeping the position in the table (the range value halves/doubles)."""
        if crest_factor not in self._tables:
            raise ValueError(f"crest factor {crest_factor} not supported")
        self._crest_factor = crest_factor

    def set_value(self, value: float) -> None:
        """Select the range equal to ``value`` (relative tolerance 1e-6); ValueError if none."""
        for index, candidate in enumerate(self.values):
            if abs(candidate - value) <= 1e-6 * candidate:
                self._index = index
                self._below = 0
                return
        raise ValueError(f"{value} is not in the range table {self.values}")

    def reset(self) -> None:
        """``*RST``: maximum range, auto off."""
        self._index = len(self.values) - 1
        self._below = 0
        self.auto = False

    def check(self, rms: float, peak: float) -> RangeStep:
        """Judge one update; in auto range also move the range. Returns what happened."""
        limit = self.value
        peak_limit = limit * self._crest_factor
        over = rms > OVER_RANGE_RMS_FRACTION * limit or peak > peak_limit
        if not self.auto:
            return RangeStep(over=over, changed=False)
        if rms > AUTO_UP_RMS_FRACTION * limit or peak > peak_limit:
            self._below = 0
            target = self._fitting_index(rms, peak)
            if target > self._index:
                self._index = target
                return RangeStep(over=over, changed=True)
            return RangeStep(over=over, changed=False)
        if self._index > 0 and self._fits_lower(rms, peak):
            self._below += 1
            if self._below >= self._down_updates:
                self._index -= 1
                self._below = 0
                return RangeStep(over=False, changed=True)
        else:
            self._below = 0
        return RangeStep(over=over, changed=False)

    def _fits_lower(self, rms: float, peak: float) -> bool:
        lower = self.values[self._index - 1]
        return (
            rms <= AUTO_DOWN_RMS_FRACTION * self.value
            and rms <= AUTO_UP_RMS_FRACTION * lower
            and peak <= lower * self._crest_factor
        )

    def _fitting_index(self, rms: float, peak: float) -> int:
        for index, candidate in enumerate(self.values):
            if rms <= AUTO_UP_RMS_FRACTION * candidate and peak <= candidate * self._crest_factor:
                return index
        return len(self.values) - 1
