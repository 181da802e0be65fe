import json
import math

import numpy as np
import pytest
from join_synth import MONO0_NS, T0_NS, grid, ns, write_trace

from power_client.errors import JoinError
from power_client.trace import read_phase_traces, read_spl_trace, read_trace
from power_director.powerlog import read_power_log
from power_director.sampler import Gap


def test_read_trace_matches_the_director_reader(tmp_path):
    path = write_trace(
        tmp_path / "samples.jsonl",
        grid(0, 2, 0.1),
        lambda t: 10.0 + t,
        invalid=[3],
        over_range=[5],
        channels=2,
    )
    trace = read_trace(path)
    logged = read_power_log(path)

    assert trace.meter == "m1"
    assert trace.period_s == pytest.approx(0.1)
    assert len(trace) == len(logged.samples) == 21
    assert trace.t_wall_ns.dtype == np.int64
    assert list(trace.t_wall_ns) == [s.sample.t_wall_ns for s in logged.samples]
    assert list(trace.t_mono_ns) == [s.sample.t_mono_ns for s in logged.samples]
    for got, entry in zip(trace.watts, logged.samples, strict=True):
        want = entry.sample.total_watts
        assert (math.isnan(got) and math.isnan(want)) or got == want
    assert list(np.flatnonzero(~trace.valid)) == [3, 5]
    assert list(np.flatnonzero(trace.over_range)) == [5]
    assert trace.watts_uncertainty[4] == pytest.approx(2 * (10.4 / 2) * 0.005)
    assert math.isnan(trace.watts_uncertainty[3])


def test_lines_the_shortcut_cannot_take_are_decoded_whole(tmp_path):
    path = tmp_path / "samples.jsonl"
    reordered = {
        "type": "sample",
        "channels": [],
        "meter": "hand",
        "t_mono_ns": MONO0_NS,
        "t_wall_ns": T0_NS,
        "valid": True,
        "flags": [],
        "watts": 12.5,
        "watts_uncertainty": None,
    }
    spaced = dict(reordered, t_wall_ns=T0_NS + 1000, t_mono_ns=MONO0_NS + 1000, watts=None)
    spaced["valid"] = False
    spaced["flags"] = ["over_range"]
    spaced["channels"] = [{"watts": None, "valid": False, "flags": ["over_range"]}]
    reordered["extra"] = [{"note": "ends like a sample line"}]
    # Cut before "channels" by the fast path, this one lacks fields: decoded whole instead.
    compact = json.dumps(reordered, separators=(",", ":"))
    assert compact.endswith("}]}")
    truncated = '{"type":"sample","meter":"hand","t_mono_ns":1,"t_wall_ns":2,"valid":true,'
    truncated += '"flags":[],"watts":1.0,"watts_uncertainty":0.1,"channels":[{"volts":2'
    path.write_text(compact + "\n" + json.dumps(spaced) + "\n\n" + truncated)
    trace = read_trace(path)

    assert trace.meter == "hand"
    assert trace.period_s is None
    assert list(trace.t_wall_ns) == [T0_NS, T0_NS + 1000]
    assert trace.watts[0] == 12.5
    assert math.isnan(trace.watts_uncertainty[0])
    assert list(trace.valid) == [True, False]
    assert list(trace.over_range) == [False, True]


def test_gap_records_are_kept(tmp_path):
    gap = Gap("m1", MONO0_NS + 100, MONO0_NS + 900, ns(0.0) + 100, 3, "late")
    trace = read_trace(write_trace(tmp_path / "samples.jsonl", [0.0, 0.1], [1, 2], gaps=[gap]))
    assert trace.gaps == (gap,)


def test_file_without_samples_raises_naming_it(tmp_path):
    path = write_trace(tmp_path / "samples.jsonl", [], [])
    with pytest.raises(JoinError, match="no power sample") as info:
        read_trace(path)
    assert str(path) in str(info.value)


def test_phase_folder_layouts(tmp_path):
    single = tmp_path / "single"
    single.mkdir()
    write_trace(single / "samples.jsonl", [0.0, 0.1], [1, 2])
    assert [t.meter for t in read_phase_traces(single)] == ["m1"]

    multi = tmp_path / "multi"
    multi.mkdir()
    write_trace(multi / "samples_zeta.jsonl", [0.0, 0.1], [1, 2], meter="zeta")
    write_trace(multi / "samples_alpha.jsonl", [0.0, 0.1], [1, 2], meter="alpha")
    (multi / "spl.txt").write_text("merged; not read\n")
    assert [t.meter for t in read_phase_traces(multi)] == ["alpha", "zeta"]

    write_trace(multi / "samples.jsonl", [0.0, 0.1], [1, 2])
    with pytest.raises(JoinError, match=r"both samples\.jsonl and samples_<meter>\.jsonl"):
        read_phase_traces(multi)


def test_folder_without_power_log_names_it(tmp_path):
    with pytest.raises(JoinError, match="no power log") as info:
        read_phase_traces(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_spl_trace_marks_non_positive_watts_invalid(tmp_path):
    spl = tmp_path / "spl.txt"
    spl.write_text(
        "Time,11-22-2026 12:00:00.000,Watts,16.900000,Volts,248.1,Amps,0.14,PF,0.46,Mark,m\n"
        "Time,11-22-2026 12:00:01.000,Watts,-1.000000,Volts,-1,Amps,-1,PF,-1,Mark,m\n"
        "Time,11-22-2026 12:00:01.500,NOTICE,not a sample\n"
        "Time,11-22-2026 12:00:02.000,Watts,0.000000,Volts,248.1,Amps,0.0,PF,0.0,Mark,m\n"
        "Time,11-22-2026 12:00:03.250,Watts,17.000000,Volts,248.1,Amps,0.14,PF,0.46,Mark,m\n"
    )
    trace = read_spl_trace(spl, meter="wt310")

    assert trace.meter == "wt310"
    assert list(trace.t_wall_ns - T0_NS) == [0, 1_000_000_000, 2_000_000_000, 3_250_000_000]
    assert list(trace.valid) == [True, False, False, True]
    assert trace.watts[0] == 16.9
    assert np.isnan(trace.watts[1:3]).all()
    assert np.isnan(trace.watts_uncertainty).all()


def test_spl_without_sample_lines_raises(tmp_path):
    spl = tmp_path / "spl.txt"
    spl.write_text("garbage\n")
    with pytest.raises(JoinError, match=r"no 'Time,\.\.\.' sample line"):
        read_spl_trace(spl)
