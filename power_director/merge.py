"""Merge several meters of one session onto one timebase, by timestamp (not by line index).

power-dev merges per-analyzer logs row by row, so rows ~270 ms apart end up side by side and a
missing row shifts everything after it (power-dev#330). Here every meter's samples carry the same
monotonic clock (the director's), and the rule is:

1. **Reference timeline.** One meter's sample times are the rows: the named ``reference``, else
   the meter with the fewest samples (the slowest), so no row repeats a held value of it.
2. **Alignment.** For every other meter, a row takes that meter's *previous* sample (the latest
   with ``t_mono_ns <= t_row``): a meter's reading stands until its next update
   (sample-and-hold). If the previous sample is older than ``tolerance_ns`` (or there is none),
   the *next* sample is used if it lies within ``tolerance_ns`` after the row. Otherwise that
   meter's channels are invalid in the row (``no_data``), so the row's sum is invalid too.
3. **Values.** V, A and PF are kept per channel (meters in the given order, channels in meter
   order); W is summed over all channels (:attr:`MergedRow.total_watts`).

Example::

    rows = merge_by_time([("a", samples_a), ("b", samples_b)], tolerance_ns=300_000_000)
    rows[0].total_watts
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from power_director.samples import FLAG_NO_DATA, ChannelReading, Sample

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MergedRow:
    """One row of the merged timeline.

    Attributes:
        t_mono_ns: the reference sample's monotonic time, ns.
        t_wall_ns: the reference sample's UTC wall-clock time, ns.
        readings: every channel of every meter, meters in merge order.
        meters: the meter each reading came from (parallel to ``readings``).
        skew_ns: the largest |t_meter - t_row| among the samples used, ns.
    """

    t_mono_ns: int
    t_wall_ns: int
    readings: tuple[ChannelReading, ...]
    meters: tuple[str, ...]
    skew_ns: int

    @property
    def valid(self) -> bool:
        """Return True when every channel of every meter is valid."""
        return bool(self.readings) and all(r.valid for r in self.readings)

    @property
    def total_watts(self) -> float:
        """Return the summed W of all channels; NaN if any is invalid."""
        if not self.valid:
            return math.nan
        return math.fsum(r.watts for r in self.readings)


def _pick(
    times: Sequence[int], samples: Sequence[Sample], t_ns: int, tolerance_ns: int
) -> Sample | None:
    index = bisect.bisect_right(times, t_ns) - 1
    if index >= 0 and t_ns - times[index] <= tolerance_ns:
        return samples[index]
    if index + 1 < len(times) and times[index + 1] - t_ns <= tolerance_ns:
        return samples[index + 1]
    return None


def merge_by_time(
    streams: Sequence[tuple[str, Sequence[Sample]]],
    *,
    tolerance_ns: int,
    reference: str | None = None,
) -> list[MergedRow]:
    """Merge the meters' samples into rows on the reference meter's timeline.

    Args:
        streams: ``(meter name, samples in time order)`` per meter.
        tolerance_ns: the largest time distance at which a sample still counts for a row, ns.
        reference: the meter whose samples give the rows (default: the one with fewest).

    Raises:
        ValueError: no streams, or ``reference`` is not one of them.
    """
    if not streams:
        raise ValueError("nothing to merge")
    names = [name for name, _ in streams]
    if reference is None:
        reference = min(streams, key=lambda s: len(s[1]))[0]
    elif reference not in names:
        raise ValueError(f"reference meter {reference!r} is not among {names}")
    ordered = [sorted(samples, key=lambda s: s.t_mono_ns) for _, samples in streams]
    times = [[s.t_mono_ns for s in samples] for samples in ordered]
    widths = [len(samples[0].channels) if samples else 1 for samples in ordered]
    ref_samples = ordered[names.index(reference)]
    rows = []
    missing = 0
    for ref in ref_samples:
        readings: list[ChannelReading] = []
        meters: list[str] = []
        skew = 0
        for name, samples, stamps, width in zip(names, ordered, times, widths, strict=True):
            chosen = _pick(stamps, samples, ref.t_mono_ns, tolerance_ns)
            if chosen is None:
                missing += 1
                channels: tuple[ChannelReading, ...] = (ChannelReading.invalid(FLAG_NO_DATA),) * (
                    width
                )
            else:
                channels = chosen.channels
                skew = max(skew, abs(chosen.t_mono_ns - ref.t_mono_ns))
            readings.extend(channels)
            meters.extend([name] * len(channels))
        rows.append(MergedRow(ref.t_mono_ns, ref.t_wall_ns, tuple(readings), tuple(meters), skew))
    if missing:
        log.warning("merge: %d meter slot(s) had no sample within %d ns", missing, tolerance_ns)
    return rows
