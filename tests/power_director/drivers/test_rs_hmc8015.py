"""Protocol tests for the R&S HMC8015 driver (SCPI Programmers Manual)."""

from __future__ import annotations

import math

import pytest

from power_director.meters.base import MeterConfig
from power_director.meters.rs_hmc8015 import RsHMC8015
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE
from power_director.testing import expected_protocol

STATE = [
    ("CHAN1:ACQ:VOLT:RANG?", "300"),
    ("CHAN1:ACQ:VOLT:RANG:AUTO?", "0"),
    ("CHAN1:ACQ:CURR:RANG?", "1"),
    ("CHAN1:ACQ:CURR:RANG:AUTO?", "0"),
    ("CHAN1:MEAS:FUNC?", "URMS,IRMS,P,S"),
]
OPEN = [
    ("*IDN?", "Rohde&Schwarz,HMC8015,123456,01.400"),
    ("SYST:REM", None),
    *STATE,
    ("CHAN1:MEAS:FUNC URMS,IRMS,P,LAMB,URAN,IRAN", None),
]
RESTORE = [*[(cmd.replace("?", f" {reply}"), None) for cmd, reply in STATE], ("SYST:LOC", None)]
VALUES = "2.3012E+02,2.175E-01,4.5871E+01,9.166E-01,3.0E+02,1.0E+00"


def opened(extra):
    return expected_protocol(RsHMC8015, [*OPEN, *extra], model="hmc8015")


def test_open_read_close_restores():
    with opened([("CHAN1:MEAS:DATA?", VALUES), *RESTORE]) as meter:
        identity = meter.open()
        (reading,) = meter.read()
        meter.close()
    assert identity.model == "HMC8015"
    assert reading.valid and reading.watts == pytest.approx(45.871)
    assert (reading.volts_range, reading.amps_range) == (300.0, 1.0)
    assert reading.watts_uncertainty == pytest.approx(0.045871 + 0.3)


@pytest.mark.parametrize(
    ("field", "flag"), [("9.91E+37", FLAG_NO_DATA), ("9.9E+37", FLAG_OVER_RANGE)]
)
def test_sentinels_become_invalid(field, flag):
    reply = f"2.3012E+02,{field},4.5871E+01,9.166E-01,3.0E+02,1.0E+00"
    with opened([("CHAN1:MEAS:DATA?", reply)]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert reading.flags == {flag} and math.isnan(reading.amps)


def test_configure_auto_range_integration_then_close():
    exchanges = [
        ("CHAN1:ACQ:VOLT:RANG:AUTO ON", None),
        ("CHAN1:ACQ:CURR:RANG:AUTO ON", None),
        ("CHAN1:MEAS:FUNC URMS,IRMS,P,LAMB,URAN,IRAN,WH", None),
        ("INT:STAT ON", None),
        ("INT:RES", None),
        ("INT:STAR", None),
        ("CHAN1:MEAS:DATA?", VALUES + ",2.0E-03"),
        ("INT:STOP", None),
        ("INT:RES", None),
        ("INT:STAT OFF", None),
        *RESTORE,
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.configure(MeterConfig(integration=True))
        (reading,) = meter.read()
        meter.close()
    assert reading.energy_joules == pytest.approx(7.2)
    # URAN/IRAN report the range auto range chose.
    assert (reading.volts_range, reading.amps_range) == (300.0, 1.0)


def test_set_fixed_ranges():
    with opened([("CHAN1:ACQ:VOLT:RANG 150", None), ("CHAN1:ACQ:CURR:RANG 0.5", None)]) as meter:
        meter.open()
        meter.set_ranges(150.0, 0.5)


def test_restore_ranges_writes_back_the_saved_ranges():
    exchanges = [
        ("CHAN1:ACQ:VOLT:RANG:AUTO ON", None),
        ("CHAN1:ACQ:CURR:RANG:AUTO ON", None),
        ("CHAN1:ACQ:VOLT:RANG 300", None),
        ("CHAN1:ACQ:VOLT:RANG:AUTO 0", None),
        ("CHAN1:ACQ:CURR:RANG 1", None),
        ("CHAN1:ACQ:CURR:RANG:AUTO 0", None),
        # range functions without data: the driver's own record of the range is used
        ("CHAN1:MEAS:DATA?", "2.3012E+02,2.175E-01,4.5871E+01,9.166E-01,9.91E+37,9.91E+37"),
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.auto_range()
        meter.restore_ranges()
        (reading,) = meter.read()
    assert reading.valid and (reading.volts_range, reading.amps_range) == (300.0, 1.0)
