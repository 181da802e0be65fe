"""Clocks used by the LoadGen runner: a real one and a fake one for tests.

The runner needs two time sources: a monotonic nanosecond clock for every latency and duration
(``now_ns``) and the UTC wall clock for ``power_begin`` (``wall_ns``). Both are injected so tests
can drive scenario timing deterministically with :class:`FakeClock`.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Time source for a LoadGen run. Units: nanoseconds."""

    def now_ns(self) -> int:
        """Return monotonic time in ns."""
        ...

    def wall_ns(self) -> int:
        """Return UTC wall-clock time in ns since the Unix epoch."""
        ...

    def sleep_until_ns(self, deadline_ns: int) -> None:
        """Block until ``now_ns() >= deadline_ns``."""
        ...


# Sleeping is coarse (timer slack, scheduler tick); below this we yield in a loop instead.
_SPIN_NS = 200_000


class MonotonicClock:
    """The production clock: ``time.monotonic_ns`` and ``time.time_ns``.

    ``sleep_until_ns`` sleeps for the bulk of the wait and yields (``time.sleep(0)``, which
    releases the GIL) for the last 200 µs, so scheduled issues land within a few µs without
    starving SUT worker threads.
    """

    now_ns = staticmethod(time.monotonic_ns)
    wall_ns = staticmethod(time.time_ns)

    def sleep_until_ns(self, deadline_ns: int) -> None:
        """Block until the monotonic clock reaches ``deadline_ns``."""
        now = time.monotonic_ns()
        remaining = deadline_ns - now
        if remaining > _SPIN_NS:
            time.sleep((remaining - _SPIN_NS) / 1e9)
        while time.monotonic_ns() < deadline_ns:
            time.sleep(0)


class FakeClock:
    """A manually advanced clock for deterministic tests.

    ``sleep_until_ns`` jumps straight to the deadline. ``advance_per_read_ns`` lets each
    ``now_ns`` call move time forward, modelling work that takes time.

    Args:
        start_ns: initial monotonic time.
        wall_start_ns: wall-clock time that corresponds to ``start_ns``.
        advance_per_read_ns: added to the time after every ``now_ns`` read.
    """

    def __init__(
        self,
        start_ns: int = 1_000_000_000,
        wall_start_ns: int = 1_700_000_000_000_000_000,
        advance_per_read_ns: int = 0,
    ) -> None:
        self._t = start_ns
        self._offset = wall_start_ns - start_ns
        self._step = advance_per_read_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        """Return fake monotonic time, then advance it by ``advance_per_read_ns``."""
        with self._lock:
            t = self._t
            self._t += self._step
            return t

    def wall_ns(self) -> int:
        """Return the fake wall-clock time matching the current monotonic time."""
        with self._lock:
            return self._t + self._offset

    def advance(self, delta_ns: int) -> None:
        """Move time forward by ``delta_ns``."""
        with self._lock:
            self._t += delta_ns

    def sleep_until_ns(self, deadline_ns: int) -> None:
        """Jump to ``deadline_ns`` if it lies in the future."""
        with self._lock:
            self._t = max(self._t, deadline_ns)
