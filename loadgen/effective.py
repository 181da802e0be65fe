"""Effective settings: what a run actually does, derived from TestSettings and the QSL.

Mirrors ``TestSettingsInternal`` of the official LoadGen (``loadgen/test_settings_internal.cc``):
per-scenario target QPS, latency bound and percentile, samples per query, Offline's single
coalesced query of ``max(min_query_count, 1.1 x min_duration x expected_qps)`` samples, and
the performance/accuracy sample counts. Contradictions that the official only logs are raised
here as :class:`~loadgen.errors.SettingsError` before anything is issued.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadgen.errors import SettingsError
from loadgen.settings import TestMode, TestScenario, TestSettings

_OFFLINE_SLACK = 1.1


@dataclass(frozen=True)
class EffectiveSettings:
    """Derived settings of one run; names follow the ``effective_*`` detail-log keys."""

    scenario: TestScenario
    mode: TestMode
    samples_per_query: int
    target_qps: float
    target_latency_ns: int
    target_latency_percentile: float
    max_async_queries: int
    target_duration_ms: int
    min_duration_ms: int
    max_duration_ms: int
    min_query_count: int
    max_query_count: int
    min_sample_count: int
    qsl_rng_seed: int
    sample_index_rng_seed: int
    schedule_rng_seed: int
    accuracy_log_rng_seed: int
    accuracy_log_probability: float
    accuracy_log_sampling_target: int
    print_timestamps: bool
    performance_issue_unique: bool
    performance_issue_same: bool
    performance_issue_same_index: int
    performance_sample_count: int
    accuracy_sample_count: int
    sample_concatenate_permutation: bool
    server_coalesce_queries: bool

    @property
    def period_ns(self) -> int:
        """Return the fixed issue period of SingleStream/MultiStream/Offline schedules."""
        from loadgen.rng import fixed_period_ns

        return fixed_period_ns(self.target_qps)


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise SettingsError(f"{name} must be a positive finite number, got {value!r}")


def derive(settings: TestSettings, qsl_total: int, qsl_performance: int) -> EffectiveSettings:
    """Return the effective settings for ``settings`` against a QSL of the given counts.

    Raises:
        SettingsError: contradictory or out-of-range settings, naming the field.
    """
    s = settings
    if qsl_total < 1:
        raise SettingsError(f"the QSL reports {qsl_total} samples; it needs at least 1")
    if s.performance_issue_unique and s.performance_issue_same:
        raise SettingsError(
            "performance_issue_unique and performance_issue_same cannot both be true"
        )
    for name in ("min_duration_ms", "max_duration_ms", "min_query_count", "max_query_count"):
        if getattr(s, name) < 0:
            raise SettingsError(f"{name} must be >= 0, got {getattr(s, name)}")
    if s.max_duration_ms and s.max_duration_ms < s.min_duration_ms:
        raise SettingsError(
            f"max_duration_ms ({s.max_duration_ms}) is below min_duration_ms ({s.min_duration_ms})"
        )
    if s.max_query_count and s.max_query_count < s.min_query_count:
        raise SettingsError(
            f"max_query_count ({s.max_query_count}) is below min_query_count ({s.min_query_count})"
        )
    if not 0.0 <= s.accuracy_log_probability <= 1.0:
        raise SettingsError(
            f"accuracy_log_probability must be within [0, 1], got {s.accuracy_log_probability}"
        )

    perf_count = s.performance_sample_count_override or qsl_performance
    perf_count = min(perf_count, qsl_total)
    acc_count = min(s.accuracy_sample_count_override or qsl_total, qsl_total)
    if perf_count < 1:
        raise SettingsError(f"performance sample count must be >= 1, got {perf_count}")
    if s.performance_issue_same and s.performance_issue_same_index >= perf_count:
        raise SettingsError(
            f"performance_issue_same_index ({s.performance_issue_same_index}) must be below "
            f"the performance sample count ({perf_count})"
        )

    spq = 1
    target_latency_ns = 0
    max_async = 1
    min_query_count = s.min_query_count
    target_duration_ms = s.min_duration_ms
    scenario = TestScenario(s.scenario)
    if scenario is TestScenario.SingleStream:
        _check_positive("single_stream_expected_latency_ns", s.single_stream_expected_latency_ns)
        target_qps = 1e9 / s.single_stream_expected_latency_ns
        percentile = s.single_stream_target_latency_percentile
    elif scenario is TestScenario.MultiStream:
        _check_positive("multi_stream_expected_latency_ns", s.multi_stream_expected_latency_ns)
        if s.multi_stream_samples_per_query < 1:
            raise SettingsError(
                "multi_stream_samples_per_query must be >= 1, "
                f"got {s.multi_stream_samples_per_query}"
            )
        target_qps = 1e9 / s.multi_stream_expected_latency_ns
        percentile = s.multi_stream_target_latency_percentile
        spq = s.multi_stream_samples_per_query
    elif scenario is TestScenario.Server:
        _check_positive("server_target_qps", s.server_target_qps)
        target_qps = s.server_target_qps
        target_latency_ns = int(s.server_target_latency_ns)
        percentile = s.server_target_latency_percentile
        max_async = s.server_max_async_queries
    else:
        _check_positive("offline_expected_qps", s.offline_expected_qps)
        target_qps = s.offline_expected_qps
        percentile = 0.99
        target_count = int(_OFFLINE_SLACK * (s.min_duration_ms / 1000.0) * target_qps)
        unique_or_same = s.performance_issue_unique or s.performance_issue_same
        spq = perf_count if unique_or_same else max(s.min_query_count, target_count)
        min_query_count = 1
        target_duration_ms = 0
    if not 0.0 < percentile < 1.0:
        raise SettingsError(f"target latency percentile must be within (0, 1), got {percentile}")

    return EffectiveSettings(
        scenario=scenario,
        mode=TestMode(s.mode),
        samples_per_query=spq,
        target_qps=target_qps,
        target_latency_ns=target_latency_ns,
        target_latency_percentile=percentile,
        max_async_queries=max_async,
        target_duration_ms=target_duration_ms,
        min_duration_ms=s.min_duration_ms,
        max_duration_ms=s.max_duration_ms,
        min_query_count=min_query_count,
        max_query_count=s.max_query_count,
        min_sample_count=min_query_count * spq,
        qsl_rng_seed=s.qsl_rng_seed,
        sample_index_rng_seed=s.sample_index_rng_seed,
        schedule_rng_seed=s.schedule_rng_seed,
        accuracy_log_rng_seed=s.accuracy_log_rng_seed,
        accuracy_log_probability=s.accuracy_log_probability,
        accuracy_log_sampling_target=s.accuracy_log_sampling_target,
        print_timestamps=s.print_timestamps,
        performance_issue_unique=s.performance_issue_unique,
        performance_issue_same=s.performance_issue_same,
        performance_issue_same_index=s.performance_issue_same_index,
        performance_sample_count=perf_count,
        accuracy_sample_count=acc_count,
        sample_concatenate_permutation=s.sample_concatenate_permutation,
        server_coalesce_queries=s.server_coalesce_queries,
    )
