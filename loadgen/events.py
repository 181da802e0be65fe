"""Run events for other parts (power client, Prometheus exporter) to follow a LoadGen run.

Listeners get a handful of calls per pass, never per query: test start, pass start (the
``power_begin`` instant), pass end (``power_end``) and test end. Live issued/completed counts
are polled from :class:`RunMonitor` instead of pushed, so the hot path pays nothing; a poller
that wants latencies reads the attached pass's completion and issue times (read-only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassWindow:
    """The SUT-active window of one pass, as logged in ``power_begin``/``power_end``.

    ``begin_wall_ns`` is the UTC wall clock at issue start; ``end_wall_ns`` is begin plus the
    monotonic time to the last completion.
    """

    mode: str  # "performance" or "accuracy"
    begin_wall_ns: int
    end_wall_ns: int
    begin_mono_ns: int
    end_mono_ns: int


class RunListener(Protocol):
    """Receiver of run events. Calls come from the thread running the test; keep them short."""

    def on_test_start(self, scenario: str, mode: str, sut_name: str) -> None:
        """A test begins (after settings were validated)."""

    def on_pass_start(self, mode: str, wall_ns: int, mono_ns: int) -> None:
        """Issuing of a pass begins now (``power_begin``)."""

    def on_pass_end(self, window: PassWindow, issued: int, completed: int) -> None:
        """A pass ended; its window is final."""

    def on_test_end(self, valid: bool) -> None:
        """The test is over and its logs are written."""


class RunMonitor:
    """Pollable progress of the current pass and a fan-out to listeners.

    ``issued`` / ``completed`` count samples of the current pass; reading them takes no lock.
    ``recorder``, ``issue`` and ``plan`` expose the running pass to pollers, for reading only.
    """

    def __init__(self, listeners: tuple[RunListener, ...] | list[RunListener] = ()) -> None:
        self.listeners = list(listeners)
        self.phase = "idle"
        self._rec: PassProgress | None = None
        self.issue: IssueTimes | None = None
        self.plan: PassPlan | None = None

    @property
    def issued(self) -> int:
        """Return samples issued in the current pass."""
        return self._rec.issued if self._rec is not None else 0

    @property
    def completed(self) -> int:
        """Return samples completed in the current pass."""
        return self._rec.completed if self._rec is not None else 0

    @property
    def recorder(self) -> PassProgress | None:
        """Return the recorder of the pass now running (None between passes)."""
        return self._rec

    def attach(
        self,
        rec: PassProgress | None,
        issue: IssueTimes | None = None,
        plan: PassPlan | None = None,
    ) -> None:
        """Follow ``rec`` (the recorder of the pass now running), its issue times and plan."""
        self._rec = rec
        self.issue = issue
        self.plan = plan

    def emit(self, name: str, *args: object) -> None:
        """Call ``name`` on every listener; a failing listener is logged, never fatal."""
        for listener in self.listeners:
            fn = getattr(listener, name, None)
            if fn is None:
                continue
            try:
                fn(*args)
            except Exception:
                log.exception("run listener %r failed in %s", listener, name)


class PassProgress(Protocol):
    """A pass's recorder as pollers see it: counts and per-sample completion times."""

    @property
    def issued(self) -> int:
        """Samples issued; ids ``1..issued`` are valid."""

    @property
    def completed(self) -> int:
        """Samples completed."""

    @property
    def complete_ns(self) -> list[int]:
        """Completion time per sample id (index 0 unused), ns; 0 while outstanding."""


class IssueTimes(Protocol):
    """When a pass's queries went out (the runner's ``IssueOutcome``), filled as it runs."""

    @property
    def start_ns(self) -> int:
        """Monotonic time of the first issue, ns."""

    @property
    def issued_ns(self) -> list[int]:
        """Issue time per query (not Server), ns."""


class PassPlan(Protocol):
    """The shape of a pass's queries (the runner's ``QueryPlan``)."""

    @property
    def samples_per_query(self) -> int:
        """Samples in each query."""

    @property
    def schedule_ns(self) -> list[int] | None:
        """Server: scheduled offset of each query from ``start_ns``, ns; else None."""
