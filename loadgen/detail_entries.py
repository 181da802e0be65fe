"""The detail-log entry groups a run writes: version, requested and effective settings, results.

Keys, order and value types follow the official LoadGen 6.0.17 detail log (see
``tests/fixtures/official``); values are written from our own settings and results.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from loadgen.detail_log import DetailLog
from loadgen.effective import EffectiveSettings
from loadgen.results import PERCENTILES, PerformanceResult
from loadgen.settings import TestScenario, TestSettings

VERSION = "6.0.17"  # the official LoadGen version whose behaviour and formats we follow
IMPLEMENTATION = "wattbench-loadgen 0.1.0"


def _package_sha1() -> dict[str, str]:
    root = Path(__file__).parent
    return {
        f"/{p.name}": hashlib.sha1(p.read_bytes(), usedforsecurity=False).hexdigest()
        for p in sorted(root.glob("*.py"))
    }


def log_version(d: DetailLog) -> None:
    """Write the ``loadgen_*`` identification entries."""
    built = dt.datetime.fromtimestamp(Path(__file__).stat().st_mtime, tz=dt.timezone.utc)
    d.log("loadgen_version", f"{VERSION} @ {IMPLEMENTATION}")
    d.log("loadgen_build_date_local", built.astimezone().replace(tzinfo=None).isoformat())
    d.log("loadgen_build_date_utc", built.replace(tzinfo=None).isoformat())
    d.log("loadgen_git_commit_date", "")
    d.log("loadgen_git_log_message", f"{IMPLEMENTATION}: pure-Python LoadGen")
    d.log("loadgen_git_status_message", "")
    d.log("loadgen_file_sha1", _package_sha1())


def log_requested(d: DetailLog, s: TestSettings) -> None:
    """Write the ``requested_*`` entries for ``s``."""
    sc = TestScenario(s.scenario)
    d.log("requested_scenario", sc.name)
    d.log("requested_test_mode", s.mode.name)
    if sc is TestScenario.SingleStream:
        d.log(
            "requested_single_stream_expected_latency_ns",
            float(s.single_stream_expected_latency_ns),
        )
        d.log(
            "requested_single_stream_target_latency_percentile",
            float(s.single_stream_target_latency_percentile),
        )
    elif sc is TestScenario.MultiStream:
        d.log(
            "requested_multi_stream_expected_latency_ns", float(s.multi_stream_expected_latency_ns)
        )
        d.log(
            "requested_multi_stream_target_latency_percentile",
            float(s.multi_stream_target_latency_percentile),
        )
        d.log("requested_multi_stream_samples_per_query", s.multi_stream_samples_per_query)
    elif sc is TestScenario.Server:
        d.log("requested_server_target_qps", float(s.server_target_qps))
        d.log("requested_server_target_latency_ns", int(s.server_target_latency_ns))
        d.log(
            "requested_server_target_latency_percentile", float(s.server_target_latency_percentile)
        )
        d.log("requested_server_coalesce_queries", bool(s.server_coalesce_queries))
        d.log(
            "requested_server_find_peak_qps_decimals_of_precision",
            s.server_find_peak_qps_decimals_of_precision,
        )
        d.log(
            "requested_server_find_peak_qps_boundary_step_size",
            float(s.server_find_peak_qps_boundary_step_size),
        )
        d.log("requested_server_max_async_queries", s.server_max_async_queries)
        d.log("requested_server_num_issue_query_threads", s.server_num_issue_query_threads)
    else:
        d.log("requested_offline_expected_qps", float(s.offline_expected_qps))
    for key in (
        "min_duration_ms",
        "max_duration_ms",
        "min_query_count",
        "max_query_count",
        "qsl_rng_seed",
        "sample_index_rng_seed",
        "schedule_rng_seed",
        "accuracy_log_rng_seed",
    ):
        d.log(f"requested_{key}", int(getattr(s, key)))
    d.log("requested_accuracy_log_probability", float(s.accuracy_log_probability))
    d.log("requested_accuracy_log_sampling_target", int(s.accuracy_log_sampling_target))
    d.log("requested_print_timestamps", bool(s.print_timestamps))
    d.log("requested_performance_issue_unique", bool(s.performance_issue_unique))
    d.log("requested_performance_issue_same", bool(s.performance_issue_same))
    d.log("requested_performance_issue_same_index", int(s.performance_issue_same_index))
    d.log("requested_performance_sample_count_override", int(s.performance_sample_count_override))
    d.log("requested_accuracy_sample_count_override", int(s.accuracy_sample_count_override))
    d.log("requested_sample_concatenate_permutation", bool(s.sample_concatenate_permutation))


def log_effective(d: DetailLog, e: EffectiveSettings) -> None:
    """Write the ``effective_*`` entries for ``e``."""
    d.log("effective_scenario", e.scenario.name)
    d.log("effective_test_mode", e.mode.name)
    d.log("effective_samples_per_query", e.samples_per_query)
    d.log("effective_target_qps", float(e.target_qps))
    d.log("effective_target_latency_ns", e.target_latency_ns)
    d.log("effective_target_latency_percentile", float(e.target_latency_percentile))
    d.log("effective_max_async_queries", e.max_async_queries)
    d.log("effective_target_duration_ms", e.target_duration_ms)
    d.log("effective_min_duration_ms", e.min_duration_ms)
    d.log("effective_max_duration_ms", e.max_duration_ms)
    d.log("effective_min_query_count", e.min_query_count)
    d.log("effective_max_query_count", e.max_query_count)
    d.log("effective_min_sample_count", e.min_sample_count)
    d.log("effective_qsl_rng_seed", e.qsl_rng_seed)
    d.log("effective_sample_index_rng_seed", e.sample_index_rng_seed)
    d.log("effective_schedule_rng_seed", e.schedule_rng_seed)
    d.log("effective_accuracy_log_rng_seed", e.accuracy_log_rng_seed)
    d.log("effective_accuracy_log_probability", float(e.accuracy_log_probability))
    d.log("effective_accuracy_log_sampling_target", e.accuracy_log_sampling_target)
    d.log("effective_print_timestamps", e.print_timestamps)
    d.log("effective_performance_issue_unique", e.performance_issue_unique)
    d.log("effective_performance_issue_same", e.performance_issue_same)
    d.log("effective_performance_issue_same_index", e.performance_issue_same_index)
    d.log("effective_performance_sample_count", e.performance_sample_count)
    d.log("effective_accuracy_sample_count", e.accuracy_sample_count)
    d.log("effective_sample_concatenate_permutation", e.sample_concatenate_permutation)


LOGGER_COUNTERS = (
    "logger_swap_request_slots_retry_count",
    "logger_swap_request_slots_retry_retry_count",
    "logger_swap_request_slots_retry_reencounter_count",
    "logger_start_reading_entries_retry_count",
    "logger_tls_total_log_cas_fail_count",
    "logger_tls_total_swap_buffers_slot_retry_count",
)


def log_results(d: DetailLog, r: PerformanceResult) -> None:
    """Write the ``result_*`` entries of a performance pass."""
    d.log("result_validity", "VALID" if r.valid else "INVALID")
    if r.scenario is TestScenario.Server:
        d.log("result_perf_constraints_met", r.perf_constraints_met)
    d.log("result_min_duration_met", r.min_duration_met)
    d.log("result_min_queries_met", r.min_queries_met)
    d.log("early_stopping_met", r.early_stopping_met)
    if not r.valid:
        reason = "".join(f"{x} " for x in r.recommendations)
        if not r.min_queries_met:
            reason += "The test exited early, before enough queries were issued."
        reason += "".join(f"SUT error: {e} " for e in r.sut_errors)
        d.log("result_invalid_reason", reason)
    d.log("early_stopping_result", "  ".join(r.early_stopping_lines))
    d.log("result_query_count", r.query_count)
    sc = r.scenario
    if sc is TestScenario.SingleStream:
        d.log("result_qps_with_loadgen_overhead", r.qps_with_loadgen_overhead)
        d.log("result_qps_without_loadgen_overhead", r.qps_without_loadgen_overhead)
        d.log("early_stopping_latency_ss", r.early_stopping_latency_ss_ns)
        d.log("early_stopping_latency_ms", r.early_stopping_latency_ms_ns)
    elif sc is TestScenario.MultiStream:
        assert r.queries is not None
        q = r.queries
        d.log("result_min_query_latency_ns", q.min_ns)
        d.log("result_max_query_latency_ns", q.max_ns)
        d.log("result_mean_query_latency_ns", q.mean_ns)
        for p in PERCENTILES:
            d.log(f"result_{p * 100:.2f}_percentile_per_query_latency_ns", q.percentiles_ns[p])
        d.log("early_stopping_latency_ms", r.early_stopping_latency_ms_ns)
    elif sc is TestScenario.Server:
        d.log("result_overlatency_query_count", r.overlatency_query_count)
        d.log("result_scheduled_samples_per_sec", r.scheduled_samples_per_sec)
        d.log("result_completed_samples_per_sec", r.completed_samples_per_sec)
    else:
        d.log("result_samples_per_second", r.samples_per_second)
    s = r.samples
    d.log("result_min_latency_ns", s.min_ns)
    d.log("result_max_latency_ns", s.max_ns)
    d.log("result_mean_latency_ns", s.mean_ns)
    for p in PERCENTILES:
        d.log(f"result_{p * 100:.2f}_percentile_latency_ns", s.percentiles_ns[p])
