"""Run events for other parts (power client, Prometheus exporter) to follow a LoadGen run.

Listeners get a handful of calls per pass, never per query: test start, pass start (the
``power_begin`` instant), pass end (``power_end``) and test end. Live issued/completed counts
are polled from :class:`RunMonitor` instead of pushed, so the hot path pays nothing.
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
    """

    def __init__(self, listeners: tuple[RunListener, ...] | list[RunListener] = ()) -> None:
        self.listeners = list(listeners)
        self.phase = "idle"
        self._rec: _Counts | None = None

    @property
    def issued(self) -> int:
        """Return samples issued in the current pass."""
        return self._rec.issued if self._rec is not None else 0

    @property
    def completed(self) -> int:
        """Return samples completed in the current pass."""
        return self._rec.completed if self._rec is not None else 0

    def attach(self, rec: _Counts | None) -> None:
        """Follow ``rec`` (the recorder of the pass now running)."""
        self._rec = rec

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


class _Counts(Protocol):
    issued: int
    completed: int
