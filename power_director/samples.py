"""Meter reading value types: a :class:`ChannelReading` per channel, grouped in a :class:`Sample`.

Both are frozen, slotted dataclasses (the sampler may create a thousand per second). Units are in
the field names. A reading that the meter flagged (over-range, no data) or that could not be parsed
is *invalid*: ``valid`` is False, ``flags`` says why, and the affected quantities are NaN, never a
made-up number.

Example::

    reading = ChannelReading(volts=230.1, amps=0.21, watts=44.4, power_factor=0.92)
    sample = Sample(t_wall_ns=time.time_ns(), t_mono_ns=time.monotonic_ns(),
                    meter="wt310e", channels=(reading,))
    sample.total_watts  # 44.4
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: The meter reported an over-range value (INF, 9.91E+37, "-OF-", "OL", ...).
FLAG_OVER_RANGE = "over_range"
#: The meter had no data for an item yet (NAN, "----", ...).
FLAG_NO_DATA = "no_data"
#: The reply could not be parsed at all.
FLAG_GARBLED = "garbled"

_NAN = math.nan


@dataclass(frozen=True, slots=True)
class ChannelReading:
    """One reading of one meter channel (element). Units: V, A, W, J.

    Attributes:
        volts: RMS voltage, V (NaN when invalid).
        amps: RMS current, A (NaN when invalid).
        watts: active power, W (NaN when invalid).
        power_factor: power factor λ, dimensionless (NaN when invalid or not measured).
        energy_joules: integrated energy, J, when integration is in use; else None.
        volts_range: voltage range in effect, V; None when unknown (e.g. auto range).
        amps_range: current range in effect, A; None when unknown.
        watts_uncertainty: absolute uncertainty of ``watts`` from the model's accuracy spec, W
            (NaN when it cannot be computed, e.g. unknown range).
        valid: False when any quantity was flagged or unparseable.
        flags: why the reading is invalid (:data:`FLAG_OVER_RANGE`, :data:`FLAG_NO_DATA`,
            :data:`FLAG_GARBLED`); empty for a valid reading.
    """

    volts: float
    amps: float
    watts: float
    power_factor: float
    energy_joules: float | None = None
    volts_range: float | None = None
    amps_range: float | None = None
    watts_uncertainty: float = _NAN
    valid: bool = True
    flags: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def invalid(
        cls,
        *flags: str,
        volts_range: float | None = None,
        amps_range: float | None = None,
    ) -> ChannelReading:
        """Return a reading with every quantity NaN, marked invalid with ``flags``."""
        return cls(
            volts=_NAN,
            amps=_NAN,
            watts=_NAN,
            power_factor=_NAN,
            volts_range=volts_range,
            amps_range=amps_range,
            valid=False,
            flags=frozenset(flags),
        )

    @property
    def watts_uncertainty_ratio(self) -> float:
        """Return the relative uncertainty of ``watts`` (0.01 is 1 %); NaN when unknown."""
        if not self.valid or self.watts == 0.0:
            return _NAN
        return self.watts_uncertainty / abs(self.watts)

    @property
    def power_range_watts(self) -> float | None:
        """Return the power range in effect (voltage range x current range), W."""
        if self.volts_range is None or self.amps_range is None:
            return None
        return self.volts_range * self.amps_range


@dataclass(frozen=True, slots=True)
class Sample:
    """All channels of one meter, read at one instant.

    Attributes:
        t_wall_ns: UTC wall-clock time of the read, ns since the epoch (``time.time_ns()``).
        t_mono_ns: monotonic time of the read, ns (``time.monotonic_ns()``), the session timebase.
        meter: the meter's name (model key or spec) the sample came from.
        channels: one reading per channel, in channel order.
    """

    t_wall_ns: int
    t_mono_ns: int
    meter: str
    channels: tuple[ChannelReading, ...]

    @property
    def valid(self) -> bool:
        """Return True when the sample has channels and every one is valid."""
        return bool(self.channels) and all(c.valid for c in self.channels)

    @property
    def flags(self) -> frozenset[str]:
        """Return the union of the channels' flags."""
        out: frozenset[str] = frozenset()
        for channel in self.channels:
            out |= channel.flags
        return out

    @property
    def total_watts(self) -> float:
        """Return the summed active power of all channels, W; NaN if any channel is invalid."""
        if not self.valid:
            return _NAN
        return math.fsum(c.watts for c in self.channels)

    @property
    def total_watts_uncertainty(self) -> float:
        """Return the worst-case (linear sum) uncertainty of :attr:`total_watts`, W."""
        if not self.valid:
            return _NAN
        return math.fsum(c.watts_uncertainty for c in self.channels)

    @property
    def total_energy_joules(self) -> float | None:
        """Return the summed integrated energy, J, or None if a channel has none."""
        energies = [c.energy_joules for c in self.channels]
        if not energies or any(e is None for e in energies):
            return None
        return math.fsum(e for e in energies if e is not None)
