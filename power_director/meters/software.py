"""Shared behaviour of software power sources (RAPL, NVML, AMD SMI) as meter channels.

A source has one channel per counter (a RAPL zone, a GPU). Each channel is either an *energy
counter* (cumulative joules, already unwrapped by the source) or a *power gauge* (watts as the
library reports them). Counter channels report the mean power between two reads, ``ΔE / Δt`` on
the injected monotonic clock; the first read after :meth:`open` or :meth:`configure` has no
interval yet and is invalid (``no_data``), as is a read whose counter could not be read.

Software sources have no volts, amps or power factor (NaN) and no ranges. Their uncertainty is
not a calibrated instrument's: ``watts_uncertainty = reading_pct % x |W| + floor_w``, with
figures each source documents as an assumption.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from power_director.errors import RangeError
from power_director.meters.base import MeterConfig, MeterIdentity, RangeTable
from power_director.samples import FLAG_NO_DATA, ChannelReading

log = logging.getLogger(__name__)

Clock = Callable[[], int]


@dataclass(frozen=True, slots=True)
class CounterValue:
    """One channel's raw value: cumulative energy (J) or power (W); None when unreadable."""

    energy_j: float | None = None
    watts: float | None = None


class SoftwareSource:
    """Base of the software sources; subclasses implement the three ``_source`` hooks.

    Args:
        name: registry name (``rapl``, ``nvml``, ``amdsmi``).
        clock: monotonic clock in ns (injectable for tests).
        reading_pct: uncertainty term proportional to the reading, % (an assumption).
        floor_w: constant uncertainty term, W (an assumption).
        update_interval_s: how often the sampler should read, s.
    """

    def __init__(
        self,
        name: str,
        *,
        clock: Clock = time.monotonic_ns,
        reading_pct: float,
        floor_w: float,
        update_interval_s: float = 0.1,
    ) -> None:
        self.name = name
        self.clock = clock
        self.reading_pct = reading_pct
        self.floor_w = floor_w
        self.identity: MeterIdentity | None = None
        self.channel_names: list[str] = []
        self._interval_s = update_interval_s
        self._selected: tuple[int, ...] = ()
        self._previous: dict[int, tuple[int, float]] = {}
        self._first: dict[int, float] = {}

    # Hooks.

    def _open_source(self) -> MeterIdentity:
        """Load the library or find the files; set ``channel_names``.

        Raises:
            MeterUnavailableError: the source is absent on this machine.
        """
        raise NotImplementedError

    def _sample(self) -> list[CounterValue]:
        """Return the raw value of every channel, in ``channel_names`` order."""
        raise NotImplementedError

    def _close_source(self) -> None:
        """Release the library."""

    # PowerMeter.

    @property
    def channel_count(self) -> int:
        """Return the number of channels :meth:`read` returns."""
        return len(self._selected)

    @property
    def range_table(self) -> RangeTable:
        """Return an empty range table (software sources have no ranges)."""
        return RangeTable()

    @property
    def update_interval_s(self) -> float:
        """Return the read interval, s."""
        return self._interval_s

    def open(self) -> MeterIdentity:
        """Find the source and its channels.

        Raises:
            MeterUnavailableError: the source is absent (the message says why).
        """
        self.identity = self._open_source()
        self._selected = tuple(range(1, len(self.channel_names) + 1))
        self._previous.clear()
        self._first.clear()
        return self.identity

    def identify(self) -> MeterIdentity:
        """Return the identity found by :meth:`open`."""
        if self.identity is None:
            return self.open()
        return self.identity

    def configure(self, config: MeterConfig) -> None:
        """Apply the update interval and channel selection; ranges are refused.

        Raises:
            RangeError: a fixed range or an unknown channel was asked for.
        """
        self.set_ranges(config.volts_range, config.amps_range)
        selected = config.channels or tuple(range(1, len(self.channel_names) + 1))
        bad = [c for c in selected if not 1 <= c <= len(self.channel_names)]
        if bad:
            raise RangeError(f"{self.name} has channels 1..{len(self.channel_names)}, not {bad}")
        if config.update_interval_s is not None:
            self._interval_s = config.update_interval_s
        self._selected = selected
        self._previous.clear()

    def set_ranges(
        self,
        volts_range: float | None = None,
        amps_range: float | None = None,
        *,
        channel: int | None = None,
    ) -> None:
        """Refuse fixed ranges (a software source has none).

        Raises:
            RangeError: a range was given.
        """
        if volts_range is not None or amps_range is not None:
            raise RangeError(f"{self.name} is a software source and has no ranges")

    def auto_range(self) -> None:
        """Do nothing: software sources have no ranges."""

    def read(self) -> list[ChannelReading]:
        """Return the mean power of each channel since the previous read. Units: W, J."""
        now = self.clock()
        values = self._sample()
        return [self._reading(channel, values[channel - 1], now) for channel in self._selected]

    def _reading(self, channel: int, value: CounterValue, now: int) -> ChannelReading:
        if value.watts is not None:
            return self._valid(value.watts, None)
        if value.energy_j is None:
            self._previous.pop(channel, None)
            return ChannelReading.invalid(FLAG_NO_DATA)
        previous = self._previous.get(channel)
        self._previous[channel] = (now, value.energy_j)
        first = self._first.setdefault(channel, value.energy_j)
        if previous is None or now <= previous[0]:
            return ChannelReading.invalid(FLAG_NO_DATA)
        watts = (value.energy_j - previous[1]) / ((now - previous[0]) / 1e9)
        return self._valid(watts, value.energy_j - first)

    def _valid(self, watts: float, energy_j: float | None) -> ChannelReading:
        if not math.isfinite(watts):
            return ChannelReading.invalid(FLAG_NO_DATA)
        return ChannelReading(
            volts=math.nan,
            amps=math.nan,
            watts=watts,
            power_factor=math.nan,
            energy_joules=energy_j,
            watts_uncertainty=abs(watts) * self.reading_pct / 100.0 + self.floor_w,
        )

    def close(self) -> None:
        """Release the library (nothing to restore: a software source has no settings)."""
        self._close_source()
