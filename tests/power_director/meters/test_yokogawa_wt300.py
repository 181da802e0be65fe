"""Protocol tests for the WT300/WT300E driver: the exact bytes of every feature.

Command groups cited from IM WT310E-17EN, chapter "Commands".
"""

from __future__ import annotations

import logging
import math

import pytest

from power_director.errors import MeterError, RangeError, TransportTimeoutError
from power_director.meters.base import MeterConfig
from power_director.meters.yokogawa_wt300 import YokogawaWT300
from power_director.samples import FLAG_GARBLED, FLAG_NO_DATA, FLAG_OVER_RANGE
from power_director.testing import TIMEOUT, expected_protocol

IDN = ("*IDN?", "YOKOGAWA,WT310E,C2XX00000V,F1.02")
COMM = [
    (":COMMunicate:REMote ON", None),
    (":COMMunicate:HEADer OFF", None),
    (":COMMunicate:VERBose OFF", None),
    (":NUMeric:FORMat ASCii", None),
]
FUNCS = ("U", "I", "P", "LAMBda", "URANge", "IRANge")


def saved_state(elements=1, vauto="0", aauto="0", rate="250MS", cf="3"):
    """The state queries of open() with a meter on fixed 300 V / 1 A ranges."""
    pairs = [
        (":INPut:CFACtor?", cf),
        (":RATE?", rate),
        (":INPut:VOLTage:RANGe?", "300.0E+00"),
        (":INPut:VOLTage:AUTO?", vauto),
        (":INPut:CURRent:RANGe?", "1.000E+00"),
        (":INPut:CURRent:AUTO?", aauto),
    ]
    defaults = ["U", "I", "P", "S", "Q", "LAMB", "PHI"]
    for n in range(1, 7 * elements + 1):
        pairs.append((f":NUMeric:NORMal:ITEM{n}?", f"{defaults[(n - 1) % 7]},1"))
    pairs.append((":NUMeric:NORMal:NUMber?", "4"))
    return pairs


def items(elements=(1,), energy=False):
    funcs = (*FUNCS, "WH") if energy else FUNCS
    pairs = []
    n = 0
    for element in elements:
        for function in funcs:
            n += 1
            pairs.append((f":NUMeric:NORMal:ITEM{n} {function},{element}", None))
    pairs.append((f":NUMeric:NORMal:NUMber {n}", None))
    return pairs


def restore(elements=1, vauto="0", aauto="0", rate="250MS", cf="3"):
    pairs = [
        (cmd.replace("?", f" {reply}"), None)
        for cmd, reply in saved_state(elements, vauto, aauto, rate, cf)
    ]
    return [*pairs, (":COMMunicate:REMote OFF", None)]


OPEN = [IDN, *COMM, *saved_state(), *items()]


def opened(extra, *, model="wt310e", open_pairs=OPEN):
    return expected_protocol(YokogawaWT300, [*open_pairs, *extra], model=model)


def test_open_identifies_sets_up_and_saves_state():
    with opened([]) as meter:
        identity = meter.open()
    assert identity.manufacturer == "YOKOGAWA"
    assert identity.model == "WT310E"
    assert identity.serial == "C2XX00000V"
    assert identity.firmware == "F1.02"
    assert meter.update_interval_s == 0.25
    assert meter.channel_count == 1


def test_open_rejects_other_model():
    with (
        expected_protocol(YokogawaWT300, [("*IDN?", "YOKOGAWA,WT210,1,F1")]) as meter,
        pytest.raises(MeterError, match="expected one of WT310E"),
    ):
        meter.open()


def test_open_silent_meter_times_out():
    with (
        expected_protocol(YokogawaWT300, [("*IDN?", TIMEOUT)]) as meter,
        pytest.raises(TransportTimeoutError),
    ):
        meter.open()


def test_read_values_fixed_range_has_uncertainty():
    reply = "230.12E+00,0.2175E+00,45.871E+00,0.9166E+00,300.0E+00,1.000E+00"
    with opened([(":NUMeric:NORMal:VALue?", reply)]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert reading.valid and not reading.flags
    assert reading.volts == pytest.approx(230.12)
    assert reading.amps == pytest.approx(0.2175)
    assert reading.watts == pytest.approx(45.871)
    assert reading.power_factor == pytest.approx(0.9166)
    assert (reading.volts_range, reading.amps_range) == (300.0, 1.0)
    # ±(0.1 % of 45.871 W + 0.05 % of 300 W)
    assert reading.watts_uncertainty == pytest.approx(0.045871 + 0.15)
    assert reading.energy_joules is None


@pytest.mark.parametrize(
    ("field", "flag"),
    [
        ("NAN", FLAG_NO_DATA),
        ("INF", FLAG_OVER_RANGE),
        ("-INF", FLAG_OVER_RANGE),
        ("9.91E+37", FLAG_NO_DATA),
        ("9.9E+37", FLAG_OVER_RANGE),
        ("-OF-", FLAG_OVER_RANGE),
        ("OL", FLAG_OVER_RANGE),
        ("----", FLAG_NO_DATA),
    ],
)
def test_read_marker_becomes_invalid_never_a_number(field, flag):
    reply = f"230.1E+00,{field},45.8E+00,0.91E+00,300.0E+00,1.000E+00"
    with opened([(":NUMeric:NORMal:VALue?", reply)]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert not reading.valid
    assert reading.flags == {flag}
    assert math.isnan(reading.amps)
    assert math.isnan(reading.watts_uncertainty)


@pytest.mark.parametrize(
    "reply",
    ["230.1E+00,0.2E+00,45.8E+00", "230.1E+00,0.2E+00,4#.8E+00,0.91,300,1", "\udcff\udcfe"],
)
def test_garbled_reply_is_invalid_counted_and_logged(reply, caplog):
    with opened([(":NUMeric:NORMal:VALue?", reply)]) as meter:
        meter.open()
        with caplog.at_level(logging.WARNING):
            (reading,) = meter.read()
    assert not reading.valid and reading.flags == {FLAG_GARBLED}
    assert meter.garbled_count == 1
    assert "garbled reply b" in caplog.text


def test_configure_every_option():
    config = MeterConfig(
        update_interval_s=1.0, crest_factor=6, volts_range=150.0, amps_range=0.5, integration=True
    )
    exchanges = [
        (":INPut:CFACtor 6", None),
        (":RATE 1S", None),
        (":INPut:VOLTage:RANGe 150V", None),
        (":INPut:CURRent:RANGe 0.5A", None),
        *items(energy=True),
        (":INTEGrate:MODE NORMal", None),
        (":INTEGrate:TIMer 0,0,0", None),
        (":INTEGrate:RESet", None),
        (":INTEGrate:STARt", None),
        (":NUMeric:NORMal:VALue?", "230,0.2,46,0.92,150,0.5,0.0125"),
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.configure(config)
        (reading,) = meter.read()
    assert meter.update_interval_s == 1.0
    assert meter.crest_factor == 6
    assert reading.energy_joules == pytest.approx(45.0)
    # CF6 doubles the range term: 0.1 % of 46 W + 2 x 0.05 % of 75 W
    assert reading.watts_uncertainty == pytest.approx(0.046 + 0.075)


def test_configure_auto_range_and_short_rate():
    exchanges = [
        (":RATE 100MS", None),
        (":INPut:VOLTage:AUTO ON", None),
        (":INPut:CURRent:AUTO ON", None),
        *items(),
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.configure(MeterConfig(update_interval_s=0.1))


def test_configure_rejects_values_before_sending():
    with opened([]) as meter:
        meter.open()
        with pytest.raises(RangeError, match=r"0\.3 s not one of 0\.1, 0\.25"):
            meter.configure(MeterConfig(update_interval_s=0.3))
        with pytest.raises(RangeError, match=r"7 A is not a range at CF3"):
            meter.configure(MeterConfig(amps_range=7.0))
        with pytest.raises(RangeError, match=r"elements 1\.\.1"):
            meter.configure(MeterConfig(channels=(2,)))


def test_set_ranges_fixed_then_auto():
    exchanges = [
        (":INPut:VOLTage:RANGe 300V", None),
        (":INPut:CURRent:RANGe 0.005A", None),
        (":INPut:CURRent:RANGe 20A", None),
        (":INPut:VOLTage:AUTO ON", None),
        (":INPut:CURRent:AUTO ON", None),
        (":NUMeric:NORMal:VALue?", "230,0.2,46,0.92,300,0.5"),
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.set_ranges(300.0, 0.005)
        meter.set_ranges(amps_range=20.0)
        meter.auto_range()
        (reading,) = meter.read()
    # On auto range the URANge/IRANge items still give the range in effect.
    assert (reading.volts_range, reading.amps_range) == (300.0, 0.5)


def test_set_ranges_rejects_unknown_range():
    with opened([]) as meter:
        meter.open()
        with pytest.raises(RangeError, match="250 V is not a range"):
            meter.set_ranges(volts_range=250.0)


def test_close_restores_initial_state():
    with opened(restore()) as meter:
        meter.open()
        meter.close()
    assert meter.transport.closed


def test_close_restores_auto_range_after_changes():
    open_pairs = [IDN, *COMM, *saved_state(vauto="1", aauto="1", rate="AUTO"), *items()]
    exchanges = [
        (":INPut:VOLTage:RANGe 600V", None),
        *restore(vauto="1", aauto="1", rate="AUTO"),
    ]
    with opened(exchanges, open_pairs=open_pairs) as meter:
        meter.open()
        assert math.isnan(meter.update_interval_s)
        meter.set_ranges(volts_range=600.0)
        meter.close()


def test_close_stops_integration_it_started():
    config = MeterConfig(volts_range=300.0, amps_range=1.0, integration=True)
    exchanges = [
        (":INPut:VOLTage:RANGe 300V", None),
        (":INPut:CURRent:RANGe 1A", None),
        *items(energy=True),
        (":INTEGrate:MODE NORMal", None),
        (":INTEGrate:TIMer 0,0,0", None),
        (":INTEGrate:RESet", None),
        (":INTEGrate:STARt", None),
        (":INTEGrate:STOP", None),
        (":INTEGrate:RESet", None),
        *restore(),
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.configure(config)
        meter.close()


def test_close_before_open_only_closes_transport():
    with expected_protocol(YokogawaWT300, []) as meter:
        meter.close()
    assert meter.transport.closed


def test_three_elements_as_channels():
    open_pairs = [
        ("*IDN?", "YOKOGAWA,WT333E,C2XX,F1.00"),
        *COMM,
        *saved_state(elements=3),
        *items(elements=(1, 2, 3)),
    ]
    reply = "231,0.1,10,0.9,300,1,233,0.3,30,0.9,300,1"
    exchanges = [
        (":INPut:VOLTage:AUTO ON", None),
        (":INPut:CURRent:AUTO ON", None),
        *items(elements=(1, 3)),
        (":NUMeric:NORMal:VALue?", reply),
    ]
    with opened(exchanges, model="wt333e", open_pairs=open_pairs) as meter:
        assert meter.open().model == "WT333E"
        assert meter.channel_count == 3
        meter.configure(MeterConfig(channels=(1, 3)))
        assert meter.channel_count == 2
        first, third = meter.read()
    assert first.volts == 231 and third.volts == 233
    assert third.watts == pytest.approx(30.0)


def test_error_queue_drained():
    exchanges = [
        (":STATus:ERRor?", '113,"Undefined header"'),
        (":STATus:ERRor?", '0,"No error"'),
    ]
    with expected_protocol(YokogawaWT300, exchanges) as meter:
        assert meter.check_errors() == ['113,"Undefined header"']


def test_reset_sends_rst():
    with expected_protocol(YokogawaWT300, [("*RST", None)]) as meter:
        meter.reset()


RESTORE_RANGES = [
    (":INPut:VOLTage:RANGe 300.0E+00", None),
    (":INPut:VOLTage:AUTO 0", None),
    (":INPut:CURRent:RANGe 1.000E+00", None),
    (":INPut:CURRent:AUTO 0", None),
]


def test_restore_ranges_writes_back_the_saved_fixed_ranges_only():
    exchanges = [
        (":INPut:VOLTage:AUTO ON", None),
        (":INPut:CURRent:AUTO ON", None),
        *RESTORE_RANGES,
        # no range items in the reply: the driver's own record of the range is used
        (":NUMeric:NORMal:VALue?", "230,0.2,46,0.92,NAN,NAN"),
        *restore(),
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.auto_range()
        meter.restore_ranges()
        (reading,) = meter.read()
        meter.close()
    assert (reading.volts_range, reading.amps_range) == (300.0, 1.0)
    assert reading.watts_uncertainty == pytest.approx(0.046 + 0.15)


def test_restore_ranges_puts_back_auto_range_per_quantity():
    open_pairs = [IDN, *COMM, *saved_state(vauto="1"), *items()]
    exchanges = [
        (":INPut:VOLTage:RANGe 150V", None),
        (":INPut:CURRent:RANGe 2A", None),
        (":INPut:VOLTage:RANGe 300.0E+00", None),
        (":INPut:VOLTage:AUTO 1", None),
        (":INPut:CURRent:RANGe 1.000E+00", None),
        (":INPut:CURRent:AUTO 0", None),
        (":NUMeric:NORMal:VALue?", "230,0.2,46,0.92,NAN,NAN"),
    ]
    with opened(exchanges, open_pairs=open_pairs) as meter:
        meter.open()
        meter.set_ranges(150.0, 2.0)
        meter.restore_ranges()
        (reading,) = meter.read()
    # voltage back on auto (range unknown without the item), current back on 1 A
    assert (reading.volts_range, reading.amps_range) == (None, 1.0)


def test_restore_ranges_restores_a_changed_crest_factor_first():
    exchanges = [
        (":INPut:CFACtor 6", None),
        (":INPut:VOLTage:RANGe 150V", None),
        (":INPut:CURRent:RANGe 0.5A", None),
        *items(),
        (":INPut:CFACtor 3", None),
        *RESTORE_RANGES,
    ]
    with opened(exchanges) as meter:
        meter.open()
        meter.configure(MeterConfig(crest_factor=6, volts_range=150.0, amps_range=0.5))
        meter.restore_ranges()
        assert meter.crest_factor == 3


def test_restore_ranges_before_open_is_an_error():
    with opened([], open_pairs=[]) as meter, pytest.raises(MeterError, match="not open"):
        meter.restore_ranges()
