"""Pure-Python LoadGen with MLPerf LoadGen 6.0.17 semantics, logs and a drop-in API.

Two ways in:

- Pythonic: ``loadgen.start_test(sut, qsl, TestSettings(...), out_dir=...) -> TestResult``,
  with SUTs implementing :class:`~loadgen.interfaces.SystemUnderTest`.
- Drop-in: ``import loadgen as lg`` where a harness did ``import mlperf_loadgen as lg``
  (``ConstructSUT``, ``StartTestWithLogSettings``, ``QuerySamplesComplete``, ...).

Modules:
    settings       TestSettings, TestScenario, TestMode, LogSettings (official names)
    conf           mlperf.conf / user.conf / audit.config parsing and precedence
    effective      derived per-scenario settings and validation
    rng            bit-exact std::mt19937 / libstdc++ random streams
    generation     loadable sets and pre-generated queries
    issuer         the per-scenario issue loops
    recorder       thread-safe completion bookkeeping
    results        percentiles, QPS, validity; early_stopping: the official criterion
    detail_log, summary_log, accuracy_log, detail_entries   the three MLPerf logs
    log_reader     reads our logs and the official LoadGen's
    events         run events and pollable progress
    runner         start_test(); find_peak: FindPeakPerformance
    compat         the mlperf_loadgen-compatible functions
    clock          injectable clocks; errors: the exception tree
"""

from __future__ import annotations

import logging

from loadgen.clock import Clock, FakeClock, MonotonicClock
from loadgen.compat import (
    ConstructFastSUT,
    ConstructQSL,
    ConstructSUT,
    DestroyFastSUT,
    DestroyQSL,
    DestroySUT,
    QuerySamplesComplete,
    StartTest,
    StartTestWithLogSettings,
)
from loadgen.errors import ConfigError, LoadgenError, LogFormatError, SettingsError, SutError
from loadgen.events import PassWindow, RunListener, RunMonitor
from loadgen.interfaces import (
    Complete,
    QuerySample,
    QuerySampleLibrary,
    QuerySampleResponse,
    SystemUnderTest,
)
from loadgen.runner import TestResult, power_timestamp, start_test
from loadgen.settings import (
    LogOutputSettings,
    LogSettings,
    TestMode,
    TestScenario,
    TestSettings,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Clock",
    "Complete",
    "ConfigError",
    "ConstructFastSUT",
    "ConstructQSL",
    "ConstructSUT",
    "DestroyFastSUT",
    "DestroyQSL",
    "DestroySUT",
    "FakeClock",
    "LoadgenError",
    "LogFormatError",
    "LogOutputSettings",
    "LogSettings",
    "MonotonicClock",
    "PassWindow",
    "QuerySample",
    "QuerySampleLibrary",
    "QuerySampleResponse",
    "QuerySamplesComplete",
    "RunListener",
    "RunMonitor",
    "SettingsError",
    "StartTest",
    "StartTestWithLogSettings",
    "SutError",
    "SystemUnderTest",
    "TestMode",
    "TestResult",
    "TestScenario",
    "TestSettings",
    "power_timestamp",
    "start_test",
]
