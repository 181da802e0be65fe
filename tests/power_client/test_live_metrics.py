"""Live LoadGen metrics: counts, the latency histogram, throughput and phases, polled."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

import loadgen
import loadgen.runner
from loadgen import RunMonitor, TestMode, TestScenario, TestSettings
from loadgen.clock import FakeClock
from loadgen.events import PassWindow
from power_client.live_metrics import LiveMetrics
from power_client.push import result_registry
from power_director.exporter import DirectorExporter
from suts.null import NullSut, SyntheticQsl

MS = 1_000_000
BUCKETS_S = (0.001, 0.002, 0.005)


@dataclass
class Rec:
    """What a poller reads of LoadGen's Recorder."""

    size: int
    issued: int = 0
    completed: int = 0
    complete_ns: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.complete_ns = [0] * (self.size + 1)

    def complete(self, sample_id: int, t_ns: int) -> None:
        self.complete_ns[sample_id] = t_ns
        self.completed += 1


@dataclass
class Issue:
    start_ns: int
    issued_ns: list[int]


@dataclass(frozen=True)
class Plan:
    samples_per_query: int
    schedule_ns: list[int] | None = None


class Clock:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns


def scrape(live: LiveMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(live.registry).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(scraped, name: str, **labels: str) -> float | None:
    return scraped.get((name, tuple(sorted(labels.items()))))


def buckets(scraped, scenario: str, phase: str = "testing") -> list[float | None]:
    name = "wattbench_loadgen_sample_latency_seconds_bucket"
    les = [*(f"{b:g}" for b in BUCKETS_S), "+Inf"]
    return [value(scraped, name, scenario=scenario, phase=phase, le=le) for le in les]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def live(clock: Clock) -> LiveMetrics:
    return LiveMetrics(buckets_s=BUCKETS_S, clock_ns=clock)


def begin(live, scenario, rec, issue=None, plan=None, start_ns=0, mode="performance"):
    monitor = live.follow(RunMonitor())
    monitor.attach(rec, issue, plan)
    live.set_client_phase("testing")
    live.on_test_start(scenario, "PerformanceOnly", "NullSUT")
    live.on_pass_start(mode, 0, start_ns)
    return monitor


def test_before_any_test_only_the_phases_are_exposed(live):
    m = scrape(live)
    assert {name for name, _ in m} == {"wattbench_loadgen_phase", "wattbench_client_phase"}
    assert value(m, "wattbench_loadgen_phase", phase="idle") == 1.0
    assert value(m, "wattbench_client_phase", phase="idle") == 1.0


def test_single_stream_latencies_are_completion_minus_issue_time(live, clock):
    rec = Rec(10)
    issue = Issue(0, [0] * 10)
    begin(live, "SingleStream", rec, issue, Plan(1))
    # queries issued at 0, 10, 20 ms with latencies 0.5, 1.5 and 4 ms
    for q, latency_ns in enumerate((MS // 2, 3 * MS // 2, 4 * MS)):
        issue.issued_ns[q] = q * 10 * MS
        rec.issued = q + 1
        rec.complete(q + 1, q * 10 * MS + latency_ns)
    clock.ns = 30 * MS
    live.poll()
    m = scrape(live)
    assert buckets(m, "SingleStream") == [1, 2, 3, 3]
    name = "wattbench_loadgen_sample_latency_seconds"
    assert value(m, f"{name}_count", scenario="SingleStream", phase="testing") == 3
    assert value(m, f"{name}_sum", scenario="SingleStream", phase="testing") == pytest.approx(0.006)
    for counter in ("issued", "completed"):
        assert (
            value(
                m,
                f"wattbench_loadgen_samples_{counter}_total",
                scenario="SingleStream",
                phase="testing",
            )
            == 3
        )
    throughput = "wattbench_loadgen_throughput_samples_per_second"
    assert value(m, throughput, scenario="SingleStream", phase="testing") == pytest.approx(100.0)
    assert value(m, "wattbench_loadgen_phase", phase="performance") == 1.0
    assert value(m, "wattbench_client_phase", phase="testing") == 1.0


def test_server_latencies_count_from_the_scheduled_time(live):
    rec = Rec(3)
    issue = Issue(1000 * MS, [0] * 3)
    begin(live, "Server", rec, issue, Plan(1, [0, 2 * MS, 3 * MS]), start_ns=1000 * MS)
    rec.issued = 3
    # the second query went out 1 ms late; its latency still counts from the schedule
    rec.complete(1, 1000 * MS + MS // 2)
    rec.complete(2, 1000 * MS + 2 * MS + 3 * MS)
    live.poll()
    m = scrape(live)
    assert buckets(m, "Server") == [1, 1, 2, 2]
    assert value(
        m, "wattbench_loadgen_sample_latency_seconds_sum", scenario="Server", phase="testing"
    ) == pytest.approx(0.0035)
    assert (
        value(m, "wattbench_loadgen_samples_completed_total", scenario="Server", phase="testing")
        == 2
    )


def test_multi_stream_samples_share_their_querys_issue_time(live):
    rec = Rec(4)
    issue = Issue(0, [0, 10 * MS])
    begin(live, "MultiStream", rec, issue, Plan(2))
    rec.issued = 4
    for sample_id, t_ns in ((1, MS // 2), (2, 3 * MS), (3, 11 * MS), (4, 20 * MS)):
        rec.complete(sample_id, t_ns)
    live.poll()
    assert buckets(scrape(live), "MultiStream") == [2, 2, 3, 4]


def test_out_of_order_completions_are_each_observed_once(live):
    rec = Rec(6)
    begin(live, "Offline", rec, Issue(0, [0]), Plan(6))
    rec.issued = 6
    rec.complete(5, MS // 2)
    rec.complete(2, 3 * MS)
    live.poll()
    m = scrape(live)
    assert buckets(m, "Offline") == [1, 1, 2, 2]
    for sample_id in (1, 3, 4, 6):
        rec.complete(sample_id, 10 * MS)
    live.poll()
    live.poll()
    m = scrape(live)
    assert buckets(m, "Offline") == [1, 1, 2, 6]
    assert value(
        m, "wattbench_loadgen_sample_latency_seconds_sum", scenario="Offline", phase="testing"
    ) == pytest.approx(0.0435)


def test_offline_latencies_need_no_issue_times(live):
    rec = Rec(3)
    begin(live, "Offline", rec, start_ns=50 * MS)  # a runner that attaches only the recorder
    rec.issued = 3
    for sample_id in (1, 2, 3):
        rec.complete(sample_id, 50 * MS + sample_id * MS)
    live.on_pass_end(PassWindow("performance", 0, 0, 50 * MS, 53 * MS), 3, 3)
    assert buckets(scrape(live), "Offline") == [1, 2, 3, 3]


def test_without_issue_times_other_scenarios_count_but_have_no_histogram(live):
    rec = Rec(3)
    begin(live, "SingleStream", rec)
    rec.issued = 2
    rec.complete(1, MS)
    rec.complete(2, 2 * MS)
    live.poll()
    m = scrape(live)
    assert buckets(m, "SingleStream") == [None, None, None, None]
    assert (
        value(
            m, "wattbench_loadgen_samples_completed_total", scenario="SingleStream", phase="testing"
        )
        == 2
    )


def test_above_the_budget_one_id_in_k_is_observed_with_weight_k(clock):
    live = LiveMetrics(buckets_s=BUCKETS_S, clock_ns=clock, max_latencies_per_poll=8)
    rec = Rec(64)
    issue = Issue(0, [0] * 64)
    begin(live, "SingleStream", rec, issue, Plan(1))
    rec.issued = 32
    for sample_id in range(1, 33):
        issue.issued_ns[sample_id - 1] = sample_id * 10 * MS
        # ids divisible by 4 take 4 ms, the others 0.5 ms
        rec.complete(sample_id, sample_id * 10 * MS + (4 * MS if sample_id % 4 == 0 else MS // 2))
    live.poll()
    m = scrape(live)
    # 32 candidates > 8: stride 4 -> ids 4, 8, ..., 32 observed, each counted 4 times
    assert buckets(m, "SingleStream") == [0, 0, 32, 32]
    assert value(
        m, "wattbench_loadgen_sample_latency_seconds_sum", scenario="SingleStream", phase="testing"
    ) == pytest.approx(32 * 0.004)
    assert (
        value(
            m, "wattbench_loadgen_samples_completed_total", scenario="SingleStream", phase="testing"
        )
        == 32
    )


def test_pass_end_reads_the_rest_and_goes_idle(live, clock):
    rec = Rec(4)
    issue = Issue(0, [0, 0, 0, 0])
    begin(live, "Offline", rec, issue, Plan(4))
    rec.issued = 4
    clock.ns = 100 * MS
    live.poll()
    for sample_id in range(1, 5):
        rec.complete(sample_id, MS)
    live.on_pass_end(PassWindow("performance", 0, 0, 0, MS), 4, 4)
    m = scrape(live)
    assert buckets(m, "Offline") == [4, 4, 4, 4]
    assert value(m, "wattbench_loadgen_phase", phase="idle") == 1.0
    assert value(m, "wattbench_loadgen_phase", phase="performance") == 0.0
    throughput = "wattbench_loadgen_throughput_samples_per_second"
    assert value(m, throughput, scenario="Offline", phase="testing") == 0.0
    live.poll()  # nothing running: nothing changes
    assert scrape(live) == m


def test_counters_accumulate_over_passes_and_split_by_client_phase(live):
    for phase, n in (("ranging", 3), ("testing", 5)):
        rec = Rec(n)
        begin(live, "Offline", rec, Issue(0, [0]), Plan(n))
        live.set_client_phase(phase)
        rec.issued = n
        for sample_id in range(1, n + 1):
            rec.complete(sample_id, MS)
        live.on_pass_end(PassWindow("performance", 0, 0, 0, MS), n, n)
    live.set_client_phase("idle")
    m = scrape(live)
    completed = "wattbench_loadgen_samples_completed_total"
    assert value(m, completed, scenario="Offline", phase="ranging") == 3
    assert value(m, completed, scenario="Offline", phase="testing") == 5
    assert value(m, "wattbench_client_phase", phase="idle") == 1.0


def test_a_real_offline_run_gives_loadgens_own_latencies():
    clock = FakeClock(advance_per_read_ns=1000)
    live = LiveMetrics(buckets_s=BUCKETS_S)
    monitor = live.follow(RunMonitor())
    settings = TestSettings(
        scenario=TestScenario.Offline,
        mode=TestMode.PerformanceOnly,
        min_duration_ms=0,
        min_query_count=1,
        offline_expected_qps=500,
    )
    result = loadgen.start_test(
        NullSut(), SyntheticQsl(64), settings, clock=clock, monitor=monitor, write_logs=False
    )
    perf = result.performance
    assert perf is not None and perf.sample_count > 0
    m = scrape(live)
    labels = {"scenario": "Offline", "phase": "idle"}
    assert value(m, "wattbench_loadgen_samples_issued_total", **labels) == perf.sample_count
    assert value(m, "wattbench_loadgen_samples_completed_total", **labels) == perf.sample_count
    name = "wattbench_loadgen_sample_latency_seconds"
    assert value(m, f"{name}_count", **labels) == perf.sample_count
    assert value(m, f"{name}_sum", **labels) == pytest.approx(
        perf.samples.mean_ns * perf.sample_count / 1e9, abs=perf.sample_count * 1e-9
    )


def test_a_real_single_stream_run_counts_every_sample():
    live = LiveMetrics(poll_interval_s=0.01)
    settings = TestSettings(
        scenario=TestScenario.SingleStream,
        mode=TestMode.PerformanceOnly,
        min_duration_ms=200,
        min_query_count=100,
        single_stream_expected_latency_ns=100_000,
    )
    with live:
        result = loadgen.start_test(
            NullSut(),
            SyntheticQsl(64),
            settings,
            monitor=live.follow(RunMonitor()),
            write_logs=False,
        )
    perf = result.performance
    assert perf is not None
    m = scrape(live)
    labels = {"scenario": "SingleStream", "phase": "idle"}
    assert value(m, "wattbench_loadgen_samples_completed_total", **labels) == perf.sample_count
    assert value(m, "wattbench_loadgen_samples_issued_total", **labels) == perf.sample_count


def test_the_poller_thread_polls_by_itself_and_serve_exposes_the_registry(live):
    live.poll_interval_s = 0.01
    rec = Rec(2)
    begin(live, "Offline", rec, Issue(0, [0]), Plan(2))
    rec.issued = 2
    rec.complete(1, MS)
    with live, live.serve() as server:
        assert server.url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 10
        completed = "wattbench_loadgen_samples_completed_total"
        while value(scrape(live), completed, scenario="Offline", phase="testing") != 1:
            assert time.monotonic() < deadline, "the poller never polled"
            time.sleep(0.01)
        with urllib.request.urlopen(server.url, timeout=5) as response:
            body = response.read().decode()
    assert 'wattbench_loadgen_samples_completed_total{phase="testing",scenario="Offline"} 1.0' in (
        body
    )
    live.close()  # idempotent after the with blocks


@pytest.mark.parametrize(
    "kwargs",
    [
        {"buckets_s": ()},
        {"buckets_s": (0.1, 0.1)},
        {"buckets_s": (0.0, 1.0)},
        {"poll_interval_s": 0},
        {"max_latencies_per_poll": 0},
    ],
)
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        LiveMetrics(**kwargs)


def attach_issue_times(monkeypatch, monitor: RunMonitor) -> None:
    """Do what the runner will: ``monitor.attach(rec, out, plan)`` before issuing a pass."""
    original = vars(loadgen.runner)["issue_pass"]

    def issue_pass(scenario, plan, sut, rec, clock, limits, out, on_start=None):
        monitor.attach(rec, out, plan)
        original(scenario, plan, sut, rec, clock, limits, out, on_start)

    monkeypatch.setitem(vars(loadgen.runner), "issue_pass", issue_pass)


@pytest.mark.parametrize(
    ("scenario", "extra"),
    [
        (TestScenario.SingleStream, {"single_stream_expected_latency_ns": 1_000_000}),
        (TestScenario.MultiStream, {"multi_stream_expected_latency_ns": 1_000_000}),
        (TestScenario.Server, {"server_target_qps": 1000, "server_target_latency_ns": 10**8}),
    ],
)
def test_with_issue_times_a_real_run_gives_loadgens_own_latencies(monkeypatch, scenario, extra):
    clock = FakeClock(advance_per_read_ns=7_000)
    live = LiveMetrics(buckets_s=BUCKETS_S, max_latencies_per_poll=10**6)
    monitor = live.follow(RunMonitor())
    attach_issue_times(monkeypatch, monitor)
    settings = TestSettings(
        scenario=scenario,
        mode=TestMode.PerformanceOnly,
        min_duration_ms=50,
        min_query_count=64,
        **extra,
    )
    result = loadgen.start_test(
        NullSut(), SyntheticQsl(64), settings, clock=clock, monitor=monitor, write_logs=False
    )
    perf = result.performance
    assert perf is not None and perf.sample_count >= 64
    m = scrape(live)
    labels = {"scenario": scenario.name, "phase": "idle"}
    name = "wattbench_loadgen_sample_latency_seconds"
    assert value(m, f"{name}_count", **labels) == perf.sample_count
    assert value(m, f"{name}_sum", **labels) == pytest.approx(
        perf.samples.mean_ns * perf.sample_count / 1e9, abs=perf.sample_count * 1e-9
    )


DOCS = Path(__file__).resolve().parents[2] / "docs"


def exposed_names(families) -> set[str]:
    names = set()
    for family in families:
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "info":
            names.add(family.name + "_info")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in ("", "_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


def test_every_series_is_documented_in_the_monitoring_guide():
    text = (DOCS / "monitoring.md").read_text(encoding="utf-8")
    for family in LiveMetrics().describe():
        assert f"`{family.name}" in text, family.name
    pushed = result_registry({"metrics": {"avg_watts": {"value": 1.0}}})
    for family in pushed.collect():
        assert f"`{family.name}`" in text, family.name


def test_the_dashboard_uses_only_exposed_metrics():
    known = (
        exposed_names(LiveMetrics().describe())
        | exposed_names(DirectorExporter().describe())
        | {f"wattbench_result_{n}" for n in ("samples_per_joule", "average_power_watts")}
        | {f"wattbench_result_{n}" for n in ("energy_joules", "energy_per_query_joules", "valid")}
    )
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs.append(dashboard["templating"]["list"][0]["definition"])
    used = {name for expr in exprs for name in re.findall(r"wattbench_\w+", expr)}
    assert used - known == set()
    assert {"wattbench_power_watts", "wattbench_loadgen_sample_latency_seconds_bucket"} <= used
