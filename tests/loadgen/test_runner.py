"""Scenario issue patterns, end conditions and SUT misbehaviour, driven with a fake clock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import loadgen
from loadgen import FakeClock, QuerySample, QuerySampleResponse, TestMode, TestScenario
from loadgen.errors import SettingsError
from loadgen.log_reader import DetailLogReader
from suts.null import NullSut, SyntheticQsl, ThreadedNullSut


class RecordingSut:
    """Completes inline after advancing the fake clock; records what it saw."""

    name = "RecordingSUT"

    def __init__(self, clock: FakeClock, service_ns: int = 1_000_000) -> None:
        self.clock = clock
        self.service_ns = service_ns
        self.queries: list[list[QuerySample]] = []
        self.issue_times: list[int] = []
        self.flushes = 0

    def issue_queries(self, samples, complete) -> None:
        self.queries.append(list(samples))
        self.issue_times.append(self.clock.now_ns())
        self.clock.advance(self.service_ns)
        complete([QuerySampleResponse(s.id, s.index.to_bytes(8, "little")) for s in samples])

    def flush_queries(self) -> None:
        self.flushes += 1


def _settings(scenario: TestScenario, **kw) -> loadgen.TestSettings:
    base = dict(
        scenario=scenario,
        min_duration_ms=100,
        min_query_count=10,
        single_stream_expected_latency_ns=1e6,
        multi_stream_expected_latency_ns=8e6,
        server_target_qps=1000.0,
        server_target_latency_ns=10_000_000,
        offline_expected_qps=1000.0,
    )
    base.update(kw)
    return loadgen.TestSettings(**base)


def _run(sut, settings, tmp_path: Path, clock: FakeClock, total: int = 100, perf: int = 64):
    return loadgen.start_test(
        sut, SyntheticQsl(total, perf), settings, out_dir=tmp_path, clock=clock
    )


def test_single_stream_issues_one_sample_after_the_previous_completes(tmp_path: Path) -> None:
    clock = FakeClock()
    sut = RecordingSut(clock, service_ns=1_000_000)
    r = _run(sut, _settings(TestScenario.SingleStream), tmp_path, clock)
    assert all(len(q) == 1 for q in sut.queries)
    # 1 ms per query; ends at the first query issued at or after 100 ms with >= 10 queries
    assert len(sut.queries) == 101
    assert [q[0].id for q in sut.queries] == list(range(1, 102))
    assert r.performance is not None and r.performance.min_duration_met
    assert r.performance.samples.min_ns == r.performance.samples.max_ns == 1_000_000
    assert sut.flushes == 1
    assert DetailLogReader(tmp_path / "mlperf_log_detail.txt").all("generic_message")[-1] == (
        "Ending naturally: Minimum query count and test duration met."
    )


def test_multi_stream_issues_contiguous_padded_samples(tmp_path: Path) -> None:
    clock = FakeClock()
    sut = RecordingSut(clock, service_ns=8_000_000)
    r = _run(sut, _settings(TestScenario.MultiStream, min_query_count=5), tmp_path, clock)
    log = DetailLogReader(tmp_path / "mlperf_log_detail.txt")
    loaded = log["loaded_qsl_set"]
    assert len(loaded) == 64 + 7 and loaded[64:] == loaded[:7]
    for q in sut.queries:
        idx = [s.index for s in q]
        assert len(idx) == 8
        start = loaded.index(idx[0])
        assert idx == loaded[start : start + 8]
    assert r.performance is not None and r.performance.queries is not None
    assert r.performance.queries.max_ns == 8_000_000


def test_server_issues_at_the_poisson_schedule(tmp_path: Path) -> None:
    from loadgen import rng

    clock = FakeClock()
    sut = RecordingSut(clock, service_ns=50_000)
    _run(sut, _settings(TestScenario.Server, schedule_rng_seed=7), tmp_path, clock)
    times, _ = rng.server_schedule_ns(7, 1000.0, gen_duration_ns=100_000_000, min_queries=10)
    start = sut.issue_times[0] - int(times[0])
    # each query goes out at its scheduled time, or when the SUT hands back control if later
    expected, free_at = [], 0
    for t in times.tolist():
        expected.append(max(t, free_at))
        free_at = expected[-1] + 50_000
    assert [t - start for t in sut.issue_times] == expected
    assert expected != times.tolist()  # the case where issue is late was exercised


def test_server_latency_counts_from_the_scheduled_time(tmp_path: Path) -> None:
    clock = FakeClock()
    sut = RecordingSut(clock, service_ns=20_000_000)  # slower than the arrival rate
    r = _run(sut, _settings(TestScenario.Server), tmp_path, clock)
    assert r.performance is not None
    # queued queries accumulate delay, so latencies grow well past the 20 ms service time
    assert r.performance.samples.max_ns > 20 * 20_000_000
    assert not r.performance.perf_constraints_met and not r.valid


def test_offline_issues_one_query_with_the_set_in_order(tmp_path: Path) -> None:
    clock = FakeClock()
    sut = RecordingSut(clock)
    _run(sut, _settings(TestScenario.Offline, min_query_count=200), tmp_path, clock)
    assert len(sut.queries) == 1
    loaded = DetailLogReader(tmp_path / "mlperf_log_detail.txt")["loaded_qsl_set"]
    assert [s.index for s in sut.queries[0]] == [loaded[i % 64] for i in range(200)]


def test_max_query_count_ends_early_with_an_error(tmp_path: Path) -> None:
    clock = FakeClock()
    sut = RecordingSut(clock)
    r = _run(
        sut,
        _settings(TestScenario.SingleStream, max_query_count=20, min_query_count=10),
        tmp_path,
        clock,
    )
    assert len(sut.queries) == 20
    assert "Ending early: Max query count reached." in r.errors
    assert not r.valid


def test_max_duration_ends_early(tmp_path: Path) -> None:
    clock = FakeClock()
    sut = RecordingSut(clock, service_ns=10_000_000)
    r = _run(
        sut,
        _settings(
            TestScenario.SingleStream, max_duration_ms=100, min_duration_ms=50, min_query_count=1000
        ),
        tmp_path,
        clock,
    )
    assert len(sut.queries) == 11  # issued at 0, 10, ..., 100 ms
    assert "Ending early: Max test duration reached." in r.errors


def test_unknown_and_repeated_ids_invalidate_without_crashing(tmp_path: Path) -> None:
    class Misbehaving(NullSut):
        def issue_queries(self, samples, complete):
            super().issue_queries(samples, complete)
            complete([QuerySampleResponse(samples[0].id)])  # twice
            complete([QuerySampleResponse(10**9)])  # unknown

    r = loadgen.start_test(
        Misbehaving(),
        SyntheticQsl(16, 16),
        _settings(TestScenario.Offline, min_query_count=4),
        out_dir=tmp_path,
    )
    assert r.performance is not None and not r.performance.valid
    assert any("completed twice" in e for e in r.errors)
    assert any("unknown response id" in e for e in r.errors)
    log = DetailLogReader(tmp_path / "mlperf_log_detail.txt")
    assert log["result_validity"] == "INVALID"
    assert log["num_errors"] >= 2


def test_a_sut_that_never_completes_ends_at_the_watchdog(tmp_path: Path) -> None:
    class BlackHole(NullSut):
        def issue_queries(self, samples, complete):
            pass

    r = loadgen.start_test(
        BlackHole(),
        SyntheticQsl(16, 16),
        _settings(TestScenario.SingleStream),
        out_dir=tmp_path,
        stall_timeout_s=0.2,
    )
    assert not r.valid
    assert any("did not complete 1 of 1 issued samples" in e for e in r.errors)
    assert (tmp_path / "mlperf_log_summary.txt").read_text().count("INVALID") == 1


def test_ctrl_c_flushes_logs_and_reraises(tmp_path: Path) -> None:
    class Interrupting(NullSut):
        calls = 0

        def issue_queries(self, samples, complete):
            super().issue_queries(samples, complete)
            self.calls += 1
            if self.calls == 50:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        loadgen.start_test(
            Interrupting(),
            SyntheticQsl(64, 64),
            _settings(TestScenario.SingleStream, min_duration_ms=60_000),
            out_dir=tmp_path,
        )
    log = DetailLogReader(tmp_path / "mlperf_log_detail.txt")
    assert log["result_query_count"] == 50
    assert len(log.power_windows()) == 1
    assert any("interrupted" in str(e.value) for e in log.errors)
    assert "INVALID" in (tmp_path / "mlperf_log_summary.txt").read_text()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (dict(performance_issue_unique=True, performance_issue_same=True), "performance_issue"),
        (dict(max_duration_ms=10, min_duration_ms=100), "max_duration_ms"),
        (dict(max_query_count=5, min_query_count=10), "max_query_count"),
        (dict(offline_expected_qps=-1.0), "offline_expected_qps"),
        (dict(single_stream_expected_latency_ns=0), "single_stream_expected_latency_ns"),
    ],
)
def test_contradictory_settings_fail_before_the_run(change, field, tmp_path: Path) -> None:
    sut = RecordingSut(FakeClock())
    with pytest.raises(SettingsError, match=field):
        sc = TestScenario.Offline if "offline_expected_qps" in change else TestScenario.SingleStream
        _run(sut, _settings(sc, **change), tmp_path, FakeClock())
    assert sut.queries == []


def test_completion_from_worker_threads(tmp_path: Path) -> None:
    with ThreadedNullSut(workers=2) as sut:
        r = loadgen.start_test(
            sut,
            SyntheticQsl(64, 64),
            _settings(TestScenario.Server, server_target_qps=2000.0, min_duration_ms=200),
            out_dir=tmp_path,
        )
    assert r.performance is not None
    assert r.performance.sample_count == r.performance.query_count
    assert not r.errors


def test_accuracy_mode_logs_every_sample_once(tmp_path: Path) -> None:
    s = _settings(TestScenario.SingleStream, mode=TestMode.AccuracyOnly)
    r = loadgen.start_test(NullSut(), SyntheticQsl(150, 64), s, out_dir=tmp_path)
    import json

    entries = json.loads((tmp_path / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in entries) == list(range(150))
    assert [e["seq_id"] for e in entries] == list(range(150))
    assert all(bytes.fromhex(e["data"]) == e["qsl_idx"].to_bytes(8, "little") for e in entries)
    assert r.performance is None and len(r.windows) == 3  # sets of 64, 64, 22


def test_submission_run_has_accuracy_then_performance_windows(tmp_path: Path) -> None:
    s = _settings(TestScenario.Offline, mode=TestMode.SubmissionRun)
    r = loadgen.start_test(NullSut(), SyntheticQsl(64, 64), s, out_dir=tmp_path)
    assert [w.mode for w in r.windows] == ["accuracy", "performance"]
    log = DetailLogReader(tmp_path / "mlperf_log_detail.txt")
    assert len(log.power_windows()) == 2


def test_events_and_progress(tmp_path: Path) -> None:
    seen: list[tuple] = []

    class Listener:
        def on_test_start(self, scenario, mode, sut_name):
            seen.append(("start", scenario, mode))

        def on_pass_start(self, mode, wall_ns, mono_ns):
            seen.append(("pass", mode))

        def on_pass_end(self, window, issued, completed):
            seen.append(("end", window.mode, issued == completed))

        def on_test_end(self, valid):
            seen.append(("done",))

    loadgen.start_test(
        NullSut(),
        SyntheticQsl(64, 64),
        _settings(TestScenario.Offline),
        out_dir=tmp_path,
        listeners=[Listener()],
    )
    assert seen == [
        ("start", "Offline", "PerformanceOnly"),
        ("pass", "performance"),
        ("end", "performance", True),
        ("done",),
    ]


def test_power_window_matches_the_log(tmp_path: Path) -> None:
    clock = FakeClock(wall_start_ns=1_700_000_000_123_456_789)
    sut = RecordingSut(clock, service_ns=5_000_000)
    r = _run(sut, _settings(TestScenario.Offline), tmp_path, clock)
    w = r.performance_window
    assert w is not None and w.end_wall_ns - w.begin_wall_ns == 5_000_000
    log = DetailLogReader(tmp_path / "mlperf_log_detail.txt")
    assert log["power_begin"] == loadgen.power_timestamp(w.begin_wall_ns)
    assert loadgen.power_timestamp(1_700_000_000_123_456_789) == "11-14-2023 22:13:20.123"


def test_percentiles_are_sorted_floor_n_p() -> None:
    import numpy as np

    from loadgen.results import LatencyStats

    lat = np.arange(1, 11, dtype=np.int64) * 100  # 100..1000
    st = LatencyStats.of(lat, 0.9)
    assert st.target_ns == 1000  # sorted[floor(10*0.9)] = sorted[9]
    assert st.percentiles_ns[0.5] == 600 and st.mean_ns == 550


def test_threaded_completion_is_thread_safe() -> None:
    from loadgen.recorder import Recorder

    rec = Recorder(40_000, lambda: 1)
    rec.issued = 40_000
    threads = [
        threading.Thread(
            target=lambda k=k: [
                rec.complete([QuerySampleResponse(i)]) for i in range(k + 1, 40_001, 4)
            ]
        )
        for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert rec.completed == 40_000 and rec.bad_count == 0


def test_find_peak_performance_brackets_the_saturation_point(tmp_path: Path) -> None:
    clock = FakeClock()

    class QueueSut(RecordingSut):
        """One server with 1 ms service: completes when its queue drains (fake time)."""

        def __init__(self, clock: FakeClock) -> None:
            super().__init__(clock, service_ns=0)
            self.free_at = 0

        def issue_queries(self, samples, complete) -> None:
            now = self.clock.now_ns()
            self.free_at = max(self.free_at, now) + 1_000_000
            self.clock.advance(self.free_at - now)
            complete([QuerySampleResponse(s.id) for s in samples])

    s = _settings(
        TestScenario.Server,
        mode=TestMode.FindPeakPerformance,
        server_target_qps=100.0,
        min_query_count=500,
        min_duration_ms=50,
        server_find_peak_qps_decimals_of_precision=0,
    )
    r = _run(QueueSut(clock), s, tmp_path, clock)
    assert r.performance is not None and r.performance.valid
    peak = r.performance.query_count / r.performance.final_query_scheduled_s
    assert 100 < peak < 1000  # a 1 ms server cannot sustain 1000 QPS
    assert len(r.windows) > 4  # lower bound, widening and bisection probes
