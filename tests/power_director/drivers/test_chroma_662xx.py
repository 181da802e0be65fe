"""Protocol tests for the Chroma 66202/66205 driver (66200 User's Manual, Remote operation)."""

from __future__ import annotations

import math

import pytest

from power_director.errors import MeterError
from power_director.meters.base import MeterConfig
from power_director.meters.chroma_662xx import Chroma662xx
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE
from power_director.testing import expected_protocol

STATE = [
    ("SOUR:TRIG:MODE?", "NONE"),
    ("SOUR:MEAS:MODE?", "AVERAGE"),
    ("SOUR:MEAS:WIND?", "0.5"),
    ("SOUR:VOLT:RANG?", "V300"),
    ("SOUR:CURR:SHUN?", "HIGH"),
    ("SOUR:CURR:RANG?", "A2H"),
]
OPEN = [
    ("*IDN?", "Chroma ATE,66202,662020001234,1.00"),
    ("SYST:HEAD OFF", None),
    ("SYST:TRAN:SEP 1", None),
    ("SYST:TRAN:TERM 0", None),
    *STATE,
    ("SOUR:TRIG:MODE NONE", None),
    ("SOUR:MEAS:MODE WINDOW", None),
]
RESTORE = [(cmd.replace("?", f" {reply}"), None) for cmd, reply in STATE]
MEAS = "MEAS? V,I,W,PF"


def opened(extra):
    return expected_protocol(Chroma662xx, [*OPEN, *extra], model="chroma66202")


def test_open_read_close_restores():
    with opened([(MEAS, "230.12;0.2175;45.871;0.9166"), *RESTORE]) as meter:
        meter.open()
        (reading,) = meter.read()
        meter.close()
    assert meter.update_interval_s == 0.5
    assert reading.valid and reading.watts == 45.871
    assert (reading.volts_range, reading.amps_range) == (300.0, 2.0)
    assert reading.watts_uncertainty == pytest.approx(0.045871 + 0.6)


@pytest.mark.parametrize(
    ("reply", "flag"),
    [
        ("-3;0.2175;45.871;0.9166", FLAG_OVER_RANGE),
        ("230.1;-3;45.871;0.9166", FLAG_OVER_RANGE),
        ("230.1;-2;45.871;0.9166", FLAG_NO_DATA),
        ("-1;-1;-1;-1", FLAG_NO_DATA),
        ("9.91E+37;0.2;45.871;0.9166", FLAG_NO_DATA),
    ],
)
def test_special_values_become_invalid(reply, flag):
    with opened([(MEAS, reply)]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert not reading.valid and reading.flags == {flag}
    assert math.isnan(reading.watts_uncertainty)


def test_power_factor_minus_one_is_a_value():
    with opened([(MEAS, "230.1,0.2,-46.0,-1")]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert reading.valid and reading.power_factor == -1.0


def test_ranges_set_shunt_first_and_auto():
    exchanges = [
        ("SOUR:VOLT:RANG V150", None),
        ("SOUR:CURR:SHUN LOW", None),
        ("SOUR:CURR:RANG A01", None),
        ("SOUR:MEAS:WIND 1", None),
        ("SOUR:VOLT:RANG AUTO", None),
        ("SOUR:CURR:SHUN AUTO", None),
        ("SOUR:CURR:RANG AUTO", None),
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.set_ranges(150.0, 0.1)
        meter.configure(MeterConfig(update_interval_s=1.0))
    assert meter.update_interval_s == 1.0


def test_integration_is_refused_before_any_io():
    with opened([]) as meter:
        meter.open()
        with pytest.raises(MeterError, match="integration is not supported"):
            meter.configure(MeterConfig(integration=True))


def test_restore_ranges_writes_back_ranges_and_shunt():
    exchanges = [
        ("SOUR:VOLT:RANG AUTO", None),
        ("SOUR:CURR:SHUN AUTO", None),
        ("SOUR:CURR:RANG AUTO", None),
        ("SOUR:VOLT:RANG V300", None),
        ("SOUR:CURR:SHUN HIGH", None),
        ("SOUR:CURR:RANG A2H", None),
        (MEAS, "230.12;0.2175;45.871;0.9166"),
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.auto_range()
        meter.restore_ranges()
        (reading,) = meter.read()
    assert (reading.volts_range, reading.amps_range) == (300.0, 2.0)
