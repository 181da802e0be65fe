"""Protocol tests for the ZES LMG driver (short commands, *OPC? after each setting)."""

from __future__ import annotations

import math

import pytest

from power_director.errors import MeterProtocolError
from power_director.meters.base import MeterConfig
from power_director.meters.zes_lmg import ZesLMG
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE
from power_director.testing import expected_protocol

OPC = ("*OPC?", "1")
STATE = [("cycl?", "0.5"), ("urng?", "250"), ("uam?", "MANUAL"), ("irng?", "10"),
         ("iam?", "MANUAL")]  # fmt: skip
OPEN = [
    ("*IDN?", "ZES ZIMMER Electronic Systems GmbH,LMG500,12345,3.100"),
    ("syst:lang short", None),
    OPC,
    *STATE,
]
RESTORE = [p for cmd, reply in STATE for p in ((cmd.replace("?", f" {reply}"), None), OPC)]
VALUES = ("actn;utrms?;itrms?;p?;pf?", "230.12;0.2175;45.871;0.9166")


def opened(extra):
    return expected_protocol(ZesLMG, [*OPEN, *extra], model="lmg")


def test_open_read_close_restores():
    with opened([VALUES, *RESTORE]) as meter:
        meter.open()
        (reading,) = meter.read()
        meter.close()
    assert meter.update_interval_s == 0.5
    assert reading.valid and reading.watts == 45.871
    # LMG500 figures: 0.015 % of reading + 0.01 % of 250 V x 10 A.
    assert reading.watts_uncertainty == pytest.approx(45.871 * 0.00015 + 0.25)


@pytest.mark.parametrize(
    ("field", "flag"),
    [("9.91E+37", FLAG_NO_DATA), ("-9.9E+37", FLAG_OVER_RANGE), ("Overflow", FLAG_OVER_RANGE),
     ("----", FLAG_NO_DATA)],
)  # fmt: skip
def test_markers_become_invalid(field, flag):
    with opened([(VALUES[0], f"230.12;{field};45.871;0.9166")]) as meter:
        meter.open()
        (reading,) = meter.read()
    assert reading.flags == {flag} and math.isnan(reading.amps)


def test_fixed_ranges_then_configure_auto():
    exchanges = [
        ("uam manual", None), OPC, ("urng 250", None), OPC,
        ("iam manual", None), OPC, ("irng 5", None), OPC,
        ("cycl 1", None), OPC, ("uam auto", None), OPC, ("iam auto", None), OPC,
    ]  # fmt: skip
    with opened(exchanges) as meter:
        meter.open()
        meter.set_ranges(250.0, 5.0)
        meter.configure(MeterConfig(update_interval_s=1.0))


def test_opc_failure_is_a_protocol_error():
    with (
        expected_protocol(ZesLMG, [OPEN[0], ("syst:lang short", None), ("*OPC?", "0")]) as meter,
        pytest.raises(MeterProtocolError, match=r"\*OPC\? not 1"),
    ):
        meter.open()
