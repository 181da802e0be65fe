from __future__ import annotations

import json
import time

import pytest

from power_director.errors import SessionStateError
from power_director.measurement import MeasurementEngine
from power_director.powerlog import read_power_log
from power_director.ranging import RangeSetting
from power_director.spl import read_spl


def test_ranging_then_testing_with_fake_meter(fakes, tmp_path):
    meter = fakes.FakeMeter(interval_s=0.01)
    engine = MeasurementEngine([("wt310e", meter)], tmp_path)
    engine.start_phase("ranging", "s_ranging", auto_range=True)
    time.sleep(0.12)
    ranging = engine.stop_phase()
    assert ranging.valid, ranging.reasons
    assert meter.calls[0] == ("auto_range",)
    (choice,) = ranging.ranges_chosen
    assert [(c.volts_range, c.amps_range) for c in choice.channels] == [(300.0, 1.0)]
    engine.start_phase("testing", "s_testing", auto_range=False)
    time.sleep(0.12)
    testing = engine.stop_phase()
    assert ("set_ranges", 300.0, 1.0, None) in meter.calls
    assert testing.valid, testing.reasons
    assert testing.samples >= 5 and testing.max_gap_s < 1.0  # short stalls on a busy box are ok
    assert testing.avg_watts == pytest.approx(100.0)
    assert testing.energy_joules == pytest.approx(100.0 * testing.duration_s, rel=0.35)
    assert testing.uncertainty_ok is True and testing.max_uncertainty_ratio == pytest.approx(0.002)
    names = sorted(str(p.relative_to(tmp_path)) for p in engine.files())
    assert names == [
        "ranging/samples.jsonl",
        "ranging/spl.txt",
        "ranging/summary.json",
        "run_1/samples.jsonl",
        "run_1/spl.txt",
        "run_1/summary.json",
    ]
    assert len(read_spl(tmp_path / "run_1/spl.txt")) == testing.samples
    assert len(read_power_log(tmp_path / "run_1/samples.jsonl").samples) == testing.samples
    summary = json.loads((tmp_path / "run_1/summary.json").read_text())
    assert summary["valid"] is True and summary["phase"] == "testing"
    engine.close()
    assert meter.calls[-1] == ("auto_range",)  # ranges restored (no restore_ranges hook)


def test_testing_needs_ranges_and_one_phase_at_a_time(fakes, tmp_path):
    meter = fakes.FakeMeter(interval_s=0.01)
    engine = MeasurementEngine([("m", meter)], tmp_path)
    with pytest.raises(SessionStateError, match="no ranges for meter m"):
        engine.start_phase("testing", "t", auto_range=False)
    with pytest.raises(SessionStateError):
        engine.stop_phase()
    engine.start_phase("testing", "t", auto_range=False, manual_ranges={"m": RangeSetting(250, 3)})
    with pytest.raises(SessionStateError, match="still running"):
        engine.start_phase("ranging", "r", auto_range=True)
    engine.close()  # stops the running phase
    assert ("set_ranges", 300.0, 5.0, None) in meter.calls
    assert engine.active_phase is None


def test_transport_error_mid_phase_marks_it_invalid_and_keeps_samples(fakes, tmp_path):
    script = [fakes.reading()] * 3 + [fakes.unplugged()] * 2
    meter = fakes.FakeMeter(script, interval_s=0.01)
    engine = MeasurementEngine([("m", meter)], tmp_path)
    engine.start_phase("ranging", "r", auto_range=True)
    time.sleep(0.3)
    summary = engine.stop_phase()
    engine.close()
    assert not summary.valid
    assert any("transport error" in r for r in summary.reasons)
    assert summary.samples > 3
    log = read_power_log(tmp_path / "ranging/samples.jsonl")
    assert [g.reason for g in log.gaps].count("transport") == 1
    assert len(log.samples) == summary.samples


def test_invalid_samples_fail_testing_but_not_ranging(fakes, tmp_path):
    from power_director.samples import FLAG_OVER_RANGE, ChannelReading

    over = ChannelReading.invalid(FLAG_OVER_RANGE)
    engine = MeasurementEngine([("m", fakes.FakeMeter([over] * 2, interval_s=0.01))], tmp_path)
    engine.start_phase("ranging", "r", auto_range=True)
    time.sleep(0.1)
    ranging = engine.stop_phase()
    assert ranging.valid and ranging.over_range_count == 2
    engine._meters = [("m", fakes.FakeMeter([over] * 2, interval_s=0.01))]
    engine.start_phase("testing", "t", auto_range=False)
    time.sleep(0.1)
    testing = engine.stop_phase()
    engine.close()
    assert not testing.valid and testing.over_range_count == 2
    assert any("2 invalid sample(s), 2 over range" in r for r in testing.reasons)


def test_two_meters_share_a_timebase_and_merge_into_spl(fakes, tmp_path):
    a = fakes.FakeMeter(interval_s=0.04, default=fakes.reading(watts=100.0))
    b = fakes.FakeMeter(interval_s=0.015, default=fakes.reading(watts=20.0, amps=0.1))
    engine = MeasurementEngine([("a", a), ("b", b)], tmp_path)
    engine.start_phase("ranging", "r", auto_range=True)
    time.sleep(0.25)
    summary = engine.stop_phase()
    engine.close()
    assert summary.valid, summary.reasons
    assert summary.avg_watts == pytest.approx(120.0)
    assert {c.meter for c in summary.ranges_chosen} == {"a", "b"}
    merged = read_spl(tmp_path / "ranging/spl.txt")
    per_a = read_spl(tmp_path / "ranging/spl_a.txt")
    assert len(merged) == len(per_a)  # rows on the slower meter's timeline
    assert all(r.watts == pytest.approx(120.0) for r in merged)
    assert all(len(r.channels) == 2 for r in merged)
    names = {p.name for p in engine.files()}
    assert {"spl_a.txt", "spl_b.txt", "samples_a.jsonl", "samples_b.jsonl", "spl.txt"} <= names
