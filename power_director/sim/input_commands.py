"""Command factories for ranges, crest factor and integration, shared by both dialects.

The WT310E spells these under ``:INPut`` (``:INPut:VOLTage:RANGe``) and the WT210 under
``:CONFigure`` (``:CONFigure:VOLTage:RANGe``); the integration tree ``:INTEGrate`` is the
same, except that the WT210 has no ``:INTEGrate:STATe?`` (ecosystem.md §4.2).

Assumptions (not checked on a meter): setting a fixed range switches auto range off; a
range value not in the table is refused with 224 "Illegal parameter value"; integration
requests that conflict with the state (start after time-up, stop when not running, mode or
timer change while running) are refused with 221 "Setting conflict".
"""

from __future__ import annotations

from power_director.sim.commands import Args, Command, QueryHandler, SetHandler
from power_director.sim.common import MeterContext
from power_director.sim.integrator import IntegrationMode, IntegratorConflict
from power_director.sim.ranges import InputRange
from power_director.sim.scpi import (
    ScpiError,
    format_nr3,
    parse_bool,
    parse_choice,
    parse_int,
    parse_quantity,
    short_form,
)

__all__ = ["crest_factor_command", "integration_commands", "range_commands"]


def range_commands(context: MeterContext, prefix: str) -> list[Command]:
    """``<prefix>:VOLTage:RANGe``, ``<prefix>:VOLTage:AUTO`` and the ``CURRent`` pair."""
    engine = context.engine
    commands: list[Command] = []
    for node, unit, state in (("VOLTage", "V", engine.voltage), ("CURRent", "A", engine.current)):
        commands.append(
            Command(
                f"{prefix}:{node}:RANGe",
                set=_range_setter(context, state, unit),
                query=_range_query(context, state),
            )
        )
        commands.append(
            Command(
                f"{prefix}:{node}:AUTO",
                set=_auto_setter(context, state),
                query=_auto_query(state),
            )
        )
    return commands


def _range_query(context: MeterContext, state: InputRange) -> QueryHandler:
    def query(args: Args) -> str:
        context.engine.advance(args.now_s)  # auto range may have moved since the last query
        return format_nr3(state.value, 4)

    return query


def _auto_query(state: InputRange) -> QueryHandler:
    return lambda args: "1" if state.auto else "0"


def _range_setter(context: MeterContext, state: InputRange, unit: str) -> SetHandler:
    def set_(args: Args) -> None:
        value = parse_quantity(args.exactly(1)[0], unit)
        context.engine.advance(args.now_s)
        try:
            state.set_value(value)
        except ValueError as error:
            raise ScpiError(224, str(error)) from None
        state.auto = False
        context.engine.mark_range_change(args.now_s)

    return set_


def _auto_setter(context: MeterContext, state: InputRange) -> SetHandler:
    def set_(args: Args) -> None:
        on = parse_bool(args.exactly(1)[0])
        context.engine.advance(args.now_s)
        state.auto = on

    return set_


def crest_factor_command(context: MeterContext, spelling: str, choices: tuple[str, ...]) -> Command:
    """``:INPut:CFACtor 3|6|A6`` (WT310E) or ``:CONFigure:CFACtor 3|6`` (WT210).

    ``A6`` is accepted as crest factor 6 (its wider peak handling is not modelled).
    """
    engine = context.engine

    def set_(args: Args) -> None:
        word = args.exactly(1)[0].strip().upper()
        if word not in choices:
            raise ScpiError(224, f"crest factor {word!r} not in {choices}")
        engine.advance(args.now_s)
        factor = 6 if word in ("6", "A6") else 3
        engine.voltage.set_crest_factor(factor)
        engine.current.set_crest_factor(factor)
        engine.mark_range_change(args.now_s)

    return Command(spelling, set=set_, query=lambda args: str(engine.voltage.crest_factor))


def integration_commands(context: MeterContext, *, with_state: bool) -> list[Command]:
    """``:INTEGrate:MODE|TIMer|STARt|STOP|RESet`` (and ``:STATe?`` where the model has it)."""
    engine = context.engine
    modes = tuple(m.value for m in IntegrationMode)

    def guarded(action: SetHandler) -> SetHandler:
        def run(args: Args) -> None:
            engine.advance(args.now_s)
            try:
                action(args)
            except IntegratorConflict as error:
                raise ScpiError(221, str(error)) from None

        return run

    def set_mode(args: Args) -> None:
        spelling = parse_choice(args.exactly(1)[0], modes)
        engine.integrator.set_mode(IntegrationMode(spelling))

    def mode(args: Args) -> str:
        value = engine.integrator.mode.value
        return value.upper() if context.response.verbose else short_form(value)

    def set_timer(args: Args) -> None:
        hours, minutes, seconds = (parse_int(p) for p in args.exactly(3))
        if not (0 <= hours <= 10000 and 0 <= minutes < 60 and 0 <= seconds < 60):
            raise ScpiError(222, "timer out of range")
        engine.integrator.set_timer(hours * 3600.0 + minutes * 60.0 + seconds)

    def timer(args: Args) -> str:
        total = round(engine.integrator.timer_s)
        return f"{total // 3600},{total % 3600 // 60},{total % 60}"

    def start(args: Args) -> None:
        args.exactly(0)
        engine.integrator.start(args.now_s)

    def stop(args: Args) -> None:
        args.exactly(0)
        engine.integrator.stop(args.now_s)

    def reset(args: Args) -> None:
        args.exactly(0)
        engine.integrator.reset()

    def state(args: Args) -> str:
        engine.advance(args.now_s)
        value = engine.integrator.state.value
        return value.upper() if context.response.verbose else short_form(value)

    commands = [
        Command(":INTEGrate:MODE", set=guarded(set_mode), query=mode),
        Command(":INTEGrate:TIMer", set=guarded(set_timer), query=timer),
        Command(":INTEGrate:STARt", set=guarded(start)),
        Command(":INTEGrate:STOP", set=guarded(stop)),
        Command(":INTEGrate:RESet", set=guarded(reset)),
    ]
    if with_state:
        commands.append(Command(":INTEGrate:STATe", query=state))
    return commands
