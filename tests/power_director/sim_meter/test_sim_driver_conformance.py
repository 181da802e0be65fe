"""The real WT310E / WT210 drivers against the simulator over a pty: every command accepted.

Each driver feature (open, configure, read, set_ranges, auto_range, restore_ranges,
integration, close) runs through pyserial on the simulator's pty slave; after each step the
meter's own error queue (``:STATus:ERRor?``, read through the driver) must be empty, and the
ranges and the W uncertainty in the readings must be what the manual's accuracy spec gives for
the range in effect.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import serial

from power_director.meters import open_meter
from power_director.meters.base import MeterConfig
from power_director.meters.yokogawa import YokogawaMeter
from power_director.samples import ChannelReading
from power_director.sim import ConstantLoad, RunningSimulator, SimulatorConfig, start_simulator

UPDATE_S = 0.01
WATTS = 120.0

#: Active power accuracy at 50 Hz as fractions (reading, range): IM WT310E-02EN 45-66 Hz
#: ±(0.1 % rdg + 0.05 % rng); IM 760401-01E ±(0.1 % rdg + 0.1 % rng) at 3 months, plus half the
#: reading error for 12 months -> 0.15 % rdg.
ACCURACY = {"wt310e": (0.001, 0.0005), "wt210": (0.0015, 0.001)}


@pytest.fixture(params=["wt310e", "wt210"])
def driver_on_sim(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[YokogawaMeter, RunningSimulator]]:
    config = SimulatorConfig(update_interval_s=UPDATE_S)
    with start_simulator(request.param, load=ConstantLoad(WATTS), seed=2, config=config) as sim:
        meter = open_meter(sim.spec)
        assert isinstance(meter, YokogawaMeter)
        try:
            yield meter, sim
        finally:
            meter.close()


def _valid(meter: YokogawaMeter) -> ChannelReading:
    for _ in range(100):
        (reading,) = meter.read()
        if reading.valid:
            return reading
        time.sleep(UPDATE_S)
    raise AssertionError("no valid reading")


def _expected_uncertainty(model: str, watts: float, volts: float, amps: float, cf: int) -> float:
    reading, rng = ACCURACY[model]
    return reading * watts + rng * (2 if cf == 6 else 1) * volts * amps


def _sim_ranges(sim: RunningSimulator) -> tuple[float, float, bool, bool]:
    engine = sim.instrument.engine
    return engine.voltage.value, engine.current.value, engine.voltage.auto, engine.current.auto


def test_every_driver_step_is_accepted_and_ranges_and_uncertainty_come_through(
    driver_on_sim: tuple[YokogawaMeter, RunningSimulator],
) -> None:
    meter, sim = driver_on_sim
    model = meter.name
    initial = _sim_ranges(sim)
    assert meter.check_errors() == []

    meter.configure(MeterConfig(volts_range=300.0, amps_range=1.0))
    assert meter.check_errors() == []
    assert _sim_ranges(sim) == (300.0, 1.0, False, False)
    reading = _valid(meter)
    assert (reading.volts_range, reading.amps_range) == (300.0, 1.0)
    assert reading.watts == pytest.approx(WATTS, rel=0.01)
    assert reading.watts_uncertainty == pytest.approx(
        _expected_uncertainty(model, reading.watts, 300.0, 1.0, 3), rel=1e-9
    )

    meter.set_ranges(600.0, 2.0)
    assert meter.check_errors() == []
    assert _sim_ranges(sim) == (600.0, 2.0, False, False)
    reading = _valid(meter)
    assert (reading.volts_range, reading.amps_range) == (600.0, 2.0)
    assert reading.watts_uncertainty == pytest.approx(
        _expected_uncertainty(model, reading.watts, 600.0, 2.0, 3), rel=1e-9
    )

    meter.auto_range()
    assert meter.check_errors() == []
    volts, amps, volts_auto, amps_auto = _sim_ranges(sim)
    assert volts_auto and amps_auto
    reading = _valid(meter)
    if model == "wt310e":  # URANge/IRANge items report the range auto range is on
        volts, amps, _, _ = _sim_ranges(sim)
        assert (reading.volts_range, reading.amps_range) == (volts, amps)
    else:  # the WT210 has no range items: on auto range the range (and uncertainty) is unknown
        assert (reading.volts_range, reading.amps_range) == (None, None)

    meter.restore_ranges()
    assert meter.check_errors() == []
    assert _sim_ranges(sim) == initial
    reading = _valid(meter)
    assert (reading.volts_range, reading.amps_range) == initial[:2]

    config = MeterConfig(
        update_interval_s=0.1, crest_factor=6, volts_range=300.0, amps_range=1.0, integration=True
    )
    meter.configure(config)
    assert meter.check_errors() == []
    assert meter.update_interval_s == 0.1 and meter.crest_factor == 6
    reading = _valid(meter)
    assert (reading.volts_range, reading.amps_range) == (300.0, 1.0)
    assert reading.watts_uncertainty == pytest.approx(
        _expected_uncertainty(model, reading.watts, 300.0, 1.0, 6), rel=1e-9
    )
    assert reading.energy_joules is not None and reading.energy_joules >= 0

    meter.close()
    # A query on the same line is answered after every command close() wrote before it.
    with serial.Serial(sim.address, timeout=2) as port:
        port.write(b":STATus:ERRor?\n")
        assert port.readline().lower() == b'0,"no error"\n'
    # close() wrote back everything open() saved
    assert _sim_ranges(sim) == initial
    assert sim.instrument.engine.update_interval_s == pytest.approx(UPDATE_S)
