from __future__ import annotations

import math

import pytest

from power_director.errors import RangeError
from power_director.meters.base import RangeTable
from power_director.ranging import (
    RangeSetting,
    RangingPeaks,
    choose_channel_range,
    choose_ranges,
)
from power_director.samples import FLAG_OVER_RANGE, ChannelReading, Sample

TABLE = RangeTable(
    volts={3: (15.0, 30.0, 60.0, 150.0, 300.0, 600.0), 6: (7.5, 15.0, 30.0, 75.0, 150.0, 300.0)},
    amps={
        3: (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0),
        6: (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    },
)


@pytest.mark.parametrize(
    ("volts_max", "amps_max", "cf", "manual", "want_v", "want_a", "source"),
    [
        # voltage >= max V seen; current >= 1.1 x max A seen
        (230.0, 0.45, 3, None, 300.0, 0.5, "ranging"),
        (230.0, 0.46, 3, None, 300.0, 1.0, "ranging"),  # 0.506 A needs the 1 A range
        (300.0, 0.5, 3, None, 300.0, 1.0, "ranging"),  # equal to a range fits it; 0.55 A does not
        (120.0, 0.0909, 3, None, 150.0, 0.1, "ranging"),  # 1.1 x 0.0909 = 0.09999 A
        (12.0, 0.004, 3, None, 15.0, 0.005, "ranging"),
        (599.0, 18.0, 3, None, 600.0, 20.0, "ranging"),
        # crest factor 6 halves the table
        (230.0, 0.45, 6, None, 300.0, 0.5, "ranging"),
        (140.0, 0.2, 6, None, 150.0, 0.25, "ranging"),
        # manual maxima override, rounded up to a range, no margin
        (230.0, 0.45, 3, RangeSetting(600.0, 2.0), 600.0, 2.0, "manual"),
        (230.0, 0.45, 3, RangeSetting(None, 3.0), 300.0, 5.0, "manual"),
        (math.nan, math.nan, 3, RangeSetting(250.0, 0.3), 300.0, 0.5, "manual"),
    ],
)
def test_choose_channel_range_table(volts_max, amps_max, cf, manual, want_v, want_a, source):
    got = choose_channel_range(
        "wt310e", 1, TABLE, volts_max=volts_max, amps_max=amps_max, crest_factor=cf, manual=manual
    )
    assert (got.volts_range, got.amps_range, got.source) == (want_v, want_a, source)
    assert got.volts_range in TABLE.volts_ranges(cf)
    assert got.amps_range in TABLE.amps_ranges(cf)


@pytest.mark.parametrize(
    ("volts_max", "amps_max", "cf", "manual", "match"),
    [
        (700.0, 1.0, 3, None, r"wt310e channel 2: voltage 700 V exceeds the largest range 600 V"),
        (230.0, 19.0, 3, None, r"channel 2: current 1.1 x 19 A = 20.9 A exceeds .* 20 A"),
        (230.0, 9.5, 6, None, r"channel 2: current 1.1 x 9.5 A = 10.45 A exceeds .* 10 A"),
        (310.0, 1.0, 6, None, r"channel 2: voltage 310 V exceeds the largest range 300 V"),
        (math.nan, math.nan, 3, None, r"channel 2: no valid voltage reading"),
        (230.0, 1.0, 3, RangeSetting(None, 25.0), r"channel 2: current 25 A exceeds"),
    ],
)
def test_choose_channel_range_errors_name_channel_and_value(volts_max, amps_max, cf, manual, match):
    with pytest.raises(RangeError, match=match):
        choose_channel_range(
            "wt310e",
            2,
            TABLE,
            volts_max=volts_max,
            amps_max=amps_max,
            crest_factor=cf,
            manual=manual,
        )


def test_peak_current_respects_crest_factor():
    # RMS 0.4 A needs 0.5 A by the 1.1 rule, but a 2.4 A peak over CF3 needs >= 0.8 A.
    got = choose_channel_range("m", 1, TABLE, volts_max=230, amps_max=0.4, amps_peak=2.4)
    assert got.amps_range == 1.0


def _sample(*channels: ChannelReading, t: int = 0) -> Sample:
    return Sample(t, t, "m", channels)


def test_peaks_ignore_invalid_readings_and_choose_per_channel():
    ok = ChannelReading(volts=231.0, amps=0.3, watts=65.0, power_factor=0.94)
    high = ChannelReading(volts=229.0, amps=1.5, watts=330.0, power_factor=0.96)
    over = ChannelReading.invalid(FLAG_OVER_RANGE)
    peaks = RangingPeaks(2)
    peaks.observe(_sample(ok, high))
    peaks.observe(_sample(over, over))
    peaks.observe(_sample(ok.__class__(volts=235.0, amps=0.2, watts=44.0, power_factor=0.9), high))
    choice = choose_ranges("wt332e", TABLE, peaks, crest_factor=3)
    assert [(c.volts_range, c.amps_range) for c in choice.channels] == [(300.0, 0.5), (300.0, 2.0)]
    assert choice.channels[0].volts_max_seen == 235.0
    assert choice.channels[1].amps_max_seen == 1.5
    assert peaks.valid_readings == [2, 2]


def test_choose_ranges_without_data_is_an_error():
    with pytest.raises(RangeError, match="channel 1: no valid voltage"):
        choose_ranges("m", TABLE, RangingPeaks(1))
    manual = choose_ranges("m", TABLE, None, manual=RangeSetting(230.0, 0.3), channel_count=2)
    assert [c.amps_range for c in manual.channels] == [0.5, 0.5]
