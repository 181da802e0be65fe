"""Turn one performance pass into MLPerf results: latencies, QPS, validity, early stopping.

Formulas are those of ``PerformanceSummary`` in the official ``loadgen/results.cc``:
percentile p = ``sorted[floor(n * p)]``; mean latency is the integer mean in ns; SingleStream
QPS with overhead = (n - 1) / last issue time; Server completed QPS = (n - 1) / last completion
time and scheduled QPS = (n - 1) / last scheduled time; Offline samples/s = n / max latency.
A run is VALID when the minimum duration, minimum query/sample counts, the Server latency bound
and early stopping are all met, and, beyond the official rules, when no SUT error (unknown or
repeated response id, stall) or interruption occurred.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from loadgen import early_stopping as es
from loadgen.effective import EffectiveSettings
from loadgen.generation import QueryPlan
from loadgen.issuer import IssueOutcome
from loadgen.recorder import Recorder
from loadgen.settings import TestScenario

PERCENTILES = (0.50, 0.90, 0.95, 0.97, 0.99, 0.999)
_MULTI_STREAM_PERCENTILE = 0.99  # SingleStream's extra estimate, as hard-coded upstream


@dataclass(frozen=True)
class LatencyStats:
    """Latency statistics in ns: min, max, integer mean and the fixed percentile set."""

    min_ns: int
    max_ns: int
    mean_ns: int
    percentiles_ns: dict[float, int]
    target_ns: int

    @staticmethod
    def of(sorted_ns: npt.NDArray[np.int64], target_percentile: float) -> LatencyStats:
        """Return the statistics of ascending-sorted latencies (all zero when empty)."""
        n = len(sorted_ns)
        if n == 0:
            return LatencyStats(0, 0, 0, dict.fromkeys(PERCENTILES, 0), 0)
        pick = {p: int(sorted_ns[int(n * p)]) for p in PERCENTILES}
        return LatencyStats(
            min_ns=int(sorted_ns[0]),
            max_ns=int(sorted_ns[-1]),
            mean_ns=int(sorted_ns.sum(dtype=np.int64)) // n,
            percentiles_ns=pick,
            target_ns=int(sorted_ns[int(n * target_percentile)]),
        )


@dataclass(frozen=True)
class PerformanceResult:
    """Results of one performance pass (units in field names; times relative to issue start)."""

    scenario: TestScenario
    query_count: int
    sample_count: int
    samples: LatencyStats
    queries: LatencyStats | None  # MultiStream per-query latencies
    final_query_issued_s: float
    final_query_scheduled_s: float
    final_completion_s: float
    max_latency_s: float
    overlatency_query_count: int
    min_duration_met: bool
    min_queries_met: bool
    perf_constraints_met: bool
    early_stopping_met: bool
    early_stopping_lines: tuple[str, ...]
    early_stopping_latency_ss_ns: int
    early_stopping_latency_ms_ns: int
    recommendations: tuple[str, ...]
    sut_errors: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        """Return True when every validity rule holds and the SUT behaved."""
        return (
            self.min_duration_met
            and self.min_queries_met
            and self.perf_constraints_met
            and self.early_stopping_met
            and not self.sut_errors
        )

    @property
    def qps_with_loadgen_overhead(self) -> float:
        """Return SingleStream (n - 1) / last issue time. Units: queries/s."""
        return _rate(self.sample_count - 1, self.final_query_issued_s)

    @property
    def qps_without_loadgen_overhead(self) -> float:
        """Return 1 / mean latency. Units: queries/s."""
        return 1e9 / self.samples.mean_ns if self.samples.mean_ns else 0.0

    @property
    def completed_samples_per_sec(self) -> float:
        """Return Server (n - 1) / last completion time. Units: samples/s."""
        return _rate(self.sample_count - 1, self.final_completion_s)

    @property
    def scheduled_samples_per_sec(self) -> float:
        """Return Server (n - 1) / last scheduled time. Units: samples/s."""
        return _rate(self.sample_count - 1, self.final_query_scheduled_s)

    @property
    def samples_per_second(self) -> float:
        """Return Offline n / max latency. Units: samples/s."""
        return _rate(self.sample_count, self.max_latency_s)

    @property
    def headline(self) -> tuple[str, float]:
        """Return the scenario's submission metric name and value."""
        if self.scenario is TestScenario.SingleStream:
            return "early_stopping_latency_ss", float(self.early_stopping_latency_ss_ns)
        if self.scenario is TestScenario.MultiStream:
            return "early_stopping_latency_ms", float(self.early_stopping_latency_ms_ns)
        if self.scenario is TestScenario.Server:
            return "result_completed_samples_per_sec", self.completed_samples_per_sec
        return "result_samples_per_second", self.samples_per_second


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _sample_schedule(
    scenario: TestScenario, plan: QueryPlan, out: IssueOutcome, n_samples: int
) -> npt.NDArray[np.int64]:
    spq = plan.samples_per_query
    if scenario is TestScenario.Server:
        assert plan.schedule_ns is not None
        sched = np.asarray(plan.schedule_ns, dtype=np.int64) + out.start_ns
    else:
        sched = np.asarray(out.issued_ns, dtype=np.int64)
    return np.repeat(sched, spq)[:n_samples]


def summarize(
    eff: EffectiveSettings, plan: QueryPlan, rec: Recorder, out: IssueOutcome
) -> PerformanceResult:
    """Compute the results of one performance pass."""
    scenario = eff.scenario
    spq = plan.samples_per_query
    issued_samples = rec.issued
    cns = np.asarray(rec.complete_ns[1 : issued_samples + 1], dtype=np.int64)
    done = cns > 0
    sched = _sample_schedule(scenario, plan, out, issued_samples)
    lat = np.sort(cns[done] - sched[done])
    n_done = len(lat)
    q_issued = out.queries_issued
    samples = LatencyStats.of(lat, eff.target_latency_percentile)

    queries: LatencyStats | None = None
    query_lat = lat
    if scenario is TestScenario.MultiStream:
        full = (issued_samples // spq) * spq
        per_q = (cns[:full] - sched[:full]).reshape(-1, spq)
        complete_q = done[:full].reshape(-1, spq).all(axis=1)
        query_lat = np.sort(per_q[complete_q].max(axis=1))
        queries = LatencyStats.of(query_lat, eff.target_latency_percentile)

    last_q = max(q_issued - 1, 0)
    final_issued_s = (out.issued_ns[last_q] - out.start_ns) / 1e9 if out.issued_ns else 0.0
    final_sched_s = plan.schedule_ns[last_q] / 1e9 if plan.schedule_ns else 0.0
    final_done_s = (int(cns[done].max()) - out.start_ns) / 1e9 if n_done else 0.0
    max_latency_s = samples.max_ns / 1e9
    min_dur_s = eff.min_duration_ms / 1000.0

    recs: list[str] = []
    perf_ok = True
    overlatency = 0
    if scenario is TestScenario.Server:
        overlatency = int(np.count_nonzero(lat > eff.target_latency_ns))
        if samples.target_ns > eff.target_latency_ns:
            perf_ok = False
            recs.append("Reduce target QPS to improve latency.")
    if scenario is TestScenario.Offline:
        min_dur_ok = max_latency_s >= min_dur_s
        advice = "Increase expected QPS so the loadgen pre-generates a larger (coalesced) query."
    elif scenario is TestScenario.Server:
        min_dur_ok = final_sched_s >= min_dur_s
        advice = "Increase the target QPS so the loadgen pre-generates more queries."
    else:
        min_dur_ok = final_issued_s >= min_dur_s
        advice = "Decrease the expected latency so the loadgen pre-generates more queries."
    if not min_dur_ok:
        recs.append(advice)
    min_q_ok = q_issued >= eff.min_query_count and n_done >= eff.min_sample_count

    es_ok, es_lines, es_ss, es_ms = _early_stopping(eff, lat, query_lat, q_issued, overlatency)
    errors = list(rec.bad_ids)
    if rec.bad_count > len(rec.bad_ids):
        errors.append(f"... {rec.bad_count - len(rec.bad_ids)} more bad completions")
    if out.stalled:
        errors.append(
            f"the SUT stalled: {issued_samples - n_done} of {issued_samples} issued samples "
            "never completed"
        )
    return PerformanceResult(
        scenario=scenario,
        query_count=q_issued,
        sample_count=n_done,
        samples=samples,
        queries=queries,
        final_query_issued_s=final_issued_s,
        final_query_scheduled_s=final_sched_s,
        final_completion_s=final_done_s,
        max_latency_s=max_latency_s,
        overlatency_query_count=overlatency,
        min_duration_met=min_dur_ok,
        min_queries_met=min_q_ok,
        perf_constraints_met=perf_ok,
        early_stopping_met=es_ok,
        early_stopping_lines=tuple(es_lines),
        early_stopping_latency_ss_ns=es_ss,
        early_stopping_latency_ms_ns=es_ms,
        recommendations=tuple(recs),
        sut_errors=tuple(errors),
    )


def _estimate(lat: npt.NDArray[np.int64], percentile: float) -> int:
    est = es.percentile_estimate(len(lat), percentile)
    return int(lat[est.estimate_index]) if est.estimate_index is not None else 0


def _early_stopping(
    eff: EffectiveSettings,
    sample_lat: npt.NDArray[np.int64],
    query_lat: npt.NDArray[np.int64],
    queries: int,
    overlatency: int,
) -> tuple[bool, list[str], int, int]:
    """Return (met, summary lines, SS estimate ns, 99th/MS estimate ns)."""
    scenario = eff.scenario
    p = eff.target_latency_percentile
    if scenario is TestScenario.Offline:
        return True, [], 0, 0
    if scenario is TestScenario.Server:
        met = es.server_early_stopping(queries, overlatency, p).met
        return met, es.server_text(queries, overlatency, p), 0, 0
    if scenario is TestScenario.MultiStream:
        met = es.percentile_estimate(len(query_lat), p).met
        return met, es.multi_stream_text(query_lat.tolist(), p), 0, _estimate(query_lat, p)
    met = es.percentile_estimate(len(sample_lat), p).met
    lines = es.single_stream_text(sample_lat.tolist(), p, _MULTI_STREAM_PERCENTILE)
    ss = _estimate(sample_lat, p) if met else 0
    ms = _estimate(sample_lat, _MULTI_STREAM_PERCENTILE) if met else 0
    return met, lines, ss, ms
