"""Renderer of ``mlperf_log_summary.txt``, byte-compatible with the official layout.

Sections, indents, the ``Early stopping satisfied:`` spelling, two-decimal Server/SingleStream
rates, ``%g`` Offline rate and 0/1 booleans in the parameter block follow
``PerformanceSummary::LogSummary`` and ``TestSettingsInternal::LogSummary`` of LoadGen 6.0.17
(checked against logs produced by ``mlcommons-loadgen`` in ``tests/fixtures/official``).
AccuracyOnly runs get only the warning/error footer.
"""

from __future__ import annotations

from loadgen.effective import EffectiveSettings
from loadgen.results import PERCENTILES, LatencyStats, PerformanceResult
from loadgen.settings import TestMode, TestScenario

_RULE = "================================================"


def _yes(flag: bool) -> str:
    return "Yes" if flag else "NO"


def _stats(lines: list[str], stats: LatencyStats) -> None:
    lines.append(f"Min latency (ns)                : {stats.min_ns}")
    lines.append(f"Max latency (ns)                : {stats.max_ns}")
    lines.append(f"Mean latency (ns)               : {stats.mean_ns}")
    for p in PERCENTILES:
        lines.append(f"{p * 100:.2f} percentile latency (ns)   : {stats.percentiles_ns[p]}")


def footer(warnings: int, errors: int) -> str:
    """Return the closing warning/error lines (the whole summary of an accuracy run)."""
    if warnings == 0:
        w = "No warnings encountered during test."
    elif warnings == 1:
        w = "1 warning encountered. See detailed log."
    else:
        w = f"{warnings} warnings encountered. See detailed log."
    if errors == 0:
        e = "No errors encountered during test."
    elif errors == 1:
        e = "1 ERROR encountered. See detailed log."
    else:
        e = f"{errors} ERRORS encountered. See detailed log."
    return f"\n{w}\n\n{e}\n"


def render(
    sut_name: str,
    mode: TestMode,
    eff: EffectiveSettings,
    res: PerformanceResult,
    warnings: int,
    errors: int,
) -> str:
    """Return the full summary text of a performance run."""
    sc = eff.scenario
    lines = [_RULE, "MLPerf Results Summary", _RULE]
    lines += [f"SUT name : {sut_name}", f"Scenario : {sc.name}", f"Mode     : {mode.name}"]
    pct = f"{eff.target_latency_percentile * 100:.1f}"
    if sc is TestScenario.SingleStream:
        lines.append(f"{pct}th percentile latency (ns) : {res.samples.target_ns}")
    elif sc is TestScenario.MultiStream:
        assert res.queries is not None
        lines.append(f"{pct}th percentile latency (ns) : {res.queries.target_ns}")
    elif sc is TestScenario.Server:
        lines.append(f"Completed samples per second    : {res.completed_samples_per_sec:.2f}")
    else:
        lines.append(f"Samples per second: {res.samples_per_second:g}")
    lines.append(f"Result is : {'VALID' if res.valid else 'INVALID'}")
    if sc is TestScenario.Server:
        lines.append(f"  Performance constraints satisfied : {_yes(res.perf_constraints_met)}")
    lines.append(f"  Min duration satisfied : {_yes(res.min_duration_met)}")
    lines.append(f"  Min queries satisfied : {_yes(res.min_queries_met)}")
    lines.append(f"  Early stopping satisfied: {_yes(res.early_stopping_met)}")
    if not res.valid:
        lines.append("Recommendations:")
        lines += [f" * {r}" for r in res.recommendations]
        if not res.min_queries_met:
            lines.append(" * The test exited early, before enough queries were issued.")
            lines.append("   See the detailed log for why this may have occurred.")
        lines += [f" * SUT error: {e}" for e in res.sut_errors]
    if sc is not TestScenario.Offline:
        lines.append("Early Stopping Result:")
        lines += list(res.early_stopping_lines)
    lines += ["", _RULE, "Additional Stats", _RULE]
    if sc is TestScenario.SingleStream:
        lines.append(f"QPS w/ loadgen overhead         : {res.qps_with_loadgen_overhead:.2f}")
        lines.append(f"QPS w/o loadgen overhead        : {res.qps_without_loadgen_overhead:.2f}")
        lines.append("")
    elif sc is TestScenario.Server:
        lines.append(f"Scheduled samples per second : {res.scheduled_samples_per_sec:.2f}")
    if sc is TestScenario.MultiStream:
        assert res.queries is not None
        lines.append("Per-query latency:  ")
        _stats(lines, res.queries)
    else:
        _stats(lines, res.samples)
    lines += ["", _RULE, "Test Parameters Used", _RULE]
    lines += [
        f"samples_per_query : {eff.samples_per_query}",
        f"target_qps : {eff.target_qps:g}",
        f"target_latency (ns): {eff.target_latency_ns}",
        f"max_async_queries : {eff.max_async_queries}",
        f"min_duration (ms): {eff.min_duration_ms}",
        f"max_duration (ms): {eff.max_duration_ms}",
        f"min_query_count : {eff.min_query_count}",
        f"max_query_count : {eff.max_query_count}",
        f"qsl_rng_seed : {eff.qsl_rng_seed}",
        f"sample_index_rng_seed : {eff.sample_index_rng_seed}",
        f"schedule_rng_seed : {eff.schedule_rng_seed}",
        f"accuracy_log_rng_seed : {eff.accuracy_log_rng_seed}",
        f"accuracy_log_probability : {eff.accuracy_log_probability:g}",
        f"accuracy_log_sampling_target : {eff.accuracy_log_sampling_target}",
        f"print_timestamps : {int(eff.print_timestamps)}",
        f"performance_issue_unique : {int(eff.performance_issue_unique)}",
        f"performance_issue_same : {int(eff.performance_issue_same)}",
        f"performance_issue_same_index : {eff.performance_issue_same_index}",
        f"performance_sample_count : {eff.performance_sample_count}",
        f"accuracy_sample_count : {eff.accuracy_sample_count}",
    ]
    if eff.sample_concatenate_permutation:
        lines.append(
            "WARNING: sample_concatenate_permutation was set to true. \n"
            "Generated samples per query might be different as the one in the setting.\n"
            "Check the generated_samples_per_query line in the detailed log for the real\n"
            "samples_per_query value"
        )
    return "\n".join(lines) + "\n" + footer(warnings, errors)
