"""TestSettings, TestScenario and TestMode with the official LoadGen names and defaults.

Field names, units (``_ns``, ``_ms``) and defaults are those of ``loadgen/test_settings.h`` in
MLPerf LoadGen 6.0.17, so a harness that assigns them on ``mlperf_loadgen.TestSettings`` works
unchanged here. The two token-latency bounds use the Python binding's short names
``ttft_latency`` and ``tpot_latency``. Conf-file loading lives in :mod:`loadgen.conf`;
``FromConfig`` is the drop-in entry point that returns 0 or a negative errno like the official.
"""

from __future__ import annotations

import dataclasses
import enum
import errno
import logging
from dataclasses import dataclass, field
from pathlib import Path

from loadgen.errors import ConfigError

log = logging.getLogger(__name__)


class TestScenario(enum.IntEnum):
    """The four MLPerf scenarios (values as in ``mlperf_loadgen.TestScenario``)."""

    __test__ = False  # not a pytest test class

    SingleStream = 0
    MultiStream = 1
    Server = 2
    Offline = 3


class TestMode(enum.IntEnum):
    """LoadGen test modes (values as in ``mlperf_loadgen.TestMode``)."""

    __test__ = False

    SubmissionRun = 0
    AccuracyOnly = 1
    PerformanceOnly = 2
    FindPeakPerformance = 3


@dataclass
class TestSettings:
    """What a LoadGen run should do; official field names, units and defaults.

    Mutable on purpose: harnesses written for ``mlperf_loadgen`` assign fields one by one.
    """

    __test__ = False

    scenario: TestScenario = TestScenario.SingleStream
    mode: TestMode = TestMode.PerformanceOnly
    single_stream_expected_latency_ns: float = 1_000_000
    single_stream_target_latency_percentile: float = 0.90
    multi_stream_expected_latency_ns: float = 8_000_000
    multi_stream_target_latency_percentile: float = 0.99
    multi_stream_samples_per_query: int = 8
    server_target_qps: float = 1.0
    server_target_latency_ns: int = 100_000_000
    server_target_latency_percentile: float = 0.99
    server_coalesce_queries: bool = False
    server_find_peak_qps_decimals_of_precision: int = 1
    server_find_peak_qps_boundary_step_size: float = 1.0
    server_max_async_queries: int = 0
    server_num_issue_query_threads: int = 0
    offline_expected_qps: float = 1.0
    sample_concatenate_permutation: bool = False
    min_duration_ms: int = 10_000
    max_duration_ms: int = 0
    min_query_count: int = 100
    max_query_count: int = 0
    qsl_rng_seed: int = 0
    sample_index_rng_seed: int = 0
    schedule_rng_seed: int = 0
    accuracy_log_rng_seed: int = 0
    accuracy_log_probability: float = 0.0
    accuracy_log_sampling_target: int = 0
    test05: bool = False
    test05_qsl_rng_seed: int = 0
    test05_sample_index_rng_seed: int = 0
    test05_schedule_rng_seed: int = 0
    print_timestamps: bool = False
    performance_issue_unique: bool = False
    performance_issue_same: bool = False
    performance_issue_same_index: int = 0
    performance_sample_count_override: int = 0
    accuracy_sample_count_override: int = 0
    use_token_latencies: bool = False
    ttft_latency: int = 100_000_000
    tpot_latency: int = 100_000_000
    infer_token_latencies: bool = False
    token_latency_scaling_factor: int = 0
    # Messages produced while loading conf files, replayed into the detail log at test start:
    # (key, message, is_error).
    conf_messages: list[tuple[str, str, bool]] = field(
        default_factory=list, repr=False, compare=False
    )
    conf_files_loaded: int = field(default=0, repr=False, compare=False)

    def from_config(self, path: str | Path, model: str, scenario: str, conf_type: int = 1) -> None:
        """Apply a conf file (``conf_type`` 0: mlperf.conf only, 1: user.conf, 2: audit.config).

        On the first call with ``conf_type=1`` the built-in mlperf.conf is applied first, as
        the official LoadGen does. Raises :class:`ConfigError` naming the file and line.
        """
        from loadgen.conf import apply_config  # conf imports settings

        apply_config(self, path, model, scenario, conf_type)

    def FromConfig(  # official name
        self, path: str, model: str, scenario: str, conf_type: int = 1
    ) -> int:
        """Drop-in for ``mlperf_loadgen.TestSettings.FromConfig``: 0, ``-ENOENT`` or ``-EINVAL``.

        Unlike the official parser, a malformed line is reported (logged with file and line)
        rather than silently ignored; nothing from a failing file is applied.
        """
        try:
            self.from_config(path, model, scenario, conf_type)
        except FileNotFoundError:
            log.error("cannot open conf file %s", path)
            return -errno.ENOENT
        except ConfigError as e:
            log.error("%s", e)
            return -errno.EINVAL
        return 0

    def copy(self) -> TestSettings:
        """Return an independent copy."""
        new = dataclasses.replace(self)
        new.conf_messages = list(self.conf_messages)
        return new


@dataclass
class LogOutputSettings:
    """Where the LoadGen logs go (official names and defaults; mutable like the official)."""

    outdir: str = "."
    prefix: str = "mlperf_log_"
    suffix: str = ""
    prefix_with_datetime: bool = False
    copy_detail_to_stdout: bool = False
    copy_summary_to_stdout: bool = False


@dataclass
class LogSettings:
    """Logging options (official names); ``enable_trace`` is accepted and ignored."""

    log_output: LogOutputSettings = field(default_factory=LogOutputSettings)
    enable_trace: bool = True
