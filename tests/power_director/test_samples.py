"""Sample and ChannelReading value types."""

from __future__ import annotations

import dataclasses
import math

import pytest

from power_director.samples import FLAG_OVER_RANGE, ChannelReading, Sample


def reading(watts, uncertainty=0.1, energy=None):
    return ChannelReading(230.0, watts / 230.0, watts, 1.0, energy, 300.0, 1.0, uncertainty)


def test_frozen_and_slotted():
    r = reading(10.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.watts = 1.0  # type: ignore[misc]
    assert not hasattr(r, "__dict__")


def test_total_watts_and_uncertainty():
    s = Sample(1, 2, "wt333e", (reading(10.0), reading(20.0, 0.2)))
    assert s.valid
    assert s.total_watts == pytest.approx(30.0)
    assert s.total_watts_uncertainty == pytest.approx(0.3)
    assert s.total_energy_joules is None
    assert s.flags == frozenset()


def test_invalid_channel_makes_totals_nan():
    bad = ChannelReading.invalid(FLAG_OVER_RANGE, volts_range=300.0)
    s = Sample(1, 2, "wt333e", (reading(10.0), bad))
    assert not s.valid
    assert math.isnan(s.total_watts)
    assert math.isnan(s.total_watts_uncertainty)
    assert s.flags == {FLAG_OVER_RANGE}
    assert math.isnan(bad.watts) and bad.volts_range == 300.0


def test_empty_sample_is_invalid():
    assert not Sample(1, 2, "x", ()).valid


def test_ratio_and_power_range():
    r = reading(60.0, 0.135)
    assert r.watts_uncertainty_ratio == pytest.approx(0.00225)
    assert r.power_range_watts == 300.0
    assert ChannelReading(1, 1, 1, 1).power_range_watts is None
    assert math.isnan(ChannelReading(1, 1, 0.0, 1).watts_uncertainty_ratio)


def test_energy_sum():
    s = Sample(1, 2, "x", (reading(1.0, energy=3.0), reading(1.0, energy=4.0)))
    assert s.total_energy_joules == 7.0
