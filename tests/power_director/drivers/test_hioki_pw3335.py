"""Protocol tests for the Hioki PW3335/PW3336 driver (communication command manual)."""

from __future__ import annotations

import math

import pytest

from power_director.errors import MeterError, RangeError
from power_director.meters.base import MeterConfig
from power_director.meters.hioki_pw3335 import HiokiPW3335
from power_director.samples import FLAG_GARBLED, FLAG_NO_DATA, FLAG_OVER_RANGE
from power_director.testing import expected_protocol

STATE = [
    (":VOLTage:RANGe?", "300"),
    (":VOLTage:AUTO?", "OFF"),
    (":CURRent:RANGe?", "1"),
    (":CURRent:AUTO?", "OFF"),
]
OPEN = [("*IDN?", "HIOKI,PW3335,123456789,V1.00"), (":HEADer OFF", None), *STATE]
RESTORE = [(cmd.replace("?", f" {reply}"), None) for cmd, reply in STATE]
VALUES = "+230.12E+0,+0.2175E+0,+45.871E+0,+0.9166E+0"


def opened(extra, model="pw3335", open_pairs=OPEN):
    return expected_protocol(HiokiPW3335, [*open_pairs, *extra], model=model)


def test_open_identifies_and_saves_state():
    with opened([]) as meter:
        identity = meter.open()
    assert (identity.manufacturer, identity.model) == ("HIOKI", "PW3335")
    assert meter.update_interval_s == 0.2
    assert meter.channel_count == 1


def test_open_rejects_other_model():
    with (
        expected_protocol(HiokiPW3335, [("*IDN?", "HIOKI,PW3390,1,V1")]) as meter,
        pytest.raises(MeterError, match="expected one of PW3335"),
    ):
        meter.open()


def test_read_values_with_uncertainty():
    with opened([(":MEASure? U,I,P,PF", VALUES)]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert reading.valid
    assert (reading.volts, reading.amps, reading.watts) == (230.12, 0.2175, 45.871)
    assert reading.power_factor == pytest.approx(0.9166)
    assert (reading.volts_range, reading.amps_range) == (300.0, 1.0)
    assert reading.watts_uncertainty == pytest.approx(0.045871 + 0.15)


def test_semicolon_separated_reply_is_accepted():
    with opened([(":MEASure? U,I,P,PF", VALUES.replace(",", ";"))]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert reading.valid and reading.watts == 45.871


@pytest.mark.parametrize(
    ("field", "flag"),
    [
        ("+999.99E+9", FLAG_OVER_RANGE),
        ("-999.99E+9", FLAG_OVER_RANGE),
        ("+888.88E+9", FLAG_NO_DATA),
        ("+777.77E+9", FLAG_NO_DATA),
    ],
)
def test_error_codes_become_invalid(field, flag):
    reply = f"+230.12E+0,{field},+45.871E+0,+0.9166E+0"
    with opened([(":MEASure? U,I,P,PF", reply)]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert not reading.valid and reading.flags == {flag}
    assert math.isnan(reading.amps) and math.isnan(reading.watts_uncertainty)


def test_garbled_reply_is_invalid_and_counted():
    with opened([(":MEASure? U,I,P,PF", "+230.12E+0,+0.2175E+0")]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert reading.flags == {FLAG_GARBLED}
    assert meter.garbled_count == 1


def test_configure_fixed_ranges_integration_and_close_restores():
    config = MeterConfig(update_interval_s=0.2, volts_range=150.0, amps_range=0.5, integration=True)
    exchanges = [
        (":VOLTage:RANGe 150", None),
        (":CURRent:RANGe 0.5", None),
        (":INTEGrate:RESet", None),
        (":INTEGrate:STARt", None),
        (":MEASure? U,I,P,PF,WP", VALUES + ",+0.01000E+0"),
        (":INTEGrate:STOP", None),
        (":INTEGrate:RESet", None),
        *RESTORE,
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.configure(config)
        (reading,) = meter.read()
        meter.close()
    assert reading.energy_joules == pytest.approx(36.0)
    assert (reading.volts_range, reading.amps_range) == (150.0, 0.5)


def test_auto_range():
    with opened([(":VOLTage:AUTO ON", None), (":CURRent:AUTO ON", None),
                 (":MEASure? U,I,P,PF", VALUES)]) as meter:  # fmt: skip
        meter.open()
        meter.auto_range()
        (reading,) = meter.read()
    assert reading.volts_range is None and math.isnan(reading.watts_uncertainty)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (MeterConfig(update_interval_s=0.25), "update interval 0.25 s not in 0.2"),
        (MeterConfig(crest_factor=6), "crest factor 6 not supported"),
        (MeterConfig(volts_range=200.0), "200 V is not a range"),
        (MeterConfig(channels=(2,)), "channels 1..1"),
    ],
)
def test_configure_rejects_before_any_io(config, message):
    with opened([]) as meter:
        meter.open()
        with pytest.raises(RangeError, match=message):
            meter.configure(config)


def test_pw3336_reads_both_channels():
    idn = ("*IDN?", "HIOKI,PW3336,1,V1.00")
    reply = ",".join([VALUES, VALUES])
    with opened([(":MEASure? U1,I1,P1,PF1,U2,I2,P2,PF2", reply)], "pw3336",
                [idn, *OPEN[1:]]) as meter:  # fmt: skip
        meter.open()
        readings = meter.read()
    assert [r.watts for r in readings] == [45.871, 45.871]
