"""Through the real layers: simulated WT310E on a pty, the serial driver, sampler, engine, logs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from power_director.measurement import MeasurementEngine
from power_director.meters.base import PowerMeter
from power_director.meters.registry import open_meter
from power_director.powerlog import read_power_log
from power_director.sim import SimulatorConfig, start_simulator
from power_director.spl import read_spl

UPDATE_S = 0.01  # fast simulated update interval (the real WT310E's minimum is 100 ms)


@pytest.fixture
def sim_meter() -> Iterator[tuple[PowerMeter, object]]:
    sim = start_simulator(config=SimulatorConfig(update_interval_s=UPDATE_S))
    try:
        meter = open_meter(sim.spec)
        try:
            yield meter, sim
        finally:
            meter.close()
    finally:
        sim.close()


def test_ranging_then_testing_over_a_real_pty(sim_meter, tmp_path):
    meter, sim = sim_meter
    assert sim.spec.startswith("wt310e@serial:/dev/pts/")
    assert meter.update_interval_s == pytest.approx(UPDATE_S)
    engine = MeasurementEngine([("wt310e", meter)], tmp_path)
    try:
        engine.start_phase("ranging", "sess_ranging", auto_range=True)
        time.sleep(0.8)
        ranging = engine.stop_phase()
        engine.start_phase("testing", "sess_testing", auto_range=False)
        time.sleep(0.8)
        testing = engine.stop_phase()
    finally:
        engine.close()
    for summary in (ranging, testing):
        assert summary.valid, summary.reasons
        # ~80 updates in 0.8 s. No update may be lost to the transport; a loaded CI box may
        # stall the thread briefly (counted as late gaps), so allow a few missed updates.
        missed = sum(m.sampler.missed_updates for m in summary.meters)
        assert summary.samples + missed >= 60 and summary.samples <= 90
        assert missed <= 0.25 * summary.samples
        assert all(m.sampler.transport_errors == 0 for m in summary.meters)
        assert summary.avg_watts == pytest.approx(100.0, rel=0.02)  # the simulator's 100 W load
    # Auto-range steps and the switch to fixed ranges blank a few updates (no data).
    assert ranging.invalid_samples <= 10 and testing.invalid_samples <= 5
    assert testing.meters[0].settling_samples == testing.invalid_samples
    ranging_log = read_power_log(tmp_path / "ranging/samples.jsonl")
    flags = set().union(*(e.sample.flags for e in ranging_log.samples))
    assert flags <= {"no_data"}
    (choice,) = ranging.ranges_chosen
    table = meter.range_table
    (channel,) = choice.channels
    # 230 V mains, ~0.46 A at 100 W / PF 0.95: 300 V; 1.1 x 0.46 A = 0.5 A sits at a boundary
    assert channel.volts_range == table.pick_volts(channel.volts_max_seen)
    assert channel.amps_range == table.pick_amps(1.1 * channel.amps_max_seen)
    assert channel.volts_range == 300.0 and channel.amps_range in (0.5, 1.0)
    assert testing.ranges_chosen == ()
    files = {str(p.relative_to(tmp_path)) for p in engine.files()}
    assert {"ranging/spl.txt", "ranging/samples.jsonl", "run_1/spl.txt"} <= files
    lines = read_spl(tmp_path / "run_1/spl.txt")
    assert len(lines) == testing.samples
    assert {r.mark for r in lines} == {"sess_testing"}
    assert all(
        testing.t_start_wall_ns - 10**6 <= r.t_wall_ns <= testing.t_end_wall_ns for r in lines
    )
    log = read_power_log(tmp_path / "run_1/samples.jsonl")
    assert len(log.gaps) == testing.gaps and len(log.samples) == testing.samples
    stamps = [entry.sample.t_mono_ns for entry in log.samples]
    assert stamps == sorted(stamps)
