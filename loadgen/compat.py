"""The ``mlperf_loadgen`` drop-in API: ``import loadgen as lg`` in an existing harness.

Same names, argument orders and semantics as the official Python binding: ``ConstructSUT(issue,
flush)`` where ``issue`` takes a list of :class:`QuerySample`; ``ConstructFastSUT(issue, flush)``
where ``issue`` takes parallel lists of ids and indices; ``ConstructQSL(total, performance,
load, unload)``; ``StartTest`` / ``StartTestWithLogSettings`` (logs to ``log_output.outdir``,
``audit.config`` picked up from the working directory); and the process-wide
``QuerySamplesComplete(responses)``, which routes to the pass that is running. Handles are
plain objects; ``Destroy*`` are accepted for symmetry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from loadgen.interfaces import Complete, QuerySample, QuerySampleResponse
from loadgen.runner import TestResult, start_test
from loadgen.settings import LogSettings, TestSettings

log = logging.getLogger(__name__)

# The complete() of the pass that is issuing, set by the SUT adapters on every issue; like the
# official binding, one test runs per process at a time.
_active_complete: Complete | None = None


def QuerySamplesComplete(  # official name
    responses: Sequence[QuerySampleResponse], response_cb: Callable[..., Any] | None = None
) -> None:
    """Report finished samples of the running test (thread-safe)."""
    complete = _active_complete
    if complete is None:
        log.error("QuerySamplesComplete called with no test running (%d responses)", len(responses))
        return
    if response_cb is not None:
        for r in responses:
            response_cb(r)
    complete(responses)


class _PySut:
    name = "PySUT"

    def __init__(self, issue: Callable[[list[QuerySample]], Any], flush: Callable[[], Any]):
        self._issue = issue
        self._flush = flush

    def issue_queries(self, samples: list[QuerySample], complete: Complete) -> None:
        global _active_complete
        _active_complete = complete
        self._issue(samples)

    def flush_queries(self) -> None:
        self._flush()


class _PyFastSut:
    name = "PyFastSUT"

    def __init__(
        self, issue: Callable[[list[int], list[int]], Any], flush: Callable[[], Any]
    ) -> None:
        self._issue = issue
        self._flush = flush

    def issue_queries(self, samples: list[QuerySample], complete: Complete) -> None:
        global _active_complete
        _active_complete = complete
        self._issue([s.id for s in samples], [s.index for s in samples])

    def flush_queries(self) -> None:
        self._flush()


class _PyQsl:
    name = "PyQSL"

    def __init__(
        self,
        total: int,
        performance: int,
        load: Callable[[list[int]], Any],
        unload: Callable[[list[int]], Any],
    ) -> None:
        self.total_sample_count = total
        self.performance_sample_count = performance
        self._load = load
        self._unload = unload

    def load_samples(self, indices: Sequence[int]) -> None:
        self._load(list(indices))

    def unload_samples(self, indices: Sequence[int]) -> None:
        self._unload(list(indices))


def ConstructSUT(
    issue_cb: Callable[[list[QuerySample]], Any], flush_cb: Callable[[], Any]
) -> _PySut:
    """Return a SUT handle whose ``issue_cb`` receives lists of QuerySample."""
    return _PySut(issue_cb, flush_cb)


def ConstructFastSUT(
    fast_issue_cb: Callable[[list[int], list[int]], Any], flush_cb: Callable[[], Any]
) -> _PyFastSut:
    """Return a SUT handle whose callback receives (ids, indices) lists."""
    return _PyFastSut(fast_issue_cb, flush_cb)


def ConstructQSL(
    total_count: int,
    performance_count: int,
    load_cb: Callable[[list[int]], Any],
    unload_cb: Callable[[list[int]], Any],
) -> _PyQsl:
    """Return a QSL handle."""
    return _PyQsl(total_count, performance_count, load_cb, unload_cb)


def DestroySUT(sut: object) -> None:
    """Accept a SUT handle (nothing to free)."""


DestroyFastSUT = DestroySUT
DestroyQSL = DestroySUT


def StartTestWithLogSettings(
    sut: _PySut | _PyFastSut,
    qsl: _PyQsl,
    settings: TestSettings,
    log_settings: LogSettings,
    audit_config_filename: str = "audit.config",
) -> TestResult:
    """Run the test like the official binding; returns our result (the official returns None)."""
    global _active_complete
    try:
        return start_test(
            sut, qsl, settings, log_settings=log_settings, audit_config=audit_config_filename
        )
    finally:
        _active_complete = None


def StartTest(
    sut: _PySut | _PyFastSut,
    qsl: _PyQsl,
    settings: TestSettings,
    audit_config_filename: str = "audit.config",
) -> TestResult:
    """Run the test with default log settings (logs in the working directory)."""
    return StartTestWithLogSettings(sut, qsl, settings, LogSettings(), audit_config_filename)
