"""Protocol tests for the WT210/WT230 driver (IM 760401-01E ch. 11, 488.2 mode)."""

from __future__ import annotations

import math

import pytest

from power_director.meters.base import MeterConfig
from power_director.meters.yokogawa_wt210 import ITEM_ORDER, YokogawaWT210
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE
from power_director.testing import expected_protocol

COMM = [
    ("*IDN?", "YOKOGAWA,760401,91H000000,F3.01"),
    (":COMMunicate:REMote ON", None),
    (":COMMunicate:HEADer OFF", None),
    (":COMMunicate:VERBose OFF", None),
]
STATE = [
    (":CONFigure:CFACtor?", "3"),
    (":SAMPle:RATE?", "250MS"),
    (":CONFigure:VOLTage:RANGe?", "150.0E+00"),
    (":CONFigure:VOLTage:AUTO?", "0"),
    (":CONFigure:CURRent:RANGe?", "0.5E+00"),
    (":CONFigure:CURRent:AUTO?", "1"),
    *[(f":MEASure:ITEM:{name}?", "1" if name in {"V", "A", "W"} else "0") for name in ITEM_ORDER],
]


def items(energy=False):
    on = {"V", "A", "W", "PF", *(["WH"] if energy else [])}
    return [(f":MEASure:ITEM:{n} {'ON' if n in on else 'OFF'}", None) for n in ITEM_ORDER]


OPEN = [*COMM, *STATE, *items()]


def test_open_and_read():
    with expected_protocol(
        YokogawaWT210, [*OPEN, (":MEASure:VALue?", "100.1E+00,0.21E+00,20.5E+00,0.97E+00")]
    ) as meter:
        assert meter.open().model == "760401"
        (reading,) = meter.read()
    assert reading.valid
    assert reading.volts == pytest.approx(100.1)
    # voltage fixed at 150 V, current on auto: range unknown, so no uncertainty.
    assert reading.volts_range == 150.0 and reading.amps_range is None
    assert math.isnan(reading.watts_uncertainty)


@pytest.mark.parametrize(
    ("field", "flag"), [("9.91E+37", FLAG_NO_DATA), ("9.9E+37", FLAG_OVER_RANGE)]
)
def test_sentinels_are_invalid(field, flag):
    with expected_protocol(
        YokogawaWT210, [*OPEN, (":MEASure:VALue?", f"100.1,{field},20.5,0.97")]
    ) as meter:
        meter.open()
        (reading,) = meter.read()
    assert not reading.valid and reading.flags == {flag}
    assert math.isnan(reading.amps)


def test_configure_ranges_rate_cf_integration_and_uncertainty():
    exchanges = [
        *OPEN,
        (":CONFigure:CFACtor 3", None),
        (":SAMPle:RATE 1S", None),
        (":CONFigure:VOLTage:RANGe 150V", None),
        (":CONFigure:CURRent:RANGe 0.5A", None),
        *items(energy=True),
        (":INTEGrate:RESet", None),
        (":INTEGrate:STARt", None),
        (":MEASure:VALue?", "100,0.2,20,1.0,0.001"),
    ]
    config = MeterConfig(
        update_interval_s=1.0, crest_factor=3, volts_range=150.0, amps_range=0.5, integration=True
    )
    with expected_protocol(YokogawaWT210, exchanges) as meter:
        meter.open()
        meter.configure(config)
        (reading,) = meter.read()
    assert reading.energy_joules == pytest.approx(3.6)
    # 12-month WT210: ±(0.15 % rdg + 0.1 % of 75 W)
    assert reading.watts_uncertainty == pytest.approx(0.03 + 0.075)


def test_auto_range_and_close_restores():
    restore = [(cmd.replace("?", f" {reply}"), None) for cmd, reply in STATE]
    exchanges = [
        *OPEN,
        (":CONFigure:VOLTage:AUTO ON", None),
        (":CONFigure:CURRent:AUTO ON", None),
        *restore,
        (":COMMunicate:REMote OFF", None),
    ]
    with expected_protocol(YokogawaWT210, exchanges) as meter:
        meter.open()
        meter.auto_range()
        meter.close()


def test_wt230_model_and_table():
    with expected_protocol(YokogawaWT210, [], model="wt230") as meter:
        assert meter.range_table.amps_ranges(3)[0] == 0.5
        assert meter.range_table.amps_ranges(6)[-1] == 10.0


def test_restore_ranges_writes_back_fixed_voltage_and_auto_current():
    exchanges = [
        *OPEN,
        (":CONFigure:VOLTage:RANGe 300V", None),
        (":CONFigure:CURRent:RANGe 2A", None),
        (":CONFigure:VOLTage:RANGe 150.0E+00", None),
        (":CONFigure:VOLTage:AUTO 0", None),
        (":CONFigure:CURRent:RANGe 0.5E+00", None),
        (":CONFigure:CURRent:AUTO 1", None),
        (":MEASure:VALue?", "100.1E+00,0.21E+00,20.5E+00,0.97E+00"),
    ]
    with expected_protocol(YokogawaWT210, exchanges) as meter:
        meter.open()
        meter.set_ranges(300.0, 2.0)
        meter.restore_ranges()
        (reading,) = meter.read()
    assert reading.volts_range == 150.0 and reading.amps_range is None
