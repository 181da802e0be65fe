"""Commands both Yokogawa dialects share, and the meter context their handlers act on.

Shared: IEEE 488.2 common commands (``*IDN? *RST *CLS *ESR? *STB? *OPC? *OPC *WAI *OPT?
*TST? *CAL?``), ``:STATus:ERRor?`` / ``:STATus:QMESsage``, ``:SYSTem:ERRor?`` (alias, an
assumption), ``:COMMunicate:HEADer|VERBose|REMote|LOCKout``, and the simulator's own
``:SIMulate:RATE`` (a vendor extension no Yokogawa meter has: any update interval from
1 ms to 20 s, so 1 kHz samplers can be tested).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from power_director.sim.commands import Args, Command, ResponseFormat
from power_director.sim.engine import MeasurementEngine
from power_director.sim.error_queue import ErrorQueue
from power_director.sim.scpi import (
    ScpiError,
    parse_bool,
    parse_choice,
    parse_quantity,
    short_form,
)

__all__ = [
    "MeterContext",
    "common_commands",
    "format_interval",
    "parse_interval",
    "stored_choice",
    "stored_switch",
]

logger = logging.getLogger(__name__)

_MAX_SIM_INTERVAL_S = 20.0
_MIN_SIM_INTERVAL_S = 0.001


@dataclass
class MeterContext:
    """Mutable state the command handlers of one simulated meter share."""

    engine: MeasurementEngine
    errors: ErrorQueue
    response: ResponseFormat
    identity: str
    settings: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    qmessage: bool = True
    reset_hooks: list[Callable[[], None]] = field(default_factory=list)

    def reset(self, now_s: float) -> None:
        """``*RST``: engine defaults, stored settings and dialect state back to defaults."""
        self.engine.reset(now_s)
        self.settings = dict(self.defaults)
        for hook in self.reset_hooks:
            hook()


def format_interval(interval_s: float) -> str:
    """Spell an update interval as the ``:RATE?`` reply does: ``250MS``, ``1S``."""
    if interval_s < 1.0:
        return f"{interval_s * 1000:g}MS"
    return f"{interval_s:g}S"


def parse_interval(text: str, standard_s: tuple[float, ...], engine: MeasurementEngine) -> float:
    """Parse ``250MS``/``0.25``/``1S`` and check it against the allowed intervals (224).

    Allowed: the model's standard intervals, plus (a simulator extension) the configured
    default and the interval in effect, so whatever ``:RATE?`` answered can be written back.
    """
    value = parse_quantity(text, "S")
    allowed_s = (*standard_s, engine.default_update_interval_s, engine.update_interval_s)
    for allowed in allowed_s:
        if abs(allowed - value) <= 1e-9 * allowed:
            return allowed
    raise ScpiError(224, f"update interval {text!r} not in {standard_s}")


def stored_switch(context: MeterContext, spelling: str, default: bool) -> Command:
    """A setting that is only remembered (ON/OFF), e.g. ``:INPut:FILTer:LINE``."""
    key = spelling.upper()
    context.defaults[key] = "1" if default else "0"
    context.settings[key] = context.defaults[key]

    def set_(args: Args) -> None:
        context.settings[key] = "1" if parse_bool(args.exactly(1)[0]) else "0"

    return Command(spelling, set=set_, query=lambda args: context.settings[key])


def stored_choice(
    context: MeterContext, spelling: str, choices: tuple[str, ...], default: str
) -> Command:
    """A remembered character-data setting, e.g. ``:INPut:MODE RMS|VMEan|DC``."""
    key = spelling.upper()
    context.defaults[key] = default
    context.settings[key] = default

    def set_(args: Args) -> None:
        context.settings[key] = parse_choice(args.exactly(1)[0], choices)

    def query(args: Args) -> str:
        value = context.settings[key]
        return value.upper() if context.response.verbose else short_form(value)

    return Command(spelling, set=set_, query=query)


def common_commands(context: MeterContext) -> list[Command]:
    """The commands both dialects share (see the module docstring)."""
    engine = context.engine
    errors = context.errors
    response = context.response

    def error_query(args: Args) -> str:
        code = errors.pop()
        if not context.qmessage:
            return str(code)
        return f'{code},"{errors.message(code)}"'

    def set_qmessage(args: Args) -> None:
        context.qmessage = parse_bool(args.exactly(1)[0])

    def set_header(args: Args) -> None:
        response.header = parse_bool(args.exactly(1)[0])

    def set_verbose(args: Args) -> None:
        response.verbose = parse_bool(args.exactly(1)[0])

    def status_byte(args: Args) -> str:
        return str((4 if len(errors) else 0) | (32 if errors.event_status else 0))

    def set_sim_rate(args: Args) -> None:
        value = parse_quantity(args.exactly(1)[0], "S")
        if not _MIN_SIM_INTERVAL_S - 1e-12 <= value <= _MAX_SIM_INTERVAL_S:
            raise ScpiError(222, f"simulated rate {value} s outside 1 ms..20 s")
        engine.set_update_interval(args.now_s, value)

    def reset(args: Args) -> None:
        args.exactly(0)
        context.reset(args.now_s)

    def clear(args: Args) -> None:
        args.exactly(0)
        errors.clear()

    def nothing(args: Args) -> None:
        args.exactly(0)

    return [
        Command("*IDN", query=lambda args: context.identity, bare=True),
        Command("*RST", set=reset),
        Command("*CLS", set=clear),
        Command("*ESR", query=lambda args: str(errors.read_event_status()), bare=True),
        Command("*STB", query=status_byte, bare=True),
        Command("*OPC", set=nothing, query=lambda args: "1", bare=True),
        Command("*WAI", set=nothing),
        Command("*OPT", query=lambda args: "NONE", bare=True),
        Command("*TST", query=lambda args: "0", bare=True),
        Command("*CAL", query=lambda args: "0", bare=True),
        Command(":STATus:ERRor", query=error_query),
        Command(":SYSTem:ERRor", query=error_query),
        Command(
            ":STATus:QMESsage",
            set=set_qmessage,
            query=lambda args: "1" if context.qmessage else "0",
        ),
        Command(
            ":COMMunicate:HEADer",
            set=set_header,
            query=lambda args: "1" if response.header else "0",
        ),
        Command(
            ":COMMunicate:VERBose",
            set=set_verbose,
            query=lambda args: "1" if response.verbose else "0",
        ),
        stored_switch(context, ":COMMunicate:REMote", False),
        stored_switch(context, ":COMMunicate:LOCKout", False),
        Command(
            ":SIMulate:RATE",
            set=set_sim_rate,
            query=lambda args: format_interval(engine.update_interval_s),
        ),
    ]
