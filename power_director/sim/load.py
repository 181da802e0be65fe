"""Load models: what the simulated meter's wall power follows.

A load model answers one question, ``watts_at(elapsed_s)``: the true active power at
``elapsed_s`` seconds after the simulator started (on the simulator's injected monotonic
clock). Implementations here: :class:`ConstantLoad` and :class:`CpuLoad` (this host's CPU
utilisation from ``/proc/stat``); the scripted profile lives in
:mod:`power_director.sim.profile`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from power_director.errors import SimulatorError

__all__ = ["ConstantLoad", "CpuLoad", "LoadModel", "read_cpu_times"]

logger = logging.getLogger(__name__)


@runtime_checkable
class LoadModel(Protocol):
    """True active power of the simulated load. Units: W."""

    def watts_at(self, elapsed_s: float) -> float:
        """Return the power at ``elapsed_s`` seconds after the simulator started."""
        ...


@dataclass(frozen=True)
class ConstantLoad:
    """A load drawing ``watts`` forever."""

    watts: float

    def watts_at(self, elapsed_s: float) -> float:
        return self.watts

    def describe(self) -> str:
        return f"constant {self.watts:g} W"


@dataclass(frozen=True)
class CpuTimes:
    """Aggregate CPU time counters from the ``cpu`` line of /proc/stat. Units: USER_HZ ticks."""

    busy: int
    total: int


def read_cpu_times(proc_stat: Path) -> CpuTimes:
    """Parse the aggregate ``cpu`` line of a /proc/stat file.

    Idle time is ``idle + iowait``; ``guest``/``guest_nice`` are already counted in
    ``user``/``nice`` and are left out of the total.
    """
    try:
        with proc_stat.open("r", encoding="ascii") as handle:
            first = handle.readline()
    except OSError as error:
        raise SimulatorError(f"{proc_stat}: cannot read CPU times: {error}") from error
    fields = first.split()
    if len(fields) < 5 or fields[0] != "cpu":
        raise SimulatorError(f"{proc_stat}:1: expected an aggregate 'cpu' line, got {first!r}")
    try:
        ticks = [int(f) for f in fields[1:9]]
    except ValueError as error:
        raise SimulatorError(f"{proc_stat}:1: bad CPU counter in {first!r}") from error
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    total = sum(ticks)
    return CpuTimes(busy=total - idle, total=total)


class CpuLoad:
    """Power that follows this host's CPU utilisation: ``idle_w + (max_w - idle_w) * util``.

    Utilisation is the busy share of CPU ticks between two reads of ``proc_stat``, read at
    most every ``period_s`` (of the simulator's clock); between reads the last value holds.
    The first call has no previous read and reports the idle power.

    Args:
        idle_w: power at 0 % utilisation.
        max_w: power at 100 % utilisation.
        proc_stat: path of the stat file (inject a fake one in tests).
        period_s: minimum time between reads.
    """

    def __init__(
        self,
        idle_w: float = 60.0,
        max_w: float = 200.0,
        proc_stat: Path = Path("/proc/stat"),
        period_s: float = 0.1,
    ) -> None:
        if max_w < idle_w:
            raise SimulatorError(f"max_w ({max_w}) must be >= idle_w ({idle_w})")
        self._idle_w = idle_w
        self._max_w = max_w
        self._proc_stat = proc_stat
        self._period_s = period_s
        self._last_read_s: float | None = None
        self._last_times: CpuTimes | None = None
        self.utilisation = 0.0

    def watts_at(self, elapsed_s: float) -> float:
        if self._last_read_s is None or elapsed_s - self._last_read_s >= self._period_s:
            self._sample(elapsed_s)
        return self._idle_w + (self._max_w - self._idle_w) * self.utilisation

    def _sample(self, elapsed_s: float) -> None:
        times = read_cpu_times(self._proc_stat)
        previous = self._last_times
        if previous is not None:
            total = times.total - previous.total
            busy = times.busy - previous.busy
            if total > 0:
                self.utilisation = min(max(busy / total, 0.0), 1.0)
        self._last_times = times
        self._last_read_s = elapsed_s
        logger.debug("sim.cpu util=%.3f t=%.3f", self.utilisation, elapsed_s)

    def describe(self) -> str:
        return (
            f"CPU utilisation from {self._proc_stat} "
            f"(idle {self._idle_w:g} W, max {self._max_w:g} W)"
        )
