"""Device-level reconnect as the director wires it: a TCP-simulated WT310E lost mid-phase.

The simulator stops serving during the testing phase and serves again on the same port; the
engine from ``cli.engine_factory`` reopens the meter from its spec, re-applies the testing ranges,
records the outage as a gap and marks the phase invalid, keeping the samples before and after.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from director_helpers import wait_for

from power_director.cli import engine_factory, open_meters
from power_director.errors import TransportError
from power_director.measurement import MeasurementEngine, RangeSetting
from power_director.powerlog import read_power_log
from power_director.reconnect import ReconnectingMeter, reconnect_meter
from power_director.sim import ConstantLoad, RunningSimulator, SimulatorConfig, start_simulator
from power_director.spl import read_spl

UPDATE_S = 0.02


def _serve(address: str = "127.0.0.1:0") -> RunningSimulator:
    config = SimulatorConfig(update_interval_s=UPDATE_S)
    return start_simulator("wt310e", "tcp", address, load=ConstantLoad(120.0), config=config)


def _ranges(sim: RunningSimulator) -> tuple[float, float, bool, bool]:
    engine = sim.instrument.engine
    return engine.voltage.value, engine.current.value, engine.voltage.auto, engine.current.auto


def test_meter_lost_mid_phase_is_reopened_from_its_spec(tmp_path: Path) -> None:
    first = _serve()
    first.instrument.handle_line(":INPut:VOLTage:AUTO ON")  # the state found at start
    address = first.address
    second: RunningSimulator | None = None
    opened = open_meters([f"wt310e@tcp:{address}?timeout_s=0.5"])
    ((name, meter, _),) = opened
    assert isinstance(meter, ReconnectingMeter)
    try:
        engine = engine_factory(opened, None)(tmp_path)
        assert isinstance(engine, MeasurementEngine)
        manual = {name: RangeSetting(volts_max=250.0, amps_max=0.6)}
        engine.start_phase("testing", "sess_testing", auto_range=False, manual_ranges=manual)
        time.sleep(0.3)
        first.close()  # unplugged: the open connection is dropped, the port refuses
        time.sleep(0.3)
        second = _serve(address)  # back, on the same port, with a fresh (default) state
        wait_for(lambda: meter.reconnects == 1)
        time.sleep(0.3)
        # the testing ranges were applied again on the new connection
        assert _ranges(second) == (300.0, 1.0, False, False)
        summary = engine.stop_phase()
        engine.close()  # restores the initial ranges: those found before the outage
        meter.identify()  # a query: answered after the restore commands written before it
        assert _ranges(second) == (600.0, 20.0, True, False)
    finally:
        meter.close()
        first.close()
        if second is not None:
            second.close()

    assert not summary.valid
    assert f"{name}: meter lost 1 time(s) (transport error), reconnected 1 time(s)" in (
        summary.reasons
    )
    (stats,) = [m.sampler for m in summary.meters]
    assert (stats.transport_errors, stats.reconnects) == (1, 1)
    log = read_power_log(tmp_path / "run_1/samples.jsonl")
    (gap,) = [g for g in log.gaps if g.reason == "transport"]
    assert gap.duration_s >= 0.3
    before = [e.sample for e in log.samples if e.sample.t_mono_ns <= gap.t_mono_start_ns]
    after = [e.sample for e in log.samples if e.sample.t_mono_ns >= gap.t_mono_end_ns]
    assert len(before) >= 3 and len(after) >= 3
    assert len(before) + len(after) == len(log.samples) == summary.samples
    valid = [s for s in before + after if s.valid]
    assert valid and all(s.channels[0].watts == pytest.approx(120.0, rel=0.02) for s in valid)
    assert any(s.valid for s in after)
    assert len(read_spl(tmp_path / "run_1/spl.txt")) == summary.samples


def test_reconnect_while_the_port_refuses_raises_transport_error() -> None:
    sim = _serve()
    spec = f"wt310e@tcp:{sim.address}?timeout_s=0.5"
    ((_, meter, _),) = open_meters([spec])
    try:
        sim.close()
        with pytest.raises(TransportError, match=sim.address):
            reconnect_meter("wt310e", meter)
        assert isinstance(meter, ReconnectingMeter) and meter.reconnects == 0
    finally:
        meter.close()
