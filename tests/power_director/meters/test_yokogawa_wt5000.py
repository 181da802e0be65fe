"""Protocol tests for the WT500/WT1800/WT5000 driver (IM WT5000-17EN; per-element ranges)."""

from __future__ import annotations

import pytest

from power_director.meters.base import MeterConfig
from power_director.meters.yokogawa_wt5000 import YokogawaWT5000
from power_director.samples import FLAG_OVER_RANGE
from power_director.testing import expected_protocol

COMM = [
    ("*IDN?", "YOKOGAWA,WT5000,91XX0001,F2.01"),
    (":COMMunicate:REMote ON", None),
    (":COMMunicate:HEADer OFF", None),
    (":COMMunicate:VERBose OFF", None),
    (":NUMeric:FORMat ASCii", None),
]


def state():
    pairs = [(":INPut:CFACtor?", "3"), (":RATE?", "500MS")]
    for e in range(1, 5):
        pairs += [
            (f":INPut:VOLTage:RANGe:ELEMent{e}?", "300.0E+00"),
            (f":INPut:VOLTage:AUTO:ELEMent{e}?", "0"),
            (f":INPut:CURRent:RANGe:ELEMent{e}?", "EXTERNAL,10.00E+00" if e == 4 else "5.0E+00"),
            (f":INPut:CURRent:AUTO:ELEMent{e}?", "0"),
        ]
    pairs += [(f":NUMeric:NORMal:ITEM{n}?", "URMS,1") for n in range(1, 21)]
    return [*pairs, (":NUMeric:NORMal:NUMber?", "15")]


def items(elements, energy=False):
    funcs = ("URMS", "IRMS", "P", "LAMBda", *(["WP"] if energy else []))
    pairs, n = [], 0
    for e in elements:
        for f in funcs:
            n += 1
            pairs.append((f":NUMeric:NORMal:ITEM{n} {f},{e}", None))
    return [*pairs, (f":NUMeric:NORMal:NUMber {n}", None)]


OPEN = [*COMM, *state(), *items((1, 2, 3, 4))]


def test_open_reads_per_element_ranges():
    reply = ",".join(["230,1,200,0.9"] * 3 + ["230,INF,200,0.9"])
    with expected_protocol(YokogawaWT5000, [*OPEN, (":NUMeric:NORMal:VALue?", reply)]) as meter:
        meter.open()
        readings = meter.read()
    assert [r.amps_range for r in readings] == [5.0, 5.0, 5.0, 10.0]
    assert readings[0].valid and readings[0].volts_range == 300.0
    assert not readings[3].valid and readings[3].flags == {FLAG_OVER_RANGE}


def test_configure_channels_ranges_per_element_and_integration():
    exchanges = [
        *OPEN,
        (":RATE 50MS", None),
        (":INPut:VOLTage:RANGe:ELEMent1 150V", None),
        (":INPut:VOLTage:RANGe:ELEMent2 150V", None),
        (":INPut:CURRent:RANGe:ELEMent1 2A", None),
        (":INPut:CURRent:RANGe:ELEMent2 2A", None),
        *items((1, 2), energy=True),
        (":INTEGrate:RESet", None),
        (":INTEGrate:STARt", None),
        (":INPut:CURRent:RANGe:ELEMent2 5A", None),
        (":INPut:VOLTage:AUTO:ELEMent1 ON", None),
        (":INPut:CURRent:AUTO:ELEMent1 ON", None),
        (":NUMeric:NORMal:VALue?", "230,1,200,0.9,1,231,2,400,0.9,2"),
    ]
    config = MeterConfig(
        update_interval_s=0.05, volts_range=150.0, amps_range=2.0, channels=(1, 2), integration=True
    )
    with expected_protocol(YokogawaWT5000, exchanges) as meter:
        meter.open()
        meter.configure(config)
        meter.set_ranges(amps_range=5.0, channel=2)
        meter.auto_range(channel=1)
        first, second = meter.read()
    assert first.amps_range is None and first.volts_range is None
    assert second.amps_range == 5.0
    assert second.energy_joules == pytest.approx(7200.0)
    assert second.watts_uncertainty > 0


def test_wt500_and_wt1800_models():
    with expected_protocol(YokogawaWT5000, [], model="wt500") as meter:
        assert meter.channel_count == 3
        assert 40.0 in meter.range_table.amps_ranges(3)
    with expected_protocol(YokogawaWT5000, [], model="wt1800") as meter:
        assert meter.channel_count == 6


def test_restore_ranges_per_element():
    saved = state()
    auto_e2 = saved.index((":INPut:VOLTage:AUTO:ELEMent2?", "0"))
    saved[auto_e2] = (":INPut:VOLTage:AUTO:ELEMent2?", "1")
    restore = [
        (f":INPut:{quantity}:ELEMent{e} {reply}", None)
        for e in range(1, 5)
        for quantity, reply in (
            ("VOLTage:RANGe", "300.0E+00"),
            ("VOLTage:AUTO", "1" if e == 2 else "0"),
            ("CURRent:RANGe", "EXTERNAL,10.00E+00" if e == 4 else "5.0E+00"),
            ("CURRent:AUTO", "0"),
        )
    ]
    exchanges = [
        *COMM,
        *saved,
        *items((1, 2, 3, 4)),
        *[(f":INPut:VOLTage:RANGe:ELEMent{e} 600V", None) for e in range(1, 5)],
        *restore,
        (":NUMeric:NORMal:VALue?", ",".join(["230,1,200,0.9"] * 4)),
    ]
    with expected_protocol(YokogawaWT5000, exchanges) as meter:
        meter.open()
        meter.set_ranges(volts_range=600.0)
        meter.restore_ranges()
        readings = meter.read()
    assert [r.volts_range for r in readings] == [300.0, None, 300.0, 300.0]
    assert [r.amps_range for r in readings] == [5.0, 5.0, 5.0, 10.0]
