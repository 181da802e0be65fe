"""A complete simulated meter without I/O: dialect + engine + error queue, line in, reply out.

:class:`SimulatedInstrument` is what the transports serve. It is thread-safe (one lock per
instrument) and reads the injected monotonic clock once per line, so every unit of a line
sees the same instant.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from power_director.errors import SimulatorError
from power_director.sim.commands import Command, CommandTable, Interpreter, ResponseFormat
from power_director.sim.common import MeterContext
from power_director.sim.config import SimulatorConfig
from power_director.sim.engine import MeasurementEngine
from power_director.sim.error_queue import ErrorQueue
from power_director.sim.load import LoadModel
from power_director.sim.ranges import WT210_RANGES, WT310E_RANGES, MeterRanges
from power_director.sim.reading import Reading
from power_director.sim.wt210 import format_wt210_value, wt210_commands
from power_director.sim.wt310e import format_wt310e_value, wt310e_commands

__all__ = ["DIALECTS", "Clock", "Dialect", "SimulatedInstrument"]

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class Dialect:
    """What distinguishes one simulated model from another."""

    name: str
    model: str
    identity: str  # format string with {serial}
    ranges: MeterRanges
    commands: Callable[[MeterContext], list[Command]]
    format_value: Callable[[float], str]
    upper_case_errors: bool


DIALECTS: dict[str, Dialect] = {
    "wt310e": Dialect(
        name="wt310e",
        model="Yokogawa WT310E",
        identity="YOKOGAWA,WT310E,{serial},F1.02",
        ranges=WT310E_RANGES,
        commands=wt310e_commands,
        format_value=format_wt310e_value,
        upper_case_errors=False,
    ),
    "wt210": Dialect(
        name="wt210",
        model="Yokogawa WT210 (488.2 mode)",
        identity="YOKOGAWA,760401,{serial},F2.01",
        ranges=WT210_RANGES,
        commands=wt210_commands,
        format_value=format_wt210_value,
        upper_case_errors=True,
    ),
}


class SimulatedInstrument:
    """One simulated meter: feed it lines with :meth:`handle_line`.

    Args:
        dialect: a key of :data:`DIALECTS`.
        load: the load model its power follows.
        config: environment, noise, timing.
        seed: noise seed (None = fresh entropy).
        clock: monotonic clock in seconds.
    """

    def __init__(
        self,
        dialect: str,
        load: LoadModel,
        config: SimulatorConfig | None = None,
        seed: int | None = 0,
        clock: Clock = time.monotonic,
    ) -> None:
        if dialect not in DIALECTS:
            raise SimulatorError(f"unknown dialect {dialect!r}; choose from {sorted(DIALECTS)}")
        self.dialect = DIALECTS[dialect]
        self.config = config if config is not None else SimulatorConfig()
        self.load = load
        self._clock = clock
        self._lock = threading.Lock()
        self.engine = MeasurementEngine(self.config, self.dialect.ranges, load, seed, clock())
        self.errors = ErrorQueue(upper_case_messages=self.dialect.upper_case_errors)
        response = ResponseFormat()
        context = MeterContext(
            engine=self.engine,
            errors=self.errors,
            response=response,
            identity=self.dialect.identity.format(serial=self.config.serial_number),
        )
        table = CommandTable(self.dialect.commands(context))
        self._interpreter = Interpreter(table, self.errors, response)

    def handle_line(self, line: str) -> str | None:
        """Run one program message (without terminator); return the reply or None."""
        with self._lock:
            now_s = self._clock()
            reply = self._interpreter.execute(line, now_s)
        logger.debug("sim.line %r -> %r", line, reply)
        return reply

    def report_error(self, code: int) -> None:
        """Queue an error detected by a transport (e.g. an over-long line: 102)."""
        with self._lock:
            self.errors.push(code)

    def reading(self) -> Reading:
        """The values a query would see now (for tests and logs)."""
        with self._lock:
            return self.engine.reading(self._clock())
