"""Range choice after the ranging phase: pure functions from observed peaks to fixed ranges.

The ranging phase runs on auto range while the workload runs once. At its end the director fixes
every channel's ranges for the testing phase, PTDaemon-style (power-dev ``server.py``), but picks
from the meter's discrete :class:`~power_director.meters.base.RangeTable` itself:

* voltage range: the smallest range >= the maximum RMS voltage seen;
* current range: the smallest range >= ``amps_margin`` (1.1) x the maximum RMS current seen;
* both taken from the table *at the meter's crest factor* (CF6 tables are half the CF3 ones), and,
  when the peak (instantaneous) values are known, also >= peak / crest factor, so the range times
  the crest factor covers the waveform's peak.

Manual ranges (:class:`RangeSetting`) override the observation: each given value is a maximum to
cover, rounded up to the smallest table range >= it (an exact range value selects itself).

Example::

    peaks = RangingPeaks(channel_count=1)
    for sample in samples:
        peaks.observe(sample)
    choice = choose_ranges("wt310e", meter.range_table, peaks, crest_factor=3)
    choice.channels[0].amps_range   # e.g. 0.5

Errors: :class:`~power_director.errors.RangeError` naming the meter, channel and value when
nothing in the table fits, or when a channel had no valid reading to range on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from power_director.errors import RangeError
from power_director.meters.base import RangeTable
from power_director.samples import Sample

log = logging.getLogger(__name__)

#: Current range headroom over the maximum RMS current seen (power-dev: ``maxAmps * 1.1``).
AMPS_MARGIN = 1.1


@dataclass(frozen=True, slots=True)
class RangeSetting:
    """Manual ranges for one meter (all channels): the maximum V and A to cover.

    Attributes:
        volts_max: voltage to cover, V; None takes it from the ranging phase.
        amps_max: current to cover, A (no margin is added); None takes it from ranging.
    """

    volts_max: float | None = None
    amps_max: float | None = None


@dataclass(frozen=True, slots=True)
class ChannelRange:
    """The fixed ranges chosen for one channel.

    Attributes:
        channel: 1-based channel (element) number.
        volts_range: chosen voltage range, V.
        amps_range: chosen current range, A.
        volts_max_seen: maximum RMS voltage seen while ranging, V (NaN when not ranged).
        amps_max_seen: maximum RMS current seen while ranging, A (NaN when not ranged).
        source: ``"ranging"`` or ``"manual"`` (manual when any value came from a setting).
    """

    channel: int
    volts_range: float
    amps_range: float
    volts_max_seen: float
    amps_max_seen: float
    source: Literal["ranging", "manual"]


@dataclass(frozen=True, slots=True)
class RangeChoice:
    """The ranges chosen for one meter.

    Attributes:
        meter: meter name.
        crest_factor: crest factor the ranges were taken from the table at.
        channels: one :class:`ChannelRange` per channel, in channel order.
    """

    meter: str
    crest_factor: int
    channels: tuple[ChannelRange, ...]


class RangingPeaks:
    """Maximum RMS (and optionally peak) V and A per channel over valid readings.

    Args:
        channel_count: number of channels the meter reads.
    """

    def __init__(self, channel_count: int) -> None:
        self.volts_max = [math.nan] * channel_count
        self.amps_max = [math.nan] * channel_count
        self.valid_readings = [0] * channel_count

    def observe(self, sample: Sample) -> None:
        """Fold the valid channels of ``sample`` into the maxima."""
        for index, reading in enumerate(sample.channels[: len(self.volts_max)]):
            if not reading.valid or math.isnan(reading.volts) or math.isnan(reading.amps):
                continue
            self.valid_readings[index] += 1
            self.volts_max[index] = _nanmax(self.volts_max[index], abs(reading.volts))
            self.amps_max[index] = _nanmax(self.amps_max[index], abs(reading.amps))


def _nanmax(a: float, b: float) -> float:
    return b if math.isnan(a) else max(a, b)


def pick_range(
    ranges: tuple[float, ...], value: float, *, meter: str, channel: int, what: str, unit: str
) -> float:
    """Return the smallest of ``ranges`` >= ``value``.

    Raises:
        RangeError: ``value`` is NaN or exceeds every range (the message names meter and channel).
    """
    if math.isnan(value):
        raise RangeError(f"{meter} channel {channel}: no valid {what} reading to choose a range")
    for candidate in sorted(ranges):
        if candidate >= value:
            return candidate
    largest = max(ranges, default=0.0)
    raise RangeError(
        f"{meter} channel {channel}: {what} {value:g} {unit} exceeds the largest range "
        f"{largest:g} {unit}"
    )


def choose_channel_range(
    meter: str,
    channel: int,
    table: RangeTable,
    *,
    volts_max: float,
    amps_max: float,
    crest_factor: int = 3,
    amps_margin: float = AMPS_MARGIN,
    volts_peak: float | None = None,
    amps_peak: float | None = None,
    manual: RangeSetting | None = None,
) -> ChannelRange:
    """Choose the ranges of one channel; see the module docstring for the rule.

    Raises:
        RangeError: nothing in the table fits, or there is nothing to range on.
    """
    volts_need = volts_max
    amps_need = amps_max * amps_margin
    if volts_peak is not None:
        volts_need = max(volts_need, volts_peak / crest_factor)
    if amps_peak is not None:
        amps_need = max(amps_need, amps_peak / crest_factor)
    source: Literal["ranging", "manual"] = "ranging"
    if manual is not None and manual.volts_max is not None:
        volts_need, source = manual.volts_max, "manual"
    if manual is not None and manual.amps_max is not None:
        amps_need, source = manual.amps_max, "manual"
    amps_label = "current"
    if source == "ranging" and not math.isnan(amps_max) and amps_need == amps_max * amps_margin:
        amps_label = f"current {amps_margin:g} x {amps_max:g} A ="
    volts_range = pick_range(
        table.volts_ranges(crest_factor),
        volts_need,
        meter=meter,
        channel=channel,
        what="voltage",
        unit="V",
    )
    amps_range = pick_range(
        table.amps_ranges(crest_factor),
        amps_need,
        meter=meter,
        channel=channel,
        what=amps_label,
        unit="A",
    )
    return ChannelRange(channel, volts_range, amps_range, volts_max, amps_max, source)


def choose_ranges(
    meter: str,
    table: RangeTable,
    peaks: RangingPeaks | None,
    *,
    crest_factor: int = 3,
    amps_margin: float = AMPS_MARGIN,
    manual: RangeSetting | None = None,
    channel_count: int | None = None,
) -> RangeChoice:
    """Choose fixed ranges for every channel of ``meter``.

    Args:
        meter: meter name (for messages).
        table: the meter's discrete ranges.
        peaks: what the ranging phase saw; None when only manual ranges are given.
        crest_factor: the meter's crest factor.
        amps_margin: current headroom factor.
        manual: manual maxima that override the observation.
        channel_count: number of channels when ``peaks`` is None.

    Raises:
        RangeError: a channel's value fits no range, or there is nothing to choose from.
    """
    if peaks is not None:
        count = len(peaks.volts_max)
    elif channel_count is not None:
        count = channel_count
    else:
        raise RangeError(f"{meter}: no ranging data and no channel count")
    channels = []
    for index in range(count):
        choice = choose_channel_range(
            meter,
            index + 1,
            table,
            volts_max=peaks.volts_max[index] if peaks else math.nan,
            amps_max=peaks.amps_max[index] if peaks else math.nan,
            crest_factor=crest_factor,
            amps_margin=amps_margin,
            manual=manual,
        )
        channels.append(choice)
    result = RangeChoice(meter, crest_factor, tuple(channels))
    log.info(
        "ranges chosen for %s: %s",
        meter,
        ", ".join(f"ch{c.channel} {c.volts_range:g} V {c.amps_range:g} A" for c in channels),
    )
    return result


def ranges_to_json(choice: RangeChoice) -> Mapping[str, object]:
    """Return ``choice`` as a JSON-ready mapping."""
    return {
        "meter": choice.meter,
        "crest_factor": choice.crest_factor,
        "channels": [
            {
                "channel": c.channel,
                "volts_range": c.volts_range,
                "amps_range": c.amps_range,
                "volts_max_seen": None if math.isnan(c.volts_max_seen) else c.volts_max_seen,
                "amps_max_seen": None if math.isnan(c.amps_max_seen) else c.amps_max_seen,
                "source": c.source,
            }
            for c in choice.channels
        ],
    }
