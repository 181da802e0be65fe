from __future__ import annotations

import math

import pytest

from power_director.merge import merge_by_time
from power_director.samples import ChannelReading, Sample

MS = 1_000_000


def stream(name: str, start_ms: int, period_ms: int, count: int, watts: float, volts: float):
    out = []
    for i in range(count):
        t = (start_ms + i * period_ms) * MS
        reading = ChannelReading(volts=volts, amps=watts / volts, watts=watts + i, power_factor=0.9)
        out.append(Sample(10**18 + t, t, name, (reading,)))
    return out


def test_two_meters_at_different_rates_merge_by_timestamp():
    slow = stream("a", 1000, 100, 5, 100.0, 230.0)  # 1.0, 1.1, ... 1.4 s
    fast = stream("b", 1003, 30, 15, 10.0, 120.0)  # 1.003, 1.033, ... s
    rows = merge_by_time([("a", slow), ("b", fast)], tolerance_ns=100 * MS)
    assert [r.t_mono_ns for r in rows] == [s.t_mono_ns for s in slow]  # slow meter's timeline
    row = rows[1]  # t = 1.1 s: b's previous sample is 1.093 s (index 3), not line 1
    assert row.meters == ("a", "b")
    assert row.readings[1].watts == 13.0 and row.readings[1].volts == 120.0
    assert row.readings[0].volts == 230.0 and row.readings[0].power_factor == 0.9
    assert row.total_watts == 101.0 + 13.0
    assert row.skew_ns == 7 * MS
    assert rows[0].readings[1].watts == 10.0  # 1.0 s: no previous b sample; next one is 3 ms on
    # A by-line-index merge would pair a's 2nd line with b's 2nd (t = 1.033 s, 67 ms off).
    assert rows[1].readings[1] is not fast[1].channels[0]


def test_missing_meter_beyond_tolerance_makes_the_row_invalid():
    a = stream("a", 0, 100, 6, 100.0, 230.0)
    b = stream("b", 0, 100, 2, 50.0, 230.0) + stream("b", 450, 100, 1, 50.0, 230.0)
    rows = merge_by_time([("a", a), ("b", b)], tolerance_ns=120 * MS, reference="a")
    assert [r.valid for r in rows] == [True, True, True, False, True, True]
    assert math.isnan(rows[3].total_watts)
    assert rows[3].readings[1].flags == {"no_data"}


def test_reference_must_be_known():
    with pytest.raises(ValueError):
        merge_by_time([("a", [])], tolerance_ns=1, reference="z")
    with pytest.raises(ValueError):
        merge_by_time([], tolerance_ns=1)
